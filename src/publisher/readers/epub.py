"""EPUB reader (EPUB 2 and 3): metadata, spine order, TOC titles, notes, tables and images → Publication."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lxml import etree

from publisher.errors import SourceError
from publisher.model.publication import Block, Metadata, Publication
from publisher.readers.common import IMAGE_SUFFIXES, check_language, image_problem
from publisher.readers.markup import Notes, Walker, plain_tree, tag_of, types_of
from publisher.readers.package import Package, media_folder
from publisher.readers.parts import assemble_parts
from publisher.sanitise import plain_text
from publisher.svg import svg_problem
from publisher.text.clean import collapse_ws
from publisher.text.dates import parse_date
from publisher.xmlns import CONTAINER, DC, EPUB, NCX, OPF, XHTML

log = logging.getLogger(__name__)

NS = {"c": CONTAINER, "opf": OPF, "dc": DC, "ncx": NCX, "x": XHTML, "epub": EPUB}
XHTML_TYPES = {"application/xhtml+xml", "text/html", "application/x-dtbook+xml"}
#: documents that are front or back matter, not narrated as chapters (epub:type, landmarks, guide)
NOT_CHAPTERS = {
    "cover", "titlepage", "title-page", "halftitlepage", "toc", "colophon", "copyright-page", "copyright",
    "imprint", "imprimatur", "landmarks", "loi", "lot", "index", "uncopyright", "frontispiece", "page-list",
    "endnotes", "rearnotes", "footnotes",
}  # fmt: skip
#: MARC relator codes of EPUB 2's opf:role / EPUB 3's role refinement that make a creator an author
AUTHOR_ROLES = {"aut", "", "cre"}


@dataclass
class Book:
    """An opened EPUB: its package, the OPF's path and root, and the manifest by id and by path."""

    package: Package
    opf_path: str
    opf: etree._Element
    items: dict[str, etree._Element]
    by_path: dict[str, etree._Element]


