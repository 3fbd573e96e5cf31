"""The read-aloud edition: media overlays from the narration timeline, accessibility metadata,
and the checks (EPUBCheck, Ace, our own) that `publisher check` runs."""

from __future__ import annotations

import re
import shutil
import zipfile
from importlib import resources
from pathlib import Path

import pytest
from tests.conftest import ROOT, copy_fixture
from tests.helpers import NS, Epub, publish_one

from publisher.clock import parse_clock
from publisher.pipeline.results import SourceResult
from publisher.settings import Settings
from publisher.validate.overlays import check_overlays
from publisher.validate.run import check_paths
from publisher.validate.tools import ace_command, run_ace, run_epubcheck
from publisher.xmlns import SMIL


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> SourceResult:
    folder = tmp_path_factory.mktemp("ra")
    source = copy_fixture("chapters.txt", folder)
    settings = Settings(engine="silent", output=folder / "output", publisher="Test Press")
    return publish_one(source, settings)


def read_aloud(result: SourceResult) -> Path:
    return result.folder / f"{result.slug}-read-aloud.epub"


def test_both_editions_pass_epubcheck(book: SourceResult) -> None:
    for path in (book.epub, read_aloud(book)):
        report = run_epubcheck(path)
        assert report.ok, "\n".join(report.messages)


def test_both_editions_pass_ace_with_no_violation(book: SourceResult) -> None:
    for path in (book.epub, read_aloud(book)):
        report = run_ace(path)
        assert report.ok, "\n".join(report.messages)
        assert report.summary == "Ace 1.4.6: 0 violations"


