"""Plain-text reader: title line, optional author and date lines, then blank-line paragraphs."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from publisher.model.publication import Block, Metadata, Publication, Run
from publisher.readers.common import assemble
from publisher.text.clean import collapse_ws
from publisher.text.dates import parse_date

_NUMBER = r"([0-9]+|[ivxlcdm]+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|[a-z]+teen|twenty|thirty)"
_CHAPTER_WORD = re.compile(
    rf"^((chapter|part|book)\s+{_NUMBER}\b|(prologue|epilogue|preface|introduction|foreword|afterword|appendix)\b)",
    re.IGNORECASE,
)
_FINAL_PUNCT = tuple('.,;:!?…"”’)]')


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, each with its lines joined by single spaces."""
    return [collapse_ws(p) for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


def looks_like_heading(paragraph: str) -> bool:
    """A short line without final punctuation, or one that starts with "Chapter"/"Part"…"""
    if _CHAPTER_WORD.match(paragraph) and len(paragraph.split()) <= 12 and not paragraph.endswith((".", "!", "?")):
        return True
    words = paragraph.split()
    return (
        len(words) <= 10
        and len(paragraph) <= 80
        and not paragraph.endswith(_FINAL_PUNCT)
        and paragraph[:1].isupper() | paragraph[:1].isdigit()
    )


def _author_line(paragraph: str) -> list[str] | None:
    """The authors named by a byline such as "By Ava Cai" or "Ava Cai and Bo Li", else None."""
    match = re.match(r"^by[:\s]+(.+)$", paragraph, flags=re.IGNORECASE)
    names = match.group(1) if match else paragraph
    words = names.split()
    initial = match is not None and re.search(r"\b[A-Z][a-z]?\.$", paragraph) is not None  # "By J. Smith Jr."
    ends_like_sentence = paragraph.endswith(_FINAL_PUNCT) and not initial
    if len(words) > (8 if match else 6) or ends_like_sentence or (not match and len(words) < 2):
        return None
    if not match and not all(w[:1].isupper() or w.lower() in {"and", "de", "van", "von"} for w in words):
        return None
    parts = re.split(r"\s*(?:,|;|&|\band\b)\s*", names)
    authors = [p.strip() for p in parts if p.strip()]
    return authors or None


def read(text: str, path: Path, defaults: Metadata) -> Publication:
    """Read plain text in the seed's shape (see module docstring) into a Publication."""
    paragraphs = _paragraphs(text)
    meta = replace(defaults, title=paragraphs.pop(0))
    # up to two lines after the title: an author line and a date line, in either order
    for _ in range(2):
        if not paragraphs or len(paragraphs[0]) > 120:
            break
        iso = parse_date(paragraphs[0])
        if iso and meta.date is None:
            meta = replace(meta, date=iso)
            paragraphs.pop(0)
            continue
        authors = _author_line(paragraphs[0]) if not meta.authors else None
        if authors and len(paragraphs) > 1:
            meta = replace(meta, authors=authors)
            paragraphs.pop(0)
            continue
        break
    blocks: list[Block] = []
    for i, paragraph in enumerate(paragraphs):
        is_last = i == len(paragraphs) - 1
        if not is_last and looks_like_heading(paragraph):
            blocks.append(Block(kind="heading", runs=[Run(paragraph)], level=1))
        else:
            blocks.append(Block(kind="paragraph", runs=[Run(paragraph)]))
    return assemble(meta, blocks, path)
