"""`.publisher.json`, typed: what each publication folder holds and what it was made from, with the
one reader and the one writer of that file.

The pipeline writes one manifest per publication (last, once everything else is complete); the
catalogue renderers (feeds, OPDS, index page), `publisher check`, proof-listening and the studio
read it back, so a publication that was not re-rendered in this run is still known to them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publisher.model.catalogue import AudioEntry, CatalogueEntry
from publisher.model.layout import MANIFEST
from publisher.model.timeline import ChapterMark, Cue

log = logging.getLogger(__name__)

#: the layout of `.publisher.json` this version writes (read: this one, and the unnumbered one before it)
SCHEMA = 1


@dataclass(frozen=True)
class ManifestAudio:
    """One MP3 of a publication: where it is, which chapter (0: the full-length file), how long, and
    (chapter files) its SHA-256 and when its audio last changed after the first publish."""

    path: str  # relative to the publication folder
    chapter: int
    title: str
    duration: float
    digest: str | None = None
    updated: str | None = None  # ISO 8601 UTC, None while it never changed

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this record (digest and history only where they are kept)."""
        data: dict[str, Any] = {"path": self.path, "chapter": self.chapter, "title": self.title}
        data["duration"] = self.duration
        if self.digest is not None:
            data["digest"] = self.digest
            data["updated"] = self.updated
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ManifestAudio:
        """Read a record back (KeyError/TypeError/ValueError when it is malformed)."""
        return cls(
            path=str(data["path"]),
            chapter=int(data["chapter"]),
            title=str(data["title"]),
            duration=float(data["duration"]),
            digest=data.get("digest"),
            updated=data.get("updated"),
        )


