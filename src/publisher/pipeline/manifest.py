"""`.publisher.json`: what each publication folder holds, read back to build catalogues and feeds.

The pipeline writes one manifest per publication (last, once everything else is complete); the
catalogue renderers (feeds, OPDS, index page) read every manifest under `output/`, so a
publication that was not re-rendered in this run still appears in them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher import __version__
from publisher.audio.place import AudioFile
from publisher.model import layout
from publisher.model.catalogue import AudioEntry, CatalogueEntry
from publisher.model.layout import MANIFEST
from publisher.model.publication import Publication
from publisher.model.timeline import ChapterMark, Cue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishResult:
    """What one source became."""

    source: Path
    slug: str
    folder: Path
    epub: Path
    audio: list[AudioFile]
    full: AudioFile
    cues: list[Cue]  # every sentence where it is heard in the full-length file
    duration: float
    seconds: float
    sentences: int
    chapters: int
    skipped: bool = False  # unchanged since the last publish: nothing was rendered
    synthesized: int = 0  # sentences synthesized in this run (the others came from the cache)


def result_from_manifest(path: Path, dest: Path, manifest: dict[str, Any], seconds: float) -> PublishResult:
    """What an unchanged publication holds, read back from its manifest."""

    def audio_file(entry: dict[str, Any]) -> AudioFile:
        return AudioFile(dest / entry["path"], entry["chapter"], entry["title"], entry["duration"])

    return PublishResult(
        source=path,
        slug=dest.name,
        folder=dest,
        epub=dest / layout.file_name("epub", dest.name),
        audio=[audio_file(a) for a in manifest["audio"]],
        full=audio_file(manifest["full"]),
        duration=manifest["duration"],
        seconds=seconds,
        cues=[Cue(*c) for c in manifest["cues"]],
        sentences=manifest["sentences"],
        chapters=manifest["chapters"],
        skipped=True,
    )


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


def write_manifest(
    staging: Path,
    result: PublishResult,
    print_: str,
    meta: dict[str, Any],
    marks: list[ChapterMark],
    formats: dict[str, Path],
    levels: dict[str, Any],
    previous: dict[str, Any] | None,
) -> None:
    def entry(a: AudioFile) -> dict[str, Any]:
        return {
            "path": str(a.path.relative_to(result.folder)),
            "chapter": a.chapter,
            "title": a.title,
            "duration": a.duration,
        }

    files = {str(p.relative_to(staging)): p.stat().st_size for p in sorted(staging.rglob("*")) if p.is_file()}
    manifest = {
        "fingerprint": print_,
        "source": result.source.name,  # who owns the slug (pipeline/slugs.py)
        # which file exactly: `publisher check` finds an EPUB source by it, to tell its own Ace findings apart
        "source_sha256": hashlib.sha256(result.source.read_bytes()).hexdigest() if result.source.is_file() else None,
        "version": __version__,
        "metadata": meta,
        "duration": result.duration,
        "sentences": result.sentences,
        "chapters": result.chapters,
        "audio": chapter_history([entry(a) for a in result.audio], staging, previous, meta["modified"]),
        "full": entry(result.full),
        "marks": [{"title": m.title, "start": round(m.start, 3), "end": round(m.end, 3)} for m in marks],
        "formats": {kind: str(path.relative_to(staging)) for kind, path in sorted(formats.items())},
        "cues": [[c.sentence_id, c.text, c.start, c.end] for c in result.cues],
        "levels": levels,  # each chapter's gain, a starting point for the next publish
        "files": files,
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def catalogue_metadata(
    pub: Publication, narrator: str, book_id: str, modified: str, previous: dict[str, Any] | None, cover_name: str
) -> dict[str, Any]:
    """What the catalogue needs to know about a publication (kept in its manifest)."""
    meta = pub.metadata
    if meta.date:
        published = f"{meta.date}T00:00:00Z"
    elif previous and isinstance(previous.get("metadata"), dict) and previous["metadata"].get("published"):
        published = previous["metadata"]["published"]  # first publish: an episode's date never moves
    else:
        published = modified
    return {
        "title": meta.title,
        "authors": meta.authors,
        "language": meta.language,
        "identifier": book_id,
        "date": meta.date,
        "description": meta.description,
        "publisher": meta.publisher,
        "rights": meta.rights,
        "subjects": meta.subjects,
        "narrator": narrator,
        "cover": cover_name,
        "published": published,
        "modified": modified,
    }


def previous_gains(previous: dict[str, Any] | None, profile: str) -> dict[int, float]:
    """Each chapter's gain in the last publish of this publication, if it used the same profile."""
    levels = previous.get("levels") if previous else None
    if not isinstance(levels, dict) or levels.get("profile") != profile or not isinstance(levels.get("gains"), dict):
        return {}
    try:
        return {int(index): float(gain) for index, gain in levels["gains"].items()}
    except (TypeError, ValueError):
        return {}


def chapter_history(
    records: list[dict[str, Any]], folder: Path, previous: dict[str, Any] | None, modified: str
) -> list[dict[str, Any]]:
    """The chapter MP3s' manifest records with each file's SHA-256 `digest` and `updated`: when its
    audio last changed after its first publish (None while it never has), from the `previous` manifest.

    A manifest written before digests were kept says nothing about changes: its chapters count as unchanged.
    """
    before = {a.get("chapter"): a for a in (previous or {}).get("audio", []) if isinstance(a, dict)}
    history = []
    for record in records:
        digest = hashlib.sha256((folder / record["path"]).read_bytes()).hexdigest()
        old = before.get(record["chapter"], {})
        changed = bool(old.get("digest")) and old.get("digest") != digest
        history.append({**record, "digest": digest, "updated": modified if changed else old.get("updated")})
    return history
