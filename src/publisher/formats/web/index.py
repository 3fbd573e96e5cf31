"""What the catalogue page shows: every publication's cover, facts and downloads, as template data.

The page (`templates/index.html`, written to `output/index.html`) lists every publication with its
cover, metadata, formats (with sizes) and the site's subscription links.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher.formats.web.downloads import (
    FEED_NAME,
    FEED_TYPE,
    KIND_LABELS,
    OPDS_NAME,
    OPDS_TYPE,
    Download,
    entry_downloads,
    feed_expected,
    opds_expected,
)
from publisher.formats.web.images import Picture, cover_picture
from publisher.pipeline.manifest import CatalogueEntry
from publisher.settings import Settings
from publisher.speech.credits import join_names
from publisher.text import display_date, text_direction


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


def listing(entry: CatalogueEntry) -> Listing:
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
        downloads=entry_downloads(entry),
    )


def index_data(entries: list[CatalogueEntry], output: Path, settings: Settings) -> dict[str, Any]:
    """Everything `templates/index.html` shows: subscription links, publications, last update."""
    base = settings.base_url if settings.base_url.endswith("/") else settings.base_url + "/"
    feed = feed_expected(output)
    return {
        "feed": Download(KIND_LABELS["feed"], FEED_NAME, FEED_TYPE, None) if feed else None,
        "opds": Download("OPDS catalogue (for reading apps)", OPDS_NAME, OPDS_TYPE, None)
        if opds_expected(output)
        else None,
        "feed_url": base + FEED_NAME,
        "publications": [listing(entry) for entry in entries],
        "modified": max((e.modified for e in entries), default=None),
    }
