"""DAISY 2.02 talking book (full text, full audio): ncc.html, one SMIL 1.0 per chapter, content.html, MP3s.

The book is written to `output/<slug>/daisy/` and zipped to `output/<slug>/<slug>-daisy.zip`
(the files at the zip's root). It is built from the same narration timeline as the read-aloud
EPUB: one `par` per sentence, and the clips of a chapter tile its MP3 from 0 to its end (each
sentence's clip runs until the next sentence starts, the first from 0, the last to the end of
the file), so SMIL durations, `ncc:totalTime` and the MP3s all add up.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from mutagen import MutagenError
from mutagen.mp3 import MP3

from publisher import __version__
from publisher.clock import full_clock, npt, timecount
from publisher.errors import RenderError
from publisher.formats.book.xhtml import EPUB_TYPE, fill_block, render_blocks
from publisher.formats.context import RenderContext
from publisher.formats.images import ImageCopies
from publisher.i18n import translator
from publisher.model import layout
from publisher.model.publication import Block, Publication, Run, Sentence
from publisher.text.clean import xml_safe
from publisher.xmlns import EPUB, XHTML, XML
from publisher.zipfiles import write_folder_zip

log = logging.getLogger(__name__)

DAISY_FORMAT = "Daisy 2.02"
GENERATOR = f"publisher {__version__}"
NCC_NAME = "ncc.html"
CONTENT_NAME = "content.html"
XHTML_DOCTYPE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">'
)
SMIL_DOCTYPE = '<!DOCTYPE smil PUBLIC "-//W3C//DTD SMIL 1.0//EN" "http://www.w3.org/TR/REC-smil/SMIL10.dtd">'


#: files the zip keeps as they are (already compressed)
#: characters XML 1.0 forbids: dropped from metadata rather than failing the whole publish
def mp3_ms(path: Path) -> int:
    """The playing time of an MP3 in whole milliseconds, rounded down (never past its real end)."""
    info = MP3(path).info
    return int(float(info.length) * 1000) if info is not None else 0


@dataclass(frozen=True)
class DaisyClip:
    """One sentence of a chapter's SMIL: where its text is and which stretch of the MP3 it plays."""

    sentence_id: str
    begin: int  # ms
    end: int  # ms

    @property
    def par_id(self) -> str:
        return f"p-{self.sentence_id}"


@dataclass(frozen=True)
class Heading:
    """One NCC entry: its level, its label and the par it starts at."""

    level: int
    label: str
    smil: str
    par_id: str
    is_title: bool = False


def _tile(sentence_ids: Sequence[str], starts: Sequence[float], duration_ms: int) -> list[DaisyClip]:
    """Clips that cover [0, duration) end to end: each sentence plays until the next one starts."""
    bounds = [0, *(round(s * 1000) for s in starts[1:]), duration_ms]
    for i in range(1, len(bounds)):  # a cue can never move backwards or past the end of the file
        bounds[i] = min(max(bounds[i], bounds[i - 1] + 1), duration_ms)
    return [DaisyClip(sid, bounds[i], bounds[i + 1]) for i, sid in enumerate(sentence_ids)]


def _chapter_clips(ctx: RenderContext, index: int, duration_ms: int) -> list[DaisyClip]:
    track = ctx.timeline.tracks[index - 1]
    if not track.cues:
        raise RenderError(f"chapter {index} has no narrated sentences; a DAISY book needs audio for each")
    ids = [cue.sentence_id for cue in track.cues]
    return _tile(ids, [cue.start for cue in track.cues], duration_ms)


def _front_in_chapter(pub: Publication, index: int) -> list[Block]:
    """The title-page blocks narrated at the start of chapter `index`'s audio (see narrate.script)."""
    return list(pub.front) if index == 1 and pub.has_title_page else []


