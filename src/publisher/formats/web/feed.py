"""Podcast feeds (RSS 2.0 with Apple Podcasts and Podcasting 2.0 tags) and per-chapter chapter files.

- `output/feed.xml`: the site-wide podcast, one episode per publication (its full-length MP3),
  newest first.
- `output/<slug>/feed.xml`: a serial podcast per publication, one episode per chapter MP3 in order.

Every URL is absolute (from `base_url`); every enclosure's `length` is the file's real size; an
episode's `guid` is derived from the publication's identifier, which does not change when the
text is edited and re-published. The XML is built with lxml, never by string concatenation.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import json
import uuid
from pathlib import Path
from urllib.parse import quote

from lxml import etree

from publisher import __version__
from publisher.audio.marks import first_words
from publisher.files import write_atomic
from publisher.formats.context import CatalogueContext, RenderContext
from publisher.formats.cover import podcast_artwork
from publisher.model.catalogue import AudioEntry, CatalogueEntry
from publisher.model.publication import Publication
from publisher.model.timeline import ChapterMark, Timeline
from publisher.settings import Settings
from publisher.text import join_names, xml_safe
from publisher.xmlns import ATOM, CONTENT, ITUNES, PODCAST

NSMAP = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM, "content": CONTENT}

FEED_NAME = "feed.xml"


# --- per-chapter chapter files (rendered with the publication) ------------------------------


def track_marks(pub: Publication, narration: Timeline, index: int) -> list[ChapterMark]:
    """Chapter marks inside one chapter's MP3 (0-based `index`): its title at 0, then one per paragraph."""
    track = narration.tracks[index]
    chapter = pub.chapters[index]
    where = {c.sentence_id: c.start for c in track.cues}
    starts: list[tuple[str, float]] = [(track.title, 0.0)]
    for block in chapter.blocks:
        if block.kind in ("heading", "byline") or not block.sentences or block in pub.front:
            continue
        start = where.get(block.sentences[0].id)
        if start is not None and start > starts[-1][1]:
            starts.append((first_words(block.text), start))
    return [
        ChapterMark(title, start, starts[i + 1][1] if i + 1 < len(starts) else track.duration)
        for i, (title, start) in enumerate(starts)
    ]


def write_artwork(ctx: RenderContext) -> dict[str, Path]:
    """`artwork.jpg`, when the cover is not square 1400–3000 px RGB as Apple Podcasts requires."""
    data = podcast_artwork(ctx.cover)
    if data is None:
        return {}
    path = ctx.folder / "artwork.jpg"
    path.write_bytes(data)
    return {"artwork": path}


def _artwork(entry: CatalogueEntry) -> str | None:
    return entry.formats.get("artwork") or entry.cover


def write_chapter_files(ctx: RenderContext) -> dict[str, Path]:
    """`audio/NN-title.chapters.json` beside each chapter MP3 (Podcasting 2.0 JSON chapters)."""
    for index, audio in enumerate(ctx.audio):
        marks = track_marks(ctx.pub, ctx.timeline, index)
        data = {
            "version": "1.2.0",
            "title": audio.title,
            "chapters": [{"startTime": round(m.start, 3), "endTime": round(m.end, 3), "title": m.title} for m in marks],
        }
        path = audio.path.with_suffix(".chapters.json")
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {}


# --- feeds (rendered for the whole output folder) -------------------------------------------


def absolute(settings: Settings, *parts: str) -> str:
    """An absolute URL under base_url; each path segment percent-encoded."""
    base = settings.base_url if settings.base_url.endswith("/") else settings.base_url + "/"
    segments = [seg for part in parts for seg in part.split("/") if seg]
    return base + "/".join(quote(seg) for seg in segments)


def rfc2822(iso: str) -> str:
    """An ISO 8601 UTC timestamp ("2024-06-28T00:00:00Z") as an RFC 2822 date."""
    when = _dt.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc)
    return email.utils.format_datetime(when)


#: Podcasting 2.0's namespace for podcast:guid (a UUIDv5 of the feed URL without its scheme)
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


