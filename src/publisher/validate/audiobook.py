"""Checks of audiobook packages: Readium `.audiobook` (manifest.json) and W3C Audiobooks `.lpf` (publication.json).

Each manifest is validated against the published JSON Schemas vendored in `validate/schemas/`
(Readium Web Publication Manifest; W3C Audiobooks + Publication Manifest modules; see schema.py),
offline. Without `jsonschema` installed (it comes
with the `test` extra) only the structural checks run, and the summary says so. Either way: every
reading-order file is in the zip, the durations add up to the total within 1 s and match the real
MP3s within 0.1 s, the table of contents points at audio inside the package, the cover is there.
"""

from __future__ import annotations

import json
import posixpath
import zipfile
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import unquote, urlsplit

from lxml import html as lxml_html
from mutagen import MutagenError

from publisher.clock import parse_clock, parse_iso_duration
from publisher.validate.audio import mp3_length
from publisher.validate.report import Report
from publisher.validate.schema import SchemaUnavailable, schema_errors

READIUM_SCHEMA = "https://readium.org/webpub-manifest/schema/publication.schema.json"
W3C_SCHEMA = "https://www.w3.org/ns/pub-schema/audiobooks/audiobooks.schema.json"
READIUM_PROFILE = "https://readium.org/webpub-manifest/profiles/audiobook"
READIUM_CONTEXT = "https://readium.org/webpub-manifest/context.jsonld"
W3C_CONTEXT = ["https://schema.org", "https://www.w3.org/ns/pub-context"]
W3C_AUDIOBOOKS = "https://www.w3.org/TR/audiobooks/"
#: how far the total may be from the sum of the reading order (W3C Audiobooks §5.6.2 asks "equal")
TOTAL_TOLERANCE = 1.0
#: how far a declared duration may be from the MP3's own (MP3 frames are 26 ms)
FILE_TOLERANCE = 0.1
MAX_SCHEMA_MESSAGES = 20


# --- the package --------------------------------------------------------------------------------


def _member(base: str, href: str) -> tuple[str, str]:
    """The zip member an href names (relative to `base`, a member path) and its fragment."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return "", parts.fragment
    path = posixpath.normpath(posixpath.join(posixpath.dirname(base), unquote(parts.path)))
    return path.lstrip("/"), parts.fragment


def _fragment_start(fragment: str) -> float | None:
    """The start of a media fragment `t=<start>[,<end>]` (Normal Play Time seconds or hh:mm:ss)."""
    if not fragment.startswith("t="):
        return None
    try:
        return parse_clock(fragment[2:].split(",")[0].removeprefix("npt:"))
    except ValueError:
        return None


class _Package:
    """A zip opened for checking, with the real length of every MP3 it holds."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.names = set(zf.namelist())
        self._lengths: dict[str, float | None] = {}

    def length(self, name: str) -> float | None:
        """Seconds of audio in the MP3 member `name`; None when it is not a readable MP3."""
        if name not in self._lengths:
            try:
                self._lengths[name] = mp3_length(self.zf.read(name))
            except (MutagenError, zipfile.BadZipFile, OSError):
                self._lengths[name] = None
        return self._lengths[name]


def _check_audio(
    pkg: _Package, manifest: str, entries: list[tuple[str, str, float | None]], total: float | None
) -> list[str]:
    """Reading-order files present, durations matching their MP3s and adding up to `total`."""
    messages = []
    if not entries:
        messages.append("the reading order is empty")
    declared_sum = 0.0
    for href, media_type, duration in entries:
        name, fragment = _member(manifest, href)
        if not media_type.startswith("audio/"):
            messages.append(f"reading order {href!r} is {media_type or 'untyped'}, not audio")
        if fragment:
            messages.append(f"reading order {href!r} has a fragment: each entry must be a whole file")
        if duration is None:
            messages.append(f"reading order {href!r} has no duration")
        else:
            declared_sum += duration
        if name not in pkg.names:
            messages.append(f"reading order {href!r} is not in the package")
            continue
        if duration is not None and name.lower().endswith(".mp3"):
            real = pkg.length(name)
            if real is None:
                messages.append(f"{href} is not a readable MP3")
            elif abs(real - duration) > FILE_TOLERANCE:
                messages.append(f"{href}: declared {duration:.3f} s, the MP3 plays {real:.3f} s")
        if pkg.zf.getinfo(name).compress_type != zipfile.ZIP_STORED:
            messages.append(f"{name} is deflated: audio should be stored uncompressed")
    if total is None:
        messages.append("no total duration")
    elif abs(total - declared_sum) > TOTAL_TOLERANCE:
        messages.append(f"total duration {total:.3f} s ≠ sum of the reading order {declared_sum:.3f} s")
    return messages


def _check_toc_links(pkg: _Package, base: str, hrefs: list[str], reading: set[str]) -> list[str]:
    messages = []
    for href in hrefs:
        name, fragment = _member(base, href)
        if name not in pkg.names:
            messages.append(f"table of contents entry {href!r} is not in the package")
            continue
        if name not in reading:
            messages.append(f"table of contents entry {href!r} is not in the reading order")
        start = _fragment_start(fragment) if fragment else 0.0
        if start is None:
            messages.append(f"table of contents entry {href!r}: fragment is not a media time (t=…)")
        elif name.lower().endswith(".mp3"):
            length = pkg.length(name)
            if length is not None and not 0 <= start <= length + FILE_TOLERANCE:
                messages.append(f"table of contents entry {href!r} starts past the end of {name}")
    return messages


