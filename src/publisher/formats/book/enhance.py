"""The enhanced read-aloud EPUB: the input EPUB itself (its XHTML, CSS, fonts, images, nav, metadata;
an EPUB 2 made EPUB 3) with sentence spans, SMIL media overlays and the narration added."""

from __future__ import annotations

import logging
import posixpath
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from publisher.clock import full_clock
from publisher.errors import RenderError
from publisher.formats.book.overlays import OverlayClip, smil_document
from publisher.formats.book.phrasing import mark_sentences, unwrap_misplaced
from publisher.formats.book.upgrade import (
    html5_doctype,
    modern_hgroups,
    modernise_document,
    upgrade_package,
    xhtml_members,
)
from publisher.formats.context import RenderContext
from publisher.model import layout
from publisher.model.publication import Block, Sentence
from publisher.xmlns import DC, OPF, XHTML
from publisher.zipfiles import unsafe_member_name, zip_time

log = logging.getLogger(__name__)

ACTIVE_CLASS = "-epub-media-overlay-active"
FOLDER = "narration"  # where the added files go, beside the package document
CSS = f".{ACTIVE_CLASS} {{ background-color: #ffe066; color: #000; }}\n"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass
class _Doc:
    """One XHTML document of the book and the sentences narrated from it, in document order."""

    member: str
    root: etree._ElementTree
    ids: set[str]
    placed: list[tuple[str, Sentence]] = field(default_factory=list)  # (element id, sentence)
    smil: str = ""  # its overlay's member name, once written
    duration: float = 0.0  # the length of the clips its overlay plays


def write_enhanced(ctx: RenderContext) -> dict[str, Path]:
    """`<slug>-enhanced.epub`: an EPUB source kept as it is, narrated sentence by sentence (an
    EPUB 2 is made EPUB 3: nav added, NCX kept). Other sources, and publications without a
    read-aloud edition, get nothing."""
    source = ctx.pub.source
    if source.suffix.lower() != ".epub" or not ctx.settings.read_aloud:
        return {}
    with zipfile.ZipFile(source) as zin:
        opf_name = _opf_name(zin)
        opf = etree.fromstring(zin.read(opf_name), _PARSER)
        version = opf.get("version") or ""
        if not version.startswith(("2", "3")):
            log.warning("%s: EPUB version %r is not enhanced", source, version)
            return {}
        upgraded = upgrade_package(opf, opf_name, zin, ctx.modified) if version.startswith("2") else {}
        html5 = xhtml_members(opf, opf_name) if upgraded else set()
        docs = _place_sentences(zin, ctx)
        for doc in docs.values():
            modern_hgroups(doc.root.getroot())
        dest = ctx.folder / layout.file_name("enhanced_epub", ctx.slug)
        added = _added_files(ctx, docs, opf_name)
        _update_package(opf, opf_name, docs, added, ctx)
        _write(zin, dest, opf_name, opf, docs, {**added, **upgraded}, ctx.epoch, html5)
    return {"enhanced_epub": dest}


def _opf_name(zin: zipfile.ZipFile) -> str:
    container = etree.fromstring(zin.read("META-INF/container.xml"), _PARSER)
    names = container.xpath("//*[local-name()='rootfile']/@full-path")
    if not names:
        raise RenderError("the source EPUB names no package document", path=None)
    return str(names[0])


def _place_sentences(zin: zipfile.ZipFile, ctx: RenderContext) -> dict[str, _Doc]:
    """Wrap each narrated sentence of the book's own XHTML in a span (or use its element's id)."""
    docs: dict[str, _Doc] = {}
    by_block: dict[str, list[Block]] = {}
    for block in (b for c in ctx.pub.chapters for b in c.blocks):
        if block.origin and block.sentences and "#" in block.origin:
            by_block.setdefault(block.origin, []).append(block)
    targets: list[tuple[_Doc, etree._Element, list[Block]]] = []
    for origin, blocks in by_block.items():  # every element found before any is changed
        member, _, path = origin.partition("#")
        if member not in docs:
            try:
                root = etree.ElementTree(etree.fromstring(zin.read(member), _PARSER))
            except (etree.XMLSyntaxError, KeyError):
                log.warning("%s is not well-formed XML; its sentences are heard but not highlighted", member)
                continue
            ids = {str(i) for i in root.xpath("//@id")}
            docs[member] = _Doc(member, root, ids)
        doc = docs[member]
        el = _element(doc.root.getroot(), path)
        if el is None:
            log.warning("%s: %s not found; its sentences are heard but not highlighted", member, path)
            continue
        targets.append((doc, el, blocks))
    for doc, el, blocks in targets:
        for block in blocks:
            doc.placed.extend(_mark(el, block, doc.ids))
    for doc in docs.values():
        wrong = {str(s.get("id")) for s in unwrap_misplaced(doc.root.getroot(), {i for i, _ in doc.placed})}
        doc.placed = [p for p in doc.placed if p[0] not in wrong]
        order = {el.get("id"): n for n, el in enumerate(doc.root.iter()) if isinstance(el.tag, str) and el.get("id")}
        doc.placed.sort(key=lambda p: order.get(p[0], 0))
    return docs


