"""Chapters the source itself defines (an EPUB's spine documents) → Publication."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from publisher.errors import SourceError
from publisher.model.publication import Block, Chapter, Metadata, Publication, Run
from publisher.readers.common import check_lengths, clean_block
from publisher.structure import arrange_notes, number_chapter
from publisher.text.clean import collapse_ws
from publisher.text.slugs import slugify


def assemble_parts(
    meta: Metadata, parts: list[tuple[str, list[Block]]], path: Path, media: Path | None = None
) -> Publication:
    """Chapters given by the source itself (an EPUB's spine): one per (title, blocks) part.

    The part's first heading becomes its level-1 heading (one is added from the title when the
    part has none) and the other headings follow it without skipping levels.
    """
    chapters: list[Chapter] = []
    stray: list[Block] = []  # notes of parts that are not chapters (an endnotes document)
    for title, raw in parts:
        blocks = [b for b in (clean_block(b, path, media) for b in raw) if b is not None]
        check_lengths(blocks, path)
        if all(b.kind in ("heading", "note") for b in blocks):
            stray.extend(b for b in blocks if b.kind == "note")
            continue
        if not blocks or blocks[0].kind != "heading":
            blocks.insert(0, Block(kind="heading", runs=[Run(title)], level=1))
        top, prev = blocks[0].level, 1
        levelled = [replace(blocks[0], level=1)]
        for block in blocks[1:]:
            if block.kind == "heading":
                prev = max(2, min(block.level - top + 1, prev + 1, 6))
                block = replace(block, level=prev)
            levelled.append(block)
        name = collapse_ws(title) or blocks[0].text
        chapters.append(Chapter(index=len(chapters) + 1, title=name, blocks=levelled))
    if not chapters:
        raise SourceError("has no text to publish (every document is empty or front/back matter)", path=path)
    title = meta.title or path.stem.replace("-", " ").replace("_", " ").strip().capitalize() or "Untitled"
    last = chapters[-1]
    chapters[-1] = replace(last, blocks=[*last.blocks, *stray])  # arrange_notes moves each to the chapter citing it
    chapters = [number_chapter(chapter, meta.language) for chapter in arrange_notes(chapters)]
    return Publication(slug=slugify(path.stem), source=path, metadata=replace(meta, title=title), chapters=chapters)
