"""What the catalogue page shows: every publication's cover, facts and downloads, as template data.

The page (`templates/index.html`, written to `output/index.html`) lists every publication with its
cover, metadata, formats (with sizes) and the site's subscription links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from publisher.formats.context import CatalogueContext
from publisher.formats.cover import cover_alt
from publisher.formats.web.catalogue import Page
from publisher.formats.web.downloads import (
    FEED_NAME,
    FEED_TYPE,
    OPDS_NAME,
    OPDS_TYPE,
    PAGE_NAME,
    Download,
    entry_downloads,
    format_label,
)
from publisher.formats.web.images import Picture, cover_picture
from publisher.i18n import join_names, translator
from publisher.model.catalogue import CatalogueEntry
from publisher.text.dates import display_date
from publisher.text.languages import text_direction


@dataclass(frozen=True)
class Listing:
    """One publication on the catalogue page (addresses relative to `output/`)."""

    slug: str
    title: str
    language: str
    direction: str
    cover: Picture | None
    page: str | None  # the read-along page
    authors: str  # joined for reading: "A, B and C"
    byline: str  # "By A, B and C", in the publication's language
    narrated: str  # "narrated by <voice>"
    read_label: str  # the link to the read-along page
    downloads_label: str  # "Downloads of <title>"
    date: str  # ISO 8601
    date_text: str  # as people write it in the publication's language
    duration: float  # seconds
    narrator: str
    description: str | None
    downloads: list[Download]


def _cover(entry: CatalogueEntry) -> Picture | None:
    if not (entry.cover and (entry.folder / entry.cover).is_file()):
        return None
    return cover_picture(
        entry.folder, entry.cover, cover_alt(entry.title, entry.authors, entry.language), f"{entry.slug}/"
    )


def listing(entry: CatalogueEntry, feed: bool) -> Listing:
    """How the catalogue page shows one publication."""
    page = entry.formats.get("page")
    date = entry.date or entry.published[:10]
    _ = translator(entry.language).gettext
    authors = join_names(entry.authors, entry.language)
    return Listing(
        slug=entry.slug,
        title=entry.title,
        language=entry.language,
        direction=text_direction(entry.language),
        cover=_cover(entry),
        page=f"{entry.slug}/{page}" if page else None,
        authors=authors,
        byline=_("By {authors}", authors=authors) if authors else "",
        narrated=_("narrated by {narrator}", narrator=entry.narrator),
        read_label=_("Read and listen"),
        downloads_label=_("Downloads of {title}", title=entry.title),
        date=date,
        date_text=display_date(date, entry.language),
        duration=entry.duration,
        narrator=entry.narrator,
        description=entry.description,
        downloads=entry_downloads(entry, feed),
    )


@dataclass(frozen=True)
class PageLink:
    """A link between the catalogue's pages."""

    rel: str  # first, prev, next, last
    label: str
    href: str


def page_links(page: Page[CatalogueEntry]) -> list[PageLink]:
    """Links to the first, previous, next and last pages (none for a one-page catalogue)."""
    if page.count == 1:
        return []
    labels = {"first": "First page", "prev": "Previous page", "next": "Next page", "last": "Last page"}
    links = page.neighbours(PAGE_NAME)
    return [PageLink(rel, label, links[rel]) for rel, label in labels.items() if rel in links]


def index_data(cat: CatalogueContext, page: Page[CatalogueEntry]) -> dict[str, Any]:
    """Everything `templates/index.html` shows: subscription links (to the catalogue files this run
    writes, as the registry declares them), publications, last update."""
    settings = cat.settings
    base = settings.base_url if settings.base_url.endswith("/") else settings.base_url + "/"
    _ = translator(settings.language).gettext
    opds = Download(_("OPDS catalogue (for reading apps)"), OPDS_NAME, OPDS_TYPE, None)
    feed = Download(format_label("feed", FEED_NAME, settings.language), FEED_NAME, FEED_TYPE, None)
    return {
        "feed": feed if FEED_NAME in cat.files else None,
        "opds": opds if OPDS_NAME in cat.files else None,
        "feed_url": base + FEED_NAME,
        "publications": [listing(entry, "feed" in cat.kinds) for entry in page.items],
        "page": page,
        "page_links": page_links(page),
        "modified": max((e.modified for e in cat.entries), default=None),
    }
