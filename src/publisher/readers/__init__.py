"""Readers: one per input format; each turns a source file into a Publication and writes nothing."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from publisher.errors import SourceError
from publisher.model.publication import Metadata, Publication
from publisher.readers.common import decode_source

Reader = Callable[[str, Path, Metadata], Publication]

#: file suffix → the reader module (its `read`), imported when a source needs it (a Markdown or
#: HTML parser costs a text file's run 40 ms); a new input format is one module and one line here
READERS: dict[str, str] = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
}


def is_source(path: Path) -> bool:
    """True if `path` has a suffix some reader understands."""
    return path.suffix.lower() in READERS


def read_source(path: Path, defaults: Metadata | None = None) -> Publication:
    """Read `path` with the reader for its suffix. `defaults` fills metadata the source lacks."""
    module = READERS.get(path.suffix.lower())
    if module is None:
        known = ", ".join(sorted(READERS))
        raise SourceError(f"unknown source type {path.suffix or '(none)'!r}; use {known}", path=path)
    reader: Reader = importlib.import_module(f"publisher.readers.{module}").read
    text = decode_source(path)
    return reader(text, path, defaults or Metadata(title=""))


__all__ = ["READERS", "is_source", "read_source"]
