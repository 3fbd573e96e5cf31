"""Audiobook packages of the chapter MP3s: Readium (`<slug>.audiobook`) and W3C Audiobooks in LPF (`<slug>.lpf`).

- `.audiobook`: a Readium Packaging Format zip (media type `application/audiobook+zip`) with a
  Readium Web Publication Manifest `manifest.json` conforming to the audiobook profile
  (https://readium.org/webpub-manifest/profiles/audiobook), the chapter MP3s and the cover.
- `.lpf`: a W3C Lightweight Packaging Format zip (`application/lpf+zip`) with a W3C Audiobooks
  manifest `publication.json` (https://www.w3.org/TR/audiobooks/), the MP3s, the cover and an HTML
  table of contents (`toc.html`, a `role="doc-toc"` nav) that the manifest names with rel "contents".

Both list the chapter MP3s in reading order with their real durations (read from the files) and a
table of contents: one entry per chapter, or for a one-chapter article one per paragraph mark, as a
media fragment (`audio/01-….mp3#t=12.34`). The zips are reproducible: sorted entries, one timestamp
(SOURCE_DATE_EPOCH, else 1980-01-01), audio and images stored, JSON and HTML deflated.
"""

from __future__ import annotations

import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from lxml.builder import E
from mutagen.mp3 import MP3
from PIL import Image

from publisher.clock import iso_duration, seconds_text
from publisher.errors import RenderError
from publisher.formats.context import RenderContext
from publisher.i18n import translator
from publisher.model import layout
from publisher.text.languages import text_direction
from publisher.zipfiles import write_zip

log = logging.getLogger(__name__)

READIUM_CONTEXT = "https://readium.org/webpub-manifest/context.jsonld"
READIUM_PROFILE = "https://readium.org/webpub-manifest/profiles/audiobook"
SCHEMA_AUDIOBOOK = "http://schema.org/Audiobook"
W3C_CONTEXT = ["https://schema.org", "https://www.w3.org/ns/pub-context"]
W3C_AUDIOBOOKS = "https://www.w3.org/TR/audiobooks/"
READIUM_MANIFEST = "manifest.json"
W3C_MANIFEST = "publication.json"
TOC_PAGE = "toc.html"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


@dataclass(frozen=True)
class AudioTrack:
    """One chapter MP3 as the packages list it."""

    href: str  # path inside the package (and inside output/<slug>/)
    title: str
    duration: float  # seconds, from the MP3 itself, rounded to the millisecond
    bitrate: int  # kbit/s
    path: Path


@dataclass(frozen=True)
class TocEntry:
    """A table-of-contents entry: a title and where it starts."""

    title: str
    href: str  # a reading-order href, with `#t=<seconds>` when it starts inside the file


def json_bytes(data: dict[str, Any]) -> bytes:
    """Stable JSON: sorted keys, two-space indent, UTF-8 (no \\u escapes), final newline."""
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _tracks(ctx: RenderContext) -> list[AudioTrack]:
    tracks: list[AudioTrack] = []
    for audio in ctx.audio:
        info = MP3(audio.path).info
        if info is None:
            raise RenderError("the chapter MP3 has no audio frames", path=audio.path)
        href = audio.path.relative_to(ctx.folder).as_posix()
        tracks.append(
            AudioTrack(
                href=href,
                title=audio.title,
                duration=round(float(info.length), 3),
                bitrate=max(1, round(info.bitrate / 1000)),
                path=audio.path,
            )
        )
    return tracks


def toc_entries(ctx: RenderContext, tracks: list[AudioTrack]) -> list[TocEntry]:
    """One entry per chapter; for a one-chapter publication, one per mark (paragraph) of its file.

    The marks are times in the full-length MP3; with one chapter that file is the chapter's own
    audio (copied, not re-encoded), so a mark's start is also its time in the chapter MP3.
    """
    if len(tracks) == 1 and len(ctx.marks) > 1:
        (track,) = tracks
        entries = []
        for mark in ctx.marks:
            start = min(max(mark.start, 0.0), track.duration)
            entries.append(TocEntry(mark.title, f"{track.href}#t={seconds_text(start)}"))
        return entries
    return [TocEntry(t.title, t.href) for t in tracks]


