"""What a publish returns: a typed result per source (published, unchanged, failed or cancelled)
and the batch's results together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from publisher.errors import PublisherError
from publisher.model.timeline import AudioFile, Cue

State = Literal["published", "unchanged", "failed", "cancelled"]


@dataclass(frozen=True)
class SourceResult:
    """What one source became.

    A published or unchanged source has its `folder` and the files in it; a failed one its
    `error` (its earlier outputs, if any, are untouched); a cancelled one neither.
    """

    source: Path
    slug: str
    state: State
    folder: Path | None = None
    files: tuple[Path, ...] = ()  # every file of the publication folder (absolute or as `folder` is)
    epub: Path | None = None
    audio: tuple[AudioFile, ...] = ()  # the chapter MP3s
    full: AudioFile | None = None  # the full-length MP3
    cues: tuple[Cue, ...] = ()  # every sentence where it is heard in the full-length MP3
    duration: float = 0.0  # seconds of narration
    chapters: int = 0
    sentences: int = 0
    synthesized: int = 0  # clips made in this run; the others were reused from the cache
    timings: Mapping[str, float] = field(default_factory=dict)  # seconds per stage, and "total"
    error: PublisherError | None = None

    @property
    def ok(self) -> bool:
        """Published or unchanged: its folder holds a complete, current publication."""
        return self.state in ("published", "unchanged")

    @property
    def skipped(self) -> bool:
        """Unchanged since its last publish: nothing was rendered."""
        return self.state == "unchanged"

    @property
    def reused(self) -> int:
        """Sentences whose clips came from the cache."""
        return self.sentences - self.synthesized if self.state == "published" else 0

    @property
    def seconds(self) -> float:
        """Wall-clock seconds this source took."""
        return self.timings.get("total", 0.0)


@dataclass(frozen=True)
class BatchResult:
    """Every source's result, in the order they finished, and the catalogue files written."""

    results: tuple[SourceResult, ...] = ()
    catalogue: tuple[Path, ...] = ()
    cancelled: bool = False

    @property
    def published(self) -> list[SourceResult]:
        """Sources whose folder holds a current publication (published now or unchanged)."""
        return [r for r in self.results if r.ok]

    @property
    def failed(self) -> list[SourceResult]:
        """Sources that failed (each with its error)."""
        return [r for r in self.results if r.state == "failed"]

    @property
    def ok(self) -> bool:
        """Every source published (or unchanged), nothing cancelled."""
        return not self.cancelled and all(r.ok for r in self.results)
