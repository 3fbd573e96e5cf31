"""The OPDS catalogue: `output/opds.xml` (OPDS 1.2 acquisition feed, Atom) and `output/opds.json`
(OPDS 2.0), so e-reader apps (Thorium, KOReader, Aldiko, Calibre…) can browse, search and download.

Large catalogues are paginated like every catalogue document (`page_size` entries a page; page n ≥ 2
is `opds-<n>.xml` / `opds-<n>.json`, linked first/previous/next/last), and faceted: each page offers
the languages of the whole catalogue and the authors on that page as facets, each facet being its own
paginated acquisition feed under `_opds/language/<tag>` and `_opds/author/<key>`. `opensearch.xml`
describes search over `search.json`, a generated index of every publication the static site serves.

Each publication is one entry: every format it has as an open-access acquisition (the read-along page
as an HTML alternate) with its media type and size, the cover as image and a ~200 px thumbnail,
with summary, language, authors, publisher, the source's own date (`dc:issued`; never the publish
date in its place) and when the entry first appeared (`published`, only when that is known).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from lxml import etree

from publisher import __version__
from publisher.files import remove, write_atomic
from publisher.formats.context import CatalogueContext
from publisher.formats.web.catalogue import Page, RenderCache, pages, remove_stale_pages
from publisher.formats.web.feed import THUMBNAIL_NAME, absolute, podcast_guid, sub_element
from publisher.formats.web.feedtext import opds_summary, opds_title
from publisher.model import layout
from publisher.model.catalogue import CatalogueEntry
from publisher.model.layout import media_type
from publisher.sanitise import plain_text
from publisher.settings import Settings
from publisher.text.clean import xml_safe
from publisher.text.slugs import slugify
from publisher.xmlns import ATOM, DCTERMS, OPDS, OPENSEARCH, THR

NSMAP = {None: ATOM, "dc": DCTERMS, "opds": OPDS, "thr": THR, "opensearch": OPENSEARCH}

ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
OPDS_JSON = "application/opds+json"
OPENSEARCH_TYPE = "application/opensearchdescription+xml"
OPEN_ACCESS = "http://opds-spec.org/acquisition/open-access"
FACET = "http://opds-spec.org/facet"
XML_NAME, JSON_NAME = layout.OPDS_XML, layout.OPDS_JSON
OPENSEARCH_NAME, SEARCH_INDEX, FACET_DIR = layout.OPENSEARCH, layout.SEARCH_INDEX, layout.FACET_DIR

#: every format offered, in order: acquisitions (downloads), then the read-along page (an alternate)
KINDS = ("epub", "read_aloud_epub", "enhanced_epub", "m4b", "mp3", "audiobook", "lpf", "daisy_zip", "page")


def _a(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def _link_type(path: str) -> str:
    kind = media_type(path)
    return "text/html" if kind == "text/html" else kind


def _size(entry: CatalogueEntry, path: str) -> int | None:
    if entry.files:
        return entry.files.get(path)
    file = entry.folder / path
    return file.stat().st_size if file.is_file() else None


def _formats(entry: CatalogueEntry) -> list[tuple[str, str, int]]:
    """(kind, path, size) of every format the publication holds."""
    found = []
    for kind in KINDS:
        path = entry.formats.get(kind)
        size = _size(entry, path) if path else None
        if path and size is not None:
            found.append((kind, path, size))
    return found


def _images(entry: CatalogueEntry) -> list[tuple[str, str]]:
    """(rel, path) of the cover and its thumbnail (the cover itself for publications made before thumbnails)."""
    if not entry.cover:
        return []
    small = THUMBNAIL_NAME if THUMBNAIL_NAME in entry.files else entry.cover
    return [("http://opds-spec.org/image", entry.cover), ("http://opds-spec.org/image/thumbnail", small)]


def author_key(name: str) -> str:
    """The file name stem of an author's facet: readable, and unique however names collide as slugs."""
    return f"{slugify(name, 40) or 'author'}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"


# --- facets ---------------------------------------------------------------------------------


class Facet:
    """A subset of the catalogue (one language, one author) with its own paginated feeds."""

    def __init__(self, group: str, title: str, stem: str, entries: list[CatalogueEntry]) -> None:
        self.group, self.title, self.stem, self.entries = group, title, stem, entries

    def name(self, suffix: str) -> str:
        """Page 1's path under output/ ("_opds/language/en.xml")."""
        return f"{self.stem}{suffix}"


