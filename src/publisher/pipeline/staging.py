"""The output folder's safety: one run at a time, leftovers of killed runs cleared, and each
publication built in a staging folder and moved into place only once complete."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from publisher.errors import PublisherError, RenderError
from publisher.files import TMP_MARK, file_set, is_disk_full, write_atomic
from publisher.model import layout

log = logging.getLogger(__name__)


@contextlib.contextmanager
def output_lock(output: Path) -> Iterator[None]:
    """One publisher run per output folder at a time."""
    output.mkdir(parents=True, exist_ok=True)
    with open(output / layout.LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise PublisherError(
                f"another publisher run is writing to {output}; wait for it to finish", path=None
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_leftovers(output: Path) -> None:
    """Clear what a killed run (SIGKILL, power cut) left behind: staging folders are never complete,
    so they go; a previous good output caught between the two renames of replace_folder is put back.

    Called with the output lock held, so no other run can be using them.
    """
    for leftover in sorted(output.glob(f"{staging_prefix('*')}*")):
        if not leftover.is_dir():
            continue
        for old in leftover.glob(".old-*"):
            dest = output / old.name.removeprefix(".old-")
            if not dest.exists():
                log.warning("restoring %s, which an interrupted run had moved aside", dest)
                os.replace(old, dest)
        log.info("removing %s, left behind by an interrupted run", leftover)
        shutil.rmtree(leftover, ignore_errors=True)
    # temporary files of the catalogue (files.write_atomic): in output/, a publication's folder, a facet's
    for pattern in (f".*{TMP_MARK}*", f"*/.*{TMP_MARK}*", f"{layout.FACET_DIR}/*/.*{TMP_MARK}*"):
        for leftover in output.glob(pattern):
            if leftover.is_file() or leftover.is_symlink():
                log.info("removing %s, left behind by an interrupted run", leftover)
                leftover.unlink(missing_ok=True)


def manifest_digests(output: Path) -> dict[str, str]:
    """What a catalogue of `output` is made from: the SHA-256 of every publication's manifest, by folder."""
    found = {}
    for folder in sorted(output.iterdir()) if output.is_dir() else []:
        manifest = folder / layout.MANIFEST
        if folder.is_dir() and not folder.name.startswith(".") and manifest.is_file():
            found[folder.name] = hashlib.sha256(manifest.read_bytes()).hexdigest()
    return found


@contextlib.contextmanager
def catalogue_set(output: Path) -> Iterator[None]:
    """Write the catalogue files inside the `with` block as one set: each new file is written in
    full beside its old one first (a full disk stops here, every old file kept), then the record of
    the manifests it was made from is removed, every file renamed into place, and a new record
    renamed in last. Interrupted between those, output/ has no record, and `publisher check` calls
    the catalogue stale until the next run, which writes it again."""
    record = output / layout.CATALOGUE_RECORD
    data = json.dumps({"publications": manifest_digests(output)}, indent=1, sort_keys=True).encode()
    with file_set() as files:
        yield
        if not files.staged and not files.removed and record.is_file() and record.read_bytes() == data:
            return  # nothing changed
        write_atomic(record, data, always=True)  # staged last: renamed last
        record.unlink(missing_ok=True)
        files.commit()


def disk_full_error(exc: BaseException, dest: Path, what: str = "", staging: Path | None = None) -> RenderError:
    """A full disk, said in one line naming `dest` (a publication's folder, or output/ for the
    catalogue) and the file being written there, never a staging or temporary path."""
    found = exc.path if isinstance(exc, PublisherError) else getattr(exc, "filename", None)
    where = Path(found) if found else None
    shown = ""
    if where is not None and staging is not None and staging.parent in where.parents:
        if staging in where.parents:
            where = dest / where.relative_to(staging)
        else:
            shown = " (writing its narration's working files)"
    if where is not None and where.name.startswith(".") and TMP_MARK in where.name:
        where = where.with_name(where.name[1:].split(TMP_MARK, 1)[0])  # the file a temporary one stood for
    if where is not None and dest in where.parents:
        shown = f" (writing {where.relative_to(dest).as_posix()})"
    return RenderError(f"no space left on the device{shown}{what}; free some space and publish again", path=dest)


def replace_folder(staging: Path, dest: Path) -> None:
    """Move a complete `staging` folder to `dest`, replacing the old one only once all is ready."""
    old = None
    if dest.exists():
        old = staging.parent / f".old-{dest.name}"
        os.replace(dest, old)
    try:
        os.replace(staging, dest)
    except OSError:
        if old is not None:
            os.replace(old, dest)  # put the previous good output back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def staging_prefix(slug: str) -> str:
    """How the staging folders of `output/<slug>/` begin (`staged` makes them, a killed run leaves them)."""
    return f".{slug}.tmp-"


@contextlib.contextmanager
def staged(output: Path, slug: str) -> Iterator[tuple[Path, Path]]:
    """A staging folder for `output/<slug>/` and a scratch folder beside it, removed afterwards
    whatever happens; `commit` moves the staging folder into place."""
    output.mkdir(parents=True, exist_ok=True)
    staging: Path | None = None
    try:
        with tempfile.TemporaryDirectory(prefix=staging_prefix(slug), dir=output) as tmp:
            work = Path(tmp) / "work"
            staging = Path(tmp) / slug
            work.mkdir()
            staging.mkdir()
            yield staging, work
    except Exception as exc:  # a full disk names the publication's folder, not the staging one
        if is_disk_full(exc) and not (isinstance(exc, RenderError) and exc.message.startswith("no space left")):
            raise disk_full_error(exc, output / slug, ": nothing half-written was kept", staging) from exc
        raise


def commit(staging: Path, dest: Path) -> None:
    """Move a complete publication into place (the previous one stays until then)."""
    try:
        replace_folder(staging, dest)
    except OSError as exc:
        raise RenderError(f"cannot move the finished publication into place: {exc}", path=dest) from exc
