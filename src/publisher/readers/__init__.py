"""Readers: one per input format; each turns a source file into a Publication and writes nothing."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from publisher.errors import SourceError
from publisher.model.publication import Metadata, Publication
from publisher.readers.common import decode_source

#: documents read through pandoc (readers/documents.py keeps the suffix → pandoc format table)
DOCUMENT_SUFFIXES = (
    ".docx", ".odt", ".rtf", ".rst", ".tex", ".latex", ".org", ".fb2", ".dbk", ".docbook", ".jats", ".xml",
    ".textile", ".wiki", ".mediawiki", ".adoc", ".asciidoc", ".typ", ".muse", ".opml", ".ipynb", ".djot",
    ".t2t", ".man",
)  # fmt: skip

Reader = Callable[[str, Path, Metadata], Publication]
FileReader = Callable[[Path, Metadata], Publication]

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
    ".epub": "epub",
    **dict.fromkeys(DOCUMENT_SUFFIXES, "documents"),
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
    loaded = importlib.import_module(f"publisher.readers.{module}")
    if hasattr(loaded, "read_file"):  # a package or binary document: the reader opens it itself
        file_reader: FileReader = loaded.read_file
        return file_reader(path, defaults or Metadata(title=""))
    reader: Reader = loaded.read
    text = decode_source(path)
    return reader(text, path, defaults or Metadata(title=""))


__all__ = ["READERS", "is_source", "read_source"]
