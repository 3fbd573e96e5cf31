"""EPUB 3 (with NCX for older readers) through ebooklib, from a Publication."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ebooklib import epub
from lxml import etree

from publisher import clock
from publisher.audio.place import encode_embedded_audio
from publisher.clock import full_clock
from publisher.errors import RenderError
from publisher.formats.book.overlays import clips_for, smil_document
from publisher.formats.book.xhtml import EPUB_TYPE, E, document, render_blocks, structure_roles
from publisher.formats.context import RenderContext
from publisher.formats.images import CopiedImage, ImageCopies
from publisher.formats.styles import STRUCTURE_CSS, has_structure
from publisher.i18n import translator
from publisher.model import layout
from publisher.model.publication import Cover, Publication
from publisher.model.timeline import Timeline
from publisher.text.languages import text_direction
from publisher.xmlns import NCX, XML
from publisher.zipfiles import StampedZip, zip_time

ACTIVE_CLASS = "-epub-media-overlay-active"

#: the books' style sheet (css/book.css), a package data file
CSS = resources.files("publisher.formats.book").joinpath("static/book.css").read_bytes().decode("utf-8")


def style_sheet(pub: Publication) -> str:
    """The book's CSS: the house style, plus table/note/definition styles when the book has them."""
    return CSS + STRUCTURE_CSS if has_structure(pub) else CSS


@dataclass(frozen=True)
class EpubResult:
    """What was written: the file and its identifier."""

    path: Path
    identifier: str


def _section(epub_type: str, role: str | None, *children: etree._Element, cls: str | None = None) -> etree._Element:
    attrib = {EPUB_TYPE: epub_type}
    if role:
        attrib["role"] = role
    if cls:
        attrib["class"] = cls
    return E("section", attrib, *children)


def _image_item(image: CopiedImage) -> epub.EpubItem:
    return epub.EpubItem(
        uid=f"img{image.number:03d}", file_name=image.name, media_type=image.media_type, content=image.data
    )


def _xhtml_item(uid: str, file_name: str, content: bytes) -> epub.EpubItem:
    return epub.EpubItem(uid=uid, file_name=file_name, media_type="application/xhtml+xml", content=content)


def _chapter_body(pub: Publication, index: int, images: ImageCopies) -> etree._Element:
    chapter = pub.chapters[index - 1]
    blocks = chapter.blocks
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
    _ = translator(pub.metadata.language).gettext
    toc_ol = E("ol")
    for chapter, href in zip(pub.chapters, chapter_files, strict=True):
        toc_ol.append(E("li", {}, E("a", {"href": href}, text=chapter.title)))
    toc = E(
        "nav",
        {EPUB_TYPE: "toc", "role": "doc-toc", "id": "toc"},
        E("h1", {}, text=_("Contents")),
        toc_ol,
    )
    marks = E("ol")
    marks.append(E("li", {}, E("a", {EPUB_TYPE: "cover", "href": "cover.xhtml"}, text=_("Cover"))))
    if has_title:
        marks.append(
            E(
                "li",
                {},
                E("a", {EPUB_TYPE: "titlepage", "href": "titlepage.xhtml"}, text=_("Title page")),
            )
        )
    marks.append(
        E(
            "li",
            {},
            E("a", {EPUB_TYPE: "bodymatter", "href": chapter_files[0]}, text=_("Start of content")),
        )
    )
    landmarks = E("nav", {EPUB_TYPE: "landmarks", "aria-label": _("Landmarks"), "hidden": "hidden"},
                  E("h2", {}, text=_("Landmarks")), marks)  # fmt: skip
    body = E("body", {}, toc, landmarks)
    pages = E("ol")
    for chapter, label, ident in pub.page_breaks():
        pages.append(E("li", {}, E("a", {"href": f"{chapter.id}.xhtml#{ident}"}, text=label)))
    if len(pages):  # the print edition's pages, in reading order
        attrib = {EPUB_TYPE: "page-list", "role": "doc-pagelist", "aria-label": _("Pages"), "hidden": "hidden"}
        body.append(E("nav", attrib, E("h2", {}, text=_("Pages")), pages))
    return document(_("Contents"), pub.metadata.language, body, "../css/book.css")


