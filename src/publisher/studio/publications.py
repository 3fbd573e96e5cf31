"""The studio's publications: uploads kept safely, a slug for each, the settings a form chose, the
lexicon entries (the catalogue's and each publication's own) merged into the file a publish reads,
and what a publication page shows (manifest, downloads, check and proof summaries).

Everything about the published outputs comes from `publisher.api`; this module only keeps what the
studio adds (who uploaded what, with which settings) in its database.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import shutil
import sqlite3
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publisher import api
from publisher.studio.db import transaction
from publisher.studio.layout import Studio

#: the settings a form may set (everything else comes from DIR/publisher.toml and the studio)
FORM_SETTINGS = (
    "engine", "voice", "speed", "pause_sentence", "pause_paragraph", "pause_heading", "profile", "language",
    "read_aloud", "daisy", "audiobooks", "announce",
)  # fmt: skip
#: what the studio does after a publish, when asked
FORM_OPTIONS = ("check", "proof")
BOOLEAN_SETTINGS = ("read_aloud", "daisy", "audiobooks", "announce")
NAME_LIMIT = 120
WORD_LIMIT = 100
PRONUNCIATION_LIMIT = 300
ALIGNMENT_ROWS = 100  # sentences not heard, and stretches not in the text, a publication page lists


@dataclass(frozen=True)
class Upload:
    """A file as the browser sent it: its name there and a way to read it."""

    name: str
    path: Path  # where it is now (moved into the upload's folder)


@dataclass
class Draft:
    """A new publication before its job is queued: its files in their own upload folder."""

    folder: Path
    source: Path
    source_name: str
    narration: list[Path] = field(default_factory=list)
    cover: Path | None = None


def safe_name(name: str, default: str = "source") -> str:
    """A file name that is safe to store: the last path component only, Unicode-normalised, without
    control characters, separators or leading dots, at most NAME_LIMIT characters (its suffix kept)."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in '<>:"|?*')
    name = name.strip().lstrip(".").strip()
    if not name:
        return default
    stem, dot, suffix = name.rpartition(".")
    if dot and len(suffix) <= 16:
        stem = stem[: NAME_LIMIT - len(suffix) - 1].rstrip() or default
        return f"{stem}.{suffix}"
    return name[:NAME_LIMIT]


def unused_name(folder: Path, name: str) -> Path:
    """`folder/name`, or `folder/stem-2.suffix`, `-3`… when a file of that name is already there
    (two recording files of one name, from two folders, are both kept)."""
    path, n = folder / name, 1
    while path.exists():
        n += 1
        stem, dot, suffix = name.rpartition(".")
        path = folder / (f"{stem}-{n}.{suffix}" if dot and stem else f"{name}-{n}")
    return path


def new_draft(studio: Studio, source_name: str) -> Draft:
    """A fresh upload folder (outside the served output tree) for one publication's files."""
    studio.uploads.mkdir(parents=True, exist_ok=True)
    folder = studio.uploads / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(6)}"
    folder.mkdir(mode=0o700)
    return Draft(folder, folder / safe_name(source_name), source_name)


def display_error(exc: BaseException, source: Path, source_name: str) -> str:
    """The CLI's one-line message, naming the files as they were uploaded rather than where they
    are kept (the source by its name; a recording file or the cover by the name it is kept under)."""
    folder = str(source.parent)
    text = str(exc).replace(str(source), source_name)
    text = text.replace(f"{folder}/narration/", "").replace(f"{folder}/narration", "the recording")
    return text.replace(f"{folder}/cover/", "").replace(f"{folder}/", "").replace(folder, "upload")


def form_settings(values: Mapping[str, str]) -> tuple[dict[str, str], dict[str, bool]]:
    """The settings and options a form sent, as strings (checked later by Settings.override).
    Checkboxes: a boolean setting missing from a form that has its `…_present` marker is off."""
    chosen: dict[str, str] = {}
    for name in FORM_SETTINGS + (("narrator",) if recordings_supported() else ()):
        value = values.get(name)
        if name in BOOLEAN_SETTINGS and value is None and values.get(f"{name}_present"):
            value = "off"
        if value is not None and str(value).strip() != "":
            chosen[name] = str(value).strip()
    options = {name: str(values.get(name, "")).lower() in ("1", "true", "on", "yes") for name in FORM_OPTIONS}
    return chosen, options


