"""Listening formats: full MP3 with CHAP/CTOC, M4B with chapters, WebVTT, chapters JSON, and the
loudness profiles measured on real speech (eSpeak NG, fast and offline)."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from mutagen.id3 import CTOCFlags
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from tests.conftest import copy_fixture
from tests.helpers import frame_kbps, publish

from publisher.audio.loudness import measure
from publisher.ffmpeg import ffmpeg_exe
from publisher.pipeline.results import SourceResult

CUE = re.compile(r"^(\S+)\n(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.+)$", re.MULTILINE)


def seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def ffmpeg_chapters(path: Path) -> list[str]:
    """Chapter titles as ffmpeg's demuxer reads them (the same reader ffprobe uses)."""
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return re.findall(r"\[CHAPTER\][^\[]*?title=([^\n]*)", out)


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> SourceResult:
    folder = tmp_path_factory.mktemp("listen-seed")
    return publish(Path(__file__).parent.parent / "sources" / "putin-today.txt", folder / "out")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> SourceResult:
    folder = tmp_path_factory.mktemp("listen-book")
    return publish(copy_fixture("chapters.txt", folder), folder / "out")


def test_layout(seed: SourceResult) -> None:
    names = sorted(p.name for p in seed.folder.iterdir())
    assert names == [
        ".publisher.json", "audio", "cover.jpg", "daisy", "index.html", "putin-today-daisy.zip",
        "putin-today-read-aloud.epub", "putin-today.audiobook", "putin-today.chapters.json", "putin-today.epub",
        "putin-today.lpf", "putin-today.m4b", "putin-today.mp3", "putin-today.vtt", "thumbnail.jpg",
    ]  # fmt: skip
    assert sorted(p.name for p in (seed.folder / "audio").iterdir()) == [
        "01-putin-today.chapters.json", "01-putin-today.mp3", "01-putin-today.vtt",
    ]  # fmt: skip


def test_full_mp3_has_a_chapter_per_paragraph_for_an_article(seed: SourceResult) -> None:
    tags = MP3(seed.full.path).tags
    assert tags is not None
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert len(chaps) == 7  # the opening (title and credits) + 6 paragraphs
    assert [str(c.sub_frames["TIT2"]) for c in chaps][:2] == ["Putin today", "When it comes to threatening NATO,…"]
    (toc,) = tags.getall("CTOC")
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    assert toc.child_element_ids == [c.element_id for c in chaps]  # in playing order
    assert chaps[0].start_time == 0
    assert all(a.end_time == b.start_time for a, b in itertools.pairwise(chaps))
    assert chaps[-1].end_time == round(seed.duration * 1000)
    assert str(tags["TCON"]) == "Podcast"
    assert len(ffmpeg_chapters(seed.full.path)) == 7


def test_full_mp3_has_a_chapter_per_chapter_for_a_book(book: SourceResult) -> None:
    assert ffmpeg_chapters(book.full.path) == ["Chapter One", "Chapter Two"]


def test_m4b_is_an_audiobook_with_chapters_and_cover(book: SourceResult) -> None:
    m4b = MP4(book.folder / "chapters.m4b")
    assert [c.title for c in m4b.chapters] == ["Chapter One", "Chapter Two"]
    # chapter two starts after chapter one's audio and its AAC segments' padding (where exactly:
    # test_chapter_marks_and_cues_are_where_the_speech_is)
    assert book.audio[0].duration <= m4b.chapters[1].start <= book.audio[0].duration + 0.5
    tags = m4b.tags
    assert tags is not None
    assert tags["stik"] == [2]
    assert (
        tags["\xa9nam"] == ["The Long Walk"]
        and tags["\xa9ART"] == ["Jo March"]
        and tags["\xa9alb"] == ["The Long Walk"]
    )
    assert tags["covr"][0][:2] == b"\xff\xd8"
    assert m4b.info.length == pytest.approx(book.duration, abs=0.2)
    assert m4b.info.codec.startswith("mp4a")


def test_webvtt_one_cue_per_sentence_at_the_heard_time(seed: SourceResult) -> None:
    for vtt, cues in (
        (seed.folder / "putin-today.vtt", seed.cues),
        (seed.folder / "audio/01-putin-today.vtt", seed.cues),
    ):
        text = vtt.read_text(encoding="utf-8")
        assert text.startswith("WEBVTT\n")
        parsed = CUE.findall(text)
        assert len(parsed) == len(cues) == seed.sentences
        for (sid, start, end, words), cue in zip(parsed, cues, strict=True):
            assert sid == cue.sentence_id and words == cue.text
            assert seconds(start) == pytest.approx(cue.start, abs=0.0006)
            assert seconds(end) == pytest.approx(cue.end, abs=0.0006)


def test_webvtt_escapes_markup(tmp_path: Path) -> None:
    source = tmp_path / "tags.txt"
    source.write_text("Tags & things\n\nUse <b> & </b> --> here. Fine.\n", encoding="utf-8")
    result = publish(source, tmp_path / "out")
    text = (result.folder / "tags.vtt").read_text(encoding="utf-8")
    assert "Use &lt;b&gt; &amp; &lt;/b&gt; --&gt; here." in text
    assert len(CUE.findall(text)) == result.sentences


def test_chapters_json(book: SourceResult) -> None:
    data = json.loads((book.folder / "chapters.chapters.json").read_text(encoding="utf-8"))
    assert data["version"] == "1.2.0"
    assert [c["title"] for c in data["chapters"]] == ["Chapter One", "Chapter Two"]
    assert data["chapters"][0]["startTime"] == 0


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> tuple[SourceResult, SourceResult]:
    folder = tmp_path_factory.mktemp("loud")
    source = copy_fixture("chapters.txt", folder)
    return publish(source, folder / "podcast", engine="espeak"), publish(
        source, folder / "acx", engine="espeak", profile="acx"
    )


