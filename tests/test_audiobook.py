"""Audiobook packages: Readium `.audiobook` and W3C Audiobooks `.lpf`, validated against the published
JSON Schemas (vendored in src/publisher/schemas/), their durations against the MP3s themselves, their
tables of contents, escaping of hostile titles, reproducible bytes, and the checker on broken packages."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html
from mutagen.mp3 import MP3
from tests import helpers
from tests.conftest import SEED, copy_fixture

from publisher.clock import iso_duration, parse_iso_duration, seconds_text
from publisher.pipeline.results import SourceResult
from publisher.validate import schema as checker
from publisher.validate.audiobook import READIUM_SCHEMA, W3C_SCHEMA, check_audiobook
from publisher.validate.run import check_paths
from publisher.validate.schema import SCHEMAS, SchemaUnavailable, schema_errors

EPOCH = "1719532800"  # 2024-06-28T00:00:00Z


def publish(source: Path, output: Path) -> SourceResult:
    return helpers.publish(source, output, epoch=EPOCH)


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> SourceResult:
    return publish(SEED, tmp_path_factory.mktemp("ab-seed") / "out")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> SourceResult:
    folder = tmp_path_factory.mktemp("ab-book")
    return publish(copy_fixture("book.md", folder), folder / "out")


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> SourceResult:
    folder = tmp_path_factory.mktemp("ab-walk")
    return publish(copy_fixture("chapters.txt", folder), folder / "out")


HOSTILE_TITLE = '<script>alert("x")</script> & ]]> “quotes”'
HOSTILE = f"""---
title: '{HOSTILE_TITLE}'
author: 'Ava <Cai> & "Co"'
language: ar
---

## مرحبا بالعالم & <"quotes">

نص عربي قصير. جملة أخرى هنا.

## Emoji 🎧 ]]> & end

Final paragraph here. The very end.
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> SourceResult:
    folder = tmp_path_factory.mktemp("ab-hostile")
    source = folder / "hostile.md"
    source.write_text(HOSTILE, encoding="utf-8")
    return publish(source, folder / "out")


def packages(result: SourceResult) -> tuple[Path, Path]:
    return result.folder / f"{result.slug}.audiobook", result.folder / f"{result.slug}.lpf"


def member_json(path: Path, name: str) -> dict[str, Any]:
    with zipfile.ZipFile(path) as zf:
        data = json.loads(zf.read(name).decode("utf-8"))
    assert isinstance(data, dict)
    return data


def manifests(result: SourceResult) -> tuple[dict[str, Any], dict[str, Any]]:
    audiobook, lpf = packages(result)
    return member_json(audiobook, "manifest.json"), member_json(lpf, "publication.json")