def check_settings(studio: Studio, chosen: Mapping[str, str]) -> api.Settings:
    """The settings a publish will use, with the form's values checked as the CLI checks its flags
    (ConfigError listing every problem)."""
    engine = chosen.get("engine")
    names = [e.name for e in api.engines()]
    if engine is not None and engine not in names:
        raise api.ConfigError(f"settings: unknown engine {engine!r}; choose one of {', '.join(names)}")
    return studio.base_settings().override("settings", **chosen)


def recordings_supported() -> bool:
    """Whether this publisher's settings take a recorded narration (`narration`, `narrator`)."""
    return "narration" in {f.name for f in dataclasses.fields(api.Settings)}


def job_settings(studio: Studio, db: sqlite3.Connection, slug: str) -> api.Settings:
    """The settings a job of `slug` runs with: the studio's, the form's, its slug, its merged
    lexicon file (written now), its uploaded cover and its recording, when it has them."""
    row = publication_row(db, slug)
    if row is None:
        raise api.ConfigError(f"no publication {slug!r} in the studio")
    chosen = json.loads(row["settings"])
    lexicon = write_lexicon(studio, db, slug)
    extra: dict[str, Any] = {}
    recording = json.loads(row["narration"])
    if recording and recordings_supported():
        extra["narration"] = recording
    if row["cover"]:
        extra["cover"] = row["cover"]
    return check_settings(studio, chosen).override("studio", slug=slug, lexicon=lexicon, **extra)


def allocate_slug(studio: Studio, db: sqlite3.Connection, wanted: str) -> str:
    """A slug no publication of the studio or the output folder has (`wanted`, else `wanted-2`, …)."""
    base = wanted[:56].rstrip("-") or "publication"
    for n in range(1, 10_000):
        slug = base if n == 1 else f"{base}-{n}"
        taken = db.execute("SELECT 1 FROM publications WHERE slug = ?", (slug,)).fetchone()
        if not taken and not (studio.output / slug).exists():
            return slug
    raise api.ConfigError(f"no free name for {wanted!r}")


def create(
    studio: Studio, db: sqlite3.Connection, draft: Draft, chosen: Mapping[str, str], options: Mapping[str, bool],
    user_id: int | None,
) -> tuple[str, api.Publication]:  # fmt: skip
    """Read the uploaded source as a publish would (so a bad file is refused now, with the CLI's
    message), give it a slug of its own and record it. Raises PublisherError; the caller removes
    the draft then."""
    settings = check_settings(studio, chosen)
    if draft.cover is not None:  # refused now, as the CLI refuses --cover, if it cannot be a cover
        settings = settings.override("studio", cover=draft.cover)
    pub, _ = api.read(draft.source, settings)
    with transaction(db, immediate=True):
        slug = allocate_slug(studio, db, pub.slug)
        pub, _ = api.read(draft.source, settings.override("studio", slug=slug))
        db.execute(
            "INSERT INTO publications (slug, title, language, source, source_name, settings, options, narration, "
            "cover, owner, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                slug, pub.metadata.title, pub.metadata.language, str(draft.source), draft.source_name,
                json.dumps(dict(chosen)), json.dumps(dict(options)), json.dumps([str(p) for p in draft.narration]),
                str(draft.cover) if draft.cover else None, user_id, time.time(),
            ),
        )  # fmt: skip
    return slug, pub


def publication_row(db: sqlite3.Connection, slug: str) -> sqlite3.Row | None:
    """The studio's record of `slug`."""
    row: sqlite3.Row | None = db.execute("SELECT * FROM publications WHERE slug = ?", (slug,)).fetchone()
    return row


def delete(studio: Studio, db: sqlite3.Connection, slug: str) -> bool:
    """Remove a publication: its output folder and catalogue entries (api.remove), its uploads,
    lexicon entries and jobs. False when the studio has no such publication."""
    row = publication_row(db, slug)
    if row is None:
        return False
    api.remove(slug, studio.base_settings())
    with transaction(db):
        db.execute("DELETE FROM publications WHERE slug = ?", (slug,))
        db.execute("DELETE FROM lexicon WHERE scope = ?", (slug,))
        db.execute("DELETE FROM jobs WHERE slug = ?", (slug,))
    folder = Path(row["source"]).parent
    if folder.parent == studio.uploads:
        shutil.rmtree(folder, ignore_errors=True)
    studio.lexicon_file(slug).unlink(missing_ok=True)
    return True


# --- lexicon ------------------------------------------------------------------------------------

CATALOGUE_SCOPE = ""


