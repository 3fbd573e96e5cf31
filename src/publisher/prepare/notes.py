"""Where notes are read: after the paragraph citing them (as readers leave them), at the chapter's
end, or not at all; the chapters' sentences numbered again to match."""

from __future__ import annotations

from dataclasses import replace

from publisher.model.publication import Publication
from publisher.structure import arrange_notes, number_chapter


def place_notes(pub: Publication, mode: str) -> Publication:
    """`pub` with its notes where `mode` says they are read (see structure.arrange_notes)."""
    if mode == "paragraph" or not any(b.kind == "note" for c in pub.chapters for b in c.blocks):
        return pub  # readers already place notes after the paragraph citing them
    chapters = arrange_notes(pub.chapters, mode)
    return replace(pub, chapters=[number_chapter(chapter, pub.metadata.language) for chapter in chapters])
