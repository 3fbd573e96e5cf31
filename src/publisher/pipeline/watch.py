"""Publish again whenever a source changes: the loop behind `api.watch` and `publisher publish --watch`.

Files are looked at every POLL seconds (their size and modification time: no file-system
notification library, and it works on any disk, a network share included): every source the paths
name (a file added to a named folder, or taken out of it, counts), the pronunciation lexicon, the
cover given in the settings and the recordings of a recorded narration. A change is published once
the files have stayed the same for one more look (an editor saving in several writes, or a folder
being copied in, is taken whole). The process publishing keeps its voice loaded between rounds
(pipeline/engines.py; before the first edit, a spare process has its libraries imported), so a
one-sentence edit costs what it costs a studio worker: the sentence and the render, about half a
second for the seed, 0.55–0.76 s from the save to the new outputs (`make bench`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from publisher.errors import PublisherError
from publisher.pipeline.engines import ready_spare
from publisher.pipeline.publish import find_sources
from publisher.prepare.lexicon import LEXICON_NAMES
from publisher.progress import CancelToken
from publisher.settings import Settings

POLL = 0.1  # seconds between looks (measured: 0.04 ms for one source, 11 ms for a folder of 1,000)
SHARE = 0.05  # of a core, at most, spent looking (1,000 sources: a look every 0.2 s)

#: what a file looked like: (size, modification time in ns), None when it is missing or unreadable
Look = tuple[int, int] | None
Result = TypeVar("Result")


def watched(paths: list[Path], settings: Settings) -> dict[Path, Look]:
    """Every file a publish of `paths` reads besides its own outputs, as it looks now. A named path
    that is missing is kept as missing (the publish reports it)."""
    files: list[Path] = []
    for path in paths:
        try:
            files += find_sources([path])
        except PublisherError:  # gone: looked at as missing, until it is back
            files.append(path)
    lexicons = [settings.lexicon] if settings.lexicon else [Path(name) for name in LEXICON_NAMES]
    extra = [*lexicons, *([settings.cover] if settings.cover else [])]
    for recording in settings.narration or ():
        try:
            extra += sorted(recording.iterdir()) if recording.is_dir() else [recording]
        except OSError:  # gone, or not readable: looked at as missing
            extra.append(recording)
    return {path: _look(path) for path in [*files, *extra]}


def _look(path: Path) -> Look:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def changes(
    paths: list[Path],
    settings: Settings,
    seen: dict[Path, Look],
    cancel: CancelToken | None = None,
    poll: float = POLL,
) -> Iterator[list[Path]]:
    """The files changed since they looked as `seen`, each time some have (and then stayed the same
    for one more look), until `cancel` is set. Looks come every `poll` seconds, or further apart
    when a look takes long (a large library): at most SHARE of a core is spent looking."""
    while not _stopped(cancel, poll):
        started = time.perf_counter()
        now = watched(paths, settings)
        poll = max(poll, (time.perf_counter() - started) / SHARE)
        if now == seen:
            continue
        while not _stopped(cancel, poll):  # settled: the same twice in a row
            later = watched(paths, settings)
            if later == now:
                break
            now = later
        else:
            return
        changed = sorted(p for p in now.keys() | seen.keys() if now.get(p) != seen.get(p))
        seen = now
        yield changed


def _stopped(cancel: CancelToken | None, poll: float) -> bool:
    """Wait `poll` seconds; whether `cancel` was set meanwhile."""
    if cancel is None:
        time.sleep(poll)
        return False
    deadline = time.monotonic() + poll
    while time.monotonic() < deadline:
        if cancel.cancelled:
            return True
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    return cancel.cancelled


def watch(
    paths: list[Path],
    settings: Settings,
    publish_once: Callable[[], Result],
    cancel: CancelToken | None = None,
    on_change: Callable[[list[Path]], None] | None = None,
    poll: float = POLL,
) -> Iterator[Result | PublisherError]:
    """Publish (`publish_once`), then again after each change, yielding each round's result or the
    error that stopped it (a round's error does not end the watch); until `cancel` is set."""
    looks = changes(paths, settings, watched(paths, settings), cancel, poll)  # before: a save meanwhile counts
    for changed in itertools.chain([None], looks):  # the first round at once, then one per change
        if changed is not None and on_change is not None:
            on_change(changed)
        yield _round(publish_once)
        if cancel is not None and cancel.cancelled:
            return
        ready_spare(settings)  # the next edit's voice: its libraries imported while the user edits


def _round(publish_once: Callable[[], Result]) -> Result | PublisherError:
    try:
        return publish_once()
    except PublisherError as exc:  # e.g. a named source removed: reported, and watched for its return
        return exc
