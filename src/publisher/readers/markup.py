"""HTML/XHTML elements → blocks: the walk the HTML, EPUB and document readers share (tables, notes, figures…)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from lxml import etree

from publisher.model.publication import Block, BlockKind, Cell, Run, Style
from publisher.structure import row_block
from publisher.text.clean import collapse_ws
from publisher.xmlns import EPUB

HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
INLINE_MARKS = {
    "em": "em", "i": "em", "cite": "em", "strong": "strong", "b": "strong", "code": "code",
    "del": "del", "s": "del", "strike": "del",
}  # fmt: skip
CONTAINERS = {
    "div", "section", "article", "main", "body", "header", "hgroup", "details",
    "center", "span", "tbody", "thead", "tr",
}  # fmt: skip
#: epub:type / role values of a note and of a block of notes
NOTE_TYPES = {"footnote", "endnote", "rearnote", "note", "doc-footnote", "doc-endnote"}
NOTES_TYPES = {"footnotes", "endnotes", "rearnotes", "doc-endnotes"}
_NOTE_CLASS = re.compile(r"(^|\s)(footnote|endnote|fn)($|\s)", re.IGNORECASE)
_FIGURE_CLASS = re.compile(r"(^|\s)(figure|float)($|\s)")
_NOTES_CLASS = re.compile(r"(^|\s)(footnotes|endnotes|notes)($|\s)", re.IGNORECASE)

Element = Any  # an lxml element (lxml.html or lxml.etree)
#: resolves an image src (relative to its document) to a local path, or None to leave it out
ImageSource = Callable[[str], "str | None"]


def plain_tree(root: etree._Element) -> etree._Element:
    """An XHTML tree with plain tag names (no namespace) and epub:type as a plain attribute "epub-type"."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        el.tag = etree.QName(el).localname
        for name in list(el.attrib):
            if name.startswith("{"):
                value = el.attrib.pop(name)
                local = etree.QName(name).localname
                if name == f"{{{EPUB}}}type":
                    el.set("epub-type", value)
                elif local in ("lang", "id"):
                    el.set(local if local == "id" else "xml-lang", value)
    return root


def tag_of(el: Element) -> str:
    """The element's local tag name ("" for comments and processing instructions)."""
    return el.tag.rsplit("}", 1)[-1].lower() if isinstance(el.tag, str) else ""


def types_of(el: Element) -> set[str]:
    """epub:type and role values of the element."""
    epub_type = el.get("epub:type") or el.get("epub-type") or ""  # HTML parsers keep the prefix
    return set(epub_type.split()) | set((el.get("role") or "").split())


def is_pagebreak(el: Element) -> bool:
    """A page-break marker (its page number is never read as text)."""
    return bool(types_of(el) & {"pagebreak", "doc-pagebreak"})


def is_note(el: Element) -> bool:
    """A footnote or endnote element (by epub:type, role, a list item of a notes section, or its class)."""
    if types_of(el) & NOTE_TYPES:
        return True
    parent = el.getparent()
    grand = parent.getparent() if parent is not None else None
    if (
        tag_of(el) == "li"
        and grand is not None
        and (types_of(grand) & NOTES_TYPES or _NOTES_CLASS.search(grand.get("class") or ""))
    ):
        return True
    return tag_of(el) in ("div", "aside", "p", "li") and bool(_NOTE_CLASS.search(el.get("class") or ""))


class Notes:
    """Where the notes of a set of documents are: note keys ("doc#id") and the ids inside them."""

    def __init__(self) -> None:
        self.targets: dict[str, str] = {}  # "doc#id" of a note or anything inside it → the note's key
        self.refs: set[str] = set()  # "doc#id" of note references (a link there from a note is a back-link)
        self.keys: dict[int, str] = {}  # id(note element) → its key
        self.elements: list[Element] = []  # the note elements, held so that their id()s stay theirs

    def scan(self, root: Element, doc: str, resolve: Callable[[str, str], str]) -> None:
        """Find the notes of one document; `resolve(doc, href)` gives "doc#id" for a link."""
        by_id = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
        for el in root.iter():
            if isinstance(el.tag, str) and is_note(el):
                self._add(el, doc)
        for a in root.iter("a"):
            target = resolve(doc, a.get("href") or "")
            if not target or "#" not in target:
                continue
            if target in self.targets or "noteref" in " ".join(types_of(a)):
                if a.get("id"):
                    self.refs.add(f"{doc}#{a.get('id')}")
                continue
            t_doc, _, frag = target.partition("#")
            note = by_id.get(frag) if t_doc == doc else None
            if note is not None and a.get("id") and self._links_back(note, doc, a.get("id"), resolve):
                block = next((p for p in note.iterancestors() if tag_of(p) in ("p", "li", "div", "aside")), note)
                self._add(block if tag_of(note) == "a" else note, doc)
                self.refs.add(f"{doc}#{a.get('id')}")

    @staticmethod
    def _links_back(note: Element, doc: str, ref_id: str, resolve: Callable[[str, str], str]) -> bool:
        scope = note if tag_of(note) != "a" else note.getparent()
        return scope is not None and any(
            resolve(doc, b.get("href") or "") == f"{doc}#{ref_id}" for b in scope.iter("a")
        )

    def _add(self, el: Element, doc: str) -> None:
        if id(el) in self.keys:
            return
        key = f"{doc}#{el.get('id') or f'_note{len(self.keys) + 1}'}"
        self.keys[id(el)] = key
        self.elements.append(el)
        for inner in el.iter():
            if isinstance(inner.tag, str) and inner.get("id"):
                self.targets[f"{doc}#{inner.get('id')}"] = key
        self.targets[key] = key


