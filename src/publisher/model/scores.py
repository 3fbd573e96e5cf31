"""How proof-listening scores a publication: by words (WER), or by characters (CER) where a
language writes no spaces between words. Read by proof-listening and by `publisher check`."""

from __future__ import annotations

from typing import NamedTuple


class Metric(NamedTuple):
    """How a publication is scored: by words, or by characters where words have no spaces."""

    name: str  # "WER" or "CER", as proof.json's "metric" is written (lower case)
    units: str  # "words" or "characters"
    rate: str  # "word error rate" or "character error rate"


METRICS = {
    "wer": Metric("WER", "words", "word error rate"),
    "cer": Metric("CER", "characters", "character error rate"),
}
