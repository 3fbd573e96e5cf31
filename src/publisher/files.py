"""Writing files safely: a file is replaced only once its new content is complete, and a set of files
(the catalogue) only once every one of them is."""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

#: the prefix of every temporary file: `.<name>.tmp-<random>` beside its file (a killed run's are
#: removed by pipeline/staging.remove_leftovers)
TMP_MARK = ".tmp-"


class FileSet:
    """Files written together: each new content is written in full to a temporary file beside its
    destination first (a full disk fails here, with nothing replaced), and `commit` then puts them
    all in place by renames, which need no space, in the order they were written."""

    def __init__(self) -> None:
        self.staged: list[tuple[Path, Path]] = []  # (temporary file, destination)
        self.removed: list[Path] = []

    def commit(self) -> None:
        """Delete what was removed, then move every staged file into place, the last one last."""
        for path in self.removed:
            path.unlink(missing_ok=True)
        for tmp, dest in self.staged:
            os.replace(tmp, dest)
        self.staged, self.removed = [], []

    def discard(self) -> None:
        """Forget the set: delete its temporary files; every destination keeps its old content."""
        for tmp, _ in self.staged:
            Path(tmp).unlink(missing_ok=True)
        self.staged, self.removed = [], []


_SET: contextvars.ContextVar[FileSet | None] = contextvars.ContextVar("file_set", default=None)


@contextlib.contextmanager
def file_set() -> Iterator[FileSet]:
    """Inside the `with` block, `write_atomic` and `remove` of this thread join one FileSet, which
    the caller commits; left by an exception (a full disk), the set is discarded whole."""
    files = FileSet()
    token = _SET.set(files)
    try:
        yield files
    except BaseException:
        files.discard()
        raise
    finally:
        _SET.reset(token)
        files.discard()  # what was not committed


def write_atomic(path: Path, data: bytes, always: bool = False) -> bool:
    """Write `data` to `path` through a temporary file in the same folder, then rename it (inside a
    `file_set`, the rename waits for the set's commit).

    A file that already holds exactly `data` is left alone unless `always` (same bytes, same
    modification time, so HTTP caches and feed readers revalidating by ETag see nothing new).
    True when written.
    """
    try:
        if not always and path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TMP_MARK}", dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from exc  # the file it was for, not a temporary name
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        files = _SET.get()
        if files is not None:
            files.staged.append((Path(tmp), path))
        else:
            os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def remove(path: Path) -> None:
    """Delete `path` (inside a `file_set`, when the set is committed)."""
    files = _SET.get()
    if files is not None:
        files.removed.append(path)
    else:
        path.unlink(missing_ok=True)


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the disk or the user's quota is full."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(exc) or "Disk quota exceeded" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


def own_file(path: Path) -> bool:
    """Whether `path` is a regular file (not a link) of this user: the only kind a note or a derived
    file found in a cache is trusted from."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid()


def mark_used(paths: Iterable[Path]) -> None:
    """Bring the times of cache files just read forward: `cache prune` keeps what was used recently.
    A cache this user may only read is still used (nothing is said)."""
    with contextlib.suppress(OSError):
        for path in paths:
            os.utime(path)


def write_note(path: Path, data: bytes) -> None:
    """Write a cache's note whole (a private temporary file renamed into place), or not at all: a
    read-only or full cache only means the work is done again next time."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