def facets(entries: list[CatalogueEntry]) -> dict[str, Facet]:
    """Every facet of the catalogue by its stem: each language, each author."""
    found: dict[str, Facet] = {}
    for entry in entries:
        keys = [("Language", entry.language, f"{FACET_DIR}/language/{slugify(entry.language, 35) or 'und'}")]
        keys += [("Author", name, f"{FACET_DIR}/author/{author_key(name)}") for name in entry.authors]
        for group, title, stem in keys:
            found.setdefault(stem, Facet(group, title, stem, [])).entries.append(entry)
    return found


def _languages(every: dict[str, Facet]) -> list[Facet]:
    return sorted((f for f in every.values() if f.group == "Language"), key=lambda f: f.title)


def _page_facets(
    page: Page[CatalogueEntry], every: dict[str, Facet], languages: list[Facet] | None = None
) -> list[Facet]:
    """The facets offered on a page: every language (`languages`, when already sorted out), and
    the authors of the page's entries."""
    languages = _languages(every) if languages is None else languages
    names = Counter(name for entry in page.items for name in entry.authors)
    authors = [every[f"{FACET_DIR}/author/{author_key(n)}"] for n in sorted(names, key=str.casefold)]
    return languages + authors


# --- OPDS 1.2 -------------------------------------------------------------------------------


def _xml_entry(feed: etree._Element, entry: CatalogueEntry, settings: Settings) -> None:
    item = sub_element(feed, _a("entry"))
    sub_element(item, _a("title"), entry.title)
    sub_element(item, _a("id"), entry.identifier)
    sub_element(item, _a("updated"), entry.modified)
    if not entry.date:  # without a source date, `published` is the first publish: the entry's first availability
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
    summary = opds_summary(entry)
    if summary:
        sub_element(item, _a("summary"), summary, type="text")
    for rel, path in _images(entry):
        sub_element(item, _a("link"), rel=rel, href=absolute(settings, entry.slug, path), type=media_type(path))
    for kind, path, size in _formats(entry):
        rel = "alternate" if kind == "page" else OPEN_ACCESS
        attrs = {
            "rel": rel,
            "href": absolute(settings, entry.slug, path),
            "type": _link_type(path),
            "title": opds_title(kind, entry.language),
        }
        if kind != "page":
            attrs["length"] = str(size)
        sub_element(item, _a("link"), **attrs)


def _xml_links(feed: etree._Element, page: Page[CatalogueEntry], first: str, settings: Settings) -> None:
    sub_element(feed, _a("link"), rel="self", href=absolute(settings, page.name(first)), type=ACQUISITION)
    sub_element(feed, _a("link"), rel="start", href=absolute(settings, XML_NAME), type=ACQUISITION)
    sub_element(feed, _a("link"), rel="search", href=absolute(settings, OPENSEARCH_NAME), type=OPENSEARCH_TYPE)
    if page.count > 1:
        for rel, name in page.neighbours(first).items():
            sub_element(feed, _a("link"), rel="previous" if rel == "prev" else rel, href=absolute(settings, name),
                        type=ACQUISITION)  # fmt: skip
    sub_element(feed, _a("link"), rel="alternate", href=absolute(settings, layout.PAGE), type="text/html")
    sub_element(feed, _a("link"), rel="related", href=absolute(settings, layout.FEED), type="application/rss+xml")


def opds_xml_page(
    page: Page[CatalogueEntry], first: str, title: str, offered: list[Facet], settings: Settings
) -> bytes:
    """One page of an OPDS 1.2 acquisition feed (`first` is page 1's path under output/)."""
    feed = etree.Element(_a("feed"), nsmap=NSMAP)
    sub_element(feed, _a("id"), f"urn:uuid:{podcast_guid(absolute(settings, page.name(first)))}")
    sub_element(feed, _a("title"), title)
    sub_element(feed, _a("updated"), max((e.modified for e in page.items), default="1970-01-01T00:00:00Z"))
    author = sub_element(feed, _a("author"))
    sub_element(author, _a("name"), settings.publisher or settings.site_title)
    sub_element(feed, _a("generator"), "publisher", version=__version__)
    _xml_links(feed, page, first, settings)
    for facet in offered:
        attrs = {"rel": FACET, "href": absolute(settings, facet.name(".xml")), "type": ACQUISITION,
                 "title": facet.title, f"{{{OPDS}}}facetGroup": facet.group,
                 f"{{{THR}}}count": str(len(facet.entries))}  # fmt: skip
        if facet.name(".xml") == first:
            attrs[f"{{{OPDS}}}activeFacet"] = "true"
        sub_element(feed, _a("link"), **attrs)
    sub_element(feed, f"{{{OPENSEARCH}}}totalResults", str(page.total))
    sub_element(feed, f"{{{OPENSEARCH}}}itemsPerPage", str(page.size))
    sub_element(feed, f"{{{OPENSEARCH}}}startIndex", str((page.number - 1) * page.size + 1))
    for entry in page.items:
        _xml_entry(feed, entry, settings)
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def opds_xml(entries: list[CatalogueEntry], settings: Settings) -> bytes:
    """Page 1 of the OPDS 1.2 acquisition feed."""
    every = facets(entries)
    page = pages(entries, settings.page_size)[0]
    return opds_xml_page(page, XML_NAME, settings.site_title, _page_facets(page, every), settings)


