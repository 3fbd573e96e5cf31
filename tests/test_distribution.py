"""Podcast feeds, the OPDS catalogue and `publisher serve`, read back with feedparser, lxml and HTTP."""

from __future__ import annotations

import http.client
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from tests.conftest import FIXTURES, SEED
from tests.helpers import serving

from publisher import api
from publisher.formats.web.feed import podcast_guid
from publisher.formats.web.serve import parse_range
from publisher.pipeline.results import BatchResult
from publisher.settings import Settings
from publisher.xmlns import ATOM, DCTERMS, ITUNES, PODCAST

BASE = "https://example.org/pod/"
NS = {"itunes": ITUNES, "podcast": PODCAST, "a": ATOM, "dc": DCTERMS}
OPEN_ACCESS = "http://opds-spec.org/acquisition/open-access"
HOSTILE = "<script>alert(\"x\")</script> & ]]> 'quoted'"


def run(sources: list[Path], output: Path, **flags: object) -> BatchResult:
    settings = Settings(engine="silent", cache=output.parent / "cache")
    return api.publish(sources, settings.override(output=output, base_url=BASE, **flags))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    sources = folder / "sources"
    sources.mkdir()
    shutil.copy(SEED, sources / SEED.name)
    shutil.copy(FIXTURES / "chapters.txt", sources / "long-walk.txt")
    (sources / "hostile.md").write_text(
        f"---\ntitle: '{HOSTILE.replace(chr(39), chr(39) * 2)}'\nauthor: Ann & Bob <b>\ndate: 2025-01-02\n---\n\n"
        "A sentence with <tags> & ampersands. Another one.\n",
        encoding="utf-8",
    )
    result = run([sources], folder / "out")
    assert not result.failed, result.failed
    return folder / "out"


def url_to_path(url: str, output: Path) -> Path:
    assert url.startswith(BASE), url
    from urllib.parse import unquote

    return output / unquote(url[len(BASE) :])


def feeds(site: Path) -> list[Path]:
    return [site / "feed.xml", *sorted(site.glob("*/feed.xml"))]


def test_every_feed_parses_and_every_item_is_complete(site: Path) -> None:
    assert len(feeds(site)) == 4
    for path in feeds(site):
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        channel = parsed.feed
        assert channel.title and channel.language
        assert channel.image.href.startswith(BASE)
        assert url_to_path(channel.image.href, site).is_file()
        tree = etree.parse(str(path))
        assert tree.xpath("/rss/channel/itunes:explicit/text()", namespaces=NS) == ["false"]
        assert tree.xpath("/rss/channel/itunes:category/@text", namespaces=NS) == ["News"]
        assert tree.xpath("/rss/channel/itunes:owner/itunes:name/text()", namespaces=NS)
        assert parsed.entries
        for item, raw in zip(parsed.entries, tree.xpath("/rss/channel/item"), strict=True):
            assert item.id and item.title and item.published_parsed
            (enclosure,) = item.enclosures
            assert enclosure.type == "audio/mpeg"
            file = url_to_path(enclosure.href, site)
            assert int(enclosure.length) == file.stat().st_size
            assert int(raw.findtext(f"{{{ITUNES}}}duration")) > 0
            (transcript,) = raw.findall(f"{{{PODCAST}}}transcript")
            assert transcript.get("rel") == "captions" and transcript.get("type") == "text/vtt"
            assert url_to_path(transcript.get("url"), site).read_text(encoding="utf-8").startswith("WEBVTT")
            (chapters,) = raw.findall(f"{{{PODCAST}}}chapters")
            assert chapters.get("type") == "application/json+chapters"
            data = json.loads(url_to_path(chapters.get("url"), site).read_text(encoding="utf-8"))
            assert data["version"] == "1.2.0" and data["chapters"][0]["startTime"] == 0


def test_site_feed_has_one_episode_per_publication_newest_first(site: Path) -> None:
    parsed = feedparser.parse((site / "feed.xml").read_bytes())
    titles = [e.title for e in parsed.entries]
    assert titles == [HOSTILE, "Putin today", "The Long Walk"]  # 2025, 2024, 2021
    assert parsed.entries[1].enclosures[0].href == BASE + "putin-today/putin-today.mp3"
    assert etree.parse(str(site / "feed.xml")).findtext(f"channel/{{{PODCAST}}}guid") == podcast_guid(BASE + "feed.xml")


def test_book_feed_is_serial_with_numbered_chapter_episodes(site: Path) -> None:
    tree = etree.parse(str(site / "long-walk" / "feed.xml"))
    assert tree.findtext(f"channel/{{{ITUNES}}}type") == "serial"
    items = tree.findall("channel/item")
    assert [i.findtext("title") for i in items] == ["Chapter One", "Chapter Two"]
    assert [i.findtext(f"{{{ITUNES}}}episode") for i in items] == ["1", "2"]
    guids = [i.findtext("guid") for i in items]
    assert len(set(guids)) == 2