def check_entry(word: str, pronunciation: str) -> tuple[str, str]:
    """A lexicon entry as the lexicon file can hold it (ConfigError saying what is wrong)."""
    word, pronunciation = word.strip(), pronunciation.strip()
    problems = []
    if not word or len(word) > WORD_LIMIT:
        problems.append(f"the word must be 1–{WORD_LIMIT} characters")
    elif any(c in word for c in ":#[]|") or any(unicodedata.category(c)[0] in "CZ" and c != " " for c in word):
        problems.append("the word cannot hold ':', '#', '[', ']', '|', line breaks or control characters")
    if not pronunciation or len(pronunciation) > PRONUNCIATION_LIMIT:
        problems.append(f"the pronunciation must be 1–{PRONUNCIATION_LIMIT} characters")
    elif "#" in pronunciation or any(unicodedata.category(c)[0] == "C" for c in pronunciation):
        problems.append("the pronunciation cannot hold '#', line breaks or control characters")
    elif pronunciation.count("[[") != pronunciation.count("]]"):
        problems.append("IPA goes between [[ and ]], e.g. [[ pˈuːtɪn ]] | Pootin")
    if problems:
        raise api.ConfigError(f"lexicon entry {word[:WORD_LIMIT]!r}: " + "; ".join(problems))
    return word, pronunciation


def set_entry(db: sqlite3.Connection, scope: str, word: str, pronunciation: str) -> tuple[str, str]:
    """Add or replace an entry (scope: a slug, or CATALOGUE_SCOPE for every publication)."""
    word, pronunciation = check_entry(word, pronunciation)
    with transaction(db):
        db.execute("INSERT OR REPLACE INTO lexicon VALUES (?, ?, ?, ?)", (scope, word, pronunciation, time.time()))
    return word, pronunciation


def remove_entry(db: sqlite3.Connection, scope: str, word: str) -> bool:
    """Drop an entry; False when there was none."""
    with transaction(db):
        cursor = db.execute("DELETE FROM lexicon WHERE scope = ? AND word = ?", (scope, word))
    return cursor.rowcount > 0


def entries(db: sqlite3.Connection, scope: str) -> dict[str, str]:
    """One scope's entries, word → pronunciation, sorted by word."""
    rows = db.execute("SELECT word, pronunciation FROM lexicon WHERE scope = ? ORDER BY word", (scope,))
    return {r["word"]: r["pronunciation"] for r in rows}


def merged_entries(db: sqlite3.Connection, slug: str) -> dict[str, str]:
    """The catalogue's entries with the publication's own over them."""
    return {**entries(db, CATALOGUE_SCOPE), **entries(db, slug)}


def write_lexicon(studio: Studio, db: sqlite3.Connection, slug: str) -> Path:
    """Write the lexicon file a publish of `slug` reads (written only when it changed, so an
    unchanged publication stays unchanged) and return its path."""
    lines = ["# written by publisher studio: the catalogue's entries, then this publication's own"]
    lines += [f"{word}: {pronunciation}" for word, pronunciation in merged_entries(db, slug).items()]
    text = "\n".join(lines) + "\n"
    path = studio.lexicon_file(slug)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return path


# --- what a publication page shows -----------------------------------------------------------


def summary(studio: Studio, db: sqlite3.Connection, slug: str) -> dict[str, Any] | None:
    """Everything the API says about one publication: the studio's record, the manifest's metadata,
    every file with its size, the sentences with their cues, and the check and proof summaries."""
    row = publication_row(db, slug)
    manifest = api.publication(studio.output, slug)
    if row is None and manifest is None:
        return None
    data: dict[str, Any] = {"slug": slug, "published": manifest is not None}
    if row is not None:
        data.update(
            title=row["title"], language=row["language"], source=row["source_name"],
            settings=json.loads(row["settings"]), options=json.loads(row["options"]),
            narration=[Path(p).name for p in json.loads(row["narration"])],
            cover_upload=Path(row["cover"]).name if row["cover"] else None,
        )  # fmt: skip
    if manifest is not None:
        meta = manifest.metadata
        data.update(
            title=meta.title, language=meta.language, authors=list(meta.authors), date=meta.date,
            description=meta.description, narrator=meta.narrator, duration=manifest.duration,
            chapters=manifest.chapters, sentences=manifest.sentences, modified=meta.modified,
            files=[{"name": name, "size": size} for name, size in sorted(manifest.files.items())],
            formats=dict(manifest.formats),
            audio=manifest.full.path,
            cues=[{"id": c.sentence_id, "text": c.text, "start": c.start, "end": c.end} for c in manifest.cues],
            marks=[{"title": m.title, "start": m.start, "end": m.end} for m in manifest.marks],
        )  # fmt: skip
    data["check"] = check_summary(row)
    data["proof"] = proof_summary(studio.output / slug, manifest.fingerprint if manifest else None)
    data["alignment"] = alignment_summary(studio.output / slug) if manifest is not None else None
    return data


