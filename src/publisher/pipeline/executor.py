"""Where the work of a run happens: this machine's processes (LocalExecutor) or a Dask cluster
(DaskExecutor). The pipeline hands either the same list of Work and gets the same results back.

Dask is imported only when a cluster is asked for: the plain path never loads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from publisher import __version__
from publisher.errors import EngineError
from publisher.pipeline.workers import render_task, synthesize_batch, worker_report
from publisher.speech.cache import ClipCache
from publisher.speech.engines import Engine, EngineOptions
from publisher.speech.narrate import Clip, synthesize_clips

log = logging.getLogger(__name__)

#: called with a label and a number of sentences; returns a tick (sentences done) and a close()
ProgressFactory = Callable[[str, int], tuple[Callable[[int], None], Callable[[], None]]]
#: what rendering one source returns (a PublishResult), or what stopped it
Outcome = tuple["Work", Any, float]

#: a synthesis task holds at most this many characters of text (Piper: about 10 s of one core)
BATCH_CHARACTERS = 1200
#: … and at most this many sentences (keeps progress smooth with fast engines)
BATCH_CLIPS = 64
INSTALL_HINT = "install it with: pip install 'publisher[cluster]' (on this machine and every worker)"
CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler, and to wait for its first worker
LOCAL_PATTERN = re.compile(r"local(?::(\d+))?")


@dataclass(frozen=True)
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
    spec: tuple[str, EngineOptions]  # how to build its engine in another process
    cache_key: str  # its voice's identity: every worker must build the same
    render: Callable[[], Any]
    output: Path
    needs: tuple[Path, ...] = ()
    engine: Engine | None = field(default=None, compare=False, repr=False)  # this process's engine

    @property
    def sentences(self) -> int:
        """Sentences its narration holds (what the progress bar counts)."""
        return self.cached + len(self.clips)


class Executor(Protocol):
    """Runs synthesis and rendering for a list of Work; yields each Work with its result (or the
    exception that stopped it) and the seconds it took, in the order they finish."""

    description: str  # one line for the user ("" for the local one)

    def run(self, works: Iterable[Work], progress: ProgressFactory | None) -> Iterator[Outcome]:
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

    def run(self, works: Iterable[Work], progress: ProgressFactory | None) -> Iterator[Outcome]:
        """Synthesize then render each source in turn (taking the next only then), with one progress
        bar per source."""
        for work in works:
            started = time.perf_counter()
            try:
                if work.engine is None:
                    raise EngineError("no engine was loaded for this source", path=work.source)
                tick, close = progress(work.slug, work.sentences) if progress else (None, None)
                try:
                    if tick and work.cached:
                        tick(work.cached)
                    synthesize_clips(list(work.clips), work.engine, ClipCache(work.cache), self.jobs, work.spec, tick)
                finally:
                    if close:
                        close()
                result = work.render()
            except Exception as exc:  # reported for this source only
                yield work, exc, time.perf_counter() - started
                continue
            yield work, result, time.perf_counter() - started


def cluster_address(setting: str | None) -> str | None:
    """The cluster to use: the `cluster` setting (flag or publisher.toml), else Dask's own
    DASK_SCHEDULER_ADDRESS; None (or "off") means this machine's processes."""
    address = setting if setting is not None else os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address is None or address.strip().lower() in ("", "off", "none"):
        return None
    return address.strip()


def make_executor(cluster: str | None, jobs: int) -> LocalExecutor | DaskExecutor:
    """The executor for a run: local processes, or the Dask cluster at `cluster`."""
    address = cluster_address(cluster)
    if address is None:
        return LocalExecutor(jobs)
    return DaskExecutor(address)


