"""The structure every stage shares: tables read row by row, notes placed where heard, code announced,
and each block cut into numbered sentences (what readers make and the prepare stage renumbers)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from publisher.i18n import translator
from publisher.model.publication import Block, Cell, Chapter, Run, Sentence, Style
from publisher.text.clean import collapse_ws, spoken_text
from publisher.text.sentences import split_sentences

log = logging.getLogger(__name__)

#: where notes are read: after the paragraph that cites them, at the chapter's end, or not at all
NoteMode = Literal["paragraph", "chapter", "none"]
NOTE_MODES = ("paragraph", "chapter", "none")


def row_block(cells: Sequence[Cell], header: bool = False) -> Block:
    """A table row as a block; its runs are the cells' text (what word counts and captions see)."""
    runs: list[Run] = []
    for n, cell in enumerate(cells):
        if n:
            runs.append(Run(" "))
        runs.extend(cell.runs)
    return Block(kind="row", runs=runs, cells=cells, header=header)


def _rows_after(blocks: Sequence[Block], index: int) -> list[Block]:
    rows = []
    for block in blocks[index + 1 :]:
        if block.kind != "row":
            break
        rows.append(block)
    return rows


def table_announcement(blocks: Sequence[Block], index: int, language: str = "en") -> str:
    """What a listener hears first: "Table: Bird counts. 2 rows, 3 columns." (header rows not counted)."""
    rows = _rows_after(blocks, index)
    body = [r for r in rows if not r.header]
    columns = max((len(r.cells) for r in rows), default=0)
    caption = collapse_ws(blocks[index].text).rstrip(".")
    t = translator(language)
    size = t.gettext(
        "{rows}, {columns}",
        rows=t.ngettext("{count} row", "{count} rows", len(body)),
        columns=t.ngettext("{count} column", "{count} columns", columns),
    )
    if caption:
        return t.gettext("Table: {caption}. {size}.", caption=caption, size=size)
    return t.gettext("Table, {size}.", size=size)


def column_names(blocks: Sequence[Block], index: int) -> list[str]:
    """The names of the columns of the table row at `index`: its table's header row, if any."""
    start = index
    while start > 0 and blocks[start - 1].kind == "row":
        start -= 1
    for block in blocks[start:]:
        if block.kind != "row":
            break
        if block.header:
            return [collapse_ws(c.text) for c in block.cells]
    return []


def row_text(blocks: Sequence[Block], index: int, language: str = "en") -> str:
    """A row as a listener can follow it: "Site A: birds, 12; fish, 3." (header names before values)."""
    row = blocks[index]
    cells = [collapse_ws(c.text) for c in row.cells]
    if row.header:
        return translator(language).gettext("Columns: {names}.", names=", ".join(c for c in cells if c))
    names = column_names(blocks, index)
    if not names:
        return ", ".join(c for c in cells if c) + "."
    parts = []
    for n, value in enumerate(cells):
        name = names[n] if n < len(names) else ""
        if value and name:
            parts.append(f"{name} {value}" if n == 0 else f"{_lower(name, language)}, {value}")
        elif value:
            parts.append(value)
    if not parts:
        return translator(language).gettext("Empty row.")
    if len(parts) > 1 and cells[0] and names[0]:
        return parts[0] + ": " + "; ".join(parts[1:]) + "."
    return "; ".join(parts) + "."


#: languages whose nouns keep their capital inside a sentence
_CAPITAL_NOUNS = {"de", "lb"}


def _lower(name: str, language: str = "en") -> str:
    """ "Birds" → "birds" in the middle of a sentence; "GDP" and "pH" stay, and so do German nouns."""
    if language.replace("_", "-").split("-")[0].lower() in _CAPITAL_NOUNS:
        return name
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def code_announcement(block: Block, language: str = "en") -> str:
    """A code block is announced, never spelled out: "Code, Python, 12 lines, shown in the text."."""
    lines = len(block.text.rstrip("\n").split("\n")) if block.text.strip() else 0
    t = translator(language)
    count = t.ngettext("{count} line", "{count} lines", lines)
    if block.role:
        return t.gettext("Code, {kind}, {lines}, shown in the text.", kind=block.role, lines=count)
    return t.gettext("Code, {lines}, shown in the text.", lines=count)


def spoken_display(block: Block, start: int, end: int, language: str = "en") -> str:
    """The sentence text of block[start:end] without note markers (a "1" after a word is not read)."""
    text = block.text
    if block.kind == "list_item" and start == 0 and text.startswith(("☐ ", "☑ ")):  # a task list item
        item = spoken_display(block, 2, end, language)
        t = translator(language)
        return t.gettext("To do: {item}", item=item) if text[0] == "☐" else t.gettext("Done: {item}", item=item)
    hidden: list[tuple[int, int]] = []
    pos = 0
    for run in block.runs:
        if any(m.kind == "noteref" for m in run.marks):
            hidden.append((pos, pos + len(run.text)))
        pos += len(run.text)
    if not hidden:
        return text[start:end]
    kept = "".join(ch for i, ch in enumerate(text[start:end], start) if not any(a <= i < b for a, b in hidden))
    return collapse_ws(kept)