def _headings(pub: Publication, smil_names: list[str], first_ids: list[str]) -> list[Heading]:
    """The NCC: the book's title (h1 class="title"), then every heading of every chapter, in order.

    Levels never skip (an h3 right after an h1 becomes an h2), as DAISY 2.02 requires.
    """
    out: list[Heading] = []
    for chapter, smil, first_id in zip(pub.chapters, smil_names, first_ids, strict=True):
        front = _front_in_chapter(pub, chapter.index)
        if front and front[0].sentences:
            out.append(Heading(1, pub.metadata.title, smil, f"p-{front[0].sentences[0].id}", is_title=True))
        found = False
        for block in chapter.blocks:
            if block.kind == "heading" and block.sentences:
                level = max(1, min(block.level, 6))
                out.append(Heading(level, block.text, smil, f"p-{block.sentences[0].id}"))
                found = True
        if not found:  # every SMIL must be reachable from the NCC
            out.append(Heading(1, chapter.title, smil, f"p-{first_id}"))
    if out and not out[0].is_title:
        first = out[0]
        out[0] = Heading(1, first.label, first.smil, first.par_id, is_title=True)
    previous = 0
    levelled = []
    for heading in out:
        level = min(heading.level, previous + 1)
        levelled.append(Heading(level, heading.label, heading.smil, heading.par_id, heading.is_title))
        previous = level
    return levelled


def _x(tag: str, attrib: dict[str, str] | None = None, text: str | None = None) -> etree._Element:
    el = etree.Element(f"{{{XHTML}}}{tag}", attrib or {})
    if text is not None:
        el.text = xml_safe(text)
    return el


def _sub(
    parent: etree._Element, tag: str, attrib: dict[str, str] | None = None, text: str | None = None
) -> etree._Element:
    el = _x(tag, attrib, text)
    parent.append(el)
    return el


def _html(language: str, title: str, metas: list[tuple[str, str]]) -> tuple[etree._Element, etree._Element]:
    """An XHTML 1.0 root with its head filled in; returns (html, body)."""
    html = etree.Element(f"{{{XHTML}}}html", nsmap={None: XHTML})
    html.set("lang", language)
    html.set(f"{{{XML}}}lang", language)
    head = _sub(html, "head")
    _sub(head, "meta", {"http-equiv": "Content-Type", "content": "text/html; charset=utf-8"})
    _sub(head, "title", text=title)
    for name, content in metas:
        _sub(head, "meta", {"name": name, "content": xml_safe(content)})
    body = _sub(html, "body")
    return html, body


def _serialise(root: etree._Element, doctype: str) -> bytes:
    body = etree.tostring(root, encoding="utf-8", doctype=doctype, pretty_print=True)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


#: XHTML5 elements render_blocks makes → their XHTML 1.0 stand-ins (a div or p with a class)
_XHTML1_TAGS = {"figure": "div", "aside": "div", "section": "div", "figcaption": "p"}


def _xhtml1(elements: list[etree._Element]) -> Iterator[etree._Element]:
    """render_blocks' XHTML5 → XHTML 1.0: <figure>, <aside>, <section> become <div class=…>,
    <figcaption> a <p class="figcaption">; no ARIA roles or labels, no epub:type."""
    for el in elements:
        for node in el.iter(*(f"{{{XHTML}}}{t}" for t in _XHTML1_TAGS)):
            name = etree.QName(node).localname
            kind = node.get(EPUB_TYPE) or name
            node.tag = f"{{{XHTML}}}{_XHTML1_TAGS[name]}"
            node.set("class", kind)
        for node in el.iter():
            for attr in [a for a in node.attrib if a in ("role", "aria-label") or a.startswith(f"{{{EPUB}}}")]:
                del node.attrib[attr]
        etree.cleanup_namespaces(el)
        yield el


def _number_headings(elements: list[etree._Element]) -> None:
    """Every heading gets an id (h-<its first sentence>), as DAISY text documents have."""
    for el in elements:
        for node in el.iter(*(f"{{{XHTML}}}h{n}" for n in range(1, 7))):
            span = node.find(f"{{{XHTML}}}span")
            if span is not None and span.get("id"):
                node.set("id", f"h-{span.get('id')}")


