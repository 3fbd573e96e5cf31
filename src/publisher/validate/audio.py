"""Checks of the audio itself: the playing time of an MP3 (what clips are measured against) and
the ID3 tags listeners' players and screen readers rely on."""

from __future__ import annotations

import io
from pathlib import Path

from mutagen.mp3 import MP3

from publisher.validate.report import Report

#: how far a clip may run past the end of its audio (MP3 frame granularity is 26 ms)
CLIP_TOLERANCE = 0.05
REQUIRED_FRAMES = ("TIT2", "TPE1", "TALB", "TRCK", "TLAN", "TCON", "APIC", "USLT")


def mp3_length(source: Path | bytes) -> float:
    """Playing time of an MP3 file or MP3 bytes in seconds (from its LAME/Xing header when there
    is one). Raises mutagen.MutagenError when it is not an MP3, OSError when it cannot be read."""
    info = MP3(source if isinstance(source, Path) else io.BytesIO(source)).info
    return float(info.length) if info is not None else 0.0


def check_mp3_tags(mp3: Path) -> Report:
    """The ID3v2.4 frames listeners' players and screen readers rely on."""
    audio = MP3(mp3)
    tags = audio.tags
    messages = []
    if tags is None:
        messages.append("no ID3 tag")
    else:
        if tags.version[:2] != (2, 4):
            messages.append(f"ID3v2.{tags.version[1]}, not ID3v2.4")
        for frame in REQUIRED_FRAMES:
            if not tags.getall(frame):
                messages.append(f"missing {frame}")
    summary = f"ID3: {len(REQUIRED_FRAMES) - len(messages)}/{len(REQUIRED_FRAMES)} required frames"
    return Report(mp3, "MP3 tags", not messages, summary, messages)
