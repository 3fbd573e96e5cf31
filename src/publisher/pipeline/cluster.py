"""A Dask cluster as the executor: sentence synthesis as tasks keyed by the clips' content
addresses, each source's rendering as a task that depends on its clips, progress as tasks finish,
and cancellation that reaches the pending tasks at once. Imported only when a cluster is asked for;
Dask itself only when connecting."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from publisher import __version__
from publisher.errors import Cancelled, EngineError
from publisher.pipeline.executor import Outcome, Work
from publisher.pipeline.results import SourceResult
from publisher.pipeline.staging import staging_prefix
from publisher.pipeline.workers import render_task, synthesize_batch, worker_report
from publisher.progress import CancelToken, Progress, ProgressCallback, Stage, check, emit
from publisher.speech.cache import ClipCache
from publisher.speech.engines import EngineSpec
from publisher.speech.narrate import Clip

log = logging.getLogger(__name__)

#: a synthesis task holds at most this many characters of text (Piper: about 10 s of one core)
BATCH_CHARACTERS = 1200
#: … and at most this many sentences (keeps progress smooth with fast engines)
BATCH_CLIPS = 64
INSTALL_HINT = "install it with: pip install 'publisher[cluster]' (on this machine and every worker)"
CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler, and to wait for its first worker
LOCAL_PATTERN = re.compile(r"local(?::(\d+))?")


class SynthesisTask(NamedTuple):
    """Clips synthesized together on a cluster: the task's key (from the clips' content
    addresses), the clips, and the indices of the works that wait for them."""

    key: str
    clips: tuple[Clip, ...]
    users: list[int]


def batches(works: list[Work]) -> list[SynthesisTask]:
    """Every missing clip of the run once (a sentence in two books is made once), cut into
    tasks of a few sentences each, keyed by their clips' content addresses. Clips keep each
    work's longest-first order."""
    owner: dict[str, int] = {}
    users: dict[int, set[int]] = {}
    out: list[SynthesisTask] = []
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
    return [SynthesisTask(task.key, task.clips, sorted(users[i])) for i, task in enumerate(out)]


def _batch(clips: list[Clip], index: int) -> SynthesisTask:
    if len(clips) == 1:
        return SynthesisTask(f"clip-{clips[0].key}", (clips[0],), [index])
    digest = hashlib.sha256("\n".join(c.key for c in clips).encode()).hexdigest()
    return SynthesisTask(f"clips-{digest}", tuple(clips), [index])


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
    sizes: dict[str, dict[int, int]]  # clip task → sentences it completes, per work waiting for it
    roots: dict[str, str]  # clip task → cache root its clips go to
    remote: list[bool]  # work index → rendered on the cluster
    done: list[int]  # work index → sentences whose clips exist
    finished: set[int] = field(default_factory=set)


