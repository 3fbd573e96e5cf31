"""Podcast feeds (RSS 2.0 with Apple Podcasts and Podcasting 2.0 tags) and per-chapter chapter files.

- `output/feed.xml`: the site-wide podcast, one episode per publication (its full-length MP3),
  newest first, `page_size` episodes per page (`feed-2.xml`…, linked first/prev/next/last as in
  RFC 5005 §3); `podcast:medium` podcast.
- `output/<slug>/feed.xml`: a serial podcast per publication, one episode per chapter MP3 in order;
  `podcast:medium` audiobook when it has chapters.

Every URL is absolute (from `base_url`); every enclosure's `length` is the file's real size; an
episode's `guid` is derived from the publication's identifier, which does not change when the
text is edited and re-published. A chapter's `pubDate` is the publication's date plus one minute
per chapter position, so apps that sort by date play chapters in reading order, and it never moves;
a chapter whose audio changed since its first publish keeps its guid and date and carries
`atom:updated`. The XML is built with lxml, never by string concatenation.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import functools
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

from lxml import etree
from PIL import Image

from publisher import __version__
from publisher.audio.marks import first_words
from publisher.clock import iso_utc
from publisher.files import write_atomic
from publisher.formats.context import CatalogueContext, RenderContext
from publisher.formats.cover import podcast_artwork
from publisher.formats.web.catalogue import Page, RenderCache, pages, remove_stale_pages
from publisher.formats.web.feedtext import chapter_description, episode_description, revised_note, site_description
from publisher.i18n import join_names
from publisher.model import layout
from publisher.model.catalogue import AudioEntry, CatalogueEntry
from publisher.model.publication import Publication
from publisher.model.timeline import ChapterMark, Timeline
from publisher.settings import Settings
from publisher.text.clean import xml_safe
from publisher.xmlns import ATOM, CONTENT, ITUNES, PODCAST

NSMAP = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM, "content": CONTENT}

FEED_NAME = layout.FEED


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


#: longest side of the catalogue thumbnail (OPDS image/thumbnail), in pixels, and its file name
THUMBNAIL_SIZE = 200
THUMBNAIL_NAME = layout.THUMBNAIL


@functools.lru_cache(maxsize=8)
def thumbnail(data: bytes, size: int = THUMBNAIL_SIZE) -> bytes:
    """A JPEG of the image `data` scaled so its longer side is `size` px (never enlarged); made
    once per process for the same image (20 ms)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        picture = image.convert("RGB")
    picture.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def write_artwork(ctx: RenderContext) -> dict[str, Path]:
    """`thumbnail.jpg` (about 200 px, for catalogues; not a download of its own), and `artwork.jpg`
    when the cover is not square 1400–3000 px RGB as Apple Podcasts requires."""
    small = ctx.folder / THUMBNAIL_NAME
    small.write_bytes(thumbnail(ctx.cover.data))
    written: dict[str, Path] = {"thumbnail": small}
    data = podcast_artwork(ctx.cover)
    if data is not None:
        path = ctx.folder / layout.ARTWORK
        path.write_bytes(data)
        written["artwork"] = path
    return written


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


def parse_iso(iso: str) -> _dt.datetime:
    """An ISO 8601 UTC timestamp ("2024-06-28T00:00:00Z") as an aware datetime."""
    return _dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(_dt.timezone.utc)


def rfc2822(iso: str) -> str:
    """An ISO 8601 UTC timestamp ("2024-06-28T00:00:00Z") as an RFC 2822 date."""
    return email.utils.format_datetime(parse_iso(iso))


def chapter_date(entry: CatalogueEntry, audio: AudioEntry) -> str:
    """When a chapter episode is dated: the publication's date plus one minute per position, so
    date order is reading order and a re-publish never moves it."""
    when = parse_iso(entry.published) + _dt.timedelta(minutes=max(0, audio.chapter - 1))
    return iso_utc(when)


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


def _persons(parent: etree._Element, entry: CatalogueEntry) -> None:
    """podcast:person for each author (writing/author) and the narrator (cast/narrator), the Podcast
    Taxonomy Project's groups and roles (podcast-namespace taxonomy.json)."""
    for name in entry.authors:
        sub_element(parent, _pc("person"), name[:128], group="writing", role="author")
    if entry.narrator:
        sub_element(parent, _pc("person"), entry.narrator[:128], group="cast", role="narrator")


@dataclass(frozen=True)
class Channel:
    """What differs between the site feed and a publication's feed at channel level."""

    title: str
    link: str
    self_url: str
    description: str
    language: str
    image: str | None
    author: str
    modified: str
    podcast_type: str  # itunes:type: episodic or serial
    medium: str  # podcast:medium: podcast or audiobook
    guid_seed: str  # the URL podcast:guid is derived from (page 1's, the same for every page)


