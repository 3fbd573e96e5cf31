"""Checks of an EPUB's media overlays that no validator does: every narrated document fully covered
by `par`s, every clip inside its audio, and the declared durations adding up to the clips'."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath

from lxml import etree

from publisher.clock import parse_clock
from publisher.validate.audio import CLIP_TOLERANCE, mp3_length
from publisher.validate.report import Report
from publisher.xmlns import NS

#: blocks that show text: headings, paragraphs, list items, table cells, captions, pre
TEXT_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "figcaption", "td", "th", "dt", "dd")


def _resolve(base: str, href: str) -> str:
    """The zip member `href` names, relative to the member `base` (its fragment dropped)."""
    parts: list[str] = []
    for part in (PurePosixPath(base).parent / href.split("#")[0]).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _text_blocks(doc: etree._Element) -> Iterator[etree._Element]:
    """Blocks that show text (TEXT_BLOCKS), innermost only: a list item holding paragraphs is not one."""
    containers = {f"{{{NS['x']}}}{t}" for t in ("p", "ul", "ol")}
    for el in doc.iter(*(f"{{{NS['x']}}}{t}" for t in TEXT_BLOCKS)):
        if "".join(el.itertext()).strip() and not any(child.tag in containers for child in el):
            yield el


def _snippet(el: etree._Element) -> str:
    return " ".join("".join(el.itertext()).split())[:50]


@dataclass
class _Book:
    """An EPUB opened for the overlay checks: its package document and what it declares."""

    zf: zipfile.ZipFile
    opf_name: str
    opf: etree._Element
    messages: list[str] = field(default_factory=list)
    audio_length: dict[str, float] = field(default_factory=dict)  # member → seconds

    @classmethod
    def open(cls, zf: zipfile.ZipFile) -> _Book:
        container = etree.fromstring(zf.read("META-INF/container.xml"))
        opf_name = str(container.xpath("//*[local-name()='rootfile']/@full-path")[0])
        return cls(zf, opf_name, etree.fromstring(zf.read(opf_name)))

    def xml(self, name: str) -> etree._Element:
        return etree.fromstring(self.zf.read(name))

    @cached_property
    def durations(self) -> dict[str, float]:
        """media:duration per overlay id ("" for the whole publication)."""
        found = {}
        for meta in self.opf.xpath("//opf:meta[@property='media:duration']", namespaces=NS):
            found[meta.get("refines", "").lstrip("#")] = parse_clock(meta.text or "0")
        return found

    def length(self, name: str) -> float:
        if name not in self.audio_length:
            self.audio_length[name] = mp3_length(self.zf.read(name))
        return self.audio_length[name]


def _check_clips(book: _Book, smil_name: str) -> tuple[set[str], float]:
    """Every `par` of one SMIL has a text and a clip inside its audio; returns the ids its texts
    point at and the clips' total length (each end rounded to the millisecond, as written)."""
    smil = book.xml(smil_name)
    referenced: set[str] = set()
    clip_total = 0.0
    for par in smil.iter(f"{{{NS['s']}}}par"):
        text = par.find("s:text", NS)
        audio = par.find("s:audio", NS)
        if text is None or audio is None:
            book.messages.append(f"{smil_name}: par {par.get('id')} lacks text or audio")
            continue
        referenced.add(text.get("src", "").split("#")[-1])
        audio_name = _resolve(smil_name, audio.get("src", ""))
        length = book.length(audio_name)
        begin, end = parse_clock(audio.get("clipBegin", "0")), parse_clock(audio.get("clipEnd", "0"))
        clip_total += round(end * 1000) / 1000 - round(begin * 1000) / 1000
        if not 0 <= begin < end <= length + CLIP_TOLERANCE:
            book.messages.append(
                f"{smil_name}: par {par.get('id')} clip {begin:.3f}–{end:.3f} s lies outside "
                f"{audio_name} ({length:.3f} s)"
            )
    return referenced, clip_total


