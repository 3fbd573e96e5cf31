"""`.publisher.json`: what each publication folder holds, read back to build catalogues and feeds.

The pipeline writes one manifest per publication (last, once everything else is complete); the
catalogue renderers (feeds, OPDS, index page) read every manifest under `output/`, so a
publication that was not re-rendered in this run still appears in them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST = ".publisher.json"

#: media types of every format the pipeline writes, by file name ending
MEDIA_TYPES = {
    ".epub": "application/epub+zip",
    ".mp3": "audio/mpeg",
    ".m4b": "audio/mp4",
    ".vtt": "text/vtt",
    ".chapters.json": "application/json+chapters",
    ".json": "application/json",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".html": "text/html",
    ".zip": "application/zip",
    ".audiobook": "application/audiobook+zip",
    ".lpf": "application/lpf+zip",
    ".xml": "application/xml",
    ".smil": "application/smil",
}


def media_type(name: str, table: dict[str, str] = MEDIA_TYPES) -> str:
    """The media type for a file name from `table` (longest matching ending wins)."""
    lower = name.lower()
    for ending in sorted(table, key=len, reverse=True):
        if lower.endswith(ending):
            return table[ending]
    return "application/octet-stream"


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


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The raw manifest of `folder`, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def entry_from_manifest(folder: Path, data: dict[str, Any]) -> CatalogueEntry | None:
    """An CatalogueEntry from a manifest written by this version (None for older manifests)."""
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        return None
    files = {str(k): int(v) for k, v in data.get("files", {}).items()}

    def audio(raw: dict[str, Any]) -> AudioEntry:
        size = files.get(raw["path"], 0)
        return AudioEntry(raw["path"], raw["chapter"], raw["title"], raw["duration"], size, raw.get("updated"))

    try:
        return CatalogueEntry(
            slug=folder.name,
            folder=folder,
            title=meta["title"],
            authors=list(meta.get("authors", [])),
            language=meta.get("language", "en"),
            identifier=meta["identifier"],
            duration=float(data["duration"]),
            published=meta["published"],
            modified=meta["modified"],
            date=meta.get("date"),
            description=meta.get("description"),
            publisher=meta.get("publisher"),
            rights=meta.get("rights"),
            subjects=list(meta.get("subjects", [])),
            narrator=meta.get("narrator", ""),
            cover=meta.get("cover"),
            audio=[audio(a) for a in data.get("audio", [])],
            full=audio(data["full"]) if data.get("full") else None,
            chapters=list(data.get("marks", [])),
            formats=dict(data.get("formats", {})),
            files=files,
        )
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("%s: unreadable manifest (%s); left out of the catalogue", folder, exc)
        return None


def load_entries(output: Path) -> list[CatalogueEntry]:
    """Every complete publication under `output/`, newest first (then by title)."""
    entries: list[CatalogueEntry] = []
    if not output.is_dir():
        return entries
    for folder in sorted(output.iterdir()):
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        data = read_manifest(folder)
        entry = entry_from_manifest(folder, data) if data else None
        if entry is not None:
            entries.append(entry)
    entries.sort(key=lambda e: e.title.casefold())
    entries.sort(key=lambda e: e.published, reverse=True)
    return entries
