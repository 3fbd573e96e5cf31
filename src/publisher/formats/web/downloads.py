"""What the web pages list for download: format labels and order, and which files a publication has."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from publisher.formats.context import RenderContext
from publisher.formats.web import catalogue
from publisher.pipeline.manifest import CatalogueEntry, media_type

PAGE_NAME = "index.html"
FEED_NAME = "feed.xml"  # written by the catalogue stage into output/ and every output/<slug>/
OPDS_NAME = "opds.xml"
FEED_TYPE = "application/rss+xml"
OPDS_TYPE = "application/atom+xml"

#: readable labels of the formats, by the kind the pipeline records them under
KIND_LABELS = {
    "epub": "EPUB",
    "read_aloud_epub": "EPUB with narration (read-aloud)",
    "mp3": "MP3",
    "m4b": "M4B audiobook",
    "vtt": "Captions (WebVTT)",
    "chapters": "Chapters (JSON)",
    "daisy": "DAISY 2.02 talking book (zip)",
    "daisy_zip": "DAISY 2.02 talking book (zip)",
    "audiobook": "Readium audiobook",
    "rpf": "Readium audiobook",
    "lpf": "W3C audiobook (LPF)",
    "feed": "Podcast feed (RSS)",
}
#: kinds that are not downloads: the page itself and the cover (shown as an image)
NOT_DOWNLOADS = {"page", "cover"}
#: the order downloads are listed in; other kinds follow alphabetically
KIND_ORDER = [
    "epub",
    "read_aloud_epub",
    "mp3",
    "m4b",
    "vtt",
    "chapters",
    "daisy",
    "daisy_zip",
    "audiobook",
    "rpf",
    "lpf",
]
#: formats other renderers may add, recognised by their file name ending
SUFFIX_KINDS = {".zip": "daisy", ".audiobook": "audiobook", ".lpf": "lpf"}


@dataclass(frozen=True)
class Download:
    """One link of a download list: its label, address, media type and size in bytes (if telling)."""

    label: str
    href: str
    type: str
    size: int | None


def format_label(kind: str, path: str = "") -> str:
    """A readable label for a format ("M4B audiobook"), from its kind or else its file name."""
    if kind in KIND_LABELS:
        if kind == "daisy" and path and not path.lower().endswith(".zip"):
            return "DAISY 2.02 talking book (ncc.html)"
        return KIND_LABELS[kind]
    name = path.lower()
    for suffix, known in SUFFIX_KINDS.items():
        if name.endswith(suffix):
            return KIND_LABELS[known] if known != "daisy" or "daisy" in name else "ZIP archive"
    return kind.replace("_", " ").capitalize()


# --- what was written: probes of the disk and of the catalogue stage ---------------------------


def _written_by_catalogue(module: str) -> bool:
    return any(name.startswith(f"{module}:") for name in catalogue.CATALOGUE_RENDERERS)


def _feed_link_expected(folder: Path) -> bool:
    """Whether `feed.xml` is (or will be, once the catalogue stage runs) in `folder`: the feeds are
    written after every publication, so at render time a publication's own feed is not there yet."""
    return (folder / FEED_NAME).is_file() or _written_by_catalogue("publisher.formats.web.feed")


def _opds_expected(output: Path) -> bool:
    return (output / OPDS_NAME).is_file() or _written_by_catalogue("publisher.formats.web.opds")


def _folder_downloads(ctx: RenderContext) -> list[tuple[str, str, int | None]]:
    """(label, href, size) of every format present in the publication folder right now."""
    folder, slug = ctx.folder, ctx.slug
    found: list[tuple[str, str, int | None]] = []
    known = [
        ("epub", f"{slug}.epub"),
        ("read_aloud_epub", f"{slug}-read-aloud.epub"),
        ("mp3", f"{slug}.mp3"),
        ("m4b", f"{slug}.m4b"),
        ("vtt", f"{slug}.vtt"),
        ("chapters", f"{slug}.chapters.json"),
    ]
    for kind, name in known:
        if (folder / name).is_file():
            found.append((format_label(kind, name), name, (folder / name).stat().st_size))
    if (folder / "daisy" / "ncc.html").is_file():
        found.append((format_label("daisy", "daisy/ncc.html"), "daisy/ncc.html", None))
    for suffix in SUFFIX_KINDS:
        for path in sorted(folder.glob(f"*{suffix}")):
            if path.is_file():
                found.append((format_label("", path.name), path.name, path.stat().st_size))
    if _feed_link_expected(folder):
        found.append((KIND_LABELS["feed"], FEED_NAME, None))
    return found


# --- the lists the pages show ----------------------------------------------------------------


def feed_expected(output: Path) -> bool:
    """Whether the site's podcast feed `output/feed.xml` exists or the catalogue stage will write it."""
    return (output / FEED_NAME).is_file() or _feed_link_expected(output)


def opds_expected(output: Path) -> bool:
    """Whether the site's OPDS catalogue `output/opds.xml` exists or the catalogue stage will write it."""
    return _opds_expected(output)


def folder_downloads(ctx: RenderContext) -> list[Download]:
    """The downloads of the publication being rendered (hrefs relative to its folder)."""
    return [
        Download(label, href, FEED_TYPE if href == FEED_NAME else media_type(href), size)
        for label, href, size in _folder_downloads(ctx)
    ]


def _entry_downloads(entry: CatalogueEntry) -> list[tuple[str, str, int | None]]:
    """(label, href relative to the publication folder, size) of every format of a publication."""
    kinds = [k for k in entry.formats if k not in NOT_DOWNLOADS and k != "feed"]
    kinds.sort(key=lambda k: (KIND_ORDER.index(k) if k in KIND_ORDER else len(KIND_ORDER), k))
    found: list[tuple[str, str, int | None]] = []
    for kind in kinds:
        path = entry.formats[kind]
        size = entry.files.get(path)
        if size is None and (entry.folder / path).is_file():
            size = (entry.folder / path).stat().st_size
        if kind == "daisy" and not path.endswith(".zip"):
            size = None  # the size of ncc.html alone would mislead: the book is the whole folder
        found.append((format_label(kind, path), path, size))
    if "feed" in entry.formats or _feed_link_expected(entry.folder):
        found.append((KIND_LABELS["feed"], entry.formats.get("feed", FEED_NAME), None))
    return found


def entry_downloads(entry: CatalogueEntry) -> list[Download]:
    """The downloads of a published publication, as the catalogue page links them (from `output/`)."""
    return [
        Download(label, f"{entry.slug}/{href}", FEED_TYPE if href.endswith(".xml") else media_type(href), size)
        for label, href, size in _entry_downloads(entry)
    ]