@dataclass(frozen=True)
class CatalogueMetadata:
    """What the catalogue needs to know about a publication."""

    title: str
    authors: tuple[str, ...]
    language: str
    identifier: str
    published: str  # ISO 8601 UTC: the source's date, else the first publish (an episode's date never moves)
    modified: str  # ISO 8601 UTC: this publish
    date: str | None = None
    description: str | None = None
    publisher: str | None = None
    rights: str | None = None
    subjects: tuple[str, ...] = ()
    narrator: str = ""
    cover: str | None = None  # file name in the folder

    def to_json(self) -> dict[str, Any]:
        """The JSON object, in the order the manifest has always had."""
        return {
            "title": self.title,
            "authors": list(self.authors),
            "language": self.language,
            "identifier": self.identifier,
            "date": self.date,
            "description": self.description,
            "publisher": self.publisher,
            "rights": self.rights,
            "subjects": list(self.subjects),
            "narrator": self.narrator,
            "cover": self.cover,
            "published": self.published,
            "modified": self.modified,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CatalogueMetadata:
        """Read it back (KeyError/TypeError when it is malformed)."""
        return cls(
            title=data["title"],
            authors=tuple(data.get("authors", ())),
            language=data.get("language", "en"),
            identifier=data["identifier"],
            published=data["published"],
            modified=data["modified"],
            date=data.get("date"),
            description=data.get("description"),
            publisher=data.get("publisher"),
            rights=data.get("rights"),
            subjects=tuple(data.get("subjects", ())),
            narrator=data.get("narrator", ""),
            cover=data.get("cover"),
        )


@dataclass(frozen=True)
class Levels:
    """Each chapter's gain under a loudness profile: the next publish's starting point."""

    profile: str
    gains: Mapping[int, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON object (chapter numbers as strings, gains to 0.01 dB)."""
        return {"profile": self.profile, "gains": {str(i): round(g, 2) for i, g in self.gains.items()}}

    @classmethod
    def from_json(cls, data: Any) -> Levels | None:
        """Read them back; None when they are missing or malformed."""
        if not isinstance(data, dict) or not isinstance(data.get("gains"), dict):
            return None
        try:
            return cls(str(data.get("profile")), {int(i): float(g) for i, g in data["gains"].items()})
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Manifest:
    """Everything `.publisher.json` records about one publication folder."""

    fingerprint: str  # everything the outputs depend on, hashed (pipeline/fingerprint.py)
    source: str  # the source's file name: who owns the slug (pipeline/slugs.py)
    source_sha256: str | None  # which file exactly (check finds an EPUB source by it)
    version: str  # the publisher version that wrote it
    metadata: CatalogueMetadata
    duration: float  # seconds of the full-length MP3
    sentences: int
    chapters: int
    audio: tuple[ManifestAudio, ...]  # the chapter MP3s, with their history
    full: ManifestAudio
    marks: tuple[ChapterMark, ...]  # chapter marks in the full-length MP3
    formats: Mapping[str, str]  # kind → path in the folder
    cues: tuple[Cue, ...]  # every sentence where it is heard in the full-length MP3
    levels: Levels | None
    files: Mapping[str, int]  # every file in the folder → size in bytes
    schema: int = SCHEMA

    def to_json(self) -> str:
        """The file's text (UTF-8, one space of indent, as it has always been written)."""
        data = {
            "schema": self.schema,
            "fingerprint": self.fingerprint,
            "source": self.source,
            "source_sha256": self.source_sha256,
            "version": self.version,
            "metadata": self.metadata.to_json(),
            "duration": self.duration,
            "sentences": self.sentences,
            "chapters": self.chapters,
            "audio": [a.to_json() for a in self.audio],
            "full": self.full.to_json(),
            "marks": [{"title": m.title, "start": round(m.start, 3), "end": round(m.end, 3)} for m in self.marks],
            "formats": dict(self.formats),
            "cues": [[c.sentence_id, c.text, c.start, c.end] for c in self.cues],
            "levels": self.levels.to_json() if self.levels else None,
            "files": dict(self.files),
        }
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """Read a manifest's JSON back; ValueError (with what is wrong) when it is not one this
        version can read."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        schema = data.get("schema", SCHEMA)
        if schema != SCHEMA:
            raise ValueError(f"manifest schema {schema!r}; this version reads {SCHEMA}")
        try:
            return cls(
                fingerprint=str(data["fingerprint"]),
                source=str(data.get("source") or ""),
                source_sha256=data.get("source_sha256"),
                version=str(data.get("version", "")),
                metadata=CatalogueMetadata.from_json(data["metadata"]),
                duration=float(data["duration"]),
                sentences=int(data["sentences"]),
                chapters=int(data["chapters"]),
                audio=tuple(ManifestAudio.from_json(a) for a in data["audio"]),
                full=ManifestAudio.from_json(data["full"]),
                marks=tuple(ChapterMark(m["title"], m["start"], m["end"]) for m in data.get("marks", [])),
                formats={str(k): str(v) for k, v in data.get("formats", {}).items()},
                cues=tuple(Cue(c[0], c[1], float(c[2]), float(c[3])) for c in data.get("cues", [])),
                levels=Levels.from_json(data.get("levels")),
                files={str(k): int(v) for k, v in data.get("files", {}).items()},
            )
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise ValueError(f"malformed manifest ({type(exc).__name__}: {exc})") from exc

    def entry(self, folder: Path) -> CatalogueEntry:
        """What the catalogue shows of this publication, in `folder`."""

        def audio(record: ManifestAudio) -> AudioEntry:
            size = self.files.get(record.path, 0)
            return AudioEntry(record.path, record.chapter, record.title, record.duration, size, record.updated)

        meta = self.metadata
        return CatalogueEntry(
            slug=folder.name,
            folder=folder,
            title=meta.title,
            authors=list(meta.authors),
            language=meta.language,
            identifier=meta.identifier,
            duration=self.duration,
            published=meta.published,
            modified=meta.modified,
            date=meta.date,
            description=meta.description,
            publisher=meta.publisher,
            rights=meta.rights,
            subjects=list(meta.subjects),
            narrator=meta.narrator,
            cover=meta.cover,
            audio=[audio(a) for a in self.audio],
            full=audio(self.full),
            chapters=[{"title": m.title, "start": round(m.start, 3), "end": round(m.end, 3)} for m in self.marks],
            formats=dict(self.formats),
            files=dict(self.files),
        )


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest of `folder`; None when it has none, or one this version cannot read (logged)."""
    try:
        text = (folder / MANIFEST).read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        return Manifest.from_json(json.loads(text))
    except ValueError as exc:
        log.warning("%s: unreadable manifest (%s); treated as absent", folder, exc)
        return None


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write `folder`'s manifest (the last file of a publication, inside its staging folder)."""
    (folder / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")


def load_entries(output: Path) -> list[CatalogueEntry]:
    """Every complete publication under `output/`, newest first (then by title)."""
    entries: list[CatalogueEntry] = []
    if not output.is_dir():
        return entries
    for folder in sorted(output.iterdir()):
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        manifest = read_manifest(folder)
        if manifest is not None:
            entries.append(manifest.entry(folder))
    entries.sort(key=lambda e: e.title.casefold())
    entries.sort(key=lambda e: e.published, reverse=True)
    return entries
