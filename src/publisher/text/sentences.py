"""Sentences: where each sentence of a paragraph starts and ends, in its language's own way."""

from __future__ import annotations

import functools
import re
from typing import Any

import pysbd

from publisher.text.languages import script_of

# Languages pysbd has rules for; any other language falls back to the English rules.
_PYSBD_LANGUAGES = {
    "en", "hi", "mr", "zh", "es", "am", "ar", "hy", "bg", "ur", "ru", "pl",
    "fa", "nl", "da", "fr", "my", "el", "it", "ja", "de", "kk", "sk",
}  # fmt: skip

_TERMINAL = set('.!?…。！？｡؟۔"”’»)」』）')
#: scripts written without letter case, where a full stop and a space end a sentence whatever
#: follows (pysbd's Arabic rules miss "… بكم. كيف …"; Hebrew has no rules at all)
_UNCASED_SCRIPTS = {"Arab", "Hebr", "Syrc", "Thaa", "Nkoo"}
_UNCASED_STOP = re.compile(r"[.!?؟۔…]+[\"”’»)]*\s+(?=\S)")
#: scripts whose sentences end at a full-width stop without a space (Chinese, Japanese)
_CJK_SCRIPTS = {"Hans", "Hant", "Jpan", "Hani", "Kore"}
_CJK_STOP = re.compile(r"[。！？｡]+(?![」』”’）)])(?=\S)")


def _pysbd_language(language: str) -> str:
    """The pysbd rules for `language`: its own, else those of its script's main language, else English."""
    primary = language.replace("_", "-").split("-")[0].lower()
    if primary in _PYSBD_LANGUAGES:
        return primary
    script = script_of(language)
    return {"Hans": "zh", "Hant": "zh", "Hani": "zh", "Jpan": "ja", "Arab": "ar", "Cyrl": "ru"}.get(script, "en")


@functools.lru_cache(maxsize=16)
def _segmenter(language: str) -> Any:
    return pysbd.Segmenter(language=_pysbd_language(language), clean=False)


def _script_pieces(pieces: list[str], language: str) -> list[str]:
    """pysbd's pieces cut again where the language's script ends sentences without a capital after."""
    script = script_of(language)
    stop = _UNCASED_STOP if script in _UNCASED_SCRIPTS else _CJK_STOP if script in _CJK_SCRIPTS else None
    if stop is None:
        return pieces
    out: list[str] = []
    for piece in pieces:
        cuts = [m.end() for m in stop.finditer(piece)]
        start = 0
        for cut in cuts:
            out.append(piece[start:cut])
            start = cut
        out.append(piece[start:])
    return [p for p in out if p]


def split_sentences(text: str, language: str = "en") -> list[tuple[int, int]]:
    """Cut `text` into sentences; return (start, end) character offsets, white space trimmed.

    pysbd keeps abbreviations ("U.S.", "Mr."), decimals and quotations intact. The offsets are
    found by walking the original text, so no character is ever lost or repeated: the spans
    cover every non-space character exactly once.
    """
    if not text.strip():
        return []
    pieces = _script_pieces(_segmenter(language).segment(text), language)
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        core = piece.strip()
        if not core:
            continue
        found = text.find(core, cursor)
        if found < 0:  # the segmenter changed the text: keep the rest whole rather than lose it
            break
        if found > cursor and text[cursor:found].strip() and spans:
            # text skipped by the segmenter belongs to the previous sentence
            spans[-1] = (spans[-1][0], found)
        start, end = found, found + len(core)
        if not spans and text[cursor:found].strip():
            start = cursor
        spans.append((start, end))
        cursor = end
    if text[cursor:].strip():
        spans.append((cursor, len(text)))
    trimmed = [(s + _lead(text, s, e), e - _trail(text, s, e)) for s, e in spans if text[s:e].strip()]
    merged: list[tuple[int, int]] = []
    for start, end in trimmed:
        glued = merged and start == merged[-1][1] and text[start - 1] not in _TERMINAL
        if merged and (glued or not any(ch.isalnum() for ch in text[start:end])):
            # lone punctuation, or a cut inside a word, belongs to the sentence before it
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _lead(text: str, start: int, end: int) -> int:
    chunk = text[start:end]
    return len(chunk) - len(chunk.lstrip())


def _trail(text: str, start: int, end: int) -> int:
    chunk = text[start:end]
    return len(chunk) - len(chunk.rstrip())
