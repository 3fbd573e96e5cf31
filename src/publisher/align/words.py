"""Words as the alignment compares them: case-folded, without accents or punctuation, numbers
written out, split at apostrophes and hyphens (Whisper hears "l'homme" as "l" "'homme");
characters, for languages written without spaces between words."""

from __future__ import annotations

import functools
import re
import unicodedata

from publisher.proof.compare import by_character

_SPLIT = re.compile(r"[\s'’‘`´\-‐‑‒–—―/]+")
_DIGITS = re.compile(r"(\d+)")


@functools.lru_cache(maxsize=8)
def _number_language(language: str) -> str | None:
    from num2words import CONVERTER_CLASSES

    base = language.split("-")[0].lower()
    return base if base in CONVERTER_CLASSES else None


@functools.lru_cache(maxsize=65536)
def _number(digits: str, language: str) -> str:
    lang = _number_language(language)
    if lang is None or len(digits) > 9:
        return digits
    from num2words import num2words

    try:
        return str(num2words(int(digits), lang=lang))
    except (NotImplementedError, OverflowError, ValueError):  # pragma: no cover - num2words' gaps
        return digits


def _plain(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


@functools.lru_cache(maxsize=65536)
def tokens(text: str, language: str) -> tuple[str, ...]:
    """The words of `text` as compared (see the module's docstring)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if by_character(language):
        return tuple(c for c in (_plain(ch) for ch in folded) if c)
    folded = _DIGITS.sub(lambda m: f" {_number(m.group(1), language)} ", folded)
    out = []
    for part in _SPLIT.split(folded):
        word = _plain(part)
        if word:
            out.append(word)
    return tuple(out)


def similarity(a: str, b: str) -> float:
    """How alike two compared words are: 1 for the same word, down to 0 (normalised Levenshtein)."""
    if a == b:
        return 1.0
    from rapidfuzz.distance import Levenshtein

    return float(Levenshtein.normalized_similarity(a, b))
