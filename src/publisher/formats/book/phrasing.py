"""Sentence spans inside a book's own XHTML that never change its content model: runs of phrasing
content only, split at block boundaries, and checked against the content model before writing."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lxml import etree

from publisher.xmlns import XHTML

log = logging.getLogger(__name__)

#: HTML's phrasing content (what a <span> may hold and where it may stand)
PHRASING = frozenset({
    "a", "abbr", "audio", "b", "bdi", "bdo", "br", "button", "canvas", "cite", "code", "data", "datalist",
    "del", "dfn", "em", "embed", "i", "iframe", "img", "input", "ins", "kbd", "label", "link", "map", "mark",
    "meta", "meter", "noscript", "object", "output", "picture", "progress", "q", "ruby", "s", "samp",
    "script", "select", "slot", "small", "span", "strong", "sub", "sup", "template", "textarea", "time",
    "u", "var", "video", "wbr",
})  # fmt: skip
#: elements only found inside phrasing elements (ruby text, media sources, options, image map areas)
INSIDE_PHRASING = frozenset({"rt", "rp", "rb", "rtc", "source", "track", "param", "area", "option", "optgroup"})
#: elements whose content model has no phrasing content (lists, tables, hgroup…), or that are
#: phrasing but must not be cut into (ruby base and its text, media fallback, form controls)
NO_PHRASING_INSIDE = frozenset({
    "html", "head", "title", "style", "script", "template", "ul", "ol", "menu", "dl", "table", "colgroup",
    "thead", "tbody", "tfoot", "tr", "hgroup", "select", "optgroup", "datalist", "picture", "ruby", "audio",
    "video", "object", "iframe", "textarea", "noscript", "map", "canvas",
})  # fmt: skip

#: how a sentence's id is chosen: from its position in the block's list of sentences
NewId = Callable[[int], str]


def _local(el: etree._Element) -> tuple[str, str]:
    """(namespace, local name) of an element."""
    qname = etree.QName(el)
    return qname.namespace or "", qname.localname


def is_phrasing(el: etree._Element) -> bool:
    """Whether `el` is phrasing content all through (a foreign element, MathML or SVG, counts whole)."""
    namespace, name = _local(el)
    if namespace != XHTML:
        return True  # svg, math, epub:switch: phrasing, and never cut into
    if name not in PHRASING:
        return False
    for inner in el.iterdescendants():
        if not isinstance(inner.tag, str):
            continue
        namespace, name = _local(inner)
        if namespace == XHTML and name not in PHRASING and name not in INSIDE_PHRASING:
            return False  # e.g. an <a> or <ins> wrapping a <p>: flow content, not phrasing
    return True


def accepts_phrasing(el: etree._Element) -> bool:
    """Whether a <span> may be a child of `el`."""
    namespace, name = _local(el)
    return namespace == XHTML and name not in NO_PHRASING_INSIDE


def element_text(el: etree._Element) -> str:
    """The text of `el` and everything inside it, not its own tail (comments and processing instructions have none)."""
    return "".join(el.itertext()) if isinstance(el.tag, str) else ""


@dataclass
class _Atom:
    """A piece of an element's content: a text, a phrasing child (counted whole), or a block child."""

    text: str
    child: etree._Element | None = None
    block: bool = False  # a child whose content is flow: spans never cross it


@dataclass
class _Run:
    """A stretch of phrasing content between block boundaries, inside one parent element."""

    parent: etree._Element
    start: int  # offset of its first character in the whole element's text
    end: int
    atoms: list[tuple[int, _Atom]] = field(default_factory=list)  # (offset, atom)
    wrappable: bool = True


@dataclass
class _Parent:
    """One element whose content may be rebuilt: its atoms in order, and the spans to put in."""

    el: etree._Element
    atoms: list[_Atom] = field(default_factory=list)
    start: int = 0
    spans: list[tuple[int, int, str]] = field(default_factory=list)


class _Layout:
    """The text of an element as runs of phrasing content, each in the element that holds it."""

    def __init__(self, el: etree._Element) -> None:
        self.runs: list[_Run] = []
        self.parents: dict[int, _Parent] = {}
        self.pieces: list[str] = []
        self.pos = 0
        self._collect(el)
        self.text = "".join(self.pieces)

    def _add(self, run: _Run, parent: _Parent, atom: _Atom) -> None:
        run.atoms.append((self.pos, atom))
        parent.atoms.append(atom)
        self.pieces.append(atom.text)
        self.pos += len(atom.text)
        run.end = self.pos

    def _collect(self, el: etree._Element) -> None:
        parent = self.parents.setdefault(id(el), _Parent(el, start=self.pos))
        wrappable = accepts_phrasing(el)
        run = _Run(el, self.pos, self.pos, wrappable=wrappable)
        self.runs.append(run)
        self._add(run, parent, _Atom(el.text or ""))
        for child in el:
            if isinstance(child.tag, str) and not is_phrasing(child):
                parent.atoms.append(_Atom(element_text(child), child, block=True))
                self._collect(child)
                run = _Run(el, self.pos, self.pos, wrappable=wrappable)
                self.runs.append(run)
            else:
                self._add(run, parent, _Atom(element_text(child), child))
            self._add(run, parent, _Atom(child.tail or ""))


def find_sentence(text: str, sentence: str, pos: int) -> tuple[int, int] | None:
    """Where `sentence` is in `text` (from `pos`), allowing any white space and note brackets between characters."""
    chars = [c for c in sentence if not c.isspace()]
    if not chars:
        return None
    pattern = r"[\s\[\]]*".join(re.escape(c) for c in chars)
    match = re.compile(pattern).search(text, pos)
    return (match.start(), match.end()) if match else None