def _channel(info: Channel, settings: Settings) -> tuple[etree._Element, etree._Element]:
    rss = etree.Element("rss", {"version": "2.0"}, nsmap=NSMAP)
    channel = sub_element(rss, "channel")
    sub_element(channel, "title", info.title)
    sub_element(channel, "link", info.link)
    sub_element(channel, f"{{{ATOM}}}link", href=info.self_url, rel="self", type="application/rss+xml")
    sub_element(channel, "description", info.description)
    sub_element(channel, "language", info.language)
    sub_element(channel, "generator", f"publisher {__version__}")
    sub_element(channel, "lastBuildDate", rfc2822(info.modified))
    if settings.publisher:
        sub_element(channel, "copyright", settings.publisher)
    sub_element(channel, _it("author"), info.author)
    sub_element(channel, _it("summary"), info.description)
    sub_element(channel, _it("type"), info.podcast_type)
    sub_element(channel, _it("explicit"), "true" if settings.explicit else "false")
    owner = sub_element(channel, _it("owner"))
    sub_element(owner, _it("name"), settings.publisher or info.author)
    if settings.owner_email:
        sub_element(owner, _it("email"), settings.owner_email)
    top, _, sub = settings.category.partition("/")
    category = etree.SubElement(channel, _it("category"), {"text": xml_safe(top.strip())})
    if sub.strip():
        etree.SubElement(category, _it("category"), {"text": xml_safe(sub.strip())})
    if info.image:
        sub_element(channel, _it("image"), href=info.image)
        picture = sub_element(channel, "image")
        sub_element(picture, "url", info.image)
        sub_element(picture, "title", info.title)
        sub_element(picture, "link", info.link)
    sub_element(channel, _pc("guid"), podcast_guid(info.guid_seed))
    sub_element(channel, _pc("medium"), info.medium)
    locked = {"owner": settings.owner_email} if settings.owner_email else {}
    sub_element(channel, _pc("locked"), "yes" if settings.locked else "no", **locked)
    return rss, channel


def _has(entry: CatalogueEntry, path: str) -> bool:
    """Whether the publication holds `path`: its manifest's file list, else the disk."""
    return path in entry.files if entry.files else (entry.folder / path).is_file()


def _size(entry: CatalogueEntry, audio: AudioEntry) -> int:
    return audio.size or (entry.folder / audio.path).stat().st_size


@dataclass(frozen=True)
class Episode:
    """One item: an audio file of a publication with its title, guid, description and date."""

    entry: CatalogueEntry
    audio: AudioEntry
    title: str
    guid: str
    description: str
    date: str
    number: int | None = None  # itunes:episode
    persons: bool = False  # item-level podcast:person (the site feed, where each item is another book)


def _item(channel: etree._Element, episode: Episode, settings: Settings) -> None:
    entry, audio = episode.entry, episode.audio
    item = sub_element(channel, "item")
    sub_element(item, "title", episode.title)
    sub_element(item, _it("title"), episode.title)
    page = entry.formats.get("page")
    if page:
        sub_element(item, "link", absolute(settings, entry.slug, page))
    description = episode.description
    if audio.updated:
        description += " " + revised_note(entry, audio.updated)
    sub_element(item, "description", description)
    sub_element(item, "guid", episode.guid, isPermaLink="false")
    sub_element(item, "pubDate", rfc2822(episode.date))
    if audio.updated:
        sub_element(item, f"{{{ATOM}}}updated", audio.updated)
    url = absolute(settings, entry.slug, audio.path)
    sub_element(item, "enclosure", url=url, length=str(_size(entry, audio)), type="audio/mpeg")
    sub_element(item, _it("duration"), str(round(audio.duration)))
    sub_element(item, _it("author"), join_names(entry.authors) or entry.publisher or settings.site_title)
    sub_element(item, _it("explicit"), "true" if settings.explicit else "false")
    sub_element(item, _it("episodeType"), "full")
    if episode.number is not None:
        sub_element(item, _it("episode"), str(episode.number))
    artwork = _artwork(entry)
    if artwork:
        sub_element(item, _it("image"), href=absolute(settings, entry.slug, artwork))
    stem = audio.path[: -len(".mp3")]
    for suffix, tag, kind, extra in (
        (".vtt", "transcript", "text/vtt", {"rel": "captions", "language": entry.language}),
        (".chapters.json", "chapters", "application/json+chapters", {}),
    ):
        if _has(entry, stem + suffix):
            sub_element(item, _pc(tag), url=absolute(settings, entry.slug, stem + suffix), type=kind, **extra)
    if episode.persons:
        _persons(item, entry)


