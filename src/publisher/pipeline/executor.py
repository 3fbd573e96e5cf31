"""Where the work of a run happens: this machine's processes (LocalExecutor) or a Dask cluster
(pipeline/cluster.py). The pipeline hands either the same list of Work and gets the same Outcomes
back; both report progress events and stop at a cancelled token between tasks.

Dask is imported only when a cluster is asked for: the plain path never loads it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

from publisher.errors import Cancelled, EngineError
from publisher.pipeline.results import SourceResult
from publisher.progress import CancelToken, Progress, ProgressCallback, Stage, check, emit
from publisher.speech.ahead import Speaker
from publisher.speech.cache import ClipCache
from publisher.speech.engines import Engine, EngineSpec
from publisher.speech.narrate import Clip, synthesize_clips

log = logging.getLogger(__name__)

#: at most this many clips go to a voice loaded ahead; more are spread over `jobs` processes. Measured
#: on the seed (a new process each, median of 3, 2 cores): 2 clips 1.43 s ahead / 1.64 s in the pool,
#: 4 clips 2.30 / 2.28, 6 clips 3.06 / 3.08, 8 clips 3.97 / 3.79 (benchmarks/ahead.py; BENCHMARKS.md, "the edit path")
AHEAD_CLIPS = 4
#: told each step of a rendering: (renderers done, renderers in all)
#: a render's progress: (done, total, stage) — renderers for "render", seconds heard for "align"
RenderStep = Callable[[int, int, Stage], None]
#: one source's rendering (everything after synthesis), a function of plain data: locally it is
#: told each step and stops at a cancelled token; on a cluster worker it gets neither
Render = Callable[[RenderStep | None, CancelToken | None], SourceResult]


@dataclass(frozen=True, kw_only=True)
class Work:
    """One source's share of a run: the clips its narration lacks, and its rendering once they exist.

    `render` is a function of plain data (it is pickled to a worker on a cluster); it must read the
    clips from `cache` and the files in `needs` (images, cover), and write only under the output
    folder, through a staging folder moved into place.
    """

    source: Path
    slug: str
    clips: tuple[Clip, ...]
    cached: int  # its sentences whose clips were already in the cache
    cache: Path  # root of the clip cache its narration reads
    spec: EngineSpec  # how to build its engine in another process
    cache_key: str  # its voice's identity: every worker must build the same
    render: Render
    output: Path
    needs: tuple[Path, ...] = ()
    read_seconds: float = 0.0  # how long reading and preparing it took
    engine: Engine | None = field(default=None, compare=False, repr=False)  # this process's engine
    speaker: Speaker | None = field(default=None, compare=False, repr=False)  # its voice, loaded ahead (local)

    @property
    def sentences(self) -> int:
        """Sentences its narration holds (what progress counts)."""
        return self.cached + len(self.clips)


class Outcome(NamedTuple):
    """What became of one Work: its result, or the exception that stopped it, and seconds per stage."""

    work: Work
    result: SourceResult | BaseException
    timings: dict[str, float]


class Executor(Protocol):
    """Runs synthesis and rendering for a list of Work; yields an Outcome per Work in the order
    they finish. Stops (raising Cancelled) at the first check after `cancel` is cancelled."""

    description: str  # one line for the user ("" for the local one)

    def run(
        self, works: Iterable[Work], progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> Iterator[Outcome]:
        """Do every piece of work; a failing one does not stop the others."""
        ...


class LocalExecutor:
    """Today's way: one source after another, its sentences over `jobs` local processes."""

    description = ""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(
        self, works: Iterable[Work], progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> Iterator[Outcome]:
        """Synthesize then render each source in turn (taking the next only then)."""
        for work in works:
            check(cancel)
            timings = {"read": work.read_seconds}
            started = time.perf_counter()
            try:
                if work.engine is None:
                    raise EngineError("no engine was loaded for this source", path=work.source)
                done = work.cached
                emit(progress, Progress("synthesize", work.source, work.slug, done, work.sentences))

                def tick(n: int, work: Work = work) -> None:
                    nonlocal done
                    done += n
                    emit(progress, Progress("synthesize", work.source, work.slug, done, work.sentences))

                engine, cache = work.engine, ClipCache(work.cache)
                clips = self._ahead(work, tick, cancel)
                synthesize_clips(clips, engine, cache, self.jobs, work.spec, tick, cancel)
                timings["synthesize"] = time.perf_counter() - started

                def step(done: int, total: int, stage: Stage = "render", work: Work = work) -> None:
                    emit(progress, Progress(stage, work.source, work.slug, done, total))

                rendering = time.perf_counter()
                result: SourceResult | Exception = work.render(step, cancel)
                timings["render"] = time.perf_counter() - rendering
            except Cancelled:
                raise
            except Exception as exc:  # reported for this source only
                result = exc
            timings["total"] = work.read_seconds + time.perf_counter() - started
            yield Outcome(work, result, timings)

    def _ahead(self, work: Work, tick: Callable[[int], None], cancel: CancelToken | None) -> list[Clip]:
        """Speak `work`'s clips in the process that loaded its voice ahead, when there is one and
        they are few (else over `jobs` processes, as usual), rendering what needs no audio
        meanwhile; returns the clips still to make here."""
        clips, speaker = list(work.clips), work.speaker
        if speaker is None or not clips or (self.jobs > 1 and len(clips) > AHEAD_CLIPS):
            return clips
        if not speaker.busy.acquire(blocking=False):  # another thread's run is using it
            return clips
        try:
            speaker.send(clips, work.cache)
            meanwhile = getattr(work.render, "ahead", None)
            if meanwhile is not None:
                meanwhile()
            left = set(speaker.receive(tick, cancel))
        finally:
            speaker.busy.release()
        log.info(
            "%s: %d of %d sentences spoken by the voice loaded ahead", work.source, len(clips) - len(left), len(clips)
        )
        return [c for c in clips if c.key in left]


def cluster_address(setting: str | None) -> str | None:
    """The cluster to use: the `cluster` setting (flag or publisher.toml), else Dask's own
    DASK_SCHEDULER_ADDRESS; None (or "off") means this machine's processes."""
    address = setting if setting is not None else os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address is None or address.strip().lower() in ("", "off", "none"):
        return None
    return address.strip()