def _element(root: etree._Element, path: str) -> etree._Element | None:
    node = root
    for step in filter(None, path.split("/")):
        children = list(node)
        if int(step) >= len(children):
            return None
        node = children[int(step)]
    return node


def _new_id(sentence: Sentence, ids: set[str]) -> str:
    """An id for a sentence that cannot clash with the book's own ids."""
    ident = f"narr-{sentence.id}"
    while ident in ids:
        ident += "-x"
    ids.add(ident)
    return ident


def _mark(el: etree._Element, block: Block, ids: set[str]) -> list[tuple[str, Sentence]]:
    """Ids for the sentences of `block`, whose element is `el`: spans around each sentence where
    the content model allows (phrasing.mark_sentences), or the element itself for what is heard
    as a whole (a heading, a table row, a caption, code)."""
    if block.kind in ("row", "table", "code") or block.kind == "heading":
        if not el.get("id"):
            el.set("id", _new_id(block.sentences[0], ids))
        return [(str(el.get("id")), s) for s in block.sentences]
    texts = [block.text[s.start : s.end] for s in block.sentences]
    placed = mark_sentences(el, texts, lambda n: _new_id(block.sentences[n], ids))
    return [(ident, block.sentences[n]) for ident, n in placed]


def _added_files(ctx: RenderContext, docs: dict[str, _Doc], opf_name: str) -> dict[str, bytes | Path]:
    """The narration's files, by member name: one SMIL per narrated document, the MP3s, the CSS."""
    base = posixpath.dirname(opf_name)
    folder = posixpath.join(base, FOLDER) if base else FOLDER
    audio = {a.chapter: posixpath.join(folder, "audio", a.path.name) for a in ctx.audio}
    where = {c.sentence_id: (t.index, c) for t in ctx.timeline.tracks for c in t.cues}
    added: dict[str, bytes | Path] = {posixpath.join(folder, "narration.css"): CSS.encode()}
    added.update({audio[a.chapter]: a.path for a in ctx.audio})
    for doc in docs.values():
        smil = posixpath.join(folder, posixpath.basename(doc.member).rsplit(".", 1)[0] + ".smil")
        clips = []
        for ident, sentence in doc.placed:
            if sentence.id in where:
                index, cue = where[sentence.id]
                href = posixpath.relpath(audio[index], folder)
                clips.append(OverlayClip(ident, href, cue.start, cue.end))
        if clips:
            overlay = smil_document(posixpath.relpath(doc.member, folder), clips, "bodymatter")
            added[smil] = overlay.smil
            doc.smil, doc.duration = smil, overlay.duration
    return added


