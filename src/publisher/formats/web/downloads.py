"""What the web pages list for download: format labels and order, from what the registry's
renderers wrote (a publication being rendered) or what its manifest records (the catalogue)."""

from __future__ import annotations

from dataclasses import dataclass

from publisher.formats.context import RenderContext
from publisher.i18n import N_, translator
from publisher.model import layout
from publisher.model.catalogue import CatalogueEntry
from publisher.model.layout import FEED, KIND_BY_NAME, KINDS, NAMED_TYPES, OPDS_XML, media_type

PAGE_NAME = layout.PAGE
FEED_NAME = FEED
OPDS_NAME = OPDS_XML
FEED_TYPE = NAMED_TYPES[FEED]
OPDS_TYPE = "application/atom+xml"

#: the order downloads are listed in; kinds not in layout.KINDS follow alphabetically
KIND_ORDER = [kind.name for kind in KINDS]
#: formats recognised by their file name ending, when a manifest names a kind this version does not know
SUFFIX_KINDS = {".zip": "daisy_zip", ".audiobook": "audiobook", ".lpf": "lpf"}


@dataclass(frozen=True)
class Download:
    """One link of a download list: its label, address, media type and size in bytes (if telling)."""

    label: str
    href: str
    type: str
    size: int | None


#: the labels of model/layout.py's kinds, for the message catalogues (translated where they are shown)
LABELS = [
    N_("EPUB"), N_("EPUB with narration (read-aloud)"), N_("MP3"), N_("M4B audiobook"), N_("Captions (WebVTT)"),
    N_("Chapters (JSON)"), N_("DAISY 2.02 talking book (zip)"), N_("Readium audiobook"), N_("W3C audiobook (LPF)"),
    N_("Podcast feed (RSS)"), N_("Cover"), N_("Podcast artwork"), N_("Read-along page"),
]  # fmt: skip


def format_label(kind: str, path: str = "", language: str = "en") -> str:
    """A readable label for a format ("M4B audiobook"), from its kind or else its file name, in `language`."""
    _ = translator(language).gettext
    if kind in KIND_BY_NAME:
        if kind == "daisy" and path and not path.lower().endswith(".zip"):
            return _("DAISY 2.02 talking book (ncc.html)")
        return _(KIND_BY_NAME[kind].label)
    name = path.lower()
    for suffix, known in SUFFIX_KINDS.items():
        if name.endswith(suffix):
            return _(KIND_BY_NAME[known].label) if known != "daisy_zip" or "daisy" in name else _("ZIP archive")
    return kind.replace("_", " ").capitalize()


def _type(href: str) -> str:
    return FEED_TYPE if href.endswith(FEED_NAME) else media_type(href)


def folder_downloads(ctx: RenderContext) -> list[Download]:
    """The downloads of the publication being rendered (hrefs relative to its folder): every
    format the renderers before the page wrote, and the serial feed, which the catalogue stage adds
    to the folder after every publication."""
    found: list[Download] = []
    language = ctx.pub.metadata.language
    for kind in KINDS:
        path = ctx.written.get(kind.name)
        if path is None or not kind.download:
            continue
        href = path.relative_to(ctx.folder).as_posix()
        size = None if kind.name == "daisy" else path.stat().st_size  # ncc.html alone would mislead
        found.append(Download(format_label(kind.name, href, language), href, _type(href), size))
    if "feed" in ctx.later:
        found.append(Download(format_label("feed", FEED_NAME, language), FEED_NAME, FEED_TYPE, None))
    return found


def entry_downloads(entry: CatalogueEntry, feed: bool) -> list[Download]:
    """The downloads of a published publication, as the catalogue page links them (from `output/`);
    `feed`: whether the catalogue stage writes each publication's serial feed."""
    downloadable = {kind.name for kind in KINDS if kind.download and kind.name != "feed"}
    kinds = [k for k in entry.formats if k in downloadable or k not in KIND_BY_NAME]
    kinds.sort(key=lambda k: (KIND_ORDER.index(k) if k in KIND_ORDER else len(KIND_ORDER), k))
    found: list[Download] = []
    for kind in kinds:
        path = entry.formats[kind]
        size = entry.files.get(path)
        if kind == "daisy" and not path.endswith(".zip"):
            size = None  # the size of ncc.html alone would mislead: the book is the whole folder
        found.append(Download(format_label(kind, path, entry.language), f"{entry.slug}/{path}", _type(path), size))
    if "feed" in entry.formats or feed:
        href = f"{entry.slug}/{entry.formats.get('feed', FEED_NAME)}"
        found.append(Download(format_label("feed", FEED_NAME, entry.language), href, FEED_TYPE, None))
    return found
