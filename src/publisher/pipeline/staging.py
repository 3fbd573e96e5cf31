"""The output folder's safety: one run at a time, leftovers of killed runs cleared, and each
publication built in a staging folder and moved into place only once complete."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from publisher.errors import PublisherError, RenderError
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
    for leftover in sorted(output.glob(".*.tmp-*")):
        if not leftover.is_dir():
            continue
        for old in leftover.glob(".old-*"):
            dest = output / old.name.removeprefix(".old-")
            if not dest.exists():
                log.warning("restoring %s, which an interrupted run had moved aside", dest)
                os.replace(old, dest)
        log.info("removing %s, left behind by an interrupted run", leftover)
        shutil.rmtree(leftover, ignore_errors=True)


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


@contextlib.contextmanager
def staged(output: Path, slug: str) -> Iterator[tuple[Path, Path]]:
    """A staging folder for `output/<slug>/` and a scratch folder beside it, removed afterwards
    whatever happens; `commit` moves the staging folder into place."""
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{slug}.tmp-", dir=output) as tmp:
        work = Path(tmp) / "work"
        staging = Path(tmp) / slug
        work.mkdir()
        staging.mkdir()
        yield staging, work


def commit(staging: Path, dest: Path) -> None:
    """Move a complete publication into place (the previous one stays until then)."""
    try:
        replace_folder(staging, dest)
    except OSError as exc:
        raise RenderError(f"cannot move the finished publication into place: {exc}", path=dest) from exc
