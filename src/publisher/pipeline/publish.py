"""The pipeline's stages, one source at a time: read → narrate → place the audio → render every
format of the registry → manifest → move into output/ atomically; then the catalogue, once."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from publisher.audio.master import make_masters
from publisher.audio.place import AudioFile, PlacedAudio, place_audio
from publisher.errors import PublisherError, RenderError, SourceError
from publisher.formats import registry
from publisher.formats.book.epub import identifier, modified_time
from publisher.formats.context import CatalogueContext, RenderContext
from publisher.formats.cover import load_cover
from publisher.model import layout
from publisher.model.publication import Metadata, Publication
from publisher.model.timeline import Narration
from publisher.pipeline.engines import EngineCache
from publisher.pipeline.fingerprint import fingerprint, up_to_date
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
from publisher.pipeline.staging import commit, output_lock, remove_leftovers, staged
from publisher.readers import is_source, read_source
from publisher.readers.common import place_notes
from publisher.settings import Settings, source_date_epoch
from publisher.speech.cache import ClipCache
from publisher.speech.credits import add_front_matter
from publisher.speech.engines import Engine, EngineOptions
from publisher.speech.lexicon import from_mapping, load_project_lexicon, project_lexicon_files
from publisher.speech.narrate import count_sentences, default_jobs, narrate
from publisher.speech.normalise import prepare_spoken
from publisher.text import slugify

log = logging.getLogger(__name__)

#: called with the number of sentences to narrate; returns a per-sentence tick and a close()
ProgressFactory = Callable[[str, int], tuple[Callable[[int], None], Callable[[], None]]]


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


def publish_source(
    path: Path,
    base: Settings,
    flags: dict[str, Any],
    engines: EngineCache,
    progress: ProgressFactory | None = None,
) -> PublishResult:
    """Publish one source into `<output>/<slug>/`; nothing in output changes unless all succeeds.

    A source whose fingerprint (text, settings, voice, lexicon, images) matches its last complete
    publish is left as it is.
    """
    started = time.perf_counter()
    defaults = Metadata(title="", language=base.language, publisher=base.publisher)
    defaults.settings["typographer"] = base.typographer  # publisher.toml's choice; front matter may override
    pub = read_source(path, defaults)
    settings = effective_settings(base, pub.metadata, flags)
    place_notes(pub, settings.notes)
    if settings.slug:
        pub.slug = slugify(settings.slug)
    dest = settings.output / pub.slug
    print_ = fingerprint(path, pub, settings, project_lexicon_files(settings.lexicon))
    previous = read_manifest(dest)
    check_owner(previous, path, dest)
    if previous is not None and not settings.force and up_to_date(dest, previous, print_):
        log.info("%s: unchanged since the last publish; left as it is", path)
        return result_from_manifest(path, dest, previous, time.perf_counter() - started)
    engine = engines.get(settings, pub.metadata.language)
    _prepare(pub, engine, settings, path)
    with staged(settings.output, pub.slug) as (staging, work):
        cache = ClipCache(settings.cache if settings.use_cache else work / "clips")
        narration = _narrate(pub, engine, settings, work, cache, engines.spec(engine), progress)
        masters = make_masters(narration, settings, previous_gains(previous, settings.profile))
        store = cache.segments if settings.use_cache else work / "segments"
        placed = place_audio(pub, narration, masters, staging, settings, store)
        epoch = source_date_epoch()
        modified = modified_time(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")
        cover = load_cover(pub.metadata)
        ctx = RenderContext(pub, placed, settings, cover, staging, work, identifier(pub), epoch, modified)
        formats = render(ctx)
        result = _result(path, dest, pub, narration, placed, staging)
        meta = catalogue_metadata(pub, engine.narrator, ctx.identifier, modified, previous, ctx.cover_name)
        levels = {"profile": settings.profile, "gains": {str(i): round(m.gain, 2) for i, m in placed.masters.items()}}
        write_manifest(staging, result, print_, meta, list(placed.timeline.marks), formats, levels, previous)
        commit(staging, dest)
    return replace(result, seconds=time.perf_counter() - started)


def _prepare(pub: Publication, engine: Engine, settings: Settings, path: Path) -> None:
    """The spoken credits and closing line, and every sentence's spoken text (normalised, with the
    project's and the source's lexicon applied)."""
    add_front_matter(pub, engine.narrator if settings.announce else None, closing=settings.announce)
    lexicon = load_project_lexicon(settings.lexicon).merged(from_mapping(pub.metadata.lexicon, str(path)))
    prepare_spoken(pub, lexicon, engine.phonemes)


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


def _result(
    path: Path, dest: Path, pub: Publication, narration: Narration, placed: PlacedAudio, staging: Path
) -> PublishResult:
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
        synthesized=narration.synthesized,
    )


def _narrate(
    pub: Publication,
    engine: Engine,
    settings: Settings,
    work: Path,
    cache: ClipCache,
    spec: tuple[str, EngineOptions] | None,
    progress: ProgressFactory | None,
) -> Narration:
    jobs = settings.jobs or default_jobs()
    if progress is None:
        return narrate(pub, engine, settings, work, cache, jobs, spec)
    tick, close = progress(pub.slug, count_sentences(pub))
    try:
        return narrate(pub, engine, settings, work, cache, jobs, spec, tick)
    finally:
        close()


def write_catalogue(output: Path, settings: Settings) -> list[Path]:
    """Feeds, OPDS catalogue and index page for everything published in `output/`."""
    cat = CatalogueContext(
        tuple(load_entries(output)), output, settings, registry.catalogue_files(), registry.catalogue_kinds()
    )
    written: list[Path] = []
    for renderer in registry.CATALOGUE_RENDERERS:
        written.extend(renderer.render(cat))
    return written


def unexpected(exc: Exception, source: Path) -> PublisherError:
    """A bug or an unforeseen input, as one line (the traceback is logged at debug level)."""
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
) -> BatchResult:
    """Publish every source; one bad source does not stop the others."""
    sources = find_sources(paths)
    output = Path(flags.get("output") or base.output)
    result = BatchResult()
    engines = EngineCache()
    seen: dict[str, Path] = {}
    with output_lock(output):
        remove_leftovers(output)
        for source in sources:
            try:
                slug = slugify(flags.get("slug") or source.stem)
                if slug in seen:
                    raise SourceError(
                        f"its slug {slug!r} is already used by {seen[slug]}; rename one",
                        path=source,
                    )
                seen[slug] = source
                done = publish_source(source, base, flags, engines, progress)
            except Exception as caught:  # one bad source must not stop the others, nor end in a traceback
                if not isinstance(caught, PublisherError):
                    log.debug("unexpected error publishing %s", source, exc_info=True)
                exc = caught if isinstance(caught, PublisherError) else unexpected(caught, source)
                if exc.path is None:
                    exc.path = source
                result.failed.append((source, exc))
                if on_error:
                    on_error(source, exc)
                continue
            result.published.append(done)
            if on_done:
                on_done(done)
        try:
            write_catalogue(output, base.with_overrides(flags, "command line"))
        except OSError as exc:
            raise RenderError(f"cannot write the catalogue: {exc}", path=output) from exc
    return result
