"""The output layout: every file name the publisher writes, and every media type, in one place.

A publication's folder is `output/<slug>/`; the catalogue files sit in `output/`. Renderers,
the catalogue, the preview server and the validators all take names and media types from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from publisher.text import slugify

# --- output/ ---------------------------------------------------------------------------------
LOCK = ".publisher.lock"  # one run per output folder at a time
PAGE = "index.html"  # the catalogue page, and each publication's read-along page
FEED = "feed.xml"  # the site feed, and each publication's serial feed
OPDS_XML = "opds.xml"
OPDS_JSON = "opds.json"

# --- output/<slug>/ --------------------------------------------------------------------------
MANIFEST = ".publisher.json"  # what was published from what
AUDIO_DIR = "audio"  # chapter MP3s with their captions and chapter marks
DAISY_DIR = "daisy"
DAISY_NCC = "daisy/ncc.html"
IMAGE_DIR = "images"  # the read-along page's copies of the text's images
ARTWORK = "artwork.jpg"  # the feeds' square artwork, when the cover is not fit for podcast apps


def epub(slug: str) -> str:
    """The EPUB 3 text edition."""
    return f"{slug}.epub"


def read_aloud_epub(slug: str) -> str:
    """The EPUB 3 with the narration and media overlays."""
    return f"{slug}-read-aloud.epub"


def full_mp3(slug: str) -> str:
    """The whole publication in one MP3, with ID3 chapter frames."""
    return f"{slug}.mp3"


def m4b(slug: str) -> str:
    """The AAC audiobook."""
    return f"{slug}.m4b"


def captions(slug: str) -> str:
    """WebVTT captions of the full-length MP3."""
    return f"{slug}.vtt"


def chapters_json(slug: str) -> str:
    """Podcasting 2.0 chapters of the full-length MP3."""
    return f"{slug}.chapters.json"


def cover(extension: str) -> str:
    """The cover image ("jpg" or "png")."""
    return f"cover.{extension}"


def daisy_zip(slug: str) -> str:
    """The DAISY 2.02 book, zipped."""
    return f"{slug}-daisy.zip"


def readium_audiobook(slug: str) -> str:
    """The Readium audiobook package."""
    return f"{slug}.audiobook"


def lpf(slug: str) -> str:
    """The W3C Audiobooks publication in a Lightweight Packaging Format zip."""
    return f"{slug}.lpf"


def chapter_mp3(index: int, title: str) -> str:
    """A chapter's MP3 inside the publication folder: audio/NN-<chapter-slug>.mp3."""
    return f"{AUDIO_DIR}/{chapter_stem(index, title)}.mp3"


def chapter_stem(index: int, title: str) -> str:
    """NN-<chapter-slug>, the name every per-chapter file shares (MP3, VTT, chapters JSON, SMIL)."""
    return f"{index:02d}-{slugify(title, max_length=40)}"


# --- media types -----------------------------------------------------------------------------
#: by file name ending (the longest matching ending wins)
MEDIA_TYPES = {
    ".epub": "application/epub+zip",
    ".mp3": "audio/mpeg",
    ".m4b": "audio/mp4",
    ".m4a": "audio/mp4",
    ".vtt": "text/vtt",
    ".chapters.json": "application/json+chapters",
    ".json": "application/json",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".html": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".css": "text/css",
    ".js": "text/javascript",
    ".txt": "text/plain",
    ".zip": "application/zip",
    ".audiobook": "application/audiobook+zip",
    ".lpf": "application/lpf+zip",
    ".xml": "application/xml",
    ".smil": "application/smil",
    ".ncx": "application/x-dtbncx+xml",
    ".opf": "application/oebps-package+xml",
}

#: the catalogue files, whose names do not say enough
NAMED_TYPES = {
    FEED: "application/rss+xml",
    OPDS_XML: "application/atom+xml;profile=opds-catalog;kind=acquisition",
    OPDS_JSON: "application/opds+json",
}


def media_type(name: str, table: dict[str, str] = MEDIA_TYPES) -> str:
    """The media type for a file name from `table` (longest matching ending wins)."""
    lower = name.lower()
    for ending in sorted(table, key=len, reverse=True):
        if lower.endswith(ending):
            return table[ending]
    return "application/octet-stream"


# --- what each kind of output is called ------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    """A kind of output as the manifest records it, and what a reader is told it is."""

    name: str  # the manifest's key: "epub", "read_aloud_epub", "mp3", …
    label: str  # for people: "EPUB", "M4B audiobook", …
    download: bool = True  # listed among a publication's downloads


KINDS = (
    Kind("epub", "EPUB"),
    Kind("read_aloud_epub", "EPUB with narration (read-aloud)"),
    Kind("mp3", "MP3"),
    Kind("m4b", "M4B audiobook"),
    Kind("vtt", "Captions (WebVTT)"),
    Kind("chapters", "Chapters (JSON)"),
    Kind("daisy", "DAISY 2.02 talking book (zip)"),
    Kind("daisy_zip", "DAISY 2.02 talking book (zip)"),
    Kind("audiobook", "Readium audiobook"),
    Kind("lpf", "W3C audiobook (LPF)"),
    Kind("feed", "Podcast feed (RSS)"),
    Kind("cover", "Cover", download=False),
    Kind("artwork", "Podcast artwork", download=False),
    Kind("page", "Read-along page", download=False),
)
KIND_BY_NAME = {kind.name: kind for kind in KINDS}