def test_markup_in_titles_is_text_not_markup(site: Path) -> None:
    parsed = feedparser.parse((site / "hostile" / "feed.xml").read_bytes())
    assert parsed.bozo == 0
    assert parsed.feed.title == HOSTILE
    tree = etree.parse(str(site / "hostile" / "feed.xml"))
    assert tree.findtext("channel/title") == HOSTILE
    assert not tree.xpath("//script")
    opds = etree.parse(str(site / "opds.xml"))
    assert HOSTILE in opds.xpath("//a:entry/a:title/text()", namespaces=NS)


def test_guids_survive_an_edit_and_base_url_changes_without_rerendering(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    source = sources / "long-walk.txt"
    shutil.copy(FIXTURES / "chapters.txt", source)
    output = tmp_path / "out"
    run([sources], output)

    def guids() -> list[str]:
        tree = etree.parse(str(output / "long-walk" / "feed.xml"))
        return [g.text for g in tree.iter("guid")]

    before = guids()
    source.write_text(source.read_text(encoding="utf-8").replace("cold morning", "cold, grey morning"))
    edited = run([sources], output)
    assert not edited.published[0].skipped
    assert guids() == before
    moved = api.publish([sources], Settings(engine="silent", cache=tmp_path / "cache").override(
        output=output, base_url="https://cdn.example.net/books"))  # fmt: skip
    assert moved.published[0].skipped  # only the catalogue depends on base_url
    enclosure = etree.parse(str(output / "feed.xml")).find("channel/item/enclosure")
    assert enclosure is not None
    assert enclosure.get("url", "").startswith("https://cdn.example.net/books/long-walk/")


def test_opds_catalogue(site: Path) -> None:
    parsed = feedparser.parse((site / "opds.xml").read_bytes())
    assert parsed.bozo == 0
    tree = etree.parse(str(site / "opds.xml"))
    root = tree.getroot()
    assert root.tag == f"{{{ATOM}}}feed"
    kinds = root.xpath("a:link[@rel='self']/@type", namespaces=NS)
    assert kinds == ["application/atom+xml;profile=opds-catalog;kind=acquisition"]
    entries = root.findall("a:entry", NS)
    assert len(entries) == 3
    for entry in entries:
        assert entry.findtext("a:id", namespaces=NS).startswith("urn:uuid:")
        assert entry.findtext("dc:language", namespaces=NS)
        assert entry.findtext("a:summary", namespaces=NS)
        links = entry.findall("a:link", NS)
        rels = {(link.get("rel"), link.get("type")) for link in links}
        assert ("http://opds-spec.org/acquisition/open-access", "application/epub+zip") in rels
        assert ("http://opds-spec.org/image", "image/jpeg") in rels
        assert (OPEN_ACCESS, "audio/mpeg") in rels and (OPEN_ACCESS, "audio/mp4") in rels
        assert ("alternate", "text/html") in rels  # the read-along page
        for link in links:
            file = url_to_path(link.get("href"), site)
            assert file.is_file()
            if link.get("length"):
                assert int(link.get("length")) == file.stat().st_size
    walk = next(e for e in entries if e.findtext("a:title", namespaces=NS) == "The Long Walk")
    assert walk.xpath("a:author/a:name/text()", namespaces=NS) == ["Jo March"]
    data = json.loads((site / "opds.json").read_text(encoding="utf-8"))
    assert len(data["publications"]) == 3
    assert all(p["links"] and p["images"] for p in data["publications"])


def test_chapter_files_for_each_chapter_mp3(site: Path) -> None:
    from mutagen.mp3 import MP3

    for mp3 in sorted((site / "long-walk" / "audio").glob("*.mp3")):
        data = json.loads(mp3.with_suffix(".chapters.json").read_text(encoding="utf-8"))
        starts = [c["startTime"] for c in data["chapters"]]
        assert starts == sorted(starts) and starts[0] == 0
        assert data["chapters"][-1]["endTime"] == pytest.approx(MP3(mp3).info.length, abs=0.1)


def test_check_feed_passes_real_feeds_and_catches_a_wrong_length(site: Path) -> None:
    from publisher.validate.feeds import check_feed

    assert all(check_feed(feed).ok for feed in feeds(site))
    feed = site / "long-walk" / "feed.xml"
    original = feed.read_bytes()
    size = (site / "long-walk" / "audio" / "01-chapter-one.mp3").stat().st_size
    try:
        feed.write_bytes(original.replace(f'length="{size}"'.encode(), b'length="1"'))
        report = check_feed(feed)
        assert not report.ok
        assert report.messages == [f"Chapter One: enclosure length 1 != file size {size}"]
    finally:
        feed.write_bytes(original)


# --- publisher serve --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[int]:
    with serving(site) as port:
        yield port


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_serve_answers_range_requests_with_206_and_the_right_bytes(server: int, site: Path) -> None:
    data = (site / "putin-today" / "putin-today.mp3").read_bytes()
    status, headers, body = get(server, "/putin-today/putin-today.mp3", {"Range": "bytes=1000-1999"})
    assert status == 206
    assert headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    assert headers["content-type"] == "audio/mpeg"
    assert body == data[1000:2000]
    status, headers, body = get(server, "/putin-today/putin-today.mp3", {"Range": "bytes=-500"})
    assert status == 206 and body == data[-500:]
    status, headers, body = get(server, "/putin-today/putin-today.mp3", {"Range": f"bytes={len(data)}-"})
    assert status == 416 and headers["content-range"] == f"bytes */{len(data)}"
    status, headers, body = get(server, "/putin-today/putin-today.mp3")
    assert status == 200 and body == data and headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/putin-today/putin-today.epub", "application/epub+zip"),
        ("/putin-today/putin-today.m4b", "audio/mp4"),
        ("/putin-today/putin-today.vtt", "text/vtt; charset=utf-8"),
        ("/feed.xml", "application/rss+xml; charset=utf-8"),
        ("/opds.xml", "application/atom+xml;profile=opds-catalog;kind=acquisition; charset=utf-8"),
        ("/opds.json", "application/opds+json; charset=utf-8"),
        ("/putin-today/putin-today.chapters.json", "application/json+chapters; charset=utf-8"),
    ],
)
def test_serve_media_types(server: int, path: str, kind: str) -> None:
    status, headers, _ = get(server, path)
    assert status == 200 and headers["content-type"] == kind