def open_book(path: Path) -> Book:
    """Open an EPUB: a valid zip, no DRM, a container pointing to an OPF."""
    package = Package(path, "EPUB")
    package.check_drm()
    if "META-INF/container.xml" not in package.names:
        raise SourceError("is not an EPUB: META-INF/container.xml is missing", path=path)
    container = package.xml("META-INF/container.xml")
    rootfiles = container.xpath("//c:rootfile/@full-path", namespaces=NS)
    if not rootfiles:
        raise SourceError("is not an EPUB: its container names no package document", path=path)
    opf_path = package.resolve("", str(rootfiles[0]))
    opf = package.xml(opf_path)
    items = {str(i.get("id")): i for i in opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
    by_path = {package.resolve(opf_path, i.get("href") or ""): i for i in items.values()}
    return Book(package, opf_path, opf, items, by_path)


def _texts(opf: etree._Element, xpath: str) -> list[str]:
    return [
        collapse_ws("".join(e.itertext())) for e in opf.xpath(xpath, namespaces=NS) if "".join(e.itertext()).strip()
    ]


def _refinements(opf: etree._Element) -> dict[str, dict[str, str]]:
    """EPUB 3 `meta refines="#id"`: id → property → value."""
    out: dict[str, dict[str, str]] = {}
    for meta in opf.xpath("//opf:metadata/opf:meta[@refines]", namespaces=NS):
        target = (meta.get("refines") or "").lstrip("#")
        out.setdefault(target, {})[meta.get("property") or ""] = collapse_ws(meta.text or "")
    return out


def _roles(opf: etree._Element) -> dict[str, list[str]]:
    """Every EPUB 3 `meta property="role" refines="#id"` of each id, in order (Standard Ebooks give an
    author four: "ann", "aut", "dto", "win")."""
    out: dict[str, list[str]] = {}
    for meta in opf.xpath("//opf:metadata/opf:meta[@refines][@property='role']", namespaces=NS):
        out.setdefault((meta.get("refines") or "").lstrip("#"), []).append(collapse_ws(meta.text or ""))
    return out


def read_metadata(book: Book, defaults: Metadata) -> Metadata:
    """Every field of the OPF that a Publication has: title, creators with roles, language,
    identifier, date, publisher, rights, subjects, description, series."""
    opf, path = book.opf, book.package.path
    refines = _refinements(opf)
    changes: dict[str, Any] = {"authors": [], "contributors": [], "lexicon": {}}
    titles = opf.xpath("//opf:metadata/dc:title", namespaces=NS)
    main = next((t for t in titles if refines.get(t.get("id") or "", {}).get("title-type") == "main"), None)
    changes["title"] = collapse_ws("".join((main if main is not None else titles[0]).itertext())) if titles else ""
    roles = _roles(opf)
    for el in opf.xpath("//opf:metadata/dc:creator | //opf:metadata/dc:contributor", namespaces=NS):
        name = collapse_ws("".join(el.itertext()))
        own = el.get(f"{{{NS['opf']}}}role")
        listed = [own] if own else roles.get(el.get("id") or "", [""])  # a creator may have several roles
        role = next((r for r in listed if r in AUTHOR_ROLES), listed[0])
        if not name:
            continue
        if tag_of(el) == "creator" and role in AUTHOR_ROLES:
            changes["authors"].append(name)
        else:
            changes["contributors"].append((name, role or "ctb"))
    languages = _texts(opf, "//opf:metadata/dc:language")
    if languages:
        changes["language"] = check_language(languages[0], path)
    unique = opf.get("unique-identifier") or ""
    ids = opf.xpath("//opf:metadata/dc:identifier", namespaces=NS)
    chosen = next((i for i in ids if i.get("id") == unique), ids[0] if ids else None)
    if chosen is not None and (chosen.text or "").strip():
        changes["identifier"] = collapse_ws(chosen.text or "")
    dates = _texts(opf, "//opf:metadata/dc:date")
    if dates:
        changes["date"] = parse_date(dates[0][:10]) or defaults.date
    for field, xpath in (("publisher", "dc:publisher"), ("rights", "dc:rights"), ("description", "dc:description")):
        values = _texts(opf, f"//opf:metadata/{xpath}")
        if values:
            changes[field] = plain_text(values[0]) if field == "description" else values[0]
    changes["subjects"] = _texts(opf, "//opf:metadata/dc:subject")
    sources = _texts(
        opf, "//opf:metadata/opf:meta[@property='pageBreakSource' or @property='a11y:pageBreakSource'] | //dc:source"
    )
    changes["page_source"] = sources[0] if sources else None
    changes.update(_series(opf, refines))
    return replace(defaults, **changes)


def _series(opf: etree._Element, refines: dict[str, dict[str, str]]) -> dict[str, str | None]:
    """The series the book belongs to and its number in it (EPUB 3 collections, or Calibre's)."""
    for el in opf.xpath("//opf:metadata/opf:meta[@property='belongs-to-collection']", namespaces=NS):
        position = refines.get(el.get("id") or "", {}).get("group-position")
        return {"series": collapse_ws(el.text or ""), "series_position": position}
    calibre = {m.get("name"): m.get("content") for m in opf.xpath("//opf:metadata/opf:meta[@name]", namespaces=NS)}
    if calibre.get("calibre:series"):
        return {
            "series": collapse_ws(calibre["calibre:series"] or ""),
            "series_position": calibre.get("calibre:series_index"),
        }
    return {}


def cover_member(book: Book) -> str | None:
    """The cover image's member name: EPUB 3 `cover-image`, EPUB 2 `<meta name="cover">`, or the guide."""
    for item in book.items.values():
        if "cover-image" in (item.get("properties") or "").split():
            return book.package.resolve(book.opf_path, item.get("href") or "")
    for meta in book.opf.xpath("//opf:metadata/opf:meta[@name='cover']", namespaces=NS):
        item = book.items.get(meta.get("content") or "")
        if item is not None and (item.get("media-type") or "").startswith("image/"):
            return book.package.resolve(book.opf_path, item.get("href") or "")
    return None


def toc_titles(book: Book) -> tuple[dict[str, str], set[str]]:
    """Chapter titles from the EPUB 3 nav (else the NCX): document → first title pointing at it;
    and the documents the landmarks or guide call front or back matter."""
    titles: dict[str, str] = {}
    matter: set[str] = set()
    nav = next((i for i in book.items.values() if "nav" in (i.get("properties") or "").split()), None)
    if nav is not None:
        nav_path = book.package.resolve(book.opf_path, nav.get("href") or "")
        root = plain_tree(book.package.xml(nav_path))
        for section in root.iter("nav"):
            kinds = types_of(section)
            for a in section.iter("a"):
                target = book.package.resolve(nav_path, a.get("href") or "")
                if "toc" in kinds:
                    titles.setdefault(target, collapse_ws("".join(a.itertext())))
                elif "landmarks" in kinds and types_of(a) & NOT_CHAPTERS:
                    matter.add(target)
        matter.add(nav_path)
    ncx = book.items.get(book.opf.xpath("string(//opf:spine/@toc)", namespaces=NS))
    if ncx is not None and not titles:
        ncx_path = book.package.resolve(book.opf_path, ncx.get("href") or "")
        for point in book.package.xml(ncx_path).iter(f"{{{NS['ncx']}}}navPoint"):
            label = collapse_ws("".join(point.findtext("ncx:navLabel/ncx:text", namespaces=NS) or ""))
            content = point.find("ncx:content", NS)
            if content is not None:
                titles.setdefault(book.package.resolve(ncx_path, content.get("src") or ""), label)
    for ref in book.opf.xpath("//opf:guide/opf:reference", namespaces=NS):
        if (ref.get("type") or "").lower() in NOT_CHAPTERS:
            matter.add(book.package.resolve(book.opf_path, ref.get("href") or ""))
    return titles, matter


def spine(book: Book) -> list[str]:
    """The documents of the spine, in reading order (each checked to lie inside the package)."""
    out = []
    for ref in book.opf.xpath("//opf:spine/opf:itemref", namespaces=NS):
        item = book.items.get(ref.get("idref") or "")
        if item is None:
            raise SourceError(f"its spine names {ref.get('idref')!r}, which the manifest lacks", path=book.package.path)
        if item.get("media-type") in XHTML_TYPES:
            out.append(book.package.resolve(book.opf_path, item.get("href") or ""))
    if not out:
        raise SourceError("its spine lists no XHTML documents", path=book.package.path)
    return out


def _is_matter(root: etree._Element) -> bool:
    """A document whose body or first section says it is front or back matter (not a chapter)."""
    body = next(root.iter("body"), None)
    if body is None:
        return True
    candidates = [body, *[c for c in body if tag_of(c) in ("section", "div", "nav")][:1]]
    return any(types_of(el) & NOT_CHAPTERS for el in candidates) and not any(
        types_of(el) & {"chapter", "bodymatter", "part"} for el in candidates
    )


def _only_metadata(blocks: list[Block], meta: Metadata) -> bool:
    """A title page without markup saying so (EPUB 2): nothing but the title, authors, publisher, date, rights."""
    known = {meta.title, *meta.authors, meta.publisher, meta.date, meta.rights, *(n for n, _ in meta.contributors)}
    words = {collapse_ws(k).casefold() for k in known if k}
    texts = [collapse_ws(b.text).casefold().removeprefix("by ") for b in blocks if b.text.strip()]
    return bool(texts) and all(t in words or parse_date(t) for t in texts)


class _Images:
    """Images of the book, unpacked into a temporary folder when a document shows them."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self.folder = media_folder(book.package.path)
        self.doc = ""

    def __call__(self, src: str) -> str | None:
        try:
            member = self.book.package.resolve(self.doc, src)
        except SourceError:
            log.warning("%s: image %r outside the package left out", self.book.package.path, src)
            return None
        if member not in self.book.package.names or Path(member).suffix.lower() not in IMAGE_SUFFIXES:
            return None
        return str(self.book.package.extract(member, self.folder))


def read_file(path: Path, defaults: Metadata) -> Publication:
    """Read an EPUB 2 or 3 into a Publication: one chapter per spine document that is not front
    or back matter, titled from the table of contents."""
    book = open_book(path)
    meta = read_metadata(book, defaults)
    titles, matter = toc_titles(book)
    images = _Images(book)
    cover = cover_member(book)
    if cover and cover in book.package.names:
        extracted = book.package.extract(cover, images.folder)
        svg = extracted.suffix.lower() == ".svg"
        problem = svg_problem(extracted.read_bytes()) if svg else image_problem(extracted)
        if problem is not None:  # an SVG cover only if self-contained (publisher.svg)
            log.warning("%s: its cover %r %s; a cover is made instead", path, cover, problem)
        meta = replace(meta, cover=None if problem else extracted)
    docs = spine(book)
    roots = {doc: plain_tree(book.package.xml(doc)) for doc in docs}
    notes = Notes()
    for doc, root in roots.items():
        notes.scan(root, doc, lambda base, href: _target(book, base, href))
    parts: list[tuple[str, list[Block]]] = []
    for n, (doc, root) in enumerate(roots.items(), start=1):
        images.doc = doc
        walker = Walker(doc, notes, images, lambda base, href: _target(book, base, href))
        body = next(root.iter("body"), None)
        for child in body if body is not None else []:
            walker.walk(child)
        if doc in matter or _is_matter(root) or _only_metadata(walker.blocks, meta):
            log.info("%s: %s is front or back matter; not narrated", path, doc)
            parts.append(("", [b for b in walker.blocks if b.kind == "note"]))
            continue
        parts.append((titles.get(doc) or f"Chapter {n}", walker.blocks))
    return assemble_parts(meta, parts, path, images.folder)


def _target(book: Book, base: str, href: str) -> str:
    """A link's target as "member#fragment" ("" for links out of the book)."""
    if not href or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href):
        return ""
    try:
        member = book.package.resolve(base, href)
    except SourceError:
        return ""
    return f"{member}#{href.split('#', 1)[1]}" if "#" in href else member