def batches(works: list[Work]) -> list[tuple[str, tuple[Clip, ...], list[int]]]:
    """Every missing clip of the run once (a sentence in two books is made once), cut into
    tasks of a few sentences each, keyed by their clips' content addresses: (key, clips, indices
    of the works that wait for it). Clips keep each work's longest-first order."""
    owner: dict[str, int] = {}
    users: dict[int, set[int]] = {}
    out: list[tuple[str, tuple[Clip, ...], list[int]]] = []
    for index, work in enumerate(works):
        current: list[Clip] = []
        size = 0
        for clip in work.clips:
            if clip.key in owner:
                users[owner[clip.key]].add(index)
                continue
            if current and (size + len(clip.text) > BATCH_CHARACTERS or len(current) >= BATCH_CLIPS):
                out.append(_batch(current, index))
                current, size = [], 0
            owner[clip.key] = len(out)
            users.setdefault(len(out), set()).add(index)
            current.append(clip)
            size += len(clip.text)
        if current:
            out.append(_batch(current, index))
    return [(key, clips, sorted(users[i])) for i, (key, clips, _) in enumerate(out)]


def _batch(clips: list[Clip], index: int) -> tuple[str, tuple[Clip, ...], list[int]]:
    if len(clips) == 1:
        return f"clip-{clips[0].key}", (clips[0],), [index]
    digest = hashlib.sha256("\n".join(c.key for c in clips).encode()).hexdigest()
    return f"clips-{digest}", tuple(clips), [index]