def test_ace_is_found_from_any_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`publisher check` run outside the checkout still finds the Ace that `make check` put in tools/."""
    installed = ROOT / "tools" / "ace" / "node_modules" / ".bin" / "ace-cli"
    if not installed.is_file():
        pytest.skip("make check has not installed Ace into tools/")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PUBLISHER_ACE", raising=False)
    assert ace_command() == [str(installed)]


def test_one_overlay_per_narrated_document_with_a_par_per_sentence(book: SourceResult) -> None:
    epub = Epub(read_aloud(book))
    manifest = epub.manifest()
    overlays = {i.get("id"): i.get("media-overlay") for i in manifest.values() if i.get("media-overlay")}
    assert overlays == {"titlepage": "mo-titlepage", "c01": "mo-c01", "c02": "mo-c02"}
    for doc_id, smil_id in overlays.items():
        assert manifest[smil_id].get("media-type") == "application/smil+xml"
        smil = epub.xml(manifest[smil_id].get("href"))
        assert smil.get("version") == "3.0"
        targets = [t.get("src").split("#")[1] for t in smil.iter(f"{{{SMIL}}}text")]
        spans = epub.xml(manifest[doc_id].get("href")).xpath("//x:span/@id", namespaces=NS)
        assert targets == spans  # every sentence, in document order
    audio = [i for i in manifest.values() if i.get("media-type") == "audio/mpeg"]
    assert len(audio) == 2


def test_clip_times_are_the_narration_timeline(book: SourceResult, tmp_path: Path) -> None:
    epub = Epub(read_aloud(book))
    smil = epub.xml("smil/c01.smil")
    clips = [(a.get("clipBegin"), a.get("clipEnd")) for a in smil.iter(f"{{{SMIL}}}audio")]
    # the silent engine is exact: the chapter heading is clip n°1 after the title page (4 clips)
    # in track 1; its length is len("Chapter One") × 0.06 s
    begins = [parse_clock(b) for b, _ in clips]
    ends = [parse_clock(e) for _, e in clips]
    assert ends[0] - begins[0] == pytest.approx(len("Chapter One") * 0.06, abs=0.0011)
    assert all(a < b for a, b in zip(ends, begins[1:], strict=False))


def test_durations_and_media_metadata(book: SourceResult) -> None:
    epub = Epub(read_aloud(book))
    durations = "//opf:meta[@property='media:duration']"
    per = [parse_clock(m.text) for m in epub.opf.xpath(f"{durations}[@refines]", namespaces=NS)]
    (total,) = [parse_clock(t) for t in epub.opf.xpath(f"{durations}[not(@refines)]/text()", namespaces=NS)]
    assert len(per) == 3
    assert sum(per) == pytest.approx(total, abs=0.01)
    assert epub.meta("media:narrator") == ["silence (test engine)"]
    assert epub.meta("media:active-class") == ["-epub-media-overlay-active"]
    css = epub.zip.read(epub.base + "css/book.css")
    assert css == resources.files("publisher.formats.book").joinpath("static/book.css").read_bytes()  # package data
    assert b".-epub-media-overlay-active" in css


def test_accessibility_metadata(book: SourceResult) -> None:
    text, narrated = Epub(book.epub), Epub(read_aloud(book))
    assert "synchronizedAudioText" in narrated.meta("schema:accessibilityFeature")
    assert "synchronizedAudioText" not in text.meta("schema:accessibilityFeature")
    assert set(narrated.meta("schema:accessMode")) == {"textual", "auditory"}
    assert text.meta("schema:accessMode") == ["textual"]
    assert set(narrated.meta("schema:accessModeSufficient")) == {"textual", "auditory"}
    for epub in (text, narrated):
        assert epub.meta("schema:accessibilityHazard") == ["none"]
        (summary,) = epub.meta("schema:accessibilitySummary")
        assert summary.startswith("This publication meets WCAG 2.2 Level AA.")
        assert epub.meta("dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]
        certified = epub.opf.xpath("//opf:meta[@property='a11y:certifiedBy']", namespaces=NS)
        assert [(c.get("refines"), c.text) for c in certified] == [("#conformance", "Test Press")]
        assert epub.opf.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"


def test_own_checks_pass_on_a_good_book(book: SourceResult) -> None:
    report = check_overlays(read_aloud(book))
    assert report.ok, report.messages
    assert report.summary == "media overlays: 3 narrated documents, 0 problems"


def _rewrite(src: Path, dest: Path, member: str, edit) -> None:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == member:
                data = edit(data)
            zout.writestr(info, data)


def test_own_checks_catch_a_clip_outside_its_audio(book: SourceResult, tmp_path: Path) -> None:
    broken = tmp_path / "broken-read-aloud.epub"
    _rewrite(
        read_aloud(book), broken, "EPUB/smil/c02.smil", lambda d: d.replace(b'clipEnd="0:00:0', b'clipEnd="0:09:0', 1)
    )
    report = check_overlays(broken)
    assert not report.ok
    assert any("lies outside" in m for m in report.messages)


def test_own_checks_catch_an_unnarrated_block(book: SourceResult, tmp_path: Path) -> None:
    broken = tmp_path / "broken-read-aloud.epub"

    def drop_last_par(data: bytes) -> bytes:
        start = data.rindex(b"<par ")
        end = data.index(b"</par>", start) + len(b"</par>")
        return data[:start] + data[end:]

    _rewrite(read_aloud(book), broken, "EPUB/smil/c02.smil", drop_last_par)
    report = check_overlays(broken)
    assert any("sentence #c02-s0003 not narrated: 'Nobody was there.'" in m for m in report.messages)
    assert any("media:duration" in m for m in report.messages)


def test_own_checks_read_every_smil_clock_value_form(book: SourceResult, tmp_path: Path) -> None:
    """SMIL 3.0 allows timecounts in ms, min and h: the same times written that way check clean."""

    def timecounts(data: bytes) -> bytes:
        def one(match: re.Match[bytes]) -> bytes:
            seconds = parse_clock(match[2].decode())
            value = f"{round(seconds * 1000)}ms" if match[1] == b"clipBegin" else f"{seconds / 60!r}min"
            return match[1] + b'="' + value.encode() + b'"'

        return re.sub(rb'(clipBegin|clipEnd)="([^"]+)"', one, data)

    def hours(data: bytes) -> bytes:
        def one(match: re.Match[bytes]) -> bytes:
            return match[1] + f"{parse_clock(match[2].decode()) / 3600!r}h".encode() + b"<"

        return re.sub(rb'(refines="#mo-c02"[^>]*>)([^<]+)<', one, data)

    step = tmp_path / "step.epub"
    rewritten = tmp_path / "units-read-aloud.epub"
    _rewrite(read_aloud(book), step, "EPUB/smil/c02.smil", timecounts)
    _rewrite(step, rewritten, "EPUB/content.opf", hours)
    with zipfile.ZipFile(rewritten) as zf:
        assert b"min" in zf.read("EPUB/smil/c02.smil") and b"ms" in zf.read("EPUB/smil/c02.smil")
        assert re.search(rb'refines="#mo-c02"[^>]*>[0-9.e-]+h<', zf.read("EPUB/content.opf"))
    report = check_overlays(rewritten)
    assert report.ok, report.messages
    assert report.summary == "media overlays: 3 narrated documents, 0 problems"


def test_check_paths_covers_every_file(book: SourceResult) -> None:
    reports = check_paths([book.folder])
    kinds = sorted((r.path.name, r.check) for r in reports)
    assert kinds == [
        ("01-chapter-one.mp3", "MP3 tags"),
        ("02-chapter-two.mp3", "MP3 tags"),
        ("chapters-read-aloud.epub", "Ace"),
        ("chapters-read-aloud.epub", "EPUBCheck"),
        ("chapters-read-aloud.epub", "overlays"),
        ("chapters.audiobook", "Readium audiobook"),
        ("chapters.epub", "Ace"),
        ("chapters.epub", "EPUBCheck"),
        ("chapters.lpf", "LPF audiobook"),
        ("chapters.mp3", "MP3 tags"),
        ("ncc.html", "DAISY 2.02"),
    ]
    assert all(r.ok for r in reports), [m for r in reports for m in r.messages]


def test_lower_bitrate_for_embedded_audio(tmp_path: Path, seed: Path) -> None:
    shutil.copy(seed, tmp_path)
    settings = Settings(engine="silent", output=tmp_path / "out", read_aloud_bitrate=32)
    result = publish_one(tmp_path / seed.name, settings)
    epub = read_aloud(result)
    with zipfile.ZipFile(epub) as zf:
        embedded = zf.getinfo("EPUB/audio/01-putin-today.mp3").file_size
    assert embedded < 0.6 * result.audio[0].path.stat().st_size
    assert check_overlays(epub).ok