def _package(book: epub.EpubBook, dest: Path, epoch: int | None) -> None:
    """Write `book` with ebooklib's public writer, then copy its members in the same order into a
    reproducible zip (`zipfiles.StampedZip`: one timestamp, the book's dcterms:modified), adding what
    ebooklib leaves out: xml:lang on the package document and the NCX, and the NCX's true depth."""
    raw = dest.with_name(f".{dest.name}.ebooklib")
    modified = clock.modified_time(epoch)
    try:
        epub.write_epub(str(raw), book, {"mtime": modified, "epub3_pages": False, "raise_exceptions": True})
        with zipfile.ZipFile(raw) as source, StampedZip(dest, zip_time(round(modified.timestamp()))) as out:
            for info in source.infolist():
                data = source.read(info)
                if info.filename == "mimetype":
                    out.writestr("mimetype", data, compress_type=zipfile.ZIP_STORED)
                    continue
                if info.filename.endswith(".opf"):
                    data = _package_language(data, book.language)
                elif info.filename.endswith(".ncx"):
                    data = _ncx_language_and_depth(data, book.language)
                out.writestr(info.filename, data)
    finally:
        raw.unlink(missing_ok=True)


def _package_language(opf: bytes, language: str) -> bytes:
    """The package document with xml:lang as the root's last attribute, the rest byte for byte
    (a parse and re-serialisation would turn ebooklib's `<meta …></meta>` into `<meta …/>`)."""
    start = opf.index(b"<package ")
    end = opf.index(b">", start)
    return opf[:end] + f" xml:lang={_quoteattr(language)}".encode() + opf[end:]


def _quoteattr(value: str) -> str:
    """`value` as a quoted XML attribute value, exactly as xml.sax.saxutils.quoteattr writes it
    (which imports urllib.request, http.client and ssl with it: 20 ms of every publish)."""
    for char, entity in (
        ("&", "&amp;"),
        (">", "&gt;"),
        ("<", "&lt;"),
        ("\n", "&#10;"),
        ("\r", "&#13;"),
        ("\t", "&#9;"),
    ):
        value = value.replace(char, entity)
    if '"' not in value:
        return f'"{value}"'
    return f"'{value}'" if "'" not in value else '"{}"'.format(value.replace('"', "&quot;"))


def _ncx_language_and_depth(ncx: bytes, language: str) -> bytes:
    """The NCX with xml:lang and its true depth (one level of chapters; ebooklib writes a placeholder)."""
    root = etree.fromstring(ncx)
    root.set(f"{{{XML}}}lang", language)
    for meta in root.iter(f"{{{NCX}}}meta"):
        if meta.get("name") == "dtb:depth":
            meta.set("content", "1")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


@dataclass(frozen=True)
class ReadAloud:
    """What the read-aloud edition adds: the narration timeline and the MP3 of each track."""

    timeline: Timeline
    audio: dict[int, Path]  # track index → MP3 file to embed


