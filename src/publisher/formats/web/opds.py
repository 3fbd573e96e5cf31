"""The OPDS catalogue: `output/opds.xml` (OPDS 1.2 acquisition feed, Atom) and `output/opds.json`
(OPDS 2.0), so e-reader apps (Thorium, KOReader, Aldiko, Calibre…) can browse and download.

Each publication is one entry: its EPUB (and the EPUB with narration) as open-access acquisitions,
the audio editions (MP3, M4B, audiobook packages, DAISY) as alternates, the cover as image and
thumbnail, with summary, language, authors, publisher and dates.
"""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from publisher import __version__
from publisher.files import write_atomic
from publisher.formats.context import CatalogueContext
from publisher.formats.web.feed import absolute, podcast_guid, sub_element
from publisher.model.catalogue import CatalogueEntry
from publisher.model.layout import media_type
from publisher.settings import Settings
from publisher.text import xml_safe
from publisher.xmlns import ATOM, DCTERMS, OPDS

NSMAP = {None: ATOM, "dc": DCTERMS, "opds": OPDS}

ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
OPEN_ACCESS = "http://opds-spec.org/acquisition/open-access"

#: kinds read as books (acquisitions) and kinds offered as other editions (alternates), in order
BOOK_KINDS = ("epub", "read_aloud_epub")
ALTERNATE_KINDS = ("mp3", "m4b", "audiobook", "lpf", "daisy_zip", "page")
TITLES = {
    "epub": "EPUB",
    "read_aloud_epub": "EPUB with narration (read-aloud)",
    "mp3": "MP3 (full length, with chapters)",
    "m4b": "M4B audiobook",
    "audiobook": "Readium audiobook",
    "lpf": "W3C audiobook (LPF)",
    "daisy_zip": "DAISY 2.02 talking book",
    "page": "Read along in the browser",
}


def _a(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def _link_type(path: str) -> str:
    kind = media_type(path)
    return "text/html" if kind == "text/html" else kind


def opds_xml(entries: list[CatalogueEntry], settings: Settings) -> bytes:
    """OPDS 1.2 acquisition feed."""
    feed = etree.Element(_a("feed"), nsmap=NSMAP)
    self_url = absolute(settings, "opds.xml")
    sub_element(feed, _a("id"), f"urn:uuid:{podcast_guid(self_url)}")
    sub_element(feed, _a("title"), settings.site_title)
    sub_element(feed, _a("updated"), max((e.modified for e in entries), default="1970-01-01T00:00:00Z"))
    author = sub_element(feed, _a("author"))
    sub_element(author, _a("name"), settings.publisher or settings.site_title)
    sub_element(feed, _a("generator"), "publisher", version=__version__)
    sub_element(feed, _a("link"), rel="self", href=self_url, type=ACQUISITION)
    sub_element(feed, _a("link"), rel="start", href=self_url, type=ACQUISITION)
    sub_element(feed, _a("link"), rel="alternate", href=absolute(settings, "index.html"), type="text/html")
    sub_element(feed, _a("link"), rel="related", href=absolute(settings, "feed.xml"), type="application/rss+xml")
    for entry in entries:
        item = sub_element(feed, _a("entry"))
        sub_element(item, _a("title"), entry.title)
        sub_element(item, _a("id"), entry.identifier)
        sub_element(item, _a("updated"), entry.modified)
        sub_element(item, _a("published"), entry.published)
        for name in entry.authors:
            sub_element(sub_element(item, _a("author")), _a("name"), name)
        sub_element(item, f"{{{DCTERMS}}}language", entry.language)
        if entry.date:
            sub_element(item, f"{{{DCTERMS}}}issued", entry.date)
        if entry.publisher:
            sub_element(item, f"{{{DCTERMS}}}publisher", entry.publisher)
        if entry.rights:
            sub_element(item, _a("rights"), entry.rights)
        for subject in entry.subjects:
            sub_element(item, _a("category"), term=xml_safe(subject), label=xml_safe(subject))
        summary = entry.description or (f"Narrated by {entry.narrator}." if entry.narrator else None)
        if summary:
            sub_element(item, _a("summary"), summary, type="text")
        if entry.cover:
            href = absolute(settings, entry.slug, entry.cover)
            kind = media_type(entry.cover)
            sub_element(item, _a("link"), rel="http://opds-spec.org/image", href=href, type=kind)
            sub_element(item, _a("link"), rel="http://opds-spec.org/image/thumbnail", href=href, type=kind)
        for kind in BOOK_KINDS + ALTERNATE_KINDS:
            path = entry.formats.get(kind)
            if not path or not (entry.folder / path).is_file():
                continue
            rel = OPEN_ACCESS if kind in BOOK_KINDS else "alternate"
            attrs = {"rel": rel, "href": absolute(settings, entry.slug, path), "type": _link_type(path)}
            attrs["title"] = TITLES[kind]
            if kind != "page":
                attrs["length"] = str((entry.folder / path).stat().st_size)
            sub_element(item, _a("link"), **attrs)
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def opds_json(entries: list[CatalogueEntry], settings: Settings) -> bytes:
    """OPDS 2.0 feed (JSON)."""
    publications = []
    for entry in entries:
        metadata: dict[str, object] = {
            "@type": "http://schema.org/Book",
            "title": entry.title,
            "identifier": entry.identifier,
            "language": entry.language,
            "modified": entry.modified,
            "published": entry.date or entry.published[:10],
            "duration": round(entry.duration, 3),
            "narrator": entry.narrator,
        }
        if entry.authors:
            metadata["author"] = [{"name": a} for a in entry.authors]
        if entry.description:
            metadata["description"] = entry.description
        if entry.publisher:
            metadata["publisher"] = entry.publisher
        if entry.subjects:
            metadata["subject"] = entry.subjects
        links = []
        for kind in BOOK_KINDS + ALTERNATE_KINDS:
            path = entry.formats.get(kind)
            if not path or not (entry.folder / path).is_file():
                continue
            link: dict[str, object] = {
                "rel": OPEN_ACCESS if kind in BOOK_KINDS else "alternate",
                "href": absolute(settings, entry.slug, path),
                "type": _link_type(path),
                "title": TITLES[kind],
            }
            links.append(link)
        images = []
        if entry.cover:
            images.append({"href": absolute(settings, entry.slug, entry.cover), "type": media_type(entry.cover)})
        publications.append({"metadata": metadata, "links": links, "images": images})
    data = {
        "metadata": {"title": settings.site_title},
        "links": [
            {"rel": "self", "href": absolute(settings, "opds.json"), "type": "application/opds+json"},
            {"rel": "alternate", "href": absolute(settings, "opds.xml"), "type": ACQUISITION},
        ],
        "publications": publications,
    }
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def write_opds(cat: CatalogueContext) -> list[Path]:
    """`output/opds.xml` and `output/opds.json`."""
    entries, output, settings = list(cat.entries), cat.output, cat.settings
    write_atomic(output / "opds.xml", opds_xml(entries, settings))
    write_atomic(output / "opds.json", opds_json(entries, settings))
    return [output / "opds.xml", output / "opds.json"]
