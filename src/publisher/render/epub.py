"""EPUB 3 (with NCX for older readers) through ebooklib, from a Publication."""

from __future__ import annotations

import datetime as _dt
import mimetypes
import uuid
from dataclasses import dataclass
from pathlib import Path

from ebooklib import epub
from lxml import etree

from publisher.errors import RenderError
from publisher.model import Block, Publication
from publisher.render.cover import Cover
from publisher.render.xhtml import EPUB_TYPE, E, document, render_blocks

CSS = """\
html { font-family: serif; line-height: 1.5; }
body { margin: 0 5%; }
h1, h2, h3, h4, h5, h6 { font-family: sans-serif; line-height: 1.25; hyphens: none; }
h1 { font-size: 1.6em; margin: 1.5em 0 1em; }
p { margin: 0 0 0.9em; text-align: start; }
p.byline { font-family: sans-serif; margin: 0.2em 0; }
p.byline.narrator { font-style: italic; }
header, section.titlepage { margin: 2em 0; }
section.titlepage h1 { font-size: 2em; }
blockquote { margin: 1em 2em; font-style: italic; }
pre { white-space: pre-wrap; font-size: 0.9em; }
figure { margin: 1em 0; text-align: center; }
figure img, section.cover img { max-width: 100%; max-height: 95vh; }
section.cover { text-align: center; margin: 0; }
nav ol { list-style: none; padding-left: 1em; }
.-epub-media-overlay-active, .read-aloud-active { background-color: #ffe066; color: #000; }
"""


@dataclass(frozen=True)
class EpubResult:
    """What was written: the file and its identifier."""

    path: Path
    identifier: str


def publication_uuid(pub: Publication) -> str:
    """A deterministic UUID for the publication: the same source identity gives the same UUID.

    It is derived from the slug, title and authors (not the text), so fixing a typo keeps the
    book's identity; set `identifier` in front matter to pin it explicitly.
    """
    identity = "\x1f".join([pub.slug, pub.metadata.title.casefold(), *map(str.casefold, pub.metadata.authors)])
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"publisher:{identity}"))


def identifier(pub: Publication) -> str:
    """The dc:identifier: front matter's, or urn:uuid:<deterministic UUID>."""
    if pub.metadata.identifier:
        return pub.metadata.identifier
    return f"urn:uuid:{publication_uuid(pub)}"


def modified_time(epoch: int | None) -> _dt.datetime:
    """dcterms:modified: SOURCE_DATE_EPOCH when set (reproducible), else now; in UTC."""
    if epoch is not None:
        return _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc)
    return _dt.datetime.now(tz=_dt.timezone.utc).replace(microsecond=0)


def _section(epub_type: str, role: str | None, *children: etree._Element, cls: str | None = None) -> etree._Element:
    attrib = {EPUB_TYPE: epub_type}
    if role:
        attrib["role"] = role
    if cls:
        attrib["class"] = cls
    return E("section", attrib, *children)


class _Images:
    """Source images copied into the book under images/."""

    def __init__(self) -> None:
        self.items: dict[str, epub.EpubItem] = {}

    def href(self, src: str) -> str:
        if src not in self.items:
            path = Path(src)
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            name = f"images/img-{len(self.items) + 1:03d}{path.suffix.lower()}"
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise RenderError(f"cannot read image: {exc.strerror or exc}", path=path) from exc
            self.items[src] = epub.EpubItem(
                uid=f"img{len(self.items) + 1:03d}",
                file_name=name,
                media_type=media_type,
                content=content,
            )
        return "../" + self.items[src].file_name


def _xhtml_item(uid: str, file_name: str, content: bytes) -> epub.EpubItem:
    return epub.EpubItem(uid=uid, file_name=file_name, media_type="application/xhtml+xml", content=content)


def _chapter_body(pub: Publication, index: int, images: _Images) -> etree._Element:
    chapter = pub.chapters[index - 1]
    blocks: list[Block] = chapter.blocks
    children: list[etree._Element] = []
    if index == 1 and not pub.has_title_page:  # an article: the title page is its header
        n_front = len(pub.front)
        header = E("header", {}, *render_blocks(blocks[:n_front], images.href))
        children.append(header)
        blocks = blocks[n_front:]
        heading_id = pub.front[0].sentences[0].id if pub.front and pub.front[0].sentences else None
    else:
        heading_id = blocks[0].sentences[0].id if blocks and blocks[0].sentences else None
    children.extend(render_blocks(blocks, images.href))
    section = _section("chapter", "doc-chapter", *children)
    if heading_id:
        section.set("aria-labelledby", heading_id)
    return E("body", {}, section)


