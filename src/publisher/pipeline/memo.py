"""Whether the catalogue in output/ is already what this run would write: a note in the cache of
what it was made from (the manifests, every setting, the code) and of the files it left, so a
run that changed nothing does not load and run the catalogue renderers again."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import stat
import tempfile
from pathlib import Path

from publisher import __version__
from publisher.model import layout
from publisher.pipeline.staging import manifest_digests
from publisher.settings import Settings, source_date_epoch

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent.parent  # src/publisher: its code and templates


def _code() -> list[tuple[str, int, int]]:
    """The publisher's own files (code, templates, styles) by size and modification time: a
    catalogue made by other code is made again, version number or not."""
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in (".py", ".html", ".css", ".js", ".xml", ".json", ".mo") and "__pycache__" not in path.parts:
            info = path.stat()
            found.append((str(path.relative_to(PACKAGE)), info.st_size, info.st_mtime_ns))
    return found


def _inputs(output: Path, settings: Settings) -> str:
    """Everything the catalogue of `output` is made from, hashed."""
    values = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    made_from = {
        "version": __version__,
        "code": _code(),
        "epoch": source_date_epoch(),
        "settings": values,
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
        try:
            info = self.note.lstat()
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
                return None
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
        only means the next run writes it again)."""
        if self.note is None:
            return
        with contextlib.suppress(OSError):
            state = _state(written)
            if state is None:
                return
            data = json.dumps({"inputs": _inputs(self.output, self.settings), "files": state}).encode()
            self.note.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.note.parent, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, self.note)
            finally:
                Path(tmp).unlink(missing_ok=True)