def accessibility_metadata(
    pub: Publication, certifier: str, read_aloud: bool, recorded: bool = False
) -> list[tuple[str, str, str | None]]:
    """schema.org / EPUB Accessibility 1.1 properties that are true of this edition (`recorded`:
    its narration is a person's recording, not a synthetic voice).

    Returned as (property, value, id); ids let `a11y:certifiedBy` refine the conformance claim.
    """
    has_images = any(b.kind == "image" for c in pub.chapters for b in c.blocks)
    all_alt = all(b.alt for c in pub.chapters for b in c.blocks if b.kind == "image")
    features = ["structuralNavigation", "tableOfContents", "readingOrder"]
    if any(True for _ in pub.page_breaks()):
        features += ["pageBreakMarkers", "pageNavigation"]
    if has_images and all_alt:
        features.append("alternativeText")
    if read_aloud:
        features.append("synchronizedAudioText")
    props: list[tuple[str, str, str | None]] = [("schema:accessMode", "textual", None)]
    if has_images:
        props.append(("schema:accessMode", "visual", None))
    if read_aloud:
        props.append(("schema:accessMode", "auditory", None))
    props.append(("schema:accessModeSufficient", "textual", None))
    all_narrated = all(b.narrated for c in pub.chapters for b in c.blocks)
    if read_aloud and not has_images and all_narrated:  # every text is narrated, nothing only visual
        props.append(("schema:accessModeSufficient", "auditory", None))
    props += [("schema:accessibilityFeature", f, None) for f in features]
    props.append(("schema:accessibilityHazard", "none", None))
    summary = accessibility_summary(
        pub.metadata.language, "alternativeText" in features, read_aloud, all_narrated, recorded
    )
    props.append(("schema:accessibilitySummary", summary, None))
    if "pageNavigation" in features:  # where the page numbers come from (EPUB Accessibility 1.1 §5.2)
        props.append(("pageBreakSource", pub.metadata.page_source or pub.metadata.identifier or "none", None))
    props.append(("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.2 Level AA", "conformance"))
    props.append(("a11y:certifiedBy", certifier, None))
    return props


def accessibility_summary(
    language: str, alternative_text: bool, read_aloud: bool, all_narrated: bool = True, recorded: bool = False
) -> str:
    """The schema:accessibilitySummary of an edition, in the publication's language; `recorded`:
    read by a person (a recording aligned with the text), never said to be a synthetic voice."""
    _ = translator(language).gettext
    if alternative_text:
        words = [
            _(
                "This publication meets WCAG 2.2 Level AA. It has a navigable table of contents, headings in "
                "order, a defined reading order, the language set on every document, and text alternatives "
                "for its images."
            )
        ]
    else:
        words = [
            _(
                "This publication meets WCAG 2.2 Level AA. It has a navigable table of contents, headings in "
                "order, a defined reading order and the language set on every document."
            )
        ]
    if read_aloud and recorded:
        words.append(
            _(
                "Every sentence is read aloud by a human narrator, from a recording aligned with the text, and "
                "highlighted while it is read (media overlays)."
            )
            if all_narrated
            else _(
                "Its text, except the notes, is read aloud by a human narrator, from a recording aligned with "
                "the text, and highlighted while it is read."
            )
        )
    elif read_aloud and all_narrated:
        words.append(
            _(
                "Every sentence, headings included, is narrated by a synthetic voice and highlighted while it "
                "is read (media overlays)."
            )
        )
    elif read_aloud:
        words.append(
            _("Its text, except the notes, is narrated by a synthetic voice and highlighted while it is read.")
        )
    words.append(_("It has no flashing, motion or sound hazards."))
    return ("" if translator(language).language in ("ja", "zh") else " ").join(words)


def _add_meta(book: epub.EpubBook, prop: str, value: str, ident: str | None = None, refines: str | None = None) -> None:
    attrs = {"property": prop}
    if ident:
        attrs["id"] = ident
    if refines:
        attrs["refines"] = refines
    book.add_metadata(None, "meta", value, attrs)


def _add_metadata(
    book: epub.EpubBook, pub: Publication, book_id: str, certifier: str | None, narrated: bool, recorded: bool = False
) -> None:
    """Identifier, title, language and direction, creators, Dublin Core fields, accessibility."""
    meta = pub.metadata
    book.set_identifier(book_id)
    book.set_title(meta.title)
    book.set_language(meta.language)
    if text_direction(meta.language) == "rtl":
        book.set_direction("rtl")  # spine page-progression-direction
    for n, author in enumerate(meta.authors, start=1):
        book.add_author(author, role="aut", uid=f"creator{n}")
    dc_fields = {"date": meta.date, "description": meta.description, "publisher": meta.publisher, "rights": meta.rights}
    for name, value in dc_fields.items():
        if value:
            book.add_metadata("DC", name, value)
    for subject in meta.subjects:
        book.add_metadata("DC", "subject", subject)
    _add_contributors_and_series(book, pub)
    certified_by = certifier or meta.publisher or (meta.authors[0] if meta.authors else meta.title)
    for prop, value, ident in accessibility_metadata(pub, certified_by, narrated, recorded):
        _add_meta(book, prop, value, ident, "#conformance" if prop == "a11y:certifiedBy" else None)


