"""Recordings the tests make: eSpeak NG reads sentences (and, if asked, a preamble that is not in the
text) with pauses between them, and ffmpeg encodes the result, so every sentence's start is known."""

from __future__ import annotations

import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

from publisher.ffmpeg import ffmpeg_exe
from publisher.speech.engines import EngineOptions, get_engine

RATE = 22050


@dataclass(frozen=True)
class Made:
    """A recording made for a test, and where each sentence starts and ends in it (seconds)."""

    path: Path
    times: list[tuple[str, float, float]]  # (text, start, end) in reading order
    duration: float


def speak(parts: list[tuple[str, float]], path: Path, language: str = "en") -> Made:
    """Read each (text, pause after) with eSpeak NG into `path` (WAV, or any format ffmpeg writes by
    its extension); the times of every part are returned."""
    engine = get_engine("espeak", EngineOptions(language=language))
    wav = path.with_suffix(".made.wav")
    times = []
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        at = 0
        out.writeframes(bytes(2 * RATE // 2))
        at += RATE // 2
        for text, pause in parts:
            audio = engine.synthesize(text)
            assert audio.sample_rate == RATE
            start = at / RATE
            out.writeframes(audio.pcm)
            at += len(audio.pcm) // 2
            times.append((text, start, at / RATE))
            n = round(pause * RATE)
            out.writeframes(bytes(2 * n))
            at += n
    if path.suffix.lower() != ".wav":
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(wav), "-ac", "1", str(path)], check=True)
        wav.unlink()
    else:
        wav.replace(path)
    return Made(path, times, at / RATE)
