"""Comparing what was heard with what was written: Whisper's text normaliser and word alignment.

Both sides go through the same normaliser Whisper's own evaluations use (`whisper-normalizer`:
English spelling variants, number formats and contractions for English; a basic one otherwise),
then runs of single letters are joined ("u s" → "us"), so "U.S." and "US" compare equal.
Languages written without spaces between words (Chinese, Japanese, Thai, …) are compared
character by character: their error rate is a character error rate (CER), as in Whisper's own
evaluations of them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from publisher.model.scores import METRICS, Metric

_SINGLE_LETTERS = re.compile(r"\b(?:[^\W\d_] ){1,}[^\W\d_]\b")
# Whisper's own spacing noise: "U .S." for "U.S.", "all -out" and "Cold War -era" for hyphenated words
_SPACED_STOP = re.compile(r"\b([^\W\d_]) \.(?=[^\W\d_])")
_SPACED_HYPHEN = re.compile(r"(\w) -(?=\w)")
# scripts without spaces between words: compared by character
_BY_CHARACTER = {"zh", "ja", "th", "lo", "km", "my", "bo", "yue", "cmn"}


def by_character(language: str) -> bool:
    """Whether `language` (BCP 47) is compared character by character (no spaces between its words)."""
    return language.split("-")[0].lower() in _BY_CHARACTER


def metric(language: str) -> Metric:
    """The word error rate, or the character error rate for a language compared by character."""
    return METRICS["cer" if by_character(language) else "wer"]


@dataclass(frozen=True)
class Alignment:
    """The word-level edit script between a reference and what was heard."""

    reference: list[str]
    heard: list[str]
    substitutions: int
    deletions: int
    insertions: int
    missed: list[tuple[str, str]]  # (reference word, what was heard instead; "" when deleted)

    @property
    def errors(self) -> int:
        """Substitutions + deletions + insertions."""
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        """Word error rate against the reference (errors per reference word; 0 for an empty pair)."""
        if not self.reference:
            return float(bool(self.heard))
        return self.errors / len(self.reference)


@functools.lru_cache(maxsize=4)
def _normaliser(english: bool) -> Callable[[str], str]:
    if english:
        from whisper_normalizer.english import EnglishTextNormalizer

        return EnglishTextNormalizer()
    from whisper_normalizer.basic import BasicTextNormalizer

    return BasicTextNormalizer()


def join_single_letters(text: str) -> str:
    """Join runs of single letters into one word: "the u s army" → "the us army"."""
    return _SINGLE_LETTERS.sub(lambda m: m.group(0).replace(" ", ""), text)


def normalise_words(text: str, language: str = "en") -> list[str]:
    """The words of `text` as an ASR evaluation compares them (lower case, no punctuation); the
    characters, for a language written without spaces between words."""
    english = language.split("-")[0].lower() == "en"
    text = text.replace("’", "'").replace("‘", "'")
    text = _SPACED_HYPHEN.sub(r"\1-", _SPACED_STOP.sub(r"\1.", text))
    normalised = _normaliser(english)(text)
    if by_character(language):
        return [c for c in normalised if not c.isspace()]
    return join_single_letters(normalised).split()


def align(reference: list[str], heard: list[str]) -> Alignment:
    """Align two word lists (Levenshtein, via jiwer) and list the reference words that were missed."""
    if not reference or not heard:
        return Alignment(reference, heard, 0, len(reference), len(heard), [(word, "") for word in reference])
    import jiwer

    out = jiwer.process_words(" ".join(reference), " ".join(heard))
    chunks = out.alignments[0]
    missed: list[tuple[str, str]] = []
    for i, chunk in enumerate(chunks):
        if chunk.type not in ("substitute", "delete"):
            continue
        instead = _heard_instead(chunks, i, heard)
        missed.extend((word, instead) for word in reference[chunk.ref_start_idx : chunk.ref_end_idx])
    return Alignment(reference, heard, out.substitutions, out.deletions, out.insertions, missed)


def _heard_instead(chunks: list[Any], i: int, heard: list[str]) -> str:
    """What was heard in place of chunk `i` (a substitution or deletion of jiwer's alignment): its own
    heard words and any insertions right next to it."""
    first, last = chunks[i].hyp_start_idx, chunks[i].hyp_end_idx
    if i > 0 and chunks[i - 1].type == "insert":
        first = chunks[i - 1].hyp_start_idx
    if i + 1 < len(chunks) and chunks[i + 1].type == "insert":
        last = chunks[i + 1].hyp_end_idx
    return " ".join(heard[first:last])


def word_ops(reference: list[str], heard: list[str]) -> list[tuple[str, str]]:
    """For each reference word: "equal", "substitute" or "delete", and the heard words in its place
    (a substitution also takes the insertions right next to it; "" for a deletion)."""
    if not reference:
        return []
    if not heard:
        return [("delete", "")] * len(reference)
    import jiwer

    chunks = jiwer.process_words(" ".join(reference), " ".join(heard)).alignments[0]
    ops: list[tuple[str, str]] = []
    for i, chunk in enumerate(chunks):
        if chunk.type == "insert":
            continue
        if chunk.type == "equal":
            ops += [("equal", w) for w in heard[chunk.hyp_start_idx : chunk.hyp_end_idx]]
            continue
        instead = _heard_instead(chunks, i, heard)
        ops += [(chunk.type, instead)] * (chunk.ref_end_idx - chunk.ref_start_idx)
    return ops


def text_wer(reference: str, heard: str, language: str = "en") -> float:
    """Word error rate of `heard` against `reference`, both normalised the same way."""
    return align(normalise_words(reference, language), normalise_words(heard, language)).wer
