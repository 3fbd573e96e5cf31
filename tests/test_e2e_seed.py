"""End to end with the real default voice on the real source: what `make publish` produces.

Validates the EPUB with EPUBCheck, reads the ID3 frames back, and has an offline speech
recogniser (Whisper tiny.en) check that the whole text is narrated, in order, intelligibly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from mutagen.mp3 import MP3

from publisher.audio.loudness import measure
from publisher.cli import cli
from publisher.readers import read_source
from publisher.speech.credits import add_front_matter
from publisher.validate.overlays import check_overlays
from publisher.validate.tools import run_ace, run_epubcheck
from quality import transcribe, word_error_rate

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e")
    (root / "sources").mkdir()
    shutil.copy(Path(__file__).parent.parent / "sources" / "putin-today.txt", root / "sources")
    result = CliRunner(mix_stderr=False).invoke(
        cli,
        ["publish", str(root / "sources"), "--output", str(root / "output"), "--lexicon", str(ROOT / "lexicon.txt")],
    )
    assert result.exit_code == 0, result.stderr
    return root / "output" / "putin-today"


@pytest.mark.parametrize("name", ["putin-today.epub", "putin-today-read-aloud.epub"])
def test_epubs_pass_epubcheck_and_ace(published: Path, name: str) -> None:
    for report in (run_epubcheck(published / name), run_ace(published / name)):
        assert report.ok, "\n".join(report.messages)


def test_read_aloud_overlays_cover_everything_inside_the_audio(published: Path) -> None:
    report = check_overlays(published / "putin-today-read-aloud.epub")
    assert report.ok, "\n".join(report.messages)


def test_mp3_tags_read_back(published: Path) -> None:
    (mp3_path,) = sorted((published / "audio").glob("*.mp3"))
    assert mp3_path.name == "01-putin-today.mp3"
    mp3 = MP3(mp3_path)
    tags = mp3.tags
    assert tags is not None
    assert str(tags["TIT2"]) == "Putin today"
    assert str(tags["TPE1"]) == "Ava Cai"
    assert str(tags["TALB"]) == "Putin today"
    assert str(tags["TRCK"]) == "1/1"
    assert str(tags["TDRC"]) == "2024-06-28"
    assert tags.getall("APIC")[0].type == 3
    assert "eye-to-eye level of tension" in tags.getall("USLT")[0].text
    assert 120 < mp3.info.length < 240  # about 2.5 minutes of speech


@pytest.mark.parametrize(("name", "limit"), [("audio/01-putin-today.mp3", 0.10), ("putin-today.mp3", 0.06)])
def test_narration_is_complete_and_intelligible(published: Path, name: str, limit: float) -> None:
    """Whisper tiny.en hears the whole text, in order (Piper is deterministic here, so is the score)."""
    pub = read_source(Path(__file__).parent.parent / "sources" / "putin-today.txt")
    add_front_matter(pub, "Joe, a synthetic Piper voice")
    expected = " ".join(s.text for s in pub.sentences())
    heard = transcribe(published / name)
    wer = word_error_rate(expected, heard)
    print(f"{name}: word error rate {wer:.3f}")
    assert wer <= limit, heard
    # the last paragraph's last words are heard too: nothing was cut off
    assert "aggression" in heard.lower()


def test_full_mp3_chapters_and_loudness(published: Path) -> None:
    tags = MP3(published / "putin-today.mp3").tags
    assert tags is not None and len(tags.getall("CHAP")) == 7 and len(tags.getall("CTOC")) == 1
    for name in ("putin-today.mp3", "audio/01-putin-today.mp3", "putin-today.m4b"):
        loudness = measure(published / name)
        assert -20.0 <= loudness.integrated <= -18.0 and loudness.true_peak <= -1.0, (name, loudness)
