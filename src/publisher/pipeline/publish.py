"""A run over many sources: read and prepare each (pipeline/plan.py) → synthesize the clips they lack
→ render each (pipeline/render.py), where the executor says; then the catalogue, once. One bad
source does not stop the others; a cancelled run keeps what it finished."""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.errors import Cancelled, EngineError, PublisherError, RenderError, SourceError
from publisher.files import is_disk_full
from publisher.formats import registry
from publisher.formats.context import CatalogueContext
from publisher.manifest import load_entries
from publisher.pipeline.engines import EngineCache
from publisher.pipeline.executor import LocalExecutor, Outcome, Work, cluster_address
from publisher.pipeline.memo import CatalogueMemo
from publisher.pipeline.plan import Plan, plan_source
from publisher.pipeline.results import BatchResult, SourceResult
from publisher.pipeline.staging import catalogue_set, disk_full_error, output_lock, remove_leftovers
from publisher.progress import CancelToken, Progress, ProgressCallback, check, emit
from publisher.readers import is_source
from publisher.settings import Settings
from publisher.speech.narrate import Clip, count_sentences, default_jobs, missing_clips
from publisher.tempdirs import run_scope
from publisher.text.slugs import slugify

if TYPE_CHECKING:
    from publisher.pipeline.cluster import DaskExecutor

log = logging.getLogger(__name__)


