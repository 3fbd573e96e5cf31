"""The narration timeline as data: where every sentence is heard (Cue), one chapter's narration
(Track), the whole publication's (Narration), and chapter marks in the full-length file."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Cue:
    """Where one sentence is heard in its chapter's audio (seconds)."""

    sentence_id: str
    text: str
    start: float
    end: float


@dataclass
class Track:
    """One chapter's narration: the WAV on disk, its exact length, and the cues in it."""

    index: int
    title: str
    wav: Path
    duration: float
    cues: list[Cue] = field(default_factory=list)
    rms: float = -math.inf  # dBFS over the whole WAV (a first guess at its loudness)
    offset: float | None = None  # where it starts in the full-length MP3, once that file is made


@dataclass
class Narration:
    """The whole publication's narration."""

    engine: str
    narrator: str
    sample_rate: int
    tracks: list[Track] = field(default_factory=list)
    synthesized: int = 0  # clips made in this run (the rest came from the cache)

    @property
    def duration(self) -> float:
        """Seconds of the full-length file: the tracks back to back, and once that MP3 is made
        from the chapter MP3s' frames, the few milliseconds of silence its frames add between them."""
        if self.tracks and all(t.offset is not None for t in self.tracks):
            last = self.tracks[-1]
            assert last.offset is not None
            return last.offset + last.duration
        return sum(t.duration for t in self.tracks)

    def offsets(self) -> list[float]:
        """Where each track starts in the full-length file (back to back until that file is made)."""
        starts, running = [], 0.0
        for track in self.tracks:
            starts.append(track.offset if track.offset is not None else running)
            running += track.duration
        return starts


@dataclass(frozen=True)
class ChapterMark:
    """A chapter mark in the full-length audio (seconds)."""

    title: str
    start: float
    end: float