class DaskExecutor:
    """A Dask cluster: sentence synthesis as tasks keyed by the clips' content addresses, and each
    source's rendering as a task that depends on its clips; results come back as they finish."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.description = ""
        self._client: Any = None
        self._cluster: Any = None
        self._tasks: list[SynthesisTask] = []

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
        specs: dict[EngineSpec, str] = {}
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

    def run(
        self, planned: Iterable[Work], progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> Iterator[Outcome]:
        """Submit every clip task, then every render task; yield outcomes as they finish. A cancelled
        token, Ctrl-C or any error here cancels what is still pending on the cluster."""
        works = list(planned)  # every source is read first: the cluster gets the whole catalogue at once
        if not works:
            return
        check(cancel)
        shared, remote = self.check(works)
        state = self._submit_plan(works, remote)
        started = time.perf_counter()
        futures: dict[str, Any] = {}
        watcher = _Watcher(self._client, futures, cancel)
        try:
            self._report(state, progress, range(len(works)))
            futures.update(self._submit(state, shared))
            watcher.start()
            idle: list[tuple[int, BaseException | None]] = [
                (i, None) for i in range(len(works)) if not state.remote[i] and not state.waiting[i]
            ]
            yield from self._local_renders(state, started, idle, progress, cancel)
            yield from self._collect(state, futures, started, progress, cancel)
            check(cancel)
        except BaseException:
            if futures:
                with contextlib.suppress(Exception):
                    self._client.cancel(list(futures.values()), force=True)
                _let_running_renders_finish(state)
            raise
        finally:
            watcher.stop()

    def _report(self, state: _Run, progress: ProgressCallback | None, indices: Iterable[int]) -> None:
        """Progress of the works at `indices`, and of the whole run."""
        if progress is None:
            return
        for i in indices:
            work = state.works[i]
            progress(Progress("synthesize", work.source, work.slug, state.done[i], work.sentences))
        total = sum(w.sentences for w in state.works)
        progress(Progress("synthesize", None, None, sum(state.done), total, len(state.works)))

    def _submit_plan(self, works: list[Work], remote: list[bool]) -> _Run:
        tasks = batches(works)
        state = _Run(works, {i: set() for i in range(len(works))}, {}, {}, {}, remote, [w.cached for w in works])
        needed = [{c.key for c in w.clips} for w in works]
        for key, clips, users in tasks:
            root = str(works[users[0]].cache)
            state.users[key] = users
            state.roots[key] = root
            for i in users:
                state.waiting[i].add(key)
                if str(works[i].cache) == root:  # a clip counts for each work that needs it from this root
                    state.sizes.setdefault(key, {})[i] = sum(c.key in needed[i] for c in clips)
        for i, work in enumerate(works):  # clips another work's task makes for this one, counted as done now
            state.done[i] += len(work.clips) - sum(sizes.get(i, 0) for sizes in state.sizes.values())
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
        self,
        state: _Run,
        futures: dict[str, Any],
        started: float,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> Iterator[Outcome]:
        from distributed import as_completed

        for future in as_completed(list(futures.values()), loop=self._client.loop):
            check(cancel)
            key = future.key
            futures.pop(key, None)
            if key.startswith("render-"):
                i = state.users[key][0]
                state.finished.add(i)
                outcome = future.exception() if future.status == "error" else future.result()
                yield Outcome(state.works[i], outcome, _timings(state.works[i], started))
                continue
            ready = self._clip_done(state, key, future, progress)
            yield from self._local_renders(state, started, ready, progress, cancel)

    def _clip_done(
        self, state: _Run, key: str, future: Any, progress: ProgressCallback | None
    ) -> list[tuple[int, BaseException | None]]:
        """Store a clip task's PCM (when workers cannot), report progress; return the works rendered
        here that it frees (or, when it failed, fails)."""
        failure = future.exception() if future.status == "error" else None
        if failure is None:
            made = future.result()
            if isinstance(made, dict):
                cache = ClipCache(Path(state.roots[key]))
                for clip_key, pcm in made.items():
                    cache.put(clip_key, pcm)
            for i, size in state.sizes.get(key, {}).items():
                state.done[i] += size
            self._report(state, progress, state.sizes.get(key, {}))
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
        self,
        state: _Run,
        started: float,
        ready: list[tuple[int, BaseException | None]],
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> Iterator[Outcome]:
        """Render here the works whose clips are all made (those whose folders workers do not share)."""
        for i, failure in ready:
            state.finished.add(i)
            work = state.works[i]
            if failure is not None:
                yield Outcome(work, failure, _timings(work, started))
                continue

            def step(done: int, total: int, stage: Stage = "render", work: Work = work) -> None:
                emit(progress, Progress(stage, work.source, work.slug, done, total))

            try:
                outcome: SourceResult | BaseException = work.render(step, cancel)
            except Cancelled:
                raise
            except Exception as exc:  # reported for this source only
                outcome = exc
            yield Outcome(work, outcome, _timings(work, started))


def _timings(work: Work, started: float) -> dict[str, float]:
    """A cluster run's stages overlap: only reading and the whole are told apart."""
    return {"read": work.read_seconds, "total": work.read_seconds + time.perf_counter() - started}


#: seconds a cancelled run waits for the renders workers had already started
RENDER_GRACE = 120.0


def _let_running_renders_finish(state: _Run) -> None:
    """After a cancel: a render task a worker had already started runs to its end (Dask cannot stop
    a running thread) and moves its folder into place whole. Wait for it (its staging folder in the
    shared output gone, or RENDER_GRACE), so that what the run does next sees the folder it leaves:
    clearing leftovers would take its staging folder from under it, and a catalogue written before
    it lands would leave the new folder without its feed."""
    staging = [(w.output, f"{staging_prefix(w.slug)}*") for i, w in enumerate(state.works) if state.remote[i]]
    deadline = time.monotonic() + RENDER_GRACE
    while time.monotonic() < deadline and any(any(out.glob(pattern)) for out, pattern in staging):
        time.sleep(0.1)


class _Watcher:
    """Cancels a cluster run's pending futures as soon as its token is cancelled (the loop over
    finished futures would otherwise notice only when the next one finishes)."""

    def __init__(self, client: Any, futures: dict[str, Any], cancel: CancelToken | None) -> None:
        self._client, self._futures, self._cancel = client, futures, cancel
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="publisher-cancel", daemon=True)

    def start(self) -> None:
        if self._cancel is not None:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        assert self._cancel is not None
        while not self._stop.wait(0.2):
            if self._cancel.cancelled:
                with contextlib.suppress(Exception):
                    self._client.cancel(list(self._futures.values()), force=True)
                return


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