def podcast_guid(feed_url: str) -> str:
    """The podcast:guid of a feed: UUIDv5 of its URL without scheme and trailing slashes."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def sub_element(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    """A child element with `attrib`, and `text` cleaned of what XML cannot carry."""
    element = etree.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = xml_safe(text)
    return element


def _it(name: str) -> str:
    return f"{{{ITUNES}}}{name}"


def _pc(name: str) -> str:
    return f"{{{PODCAST}}}{name}"


def _channel(
    title: str, link: str, self_url: str, description: str, language: str, image: str | None, settings: Settings,
    author: str, modified: str, podcast_type: str, guid_seed: str,
) -> tuple[etree._Element, etree._Element]:  # fmt: skip
    rss = etree.Element("rss", {"version": "2.0"}, nsmap=NSMAP)
    channel = sub_element(rss, "channel")
    sub_element(channel, "title", title)
    sub_element(channel, "link", link)
    sub_element(channel, f"{{{ATOM}}}link", href=self_url, rel="self", type="application/rss+xml")
    sub_element(channel, "description", description)
    sub_element(channel, "language", language)
    sub_element(channel, "generator", f"publisher {__version__}")
    sub_element(channel, "lastBuildDate", rfc2822(modified))
    if settings.publisher:
        sub_element(channel, "copyright", settings.publisher)
    sub_element(channel, _it("author"), author)
    sub_element(channel, _it("summary"), description)
    sub_element(channel, _it("type"), podcast_type)
    sub_element(channel, _it("explicit"), "true" if settings.explicit else "false")
    owner = sub_element(channel, _it("owner"))
    sub_element(owner, _it("name"), settings.publisher or author)
    if settings.owner_email:
        sub_element(owner, _it("email"), settings.owner_email)
    top, _, sub = settings.category.partition("/")
    category = etree.SubElement(channel, _it("category"), {"text": xml_safe(top.strip())})
    if sub.strip():
        etree.SubElement(category, _it("category"), {"text": xml_safe(sub.strip())})
    if image:
        sub_element(channel, _it("image"), href=image)
        picture = sub_element(channel, "image")
        sub_element(picture, "url", image)
        sub_element(picture, "title", title)
        sub_element(picture, "link", link)
    sub_element(channel, _pc("guid"), podcast_guid(guid_seed))
    sub_element(channel, _pc("locked"), "no")
    return rss, channel


def _item(
    channel: etree._Element, entry: CatalogueEntry, audio: AudioEntry, title: str, guid: str, settings: Settings,
    description: str, episode: int | None,
) -> None:  # fmt: skip
    item = sub_element(channel, "item")
    sub_element(item, "title", title)
    sub_element(item, _it("title"), title)
    page = entry.formats.get("page")
    if page:
        sub_element(item, "link", absolute(settings, entry.slug, page))
    sub_element(item, "description", description)
    sub_element(item, "guid", guid, isPermaLink="false")
    sub_element(item, "pubDate", rfc2822(entry.published))
    size = (entry.folder / audio.path).stat().st_size
    sub_element(item, "enclosure", url=absolute(settings, entry.slug, audio.path), length=str(size), type="audio/mpeg")
    sub_element(item, _it("duration"), str(round(audio.duration)))
    sub_element(item, _it("author"), join_names(entry.authors) or entry.publisher or settings.site_title)
    sub_element(item, _it("explicit"), "true" if settings.explicit else "false")
    sub_element(item, _it("episodeType"), "full")
    if episode is not None:
        sub_element(item, _it("episode"), str(episode))
    artwork = _artwork(entry)
    if artwork:
        sub_element(item, _it("image"), href=absolute(settings, entry.slug, artwork))
    stem = audio.path[: -len(".mp3")]
    for suffix, tag, kind, extra in (
        (".vtt", "transcript", "text/vtt", {"rel": "captions", "language": entry.language}),
        (".chapters.json", "chapters", "application/json+chapters", {}),
    ):
        if (entry.folder / (stem + suffix)).is_file():
            sub_element(item, _pc(tag), url=absolute(settings, entry.slug, stem + suffix), type=kind, **extra)


def _serialise(rss: etree._Element) -> bytes:
    return bytes(etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _description(entry: CatalogueEntry) -> str:
    if entry.description:
        return entry.description
    by = join_names(entry.authors)
    return f"{entry.title}{f', by {by}' if by else ''}, narrated by {entry.narrator or 'a synthetic voice'}."


def site_feed(entries: list[CatalogueEntry], settings: Settings) -> bytes:
    """The site-wide podcast: one episode per publication (the full-length MP3), newest first."""
    language = entries[0].language if entries else settings.language
    cover = next((e for e in entries if _artwork(e)), None)
    artwork = _artwork(cover) if cover else None
    image = absolute(settings, cover.slug, artwork) if cover and artwork else None
    modified = max((e.modified for e in entries), default="1970-01-01T00:00:00Z")
    description = f"{settings.site_title}: every publication, narrated, with transcripts and chapters."
    rss, channel = _channel(
        settings.site_title, absolute(settings, "index.html"), absolute(settings, FEED_NAME), description,
        language, image, settings, settings.publisher or settings.site_title, modified, "episodic",
        absolute(settings, FEED_NAME),
    )  # fmt: skip
    for entry in entries:
        if entry.full is None:
            continue
        _item(channel, entry, entry.full, entry.title, entry.identifier, settings, _description(entry), None)
    return _serialise(rss)


def publication_feed(entry: CatalogueEntry, settings: Settings) -> bytes:
    """A serial podcast of one publication: one episode per chapter, in order, numbered."""
    artwork = _artwork(entry)
    image = absolute(settings, entry.slug, artwork) if artwork else None
    rss, channel = _channel(
        entry.title, absolute(settings, entry.slug, entry.formats.get("page", "")),
        absolute(settings, entry.slug, FEED_NAME),
        _description(entry), entry.language, image, settings,
        join_names(entry.authors) or entry.publisher or settings.site_title, entry.modified, "serial",
        absolute(settings, entry.slug, FEED_NAME),
    )  # fmt: skip
    for audio in entry.audio:
        title = audio.title if len(entry.audio) > 1 else entry.title
        guid = f"{entry.identifier}#chapter-{audio.chapter}"
        _item(channel, entry, audio, title, guid, settings, f"{entry.title}: {audio.title}", audio.chapter)
    return _serialise(rss)


def write_feeds(cat: CatalogueContext) -> list[Path]:
    """`output/feed.xml` and `output/<slug>/feed.xml` for every publication."""
    entries, output, settings = list(cat.entries), cat.output, cat.settings
    written = []
    for entry in entries:
        path = entry.folder / FEED_NAME
        write_atomic(path, publication_feed(entry, settings))
        written.append(path)
    write_atomic(output / FEED_NAME, site_feed(entries, settings))
    written.append(output / FEED_NAME)
    return written
