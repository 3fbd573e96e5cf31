"""What the catalogue page shows: every publication's cover, facts and downloads, as template data.

The page (`templates/index.html`, written to `output/index.html`) lists every publication with its
cover, metadata, formats (with sizes) and the site's subscription links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from publisher.formats.context import CatalogueContext
from publisher.formats.web.catalogue import Page
from publisher.formats.web.downloads import (
    FEED_NAME,
    FEED_TYPE,
    OPDS_NAME,
    OPDS_TYPE,
    PAGE_NAME,
    Download,
    entry_downloads,
)
from publisher.formats.web.images import Picture, cover_picture
from publisher.model.catalogue import CatalogueEntry
from publisher.model.layout import KIND_BY_NAME
from publisher.text import display_date, join_names, text_direction


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
    date: str  # ISO 8601
    date_text: str  # as people write it in the publication's language
    duration: float  # seconds
    narrator: str
    description: str | None
    downloads: list[Download]


def _cover(entry: CatalogueEntry) -> Picture | None:
    if not (entry.cover and (entry.folder / entry.cover).is_file()):
        return None
    by = f" by {join_names(entry.authors)}" if entry.authors else ""
    return cover_picture(entry.folder, entry.cover, f"Cover of {entry.title}{by}", f"{entry.slug}/")


def listing(entry: CatalogueEntry, feed: bool) -> Listing:
    """How the catalogue page shows one publication."""
    page = entry.formats.get("page")
    date = entry.date or entry.published[:10]
    return Listing(
        slug=entry.slug,
        title=entry.title,
        language=entry.language,
        direction=text_direction(entry.language),
        cover=_cover(entry),
        page=f"{entry.slug}/{page}" if page else None,
        authors=join_names(entry.authors) if entry.authors else "",
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
    opds = Download("OPDS catalogue (for reading apps)", OPDS_NAME, OPDS_TYPE, None)
    return {
        "feed": Download(KIND_BY_NAME["feed"].label, FEED_NAME, FEED_TYPE, None) if FEED_NAME in cat.files else None,
        "opds": opds if OPDS_NAME in cat.files else None,
        "feed_url": base + FEED_NAME,
        "publications": [listing(entry, "feed" in cat.kinds) for entry in page.items],
        "page": page,
        "page_links": page_links(page),
        "modified": max((e.modified for e in cat.entries), default=None),
    }