# --- OPDS 2.0 -------------------------------------------------------------------------------


def _publication(entry: CatalogueEntry, settings: Settings) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "@type": "http://schema.org/Book",
        "title": entry.title,
        "identifier": entry.identifier,
        "language": entry.language,
        "modified": entry.modified,
    }
    if entry.date:
        metadata["published"] = entry.date
    if entry.duration:
        metadata["duration"] = round(entry.duration, 3)
    if entry.narrator:
        metadata["narrator"] = entry.narrator
    if entry.authors:
        metadata["author"] = [{"name": a} for a in entry.authors]
    if entry.description:
        metadata["description"] = plain_text(entry.description)  # reading apps render it as HTML
    if entry.publisher:
        metadata["publisher"] = entry.publisher
    if entry.subjects:
        metadata["subject"] = entry.subjects
    links = []
    for kind, path, size in _formats(entry):
        link: dict[str, Any] = {"rel": "alternate" if kind == "page" else OPEN_ACCESS,
                                "href": absolute(settings, entry.slug, path), "type": _link_type(path),
                                "title": opds_title(kind, entry.language)}  # fmt: skip
        if kind != "page":
            link["size"] = size
        links.append(link)
    images = [{"href": absolute(settings, entry.slug, path), "type": media_type(path)} for _, path in _images(entry)]
    publication: dict[str, Any] = {"metadata": metadata, "links": links}
    if images:
        publication["images"] = list(reversed(images))  # the thumbnail first: clients show the first that fits
    return publication


def opds_json_page(
    page: Page[CatalogueEntry], first: str, title: str, offered: list[Facet], settings: Settings,
    memo: dict[str, dict[str, Any]] | None = None,
) -> bytes:  # fmt: skip
    """One page of the OPDS 2.0 feed (`first` is page 1's path under output/); `memo` keeps each
    publication's object for the next page that shows it."""
    memo = {} if memo is None else memo
    links: list[dict[str, Any]] = [
        {"rel": "self", "href": absolute(settings, page.name(first)), "type": OPDS_JSON},
        {"rel": "start", "href": absolute(settings, JSON_NAME), "type": OPDS_JSON},
        {"rel": "search", "href": absolute(settings, OPENSEARCH_NAME), "type": OPENSEARCH_TYPE},
        {"rel": "alternate", "href": absolute(settings, XML_NAME), "type": ACQUISITION},
    ]
    if page.count > 1:
        links += [{"rel": "previous" if rel == "prev" else rel, "href": absolute(settings, name), "type": OPDS_JSON}
                  for rel, name in page.neighbours(first).items()]  # fmt: skip
    metadata = {"title": title, "numberOfItems": page.total, "itemsPerPage": page.size, "currentPage": page.number}
    data: dict[str, Any] = {"metadata": metadata, "links": links}
    groups: dict[str, list[dict[str, Any]]] = {}
    for facet in offered:
        link = {"href": absolute(settings, facet.name(".json")), "type": OPDS_JSON, "title": facet.title,
                "properties": {"numberOfItems": len(facet.entries)}}  # fmt: skip
        if facet.name(".json") == first:
            link["rel"] = "self"
        groups.setdefault(facet.group, []).append(link)
    if groups:
        data["facets"] = [{"metadata": {"title": group}, "links": items} for group, items in groups.items()]
    if page.items:
        data["publications"] = [memo.get(e.slug) or memo.setdefault(e.slug, _publication(e, settings))
                                for e in page.items]  # fmt: skip
    else:  # a feed needs publications, navigation or groups: an empty catalogue points at the site
        data["navigation"] = [{"href": absolute(settings, layout.PAGE), "type": "text/html", "title": title}]
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def opds_json(entries: list[CatalogueEntry], settings: Settings) -> bytes:
    """Page 1 of the OPDS 2.0 feed."""
    every = facets(entries)
    page = pages(entries, settings.page_size)[0]
    return opds_json_page(page, JSON_NAME, settings.site_title, _page_facets(page, every), settings)


# --- search ---------------------------------------------------------------------------------


