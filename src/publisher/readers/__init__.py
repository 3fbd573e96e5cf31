"""Readers: one per input format; each turns a source file into a Publication and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from publisher.errors import SourceError
from publisher.model.publication import Metadata, Publication
from publisher.readers.decoding import decode_source

#: documents read through pandoc (readers/documents.py keeps the suffix → pandoc format table)
DOCUMENT_SUFFIXES = (
    ".docx", ".odt", ".rtf", ".rst", ".tex", ".latex", ".org", ".fb2", ".dbk", ".docbook", ".jats", ".xml",
    ".textile", ".wiki", ".mediawiki", ".adoc", ".asciidoc", ".typ", ".muse", ".opml", ".ipynb", ".djot",
    ".t2t", ".man",
)  # fmt: skip


@dataclass(frozen=True)
class ReadOptions:
    """What a reader is told besides the file: metadata the source may not give, and how to read
    Markdown's typewriter punctuation (the source's front matter may choose, unless the caller
    pinned it)."""

    defaults: Metadata = field(default_factory=lambda: Metadata(title=""))
    typographer: bool = True
    typographer_pinned: bool = False


#: a reader: the source file and the options → the Publication it holds
Reader = Callable[[Path, ReadOptions], Publication]


# Each reader module is imported when a source needs it (a Markdown or HTML parser costs a text
# file's run 40 ms); a new input format is one function and one line in READERS.
def _txt(path: Path, options: ReadOptions) -> Publication:
    from publisher.readers import txt

    return txt.read(decode_source(path), path, options.defaults)


def _markdown(path: Path, options: ReadOptions) -> Publication:
    from publisher.readers import markdown

    return markdown.read(decode_source(path), path, options.defaults, options.typographer, options.typographer_pinned)


def _html(path: Path, options: ReadOptions) -> Publication:
    from publisher.readers import html

    return html.read(decode_source(path), path, options.defaults)


def _epub(path: Path, options: ReadOptions) -> Publication:
    from publisher.readers import epub

    return epub.read_file(path, options.defaults)


def _document(path: Path, options: ReadOptions) -> Publication:
    from publisher.readers import documents

    return documents.read_file(path, options.defaults)


#: file suffix → its reader
READERS: dict[str, Reader] = {
    ".txt": _txt,
    ".text": _txt,
    ".md": _markdown,
    ".markdown": _markdown,
    ".html": _html,
    ".htm": _html,
    ".xhtml": _html,
    ".epub": _epub,
    **dict.fromkeys(DOCUMENT_SUFFIXES, _document),
}


def is_source(path: Path) -> bool:
    """True if `path` has a suffix some reader understands."""
    return path.suffix.lower() in READERS


def read_source(path: Path, options: ReadOptions | None = None) -> Publication:
    """Read `path` with the reader for its suffix."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise SourceError(f"unknown source type {path.suffix or '(none)'!r}; use {known}", path=path)
    return reader(path, options or ReadOptions())


__all__ = ["READERS", "ReadOptions", "is_source", "read_source"]