def find_sources(paths: list[Path]) -> list[Path]:
    """Files named directly, plus every readable source inside named folders (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.iterdir())
                if p.is_file() and is_source(p) and not p.name.startswith((".", "_"))
                and p.name.lower() not in ("readme.md", "readme.txt")
            )  # fmt: skip
        elif path.exists():
            found.append(path)
        else:
            raise SourceError("no such file or folder", path=path)
    return found


@contextlib.contextmanager
def scratch_folder(output: Path) -> Iterator[Path]:
    """Where the clips of sources published without the cache go: a folder inside `output/` (so
    every worker of a cluster reaches it), made only if used and removed afterwards; a killed
    run's is cleared by remove_leftovers. The private temporary folders the run makes (an EPUB's
    images, tempdirs.py) are removed with it."""
    folder = output.absolute() / f".clips.tmp-{secrets.token_hex(6)}"
    try:
        with run_scope():
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def make_executor(cluster: str | None, jobs: int) -> LocalExecutor | DaskExecutor:
    """The executor for a run: local processes, or the Dask cluster at `cluster`."""
    address = cluster_address(cluster)
    if address is None:
        return LocalExecutor(jobs)
    from publisher.pipeline.cluster import DaskExecutor  # Dask only when a cluster is asked for

    return DaskExecutor(address)


def write_catalogue(
    output: Path, settings: Settings, progress: ProgressCallback | None = None, memo: bool = False
) -> list[Path]:
    """Feeds, OPDS catalogue and index page for everything published in `output/`. With `memo`
    (a publish run, whose cache it is), left as it is, its renderers not even loaded, when it was
    made from the same manifests, settings and code and its files are as it left them (memo.py)."""
    total = len(registry.CATALOGUE_RENDERERS)
    note = CatalogueMemo(output, settings) if memo else None
    kept = note.unchanged() if note is not None else None
    if kept is not None:
        emit(progress, Progress("catalogue", None, None, total, total))
        return kept
    cat = CatalogueContext(
        tuple(load_entries(output)), output, settings, registry.catalogue_files(), registry.catalogue_kinds()
    )
    written: list[Path] = []
    with catalogue_set(output):  # all of it or none of it (staging.py)
        for n, renderer in enumerate(registry.CATALOGUE_RENDERERS, start=1):
            written.extend(renderer.render(cat))
            emit(progress, Progress("catalogue", None, None, n, total))
    if note is not None:
        note.remember(written)
    return written


def unexpected(exc: Exception, source: Path) -> PublisherError:
    """A bug or an unforeseen input, as one line (the traceback is logged at debug level)."""
    if is_disk_full(exc):  # outside a publication's folder (staging.staged says those): the cache, say
        name = getattr(exc, "filename", None)
        folder = Path(name).parent if name else None
        return RenderError(f"no space left on the device{f' (writing into {folder})' if folder else ''}", path=source)
    if isinstance(exc, OSError):
        return RenderError(f"{exc.strerror or exc}{f' ({exc.filename})' if exc.filename else ''}", path=source)
    if isinstance(exc, MemoryError):
        return SourceError("ran out of memory; split the source into smaller ones", path=source)
    if isinstance(exc, RecursionError):
        return SourceError("is nested too deeply to read", path=source)
    return PublisherError(
        f"unexpected {type(exc).__name__}: {exc}; run with --debug for the traceback and please report it",
        path=source,
    )


def failure(source: Path, caught: BaseException, timings: dict[str, float] | None = None) -> SourceResult:
    """The result of a source that failed with `caught` (a PublisherError, or a bug made one line)."""
    if not isinstance(caught, Exception):
        caught = RuntimeError(repr(caught))
    if not isinstance(caught, PublisherError):
        log.debug("unexpected error publishing %s", source, exc_info=caught)
    exc = caught if isinstance(caught, PublisherError) else unexpected(caught, source)
    if exc.path is None:
        exc.path = source
    return SourceResult(source=source, slug=slugify(source.stem), state="failed", error=exc, timings=timings or {})


def publish_all(
    paths: list[Path],
    settings: Settings,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    on_result: Callable[[SourceResult], None] | None = None,
) -> BatchResult:
    """Publish every source under `paths` with `settings` (each source's front matter layered in,
    except what `settings` pins); one bad source does not stop the others. Synthesis and rendering
    run where the `cluster` setting says (this machine's processes by default, see executor.py);
    the catalogue is written once at the end, here, also when the run is cancelled (it lists what
    is complete). `on_result` hears of each source as it finishes."""
    sources = find_sources(paths)
    output = settings.output
    results: list[SourceResult] = []

    def finished(result: SourceResult) -> None:
        results.append(result)
        if on_result:
            on_result(result)

    cancelled = False
    with output_lock(output):
        remove_leftovers(output)
        try:
            with make_executor(settings.cluster, settings.jobs or default_jobs()) as executor:
                if executor.description:
                    emit(progress, Progress("read", None, None, 0, len(sources), len(sources), executor.description))
                with scratch_folder(output) as scratch:
                    remote = not isinstance(executor, LocalExecutor)
                    engines = EngineCache(ahead=not remote)  # voices loaded ahead only on this machine
                    works = _plan_each(sources, settings, engines, scratch, remote, finished, progress, cancel)
                    for outcome in executor.run(works, progress, cancel):
                        finished(_result(outcome))
        except Cancelled:
            cancelled = True
            done = {r.source for r in results}
            for source in sources:
                if source not in done:
                    finished(SourceResult(source=source, slug=slugify(source.stem), state="cancelled"))
        remove_leftovers(output)  # staging folders of workers killed mid-run
        try:
            catalogue = write_catalogue(output, settings, progress, memo=True)
        except OSError as exc:
            if is_disk_full(exc):
                raise disk_full_error(exc, output, ": the previous catalogue is kept whole") from exc
            raise RenderError(f"cannot write the catalogue: {exc}", path=output) from exc
    return BatchResult(tuple(results), tuple(catalogue), cancelled)


def _result(outcome: Outcome) -> SourceResult:
    """An executor's outcome as the source's result."""
    if isinstance(outcome.result, BaseException):
        return failure(outcome.work.source, outcome.result, outcome.timings)
    return replace(outcome.result, timings=outcome.timings)


def work_for(plan: Plan, engines: EngineCache, read_seconds: float = 0.0) -> Work:
    """What an executor needs to narrate and render `plan`."""
    from publisher.pipeline.render import Renderer  # the renderers load only when there is work for them

    recorded = bool(plan.settings.narration)  # nothing to synthesize: the recording is aligned when rendering
    settings = replace(plan.settings, engine="silent") if recorded else plan.settings
    engine = engines.get(settings, plan.pub.metadata.language)
    spec = engines.spec(engine)
    if spec is None:  # pragma: no cover - every engine comes from the EngineCache
        raise EngineError("the engine cannot be rebuilt in another process", path=plan.path)
    if recorded:
        clips: list[Clip] = []
        cached = count_sentences(plan.pub)
    else:
        clips, cached = missing_clips(plan.pub, engine.cache_key, plan.clips, plan.voice.others)
    meta = plan.pub.metadata
    images = [Path(b.src) for c in plan.pub.chapters for b in c.blocks if b.kind == "image" and b.src]
    return Work(
        source=plan.path,
        slug=plan.pub.slug,
        clips=tuple(clips),
        cached=cached,
        cache=plan.clips.root,
        spec=spec,
        cache_key=engine.cache_key,
        render=Renderer(plan, synthesized=len(clips)),
        output=plan.settings.output,
        needs=tuple([plan.path, *([meta.cover] if meta.cover else []), *images, *plan.settings.narration]),
        read_seconds=read_seconds,
        engine=engine,
        speaker=engines.speaker(engine),
    )


def _plan_each(
    sources: list[Path],
    settings: Settings,
    engines: EngineCache,
    scratch: Path,
    absolute: bool,
    finished: Callable[[SourceResult], None],
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> Iterator[Work]:
    """Read and prepare each source in turn, on this machine (one at a time as the executor asks:
    locally a source's text is not held longer than its own publish); the unchanged ones are done
    already, a bad one is reported and left out."""
    seen: dict[str, Path] = {}
    for n, source in enumerate(sources, start=1):
        check(cancel)
        started = time.perf_counter()
        try:
            slug = slugify(settings.slug or source.stem)
            if slug in seen:
                raise SourceError(f"its slug {slug!r} is already used by {seen[slug]}; rename one", path=source)
            seen[slug] = source
            plan = plan_source(source, settings, engines, scratch, absolute)
            work = plan if isinstance(plan, SourceResult) else work_for(plan, engines, time.perf_counter() - started)
        except Cancelled:
            raise
        except Exception as caught:  # one bad source must not stop the others, nor end in a traceback
            finished(failure(source, caught, {"read": time.perf_counter() - started}))
            continue
        finally:
            emit(progress, Progress("read", source, None, n, len(sources)))
        if isinstance(work, SourceResult):
            finished(work)
        else:
            yield work
