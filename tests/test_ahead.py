"""speech/ahead.py by itself: a synthesis process started ahead of its sentences puts the same
clips in the cache as this process would (run after run), hands back what it cannot speak, and
ends when the run is cancelled."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

import pytest

from publisher.errors import Cancelled
from publisher.pipeline import engines
from publisher.pipeline.engines import drop_spare, start_spare
from publisher.pipeline.memo import source_note
from publisher.progress import CancelToken
from publisher.settings import Settings
from publisher.speech.ahead import Speaker
from publisher.speech.cache import ClipCache
from publisher.speech.engines import EngineOptions, EngineSpec, get_engine
from publisher.speech.narrate import Clip, speak

SILENT = EngineSpec("silent", EngineOptions())


def clips(*texts: str) -> list[Clip]:
    return [Clip(hashlib.sha256(t.encode()).hexdigest(), f"s{n}", t) for n, t in enumerate(texts)]


def test_it_puts_the_clips_this_process_would_make_in_the_cache(tmp_path: Path) -> None:
    engine = get_engine(*SILENT)
    speaker = Speaker(SILENT, engine.cache_key)
    first, second = clips("One sentence.", "And a longer second sentence, with a clause."), clips("A third.")
    ticks: list[int] = []
    try:
        speaker.send(first, tmp_path / "one")
        assert speaker.receive(ticks.append) == []
        speaker.send(second, tmp_path / "two")  # the same process, for the next run
        assert speaker.receive(ticks.append) == [] and speaker.alive
    finally:
        speaker.close()
    assert ticks == [1, 1, 1]
    for root, made in ((tmp_path / "one", first), (tmp_path / "two", second)):
        assert [ClipCache(root).get(c.key) for c in made] == [speak(engine, c) for c in made]
    assert not speaker.alive


def test_a_voice_it_cannot_load_hands_the_clips_back(tmp_path: Path) -> None:
    """The caller then speaks them itself, and reports the engine's own error if it fails too."""
    spec = EngineSpec("piper", EngineOptions(voice=str(tmp_path / "missing.onnx"), cache_dir=tmp_path))
    speaker = Speaker(spec, "piper:x")
    todo = clips("A sentence.", "Another.")
    speaker.send(todo, tmp_path / "clips")
    assert speaker.receive() == [c.key for c in todo]
    assert not speaker.alive
    assert not (tmp_path / "clips").exists() or not any((tmp_path / "clips").rglob("*.pcm"))


def test_a_cancelled_run_ends_it(tmp_path: Path) -> None:
    speaker = Speaker(SILENT, "silent:x")
    token = CancelToken()
    token.cancel()
    speaker.send(clips("Never spoken."), tmp_path)
    with pytest.raises(Cancelled):
        speaker.receive(cancel=token)
    assert not speaker.alive


def test_a_spare_learns_its_voice_later_and_speaks_as_any(tmp_path: Path) -> None:
    """Started with only an engine's name (before the run has read its source), then told the voice."""
    engine = get_engine(*SILENT)
    spare = Speaker("silent")
    assert spare.spare and spare.alive
    spare.assign(SILENT, engine.cache_key)
    made = clips("Told its voice after it started.")
    try:
        spare.send(made, tmp_path)
        assert spare.receive() == [] and not spare.spare
    finally:
        spare.close()
    assert ClipCache(tmp_path).get(made[0].key) == speak(engine, made[0])
    unused = Speaker("silent")
    unused.close()  # never told a voice: it ends all the same
    assert not unused.alive


def test_a_spare_starts_only_for_a_source_edited_since_it_was_published(tmp_path: Path) -> None:
    """The guess is two stats: the source's file newer than the note its last publish left in the
    cache. A first publish, an untouched source, a cluster or an engine quick to load start none."""
    settings = Settings(engine="piper", output=tmp_path / "out", cache=tmp_path / "cache")
    source = tmp_path / "sources" / "story.txt"
    source.parent.mkdir()
    source.write_text("A Story\n\nOne sentence.\n", encoding="utf-8")
    try:
        start_spare([source.parent], settings)
        assert not engines._SPARE, "never published: nothing to expect"
        note = source_note(source, settings)
        assert note is not None
        note.parent.mkdir(parents=True)
        note.write_text("{}", encoding="utf-8")
        os.utime(source, ns=(note.stat().st_mtime_ns - 10**9,) * 2)
        start_spare([source.parent], settings)
        assert not engines._SPARE, "unchanged since it was published"
        os.utime(source, ns=(note.stat().st_mtime_ns + 10**9,) * 2)
        for other in (replace(settings, cluster="tcp://nowhere:8786"), replace(settings, engine="silent"),
                      replace(settings, use_cache=False), replace(settings, force=True)):  # fmt: skip
            start_spare([source], other)
            assert not engines._SPARE, other
        start_spare([source.parent], settings)
        (spare,) = engines._SPARE
        assert spare.spare and spare.alive
    finally:
        drop_spare()
    assert not engines._SPARE and not spare.alive
