"""End to end with the real default voice on the real source: what `make publish` produces.

Validates the EPUB with EPUBCheck, reads the ID3 frames back, and has an offline speech
recogniser (`publisher proof`, Whisper tiny.en) check that the whole text is narrated, in order, intelligibly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from mutagen.mp3 import MP3

from publisher.audio.loudness import measure
from publisher.cli import cli
from publisher.prepare.credits import add_front_matter
from publisher.proof.report import transcribe_publication
from publisher.proof.score import tally
from publisher.readers import read_source
from publisher.validate.overlays import check_overlays
from publisher.validate.tools import run_ace, run_epubcheck

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


def test_narration_is_complete_and_intelligible(published: Path, tmp_path: Path) -> None:
    """Whisper tiny.en hears the whole text, sentence by sentence, in order (Piper is deterministic
    here, so is the score: 0.041 when measured; the issue's goal is 0.045)."""
    _manifest, _decoding, results = transcribe_publication(published, tmp_path / "cache")
    pub = read_source(ROOT / "sources" / "putin-today.txt")
    pub = add_front_matter(pub, "Joe, a synthetic Piper voice")
    assert [r.cue.text for r in results] == [s.text for s in pub.sentences()]
    wer = tally(results, "en").wer
    print(f"putin-today.mp3: word error rate {wer:.3f}")
    assert wer <= 0.045, [r.heard for r in results]
    # the last paragraph's last words are heard, in the last body sentence's cue: nothing was cut off
    assert "aggression" in results[-2].heard.lower()


def test_full_mp3_chapters_and_loudness(published: Path) -> None:
    tags = MP3(published / "putin-today.mp3").tags
    assert tags is not None and len(tags.getall("CHAP")) == 7 and len(tags.getall("CTOC")) == 1
    for name in ("putin-today.mp3", "audio/01-putin-today.mp3", "putin-today.m4b"):
        loudness = measure(published / name)
        assert -20.0 <= loudness.integrated <= -18.0 and loudness.true_peak <= -1.0, (name, loudness)