def _language(ctx: RenderContext) -> str:
    return ctx.pub.metadata.language.replace("_", "-")


def _published(ctx: RenderContext) -> str:
    """The source's date when it has one, else the day of this publish (as the feeds say)."""
    return ctx.pub.metadata.date or ctx.modified[:10]


def _accessibility_summary(ctx: RenderContext, entries: int) -> str:
    tr = translator(ctx.pub.metadata.language)
    files = tr.ngettext("{count} MP3 file in reading order", "{count} MP3 files in reading order", len(ctx.audio))
    toc = tr.ngettext("a table of contents with {count} entry", "a table of contents with {count} entries", entries)
    return tr.gettext(
        "The complete text of “{title}” read aloud by {narrator}: {files} and {toc}. Audio only: no visual "
        "content, nothing that needs sight.",
        title=ctx.pub.metadata.title,
        narrator=ctx.timeline.narrator,
        files=files,
        toc=toc,
    )


def _cover_size(ctx: RenderContext) -> tuple[int, int]:
    with Image.open(io.BytesIO(ctx.cover.data)) as image:
        return image.width, image.height


def readium_manifest(ctx: RenderContext, tracks: list[AudioTrack], toc: list[TocEntry]) -> dict[str, Any]:
    """A Readium Web Publication Manifest conforming to the audiobook profile."""
    meta = ctx.pub.metadata
    total = round(sum(t.duration for t in tracks), 3)
    width, height = _cover_size(ctx)
    metadata: dict[str, Any] = {
        "@type": SCHEMA_AUDIOBOOK,
        "conformsTo": READIUM_PROFILE,
        "title": meta.title,
        "language": _language(ctx),
        "modified": ctx.modified,
        "published": _published(ctx),
        "duration": total,
        "narrator": ctx.timeline.narrator,
        "readingProgression": "ltr",
        "accessibility": {
            "accessMode": ["auditory"],
            "accessModeSufficient": ["auditory"],
            "feature": ["tableOfContents"],
            "hazard": ["none"],
            "summary": _accessibility_summary(ctx, len(toc)),
        },
    }
    if _URI.match(ctx.identifier):
        metadata["identifier"] = ctx.identifier
    else:  # an ISBN or shelf mark from front matter: not a URI, so it cannot be `identifier`
        metadata["altIdentifier"] = [{"value": ctx.identifier}]
    if meta.authors:
        metadata["author"] = list(meta.authors)
    if meta.publisher:
        metadata["publisher"] = meta.publisher
    if meta.description:
        metadata["description"] = meta.description
    if meta.subjects:
        metadata["subject"] = list(meta.subjects)
    return {
        "@context": READIUM_CONTEXT,
        "metadata": metadata,
        "links": [{"rel": "self", "href": READIUM_MANIFEST, "type": "application/audiobook+json"}],
        "readingOrder": [
            {"href": t.href, "type": "audio/mpeg", "duration": t.duration, "bitrate": t.bitrate, "title": t.title}
            for t in tracks
        ],
        "toc": [{"href": e.href, "title": e.title, "type": "audio/mpeg"} for e in toc],
        "resources": [
            {"rel": "cover", "href": ctx.cover_name, "type": ctx.cover.media_type, "width": width, "height": height}
        ],
    }


