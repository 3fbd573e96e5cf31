"""OPDS catalogue validation: OPDS 2.0 against the vendored JSON Schema, OPDS 1.2 against its RELAX NG.

OPDS 2.0 documents are validated offline against opds-community's published JSON Schema (vendored
under schemas/opds/, resolving Readium's webpub-manifest schemas from schemas/readium/). OPDS 1.2
feeds are validated with lxml against the spec's RELAX NG schema (opds.rnc, which includes RFC
4287's atom.rnc; both vendored with their XML-syntax conversions, schemas/README.md), then by the
spec's rules that a grammar cannot say, each citing its section. Both kinds also have every link
that points into the output folder resolved: the file must exist and a declared size must be the
file's.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from lxml import etree

from publisher.validate.report import Report
from publisher.validate.schema import SchemaUnavailable, schema_errors
from publisher.xmlns import ATOM

OPDS = "http://opds-spec.org/2010/catalog"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
FEED_SCHEMA = "https://specs.opds.io/schema/feed.schema.json"
ACQUISITION_TYPE = "application/atom+xml;profile=opds-catalog;kind=acquisition"

RFC4287 = "RFC 4287 (Atom)"
OPDS12 = "OPDS Catalog 1.2 (specs.opds.io/opds-1.2)"
OPENSEARCH11 = "OpenSearch 1.1 draft 6 (github.com/dewitt/opensearch)"
HOUSE = "publisher issue 18"

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_NAME = re.compile(r"^(opds(-\d+)?\.(xml|json))$")
THUMBNAIL_MAX = 400  # px: a thumbnail larger than this is a cover, not a thumbnail


OPDS12_RNG = Path(__file__).resolve().parent / "schemas" / "opds" / "1.2" / "opds.rng"
#: opds.rnc's IRI pattern as published: "\nrt" means to exclude newline, CR and tab, but as written it
#: excludes the letters r and t, so no http: URL would pass; corrected in memory, never in the file
_PUBLISHED_IRI_PATTERN = '.*[ <>{}|^`"\\nrt].*'
_MEANT_IRI_PATTERN = '.*[ <>{}|^`"\\n\\r\\t].*'


@lru_cache(maxsize=1)
def opds12_schema() -> etree.RelaxNG:
    """The OPDS 1.2 RELAX NG grammar (with RFC 4287's Atom grammar it includes), its IRI pattern corrected."""
    grammar = etree.parse(str(OPDS12_RNG))
    for param in grammar.iter("{http://relaxng.org/ns/structure/1.0}param"):
        if param.get("name") == "pattern" and param.text == _PUBLISHED_IRI_PATTERN:
            param.text = _MEANT_IRI_PATTERN
    return etree.RelaxNG(grammar)


def relax_ng_problems(tree: etree._ElementTree) -> list[str]:
    """Where an OPDS 1.2 document breaks the RELAX NG grammar (Appendix B), one line per error."""
    schema = opds12_schema()
    if schema.validate(tree):
        return []
    return [f"RELAX NG ({OPDS12} Appendix B) line {e.line}: {e.message}" for e in schema.error_log]


def is_opds_file(path: Path) -> bool:
    """Whether `path` is a catalogue document publisher writes (opds.xml/.json, their pages, facet
    feeds, the OpenSearch description)."""
    if _NAME.match(path.name) or path.name == "opensearch.xml":
        return True
    return path.suffix in (".xml", ".json") and len(path.parts) >= 3 and path.parts[-3] == "_opds"


def _root_of(path: Path) -> Path:
    """The output folder a catalogue document belongs to: the nearest folder up holding opds.xml."""
    for folder in (path.parent, *path.parents):
        if (folder / "opds.xml").is_file() or (folder / "opds.json").is_file():
            return folder
    return path.parent


class _Links:
    """Maps the document's absolute URLs back to files through its own `self` link."""

    def __init__(self, path: Path, self_href: str | None, problems: list[str]) -> None:
        self.root = _root_of(path)
        relative = "/".join(quote(p) for p in path.relative_to(self.root).parts)
        self.base = self_href[: -len(relative)] if self_href and self_href.endswith(relative) else None
        self.problems = problems
        if self.base is None:
            problems.append(
                f"self link {self_href!r} does not end in {relative!r} ({OPDS12} §2: feeds link to themselves)"
            )

    def file(self, href: str) -> Path | None:
        """The local file an href names, or None when it is outside the folder (reported)."""
        if self.base is None or not href.startswith(self.base):
            self.problems.append(f"{href!r} is not under the catalogue's base {self.base!r}")
            return None
        return self.root / unquote(urlsplit(href[len(self.base) :]).path)

    def check(self, href: str, length: str | int | None = None) -> Path | None:
        """The file must exist; a declared length must be its size."""
        file = self.file(href)
        if file is None:
            return None
        if not file.is_file():
            self.problems.append(f"{href} does not exist ({file})")
            return None
        if length is not None and int(length) != file.stat().st_size:
            self.problems.append(f"{href}: declared size {length} != file size {file.stat().st_size} ({HOUSE})")
        return file


def _thumbnail_problems(file: Path) -> list[str]:
    from PIL import Image

    with Image.open(file) as image:
        width, height = image.size
    if max(width, height) > THUMBNAIL_MAX:
        return [
            f"thumbnail {file.name} is {width}×{height} px, over {THUMBNAIL_MAX} ({HOUSE}: a real ~200 px thumbnail)"
        ]
    return []


def check_opensearch(path: Path) -> list[str]:
    """The OpenSearch description a catalogue's search link points at."""
    try:
        root = etree.parse(str(path)).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        return [f"{path.name}: not well-formed XML: {exc}"]
    problems = []
    if root.tag != f"{{{OPENSEARCH}}}OpenSearchDescription":
        problems.append(f"{path.name}: root is {root.tag}, not OpenSearchDescription ({OPENSEARCH11})")
    if (
        not (root.findtext(f"{{{OPENSEARCH}}}ShortName") or "").strip()
        or len(root.findtext(f"{{{OPENSEARCH}}}ShortName") or "") > 16
    ):
        problems.append(f"{path.name}: ShortName missing or over 16 characters ({OPENSEARCH11})")
    if not (root.findtext(f"{{{OPENSEARCH}}}Description") or "").strip():
        problems.append(f"{path.name}: no Description ({OPENSEARCH11})")
    templates = [
        u.get("template", "") for u in root.findall(f"{{{OPENSEARCH}}}Url") if u.get("rel", "results") == "results"
    ]
    if not any("{searchTerms}" in t for t in templates):
        problems.append(f"{path.name}: no results Url whose template takes {{searchTerms}} ({OPENSEARCH11})")
    return problems


# --- OPDS 1.2 -------------------------------------------------------------------------------


def _atom_date_problems(element: etree._Element, where: str) -> list[str]:
    problems = []
    for tag in ("updated", "published"):
        for date in element.findall(f"{{{ATOM}}}{tag}"):
            if not _RFC3339.match((date.text or "").strip()):
                problems.append(f"{where}: {tag} {date.text!r} is not an RFC 3339 date-time ({RFC4287} §3.3)")
    return problems


def _entry_problems(entry: etree._Element, links: _Links) -> list[str]:
    name = entry.findtext(f"{{{ATOM}}}title") or "?"
    problems = []
    for tag in ("id", "title", "updated"):
        if len(entry.findall(f"{{{ATOM}}}{tag}")) != 1:
            problems.append(f"{name}: entry needs exactly one atom:{tag} ({RFC4287} §4.1.2)")
    problems += _atom_date_problems(entry, name)
    summary = entry.find(f"{{{ATOM}}}summary")
    if summary is not None and summary.get("type", "text") != "text":
        problems.append(f"{name}: atom:summary type {summary.get('type')!r}: OPDS allows text only ({OPDS12} §5.1.3)")
    rels = [link.get("rel", "") for link in entry.findall(f"{{{ATOM}}}link")]
    if not any(rel.startswith("http://opds-spec.org/acquisition") for rel in rels):
        problems.append(f"{name}: no acquisition link ({OPDS12} §5.4: an OPDS Catalog Entry has at least one)")
    for link in entry.findall(f"{{{ATOM}}}link"):
        rel, kind = link.get("rel", ""), link.get("type", "")
        if not kind:
            problems.append(f"{name}: link {link.get('href')} has no type ({OPDS12} §5.2, §7.1)")
        if rel.startswith("http://opds-spec.org/image") and kind not in ("image/jpeg", "image/png", "image/gif"):
            problems.append(f"{name}: {rel} is {kind!r}, not a GIF, JPEG or PNG ({OPDS12} §5.2.2)")
        file = links.check(link.get("href", ""), link.get("length"))
        if file is not None and rel == "http://opds-spec.org/image/thumbnail":
            problems += _thumbnail_problems(file)
    return problems


def _feed_problems(feed: etree._Element, links: _Links) -> list[str]:
    problems = []
    for tag in ("id", "title", "updated"):
        if len(feed.findall(f"{{{ATOM}}}{tag}")) != 1:
            problems.append(f"feed needs exactly one atom:{tag} ({RFC4287} §4.1.1)")
    entries = feed.findall(f"{{{ATOM}}}entry")
    if feed.find(f"{{{ATOM}}}author") is None and any(e.find(f"{{{ATOM}}}author") is None for e in entries):
        problems.append(f"feed without atom:author has entries without one ({RFC4287} §4.1.1)")
    problems += _atom_date_problems(feed, "feed")
    for link in feed.findall(f"{{{ATOM}}}link"):
        rel, kind = link.get("rel", "alternate"), link.get("type", "")
        if rel in ("self", "start", "first", "last", "next", "previous") and kind.replace(" ", "") != ACQUISITION_TYPE:
            problems.append(f"{rel} link type {kind!r} is not {ACQUISITION_TYPE} ({OPDS12} §2.3)")
        if rel == "http://opds-spec.org/facet" and not link.get(f"{{{OPDS}}}facetGroup"):
            problems.append(f"facet {link.get('title')!r} has no opds:facetGroup ({OPDS12} §4)")
        if rel == "search" and kind != "application/opensearchdescription+xml":
            problems.append(f"search link type {kind!r} is not application/opensearchdescription+xml ({OPDS12} §3)")
        file = links.check(link.get("href", ""))
        if file is not None and rel == "search":
            problems += check_opensearch(file)
    rels = {link.get("rel") for link in feed.findall(f"{{{ATOM}}}link")}
    if rels & {"next", "previous"} and not {"first", "last"} <= rels:
        problems.append(f"a paginated feed links first and last as well as next/previous ({OPDS12} §2.4, RFC 5005 §3)")
    return problems


def check_opds_xml(path: Path) -> Report:
    """An OPDS 1.2 acquisition feed (page or facet) written by publisher."""
    try:
        feed = etree.parse(str(path)).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        return Report(path, "OPDS 1.2", False, f"not well-formed XML: {exc}")
    if feed.tag != f"{{{ATOM}}}feed":
        return Report(path, "OPDS 1.2", False, f"root is {feed.tag}, not atom:feed ({OPDS12} §2)")
    problems = relax_ng_problems(feed.getroottree())
    self_link = feed.find(f"{{{ATOM}}}link[@rel='self']")
    links = _Links(path, self_link.get("href") if self_link is not None else None, problems)
    problems += _feed_problems(feed, links)
    entries = feed.findall(f"{{{ATOM}}}entry")
    for entry in entries:
        problems += _entry_problems(entry, links)
    summary = f"{len(entries)} entries" + (f", {len(problems)} problems" if problems else ", valid")
    return Report(path, "OPDS 1.2", not problems, summary, problems)


# --- OPDS 2.0 -------------------------------------------------------------------------------


def check_opds_json(path: Path) -> Report:
    """An OPDS 2.0 feed (page or facet): the JSON Schema, then every local link and size."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return Report(path, "OPDS 2.0", False, f"not JSON: {exc}")
    try:
        problems = [f"schema: {line}" for line in schema_errors(data, FEED_SCHEMA)]
    except SchemaUnavailable as exc:
        return Report(path, "OPDS 2.0", False, f"cannot validate offline: {exc}")
    if not isinstance(data, dict):
        return Report(path, "OPDS 2.0", False, "not an object", problems)
    self_href = next((link.get("href") for link in data.get("links", []) if link.get("rel") == "self"), None)
    links = _Links(path, self_href, problems)
    for link in data.get("links", []):
        links.check(link.get("href", ""))
    for group in data.get("facets", []):
        for link in group.get("links", []):
            links.check(link.get("href", ""))
    publications = data.get("publications", [])
    for publication in publications:
        for link in publication.get("links", []):
            links.check(link.get("href", ""), link.get("size"))
        for index, image in enumerate(publication.get("images", [])):
            file = links.check(image.get("href", ""))
            if file is not None and index == 0 and len(publication["images"]) > 1:
                problems += _thumbnail_problems(file)
    summary = f"{len(publications)} publications" + (f", {len(problems)} problems" if problems else ", schema valid")
    return Report(path, "OPDS 2.0", not problems, summary, problems)


def check_opds(path: Path) -> Report:
    """An OPDS document of either version, by its suffix, or the OpenSearch description."""
    if path.name == "opensearch.xml":
        problems = check_opensearch(path)
        return Report(path, "OpenSearch", not problems, f"{len(problems)} problems" if problems else "valid", problems)
    return check_opds_json(path) if path.suffix == ".json" else check_opds_xml(path)