@contextlib.contextmanager
def marker(folder: Path) -> Iterator[str]:
    """A uniquely named empty folder inside `folder`, for the length of a check: a worker that
    sees it shares `folder` with this process."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".probe.tmp-", dir=folder) as tmp:
        yield tmp


@dataclass
class _Run:
    """The bookkeeping of one cluster run: which task each work waits for, and what is done."""

    works: list[Work]
    waiting: dict[int, set[str]]  # work index → clip tasks not finished yet
    users: dict[str, list[int]]  # clip task → works waiting for it
    sizes: dict[str, int]  # clip task → sentences it completes (a shared clip counts for each)
    roots: dict[str, str]  # clip task → cache root its clips go to
    remote: list[bool]  # work index → rendered on the cluster
    finished: set[int] = field(default_factory=set)


class DaskExecutor:
    """A Dask cluster: sentence synthesis as tasks keyed by the clips' content addresses, and each
    source's rendering as a task that depends on its clips; results come back as they finish."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.description = ""
        self._client: Any = None
        self._cluster: Any = None
        self._tasks: list[tuple[str, tuple[Clip, ...], list[int]]] = []

    def __enter__(self) -> DaskExecutor:
        try:
            self._connect()
        except BaseException:
            self.__exit__()  # a LocalCluster already started, or a client without workers
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for part in (self._client, self._cluster):
            if part is not None:
                with contextlib.suppress(Exception):
                    part.close()

    def _connect(self) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise EngineError(f"--cluster needs Dask; {INSTALL_HINT}") from exc

        quiet = max(logging.WARNING, logging.getLogger().getEffectiveLevel())
        for name in ("distributed", "tornado"):  # Dask's own INFO lines only with -v
            logging.getLogger(name).setLevel(quiet if quiet > logging.INFO else logging.INFO)
        local = LOCAL_PATTERN.fullmatch(self.address)
        if local:
            n = int(local.group(1) or (os.cpu_count() or 1))
            if not 1 <= n <= 256:
                raise EngineError(f"--cluster {self.address}: the number of workers must be 1–256")
            self._cluster = LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, memory_limit=0,
                dashboard_address=":0",
                silence_logs=logging.CRITICAL,
            )  # fmt: skip
            self._client = Client(self._cluster, set_as_default=False)
        else:
            try:
                self._client = Client(self.address, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except Exception as exc:  # OSError, TimeoutError, ValueError for a malformed address
                raise EngineError(f"cannot reach the Dask scheduler at {self.address}: {_reason(exc)}") from exc
            try:
                self._client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            except Exception as exc:
                raise EngineError(
                    f"the Dask scheduler at {self.address} has no workers (waited {CONNECT_TIMEOUT:.0f} s)"
                ) from exc
        info = self._client.scheduler_info(n_workers=-1)
        workers = info.get("workers", {})
        threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
        self.description = (
            f"Dask cluster {info.get('address', self.address)}: {len(workers)} worker{'s' * (len(workers) != 1)}, "
            f"{threads} thread{'s' * (threads != 1)}"
        )
        if "dashboard" in info.get("services", {}) and _serves(self._client.dashboard_link):
            self.description += f"; dashboard {self._client.dashboard_link}"

    def check(self, works: list[Work]) -> tuple[set[str], list[bool]]:
        """Ask every worker for its publisher version and voices (a mismatch is an EngineError: no
        mixed narration), and which folders it shares with this process: the cache roots whose
        clips workers can store themselves, and for each work whether it can render there."""
        specs: dict[tuple[str, EngineOptions], str] = {}
        for work in works:
            specs.setdefault(work.spec, work.cache_key)
        roots = sorted({str(w.cache) for w in works})
        outputs = sorted({str(w.output) for w in works})
        needs = sorted({str(p) for w in works for p in w.needs})
        with contextlib.ExitStack() as stack:
            probes = [stack.enter_context(marker(Path(folder))) for folder in [*roots, *outputs]]
            reports = self._client.run(worker_report, list(specs), [*probes, *needs])
        for address, report in sorted(reports.items()):
            if report["version"] != __version__:
                raise EngineError(
                    f"Dask worker {address} runs publisher {report['version']}, this client {__version__}; "
                    "install the same version on every worker"
                )
            for (name, _), ours, theirs in zip(specs, specs.values(), report["voices"], strict=True):
                if theirs != ours:
                    raise EngineError(
                        f"Dask worker {address} does not have this client's {name} voice ({_short(theirs)}, "
                        f"here {_short(ours)}); install the same voices on every worker"
                    )
        seen = [all(r["paths"][i] for r in reports.values()) for i in range(len(probes) + len(needs))]
        shared = {root for i, root in enumerate(roots) if seen[i]}
        visible = {p for i, p in enumerate([*roots, *outputs, *needs]) if seen[i]}
        remote = [
            str(w.cache) in visible and str(w.output) in visible and all(str(p) in visible for p in w.needs)
            for w in works
        ]
        for work, here in zip(works, remote, strict=True):
            if not here:
                log.warning("%s: its output, cache or images are not on a path every worker shares; rendered here",
                            work.source)  # fmt: skip
        return shared, remote

    def run(self, planned: Iterable[Work], progress: ProgressFactory | None) -> Iterator[Outcome]:
        """Submit every clip task, then every render task; yield results as they finish. Ctrl-C
        (or any error here) cancels what is still pending on the cluster."""
        works = list(planned)  # every source is read first: the cluster gets the whole catalogue at once
        if not works:
            return
        shared, remote = self.check(works)
        state = self._submit_plan(works, shared, remote)
        total = sum(w.sentences for w in works)
        tick, close = progress(f"{len(works)} source{'s' * (len(works) != 1)}", total) if progress else (None, None)
        started = time.perf_counter()
        futures: dict[str, Any] = {}
        try:
            if tick:
                tick(sum(w.cached for w in works) + sum(len(w.clips) for w in works) - sum(state.sizes.values()))
            futures = self._submit(state, shared)
            idle: list[tuple[int, BaseException | None]] = [
                (i, None) for i in range(len(works)) if not state.remote[i] and not state.waiting[i]
            ]
            yield from self._local_renders(state, started, idle)
            yield from self._collect(state, futures, tick, started)
        except BaseException:
            if futures:
                with contextlib.suppress(Exception):
                    self._client.cancel(list(futures.values()), force=True)
            raise
        finally:
            if close:
                close()

    def _submit_plan(self, works: list[Work], shared: set[str], remote: list[bool]) -> _Run:
        tasks = batches(works)
        state = _Run(works, {i: set() for i in range(len(works))}, {}, {}, {}, remote)
        counts: dict[tuple[str, str], int] = {}
        for work in works:
            for clip in work.clips:
                counts[(str(work.cache), clip.key)] = counts.get((str(work.cache), clip.key), 0) + 1
        for key, clips, users in tasks:
            root = str(works[users[0]].cache)
            state.users[key] = users
            state.roots[key] = root
            state.sizes[key] = sum(counts[(root, c.key)] for c in clips)
            for i in users:
                state.waiting[i].add(key)
        self._tasks = tasks
        return state

    def _submit(self, state: _Run, shared: set[str]) -> dict[str, Any]:
        client = self._client
        futures: dict[str, Any] = {}
        for key, clips, users in self._tasks:
            work = state.works[users[0]]
            root = state.roots[key]
            futures[key] = client.submit(
                synthesize_batch, __version__, work.spec, work.cache_key, root if root in shared else None, clips,
                key=key, retries=0,
            )  # fmt: skip
        for i, work in enumerate(state.works):
            if state.remote[i]:
                deps = [futures[k] for k in sorted(state.waiting[i])]
                key = f"render-{work.slug}-{secrets.token_hex(4)}"
                futures[key] = client.submit(render_task, __version__, work.render, *deps, key=key)
                state.users[key] = [i]
        return futures

    def _collect(
        self, state: _Run, futures: dict[str, Any], tick: Callable[[int], None] | None, started: float
    ) -> Iterator[Outcome]:
        from distributed import as_completed

        for future in as_completed(list(futures.values()), loop=self._client.loop):
            key = future.key
            futures.pop(key, None)
            if key.startswith("render-"):
                i = state.users[key][0]
                state.finished.add(i)
                outcome = future.exception() if future.status == "error" else future.result()
                yield state.works[i], outcome, time.perf_counter() - started
                continue
            ready = self._clip_done(state, key, future, tick)
            yield from self._local_renders(state, started, ready)

    def _clip_done(
        self, state: _Run, key: str, future: Any, tick: Callable[[int], None] | None
    ) -> list[tuple[int, BaseException | None]]:
        """Store a clip task's PCM (when workers cannot), move the bar; return the works rendered
        here that it frees (or, when it failed, fails)."""
        failure = future.exception() if future.status == "error" else None
        if failure is None:
            made = future.result()
            if isinstance(made, dict):
                cache = ClipCache(Path(state.roots[key]))
                for clip_key, pcm in made.items():
                    cache.put(clip_key, pcm)
            if tick:
                tick(state.sizes[key])
        future.release()
        ready: list[tuple[int, BaseException | None]] = []
        for i in state.users[key]:
            state.waiting[i].discard(key)
            if state.remote[i] or i in state.finished:
                continue
            if failure is not None or not state.waiting[i]:
                ready.append((i, failure))
        return ready

    def _local_renders(
        self, state: _Run, started: float, ready: list[tuple[int, BaseException | None]]
    ) -> Iterator[Outcome]:
        """Render here the works whose clips are all made (those whose folders workers do not share)."""
        for i, failure in ready:
            state.finished.add(i)
            work = state.works[i]
            if failure is not None:
                yield work, failure, time.perf_counter() - started
                continue
            try:
                outcome: Any = work.render()
            except Exception as exc:  # reported for this source only
                outcome = exc
            yield work, outcome, time.perf_counter() - started


def _serves(link: str) -> bool:
    """Is there a dashboard at `link`? The scheduler's web server answers even without one: 404
    when started with --no-dashboard, a "needs bokeh" page without bokeh. A slow answer is a real
    dashboard drawing itself on a busy machine."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(link, timeout=3) as response:
            return response.status == 200 and b"needs bokeh" not in response.read(4096)
    except urllib.error.URLError as exc:
        return isinstance(exc.reason, TimeoutError)
    except TimeoutError:
        return True
    except (OSError, ValueError):
        return False


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def _short(voice: str) -> str:
    return voice if len(voice) <= 48 else voice[:45] + "…"
