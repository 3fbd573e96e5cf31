"""Publishing with the silent engine: EPUB structure and validity, MP3 tags and stream facts."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path

import pytest
from mutagen.mp3 import MP3, BitrateMode
from tests.conftest import copy_fixture
from tests.helpers import NS, Epub, frame_kbps, publish_one

from publisher.pipeline.results import SourceResult
from publisher.settings import Settings
from publisher.validate.tools import run_epubcheck


def publish(source: Path, output: Path, **flags: object) -> SourceResult:
    settings = Settings(engine="silent", output=output)
    return publish_one(source, settings.override(**flags))


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> SourceResult:
    folder = tmp_path_factory.mktemp("book")
    source = copy_fixture("book.md", folder)
    return publish(source, folder / "output")


@pytest.fixture(scope="module")
def seed_result(tmp_path_factory: pytest.TempPathFactory) -> SourceResult:
    folder = tmp_path_factory.mktemp("seed")
    return publish(Path(__file__).parent.parent / "sources" / "putin-today.txt", folder / "output")


def test_layout(book: SourceResult) -> None:
    folder = book.folder
    assert folder.name == "book"
    assert (folder / "book.epub").is_file()
    assert (folder / "cover.jpg").is_file()
    names = sorted(p.name for p in (folder / "audio").iterdir())
    assert names == [
        "01-the-first-chapter.chapters.json", "01-the-first-chapter.mp3", "01-the-first-chapter.vtt",
        "02-the-second-chapter.chapters.json", "02-the-second-chapter.mp3", "02-the-second-chapter.vtt",
    ]  # fmt: skip
    assert not list(folder.parent.glob(".book.tmp-*")), "no staging folder is left behind"


@pytest.mark.parametrize("which", ["book", "seed_result"])
def test_epubcheck_reports_no_errors_and_no_warnings(which: str, request: pytest.FixtureRequest) -> None:
    result: SourceResult = request.getfixturevalue(which)
    report = run_epubcheck(result.epub)
    assert report.ok, "\n".join(report.messages)
    assert report.summary.endswith("0 errors, 0 warnings")


def test_package_metadata(book: SourceResult) -> None:
    epub = Epub(book.epub)
    (identifier,) = epub.dc("identifier")
    assert identifier.startswith("urn:uuid:")
    uuid.UUID(identifier.removeprefix("urn:uuid:"))
    assert epub.dc("title") == ["A Small Book of Tests"]
    assert epub.dc("language") == ["en-GB"]
    assert epub.dc("creator") == ["Ada Lovelace", "Charles Babbage"]
    assert epub.dc("date") == ["1843-09-01"]
    assert epub.dc("publisher") == ["Test Press"]
    assert epub.dc("rights") == ["Public domain"]
    assert epub.dc("subject") == ["Testing", "Engines"]
    assert len(epub.meta("dcterms:modified")) == 1
    assert "alternativeText" in epub.meta("schema:accessibilityFeature")


def test_identifier_is_deterministic(book: SourceResult, tmp_path: Path) -> None:
    again = publish(copy_fixture("book.md", tmp_path), tmp_path / "output")
    assert Epub(again.epub).dc("identifier") == Epub(book.epub).dc("identifier")


def test_navigation_ncx_and_spine(book: SourceResult) -> None:
    epub = Epub(book.epub)
    manifest = epub.manifest()
    navs = [i for i in manifest.values() if "nav" in (i.get("properties") or "").split()]
    assert len(navs) == 1
    nav = epub.xml(navs[0].get("href"))
    toc = nav.xpath("//x:nav[@epub:type='toc']//x:a/text()", namespaces=NS)
    assert toc == ["The First Chapter", "The Second Chapter"]
    landmarks = nav.xpath("//x:nav[@epub:type='landmarks']//x:a/@epub:type", namespaces=NS)
    assert {"cover", "titlepage", "bodymatter"} <= set(landmarks)
    ncx_item = next(i for i in manifest.values() if i.get("media-type") == "application/x-dtbncx+xml")
    ncx = epub.xml(ncx_item.get("href"))
    assert ncx.xpath("//ncx:meta[@name='dtb:uid']/@content", namespaces=NS) == epub.dc("identifier")
    assert ncx.xpath("//ncx:navPoint/ncx:navLabel/ncx:text/text()", namespaces=NS) == toc
    assert epub.spine() == ["cover", "titlepage", "c01", "c02"]
    covers = [i for i in manifest.values() if i.get("properties") == "cover-image"]
    assert len(covers) == 1


def test_every_document_has_language_and_sentence_spans(book: SourceResult) -> None:
    epub = Epub(book.epub)
    ids: list[str] = []
    for href in epub.xhtml_hrefs():
        doc = epub.xml(href)
        assert doc.get("lang") == "en-GB"
        assert doc.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"
        ids += doc.xpath("//x:span/@id", namespaces=NS)
    assert len(ids) == len(set(ids))
    c01 = epub.xml("text/c01.xhtml")
    assert c01.xpath("//x:em/text()", namespaces=NS) == ["very"]
    assert c01.xpath("//x:strong/text()", namespaces=NS) == ["bold"]
    assert c01.xpath("//x:a/@href", namespaces=NS) == ["https://example.org/engine"]
    assert c01.xpath("//x:blockquote/x:p", namespaces=NS)
    assert c01.xpath("//x:figure/x:img/@alt", namespaces=NS) == ["A diagram of the engine"]
    assert c01.xpath("//x:h2/x:span/text()", namespaces=NS) == ["A Section"]
    c02 = epub.xml("text/c02.xhtml")
    assert len(c02.xpath("//x:ol/x:li", namespaces=NS)) == 2
    # headings never skip a level
    for href in epub.xhtml_hrefs():
        levels = [
            int(h.tag[-1])
            for h in epub.xml(href).iter()
            if isinstance(h.tag, str) and h.tag[-2:-1] == "h" and h.tag[-1].isdigit()
        ]
        assert all(b <= a + 1 for a, b in itertools.pairwise(levels))


def test_cover_page_has_alt_text(book: SourceResult) -> None:
    cover = Epub(book.epub).xml("text/cover.xhtml")
    assert cover.xpath("//x:img/@alt", namespaces=NS) == [
        "Cover of A Small Book of Tests by Ada Lovelace and Charles Babbage"
    ]


def test_mp3_tags(book: SourceResult) -> None:
    for n, audio in enumerate(book.audio, start=1):
        mp3 = MP3(audio.path)
        tags = mp3.tags
        assert tags is not None and tags.version[:2] == (2, 4)
        assert str(tags["TIT2"]) == ["The First Chapter", "The Second Chapter"][n - 1]
        assert tags["TPE1"].text == ["Ada Lovelace", "Charles Babbage"]
        assert str(tags["TALB"]) == "A Small Book of Tests"
        assert str(tags["TRCK"]) == f"{n}/2"
        assert str(tags["TDRC"]) == "1843-09-01"
        assert str(tags["TLAN"]) == "eng"
        assert str(tags["TCON"]) == "Audiobook"
        assert str(tags["TPUB"]) == "Test Press"
        (apic,) = tags.getall("APIC")
        assert apic.type == 3 and apic.mime == "image/jpeg" and apic.data[:2] == b"\xff\xd8"
        (uslt,) = tags.getall("USLT")
        assert ["Mr. Babbage paid $3.50", "The end is here!"][n - 1] in uslt.text


def test_mp3_stream_is_cbr_and_uniform(book: SourceResult) -> None:
    for audio in [*book.audio, book.full]:
        info = MP3(audio.path).info
        assert info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN)  # LAME CBR header or none
        # joined from segments, frames' padding bits fall differently: the header's average can read 63,999
        assert abs(info.bitrate - 64000) <= 10
        assert set(frame_kbps(audio.path)) == {64}  # every frame, to the end of the file
        assert info.sample_rate == 44100
        assert info.channels == 1
        assert info.length == pytest.approx(audio.duration, abs=0.06)


def test_article_has_no_separate_title_page(seed_result: SourceResult) -> None:
    epub = Epub(seed_result.epub)
    assert epub.spine() == ["cover", "c01"]
    c01 = epub.xml("text/c01.xhtml")
    assert c01.xpath("//x:header/x:h1/x:span/text()", namespaces=NS) == ["Putin today"]
    assert c01.xpath("//x:header/x:p[contains(@class,'author')]/x:span/text()", namespaces=NS) == ["By Ava Cai"]
    assert len(c01.xpath("//x:h1", namespaces=NS)) == 1
