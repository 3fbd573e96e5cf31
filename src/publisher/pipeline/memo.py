"""Notes in the cache that let a run that changed nothing skip work whose result it already has:
whether the catalogue in output/ is what this run would write (CatalogueMemo), and which
fingerprint an unchanged source file had (SourceMemo: it is then not read again)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
from pathlib import Path

from publisher import __version__
from publisher.errors import PublisherError
from publisher.files import own_file, write_note
from publisher.manifest import Manifest, read_manifest
from publisher.model import layout
from publisher.pipeline.fingerprint import up_to_date, voice_identity
from publisher.pipeline.slugs import check_owner
from publisher.pipeline.staging import manifest_digests
from publisher.settings import Settings, source_date_epoch

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent.parent  # src/publisher: its code and templates


@functools.lru_cache(maxsize=1)
def _code() -> tuple[tuple[str, int, int], ...]:
    """The publisher's own files (code, templates, styles) by size and modification time: a
    catalogue made by other code is made again, version number or not."""
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in (".py", ".html", ".css", ".js", ".xml", ".json", ".mo") and "__pycache__" not in path.parts:
            info = path.stat()
            found.append((str(path.relative_to(PACKAGE)), info.st_size, info.st_mtime_ns))
    return tuple(found)


def _values(settings: Settings) -> dict[str, object]:
    """Every setting, as JSON would write it the same in every process (a set's order is not)."""

    def plain(value: object) -> object:
        if isinstance(value, (set, frozenset)):
            return sorted(str(v) for v in value)
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)

    return {f.name: plain(getattr(settings, f.name)) for f in dataclasses.fields(settings)}


def _write(note: Path, data: dict[str, object]) -> None:
    """Write a note whole, or not at all (files.write_note)."""
    write_note(note, json.dumps(data, default=str).encode())


def _inputs(output: Path, settings: Settings) -> str:
    """Everything the catalogue of `output` is made from, hashed."""
    made_from = {
        "version": __version__,
        "code": _code(),
        "epoch": source_date_epoch(),
        "settings": _values(settings),
        "manifests": manifest_digests(output),
        "record": _read(output / layout.CATALOGUE_RECORD),
    }
    return hashlib.sha256(json.dumps(made_from, default=str, sort_keys=True).encode()).hexdigest()


def _read(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _state(paths: list[Path]) -> list[list[object]] | None:
    """Each written file's size and modification time (None when one is gone)."""
    try:
        return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in paths]
    except OSError:
        return None


class CatalogueMemo:
    """The note for one output folder, kept in the cache (none without the cache)."""

    def __init__(self, output: Path, settings: Settings) -> None:
        self.output = output
        self.settings = settings
        key = hashlib.sha256(str(output.resolve()).encode()).hexdigest()[:24]
        self.note = settings.cache / "catalogue" / f"{key}.json" if settings.use_cache else None

    def unchanged(self) -> list[Path] | None:
        """The catalogue's files, when the catalogue in output/ is the one this run would write:
        made from the same manifests, settings and code, its record in place, and every file it
        wrote still there as it was left. None otherwise (it is written as usual)."""
        if self.note is None or self.settings.force:
            return None
        if not own_file(self.note):
            return None
        try:
            note = json.loads(self.note.read_text(encoding="utf-8"))
            paths = [Path(p) for p, _, _ in note["files"]]
            if note["inputs"] != _inputs(self.output, self.settings) or note["files"] != _state(paths):
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        log.info("%s: the catalogue is up to date", self.output)
        return paths

    def remember(self, written: list[Path]) -> None:
        """Note what the catalogue just written was made from (best effort: a read-only cache
        only means the next run writes it again). A run that put nothing in the cache (every
        source refused) does not make the cache folder for this."""
        if self.note is None or not self.settings.cache.is_dir():
            return
        state = _state(written)
        if state is not None:
            _write(self.note, {"inputs": _inputs(self.output, self.settings), "files": state})


def source_note(path: Path, settings: Settings) -> Path | None:
    """Where the note of `path`'s last publish into `settings.output` is kept (None: no note is
    kept for this run: no cache, forced, or a person's recording)."""
    if not settings.use_cache or settings.force or settings.narration:
        return None
    where = f"{path.resolve()}|{settings.output.resolve()}"
    return settings.cache / "sources" / f"{hashlib.sha256(where.encode()).hexdigest()[:24]}.json"


def edited_since_published(path: Path, settings: Settings) -> bool:
    """Whether `path` looks changed since its last publish here: its note is there, and older than
    the file (a guess from two stats, for starting work early; SourceMemo.unchanged decides)."""
    note = source_note(path, settings)
    try:
        return note is not None and note.stat().st_mtime_ns < path.stat().st_mtime_ns
    except OSError:
        return False


class SourceMemo:
    """What the last publish of one source file into one output folder found: its fingerprint,
    and what that fingerprint was made from besides the file and the caller's settings (the
    cover, images and lexicon by digest; the voice the source's settings chose). Found the same,
    the source need not be read, layered or fingerprinted again to know it is unchanged."""

    def __init__(self, path: Path, settings: Settings, absolute: bool) -> None:
        self.path = path
        self.settings = settings
        self.absolute = absolute
        self.note = source_note(path, settings)

    def _key(self) -> str:
        """The source's bytes and everything else its reading depends on, hashed."""
        digest = hashlib.sha256()
        made_from = {
            "version": __version__,
            "code": _code(),
            "epoch": source_date_epoch(),
            "settings": _values(self.settings),
            "absolute": self.absolute,
            "cwd": str(Path.cwd()),
            "path": str(self.path.resolve()),
        }
        digest.update(json.dumps(made_from, default=str, sort_keys=True).encode())
        digest.update(self.path.read_bytes())
        return digest.hexdigest()

    def unchanged(self) -> tuple[Path, Manifest] | None:
        """The output folder and manifest of the source's last complete publish, when nothing it
        was made from has changed since (then its fingerprint is the one noted, and that is the
        manifest's); None whenever anything is not known to be the same."""
        if self.note is None or not own_file(self.note):
            return None
        try:
            note = json.loads(self.note.read_text(encoding="utf-8"))
            if note["key"] != self._key():
                return None
            for name, digest in note["extras"]:
                if name.startswith("<private>/"):
                    continue  # unpacked from the source itself (an EPUB's images): its bytes are in the key
                if hashlib.sha256(Path(name).read_bytes()).hexdigest() != digest:
                    return None
            chosen = dataclasses.replace(self.settings, engine=note["engine"], voice=note["voice"])
            if voice_identity(chosen) != note["voice_identity"]:
                return None
            dest = Path(note["dest"])
            previous = read_manifest(dest)
            if previous is None:
                return None
            check_owner(previous, self.path, dest)
            if not up_to_date(dest, previous, note["fingerprint"]):
                return None
        except (OSError, ValueError, KeyError, TypeError, PublisherError):
            return None  # read as usual (which reports any real problem)
        return dest, previous

    def remember(self, fingerprint: str, dest: Path, layered: Settings, extras: list[tuple[str, Path]]) -> None:
        """Note the fingerprint just computed for the source and what it was made from; `extras`
        are (stable name, file) of the files it hashed besides the source."""
        if self.note is None or layered.narration:
            return
        with contextlib.suppress(OSError):
            _write(
                self.note,
                {
                    "key": self._key(),
                    "fingerprint": fingerprint,
                    "dest": str(dest),
                    "engine": layered.engine,
                    "voice": layered.voice,
                    "voice_identity": voice_identity(layered),
                    "extras": [[name, hashlib.sha256(file.read_bytes()).hexdigest()] for name, file in extras],
                },
            )
