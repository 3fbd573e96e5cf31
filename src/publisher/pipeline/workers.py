"""What runs on a Dask worker: the voice loaded once per worker process, clip and render tasks,
and the report each worker gives at the start of a run. Imported by workers through the task
functions' names (`publisher.pipeline.workers.synthesize_batch`); Dask is imported only inside a
task, on the worker."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from publisher import __version__
from publisher.errors import EngineError
from publisher.speech.cache import ClipCache
from publisher.speech.engines import Engine, EngineSpec, get_engine
from publisher.speech.narrate import Clip, speak

_ENGINES: dict[EngineSpec, tuple[Engine, threading.Lock]] = {}
_ENGINES_LOCK = threading.Lock()


def worker_engine(spec: EngineSpec, threads: int) -> tuple[Engine, threading.Lock]:
    """This process's engine for `spec`, built once (the voice is loaded once per worker) with
    `threads` engine threads, and the lock that lets one sentence at a time use them."""
    name, options = spec
    key = EngineSpec(name, replace(options, threads=threads))
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = (get_engine(name, key[1]), threading.Lock())
        return _ENGINES[key]


def _worker_threads() -> int:
    from distributed import get_worker

    try:
        return max(1, int(get_worker().state.nthreads))
    except (ValueError, AttributeError):
        return 1


def _check_version(version: str) -> None:
    if version != __version__:
        raise EngineError(f"a Dask worker runs publisher {__version__}, the client {version}; install the same on both")


def synthesize_batch(
    version: str, spec: EngineSpec, cache_key: str, root: str | None, clips: tuple[Clip, ...]
) -> dict[str, bytes] | int:
    """A Dask task: speak `clips` with this worker's engine. With a cache every worker reaches
    (`root`), the clips are stored there and their number returned; else their PCM is returned
    for the client to store."""
    _check_version(version)
    engine, lock = worker_engine(spec, _worker_threads())
    if engine.cache_key != cache_key:
        raise EngineError(
            f"a Dask worker's {spec[0]} voice differs from the client's ({engine.cache_key} ≠ {cache_key}); "
            "install the same voices on every worker"
        )
    cache = ClipCache(Path(root)) if root is not None else None
    made: dict[str, bytes] = {}
    with lock:
        for clip in clips:
            if cache is not None and cache.has(clip.key):
                continue
            made[clip.key] = speak(engine, clip)
            if cache is not None:
                cache.put(clip.key, made.pop(clip.key))
    return len(clips) if cache is not None else made


def render_task(version: str, render: Callable[[None, None], Any], *_clips: object) -> Any:
    """A Dask task: render one source (its clip tasks are its dependencies)."""
    _check_version(version)
    return render(None, None)


def worker_report(specs: list[EngineSpec], paths: list[str]) -> dict[str, Any]:
    """What a worker says at the start of a run: its publisher version, the identity of each voice
    as it builds it (or why it cannot), and which of `paths` it can see."""
    voices: list[str] = []
    for spec in specs:
        try:
            voices.append(worker_engine(spec, _worker_threads())[0].cache_key)
        except Exception as exc:  # reported to the client as a mismatch, with the reason
            voices.append(f"unusable: {exc}")
    return {"version": __version__, "voices": voices, "paths": [os.path.exists(p) for p in paths]}
