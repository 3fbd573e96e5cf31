"""What every per-publication renderer receives: the publication, its narration and what is written so far."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from publisher.audio.master import AudioFile
from publisher.formats.cover import Cover
from publisher.model.publication import Publication
from publisher.model.timeline import ChapterMark, Narration
from publisher.settings import Settings


@dataclass
class RenderContext:
    """A publication being rendered into `folder` (a staging copy of `output/<slug>/`).

    By the time the format renderers run, `folder` already holds the EPUBs, the chapter MP3s
    (`audio/NN-title.mp3`, with one `.vtt` each), the full-length `<slug>.mp3`, `<slug>.m4b`,
    `<slug>.vtt`, `<slug>.chapters.json` and the cover. Renderers write only inside `folder`
    (final files) or `work` (scratch), and must be deterministic for a given SOURCE_DATE_EPOCH.
    """

    pub: Publication
    narration: Narration  # tracks[i] is chapter i + 1: its cues are times inside that chapter's MP3
    settings: Settings
    cover: Cover
    folder: Path
    work: Path
    audio: list[AudioFile]  # chapter MP3s, in reading order, paths inside `folder`
    full: AudioFile  # the full-length MP3
    marks: list[ChapterMark]  # chapter marks in the full-length file
    identifier: str  # the EPUB's dc:identifier (stable across re-publishing)
    epoch: int | None  # SOURCE_DATE_EPOCH, when set
    modified: str  # ISO 8601 UTC timestamp of this publish (SOURCE_DATE_EPOCH when set)

    @property
    def slug(self) -> str:
        """The publication's folder name."""
        return self.pub.slug

    @property
    def cover_name(self) -> str:
        """The cover's file name inside `folder`."""
        return f"cover.{self.cover.extension}"
