"""The document model: Publication → Chapter → Block → Sentence (frozen dataclasses, no I/O).

Every stage gets this data and returns new data: nothing here can be changed once made (sequences
are stored as tuples, `dataclasses.replace` makes a changed copy).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

BlockKind = Literal[
    "heading", "paragraph", "quote", "list_item", "image", "byline", "code",
    "table", "row", "note", "term", "definition", "figure",
]  # fmt: skip


@dataclass(frozen=True)
class Style:
    """An inline style on a run of text: em, strong, code, del, a link with its href, or a note
    reference (`href` is the note's anchor, `ident` the id of the first reference, for back-links)."""

    kind: Literal["em", "strong", "code", "link", "del", "noteref"]
    href: str | None = None
    ident: str | None = None


@dataclass(frozen=True)
class Run:
    """A piece of inline text with the marks that apply to all of it."""

    text: str
    marks: tuple[Style, ...] = ()


def _freeze(obj: object, *names: str) -> None:
    """Store each named sequence field of a frozen dataclass as a tuple (callers may pass lists)."""
    for name in names:
        value = getattr(obj, name)
        if not isinstance(value, tuple):
            object.__setattr__(obj, name, tuple(value))


@dataclass(frozen=True)
class Sentence:
    """One unit of narration: a stable id, the text shown, and the text spoken.

    `start`/`end` are character offsets of the sentence in its block's plain text.
    """

    id: str
    text: str
    spoken: str
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Cell:
    """One table cell: its inline text, and whether it is a header cell (for a column or a row)."""

    runs: Sequence[Run] = ()
    header: bool = False

    def __post_init__(self) -> None:
        _freeze(self, "runs")

    @property
    def text(self) -> str:
        """The cell's plain text."""
        return "".join(run.text for run in self.runs)


@dataclass(frozen=True)
class Block:
    """A block of a chapter: heading, paragraph, quote, list item, image, byline line or code;
    a table (its caption; its rows follow as `row` blocks), a note, a definition term or
    description, or a figure (an image with a caption).
    """

    kind: BlockKind
    runs: Sequence[Run] = ()
    level: int = 0  # heading level (1 = chapter title) or nesting depth of quotes/lists
    ordered: bool = False  # list items: numbered list?
    src: str | None = None  # images: path of the image file, relative to the source
    alt: str = ""  # images: alternative text
    sentences: Sequence[Sentence] = ()
    role: str = ""  # bylines: "author", "date", "narrator", "publisher"
    cells: Sequence[Cell] = ()  # rows: the cells, in order
    header: bool = False  # rows: a header row (all cells name columns)
    anchor: str = ""  # notes: the note's id, which note references point to ("c01-note-1")
    label: str = ""  # notes: the marker shown and spoken ("1"); the reader's own label before arranging
    narrated: bool = True  # False for notes the listener chose not to hear (notes = "none")
    endnote: bool = False  # notes: shown with the chapter's endnotes (else as a footnote in place)
    origin: str = ""  # where the block sits in its source: "<member>#<child indices>" ("text/c1.xhtml#1/0/3")

    def __post_init__(self) -> None:
        _freeze(self, "runs", "sentences", "cells")

    @property
    def text(self) -> str:
        """The block's plain text (what sentences are cut from)."""
        return "".join(run.text for run in self.runs)


@dataclass(frozen=True)
class Chapter:
    """A chapter: one XHTML document, one audio file. Its first block is its heading."""

    index: int  # 1-based position in reading order
    title: str
    blocks: Sequence[Block] = ()

    def __post_init__(self) -> None:
        _freeze(self, "blocks")

    @property
    def id(self) -> str:
        """A stable, XML-safe id for the chapter ("c01")."""
        return f"c{self.index:02d}"

    def sentences(self) -> Iterator[Sentence]:
        """Every sentence of the chapter in reading order."""
        for block in self.blocks:
            yield from block.sentences


@dataclass(frozen=True)
class Metadata:
    """What a publication is: the fields that go into the OPF, ID3 tags and feeds."""

    title: str
    authors: Sequence[str] = ()
    language: str = "en"
    date: str | None = None  # ISO 8601 (YYYY-MM-DD), when known
    description: str | None = None
    publisher: str | None = None
    rights: str | None = None
    identifier: str | None = None  # filled in by the prepare stage when the source has none
    subjects: Sequence[str] = ()
    contributors: Sequence[tuple[str, str]] = ()  # (name, MARC relator: "trl", "ill"…)
    series: str | None = None  # the series the book belongs to (an input EPUB's collection)
    series_position: str | None = None  # its number in the series ("3")
    cover: Path | None = None  # a cover image supplied by the source (absolute path)
    voice: str | None = None  # a voice requested by the source (front matter)
    engine: str | None = None  # an engine requested by the source (front matter)
    lexicon: Mapping[str, str] = field(default_factory=dict)  # per-source pronunciations (front matter)
    settings: Mapping[str, object] = field(default_factory=dict)  # narration settings from front matter

    def __post_init__(self) -> None:
        _freeze(self, "authors", "subjects", "contributors")
        object.__setattr__(self, "lexicon", dict(self.lexicon))  # a copy: the caller's dict may change
        object.__setattr__(self, "settings", dict(self.settings))


@dataclass(frozen=True)
class Publication:
    """One source, read: metadata, an optional title page, and chapters in reading order."""

    slug: str
    source: Path
    metadata: Metadata
    chapters: Sequence[Chapter] = ()
    #: the title page (spoken as the opening); an article's is its first chapter's first blocks (the same objects)
    front: Sequence[Block] = ()
    closing: Sequence[Sentence] = ()  # spoken after the last chapter only
    has_title_page: bool = True  # False when the front blocks open the only chapter

    def __post_init__(self) -> None:
        _freeze(self, "chapters", "front", "closing")

    def sentences(self) -> Iterator[Sentence]:
        """Every sentence in narration order: title page, chapters, closing words."""
        if self.has_title_page:
            for block in self.front:
                yield from block.sentences
        for chapter in self.chapters:
            yield from chapter.sentences()
        yield from self.closing

    def word_count(self) -> int:
        """Words of display text in the chapters."""
        return sum(len(b.text.split()) for c in self.chapters for b in c.blocks)


@dataclass(frozen=True)
class Cover:
    """Cover image bytes with their media type and a text alternative."""

    data: bytes
    media_type: str  # image/jpeg or image/png
    alt: str

    @property
    def extension(self) -> str:
        """File name extension for the media type."""
        return "png" if self.media_type == "image/png" else "jpg"