def _content_document(pub: Publication, folder: Path, metas: list[tuple[str, str]]) -> bytes:
    """content.html: the whole text (title page, chapters, closing words), a span per sentence."""
    html, body = _html(pub.metadata.language, pub.metadata.title, metas)
    images = ImageCopies(folder)
    if pub.has_title_page and pub.front:
        div = _sub(body, "div", {"class": "titlepage", "id": "titlepage"})
        for el in _xhtml1(render_blocks(pub.front, images.href)):
            div.append(el)
    for chapter in pub.chapters:
        div = _sub(body, "div", {"class": "chapter", "id": chapter.id})
        for el in _xhtml1(render_blocks(chapter.blocks, images.href)):
            div.append(el)
    if pub.closing:
        p = _sub(body, "p", {"class": "closing", "id": "closing"})
        fill_block(p, _closing_block(pub.closing))
    _number_headings(list(body))
    return _serialise(html, XHTML_DOCTYPE)


def _closing_block(sentences: Sequence[Sentence]) -> Block:
    """The closing words (heard at the end of the last chapter) as one paragraph, a span each."""
    placed, pos = [], 0
    for s in sentences:
        placed.append(Sentence(s.id, s.text, s.spoken, pos, pos + len(s.text)))
        pos += len(s.text) + 1
    return Block(kind="paragraph", runs=[Run(" ".join(s.text for s in sentences))], sentences=placed)


def _smil_document(
    ctx: RenderContext, title: str, clips: list[DaisyClip], audio_name: str, elapsed_ms: int, duration_ms: int
) -> bytes:
    """One chapter's SMIL 1.0 file: a seq of one par (text + audio clip) per sentence."""
    smil = etree.Element("smil")
    head = etree.SubElement(smil, "head")
    metas = [
        ("dc:format", DAISY_FORMAT),
        ("dc:identifier", ctx.identifier),
        ("dc:title", ctx.pub.metadata.title),
        ("ncc:generator", GENERATOR),
        ("ncc:timeInThisSmil", full_clock(duration_ms / 1000)),
        ("ncc:totalElapsedTime", full_clock(elapsed_ms / 1000)),
        ("title", title),
    ]
    for name, content in metas:
        etree.SubElement(head, "meta", {"name": name, "content": xml_safe(content)})
    layout = etree.SubElement(head, "layout")
    etree.SubElement(layout, "region", {"id": "txtView"})
    body = etree.SubElement(smil, "body")
    seq = etree.SubElement(body, "seq", {"dur": timecount(duration_ms / 1000)})
    for clip in clips:
        par = etree.SubElement(seq, "par", {"endsync": "last", "id": clip.par_id})
        etree.SubElement(par, "text", {"src": f"{CONTENT_NAME}#{clip.sentence_id}", "id": f"t-{clip.sentence_id}"})
        etree.SubElement(
            par,
            "audio",
            {
                "src": audio_name,
                "clip-begin": npt(clip.begin / 1000),
                "clip-end": npt(clip.end / 1000),
                "id": f"a-{clip.sentence_id}",
            },
        )
    return _serialise(smil, SMIL_DOCTYPE)


def _link_or_copy(source: Path, dest: Path) -> None:
    """Hard-link `source` to `dest` (no extra disk), or copy it where links are impossible."""
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)


def _book_metadata(ctx: RenderContext) -> tuple[list[tuple[str, str]], str]:
    """The Dublin Core part of the metadata, shared by the NCC and content.html; and the publisher."""
    meta = ctx.pub.metadata
    unknown = translator(meta.language).gettext("Unknown")
    authors = meta.authors or [unknown]
    publisher = meta.publisher or ", ".join(meta.authors) or unknown
    dc: list[tuple[str, str]] = [("dc:title", meta.title)]
    dc.extend(("dc:creator", author) for author in authors)
    dc += [
        ("dc:date", meta.date or ctx.modified[:10]),
        ("dc:format", DAISY_FORMAT),
        ("dc:identifier", ctx.identifier),
        ("dc:language", meta.language),
        ("dc:publisher", publisher),
    ]
    if meta.description:
        dc.append(("dc:description", meta.description))
    if meta.rights:
        dc.append(("dc:rights", meta.rights))
    dc.extend(("dc:subject", subject) for subject in meta.subjects)
    return dc, publisher