def _cover_page(book: epub.EpubBook, cover: Cover, title: str, lang: str) -> epub.EpubItem:
    """The cover image (marked cover-image) and the page that shows it, with its alt text."""
    cover_name = "images/cover.svg" if cover.svg else f"images/cover.{cover.extension}"
    book.set_cover(cover_name, cover.svg or cover.data, create_page=False)
    cover_img = E("img", {"src": f"../{cover_name}", "alt": cover.alt, "role": "doc-cover"})
    cover_body = E("body", {}, _section("cover", None, cover_img, cls="cover"))
    cover_page = _xhtml_item("cover", "text/cover.xhtml", document(title, lang, cover_body, "../css/book.css"))
    book.add_item(cover_page)
    return cover_page


def _add_contributors_and_series(book: epub.EpubBook, pub: Publication) -> None:
    """Contributors with their MARC roles and the series (an input EPUB's), as EPUB 3 declares them."""
    meta = pub.metadata
    for n, (name, role) in enumerate(meta.contributors, start=1):
        book.add_metadata("DC", "contributor", name, {"id": f"contributor{n}"})
        attrs = {"refines": f"#contributor{n}", "property": "role", "scheme": "marc:relators"}
        book.add_metadata(None, "meta", role, attrs)
    if meta.series:
        _add_meta(book, "belongs-to-collection", meta.series, "series")
        _add_meta(book, "collection-type", "series", refines="#series")
        if meta.series_position:
            _add_meta(book, "group-position", meta.series_position, refines="#series")


def write_epub(
    pub: Publication,
    cover: Cover,
    dest: Path,
    epoch: int | None = None,
    certifier: str | None = None,
    read_aloud: ReadAloud | None = None,
) -> EpubResult:
    """Write `pub` to `dest`: the text edition, or with `read_aloud` the narrated edition."""
    meta = pub.metadata
    lang = meta.language
    book = epub.EpubBook()
    book_id = meta.identifier
    assert book_id is not None, "the prepare stage gives every publication its identifier"
    recorded = read_aloud is not None and read_aloud.timeline.recorded
    _add_metadata(book, pub, book_id, certifier, read_aloud is not None, recorded)
    book.add_item(
        epub.EpubItem(uid="css", file_name="css/book.css", media_type="text/css", content=style_sheet(pub).encode())
    )
    spine: list[epub.EpubItem | str] = [_cover_page(book, cover, meta.title, lang)]

    images = ImageCopies(prefix="../")
    narrated: list[tuple[epub.EpubItem, list[str], str]] = []  # (document, sentence ids, epub:type)
    if pub.has_title_page:
        title_page = _title_page(pub, images)
        book.add_item(title_page)
        spine.append(title_page)
        narrated.append((title_page, [s.id for b in pub.front for s in b.sentences], "titlepage"))

    chapter_files: list[str] = []
    toc: list[epub.Link] = []
    for chapter in pub.chapters:
        name = f"text/{chapter.id}.xhtml"
        body = _chapter_body(pub, chapter.index, images)
        item = _xhtml_item(chapter.id, name, document(chapter.title, lang, body, "../css/book.css"))
        book.add_item(item)
        spine.append(item)
        chapter_files.append(f"{chapter.id}.xhtml")
        toc.append(epub.Link(name, chapter.title, chapter.id))
        narrated.append((item, [s.id for s in chapter.sentences()], "bodymatter chapter"))
    for image in images:
        book.add_item(_image_item(image))

    if read_aloud is not None:
        roles = structure_roles([b for c in pub.chapters for b in c.blocks])
        _add_overlays(book, narrated, read_aloud, roles)

    nav_content = _nav_document(pub, chapter_files, pub.has_title_page)
    nav = epub.EpubItem(uid="nav", file_name="text/nav.xhtml", media_type="application/xhtml+xml", content=nav_content)
    nav.properties = ["nav"]
    book.add_item(nav)
    book.add_item(epub.EpubNcx())
    book.toc = toc
    book.spine = spine
    try:
        _package(book, dest, epoch)
    except OSError as exc:
        raise RenderError(f"cannot write the EPUB: {exc.strerror or exc}", path=dest) from exc
    return EpubResult(dest, book_id)