def arrange_notes(chapters: Sequence[Chapter], mode: str = "paragraph") -> list[Chapter]:
    """The chapters with every note given a per-chapter number and anchor, and put where it is read.

    Readers leave notes where they found them (often at the end of the document) with their own
    label, which note references point to. Here each note moves to the chapter that first cites
    it: after the citing block ("paragraph"), or with the chapter's endnotes ("chapter"), or there
    but not narrated ("none"). A note nobody cites stays in its chapter as an endnote.
    """
    notes: dict[str, list[Block]] = {}
    home: dict[str, int] = {}
    kept: list[list[Block]] = []  # each chapter's blocks without its notes
    for n, chapter in enumerate(chapters):
        for block in chapter.blocks:
            if block.kind == "note":
                notes.setdefault(block.anchor or block.label, []).append(block)
                home.setdefault(block.anchor or block.label, n)
        kept.append([b for b in chapter.blocks if b.kind != "note"])
    placed: set[str] = set()
    arranged: list[list[Block]] = []
    for chapter, blocks in zip(chapters, kept, strict=True):
        out: list[Block] = []
        endnotes: list[Block] = []
        numbers: dict[str, str] = {}
        for block in blocks:
            cited, first = _cite(block, chapter, notes, numbers, placed)
            out.append(cited)
            for label in first:
                group = _number_note(notes[label], chapter, numbers[label], mode)
                (out if mode == "paragraph" else endnotes).extend(group)
        arranged.append(out + endnotes)
    for label, group in notes.items():
        if label not in placed:
            log.info("note %r is never cited; kept with its chapter's endnotes", label)
            index = home[label]
            number = str(len({b.anchor for b in arranged[index] if b.kind == "note"}) + 1)
            mode_here = "chapter" if mode == "paragraph" else mode
            arranged[index].extend(_number_note(group, chapters[index], number, mode_here))
    return [replace(chapter, blocks=blocks) for chapter, blocks in zip(chapters, arranged, strict=True)]


def _cite(
    block: Block, chapter: Chapter, notes: dict[str, list[Block]], numbers: dict[str, str], placed: set[str]
) -> tuple[Block, list[str]]:
    """`block` with its note references in this chapter's numbering, and the notes first cited here."""
    first: list[str] = []
    runs: list[Run] = []
    for run in block.runs:
        ref = next((m for m in run.marks if m.kind == "noteref"), None)
        if ref is None:
            runs.append(run)
            continue
        label = ref.href or ""
        if label not in notes or (label in placed and label not in numbers):
            runs.append(Run(run.text, tuple(m for m in run.marks if m.kind != "noteref")))
            continue
        if label not in numbers:
            numbers[label] = str(len(numbers) + 1)
            placed.add(label)
            first.append(label)
            ident: str | None = f"ref-{chapter.id}-note-{numbers[label]}"
        else:
            ident = None
        marks = tuple(
            Style("noteref", f"{chapter.id}-note-{numbers[label]}", ident) if m.kind == "noteref" else m
            for m in run.marks
        )
        runs.append(Run(numbers[label], marks))
    cells = [  # references inside table cells keep their text only
        replace(cell, runs=[Run(r.text, tuple(m for m in r.marks if m.kind != "noteref")) for r in cell.runs])
        for cell in block.cells
    ]
    return replace(block, runs=runs, cells=cells), first


def _number_note(group: list[Block], chapter: Chapter, number: str, mode: str) -> list[Block]:
    anchor = f"{chapter.id}-note-{number}"
    return [
        replace(b, anchor=anchor, label=number, narrated=mode != "none", endnote=mode != "paragraph", sentences=())
        for b in group
    ]


def number_sentences(prefix: str, blocks: Sequence[Block], language: str) -> list[Block]:
    """The blocks cut into sentences, each with a stable id `<prefix>-s<n>`.

    Tables are announced (caption and size) and read row by row with their column names; a
    code block is announced, not spelled out; a note's first sentence says it is a note.
    """
    n = 0
    numbered: list[Block] = []
    for index, block in enumerate(blocks):
        sentences = []
        for start, end, display in _sentence_spans(blocks, index, language):
            n += 1
            sentences.append(
                Sentence(id=f"{prefix}-s{n:04d}", text=display, spoken=spoken_text(display), start=start, end=end)
            )
        numbered.append(replace(block, sentences=sentences))
    return numbered


def number_chapter(chapter: Chapter, language: str) -> Chapter:
    """`chapter` with its blocks cut into sentences numbered `<chapter id>-s<n>`."""
    return replace(chapter, blocks=number_sentences(chapter.id, chapter.blocks, language))


def _sentence_spans(blocks: Sequence[Block], index: int, language: str) -> list[tuple[int, int, str]]:
    """(start, end, text heard) of each sentence of blocks[index]."""
    block = blocks[index]
    text = block.text
    if block.kind == "table":
        return [(0, len(text), table_announcement(blocks, index, language))]
    if block.kind == "row":
        return [(0, len(text), row_text(blocks, index, language))]
    if block.kind == "code" and text.strip():
        return [(0, len(text), code_announcement(block, language))]
    if block.kind == "image" or not text.strip() or not block.narrated:
        return []
    whole = block.kind in ("heading", "byline")
    spans = [(0, len(text))] if whole else split_sentences(text, language)
    out = [(start, end, spoken_display(block, start, end, language)) for start, end in spans]
    previous = blocks[index - 1] if index else None
    if block.kind == "note" and out and not (previous and previous.kind == "note" and previous.anchor == block.anchor):
        start, end, said = out[0]
        out[0] = (start, end, translator(language).gettext("Note {label}: {text}", label=block.label, text=said))
    return [span for span in out if span[2].strip()]
