"""Private temporary folders: each made new (mode 0700, a name nobody can guess) and removed when
the run that made it ends, or when the process exits.

Nothing is ever unpacked into a fixed folder of the shared temporary directory: another user of
the machine could plant files or symbolic links there beforehand.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: folders of the runs in progress (innermost last); folders made outside a run go to the first
_scopes: list[list[Path]] = [[]]
_OWNER = os.getpid()


def private_dir(prefix: str) -> Path:
    """A new folder in the temporary directory that only this user can enter (tempfile.mkdtemp),
    removed when the current `run_scope` ends (or at exit when there is none)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    _scopes[-1].append(folder)
    return folder


def is_private(path: Path) -> Path | None:
    """The private folder of this process that holds `path`, or None."""
    for scope in _scopes:
        for folder in scope:
            if path == folder or folder in path.parents:
                return folder
    return None


def stable_name(path: Path) -> str:
    """`path` as a name that is the same from run to run: inside a private folder, the part after
    it (the folder's own name is random); elsewhere the path itself."""
    folder = is_private(path)
    return f"<private>/{path.relative_to(folder).as_posix()}" if folder is not None else str(path)


@contextlib.contextmanager
def run_scope() -> Iterator[None]:
    """Every private folder made inside the `with` block is removed when it ends."""
    made: list[Path] = []
    _scopes.append(made)
    try:
        yield
    finally:
        _scopes.remove(made)
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)


@atexit.register
def _remove_all() -> None:
    if os.getpid() != _OWNER:  # a forked worker: the folders are its parent's
        return
    for scope in _scopes:
        for folder in scope:
            shutil.rmtree(folder, ignore_errors=True)
