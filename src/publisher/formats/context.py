"""What every per-publication renderer receives: immutable data about the publication, its placed
timeline, and the outputs written before it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.model import layout
from publisher.model.catalogue import CatalogueEntry
from publisher.model.publication import Cover, Publication
from publisher.model.timeline import AudioFile, ChapterMark, PlacedAudio, Timeline
from publisher.settings import Settings

if TYPE_CHECKING:  # the audio stage's modules load only when a publication is rendered
    from publisher.audio.place import EncodedAudio


@dataclass(frozen=True)
class RenderContext:
    """A publication being rendered into `folder` (a staging copy of `output/<slug>/`).

    Renderers run in the registry's order (formats/registry.py); each sees in `written` the
    outputs of those before it, and in `later` the kinds of output the catalogue stage will add
    to the folder (the publication's own podcast feed). Renderers write only inside `folder`
    (final files) or `work` (scratch), and must be deterministic for a given SOURCE_DATE_EPOCH.
    """

    pub: Publication
    placed: PlacedAudio  # the narration placed in the audio files, and those files
    encoded: EncodedAudio  # the encoded segments the audio renderers join, and each chapter's gain
    settings: Settings
    cover: Cover
    folder: Path
    work: Path
    epoch: int | None  # SOURCE_DATE_EPOCH, when set
    modified: str  # ISO 8601 UTC timestamp of this publish (SOURCE_DATE_EPOCH when set)
    written: Mapping[str, Path] = field(default_factory=dict)  # kind → file, from the renderers before
    later: frozenset[str] = frozenset()  # kinds the catalogue stage writes into the folder afterwards

    @property
    def identifier(self) -> str:
        """The publication's identifier (dc:identifier; stable across re-publishing)."""
        assert self.pub.metadata.identifier is not None, "the prepare stage gives every publication its identifier"
        return self.pub.metadata.identifier

    @property
    def slug(self) -> str:
        """The publication's folder name."""
        return self.pub.slug

    @property
    def timeline(self) -> Timeline:
        """Where every sentence is heard: per chapter MP3, and in the full-length MP3."""
        return self.placed.timeline

    @property
    def audio(self) -> tuple[AudioFile, ...]:
        """The chapter MP3s in reading order (paths inside `folder`)."""
        return self.placed.chapters

    @property
    def full(self) -> AudioFile:
        """The full-length MP3."""
        return self.placed.full

    @property
    def marks(self) -> tuple[ChapterMark, ...]:
        """Chapter marks in the full-length file."""
        return self.placed.timeline.marks

    @property
    def cover_name(self) -> str:
        """The cover's file name inside `folder`."""
        return layout.cover(self.cover.extension)


@dataclass(frozen=True)
class CatalogueContext:
    """What every catalogue renderer receives: every publication in `output/`, read back from the
    manifests, and the names of the catalogue files this run writes (so pages link only to those)."""

    entries: tuple[CatalogueEntry, ...]
    output: Path
    settings: Settings
    files: frozenset[str]  # catalogue files written into `output/` (feed.xml, opds.xml, …)
    kinds: frozenset[str]  # kinds of output written into each publication's folder (its serial feed)
