"""The narration timeline: exact cue times with the silent engine, pauses, credits."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from publisher.prepare.credits import add_front_matter
from publisher.readers import read_source
from publisher.settings import Settings
from publisher.speech.cache import ClipCache
from publisher.speech.engines import EngineOptions, get_engine
from publisher.speech.engines.silent import SAMPLE_RATE, SECONDS_PER_CHARACTER
from publisher.speech.narrate import narrate


def clip_seconds(text: str) -> float:
    return round(max(0.2, len(text) * SECONDS_PER_CHARACTER) * SAMPLE_RATE) / SAMPLE_RATE


@pytest.fixture
def book(fixtures: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    pub = read_source(fixtures / "book.md")
    engine = get_engine("silent", EngineOptions())
    pub = add_front_matter(pub, engine.narrator)
    settings = Settings()
    return pub, narrate(pub, engine, settings, tmp_path, ClipCache(tmp_path / "cache")), settings


def test_one_track_per_chapter_and_every_sentence_cued(book) -> None:  # type: ignore[no-untyped-def]
    pub, narration, _ = book
    assert len(narration.tracks) == len(pub.chapters) == 2
    cued = [c.sentence_id for t in narration.tracks for c in t.cues]
    assert cued == [s.id for s in pub.sentences()]
    # the title page opens the first track, the closing words end the last one
    assert narration.tracks[0].cues[0].sentence_id == "title-s0001"
    assert narration.tracks[-1].cues[-1].sentence_id == "closing-s0001"


def test_cue_times_are_exact(book) -> None:  # type: ignore[no-untyped-def]
    _pub, narration, settings = book
    track = narration.tracks[0]
    first = track.cues[0]
    assert first.start == pytest.approx(settings.lead_in, abs=1 / SAMPLE_RATE)
    for cue in track.cues:
        assert cue.end - cue.start == pytest.approx(clip_seconds(cue.text), abs=1e-9)
    for a, b in zip(track.cues, track.cues[1:], strict=False):
        gap = b.start - a.end
        assert gap == pytest.approx(settings.pause_sentence, abs=1e-3) or gap >= settings.pause_sentence


def test_track_duration_matches_the_wav(book) -> None:  # type: ignore[no-untyped-def]
    _, narration, settings = book
    for track in narration.tracks:
        with wave.open(str(track.wav)) as wav:
            assert wav.getframerate() == SAMPLE_RATE and wav.getnchannels() == 1
            assert wav.getnframes() / SAMPLE_RATE == pytest.approx(track.duration, abs=1e-9)
        assert track.cues[-1].end + settings.tail <= track.duration + 1e-9


def test_article_title_is_heard_once(seed: Path, tmp_path: Path) -> None:
    pub = read_source(seed)
    engine = get_engine("silent", EngineOptions())
    pub = add_front_matter(pub, engine.narrator)
    narration = narrate(pub, engine, Settings(), tmp_path, ClipCache(tmp_path / "cache"))
    texts = [c.text for c in narration.tracks[0].cues]
    assert texts[:4] == ["Putin today", "By Ava Cai", "June 28, 2024", "Narrated by silence (test engine)"]
    assert texts.count("Putin today") == 1
    assert texts[-1] == "This is the end of Putin today, by Ava Cai."


def test_no_announce_leaves_out_credits_and_closing(seed: Path, tmp_path: Path) -> None:
    pub = read_source(seed)
    pub = add_front_matter(pub, None, closing=False)
    narration = narrate(
        pub, get_engine("silent", EngineOptions()), Settings(announce=False), tmp_path, ClipCache(tmp_path)
    )
    texts = [c.text for c in narration.tracks[0].cues]
    assert not any(t.startswith("Narrated by") for t in texts)
    assert not texts[-1].startswith("This is the end")