def _title_page(pub: Publication, images: ImageCopies) -> epub.EpubItem:
    """The title page document (title, byline, date, narrator credit)."""
    section = _section("titlepage", None, *render_blocks(pub.front, images.href), cls="titlepage")
    body = E("body", {}, section)
    return _xhtml_item(
        "titlepage",
        "text/titlepage.xhtml",
        document(pub.metadata.title, pub.metadata.language, body, "../css/book.css"),
    )


def _add_overlays(
    book: epub.EpubBook,
    narrated: list[tuple[epub.EpubItem, list[str], str]],
    read_aloud: ReadAloud,
    roles: dict[str, tuple[str, str, str]],
) -> None:
    """Embed the audio and one SMIL per narrated document; media:* metadata with durations."""
    audio_hrefs: dict[int, str] = {}
    for index, path in sorted(read_aloud.audio.items()):
        name = f"audio/{path.name}"
        book.add_item(
            epub.EpubItem(uid=f"audio{index:02d}", file_name=name, media_type="audio/mpeg", content=path.read_bytes())
        )
        audio_hrefs[index] = f"../{name}"
    total_ms = 0
    for item, sentence_ids, epub_type in narrated:
        clips = clips_for(sentence_ids, read_aloud.timeline, audio_hrefs)
        overlay = smil_document(f"../{item.file_name}", clips, epub_type, roles)
        smil_id = f"mo-{item.id}"
        smil_name = f"smil/{item.id}.smil"
        book.add_item(
            epub.EpubItem(uid=smil_id, file_name=smil_name, media_type="application/smil+xml", content=overlay.smil)
        )
        item.media_overlay = smil_id
        ms = round(overlay.duration * 1000)
        total_ms += ms
        _add_meta(book, "media:duration", full_clock(ms / 1000, pad_hours=False), refines=f"#{smil_id}")
    _add_meta(book, "media:duration", full_clock(total_ms / 1000, pad_hours=False))
    _add_meta(book, "media:narrator", read_aloud.timeline.narrator)
    _add_meta(book, "media:active-class", ACTIVE_CLASS)


def write_text_epub(ctx: RenderContext) -> dict[str, Path]:
    """The EPUB 3 text edition."""
    path = ctx.folder / layout.file_name("epub", ctx.slug)
    write_epub(ctx.pub, ctx.cover, path, ctx.epoch, certifier=ctx.settings.publisher)
    return {"epub": path}


def write_read_aloud_epub(ctx: RenderContext) -> dict[str, Path]:
    """The EPUB 3 with the narration: the chapter MP3s (or smaller copies, with
    `read_aloud_bitrate`) and media overlays."""
    if not ctx.settings.read_aloud:
        return {}
    embedded = {a.chapter: a.path for a in ctx.audio}
    if ctx.settings.read_aloud_bitrate:
        embedded = encode_embedded_audio(ctx.placed, ctx.encoded, ctx.work / "embedded", ctx.settings)
    path = ctx.folder / layout.file_name("read_aloud_epub", ctx.slug)
    write_epub(ctx.pub, ctx.cover, path, ctx.epoch, ctx.settings.publisher, ReadAloud(ctx.timeline, embedded))
    return {"read_aloud_epub": path}
