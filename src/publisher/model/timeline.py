"""The narration timeline as immutable data: where each sentence is heard (Cue), one chapter's
narration (Track), the synthesized narration (Narration), and the narration placed in the
published audio files (Timeline, with its chapter marks; PlacedAudio, with the files that hold
it): the only timing every format reads."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cue:
    """Where one sentence is heard in its chapter's audio (seconds)."""

    sentence_id: str
    text: str
    start: float
    end: float

    def shifted(self, by: float) -> Cue:
        """The same cue `by` seconds later."""
        return Cue(self.sentence_id, self.text, self.start + by, self.end + by)


@dataclass(frozen=True)
class Track:
    """One chapter's narration: its audio, its exact length, and the cues in it.

    In a Narration the audio is the chapter WAV as synthesized; in a Timeline the cues and the
    duration are those of the published chapter MP3 (the WAV is still the source it was made from).
    """

    index: int
    title: str
    wav: Path
    duration: float
    cues: tuple[Cue, ...] = ()
    rms: float = -math.inf  # dBFS over the whole WAV (a first guess at its loudness)


@dataclass(frozen=True)
class ChapterMark:
    """A chapter mark in the full-length audio (seconds)."""

    title: str
    start: float
    end: float


@dataclass(frozen=True)
class Narration:
    """The whole publication as synthesized: one WAV per chapter, laid back to back."""

    engine: str
    narrator: str
    sample_rate: int
    tracks: tuple[Track, ...] = ()
    synthesized: int = 0  # clips made in this run (the rest came from the cache)

    @property
    def duration(self) -> float:
        """Seconds of narration, the chapters back to back."""
        return sum(t.duration for t in self.tracks)


@dataclass(frozen=True)
class Timeline:
    """The narration placed in the published files: each track's cues and duration in its chapter
    MP3, where each chapter starts in the full-length MP3, and that file's chapter marks."""

    engine: str
    narrator: str
    sample_rate: int
    tracks: tuple[Track, ...]
    starts: tuple[float, ...]  # where each track starts in the full-length file
    marks: tuple[ChapterMark, ...] = ()

    @property
    def duration(self) -> float:
        """Seconds of the full-length file (the chapter MP3s joined frame for frame)."""
        return self.starts[-1] + self.tracks[-1].duration if self.tracks else 0.0

    def full_cues(self) -> list[Cue]:
        """Every cue at its place in the full-length file."""
        return [cue.shifted(start) for track, start in zip(self.tracks, self.starts, strict=True) for cue in track.cues]


@dataclass(frozen=True)
class Measurement:
    """What ffmpeg measured of one audio file's loudness."""

    integrated: float  # LUFS
    true_peak: float  # dBTP
    rms: float  # dBFS, whole file
    peak: float  # dBFS, sample peak
    noise_floor: float  # dBFS, quietest stretch (-inf for digital silence)


@dataclass(frozen=True)
class AudioFile:
    """A written MP3 and what it holds."""

    path: Path
    chapter: int  # 0 for the full-length file
    title: str
    duration: float
    loudness: Measurement | None = None


@dataclass(frozen=True)
class PlacedAudio:
    """What every renderer reads of the audio: the placed timeline and the MP3s that will hold it."""

    timeline: Timeline
    chapters: tuple[AudioFile, ...]  # one MP3 per chapter, in reading order
    full: AudioFile  # the full-length MP3
