"""speech/ahead.py by itself: a synthesis process started ahead of its sentences puts the same
clips in the cache as this process would (run after run), hands back what it cannot speak, and
ends when the run is cancelled."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from publisher.errors import Cancelled
from publisher.progress import CancelToken
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