def toc_links(lpf: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(lpf) as zf:
        doc = lxml_html.fromstring(zf.read("toc.html"))
    (nav,) = doc.xpath('//*[@role="doc-toc"]')
    return [(a.text_content(), a.get("href")) for a in nav.iter("a")]


def mp3_length(path: Path, name: str) -> float:
    with zipfile.ZipFile(path) as zf:
        info = MP3(io.BytesIO(zf.read(name))).info
    assert info is not None
    return float(info.length)


# --- the schemas themselves ----------------------------------------------------------------------


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_vendored_schemas_are_complete_and_offline() -> None:
    """Every $ref of every vendored schema resolves inside the vendored set (OPDS 2.0 included)."""
    files = sorted(SCHEMAS.rglob("*.schema.json"))
    assert len(files) == 45
    schemas = {}
    for file in files:
        data = json.loads(file.read_text(encoding="utf-8"))
        assert data["$schema"] == "http://json-schema.org/draft-07/schema#", file
        assert data["$id"] not in schemas, file
        schemas[data["$id"]] = data
    assert {READIUM_SCHEMA, W3C_SCHEMA} <= schemas.keys()
    missing = set()
    for schema_id, data in schemas.items():
        for ref in _refs(data):
            target = ref.split("#")[0]
            if not target:
                continue
            absolute = target if "://" in target else schema_id.rsplit("/", 1)[0] + "/" + target
            while "/../" in absolute:
                absolute = re.sub(r"[^/]+/\.\./", "", absolute, count=1)
            if absolute not in schemas:
                missing.add(absolute)
    assert missing == set()  # see schemas/README.md
    assert "readium/webpub-manifest" in (SCHEMAS / "README.md").read_text(encoding="utf-8")


def test_schema_validation_bites() -> None:
    """The validator really applies the schemas: formats, ECMA patterns, required members, offline refs."""
    readium = {
        "@context": "https://readium.org/webpub-manifest/context.jsonld",
        "metadata": {"title": "T", "language": "en-GB", "modified": "2024-06-28T00:00:00Z"},
        "readingOrder": [{"href": "a.mp3", "type": "audio/mpeg", "duration": 1.5}],
    }
    assert schema_errors(readium, READIUM_SCHEMA) == []
    bad_language = json.loads(json.dumps(readium))
    bad_language["metadata"]["language"] = "not a tag"
    assert any("metadata/language" in e for e in schema_errors(bad_language, READIUM_SCHEMA))
    bad_date = json.loads(json.dumps(readium))
    bad_date["metadata"]["modified"] = "yesterday"
    assert any("date-time" in e for e in schema_errors(bad_date, READIUM_SCHEMA))
    untyped = json.loads(json.dumps(readium))
    del untyped["readingOrder"][0]["type"]
    assert any("'type' is a required property" in e for e in schema_errors(untyped, READIUM_SCHEMA))
    map_title = json.loads(json.dumps(readium))
    map_title["metadata"]["title"] = {"en": "T", "not a tag": "U"}  # patternProperties + additionalProperties
    assert any("metadata/title" in e for e in schema_errors(map_title, READIUM_SCHEMA))
    with_opds = json.loads(json.dumps(readium))  # OPDS link properties, through the vendored OPDS schema
    with_opds["readingOrder"][0]["properties"] = {"numberOfItems": 1}
    assert schema_errors(with_opds, READIUM_SCHEMA) == []
    with_opds["readingOrder"][0]["properties"] = {"numberOfItems": "many"}
    assert any("numberOfItems" in e for e in schema_errors(with_opds, READIUM_SCHEMA))

    w3c = {
        "@context": ["https://schema.org", "https://www.w3.org/ns/pub-context"],
        "conformsTo": "https://www.w3.org/TR/audiobooks/",
        "name": "T",
        "readingOrder": [{"url": "a.mp3", "duration": "PT1.5S"}],
    }
    assert schema_errors(w3c, W3C_SCHEMA) == []
    assert any("duration" in e for e in schema_errors({**w3c, "duration": "90 s"}, W3C_SCHEMA))
    assert any("conformsTo" in e for e in schema_errors({**w3c, "conformsTo": "https://x.test/"}, W3C_SCHEMA))
    nameless = {k: v for k, v in w3c.items() if k != "name"}
    assert any("'name' is a required" in e for e in schema_errors(nameless, W3C_SCHEMA))
    assert any("inLanguage" in e for e in schema_errors({**w3c, "inLanguage": "e n"}, W3C_SCHEMA))


# --- the packages --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["seed", "book", "walk"])
def test_packages_validate_against_the_published_schemas(name: str, request: pytest.FixtureRequest) -> None:
    result: SourceResult = request.getfixturevalue(name)
    readium, w3c = manifests(result)
    assert schema_errors(readium, READIUM_SCHEMA) == []
    assert schema_errors(w3c, W3C_SCHEMA) == []
    for package in packages(result):
        report = check_audiobook(package)
        assert report.ok, report.messages
        assert "schema valid" in report.summary and "0 problems" in report.summary


def test_readium_manifest_follows_the_audiobook_profile(book: SourceResult) -> None:
    readium, _ = manifests(book)
    meta = readium["metadata"]
    assert readium["@context"] == "https://readium.org/webpub-manifest/context.jsonld"
    assert meta["@type"] == "http://schema.org/Audiobook"
    assert meta["conformsTo"] == "https://readium.org/webpub-manifest/profiles/audiobook"
    assert meta["title"] == "A Small Book of Tests"
    assert meta["author"] == ["Ada Lovelace", "Charles Babbage"]
    assert meta["language"] == "en-GB" and meta["publisher"] == "Test Press"
    assert meta["published"] == "1843-09-01" and meta["modified"] == "2024-06-28T00:00:00Z"
    assert meta["identifier"].startswith("urn:uuid:")
    assert meta["narrator"] == "silence (test engine)"
    assert meta["accessibility"]["accessMode"] == ["auditory"]
    for link in readium["readingOrder"]:
        assert link["type"] == "audio/mpeg" and "#" not in link["href"]
        assert link["bitrate"] == 64 and link["duration"] > 0 and link["title"]
    (cover,) = readium["resources"]
    assert cover == {"rel": "cover", "href": "cover.jpg", "type": "image/jpeg", "width": 1600, "height": 1600}
    assert readium["links"][0]["rel"] == "self"


def test_w3c_manifest_follows_the_audiobooks_spec(book: SourceResult) -> None:
    _, w3c = manifests(book)
    assert w3c["@context"] == ["https://schema.org", "https://www.w3.org/ns/pub-context"]
    assert w3c["conformsTo"] == "https://www.w3.org/TR/audiobooks/" and w3c["type"] == "Audiobook"
    assert w3c["readBy"] == "silence (test engine)" and w3c["inLanguage"] == "en-GB"
    assert w3c["datePublished"] == "1843-09-01" and w3c["dateModified"] == "2024-06-28T00:00:00Z"
    assert w3c["accessMode"] == ["auditory"]
    assert w3c["accessModeSufficient"] == [{"type": "ItemList", "itemListElement": ["auditory"]}]
    assert w3c["accessibilityFeature"] and w3c["accessibilitySummary"]
    rels = {r["rel"]: r for r in w3c["resources"]}
    assert rels["cover"]["url"] == "cover.jpg" and rels["cover"]["encodingFormat"] == "image/jpeg"
    assert rels["contents"]["url"] == "toc.html" and rels["contents"]["encodingFormat"] == "text/html"
    with zipfile.ZipFile(packages(book)[1]) as zf:
        audio = [a.path.relative_to(book.folder).as_posix() for a in book.audio]
        assert sorted(zf.namelist()) == sorted(["publication.json", "toc.html", "cover.jpg", *audio])


@pytest.mark.parametrize("name", ["seed", "book", "walk"])
def test_durations_add_up_and_match_the_mp3s(name: str, request: pytest.FixtureRequest) -> None:
    result: SourceResult = request.getfixturevalue(name)
    audiobook, lpf = packages(result)
    readium, w3c = manifests(result)
    readium_durations = [link["duration"] for link in readium["readingOrder"]]
    w3c_durations = [parse_iso_duration(link["duration"]) for link in w3c["readingOrder"]]
    assert readium_durations == w3c_durations
    assert abs(sum(readium_durations) - readium["metadata"]["duration"]) < 1.0
    assert abs(sum(readium_durations) - (parse_iso_duration(w3c["duration"]) or 0)) < 1.0
    assert abs(readium["metadata"]["duration"] - result.duration) < 1.0  # and the narration's own length
    for link, audio in zip(readium["readingOrder"], result.audio, strict=True):
        assert link["href"] == audio.path.relative_to(result.folder).as_posix()
        assert abs(link["duration"] - mp3_length(audiobook, link["href"])) <= 0.1
        assert abs(link["duration"] - mp3_length(lpf, link["href"])) <= 0.1
        assert abs(link["duration"] - float(MP3(audio.path).info.length)) <= 0.1  # the MP3 beside it
        assert abs(link["duration"] - audio.duration) <= 0.1


def test_toc_has_one_entry_per_chapter(book: SourceResult, walk: SourceResult) -> None:
    for result in (book, walk):
        readium, w3c = manifests(result)
        chapters = [(a.title, a.path.relative_to(result.folder).as_posix()) for a in result.audio]
        assert len(chapters) == result.chapters > 1
        assert [(e["title"], e["href"]) for e in readium["toc"]] == chapters
        assert toc_links(packages(result)[1]) == chapters
        assert [(link["name"], link["url"]) for link in w3c["readingOrder"]] == chapters
    assert [e["title"] for e in manifests(walk)[0]["toc"]] == ["Chapter One", "Chapter Two"]


def test_article_toc_has_one_entry_per_mark(seed: SourceResult) -> None:
    """A one-chapter article: one entry per mark, a media fragment into the chapter MP3.

    The marks are times in the full-length MP3; with one chapter that file is a copy of the
    chapter's MP3 (same audio, its own tags), so the same times hold in the chapter file.
    """
    readium, _ = manifests(seed)
    marks = json.loads((seed.folder / ".publisher.json").read_text(encoding="utf-8"))["marks"]
    assert len(seed.audio) == 1 and len(marks) == 7
    chapter = seed.audio[0].path
    href = chapter.relative_to(seed.folder).as_posix()
    expected = [(m["title"], f"{href}#t={seconds_text(m['start'])}") for m in marks]
    assert [(e["title"], e["href"]) for e in readium["toc"]] == expected
    assert toc_links(packages(seed)[1]) == expected
    full, single = MP3(seed.full.path).info, MP3(chapter).info
    assert full.length == single.length  # same audio frames: the marks are chapter-file times too
    assert marks[-1]["end"] == pytest.approx(float(single.length), abs=0.1)


def test_hostile_titles_stay_valid_and_escaped(hostile: SourceResult) -> None:
    audiobook, lpf = packages(hostile)
    readium, w3c = manifests(hostile)
    assert readium["metadata"]["title"] == w3c["name"] == HOSTILE_TITLE
    titles = [a.title for a in hostile.audio]
    assert any("مرحبا" in t for t in titles) and any("🎧" in t for t in titles)
    assert [e["title"] for e in readium["toc"]] == titles
    assert schema_errors(readium, READIUM_SCHEMA) == [] and schema_errors(w3c, W3C_SCHEMA) == []
    assert check_audiobook(audiobook).ok and check_audiobook(lpf).ok
    with zipfile.ZipFile(lpf) as zf:
        raw = zf.read("toc.html").decode("utf-8")
        manifest_raw = zf.read("publication.json").decode("utf-8")
    assert "<script>" not in raw and "]]>" not in raw
    assert "&lt;script&gt;" in raw and "🎧" in raw and "مرحبا" in raw  # UTF-8, not character references
    assert "🎧" in manifest_raw and "\\u" not in manifest_raw
    doc = lxml_html.fromstring(raw.encode("utf-8"))
    assert doc.get("lang") == "ar" and doc.get("dir") == "rtl"
    assert doc.findtext(".//title") == HOSTILE_TITLE
    assert doc.xpath("string(//h1)") == HOSTILE_TITLE
    assert [text for text, _ in toc_links(lpf)] == titles
    assert not doc.xpath("//script")


def test_packages_are_reproducible(tmp_path: Path, walk: SourceResult) -> None:
    source = copy_fixture("chapters.txt", tmp_path)
    again = publish(source, tmp_path / "again")
    for first, second in zip(packages(walk), packages(again), strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
    for package in packages(walk):
        with zipfile.ZipFile(package) as zf:
            infos = zf.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        for info in infos:
            assert info.date_time == (2024, 6, 28, 0, 0, 0)
            stored = info.filename.endswith((".mp3", ".jpg"))
            assert info.compress_type == (zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED), info.filename


def test_packages_without_source_date_epoch_use_1980(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    result = helpers.publish(copy_fixture("chapters.txt", tmp_path), tmp_path / "out")
    for package in packages(result):
        with zipfile.ZipFile(package) as zf:
            assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


# --- the checker on broken packages --------------------------------------------------------------


def rewrite(package: Path, dest: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """A copy of `package` whose members went through `change` (keeping each member's compression)."""
    with zipfile.ZipFile(package) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
        kinds = {i.filename: i.compress_type for i in zf.infolist()}
    change(members)
    with zipfile.ZipFile(dest, "w") as out:
        for name, data in members.items():
            out.writestr(name, data, compress_type=kinds.get(name, zipfile.ZIP_DEFLATED))
    return dest


def edit_json(name: str, edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        data = json.loads(members[name])
        edit(data)
        members[name] = json.dumps(data).encode()

    return change


def test_checker_reports_a_missing_mp3(walk: SourceResult, tmp_path: Path) -> None:
    for package in packages(walk):
        broken = rewrite(package, tmp_path / package.name, lambda m: m.pop("audio/02-chapter-two.mp3"))
        report = check_audiobook(broken)
        assert not report.ok
        assert any("audio/02-chapter-two.mp3" in m and "not in the package" in m for m in report.messages)

        def garbage(members: dict[str, bytes]) -> None:
            members["audio/02-chapter-two.mp3"] = b"not audio at all"

        report = check_audiobook(rewrite(package, tmp_path / f"garbage{package.suffix}", garbage))
        assert not report.ok and any("not a readable MP3" in m for m in report.messages)


def test_checker_reports_a_wrong_duration(walk: SourceResult, tmp_path: Path) -> None:
    audiobook, lpf = packages(walk)

    def longer(data: dict[str, Any]) -> None:
        data["readingOrder"][0]["duration"] += 5

    report = check_audiobook(rewrite(audiobook, tmp_path / audiobook.name, edit_json("manifest.json", longer)))
    assert not report.ok
    assert any("the MP3 plays" in m for m in report.messages)
    assert any("total duration" in m for m in report.messages)

    def shorter(data: dict[str, Any]) -> None:
        seconds = parse_iso_duration(data["readingOrder"][1]["duration"])
        assert seconds is not None
        data["readingOrder"][1]["duration"] = iso_duration(seconds - 0.5)

    report = check_audiobook(rewrite(lpf, tmp_path / lpf.name, edit_json("publication.json", shorter)))
    assert not report.ok
    assert any("declared" in m and "the MP3 plays" in m for m in report.messages)


def test_checker_reports_schema_and_toc_problems(seed: SourceResult, tmp_path: Path) -> None:
    audiobook, lpf = packages(seed)

    def bad_language(data: dict[str, Any]) -> None:
        data["metadata"]["language"] = "English please"

    report = check_audiobook(rewrite(audiobook, tmp_path / audiobook.name, edit_json("manifest.json", bad_language)))
    assert not report.ok and "schema 1 errors" in report.summary
    assert any(m.startswith("schema: metadata/language") for m in report.messages)

    def no_nav(members: dict[str, bytes]) -> None:
        members["toc.html"] = members["toc.html"].replace(b'role="doc-toc"', b'role="navigation"')

    report = check_audiobook(rewrite(lpf, tmp_path / lpf.name, no_nav))
    assert not report.ok and any('role="doc-toc"' in m for m in report.messages)

    def past_the_end(data: dict[str, Any]) -> None:
        data["toc"][-1]["href"] = data["toc"][-1]["href"].split("#")[0] + "#t=99999"

    report = check_audiobook(rewrite(audiobook, tmp_path / "late.audiobook", edit_json("manifest.json", past_the_end)))
    assert not report.ok and any("past the end" in m for m in report.messages)

    with zipfile.ZipFile(audiobook) as zf, zipfile.ZipFile(tmp_path / "deflated.audiobook", "w") as out:
        for info in zf.infolist():
            out.writestr(info.filename, zf.read(info), compress_type=zipfile.ZIP_DEFLATED)
    report = check_audiobook(tmp_path / "deflated.audiobook")
    assert not report.ok and any("deflated" in m for m in report.messages)

    (tmp_path / "junk.lpf").write_bytes(b"not a zip")
    assert not check_audiobook(tmp_path / "junk.lpf").ok


def test_checker_falls_back_to_structural_checks(
    walk: SourceResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable() -> Any:
        raise SchemaUnavailable("no vendored schemas here")

    monkeypatch.setattr(checker, "_registry", unavailable)
    audiobook, _ = packages(walk)
    report = check_audiobook(audiobook)
    assert report.ok and "schema not checked (no vendored schemas here)" in report.summary
    broken = rewrite(audiobook, tmp_path / audiobook.name, lambda m: m.pop("audio/01-chapter-one.mp3"))
    assert not check_audiobook(broken).ok


def test_check_paths_checks_audiobook_packages(walk: SourceResult, tmp_path: Path) -> None:
    audiobook, lpf = packages(walk)
    reports = check_paths([audiobook, lpf])
    assert [r.check for r in reports] == ["Readium audiobook", "LPF audiobook"]
    assert all(r.ok for r in reports)
    folder = tmp_path / "only-packages"
    folder.mkdir()
    shutil.copy(audiobook, folder)
    shutil.copy(lpf, folder)
    assert [r.path.suffix for r in check_paths([folder])] == [".audiobook", ".lpf"]
