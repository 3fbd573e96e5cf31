"""Style sheets the books and the web pages share: the styles of tables, notes, definition lists and
figures, added only to publications that have them (the others' outputs stay byte for byte)."""

from __future__ import annotations

from importlib import resources

from publisher.model.publication import Publication

#: tables, notes, definition lists, figures and struck text (static/structure.css, package data)
STRUCTURE_CSS = resources.files("publisher.formats").joinpath("static/structure.css").read_text("utf-8")
STRUCTURE_KINDS = frozenset({"table", "row", "note", "term", "definition", "figure"})


def has_structure(pub: Publication) -> bool:
    """Whether the text has tables, notes, definitions, figures or struck text (which need their styles)."""
    structured = any(b.kind in STRUCTURE_KINDS for c in pub.chapters for b in c.blocks)
    return structured or any(m.kind == "del" for c in pub.chapters for b in c.blocks for r in b.runs for m in r.marks)