_NOTE_TYPES = {"footnote", "endnote", "endnotes", "rearnote", "note"}


def _skippable(block: etree._Element, referenced: set[str]) -> bool:
    """A block heard as part of a narrated ancestor (a table row's cells), or a note left unread
    on purpose (`notes = "none"`): reading systems let listeners skip notes anyway."""
    for el in block.iterancestors():
        if el.get("id") in referenced:
            return True
        types = set((el.get(f"{{{NS['epub']}}}type") or "").split())
        if types & _NOTE_TYPES and not any(s.get("id") in referenced for s in el.iter(f"{{{NS['x']}}}span")):
            return True
    return False


def _page_break(el: etree._Element) -> bool:
    """A print page-break marker: shows where a page starts, is never read."""
    types = set((el.get(f"{{{NS['epub']}}}type") or "").split()) | set((el.get("role") or "").split())
    return bool(types & {"pagebreak", "doc-pagebreak"})


def _check_narrated(book: _Book, doc_name: str, blocks: list[etree._Element], referenced: set[str]) -> None:
    """Every sentence span (or, in a block without spans, the block) is the text of some `par`."""
    for block in blocks:
        spans = [el for el in block.iter(f"{{{NS['x']}}}span") if el.get("id") and not _page_break(el)]
        if _skippable(block, referenced):
            continue
        if not spans and block.get("id") not in referenced:
            book.messages.append(f"{doc_name}: text block not narrated: {_snippet(block)!r}")
        for span in spans:
            if span.get("id") not in referenced:
                book.messages.append(f"{doc_name}: sentence #{span.get('id')} not narrated: {_snippet(span)!r}")


def _check_document(book: _Book, item: etree._Element, items: dict[str, etree._Element]) -> bool:
    """One spine document: overlaid when it has text, its overlay complete; True when narrated."""
    doc_name = _resolve(book.opf_name, item.get("href", ""))
    blocks = list(_text_blocks(book.xml(doc_name)))
    overlay_id = item.get("media-overlay")
    if overlay_id is None:
        if blocks:
            book.messages.append(f"{doc_name}: has text but no media overlay")
        return False
    smil_name = _resolve(book.opf_name, items[overlay_id].get("href", ""))
    referenced, clip_total = _check_clips(book, smil_name)
    _check_narrated(book, doc_name, blocks, referenced)
    declared = book.durations.get(overlay_id)
    if declared is None:
        book.messages.append(f"{smil_name}: no media:duration refines #{overlay_id}")
    elif abs(declared - clip_total) > 0.01:
        book.messages.append(f"{smil_name}: media:duration {declared:.3f} s ≠ clips' {clip_total:.3f} s")
    return True


def _check_package_metadata(book: _Book) -> None:
    """The total media:duration is the overlays' sum; media:active-class and media:narrator are there."""
    durations = book.durations
    per_overlay = sum(v for k, v in durations.items() if k)
    if "" not in durations:
        book.messages.append("no total media:duration in the package")
    elif abs(durations[""] - per_overlay) > 1.0:
        book.messages.append(f"total media:duration {durations['']:.3f} s ≠ sum of overlays {per_overlay:.3f} s")
    if not book.opf.xpath("//opf:meta[@property='media:active-class']", namespaces=NS):
        book.messages.append("no media:active-class")
    if not book.opf.xpath("//opf:meta[@property='media:narrator']", namespaces=NS):
        book.messages.append("no media:narrator")


def check_overlays(epub_path: Path) -> Report:
    """Every narrated document fully covered by `par`s; clips inside their audio; durations add up."""
    with zipfile.ZipFile(epub_path) as zf:
        book = _Book.open(zf)
        items = {str(i.get("id")): i for i in book.opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
        narrated = 0
        for idref in book.opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=NS):
            narrated += _check_document(book, items[str(idref)], items)
        _check_package_metadata(book)
    summary = f"media overlays: {narrated} narrated documents, {len(book.messages)} problems"
    return Report(epub_path, "overlays", not book.messages, summary, book.messages)