def w3c_manifest(ctx: RenderContext, tracks: list[AudioTrack], toc: list[TocEntry]) -> dict[str, Any]:
    """A W3C Audiobooks manifest (a profile of the W3C Publication Manifest)."""
    meta = ctx.pub.metadata
    total = round(sum(t.duration for t in tracks), 3)
    data: dict[str, Any] = {
        "@context": W3C_CONTEXT,
        "conformsTo": W3C_AUDIOBOOKS,
        "type": "Audiobook",
        "id": ctx.identifier,
        "name": meta.title,
        "readBy": ctx.timeline.narrator,
        "inLanguage": _language(ctx),
        "datePublished": _published(ctx),
        "dateModified": ctx.modified,
        "duration": iso_duration(total),
        "abridged": False,
        "readingProgression": "ltr",
        "accessMode": ["auditory"],
        "accessModeSufficient": [{"type": "ItemList", "itemListElement": ["auditory"]}],
        "accessibilityFeature": ["tableOfContents"],
        "accessibilityHazard": ["none"],
        "accessibilitySummary": _accessibility_summary(ctx, len(toc)),
        "readingOrder": [
            {
                "type": "LinkedResource",
                "url": t.href,
                "encodingFormat": "audio/mpeg",
                "name": t.title,
                "duration": iso_duration(t.duration),
            }
            for t in tracks
        ],
        "resources": [
            {
                "type": "LinkedResource",
                "url": ctx.cover_name,
                "encodingFormat": ctx.cover.media_type,
                "rel": "cover",
                "name": ctx.cover.alt,
            },
            {
                "type": "LinkedResource",
                "url": TOC_PAGE,
                "encodingFormat": "text/html",
                "rel": "contents",
                "name": translator(meta.language).gettext("Contents: {title}", title=meta.title),
            },
        ],
    }
    if meta.authors:
        data["author"] = list(meta.authors)
    if meta.publisher:
        data["publisher"] = meta.publisher
    return data


def toc_html(ctx: RenderContext, toc: list[TocEntry]) -> bytes:
    """The LPF's table of contents: an HTML page whose `role="doc-toc"` nav links into the MP3s.

    Built as a tree and serialised by lxml, so every title is escaped whatever it holds.
    """
    title = ctx.pub.metadata.title
    language = _language(ctx)
    direction = text_direction(language)
    items = [E.li(E.a(entry.title, href=entry.href)) for entry in toc]
    page = E.html(
        E.head(
            E.meta(charset="utf-8"),
            E.title(title),
            E.link(rel="publication", href=W3C_MANIFEST, type="application/ld+json"),
        ),
        E.body(
            E.nav(
                E.h1(title, id="toc-title"),
                E.ol(*items),
                {"role": "doc-toc", "aria-labelledby": "toc-title"},
            )
        ),
        lang=language,
        dir=direction,
    )
    html = etree.tostring(page, method="html", encoding="unicode", doctype="<!DOCTYPE html>")
    return (html + "\n").encode("utf-8")


def write_audiobooks(ctx: RenderContext) -> dict[str, Path]:
    """Write `<slug>.audiobook` (Readium) and `<slug>.lpf` (W3C Audiobooks) into the publication folder."""
    if not ctx.settings.audiobooks:
        return {}
    tracks = _tracks(ctx)
    toc = toc_entries(ctx, tracks)
    media: dict[str, bytes | Path] = {t.href: t.path for t in tracks}
    media[ctx.cover_name] = ctx.cover.data

    audiobook = ctx.folder / layout.file_name("audiobook", ctx.slug)
    write_zip(audiobook, {**media, READIUM_MANIFEST: json_bytes(readium_manifest(ctx, tracks, toc))}, ctx.epoch)
    lpf = ctx.folder / layout.file_name("lpf", ctx.slug)
    write_zip(
        lpf,
        {**media, W3C_MANIFEST: json_bytes(w3c_manifest(ctx, tracks, toc)), TOC_PAGE: toc_html(ctx, toc)},
        ctx.epoch,
    )
    log.debug("%s: audiobook packages with %d tracks, %d toc entries", ctx.slug, len(tracks), len(toc))
    return {"audiobook": audiobook, "lpf": lpf}