def _links(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    return [i if isinstance(i, dict) else {"url": i, "href": i} for i in items]


def _rels(link: dict[str, Any]) -> list[str]:
    rel = link.get("rel", [])
    return [rel] if isinstance(rel, str) else list(rel)


def _conforms(value: Any, uri: str) -> bool:
    return value == uri or (isinstance(value, list) and uri in value)


def _check_readium(pkg: _Package, data: dict[str, Any]) -> tuple[list[str], int, float | None]:
    messages = []
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    if not _conforms(data.get("@context"), READIUM_CONTEXT):
        messages.append(f"@context is not {READIUM_CONTEXT}")
    if not _conforms(metadata.get("conformsTo"), READIUM_PROFILE):
        messages.append(f"metadata.conformsTo does not name the audiobook profile {READIUM_PROFILE}")
    reading = _links(data.get("readingOrder"))
    entries = []
    for link in reading:
        duration = link.get("duration")
        entries.append(
            (str(link.get("href", "")), str(link.get("type", "")), float(duration) if _number(duration) else None)
        )
    total = float(metadata["duration"]) if _number(metadata.get("duration")) else None
    messages += _check_audio(pkg, "manifest.json", entries, total)
    names = {_member("manifest.json", href)[0] for href, _, _ in entries}
    toc = [str(link.get("href", "")) for link in _links(data.get("toc"))]
    if not toc:
        messages.append("no table of contents (toc)")
    messages += _check_toc_links(pkg, "manifest.json", toc, names)
    messages += _check_cover(pkg, "manifest.json", _links(data.get("resources")), "href")
    return messages, len(entries), total


def _check_w3c(pkg: _Package, data: dict[str, Any]) -> tuple[list[str], int, float | None]:
    messages = []
    context = data.get("@context")
    if not isinstance(context, list) or context[:2] != W3C_CONTEXT:
        messages.append(f"@context does not start with {W3C_CONTEXT}")
    if not _conforms(data.get("conformsTo"), W3C_AUDIOBOOKS):
        messages.append(f"conformsTo is not {W3C_AUDIOBOOKS}")
    entries = []
    for link in _links(data.get("readingOrder")):
        seconds = parse_iso_duration(link.get("duration"))
        if "duration" in link and seconds is None:
            messages.append(f"reading order {link.get('url')!r}: duration {link['duration']!r} is not ISO 8601")
        entries.append((str(link.get("url", "")), str(link.get("encodingFormat", "")), seconds))
    total = parse_iso_duration(data.get("duration"))
    messages += _check_audio(pkg, "publication.json", entries, total)
    names = {_member("publication.json", url)[0] for url, _, _ in entries}
    resources = _links(data.get("resources"))
    messages += _check_cover(pkg, "publication.json", resources, "url")
    contents = [r for r in resources if "contents" in _rels(r)]
    if not contents:
        messages.append('no resource with rel "contents" (the table of contents)')
    for resource in contents:
        page, _ = _member("publication.json", str(resource.get("url", "")))
        if page not in pkg.names:
            messages.append(f"table of contents {page!r} is not in the package")
            continue
        doc = lxml_html.fromstring(pkg.zf.read(page))
        navs = doc.xpath('//*[@role="doc-toc"]')
        if not navs:
            messages.append(f'{page}: no element with role="doc-toc"')
            continue
        hrefs = [str(a.get("href")) for a in navs[0].iter("a") if a.get("href")]
        if not hrefs:
            messages.append(f"{page}: the table of contents has no links")
        messages += _check_toc_links(pkg, page, hrefs, names)
    return messages, len(entries), total


def _check_cover(pkg: _Package, base: str, resources: list[dict[str, Any]], key: str) -> list[str]:
    covers = [r for r in resources if "cover" in _rels(r)]
    if not covers:
        return ['no resource with rel "cover"']
    name, _ = _member(base, str(covers[0].get(key, "")))
    return [] if name in pkg.names else [f"cover {name!r} is not in the package"]


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_audiobook(path: Path) -> Report:
    """Check a Readium `.audiobook` or a W3C Audiobooks `.lpf` package (see the module's docstring)."""
    check = "LPF audiobook" if path.suffix == ".lpf" else "Readium audiobook"
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return Report(path, check, False, f"{check}: not a readable zip", [str(exc)])
    with zf:
        pkg = _Package(zf)
        manifest, schema_id = (
            ("publication.json", W3C_SCHEMA) if path.suffix == ".lpf" else ("manifest.json", READIUM_SCHEMA)
        )
        if manifest not in pkg.names:
            return Report(path, check, False, f"{check}: no {manifest}", [f"{manifest} missing from the root"])
        try:
            data = json.loads(zf.read(manifest).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return Report(path, check, False, f"{check}: {manifest} is not JSON", [str(exc)])
        if not isinstance(data, dict):
            return Report(path, check, False, f"{check}: {manifest} is not a JSON object", [])
        try:
            problems = schema_errors(data, schema_id)
            schema_note = f"schema {'valid' if not problems else f'{len(problems)} errors'}"
            messages = [f"schema: {p}" for p in problems[:MAX_SCHEMA_MESSAGES]]
            if len(problems) > MAX_SCHEMA_MESSAGES:
                messages.append(f"schema: … and {len(problems) - MAX_SCHEMA_MESSAGES} more")
        except SchemaUnavailable as exc:
            schema_note = f"schema not checked ({exc})"
            messages = []
        structural, tracks, total = (_check_w3c if path.suffix == ".lpf" else _check_readium)(pkg, data)
        messages += structural
    length = f"{total:.1f} s" if total is not None else "no duration"
    summary = f"{check}: {tracks} tracks, {length}, {schema_note}, {len(messages)} problems"
    return Report(path, check, not messages, summary, messages)
