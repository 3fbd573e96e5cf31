"""What the catalogue knows of each published publication (read back from its manifest)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


@dataclass
class AudioEntry:
    """One MP3 of a publication, as recorded in its manifest."""

    path: str  # relative to the publication folder
    chapter: int  # 0 for the full-length file
    title: str
    duration: float
    size: int = 0
    updated: str | None = None  # ISO 8601 UTC: when this chapter's audio last changed after its first publish


@dataclass
class CatalogueEntry:
    """One published publication, read back from `output/<slug>/.publisher.json`."""

    slug: str
    folder: Path
    title: str
    authors: list[str]
    language: str
    identifier: str
    duration: float
    published: str  # ISO 8601 UTC: the source's date when it has one, else the first publish
    modified: str  # ISO 8601 UTC: this publish
    date: str | None = None
    description: str | None = None
    publisher: str | None = None
    rights: str | None = None
    subjects: list[str] = field(default_factory=list)
    narrator: str = ""
    cover: str | None = None  # file name in the folder
    audio: list[AudioEntry] = field(default_factory=list)
    full: AudioEntry | None = None
    chapters: list[dict[str, Any]] = field(default_factory=list)  # {"title", "start", "end"} in the full MP3
    formats: dict[str, str] = field(default_factory=dict)  # kind ("epub", "mp3", "m4b", …) → path in folder
    files: dict[str, int] = field(default_factory=dict)  # every file in the folder → size in bytes

    def size(self, path: str) -> int:
        """The size in bytes of a file of this publication."""
        return self.files.get(path, 0)

    @functools.cached_property
    def digest(self) -> str:
        """A digest of everything the manifest says about the publication (not where output/ is):
        the catalogue files that show it change only with it. Computed once, whichever renderer asks."""
        where = replace(self, folder=Path(self.slug))
        return hashlib.sha256(repr(where).encode("utf-8")).hexdigest()
