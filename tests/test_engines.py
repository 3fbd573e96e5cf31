"""Engines behind one protocol: silent (exact), espeak (real audio), gtts (HTTP faked), piper (real)."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
from array import array
from pathlib import Path

import pytest
import requests
import responses

from publisher.errors import EngineError
from publisher.ffmpeg import ffmpeg_exe
from publisher.speech.engines import ENGINES, EngineOptions, get_engine

GTTS_URL = re.compile(r"https://translate\.google\.[a-z.]+/_/TranslateWebserverUi/data/batchexecute.*")


def peak(pcm: bytes) -> int:
    samples = array("h", pcm)
    return max((abs(s) for s in samples), default=0)


def test_registry_lists_the_engines() -> None:
    assert {"piper", "espeak", "gtts", "silent"} <= set(ENGINES)
    assert ENGINES["piper"].offline and ENGINES["espeak"].offline and not ENGINES["gtts"].offline


def test_unknown_engine_names_the_choices() -> None:
    with pytest.raises(EngineError, match="choose one of piper, espeak, gtts, silent"):
        get_engine("nonesuch", EngineOptions())


def test_silent_engine_is_exact() -> None:
    engine = get_engine("silent", EngineOptions())
    audio = engine.synthesize("x" * 100)
    assert audio.sample_rate == 22050
    assert len(audio.pcm) == 2 * round(100 * 0.06 * 22050)
    assert peak(audio.pcm) == 0


def test_espeak_speaks_offline() -> None:
    engine = get_engine("espeak", EngineOptions(language="en"))
    audio = engine.synthesize("Hello from the offline voice.")
    assert audio.sample_rate == 22050
    assert 0.8 < audio.duration < 5.0
    assert peak(audio.pcm) > 3000  # real speech, not silence
    faster = get_engine("espeak", EngineOptions(language="en", speed=2.0)).synthesize("Hello from the offline voice.")
    assert faster.duration < audio.duration * 0.75


ESPEAK_HASH = (
    "import hashlib, sys\n"
    "from publisher.speech.engines import EngineOptions, get_engine\n"
    "engine = get_engine('espeak', EngineOptions(language='en'))\n"
    "print(hashlib.sha256(engine.synthesize(sys.argv[1]).pcm).hexdigest())\n"
)


def test_espeak_clip_depends_on_its_text_only() -> None:
    """libespeak-ng carries state from one utterance to the next; each sentence is spoken from the
    same state, so a clip is the same whatever was said before it, in this process or a new one."""
    engine = get_engine("espeak", EngineOptions(language="en"))
    first = engine.synthesize("Hello world.").pcm
    engine.synthesize("The boats were already out at sea, far away from the harbour.")
    get_engine("espeak", EngineOptions(language="de")).synthesize("Die Boote waren schon auf dem Meer.")
    assert engine.synthesize("Hello world.").pcm == first
    assert engine.synthesize("Hello world.").pcm == first
    fresh = subprocess.run([sys.executable, "-c", ESPEAK_HASH, "Hello world."], capture_output=True, text=True)
    assert fresh.stdout.strip() == hashlib.sha256(first).hexdigest(), fresh.stderr


def test_espeak_unknown_voice_is_a_clear_error() -> None:
    with pytest.raises(EngineError, match="no voice for 'xx-nonesuch'"):
        get_engine("espeak", EngineOptions(voice="xx-nonesuch"))


def test_piper_default_voice_speaks() -> None:
    engine = get_engine("piper", EngineOptions())
    assert engine.narrator == "Joe, a synthetic Piper voice"
    audio = engine.synthesize("The quick brown fox jumps over the lazy dog.")
    assert audio.sample_rate == 22050
    assert 1.5 < audio.duration < 6.0
    assert peak(audio.pcm) > 3000


def test_piper_missing_voice_file_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EngineError, match="not found"):
        get_engine("piper", EngineOptions(voice=str(tmp_path / "nope.onnx")))


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"", "not an ONNX model"), (bytes(range(256)) * 40, "not an ONNX model"), (None, "truncated")],
    ids=["empty", "not-protobuf", "truncated"],
)
def test_piper_broken_voice_file_is_a_clear_error(tmp_path: Path, content: bytes | None, problem: str) -> None:
    """A voice file that is not a whole ONNX model fails with what is wrong, not a traceback."""
    from publisher.speech.engines.piper import default_voice

    real = default_voice()
    voice = tmp_path / "broken.onnx"
    voice.write_bytes(real.read_bytes()[:1_000_000] if content is None else content)
    shutil.copy(real.with_name(real.name + ".json"), tmp_path / "broken.onnx.json")
    engine = get_engine("piper", EngineOptions(voice=str(voice), cache_dir=tmp_path / "cache"))
    with pytest.raises(EngineError, match=f"cannot prepare Piper voice .*broken.onnx.*{problem}"):
        engine.synthesize("Hello.")
    assert not list((tmp_path / "cache" / "models").glob("*.onnx"))  # nothing half-made is kept


def _tone_mp3() -> bytes:
    """A real 0.5 s MP3 made by ffmpeg, standing in for Google's answer."""
    return subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.5",
         "-ar", "24000", "-ac", "1", "-f", "mp3", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip


@responses.activate
def test_gtts_decodes_the_service_answer() -> None:
    payload = base64.b64encode(_tone_mp3()).decode()
    body = ")]}'\n\n" + f'[["wrb.fr","jQ1olc","[\\"{payload}\\"]",null,null,null,"generic"]]\n'
    responses.add(responses.POST, GTTS_URL, body=body, status=200)
    audio = get_engine("gtts", EngineOptions(language="en-US")).synthesize("Hello.")
    assert len(responses.calls) == 1
    assert "Hello" in requests.utils.unquote(responses.calls[0].request.body or "")
    assert 0.4 < audio.duration < 0.7
    assert peak(audio.pcm) > 3000


@responses.activate
def test_gtts_offline_names_the_offline_engines() -> None:
    responses.add(responses.POST, GTTS_URL, body=requests.ConnectionError("Name or service not known"))
    engine = get_engine("gtts", EngineOptions())
    with pytest.raises(EngineError) as info:
        engine.synthesize("Hello.")
    message = str(info.value)
    assert "needs the internet" in message
    assert "piper" in message and "espeak" in message
