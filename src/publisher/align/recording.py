"""A recording: its audio files in natural order, probed and hashed, and decoded by ffmpeg as a stream.

A recording is one audio file or a folder of them (MP3, M4A/M4B/AAC, WAV, FLAC, Ogg Vorbis or
Opus), taken in natural order ("2" before "10"), played back to back: times are given on that
joined timeline. Nothing holds a whole file in memory: decoding is read from ffmpeg's output a
block at a time, and the content hash is read in blocks too.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher.errors import SourceError
from publisher.ffmpeg import ffmpeg_exe

AUDIO_SUFFIXES = (".mp3", ".m4a", ".m4b", ".aac", ".mp4", ".wav", ".flac", ".ogg", ".oga", ".opus", ".webm")
SAMPLE_RATE = 16_000  # what Whisper listens at, and the rate the levels are measured at
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


@dataclass(frozen=True)
class Mark:
    """A chapter mark stored in an audio file (an M4B's chapters): a hint where chapters start."""

    title: str
    start: float  # seconds in its file


@dataclass(frozen=True)
class RecordingFile:
    """One audio file of a recording."""

    path: Path
    sha256: str
    duration: float  # as the container says (the decoded length may differ by a frame or two)
    marks: tuple[Mark, ...] = ()


@dataclass(frozen=True)
class Recording:
    """Audio files played back to back."""

    files: tuple[RecordingFile, ...]

    @property
    def offsets(self) -> tuple[float, ...]:
        """Where each file starts on the joined timeline."""
        return tuple(itertools.accumulate((f.duration for f in self.files[:-1]), initial=0.0))

    @property
    def duration(self) -> float:
        """Seconds of the files back to back."""
        return sum(f.duration for f in self.files)

    @property
    def name(self) -> str:
        """How the recording is named in messages: its file, or its folder and file count."""
        if len(self.files) == 1:
            return str(self.files[0].path)
        return f"{self.files[0].path.parent} ({len(self.files)} files)"


def natural_key(name: str) -> list[Any]:
    """A sort key that orders "2" before "10" (numbers compared as numbers, text case-folded)."""
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name)]


def audio_files(paths: list[Path]) -> list[Path]:
    """The audio files `paths` name: files as given, and each folder's audio files in natural order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = [
                p for p in path.iterdir()
                if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".")
            ]  # fmt: skip
            if not inside:
                raise SourceError("holds no audio file (MP3, M4A, M4B, AAC, WAV, FLAC, Ogg or Opus)", path=path)
            found.extend(sorted(inside, key=lambda p: natural_key(p.name)))
        elif path.is_file():
            found.append(path)
        else:
            raise SourceError("no such recording (file or folder)", path=path)
    return found


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes, read a block at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _marks(metadata: str) -> tuple[Mark, ...]:
    """Chapter marks from ffmpeg's ffmetadata listing ([CHAPTER] sections)."""
    marks: list[Mark] = []
    for section in metadata.split("[CHAPTER]")[1:]:
        values = dict(line.split("=", 1) for line in section.splitlines() if "=" in line)
        try:
            num, den = (int(x) for x in values.get("TIMEBASE", "1/1000").split("/"))
            start = int(values["START"]) * num / den
        except (KeyError, ValueError, ZeroDivisionError):
            continue
        marks.append(Mark(values.get("title", "").strip(), start))
    return tuple(marks)


def probe(path: Path) -> RecordingFile:
    """Hash `path` and read its duration and chapter marks; unreadable audio is a SourceError naming it."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-f", "ffmetadata", "-"]
    try:
        done = subprocess.run(cmd, capture_output=True, check=False, timeout=120)
    except subprocess.TimeoutExpired as exc:
        raise SourceError("cannot be read as audio (ffmpeg took too long to open it)", path=path) from exc
    log = done.stderr.decode(errors="replace")
    match = _DURATION.search(log)
    if done.returncode != 0 or match is None or "Audio:" not in log:
        reason = (log.strip().splitlines() or ["no audio stream"])[-1]
        raise SourceError(f"cannot be read as audio: {reason[:160]}", path=path)
    hours, minutes, seconds = match.groups()
    duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    if duration <= 0:
        raise SourceError("holds no audio (its length is 0)", path=path)
    return RecordingFile(path, file_hash(path), duration, _marks(done.stdout.decode(errors="replace")))


def open_recording(paths: list[Path]) -> Recording:
    """Every audio file `paths` name, probed, in order."""
    return Recording(tuple(probe(p) for p in audio_files(paths)))


def stream(path: Path, rate: int = SAMPLE_RATE, block: float = 5.0) -> Iterator[Any]:
    """The audio of `path` as mono float32 samples at `rate` (numpy arrays of `block` seconds, the
    last shorter), decoded by ffmpeg a block at a time. A file ffmpeg cannot decode is a SourceError."""
    import numpy as np

    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
           "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"]  # fmt: skip
    size = int(rate * block) * 2
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    total = 0
    try:
        while True:
            data = proc.stdout.read(size)
            if not data:
                break
            data = data[: len(data) // 2 * 2]
            total += len(data)
            yield np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    finally:
        proc.stdout.close()
        errors = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        code = proc.wait()
    if code != 0 or total == 0:
        reason = (errors.strip().splitlines() or ["no audio decoded"])[-1]
        raise SourceError(f"cannot be decoded: {reason[:160]}", path=path)
