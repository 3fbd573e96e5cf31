"""`publisher serve` against real clients: curl (Debian's), a podcast client from PyPI
(podcast-downloader, with gPodder's podcastparser reading the feed) and Chromium through Playwright.

The server is a real `publisher serve` process on a free port; the catalogue is rebuilt with that
port as base_url so every link in the feeds points at it."""

from __future__ import annotations

import email.parser
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from tests.conftest import FIXTURES

from publisher import api
from publisher.formats.web.serve import parse_ranges
from publisher.pipeline.publish import write_catalogue
from publisher.settings import Settings

BOOK = (
    "---\ntitle: Served Book\nauthor: Ada Old\ndate: 1891-05-01\n---\n\n"
    "# One\n\nFirst part. It is short.\n\n# Two\n\nSecond part.\n"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("served")
    sources = folder / "sources"
    sources.mkdir()
    shutil.copy(FIXTURES / "chapters.txt", sources / "long-walk.txt")
    (sources / "book.md").write_text(BOOK, encoding="utf-8")
    output = folder / "out"
    result = api.publish(
        [sources], Settings(engine="silent", cache=folder / "cache").override(output=output, page_size=1)
    )
    assert not result.failed, result.failed
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "publisher", "serve", str(output), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://localhost:(\d+)/", line)
        assert match, line
        base = f"http://127.0.0.1:{match.group(1)}/"
        write_catalogue(output, Settings(base_url=base, page_size=1))  # every link at the running server
        yield base, output
    finally:
        process.terminate()
        process.wait(timeout=10)


def curl(*args: str) -> tuple[int, dict[str, str], bytes]:
    """Run Debian's curl; (status, headers of the last response, body)."""
    proc = subprocess.run(["curl", "-s", "-S", "-D", "-", "-o", "/dev/stderr", *args], capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr[-300:]
    blocks = proc.stdout.decode("latin-1").strip().split("\r\n\r\n")
    lines = blocks[-1].split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, proc.stderr


def test_head_sends_the_validators_and_no_body(served: tuple[str, Path]) -> None:
    base, output = served
    mp3 = output / "book" / "book.mp3"
    status, headers, _ = curl("-I", base + "book/book.mp3")
    assert status == 200
    connection = http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port, timeout=10)
    connection.request("HEAD", "/book/book.mp3")
    response = connection.getresponse()
    assert response.status == 200 and response.read() == b"" and response.getheader("ETag")
    connection.close()
    assert headers["content-length"] == str(mp3.stat().st_size) and headers["content-type"] == "audio/mpeg"
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', headers["etag"]) and headers["last-modified"].endswith("GMT")
    assert headers["accept-ranges"] == "bytes"


def test_conditional_requests_answer_304(served: tuple[str, Path]) -> None:
    base, _ = served
    _, headers, _ = curl("-I", base + "feed.xml")
    status, again, body = curl("-H", f"If-None-Match: {headers['etag']}", base + "feed.xml")
    assert status == 304 and body == b"" and again["etag"] == headers["etag"]
    assert curl("-H", f'If-None-Match: "x", W/{headers["etag"]}', base + "feed.xml")[0] == 304
    assert curl("-H", 'If-None-Match: "other"', base + "feed.xml")[0] == 200
    assert curl("-H", f"If-Modified-Since: {headers['last-modified']}", base + "feed.xml")[0] == 304
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3)
    assert (
        curl("-H", 'If-None-Match: "other"', "-H", f"If-Modified-Since: {headers['last-modified']}", base + "feed.xml")[
            0
        ]
        == 200
    )


def test_if_range_serves_the_slice_only_for_the_current_file(served: tuple[str, Path]) -> None:
    base, output = served
    data = (output / "book" / "book.m4b").read_bytes()
    _, headers, _ = curl("-I", base + "book/book.m4b")
    status, _, body = curl("-r", "100-199", "-H", f"If-Range: {headers['etag']}", base + "book/book.m4b")
    assert status == 206 and body == data[100:200]
    status, _, body = curl("-r", "100-199", "-H", f"If-Range: {headers['last-modified']}", base + "book/book.m4b")
    assert status == 206 and body == data[100:200]
    status, _, body = curl("-r", "100-199", "-H", 'If-Range: "stale"', base + "book/book.m4b")
    assert status == 200 and body == data  # a changed file: the whole of it, never a slice of the new one


def test_multi_range_is_one_correct_multipart_206(served: tuple[str, Path]) -> None:
    base, output = served
    data = (output / "book" / "book.mp3").read_bytes()
    status, headers, body = curl("-r", "0-9,100-109,-20", base + "book/book.mp3")
    assert status == 206 and headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert int(headers["content-length"]) == len(body)
    message = email.parser.BytesParser().parsebytes(f"Content-Type: {headers['content-type']}\r\n\r\n".encode() + body)
    parts = message.get_payload()
    assert [p["Content-Range"] for p in parts] == [f"bytes 0-9/{len(data)}", f"bytes 100-109/{len(data)}",
                                                   f"bytes {len(data) - 20}-{len(data) - 1}/{len(data)}"]  # fmt: skip
    assert [p.get_payload(decode=True) for p in parts] == [data[0:10], data[100:110], data[-20:]]
    assert all(p["Content-Type"] == "audio/mpeg" for p in parts)
    status, headers, body = curl("-r", "0-9,5-19", base + "book/book.mp3")  # overlapping: merged into one range
    assert status == 206 and headers["content-range"] == f"bytes 0-19/{len(data)}" and body == data[:20]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("book/book.epub", "application/epub+zip"),
        ("book/book-read-aloud.epub", "application/epub+zip"),
        ("book/book.m4b", "audio/mp4"),
        ("book/book.audiobook", "application/audiobook+zip"),
        ("book/book.lpf", "application/lpf+zip"),
        ("book/book-daisy.zip", "application/zip"),
        ("book/book.vtt", "text/vtt; charset=utf-8"),
        ("book/thumbnail.jpg", "image/jpeg"),
        ("book/index.html", "text/html; charset=utf-8"),
        ("feed-2.xml", "application/rss+xml; charset=utf-8"),
        ("opds-2.xml", "application/atom+xml;profile=opds-catalog;kind=acquisition; charset=utf-8"),
        ("opds-2.json", "application/opds+json; charset=utf-8"),
        ("_opds/language/en.json", "application/opds+json; charset=utf-8"),
        ("opensearch.xml", "application/opensearchdescription+xml; charset=utf-8"),
    ],
)
def test_ranges_on_every_media_type(served: tuple[str, Path], path: str, kind: str) -> None:
    base, output = served
    data = (output / path).read_bytes()
    status, headers, body = curl("-r", "2-9", base + path)
    assert status == 206 and headers["content-type"] == kind and body == data[2:10]
    assert headers["content-range"] == f"bytes 2-9/{len(data)}"