def _snap(run: _Run, start: int, end: int) -> tuple[int, int]:
    """Move a range's ends out of phrasing children (a span cannot start or end inside one)."""
    for at, atom in run.atoms:
        lo, hi = at, at + len(atom.text)
        if atom.child is not None:
            if lo < start < hi:
                start = lo
            if lo < end < hi:
                end = hi
    return start, end


def _piece(layout: _Layout, run: _Run, start: int, end: int) -> tuple[int, int] | None:
    """The part of [start, end) inside `run`, without white space at its ends, snapped to whole children."""
    lo, hi = max(start, run.start), min(end, run.end)
    while lo < hi and layout.text[lo].isspace():
        lo += 1
    while hi > lo and layout.text[hi - 1].isspace():
        hi -= 1
    if lo >= hi:
        return None
    return _snap(run, lo, hi)


def mark_sentences(el: etree._Element, sentences: Sequence[str], new_id: NewId) -> list[tuple[str, int]]:
    """Put a `<span id>` around each of `sentences` (in order) inside `el`, where the content model
    allows one: only around phrasing content, never across a block boundary (a sentence that
    crosses one, as in `li > p + p`, is highlighted in its first stretch). Returns (id, index) of
    each sentence placed; one not found, or inside a phrasing element marked for the sentence
    before, is heard but not highlighted."""
    layout = _Layout(el)
    claimed: dict[int, list[tuple[int, int]]] = {}  # id(run) → ranges taken
    placed: list[tuple[str, int]] = []
    pos = 0
    for index, sentence in enumerate(sentences):
        found = find_sentence(layout.text, sentence, pos)
        if found is None:
            log.info("sentence %d of %r not found in the book's text; heard, not highlighted", index, sentence[:40])
            continue
        pos = found[1]
        for run in layout.runs:
            if not run.wrappable or run.end <= found[0] or run.start >= found[1]:
                continue
            piece = _piece(layout, run, *found)
            if piece is None:
                continue
            taken = claimed.setdefault(id(run), [])
            if any(a < piece[1] and piece[0] < b for a, b in taken):
                break  # inside the same phrasing element as the sentence before: that one is highlighted
            taken.append(piece)
            ident = new_id(index)
            layout.parents[id(run.parent)].spans.append((*piece, ident))
            placed.append((ident, index))
            break
    for parent in layout.parents.values():
        if parent.spans:
            _rebuild(parent)
    bad = {str(s.get("id")) for s in unwrap_misplaced(el, {ident for ident, _ in placed})}
    return [(ident, index) for ident, index in placed if ident not in bad]


def unwrap_misplaced(root: etree._Element, ids: set[str]) -> list[etree._Element]:
    """The check before writing: every span among `ids` that breaks the content model is taken
    out again (its content kept in place; its sentence is heard, not highlighted). Returns them."""
    wrong = misplaced_spans(root, ids)
    for span in wrong:
        log.warning("sentence span %s would break the XHTML content model; not highlighted", span.get("id"))
        _unwrap(span)
    return wrong


def _rebuild(parent: _Parent) -> None:
    """Put `parent`'s content back with a span (id only) around each of its ranges; block
    children stay where they were and close any open span."""
    el = parent.el
    for child in list(el):
        el.remove(child)
    el.text = None
    cuts = sorted({*(s for s, _, _ in parent.spans), *(e for _, e, _ in parent.spans)})
    starts = {s: (e, ident) for s, e, ident in parent.spans}
    target, end = el, -1
    pos = parent.start
    for atom in parent.atoms:
        if atom.block:
            target = el
            assert atom.child is not None
            atom.child.tail = None
            el.append(atom.child)
            pos += len(atom.text)
            continue
        pieces = [(atom.text, pos)] if atom.child is not None else _split(atom.text, pos, cuts)
        for text, at in pieces:
            if not text and atom.child is None:
                continue  # an empty text piece opens and closes nothing
            if target is not el and at >= end:
                target = el
            if at in starts and target is el:
                end, ident = starts.pop(at)
                target = etree.SubElement(el, f"{{{XHTML}}}span", {"id": ident})
            if atom.child is not None:
                atom.child.tail = None
                target.append(atom.child)
            else:
                _append_text(target, text)
        pos += len(atom.text)


def _split(text: str, pos: int, cuts: list[int]) -> list[tuple[str, int]]:
    inner = [c - pos for c in cuts if pos < c < pos + len(text)]
    bounds = [0, *inner, len(text)]
    return [(text[a:b], pos + a) for a, b in itertools.pairwise(bounds)] or [("", pos)]


def _append_text(parent: etree._Element, text: str) -> None:
    if not text:
        return
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def misplaced_spans(root: etree._Element, ids: set[str]) -> list[etree._Element]:
    """The spans among `ids` that break the XHTML content model: in a parent that takes no phrasing
    content, or holding something that is not phrasing content."""
    wrong = []
    for span in root.iter(f"{{{XHTML}}}span"):
        if span.get("id") not in ids:
            continue
        parent = span.getparent()
        if parent is None or not accepts_phrasing(parent) or not is_phrasing(span):
            wrong.append(span)
    return wrong


def _unwrap(span: etree._Element) -> None:
    """Replace `span` by its content (text, children and tail kept in place)."""
    parent = span.getparent()
    if parent is None:
        return
    index = parent.index(span)
    previous = parent[index - 1] if index else None
    text = span.text or ""
    if previous is not None:
        previous.tail = (previous.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    children = list(span)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    last = children[-1] if children else (parent[index - 1] if index else None)
    tail = span.tail or ""
    if last is not None:
        last.tail = (last.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(span)