def test_serve_hides_manifests_and_stays_inside_the_folder(server: int) -> None:
    assert get(server, "/putin-today/.publisher.json")[0] == 404
    assert get(server, "/putin-today/%2epublisher.json")[0] == 404
    status, _, body = get(server, "/../../../etc/passwd")
    assert status == 404 and b"root:" not in body


def test_parse_range() -> None:
    assert parse_range("bytes=0-0", 10) == (0, 0)
    assert parse_range("bytes=5-", 10) == (5, 9)
    assert parse_range("bytes=5-100", 10) == (5, 9)
    assert parse_range("bytes=-3", 10) == (7, 9)
    assert parse_range("bytes=10-", 10) is None
    assert parse_range("bytes=4-2", 10) is None
    assert parse_range("bytes=0-1,4-5", 10) is None
    assert parse_range("items=0-1", 10) is None


def test_library_formats_can_be_left_out(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    shutil.copy(SEED, sources / SEED.name)
    output = tmp_path / "out"
    result = run([sources], output, daisy=False, audiobooks=False)
    assert not result.failed
    folder = output / "putin-today"
    assert not (folder / "daisy").exists() and not list(folder.glob("*.zip"))
    assert not list(folder.glob("*.audiobook")) and not list(folder.glob("*.lpf"))
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "putin-today.epub" in page and ".audiobook" not in page and "daisy" not in page.lower()
    opds = etree.parse(str(output / "opds.xml"))
    hrefs = opds.xpath("//a:link/@href", namespaces=NS)
    assert any(h.endswith(".epub") for h in hrefs) and not any(h.endswith((".lpf", ".zip")) for h in hrefs)


def test_podcast_artwork_is_square_and_large_enough(tmp_path: Path) -> None:
    from PIL import Image

    sources = tmp_path / "sources"
    sources.mkdir()
    Image.new("RGB", (600, 400), "#224466").save(sources / "wide.png")
    (sources / "art.md").write_text("---\ntitle: Art\ncover: wide.png\n---\n\nSome text.\n", encoding="utf-8")
    shutil.copy(SEED, sources / SEED.name)
    output = tmp_path / "out"
    assert not run([sources], output).failed
    with Image.open(output / "art" / "artwork.jpg") as art:
        assert art.size == (1400, 1400) and art.mode == "RGB"
    assert not (output / "putin-today" / "artwork.jpg").exists()  # the generated cover already fits
    tree = etree.parse(str(output / "art" / "feed.xml"))
    assert tree.xpath("/rss/channel/itunes:image/@href", namespaces=NS) == [BASE + "art/artwork.jpg"]
    assert tree.xpath("//item/itunes:image/@href", namespaces=NS) == [BASE + "art/artwork.jpg"]
