"""Readers: one per input format; each turns a source file into a Publication and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from publisher.errors import SourceError
from publisher.model import Metadata, Publication
from publisher.readers import html, markdown, txt
from publisher.readers.common import decode_source

Reader = Callable[[str, Path, Metadata], Publication]

#: file suffix → reader; a new input format is one module and one line here
READERS: dict[str, Reader] = {
    ".txt": txt.read,
    ".text": txt.read,
    ".md": markdown.read,
    ".markdown": markdown.read,
    ".html": html.read,
    ".htm": html.read,
    ".xhtml": html.read,
}


def is_source(path: Path) -> bool:
    """True if `path` has a suffix some reader understands."""
    return path.suffix.lower() in READERS


def read_source(path: Path, defaults: Metadata | None = None) -> Publication:
    """Read `path` with the reader for its suffix. `defaults` fills metadata the source lacks."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise SourceError(f"unknown source type {path.suffix or '(none)'!r}; use {known}", path=path)
    text = decode_source(path)
    return reader(text, path, defaults or Metadata(title=""))


__all__ = ["READERS", "is_source", "read_source"]