def same_doc(doc: str, href: str) -> str:
    """Resolve a link inside one document: "#x" → "doc#x" (other documents' links are left alone)."""
    return f"{doc}{href}" if href.startswith("#") else ""


class Walker:
    """Turns the elements of one document into blocks; notes are collected as `note` blocks."""

    def __init__(
        self,
        doc: str = "",
        notes: Notes | None = None,
        image: ImageSource | None = None,
        resolve: Callable[[str, str], str] = same_doc,
    ) -> None:
        self.doc = doc
        self.notes = notes or Notes()
        self.image = image or (lambda src: src)
        self.resolve = resolve
        self.blocks: list[Block] = []

    def walk(self, el: Element, quote: int = 0) -> None:
        """Add the blocks of `el` (and everything inside it), each noting the element it came from."""
        first = len(self.blocks)
        self._walk(el, quote)
        for n in range(first, len(self.blocks)):
            if not self.blocks[n].origin:
                self.blocks[n] = replace(self.blocks[n], origin=self.where(el))

    def where(self, el: Element) -> str:
        """The element's place in its document: "<doc>#<index of each ancestor among its parent's children>"."""
        steps = []
        node = el
        while node.getparent() is not None:
            parent = node.getparent()
            steps.append(str(parent.index(node)))
            node = parent
        return f"{self.doc}#{'/'.join(reversed(steps))}"

    def _walk(self, el: Element, quote: int) -> None:
        tag = tag_of(el)
        if not tag or is_pagebreak(el):
            return
        key = self.notes.keys.get(id(el))
        if key is not None:
            self._note(el, key)
        elif tag in HEADINGS:
            self.blocks.append(Block(kind="heading", runs=self.runs(el), level=HEADINGS[tag]))
        elif tag in ("p", "address", "figcaption", "caption", "td", "th", "dt", "dd"):
            self._paragraph(el, quote)
        elif tag == "li":
            parent = el.getparent()
            ordered = parent is not None and tag_of(parent) == "ol"
            self.blocks.append(Block(kind="list_item", runs=self.runs(el), level=1, ordered=ordered))
        elif tag == "pre":
            self.blocks.append(
                Block(kind="code", runs=[Run("".join(el.itertext()), (Style("code"),))], role=_language(el))
            )
        elif tag == "img":
            self._image(el)
        elif tag == "table":
            self._table(el)
        elif tag == "figure" or (tag == "div" and _FIGURE_CLASS.search(el.get("class") or "")):
            self._figure(el, quote)
        elif tag == "dl":
            self._definitions(el)
        elif tag == "blockquote" or tag in CONTAINERS or tag in ("ul", "ol", "aside", "nav", "footer"):
            self._container(el, tag, quote)
        else:  # unknown element: keep its text as a paragraph rather than lose it
            runs = self.runs(el)
            if "".join(r.text for r in runs).strip():
                self.blocks.append(Block(kind="quote" if quote else "paragraph", runs=runs, level=quote))

    def _paragraph(self, el: Element, quote: int) -> None:
        kind: BlockKind = "quote" if quote else "paragraph"
        self.blocks.append(Block(kind=kind, runs=self.runs(el), level=quote))
        for img in el.iter("img"):
            self._image(img)

    def _container(self, el: Element, tag: str, quote: int) -> None:
        depth = quote + 1 if tag == "blockquote" else quote
        kind: BlockKind = "quote" if depth else "paragraph"
        if el.text and el.text.strip():
            self.blocks.append(Block(kind=kind, runs=[Run(el.text)], level=depth))
        for child in el:
            self.walk(child, depth)
            if child.tail and child.tail.strip():
                self.blocks.append(Block(kind=kind, runs=[Run(child.tail)], level=depth))

    def _image(self, img: Element) -> None:
        src = img.get("src")
        path = self.image(src) if src else None
        if path:
            self.blocks.append(Block(kind="image", src=path, alt=collapse_ws(img.get("alt") or "")))

    def _table(self, el: Element) -> None:
        caption = next((c for c in el if tag_of(c) == "caption"), None)
        runs = self.runs(caption) if caption is not None else []
        self.blocks.append(Block(kind="table", runs=runs, origin=self.where(caption if caption is not None else el)))
        for tr in el.iter("tr"):
            cells = [Cell(self.runs(td), header=tag_of(td) == "th") for td in tr if tag_of(td) in ("td", "th")]
            parent = tr.getparent()
            header = (parent is not None and tag_of(parent) == "thead") or (
                bool(cells) and all(c.header for c in cells)
            )
            if cells:
                self.blocks.append(replace(row_block(cells, header=header), origin=self.where(tr)))

    def _figure(self, el: Element, quote: int) -> None:
        imgs = list(el.iter("img"))
        caption = next((c for c in el.iter() if tag_of(c) and _is_caption(c)), None)
        if len(imgs) == 1 and caption is not None and not list(el.iter("table")):
            src = imgs[0].get("src")
            path = self.image(src) if src else None
            alt = collapse_ws(imgs[0].get("alt") or "")
            if path:
                figure = Block(kind="figure", runs=self.runs(caption), src=path, alt=alt, origin=self.where(caption))
                self.blocks.append(figure)
                return
        self._container(el, "figure", quote)

    def _definitions(self, el: Element) -> None:
        for child in el.iter("dt", "dd"):
            kind: BlockKind = "term" if tag_of(child) == "dt" else "definition"
            self.blocks.append(Block(kind=kind, runs=self.runs(child), origin=self.where(child)))

    def _note(self, el: Element, key: str) -> None:
        inner = Walker(self.doc, self.notes, self.image, self.resolve)
        inner.notes = _Without(self.notes, id(el))
        inner.walk(el)
        first = True
        for block in inner.blocks:
            if first and block.runs:  # what a dropped back-link left: "1. Text" → "Text"
                lead = Run(re.sub(r"^[\s.:)\]]+", "", block.runs[0].text), block.runs[0].marks)
                block = replace(block, runs=[lead, *block.runs[1:]])
                first = False
            if block.kind in ("paragraph", "quote", "list_item", "definition", "term") and block.runs:
                self.blocks.append(Block(kind="note", runs=block.runs, label=key, origin=block.origin))
            elif block.kind == "note":
                self.blocks.append(block)

    def runs(self, el: Element | None, marks: tuple[Style, ...] = ()) -> list[Run]:
        """The inline text of `el` with its marks; note references become `noteref` runs."""
        if el is None:
            return []
        runs: list[Run] = []
        if el.text:
            runs.append(Run(el.text, marks))
        for child in el:
            runs.extend(self._inline(child, marks))
            if child.tail:
                runs.append(Run(child.tail, marks))
        return runs

    def _inline(self, child: Element, marks: tuple[Style, ...]) -> Iterator[Run]:
        tag = tag_of(child)
        if not tag or tag == "img" or is_pagebreak(child):
            return
        if tag == "br":
            yield Run(" ", marks)
        elif tag == "a":
            yield from self._link(child, marks)
        elif tag in INLINE_MARKS:
            yield from self.runs(child, (*marks, Style(INLINE_MARKS[tag])))  # type: ignore[arg-type]
        else:
            yield from self.runs(child, marks)

    def _link(self, a: Element, marks: tuple[Style, ...]) -> Iterator[Run]:
        href = a.get("href") or ""
        target = self.resolve(self.doc, href) if href else ""
        if types_of(a) & {"doc-backlink", "backlink"} or (target and target in self.notes.refs):
            return  # a note's link back to where it is cited
        if target and target in self.notes.targets:
            text = collapse_ws("".join(a.itertext())).strip("[]()") or "*"
            yield Run(text, (*marks, Style("noteref", self.notes.targets[target])))
        elif href:
            yield from self.runs(a, (*marks, Style("link", href)))
        else:
            yield from self.runs(a, marks)


class _Without(Notes):
    """The notes of `notes`, except that element `skip` is walked as ordinary content."""

    def __init__(self, notes: Notes, skip: int) -> None:
        super().__init__()
        self.targets, self.refs, self.elements = notes.targets, notes.refs, notes.elements
        self.keys = {k: v for k, v in notes.keys.items() if k != skip}


def _is_caption(el: Element) -> bool:
    return tag_of(el) == "figcaption" or bool({"caption", "figcaption"} & set((el.get("class") or "").split()))


def _language(pre: Element) -> str:
    """A code block's language, from class="language-python" or pandoc's "sourceCode python"."""
    classes = " ".join(el.get("class") or "" for el in [pre, *pre.iter("code")]).split()
    for name in classes:
        if name.startswith("language-"):
            return name.removeprefix("language-")
    rest = [c for c in classes if c not in ("sourceCode", "numberSource", "numberLines")]
    return rest[0] if "sourceCode" in classes and rest else ""