def test_curl_resumes_an_interrupted_download(served: tuple[str, Path], tmp_path: Path) -> None:
    base, output = served
    data = (output / "long-walk" / "long-walk.mp3").read_bytes()
    partial = tmp_path / "partial.mp3"
    partial.write_bytes(data[:5000])
    subprocess.run(
        ["curl", "-s", "-S", "-f", "-C", "-", "-o", str(partial), base + "long-walk/long-walk.mp3"],
        check=True,
        timeout=30,
    )
    assert partial.read_bytes() == data


def test_parse_ranges() -> None:
    assert parse_ranges("bytes=0-1,4-5", 10) == [(0, 1), (4, 5)]
    assert parse_ranges("bytes=4-5, 0-1", 10) == [(0, 1), (4, 5)]
    assert parse_ranges("bytes=0-4,5-6", 10) == [(0, 6)]  # adjacent: merged
    assert parse_ranges("bytes=20-30", 10) == []  # unsatisfiable: 416
    assert parse_ranges("bytes=20-30,0-0", 10) == [(0, 0)]
    assert parse_ranges("bytes=5-2", 10) is None and parse_ranges("bytes=a-b", 10) is None  # invalid: ignored
    assert parse_ranges("pages=1-2", 10) is None


# --- a podcast client -----------------------------------------------------------------------


def test_a_podcast_client_subscribes_and_downloads_every_episode(served: tuple[str, Path], tmp_path: Path) -> None:
    import podcastparser

    base, output = served
    with urllib.request.urlopen(base + "book/feed.xml", timeout=10) as response:
        podcast = podcastparser.parse(base + "book/feed.xml", response)
    episodes = sorted(podcast["episodes"], key=lambda e: e["published"])
    assert [e["title"] for e in episodes] == ["One", "Two"]  # date order is reading order
    assert [e["number"] for e in episodes] == [1, 2]
    for episode in episodes:
        (enclosure,) = episode["enclosures"]
        path = output / enclosure["url"][len(base) :]
        assert enclosure["file_size"] == path.stat().st_size and enclosure["mime_type"] == "audio/mpeg"
        assert episode["total_time"] > 0 and episode["guid"].endswith(f"#chapter-{episode['number']}")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    config = tmp_path / "config.json"
    podcasts = [{"name": "Served Book", "path": str(downloads), "rss_link": base + "book/feed.xml"}]
    config.write_text(json.dumps({"if_directory_empty": "download_all_from_feed", "podcasts": podcasts}))
    subprocess.run([sys.executable, "-m", "podcast_downloader", "--config", str(config)], check=True, timeout=120,
                   capture_output=True)  # fmt: skip
    got = sorted(downloads.iterdir())
    assert [p.name for p in got] == ["01-one.mp3", "02-two.mp3"]
    assert all(p.read_bytes() == (output / "book" / "audio" / p.name).read_bytes() for p in got)


# --- the browser ----------------------------------------------------------------------------


def test_the_browser_revalidates_and_seeks(served: tuple[str, Path], browser: Any) -> None:
    base, output = served
    page = browser.new_page()
    page.goto(base + "book/book.vtt", wait_until="load")  # a document without the read-along page's CSP
    result = page.evaluate(
        """async () => {
            const first = await fetch('../feed.xml', {cache: 'no-store'});
            const etag = first.headers.get('ETag');
            const again = await fetch('../feed.xml', {cache: 'no-store', headers: {'If-None-Match': etag}});
            const slice = await fetch('book.m4b', {cache: 'no-store', headers: {'Range': 'bytes=10-19'}});
            const bytes = new Uint8Array(await slice.arrayBuffer());
            const audio = new Audio('book.mp3');
            await new Promise(ok => audio.addEventListener('loadedmetadata', ok, {once: true}));
            audio.currentTime = audio.duration / 2;
            await new Promise(ok => audio.addEventListener('seeked', ok, {once: true}));
            return {etag, status: first.status, revalidated: again.status, slice: slice.status,
                    range: slice.headers.get('Content-Range'), bytes: Array.from(bytes),
                    seekable: audio.seekable.length ? audio.seekable.end(0) : 0, duration: audio.duration,
                    at: audio.currentTime};
        }"""
    )
    page.close()
    assert result["status"] == 200 and result["etag"] and result["revalidated"] == 304
    data = (output / "book" / "book.m4b").read_bytes()
    assert result["slice"] == 206 and result["bytes"] == list(data[10:20])
    assert result["range"] == f"bytes 10-19/{len(data)}"
    assert result["seekable"] == pytest.approx(result["duration"], abs=0.1) and result["at"] > 0