def _ncc_metadata(
    ctx: RenderContext, dc: list[tuple[str, str]], publisher: str, headings: list[Heading], files: int, total_ms: int
) -> list[tuple[str, str]]:
    """The NCC's metadata: the Dublin Core fields and every ncc: item DAISY 2.02 requires."""
    ncc_meta = [
        *dc,
        ("ncc:charset", "utf-8"),
        ("ncc:depth", str(max(h.level for h in headings))),
        ("ncc:files", str(files)),
        ("ncc:footnotes", "0"),
        ("ncc:generator", GENERATOR),
        ("ncc:maxPageNormal", "0"),
        ("ncc:multimediaType", "audioFullText"),
        ("ncc:narrator", ctx.timeline.narrator),
        ("ncc:pageFront", "0"),
        ("ncc:pageNormal", "0"),
        ("ncc:pageSpecial", "0"),
        ("ncc:prodNotes", "0"),
        ("ncc:producedDate", ctx.modified[:10]),
        ("ncc:setInfo", "1 of 1"),
        ("ncc:sidebars", "0"),
        ("ncc:sourcePublisher", publisher),
        ("ncc:tocItems", str(len(headings))),
        ("ncc:totalTime", full_clock(total_ms / 1000)),
    ]
    if ctx.pub.metadata.date:
        ncc_meta.append(("ncc:sourceDate", ctx.pub.metadata.date))
    return ncc_meta


def write_daisy(ctx: RenderContext) -> dict[str, Path]:
    """Write the DAISY 2.02 book into `ctx.folder / "daisy"` and its zip beside it."""
    if not ctx.settings.daisy:
        return {}
    pub = ctx.pub
    folder = ctx.folder / "daisy"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    width = max(2, len(str(len(pub.chapters))))
    names = [f"{chapter.index:0{width}d}" for chapter in pub.chapters]
    smil_names = [f"{n}.smil" for n in names]
    dc, publisher = _book_metadata(ctx)
    try:
        durations: list[int] = []
        for audio, name in zip(ctx.audio, names, strict=True):
            _link_or_copy(audio.path, folder / f"{name}.mp3")
            durations.append(mp3_ms(folder / f"{name}.mp3"))
        elapsed = 0
        first_ids: list[str] = []
        for chapter, name, smil_name, duration in zip(pub.chapters, names, smil_names, durations, strict=True):
            clips = _chapter_clips(ctx, chapter.index, duration)
            first_ids.append(clips[0].sentence_id)
            data = _smil_document(ctx, chapter.title, clips, f"{name}.mp3", elapsed, duration)
            (folder / smil_name).write_bytes(data)
            elapsed += duration
        content_metas = [
            ("dc:title", pub.metadata.title),
            ("dc:identifier", ctx.identifier),
            ("dc:format", DAISY_FORMAT),
            ("dc:language", pub.metadata.language),
            ("ncc:generator", GENERATOR),
        ]
        (folder / CONTENT_NAME).write_bytes(_content_document(pub, folder, content_metas))
        headings = _headings(pub, smil_names, first_ids)
        files = sum(1 for p in folder.rglob("*") if p.is_file()) + 1  # + the NCC itself
        ncc_meta = _ncc_metadata(ctx, dc, publisher, headings, files, sum(durations))
        html, body = _html(pub.metadata.language, pub.metadata.title, ncc_meta)
        for n, heading in enumerate(headings, start=1):
            attrib = {"class": "title", "id": f"nav{n}"} if heading.is_title else {"id": f"nav{n}"}
            h = _sub(body, f"h{heading.level}", attrib)
            _sub(h, "a", {"href": f"{heading.smil}#{heading.par_id}"}, text=heading.label)
        ncc = folder / NCC_NAME
        ncc.write_bytes(_serialise(html, XHTML_DOCTYPE))
        archive = ctx.folder / layout.file_name("daisy_zip", ctx.slug)
        write_folder_zip(folder, archive, ctx.epoch)
    except (OSError, MutagenError) as exc:
        raise RenderError(f"cannot write the DAISY book: {exc}", path=folder) from exc
    log.info("DAISY 2.02: %d SMIL files, %d NCC entries, %.3f s", len(smil_names), len(headings), sum(durations) / 1000)
    return {"daisy": ncc, "daisy_zip": archive}