def opensearch(settings: Settings) -> bytes:
    """The OpenSearch 1.1 description: its template is `search.json`, the generated index of every
    publication, which the static site serves as it is (the client filters it by the query)."""
    root = etree.Element(f"{{{OPENSEARCH}}}OpenSearchDescription", nsmap={None: OPENSEARCH})
    sub_element(root, f"{{{OPENSEARCH}}}ShortName", settings.site_title[:16])
    sub_element(root, f"{{{OPENSEARCH}}}Description", f"Search {settings.site_title} by title, author or subject.")
    sub_element(root, f"{{{OPENSEARCH}}}InputEncoding", "UTF-8")
    sub_element(root, f"{{{OPENSEARCH}}}OutputEncoding", "UTF-8")
    sub_element(root, f"{{{OPENSEARCH}}}Url", type="application/json", rel="results",
                template=absolute(settings, SEARCH_INDEX) + "?q={searchTerms}")  # fmt: skip
    sub_element(root, f"{{{OPENSEARCH}}}Url", type="application/opensearchdescription+xml", rel="self",
                template=absolute(settings, OPENSEARCH_NAME))  # fmt: skip
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def search_index(entries: list[CatalogueEntry], settings: Settings) -> bytes:
    """`search.json`: one record per publication (title, authors, language, subjects, date, links),
    in catalogue order, for the static site to search without a server."""
    records = []
    for entry in entries:
        page = entry.formats.get("page")
        records.append({
            "title": entry.title, "authors": entry.authors, "language": entry.language,
            "subjects": entry.subjects, "date": entry.date, "identifier": entry.identifier,
            "href": absolute(settings, entry.slug, page) if page else absolute(settings, entry.slug) + "/",
        })  # fmt: skip
    return (json.dumps({"publications": records}, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


# --- writing --------------------------------------------------------------------------------


class _Writer:
    """Writes every page of the acquisition feeds, rendering only those whose inputs changed."""

    def __init__(self, entries: list[CatalogueEntry], output: Path, settings: Settings) -> None:
        self.output, self.settings = output, settings
        self.every = facets(entries)
        self.languages = _languages(self.every)
        self.cache = RenderCache(output, "opds", settings)
        self.keys = {entry.slug: entry.digest for entry in entries}
        self.publications: dict[str, dict[str, Any]] = {}  # rendered once, shared by every page showing it
        self.written: list[Path] = []
        self.expected: set[Path] = set()

    def feed(self, entries: list[CatalogueEntry], stem: str, title: str) -> int:
        """Every page of one acquisition feed (`stem` under output/) in both formats; the number of pages."""
        split = pages(entries, self.settings.page_size)
        for page in split:
            offered = _page_facets(page, self.every, self.languages)
            facet_keys = tuple((f.stem, f.title, len(f.entries)) for f in offered)
            items = tuple(self.keys[e.slug] for e in page.items)
            key = (title, page.number, page.count, page.total, facet_keys, items)
            for suffix in (".xml", ".json"):
                path = self.output / page.name(stem + suffix)
                self.expected.add(path)
                if self.cache.fresh(path, self.cache.key(suffix, stem, key)):
                    continue
                if suffix == ".xml":
                    data = opds_xml_page(page, stem + suffix, title, offered, self.settings)
                else:
                    data = opds_json_page(page, stem + suffix, title, offered, self.settings, self.publications)
                if write_atomic(path, data):
                    self.written.append(path)
        return len(split)


def write_opds(cat: CatalogueContext) -> list[Path]:
    """`opds.xml`, `opds.json` (and their further pages), a feed per facet under `_opds/`,
    `opensearch.xml` and `search.json`; returns the files whose bytes changed."""
    entries, output, settings = list(cat.entries), cat.output, cat.settings
    writer = _Writer(entries, output, settings)
    count = writer.feed(entries, "opds", settings.site_title)
    for suffix in (".xml", ".json"):
        remove_stale_pages(output, "opds" + suffix, count)
    for facet in writer.every.values():
        writer.feed(facet.entries, facet.stem, f"{settings.site_title}: {facet.title}")
    for name, data in ((OPENSEARCH_NAME, opensearch(settings)), (SEARCH_INDEX, search_index(entries, settings))):
        if write_atomic(output / name, data):
            writer.written.append(output / name)
    _remove_stale_facets(output, writer.expected)
    writer.cache.save()
    return writer.written


def _remove_stale_facets(output: Path, expected: set[Path]) -> None:
    """Delete facet feeds (and pages of them) this run did not write: authors and languages gone."""
    folder = output / FACET_DIR
    if not folder.is_dir():
        return
    for path in folder.glob("*/*"):
        if path.suffix in (".xml", ".json") and path not in expected:
            remove(path)
