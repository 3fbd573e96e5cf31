"""Blocks → XHTML elements, with every sentence in its own <span id=…> (for read-aloud sync)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from lxml import etree

from publisher.model.publication import Block, Run, Style
from publisher.text import text_direction
from publisher.xmlns import EPUB, XHTML, XML

EPUB_TYPE = f"{{{EPUB}}}type"

_SAFE_HREF = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
_MARK_TAGS = {"em": "em", "strong": "strong", "code": "code", "link": "a"}

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
    """Blocks → XHTML block elements; consecutive list items and quotes are grouped."""
    out: list[etree._Element] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if block.kind == "list_item":
            group = E("ol" if block.ordered else "ul")
            while i < len(blocks) and blocks[i].kind == "list_item" and blocks[i].ordered == block.ordered:
                li = E("li")
                fill_block(li, blocks[i])
                group.append(li)
                i += 1
            out.append(group)
            continue
        if block.kind == "quote":
            group = E("blockquote")
            while i < len(blocks) and blocks[i].kind == "quote":
                p = E("p")
                fill_block(p, blocks[i])
                group.append(p)
                i += 1
            out.append(group)
            continue
        out.append(_single(block, image_href))
        i += 1
    return out


def _single(block: Block, image_href: ImageHref) -> etree._Element:
    if block.kind == "heading":
        el = E(f"h{max(1, min(block.level, 6))}")
    elif block.kind == "image":
        img = E("img", {"src": image_href(block.src or ""), "alt": block.alt})
        if not block.alt:
            img.set("role", "presentation")
        return E("figure", {}, img)
    elif block.kind == "code":
        el = E("pre")
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