def _serialise(rss: etree._Element) -> bytes:
    return bytes(etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _description(entry: CatalogueEntry) -> str:
    return episode_description(entry)


def _page_links(channel: etree._Element, settings: Settings, links: dict[str, str]) -> None:
    """RFC 5005 §3 paged-feed links (first, last, prev, next) as atom:link."""
    for rel in ("first", "prev", "next", "last"):
        if rel in links:
            sub_element(
                channel, f"{{{ATOM}}}link", rel=rel, href=absolute(settings, links[rel]), type="application/rss+xml"
            )


def _site_image(entries: list[CatalogueEntry], settings: Settings) -> str | None:
    cover = next((e for e in entries if _artwork(e)), None)
    artwork = _artwork(cover) if cover else None
    return absolute(settings, cover.slug, artwork) if cover and artwork else None


def site_feed_pages(
    entries: list[CatalogueEntry], settings: Settings, skip: Callable[[Page[CatalogueEntry]], bool] | None = None
) -> list[tuple[str, bytes | None]]:
    """The site-wide podcast: one episode per publication (the full-length MP3), newest first,
    as (file name, bytes) of each page of `page_size` episodes; None for the pages `skip` says need
    no rendering."""
    audible = [e for e in entries if e.full is not None]
    language = entries[0].language if entries else settings.language
    image = _site_image(entries, settings)
    description = site_description(settings.site_title, language)
    result: list[tuple[str, bytes | None]] = []
    for page in pages(audible, settings.page_size):
        if skip is not None and skip(page):
            result.append((page.name(FEED_NAME), None))
            continue
        modified = max((e.modified for e in page.items), default="1970-01-01T00:00:00Z")
        info = Channel(
            settings.site_title, absolute(settings, layout.PAGE), absolute(settings, page.name(FEED_NAME)),
            description, language, image, settings.publisher or settings.site_title, modified, "episodic",
            "podcast", absolute(settings, FEED_NAME),
        )  # fmt: skip
        rss, channel = _channel(info, settings)
        if page.count > 1:
            _page_links(channel, settings, page.neighbours(FEED_NAME))
        for entry in page.items:
            assert entry.full is not None
            episode = Episode(entry, entry.full, entry.title, entry.identifier, _description(entry), entry.published)
            _item(channel, replace(episode, persons=True), settings)
        result.append((page.name(FEED_NAME), _serialise(rss)))
    return result


def site_feed(entries: list[CatalogueEntry], settings: Settings) -> bytes:
    """The first page of the site-wide podcast (all of it, when it fits on one page)."""
    data = site_feed_pages(entries, settings)[0][1]
    assert data is not None
    return data


def publication_feed(entry: CatalogueEntry, settings: Settings) -> bytes:
    """A serial podcast of one publication: one episode per chapter, in order, numbered and dated in order."""
    artwork = _artwork(entry)
    image = absolute(settings, entry.slug, artwork) if artwork else None
    info = Channel(
        entry.title, absolute(settings, entry.slug, entry.formats.get("page", "")),
        absolute(settings, entry.slug, FEED_NAME), _description(entry), entry.language, image,
        join_names(entry.authors) or entry.publisher or settings.site_title, entry.modified, "serial",
        "audiobook" if len(entry.audio) > 1 else "podcast", absolute(settings, entry.slug, FEED_NAME),
    )  # fmt: skip
    rss, channel = _channel(info, settings)
    _persons(channel, entry)
    for audio in entry.audio:
        title = audio.title if len(entry.audio) > 1 else entry.title
        guid = f"{entry.identifier}#chapter-{audio.chapter}"
        description = chapter_description(entry, audio.title)
        _item(
            channel,
            Episode(entry, audio, title, guid, description, chapter_date(entry, audio), audio.chapter),
            settings,
        )
    return _serialise(rss)


def write_feeds(cat: CatalogueContext) -> list[Path]:
    """`output/feed.xml` (and its further pages) and `output/<slug>/feed.xml` for every publication;
    returns the files whose bytes changed."""
    entries, output, settings = list(cat.entries), cat.output, cat.settings
    cache = RenderCache(output, "feeds", settings)
    keys = {entry.slug: entry.digest for entry in entries}
    written = []
    for entry in entries:
        path = entry.folder / FEED_NAME
        if not cache.fresh(path, cache.key(keys[entry.slug])) and write_atomic(path, publication_feed(entry, settings)):
            written.append(path)
    image = _site_image(entries, settings)
    language = entries[0].language if entries else settings.language

    def skip(page: Page[CatalogueEntry]) -> bool:
        key = cache.key(page.number, page.count, image, language, tuple(keys[e.slug] for e in page.items))
        return cache.fresh(output / page.name(FEED_NAME), key)

    site = site_feed_pages(entries, settings, skip)
    for name, data in site:
        if data is not None and write_atomic(output / name, data):
            written.append(output / name)
    remove_stale_pages(output, FEED_NAME, len(site))
    cache.save()
    return written
