"""The pipeline's stages: read and prepare each source (plan) → synthesize the clips it lacks →
render (narration WAVs, placed audio, every format of the registry, manifest, atomic move into
output/); then the catalogue, once. Where synthesis and rendering run is the executor's choice."""

from __future__ import annotations

import contextlib
import functools
import logging
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from publisher.audio.master import make_masters
from publisher.audio.place import AudioFile, PlacedAudio, place_audio
from publisher.errors import EngineError, PublisherError, RenderError, SourceError
from publisher.files import is_disk_full
from publisher.formats import registry
from publisher.formats.book.epub import identifier, modified_time
from publisher.formats.context import CatalogueContext, RenderContext
from publisher.formats.cover import load_cover
from publisher.model import layout
from publisher.model.publication import Metadata, Publication
from publisher.pipeline.engines import EngineCache
from publisher.pipeline.executor import LocalExecutor, ProgressFactory, Work, make_executor
from publisher.pipeline.fingerprint import fingerprint, up_to_date
from publisher.pipeline.limits import check_limits
from publisher.pipeline.manifest import (
    PublishResult,
    catalogue_metadata,
    load_entries,
    previous_gains,
    read_manifest,
    result_from_manifest,
    write_manifest,
)
from publisher.pipeline.slugs import check_owner
from publisher.pipeline.staging import (
    catalogue_set,
    commit,
    disk_full_error,
    output_lock,
    remove_leftovers,
    staged,
)
from publisher.readers import is_source, read_source
from publisher.readers.common import place_notes
from publisher.settings import Settings, source_date_epoch
from publisher.speech.cache import ClipCache
from publisher.speech.credits import add_front_matter
from publisher.speech.engines import Engine
from publisher.speech.lexicon import from_mapping, load_project_lexicon, project_lexicon_files
from publisher.speech.narrate import Voice, assemble, count_sentences, default_jobs, missing_clips
from publisher.speech.normalise import prepare_spoken
from publisher.tempdirs import run_scope
from publisher.text import slugify

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What a run over many sources did."""

    published: list[PublishResult] = field(default_factory=list)
    failed: list[tuple[Path, PublisherError]] = field(default_factory=list)


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


def effective_settings(base: Settings, meta: Metadata, flags: dict[str, Any]) -> Settings:
    """defaults < publisher.toml (already in `base`) < front matter < command-line flags."""
    front = {"engine": meta.engine, "voice": meta.voice, **meta.settings}
    settings = base.with_overrides(front, f"{meta.title}: front matter")
    return settings.with_overrides(flags, "command line").for_profile()


@dataclass(frozen=True)
class Plan:
    """One source read and prepared: everything its rendering needs, as plain data (it is sent to
    whichever process renders it, so it holds no engine and no open file)."""

    path: Path
    pub: Publication
    settings: Settings
    voice: Voice
    fingerprint: str
    previous: dict[str, Any] | None
    clips: Path  # root of the clip cache its narration reads
    epoch: int | None  # SOURCE_DATE_EPOCH of the run (a worker's environment may lack it)


def plan_source(
    path: Path, base: Settings, flags: dict[str, Any], engines: EngineCache, scratch: Path, absolute: bool = False
) -> Plan | PublishResult:
    """Read and prepare one source; a PublishResult instead when its fingerprint (text, settings,
    voice, lexicon, images) matches its last complete publish, which is left as it is. `scratch`
    holds the clips of a run without the cache; `absolute` makes every folder absolute (for
    processes that do not share this one's working directory)."""
    started = time.perf_counter()
    defaults = Metadata(title="", language=base.language, publisher=base.publisher)
    defaults.settings["typographer"] = base.typographer  # publisher.toml's choice; front matter may override
    pub = read_source(path, defaults)
    settings = effective_settings(base, pub.metadata, flags)
    check_limits(pub, settings, path)  # before anything is synthesized
    place_notes(pub, settings.notes)
    if settings.slug:
        pub.slug = slugify(settings.slug)
    if absolute:
        settings = replace(settings, output=settings.output.absolute(), cache=settings.cache.absolute())
    dest = settings.output / pub.slug
    print_ = fingerprint(path, pub, settings, project_lexicon_files(settings.lexicon))
    previous = read_manifest(dest)
    check_owner(previous, path, dest)
    if previous is not None and not settings.force and up_to_date(dest, previous, print_):
        log.info("%s: unchanged since the last publish; left as it is", path)
        return result_from_manifest(path, dest, previous, time.perf_counter() - started)
    engine = engines.get(settings, pub.metadata.language)
    _prepare(pub, engine, settings, path)
    voice = Voice(engine.name, engine.narrator, engine.cache_key)
    clips = settings.cache if settings.use_cache else scratch
    return Plan(path, pub, settings, voice, print_, previous, clips, source_date_epoch())


def _prepare(pub: Publication, engine: Engine, settings: Settings, path: Path) -> None:
    """The spoken credits and closing line, and every sentence's spoken text (normalised, with the
    project's and the source's lexicon applied)."""
    add_front_matter(pub, engine.narrator if settings.announce else None, closing=settings.announce)
    lexicon = load_project_lexicon(settings.lexicon).merged(from_mapping(pub.metadata.lexicon, str(path)))
    prepare_spoken(pub, lexicon, engine.phonemes)


def work_for(plan: Plan, engines: EngineCache) -> Work:
    """What an executor needs to narrate and render `plan`."""
    engine = engines.get(plan.settings, plan.pub.metadata.language)
    spec = engines.spec(engine)
    if spec is None:  # pragma: no cover - every engine comes from the EngineCache
        raise EngineError("the engine cannot be rebuilt in another process", path=plan.path)
    clips, cached = missing_clips(plan.pub, engine.cache_key, ClipCache(plan.clips))
    meta = plan.pub.metadata
    images = [Path(b.src) for c in plan.pub.chapters for b in c.blocks if b.kind == "image" and b.src]
    needs = tuple([plan.path, *([meta.cover] if meta.cover else []), *images])
    render = functools.partial(render_plan, plan)
    return Work(
        plan.path, plan.pub.slug, tuple(clips), cached, plan.clips, spec, engine.cache_key, render,
        plan.settings.output, needs, engine,
    )  # fmt: skip


def render_plan(plan: Plan) -> PublishResult:
    """Everything after synthesis for one source (its clips must be in the cache): the chapter
    WAVs, mastering, placed audio, every renderer of the registry and the manifest, in a staging
    folder moved into `<output>/<slug>/` only once complete."""
    pub, settings = plan.pub, plan.settings
    dest = settings.output / pub.slug
    with staged(settings.output, pub.slug) as (staging, work):
        narration = assemble(pub, plan.voice, settings, work, ClipCache(plan.clips))
        masters = make_masters(narration, settings, previous_gains(plan.previous, settings.profile))
        store = ClipCache(settings.cache).segments if settings.use_cache else work / "segments"
        placed = place_audio(pub, narration, masters, staging, settings, store)
        modified = modified_time(plan.epoch).strftime("%Y-%m-%dT%H:%M:%SZ")
        cover = load_cover(pub.metadata)
        ctx = RenderContext(pub, placed, settings, cover, staging, work, identifier(pub), plan.epoch, modified)
        formats = render(ctx)
        result = _result(plan.path, dest, pub, placed, staging)
        meta = catalogue_metadata(pub, plan.voice.narrator, ctx.identifier, modified, plan.previous, ctx.cover_name)
        levels = {"profile": settings.profile, "gains": {str(i): round(m.gain, 2) for i, m in placed.masters.items()}}
        marks = list(placed.timeline.marks)
        write_manifest(staging, result, plan.fingerprint, meta, marks, formats, levels, plan.previous)
        commit(staging, dest)
    return result


def publish_source(
    path: Path,
    base: Settings,
    flags: dict[str, Any],
    engines: EngineCache,
    progress: ProgressFactory | None = None,
) -> PublishResult:
    """Publish one source into `<output>/<slug>/` with this machine's processes; nothing in output
    changes unless all succeeds (an unchanged source is left as it is)."""
    started = time.perf_counter()
    with scratch_folder(Path(flags.get("output") or base.output)) as scratch:
        plan = plan_source(path, base, flags, engines, scratch)
        if isinstance(plan, PublishResult):
            return plan
        jobs = plan.settings.jobs or default_jobs()
        for work, outcome, _ in LocalExecutor(jobs).run([work_for(plan, engines)], progress):
            if isinstance(outcome, BaseException):
                raise outcome
            return replace(outcome, seconds=time.perf_counter() - started, synthesized=len(work.clips))
    raise AssertionError("the executor returned no result")  # pragma: no cover


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


def render(ctx: RenderContext) -> dict[str, Path]:
    """Every renderer of the registry in turn, each seeing what those before it wrote; returns every
    output by kind. A renderer that returns a kind it did not declare is a bug, reported as one."""
    written: dict[str, Path] = {}
    later = registry.catalogue_kinds()
    for renderer in registry.RENDERERS:
        log.debug("%s: rendering %s", ctx.slug, renderer.name)
        made = renderer.render(replace(ctx, written=dict(written), later=later))
        undeclared = set(made) - set(renderer.kinds)
        if undeclared:
            raise RenderError(
                f"renderer {renderer.name!r} wrote undeclared kinds {sorted(undeclared)}", path=ctx.folder
            )
        written.update(made)
    return written


def _result(path: Path, dest: Path, pub: Publication, placed: PlacedAudio, staging: Path) -> PublishResult:
    """What `pub` became (how many clips were synthesized is the executor's to say)."""

    def moved(a: AudioFile) -> AudioFile:
        return AudioFile(dest / a.path.relative_to(staging), a.chapter, a.title, a.duration, a.loudness)

    return PublishResult(
        source=path,
        slug=pub.slug,
        folder=dest,
        epub=dest / layout.file_name("epub", pub.slug),
        audio=[moved(a) for a in placed.chapters],
        full=moved(placed.full),
        duration=placed.timeline.duration,
        seconds=0.0,
        cues=placed.timeline.full_cues(),
        sentences=count_sentences(pub),
        chapters=len(pub.chapters),
    )


def write_catalogue(output: Path, settings: Settings) -> list[Path]:
    """Feeds, OPDS catalogue and index page for everything published in `output/`."""
    cat = CatalogueContext(
        tuple(load_entries(output)), output, settings, registry.catalogue_files(), registry.catalogue_kinds()
    )
    written: list[Path] = []
    with catalogue_set(output):  # all of it or none of it (staging.py)
        for renderer in registry.CATALOGUE_RENDERERS:
            written.extend(renderer.render(cat))
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


def publish_all(
    paths: list[Path],
    base: Settings,
    flags: dict[str, Any],
    progress: ProgressFactory | None = None,
    on_done: Callable[[PublishResult], None] | None = None,
    on_error: Callable[[Path, PublisherError], None] | None = None,
    notice: Callable[[str], None] | None = None,
) -> BatchResult:
    """Publish every source; one bad source does not stop the others. Synthesis and rendering run
    where the `cluster` setting says (this machine's processes by default, see executor.py);
    the catalogue is written once at the end, here."""
    sources = find_sources(paths)
    run = base.with_overrides(flags, "command line")
    output = run.output
    result = BatchResult()
    engines = EngineCache()

    def fail(source: Path, caught: Exception) -> None:
        if not isinstance(caught, PublisherError):
            log.debug("unexpected error publishing %s", source, exc_info=caught)
        exc = caught if isinstance(caught, PublisherError) else unexpected(caught, source)
        if exc.path is None:
            exc.path = source
        result.failed.append((source, exc))
        if on_error:
            on_error(source, exc)

    def done(published: PublishResult) -> None:
        result.published.append(published)
        if on_done:
            on_done(published)

    with output_lock(output):
        remove_leftovers(output)
        with make_executor(run.cluster, run.jobs or default_jobs()) as executor, scratch_folder(output) as scratch:
            if notice and executor.description:
                notice(executor.description)
            works = _plan_each(
                sources, base, flags, engines, scratch, not isinstance(executor, LocalExecutor), fail, done
            )
            for work, outcome, seconds in executor.run(works, progress):
                if isinstance(outcome, BaseException):
                    fail(work.source, outcome if isinstance(outcome, Exception) else RuntimeError(repr(outcome)))
                else:
                    done(replace(outcome, seconds=seconds, synthesized=len(work.clips)))
        remove_leftovers(output)  # staging folders of workers killed mid-run
        try:
            write_catalogue(output, run)
        except OSError as exc:
            if is_disk_full(exc):
                raise disk_full_error(exc, output, ": the previous catalogue is kept whole") from exc
            raise RenderError(f"cannot write the catalogue: {exc}", path=output) from exc
    return result


def _plan_each(
    sources: list[Path],
    base: Settings,
    flags: dict[str, Any],
    engines: EngineCache,
    scratch: Path,
    absolute: bool,
    fail: Callable[[Path, Exception], None],
    done: Callable[[PublishResult], None],
) -> Iterator[Work]:
    """Read and prepare each source in turn, on this machine (one at a time as the executor asks:
    locally a source's text is not held longer than its own publish); the unchanged ones are done
    already, a bad one is reported and left out."""
    seen: dict[str, Path] = {}
    for source in sources:
        try:
            slug = slugify(flags.get("slug") or source.stem)
            if slug in seen:
                raise SourceError(f"its slug {slug!r} is already used by {seen[slug]}; rename one", path=source)
            seen[slug] = source
            plan = plan_source(source, base, flags, engines, scratch, absolute)
            if isinstance(plan, PublishResult):
                done(plan)
            else:
                work = work_for(plan, engines)
        except Exception as caught:  # one bad source must not stop the others, nor end in a traceback
            fail(source, caught)
            continue
        if not isinstance(plan, PublishResult):
            yield work
