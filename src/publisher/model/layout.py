"""The output layout: every file name the publisher writes, and every media type, in one place.

A publication's folder is `output/<slug>/`; the catalogue files sit in `output/`. Renderers,
the catalogue, the preview server and the validators all take names and media types from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from publisher.text.slugs import slugify

# --- output/ ---------------------------------------------------------------------------------
LOCK = ".publisher.lock"  # one run per output folder at a time
#: written last of the catalogue files: the manifests (by SHA-256) the catalogue was made from
CATALOGUE_RECORD = ".publisher-catalogue.json"
PAGE = "index.html"  # the catalogue page, and each publication's read-along page
FEED = "feed.xml"  # the site feed, and each publication's serial feed
OPDS_XML = "opds.xml"
OPDS_JSON = "opds.json"
OPENSEARCH = "opensearch.xml"  # the search description reading apps discover
SEARCH_INDEX = "search.json"  # every publication, for the search template
FACET_DIR = "_opds"  # OPDS facet feeds ("_" is never in a slug: no publication can take this name)

# --- output/<slug>/ --------------------------------------------------------------------------
MANIFEST = ".publisher.json"  # what was published from what
AUDIO_DIR = "audio"  # chapter MP3s with their captions and chapter marks
DAISY_DIR = "daisy"
DAISY_NCC = "daisy/ncc.html"
IMAGE_DIR = "images"  # the read-along page's copies of the text's images
ARTWORK = "artwork.jpg"  # the feeds' square artwork, when the cover is not fit for podcast apps
THUMBNAIL = "thumbnail.jpg"  # about 200 px, for catalogues
PROOF_JSON = "proof.json"  # what `publisher proof` heard (written by proof, not by publish)
PROOF_HTML = "proof.html"  # the same as a page, each flagged sentence playable from its cue
ALIGNMENT_JSON = "alignment.json"  # a recorded narration's alignment (written by publish --narration)
ALIGNMENT_HTML = "alignment.html"  # the same as a page: coverage, sentences not heard, audio not in the text


def cover(extension: str) -> str:
    """The cover image ("jpg" or "png")."""
    return f"cover.{extension}"


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

#: files whose names say more than their endings (the catalogue's; the audiobook manifests)
NAMED_TYPES = {
    FEED: "application/rss+xml",
    OPENSEARCH: "application/opensearchdescription+xml",
    OPDS_XML: "application/atom+xml;profile=opds-catalog;kind=acquisition",
    OPDS_JSON: "application/opds+json",
    "manifest.json": "application/audiobook+json",
    "publication.json": "application/audiobook+json",
}
#: a catalogue file's further pages ("feed-2.xml") and the OPDS facet feeds ("_opds/language/en.xml")
_PAGE = re.compile(r"^(?P<stem>[a-z]+)-\d+(?P<suffix>\.[a-z]+)$")


def file_type(path: str) -> str:
    """The media type of a file the publisher writes, from its path inside `output/`: catalogue
    files and their pages by name, everything else by its ending."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    page = _PAGE.match(name)
    if page:
        name = page["stem"] + page["suffix"]
    elif len(parts) >= 3 and parts[-3] == FACET_DIR:
        name = "opds" + name[name.rfind(".") :]
    return NAMED_TYPES.get(name) or media_type(name)


def media_type(name: str, table: dict[str, str] = MEDIA_TYPES) -> str:
    """The media type for a file name from `table` (longest matching ending wins)."""
    lower = name.lower()
    for ending in sorted(table, key=len, reverse=True):
        if lower.endswith(ending):
            return table[ending]
    return "application/octet-stream"


# --- the kinds of output, their names and labels ---------------------------------------------
@dataclass(frozen=True)
class Kind:
    """A kind of output as the manifest records it, its file inside `output/<slug>/`, and what a
    reader is told it is."""

    name: str  # the manifest's key: "epub", "read_aloud_epub", "mp3", …
    label: str  # for people: "EPUB", "M4B audiobook", …
    pattern: str = ""  # its file name, "{slug}" standing for the publication's slug ("" if it varies)
    download: bool = True  # listed among a publication's downloads


KINDS = (
    Kind("epub", "EPUB", "{slug}.epub"),
    Kind("read_aloud_epub", "EPUB with narration (read-aloud)", "{slug}-read-aloud.epub"),
    Kind("enhanced_epub", "The original EPUB with narration (read-aloud)", "{slug}-enhanced.epub"),
    Kind("mp3", "MP3", "{slug}.mp3"),
    Kind("m4b", "M4B audiobook", "{slug}.m4b"),
    Kind("vtt", "Captions (WebVTT)", "{slug}.vtt"),
    Kind("chapters", "Chapters (JSON)", "{slug}.chapters.json"),
    Kind("daisy", "DAISY 2.02 talking book (zip)", DAISY_NCC),
    Kind("daisy_zip", "DAISY 2.02 talking book (zip)", "{slug}-daisy.zip"),
    Kind("audiobook", "Readium audiobook", "{slug}.audiobook"),
    Kind("lpf", "W3C audiobook (LPF)", "{slug}.lpf"),
    Kind("feed", "Podcast feed (RSS)", FEED),
    Kind("cover", "Cover", download=False),  # cover.jpg or cover.png: see cover()
    Kind("artwork", "Podcast artwork", ARTWORK, download=False),
    Kind("thumbnail", "Thumbnail", THUMBNAIL, download=False),
    Kind("page", "Read-along page", PAGE, download=False),
)
KIND_BY_NAME = {kind.name: kind for kind in KINDS}


def file_name(kind: str, slug: str) -> str:
    """The file of a kind of output inside `output/<slug>/` ("epub" → "<slug>.epub")."""
    return KIND_BY_NAME[kind].pattern.format(slug=slug)
