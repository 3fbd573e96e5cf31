"""Blocks → XHTML elements, with every sentence in its own <span id=…> (for read-aloud sync)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from lxml import etree

from publisher.model.publication import Block, Cell, Run, Style
from publisher.text.languages import text_direction
from publisher.xmlns import EPUB, XHTML, XML

EPUB_TYPE = f"{{{EPUB}}}type"

_SAFE_HREF = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
_MARK_TAGS = {"em": "em", "strong": "strong", "code": "code", "link": "a", "del": "del"}

#: image src (absolute path) → href inside the book
ImageHref = Callable[[str], str]


def E(
    tag: str,
    attrib: dict[str, str] | None = None,
    *children: etree._Element,
    text: str | None = None,
) -> etree._Element:
    """An XHTML element (lxml escapes every text and attribute value)."""
    el = etree.Element(f"{{{XHTML}}}{tag}", attrib or {})
    if text is not None:
        el.text = text
    for child in children:
        el.append(child)
    return el


def _append_text(parent: etree._Element, text: str) -> None:
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _append_run(parent: etree._Element, run: Run) -> None:
    target = parent
    for mark in run.marks:
        target = _mark_element(target, mark)
    _append_text(target, run.text)


def _mark_element(parent: etree._Element, mark: Style) -> etree._Element:
    if mark.kind == "noteref":  # an EPUB 3 note reference; the note links back to its first one
        attrib = {"href": f"#{mark.href}", EPUB_TYPE: "noteref", "role": "doc-noteref"}
        if mark.ident:
            attrib["id"] = mark.ident
        return etree.SubElement(parent, f"{{{XHTML}}}a", attrib)
    if mark.kind == "link":
        if not mark.href or not _SAFE_HREF.match(mark.href):
            return parent  # relative or script links would break the book: keep the text only
        el = etree.SubElement(parent, f"{{{XHTML}}}a", {"href": mark.href})
        return el
    return etree.SubElement(parent, f"{{{XHTML}}}{_MARK_TAGS[mark.kind]}")


def slice_runs(runs: Sequence[Run], start: int, end: int) -> list[Run]:
    """The runs covering characters [start, end) of the block's text, cut at the edges."""
    out: list[Run] = []
    pos = 0
    for run in runs:
        run_end = pos + len(run.text)
        lo, hi = max(start, pos), min(end, run_end)
        if lo < hi:
            out.append(Run(run.text[lo - pos : hi - pos], run.marks))
        pos = run_end
    return out


def fill_block(parent: etree._Element, block: Block) -> None:
    """Write the block's inline content into `parent`, one span per sentence."""
    runs = block.runs
    pos = 0
    for sentence in block.sentences:
        for run in slice_runs(runs, pos, sentence.start):  # white space between sentences
            _append_run(parent, run)
        span = etree.SubElement(parent, f"{{{XHTML}}}span", {"id": sentence.id})
        for run in slice_runs(runs, sentence.start, sentence.end):
            _append_run(span, run)
        pos = sentence.end
    for run in slice_runs(runs, pos, len(block.text)):
        _append_run(parent, run)


def render_blocks(blocks: Sequence[Block], image_href: ImageHref) -> list[etree._Element]:
    """Blocks → XHTML block elements; consecutive list items, quotes, definitions, a table's
    rows and a chapter's endnotes are grouped."""
    out: list[etree._Element] = []
    refs = {m.ident for b in blocks for r in b.runs for m in r.marks if m.kind == "noteref" and m.ident}
    i = 0
    while i < len(blocks):
        block = blocks[i]
        end = _group_end(blocks, i)
        group = blocks[i:end]
        if block.kind == "list_item":
            out.append(_list(group))
        elif block.kind == "quote":
            out.append(E("blockquote", {}, *(_filled("p", b) for b in group)))
        elif block.kind in ("term", "definition"):
            out.append(E("dl", {}, *(_filled("dt" if b.kind == "term" else "dd", b) for b in group)))
        elif block.kind == "table":
            out.append(_table(block, group[1:]))
        elif block.kind == "note" and block.endnote:
            out.append(_endnotes(group, refs))
        elif block.kind == "note":
            out.append(_note("aside", group, refs))
        else:
            out.append(_single(block, image_href))
        i = end
    return out


def _group_end(blocks: Sequence[Block], i: int) -> int:
    """Where the group of blocks starting at `i` ends (exclusive)."""
    first = blocks[i]

    def same(b: Block) -> bool:
        if first.kind == "list_item":
            return b.kind == "list_item" and b.ordered == first.ordered
        if first.kind in ("term", "definition"):
            return b.kind in ("term", "definition")
        if first.kind == "table":
            return b.kind == "row"
        if first.kind == "note":
            return b.kind == "note" and ((b.endnote and first.endnote) or b.anchor == first.anchor)
        return b.kind == first.kind and first.kind == "quote"

    end = i + 1
    while end < len(blocks) and same(blocks[end]):
        end += 1
    return end


def _filled(tag: str, block: Block, attrib: dict[str, str] | None = None) -> etree._Element:
    el = E(tag, attrib)
    fill_block(el, block)
    return el


def _list(group: Sequence[Block]) -> etree._Element:
    return E("ol" if group[0].ordered else "ul", {}, *(_filled("li", b) for b in group))