def _files(result: SourceResult) -> list[Path]:
    return [a.path for a in result.audio] + [result.full.path, result.folder / "chapters.m4b"]


def test_podcast_profile_loudness(spoken: tuple[SourceResult, SourceResult]) -> None:
    podcast, _ = spoken
    for path in _files(podcast):
        m = measure(path)
        assert -20.0 <= m.integrated <= -18.0, (path.name, m)
        assert m.true_peak <= -1.0, (path.name, m)


def test_acx_profile(spoken: tuple[SourceResult, SourceResult]) -> None:
    _, acx = spoken
    for path in [a.path for a in acx.audio] + [acx.full.path]:
        m = measure(path)
        assert -23.0 <= m.rms <= -18.0, (path.name, m)
        assert m.peak <= -3.0, (path.name, m)
        assert m.noise_floor <= -60.0, (path.name, m)
        info = MP3(path).info
        # CBR 192 kbit/s: every frame says so (the header's average can read 191,999 once joined)
        assert info.sample_rate == 44100 and set(frame_kbps(path)) == {192}
    for track in acx.audio:
        vtt = CUE.findall((track.path.with_suffix(".vtt")).read_text(encoding="utf-8"))
        head = seconds(vtt[0][1])
        tail = track.duration - seconds(vtt[-1][2])
        assert 0.5 <= head <= 1.0 and 1.0 <= tail <= 5.0, (head, tail)


def decoded(path: Path) -> bytes:
    """16-bit samples as ffmpeg decodes them (gapless: encoder delay and padding trimmed)."""
    return subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-"],
        capture_output=True,
        check=True,
    ).stdout


def test_full_mp3_is_the_chapter_mp3s_joined_with_each_at_its_mark(
    spoken: tuple[SourceResult, SourceResult],
) -> None:
    """The full-length MP3 is made from the chapter MP3s' frames: each chapter's decoded samples
    reappear bit for bit where its CHAP frame says it starts, and the cues and the published
    duration follow that file's timeline."""
    for result in spoken:
        full = decoded(result.full.path)
        rate = MP3(result.full.path).info.sample_rate
        tags = MP3(result.full.path).tags
        assert tags is not None
        chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
        assert len(chaps) == len(result.audio) == 2
        for chap, track in zip(chaps, result.audio, strict=True):
            part = decoded(track.path)
            start = 2 * round(chap.start_time / 1000 * rate)  # in bytes; CHAP times are whole milliseconds
            found = full.find(part, max(0, start - 2 * rate // 500))
            assert found >= 0 and abs(found - start) <= 2 * rate // 1000, (track.path.name, found, start)
        second = chaps[1].start_time / 1000
        chapter_two = [c for c in result.cues if c.start >= second]
        vtt = CUE.findall(result.audio[1].path.with_suffix(".vtt").read_text(encoding="utf-8"))
        assert abs(chapter_two[0].start - (second + seconds(vtt[0][1]))) < 0.002  # full cue = mark + chapter cue
        assert abs(len(full) / 2 / rate - result.duration) < 0.001  # the published duration is the file's
        assert chaps[-1].end_time == round(result.duration * 1000)


def onset(samples: bytes, rate: int, after: float, threshold: int = 800) -> float:
    """Seconds at which the first sample louder than `threshold` comes, at or after `after`."""
    import array

    data = array.array("h", samples)
    start = round(after * rate)
    return next(n for n in range(start, len(data)) if abs(data[n]) > threshold) / rate


def test_chapter_marks_and_cues_are_where_the_speech_is(spoken: tuple[SourceResult, SourceResult]) -> None:
    """In the full MP3 and in the M4B (each on its own timeline), chapter two's speech begins where
    its mark plus the speech's place in the chapter's own MP3 say; its captions agree."""
    result, _ = spoken
    chapter_two = result.audio[1].path
    in_chapter = onset(decoded(chapter_two), MP3(chapter_two).info.sample_rate, 0.0)
    vtt = CUE.findall(chapter_two.with_suffix(".vtt").read_text(encoding="utf-8"))
    assert 0 <= in_chapter - seconds(vtt[0][1]) < 0.1  # the first cue starts as the speech does
    tags = MP3(result.full.path).tags
    assert tags is not None
    chap = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)[1].start_time / 1000
    heard = onset(decoded(result.full.path), MP3(result.full.path).info.sample_rate, chap)
    assert abs(heard - (chap + in_chapter)) < 0.002, (heard, chap, in_chapter)  # CHAP times are whole ms
    m4b = MP4(result.folder / "chapters.m4b")
    mark = m4b.chapters[1].start
    heard = onset(decoded(result.folder / "chapters.m4b"), m4b.info.sample_rate, mark)
    assert abs(heard - (mark + in_chapter)) < 0.02, (heard, mark, in_chapter)  # AAC vs MP3 onsets differ a little
    cue = next(c for c in result.cues if c.start >= chap)  # the full-length captions
    assert abs(cue.start - (chap + seconds(vtt[0][1]))) < 0.002


def test_language_fallback_to_espeak(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = tmp_path / "texte.md"
    source.write_text("---\ntitle: Un texte\nlanguage: fr\n---\n\nIl a 25 ans. Il fait beau.\n", encoding="utf-8")
    with caplog.at_level("INFO", logger="publisher.pipeline.engines"):  # a warning only for a voice the user chose
        result = publish(source, tmp_path / "out", engine="piper")
    assert "narrating with eSpeak NG in fr instead" in caplog.text
    tags = MP3(result.audio[0].path).tags
    assert tags is not None and str(tags["TLAN"]) == "fre"
    shutil.rmtree(tmp_path / "out")
