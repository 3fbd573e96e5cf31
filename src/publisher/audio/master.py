"""Mastering: the gain and limiter that bring each chapter to its loudness profile, and their measurements."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from publisher.audio.loudness import PROFILES, choose_gain, level_filter
from publisher.audio.mp3 import mp3_rate
from publisher.ffmpeg import run_ffmpeg
from publisher.model.timeline import Measurement, Narration, Track
from publisher.settings import Settings


@dataclass(frozen=True)
class Master:
    """A chapter's narration WAV and the gain that brings it to the loudness profile.

    The gain (and a limiter) is applied by each encoder on the fly; `loudness` is what the
    levelled audio measured (predicted from the WAV until the chapter's MP3 encode has measured it).
    """

    wav: Path
    gain: float
    loudness: Measurement
    slope: float = 1.0  # dB the levelled result moves per dB of gain (the limiter keeps it below 1)


#: the loudness of a master whose gain came from the last publish (its encode measures it)
UNMEASURED = Measurement(math.nan, math.nan, math.nan, math.nan, math.nan)


def make_masters(narration: Narration, settings: Settings, hints: Mapping[int, float]) -> dict[int, Master]:
    """Choose every chapter's gain (measuring side by side, one ffmpeg per core).

    A chapter with a hint (its gain in the last publish, same profile) is not measured: an edit
    moves a chapter's loudness by hundredths of a dB, and its encode checks the result anyway.
    """
    profile = PROFILES[settings.profile]

    def master(track: Track) -> Master:
        if track.index in hints:
            return Master(track.wav, hints[track.index], UNMEASURED)
        level = choose_gain(track.wav, track.rms, profile)
        return Master(track.wav, level.gain, level.predicted, level.slope)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {t.index: pool.submit(master, t) for t in narration.tracks}
        return {index: future.result() for index, future in futures.items()}


def encode_mp3(master: Master, mp3: Path, settings: Settings, bitrate: int | None = None) -> None:
    """Level `master` into a constant-bitrate mono MP3 (gapless LAME header), in one piece: for the
    read-aloud EPUB's smaller audio (the chapter MP3s are joined from segments, segments.py)."""
    kbps = bitrate or settings.bitrate
    run_ffmpeg(
        [
            "-y", "-i", str(master.wav), "-af", level_filter(master.gain, PROFILES[settings.profile]),
            "-map_metadata", "-1", "-vn", "-ac", "1", "-ar", str(mp3_rate(settings, kbps)),
            "-c:a", "libmp3lame", "-b:a", f"{kbps}k", "-compression_level", "5", "-write_xing", "1",
            "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3", str(mp3),
        ],
        what="encoding MP3",
        path=mp3,
    )  # fmt: skip


def combined_loudness(parts: Sequence[tuple[float, Measurement]]) -> Measurement:
    """The loudness of parts (seconds, measurement) played back to back: their mean power,
    weighted by length (exact for RMS; for gated loudness a close estimate, within 0.1 LU here)."""
    total = sum(seconds for seconds, _ in parts) or 1.0

    def mean(values: list[tuple[float, float]]) -> float:
        power = sum(seconds * 10 ** (value / 10) for seconds, value in values if math.isfinite(value))
        return 10 * math.log10(power / total) if power > 0 else -math.inf

    return Measurement(
        mean([(s, m.integrated) for s, m in parts]), math.nan, mean([(s, m.rms) for s, m in parts]), math.nan, math.nan
    )