def _table(caption: Block, rows: Sequence[Block]) -> etree._Element:
    """A data table: caption (or the announcement's id on the table), header cells with scope."""
    table = E("table")
    if caption.text:
        table.append(_filled("caption", caption))
    if caption.sentences:
        table.set("id", group_id(caption))
    head = [r for r in rows if r.header]
    if head:
        table.append(E("thead", {}, *(_row(r) for r in head)))
    table.append(E("tbody", {}, *(_row(r) for r in rows if not r.header)))
    return table


def _row(row: Block) -> etree._Element:
    tr = E("tr", {"id": row.sentences[0].id} if row.sentences else {})
    for n, cell in enumerate(row.cells):
        tr.append(_cell(cell, "col" if row.header else "row" if n == 0 else ""))
    return tr


def _cell(cell: Cell, scope: str) -> etree._Element:
    el = E("th", {"scope": scope}) if cell.header and scope else E("td")
    for run in cell.runs:
        _append_run(el, run)
    return el


def _note(tag: str, group: Sequence[Block], refs: set[str], attrib: dict[str, str] | None = None) -> etree._Element:
    """One note: a paragraph per block, the first led by its number linking back to the reference."""
    first = group[0]
    if attrib is None:
        attrib = {"id": first.anchor, EPUB_TYPE: "footnote", "role": "doc-footnote"}
    note = E(tag, attrib)
    for n, block in enumerate(group):
        p = E("p")
        if n == 0:
            back = f"ref-{first.anchor}"
            label = f"{first.label}. "
            if back in refs:
                p.append(E("a", {"href": f"#{back}", "role": "doc-backlink"}, text=first.label))
                p[-1].tail = ". "
            else:
                p.text = label
        fill_block(p, block)
        note.append(p)
    return note


def _endnotes(group: Sequence[Block], refs: set[str]) -> etree._Element:
    """A chapter's endnotes: one list, an item per note."""
    items = E("ol")
    start = 0
    for end in range(1, len(group) + 1):
        if end == len(group) or group[end].anchor != group[start].anchor:
            items.append(_note("li", group[start:end], refs, {"id": group[start].anchor, EPUB_TYPE: "endnote"}))
            start = end
    return E("section", {EPUB_TYPE: "endnotes", "role": "doc-endnotes", "aria-label": "Notes"}, items)


def group_id(block: Block) -> str:
    """The id of the element holding a table, figure or note (what overlays group its sentences by)."""
    if block.kind == "note":
        return block.anchor
    first = block.sentences[0].id
    if block.kind == "table" and not block.text:
        return first  # no caption: the announcement is the table itself
    return f"{'table' if block.kind == 'table' else 'figure'}-{first}"


def structure_roles(blocks: Sequence[Block]) -> dict[str, tuple[str, str, str]]:
    """sentence id → (id of its table/figure/note element, that element's epub:type, the sentence's
    own epub:type): what media overlays mark so reading systems can skip or escape them."""
    roles: dict[str, tuple[str, str, str]] = {}
    table = ""
    for block in blocks:
        if not block.sentences:
            continue
        if block.kind == "table":
            table = group_id(block)
        if block.kind in ("table", "row") and table:
            for s in block.sentences:
                roles[s.id] = (table, "table", "table-row" if block.kind == "row" else "")
        elif block.kind == "note":
            for s in block.sentences:
                roles[s.id] = (block.anchor, "endnote" if block.endnote else "footnote", "")
        elif block.kind == "figure":
            for s in block.sentences:
                roles[s.id] = (group_id(block), "figure", "")
    return roles


def _single(block: Block, image_href: ImageHref) -> etree._Element:
    if block.kind == "heading":
        el = E(f"h{max(1, min(block.level, 6))}")
    elif block.kind == "image":
        img = E("img", {"src": image_href(block.src or ""), "alt": block.alt})
        if not block.alt:
            img.set("role", "presentation")
        return E("figure", {}, img)
    elif block.kind == "figure":
        img = E("img", {"src": image_href(block.src or ""), "alt": block.alt})
        attrib = {"id": group_id(block)} if block.sentences else {}
        return E("figure", attrib, img, _filled("figcaption", block))
    elif block.kind == "code":  # the sentence id on <pre> itself: nothing may indent its text
        pre = E("pre", {"id": block.sentences[0].id} if block.sentences else {}, text=block.text)
        return pre
    elif block.kind == "byline":
        el = E("p", {"class": f"byline {block.role}".strip()})
    else:
        el = E("p")
    fill_block(el, block)
    return el


def document(title: str, language: str, body: etree._Element, css: str | None, epub_type_ns: bool = True) -> bytes:
    """A complete XHTML5 document (polyglot, UTF-8) with `lang` and `xml:lang` on the root."""
    nsmap: dict[str | None, str] = {None: XHTML}
    if epub_type_ns:
        nsmap["epub"] = EPUB
    html = etree.Element(f"{{{XHTML}}}html", nsmap=nsmap)
    html.set("lang", language)
    html.set(f"{{{XML}}}lang", language)
    if text_direction(language) == "rtl":
        html.set("dir", "rtl")
    head = etree.SubElement(html, f"{{{XHTML}}}head")
    etree.SubElement(head, f"{{{XHTML}}}meta", {"charset": "utf-8"})
    etree.SubElement(head, f"{{{XHTML}}}title").text = title
    if css:
        etree.SubElement(head, f"{{{XHTML}}}link", {"rel": "stylesheet", "type": "text/css", "href": css})
    html.append(body)
    return b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n' + etree.tostring(
        html, encoding="utf-8", pretty_print=True
    )