def check_summary(row: sqlite3.Row | None) -> dict[str, Any] | None:
    """The last `publisher check` of the publication, as stored by its check job."""
    if row is None or not row["checks"]:
        return None
    reports = json.loads(row["checks"])
    failed = sum(not r["ok"] for r in reports)
    return {"checked": row["checked"], "passed": len(reports) - failed, "failed": failed, "reports": reports}


def proof_summary(folder: Path, fingerprint: str | None) -> dict[str, Any] | None:
    """What proof.json says (None without one): the score, whether it heard the narration now
    published, and the flagged sentences."""
    path = folder / "proof.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict):
        return None
    flagged = [f for f in report.get("flagged", []) if isinstance(f, dict)]
    return {
        "metric": report.get("metric", "wer"),
        "score": report.get("wer"),
        "sentences": report.get("sentences"),
        "current": bool(fingerprint) and report.get("fingerprint") == fingerprint,
        "flagged": flagged,
        "suggestions": [s for s in report.get("lexicon", []) if isinstance(s, dict)],
        "model": report.get("model"),
    }


def alignment_summary(folder: Path, top: int = ALIGNMENT_ROWS) -> dict[str, Any] | None:
    """What alignment.json says of a publication published from a recording (None without one):
    coverage, the sentences not heard (their times interpolated) and the stretches of audio that
    are not in the text, each with the recording file and time it is at (the first `top` of each)."""
    try:
        report = json.loads((folder / "alignment.json").read_text(encoding="utf-8"))
        missing = [s for s in report["timeline"] if s.get("status") != "aligned" and not s.get("title_page")]
        stretches = list(report["not_in_text"])
        return {
            "coverage": float(report["coverage"]), "sentences": int(report["sentences"]),
            "aligned": int(report["sentences_aligned"]), "duration": float(report["duration"]),
            "model": report.get("model"), "files": [f["name"] for f in report["files"]],
            "not_heard_count": len(missing), "not_in_text_count": len(stretches),
            "not_heard": [{"id": s["id"], "text": s["text"], "start": s["start"], "end": s["end"],
                           "file": s["recording"]["file"], "at": s["recording"]["at"]} for s in missing[:top]],
            "not_in_text": [{"start": x["start"], "end": x["end"], "heard": x.get("heard") or "",
                             "file": x["recording"]["file"], "at": x["recording"]["at"]} for x in stretches[:top]],
        }  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def listing(
    studio: Studio, db: sqlite3.Connection, query: str = "", language: str = "", state: str = ""
) -> list[dict[str, Any]]:
    """The publications for the list page and GET /api/publications: the catalogue's published
    ones and the studio's own (even before their first publish), each with its latest job's state;
    filtered by a search text (title, author, source), a language and a state."""
    entries_by_slug = {e.slug: e for e in api.catalogue(studio.output)}
    rows = {r["slug"]: r for r in db.execute("SELECT * FROM publications")}
    latest = {r["slug"]: r for r in db.execute(
        "SELECT slug, state, id FROM jobs WHERE id IN (SELECT max(id) FROM jobs GROUP BY slug)")}  # fmt: skip
    items: list[dict[str, Any]] = []
    for slug in sorted(set(entries_by_slug) | set(rows)):
        entry, row, job = entries_by_slug.get(slug), rows.get(slug), latest.get(slug)
        job_state = job["state"] if job else None
        item: dict[str, Any] = {
            "slug": slug,
            "title": entry.title if entry else row["title"] if row else slug,
            "authors": list(entry.authors) if entry else [],
            "language": entry.language if entry else row["language"] if row else "",
            "duration": entry.duration if entry else None,
            "published": entry is not None,
            "job": {"id": job["id"], "state": job_state} if job else None,
            "state": job_state
            if job_state in ("queued", "running", "failed", "cancelled") or not entry
            else "published",
            "created": row["created"] if row else None,
        }
        items.append(item)
    text = query.strip().lower()
    if text:
        items = [i for i in items if text in " ".join([i["title"], i["slug"], *i["authors"]]).lower()]
    if language:
        items = [i for i in items if i["language"].lower() == language.lower() or
                 i["language"].lower().startswith(language.lower() + "-")]  # fmt: skip
    if state:
        items = [i for i in items if i["state"] == state]
    return sorted(items, key=lambda i: (-(i["created"] or 0), i["title"].lower()))