def _update_package(
    opf: etree._Element, opf_name: str, docs: dict[str, _Doc], added: dict[str, bytes | Path], ctx: RenderContext
) -> None:
    """Manifest items for the new files, media-overlay on each narrated document, media:* and
    accessibility metadata merged into what the book declares (nothing it says is dropped)."""
    base = posixpath.dirname(opf_name)
    manifest = opf.find(f"{{{OPF}}}manifest")
    metadata = opf.find(f"{{{OPF}}}metadata")
    assert manifest is not None and metadata is not None
    items = {posixpath.normpath(posixpath.join(base, unquote(i.get("href") or ""))): i for i in manifest}
    types = {".mp3": "audio/mpeg", ".smil": "application/smil+xml", ".css": "text/css"}
    total = 0
    for n, name in enumerate(sorted(added), start=1):
        ident = f"narration-{n}"
        href = posixpath.relpath(name, base) if base else name
        media_type = types[posixpath.splitext(name)[1]]
        etree.SubElement(manifest, f"{{{OPF}}}item", {"id": ident, "href": href, "media-type": media_type})
        for doc in docs.values():
            if doc.smil == name and doc.member in items:
                items[doc.member].set("media-overlay", ident)
                _meta(metadata, "media:duration", full_clock(doc.duration, pad_hours=False), refines=f"#{ident}")
                total += round(doc.duration * 1000)
    _meta(metadata, "media:duration", full_clock(total / 1000, pad_hours=False))
    _meta(metadata, "media:narrator", ctx.timeline.narrator)
    _meta(metadata, "media:active-class", ACTIVE_CLASS)
    named = {(el.text or "").strip() for el in metadata.iter(f"{{{DC}}}contributor", f"{{{DC}}}creator")}
    if ctx.timeline.recorded and ctx.timeline.narrator not in named:  # a person's reading: credit its reader
        etree.SubElement(metadata, f"{{{DC}}}contributor", {"id": "publisher-narrator"}).text = ctx.timeline.narrator
        role = {"refines": "#publisher-narrator", "property": "role", "scheme": "marc:relators"}
        etree.SubElement(metadata, f"{{{OPF}}}meta", role).text = "nrt"
    declared = {(m.get("property"), (m.text or "").strip()) for m in metadata}
    for prop, value in (("schema:accessMode", "auditory"), ("schema:accessibilityFeature", "synchronizedAudioText")):
        if (prop, value) not in declared:
            _meta(metadata, prop, value)
    for meta in metadata.iter(f"{{{OPF}}}meta"):
        if meta.get("property") == "dcterms:modified":
            meta.text = ctx.modified


def _meta(metadata: etree._Element, prop: str, value: str, refines: str | None = None) -> None:
    attrib = {"property": prop, **({"refines": refines} if refines else {})}
    etree.SubElement(metadata, f"{{{OPF}}}meta", attrib).text = value


def _write(
    zin: zipfile.ZipFile,
    dest: Path,
    opf_name: str,
    opf: etree._Element,
    docs: dict[str, _Doc],
    added: dict[str, bytes | Path],
    epoch: int | None,
    html5: set[str],
) -> None:
    """The new package: mimetype first and stored, the book's members in their order, then the
    narration; documents in `html5` (an EPUB 2's) get the HTML5 doctype."""
    stamp = zip_time(epoch)
    css = next(n for n in added if n.endswith("narration.css"))
    css_href = {d.member: posixpath.relpath(css, posixpath.dirname(d.member) or ".") for d in docs.values()}
    stored = (".jpg", ".jpeg", ".png", ".mp3", ".woff", ".woff2")

    def put(zout: zipfile.ZipFile, name: str, data: bytes, stored: bool = False) -> None:
        info = zipfile.ZipInfo(name, date_time=stamp)
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        zout.writestr(info, data)

    try:
        with zipfile.ZipFile(dest, "w") as zout:
            put(zout, "mimetype", b"application/epub+zip", stored=True)
            for info in zin.infolist():
                name = info.filename
                if name == "mimetype":
                    continue
                unsafe = unsafe_member_name(name)
                if unsafe:  # the reader refuses such a package; it may have changed since
                    raise RenderError(f"the source EPUB's member {name[:100]!r} {unsafe}; nothing is copied", path=None)
                if name == opf_name:
                    data = etree.tostring(opf, xml_declaration=True, encoding="utf-8")
                elif name in docs:
                    data = _with_css(docs[name], css_href[name])
                elif name.lower().endswith((".xhtml", ".html", ".htm")):
                    data = modernise_document(zin.read(name))
                else:
                    data = zin.read(name)
                if name in html5:
                    data = html5_doctype(data)
                put(zout, name, data, stored=name.lower().endswith(stored))
            for name, content in sorted(added.items()):
                data = content.read_bytes() if isinstance(content, Path) else content
                put(zout, name, data, stored=name.endswith(".mp3"))
    except OSError as exc:
        raise RenderError(f"cannot write the enhanced EPUB: {exc.strerror or exc}", path=dest) from exc


def _with_css(doc: _Doc, href: str) -> bytes:
    head = doc.root.getroot().find(f"{{{XHTML}}}head")
    if head is not None:
        etree.SubElement(head, f"{{{XHTML}}}link", {"href": href, "rel": "stylesheet", "type": "text/css"})
    return etree.tostring(doc.root, xml_declaration=True, encoding="utf-8")