def _nav_document(pub: Publication, chapter_files: list[str], has_title: bool) -> bytes:
    toc_ol = E("ol")
    for chapter, href in zip(pub.chapters, chapter_files, strict=True):
        toc_ol.append(E("li", {}, E("a", {"href": href}, text=chapter.title)))
    toc = E(
        "nav",
        {EPUB_TYPE: "toc", "role": "doc-toc", "id": "toc"},
        E("h1", {}, text="Contents"),
        toc_ol,
    )
    marks = E("ol")
    marks.append(E("li", {}, E("a", {EPUB_TYPE: "cover", "href": "cover.xhtml"}, text="Cover")))
    if has_title:
        marks.append(
            E(
                "li",
                {},
                E("a", {EPUB_TYPE: "titlepage", "href": "titlepage.xhtml"}, text="Title page"),
            )
        )
    marks.append(
        E(
            "li",
            {},
            E("a", {EPUB_TYPE: "bodymatter", "href": chapter_files[0]}, text="Start of content"),
        )
    )
    landmarks = E("nav", {EPUB_TYPE: "landmarks", "aria-label": "Landmarks", "hidden": "hidden"},
                  E("h2", {}, text="Landmarks"), marks)  # fmt: skip
    body = E("body", {}, toc, landmarks)
    return document("Contents", pub.metadata.language, body, "../css/book.css")


def accessibility_metadata(pub: Publication) -> list[tuple[str, str]]:
    """schema.org accessibility properties that are true of this text edition."""
    has_images = any(b.kind == "image" for c in pub.chapters for b in c.blocks)
    all_alt = all(b.alt for c in pub.chapters for b in c.blocks if b.kind == "image")
    features = ["structuralNavigation", "tableOfContents", "readingOrder"]
    if has_images and all_alt:
        features.append("alternativeText")
    props = [("schema:accessMode", "textual")]
    if has_images:
        props.append(("schema:accessMode", "visual"))
    props.append(("schema:accessModeSufficient", "textual"))
    props += [("schema:accessibilityFeature", f) for f in features]
    props.append(("schema:accessibilityHazard", "none"))
    summary = (
        "This publication has a navigable table of contents, headings in order, a defined reading "
        "order and language on every document"
        + (", and text alternatives for its images" if "alternativeText" in features else "")
        + ". It contains no flashing, motion or sound hazards."
    )
    props.append(("schema:accessibilitySummary", summary))
    return props


def write_epub(pub: Publication, cover: Cover, dest: Path, epoch: int | None = None) -> EpubResult:
    """Write the text edition of `pub` to `dest` (an .epub path)."""
    meta = pub.metadata
    lang = meta.language
    book = epub.EpubBook()
    book_id = identifier(pub)
    book.set_identifier(book_id)
    book.set_title(meta.title)
    book.set_language(lang)
    for n, author in enumerate(meta.authors, start=1):
        book.add_author(author, role="aut", uid=f"creator{n}")
    if meta.date:
        book.add_metadata("DC", "date", meta.date)
    if meta.description:
        book.add_metadata("DC", "description", meta.description)
    if meta.publisher:
        book.add_metadata("DC", "publisher", meta.publisher)
    if meta.rights:
        book.add_metadata("DC", "rights", meta.rights)
    for subject in meta.subjects:
        book.add_metadata("DC", "subject", subject)
    for prop, value in accessibility_metadata(pub):
        book.add_metadata(None, "meta", value, {"property": prop})

    css = epub.EpubItem(uid="css", file_name="css/book.css", media_type="text/css", content=CSS.encode())
    book.add_item(css)
    cover_name = f"images/cover.{cover.extension}"
    book.set_cover(cover_name, cover.data, create_page=False)
    cover_img = E("img", {"src": f"../{cover_name}", "alt": cover.alt, "role": "doc-cover"})
    cover_body = E("body", {}, _section("cover", None, cover_img, cls="cover"))
    cover_page = _xhtml_item("cover", "text/cover.xhtml", document(meta.title, lang, cover_body, "../css/book.css"))
    book.add_item(cover_page)
    spine: list[epub.EpubItem | str] = [cover_page]

    images = _Images()
    if pub.has_title_page:
        title_body = E(
            "body",
            {},
            _section("titlepage", None, *render_blocks(pub.front, images.href), cls="titlepage"),
        )
        title_page = _xhtml_item(
            "titlepage",
            "text/titlepage.xhtml",
            document(meta.title, lang, title_body, "../css/book.css"),
        )
        book.add_item(title_page)
        spine.append(title_page)

    chapter_files: list[str] = []
    toc: list[epub.Link] = []
    for chapter in pub.chapters:
        name = f"text/{chapter.id}.xhtml"
        item = _xhtml_item(
            chapter.id,
            name,
            document(chapter.title, lang, _chapter_body(pub, chapter.index, images), "../css/book.css"),
        )
        book.add_item(item)
        spine.append(item)
        chapter_files.append(f"{chapter.id}.xhtml")
        toc.append(epub.Link(name, chapter.title, chapter.id))
    for image in images.items.values():
        book.add_item(image)

    nav = epub.EpubItem(uid="nav", file_name="text/nav.xhtml", media_type="application/xhtml+xml",
                        content=_nav_document(pub, chapter_files, pub.has_title_page))  # fmt: skip
    nav.properties = ["nav"]
    book.add_item(nav)
    book.add_item(epub.EpubNcx())
    book.toc = toc
    book.spine = spine
    try:
        epub.write_epub(str(dest), book, {"mtime": modified_time(epoch), "epub3_pages": False})
    except OSError as exc:
        raise RenderError(f"cannot write the EPUB: {exc.strerror or exc}", path=dest) from exc
    return EpubResult(dest, book_id)
