"""The first stages of a source: read it, layer its settings, prepare it for speech, and decide what
its publish needs (nothing, when its fingerprint matches its last complete publish)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

from publisher.manifest import Manifest, ManifestAudio, read_manifest
from publisher.model import layout
from publisher.model.publication import Metadata, Publication
from publisher.model.timeline import AudioFile
from publisher.pipeline.engines import EngineCache
from publisher.pipeline.fingerprint import fingerprint, up_to_date
from publisher.pipeline.limits import check_limits
from publisher.pipeline.results import SourceResult
from publisher.pipeline.slugs import check_owner
from publisher.prepare import prepare
from publisher.prepare.lexicon import Lexicon, from_mapping, load_lexicon, project_lexicon_file
from publisher.readers import ReadOptions, read_source
from publisher.settings import Settings, source_date_epoch
from publisher.speech.cache import ClipCache
from publisher.speech.narrate import Voice
from publisher.text.slugs import slugify

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Plan:
    """One source read and prepared: everything its rendering needs, as plain data (it is sent to
    whichever process renders it, so it holds no engine and no open file)."""

    path: Path
    pub: Publication
    settings: Settings
    voice: Voice
    fingerprint: str
    previous: Manifest | None
    clips: ClipCache  # the clip cache its narration reads (a scratch one without --cache)
    epoch: int | None  # SOURCE_DATE_EPOCH of the run (a worker's environment may lack it)


def read(path: Path, settings: Settings) -> tuple[Publication, Settings]:
    """Read `path` and layer its settings: the source's front matter over `settings` (except what
    the caller pinned), with its slug chosen."""
    defaults = Metadata(title="", language=settings.language, publisher=settings.publisher)
    options = ReadOptions(defaults, settings.typographer, "typographer" in settings.pinned)
    pub = read_source(path, options)
    front = {"engine": pub.metadata.engine, "voice": pub.metadata.voice, **pub.metadata.settings}
    layered = settings.for_source(front, pub.metadata.title)
    if layered.slug:
        pub = replace(pub, slug=slugify(layered.slug))
    return pub, layered


def plan_source(
    path: Path, settings: Settings, engines: EngineCache, scratch: Path, absolute: bool = False
) -> Plan | SourceResult:
    """Read and prepare one source; a SourceResult instead when its fingerprint (text, settings,
    voice, lexicon, images) matches its last complete publish, which is left as it is. `scratch`
    holds the clips of a run without the cache; `absolute` makes every folder absolute (for
    processes that do not share this one's working directory)."""
    started = time.perf_counter()
    pub, settings = read(path, settings)
    check_limits(pub, settings, path)  # before anything is synthesized
    if absolute:
        settings = replace(settings, output=settings.output.absolute(), cache=settings.cache.absolute())
    dest = settings.output / pub.slug
    lexicon_file = project_lexicon_file(settings.lexicon)
    print_ = fingerprint(path, pub, settings, [lexicon_file] if lexicon_file and lexicon_file.is_file() else [])
    previous = read_manifest(dest)
    check_owner(previous, path, dest)
    if previous is not None and not settings.force and up_to_date(dest, previous, print_):
        log.info("%s: unchanged since the last publish; left as it is", path)
        return unchanged(path, dest, previous, time.perf_counter() - started)
    engine = engines.get(settings, pub.metadata.language)
    project = load_lexicon(lexicon_file) if lexicon_file is not None else Lexicon()
    lexicon = project.merged(from_mapping(pub.metadata.lexicon, str(path)))
    narrator = engine.narrator if settings.announce else None
    pub = prepare(pub, settings, lexicon, narrator=narrator, phonemes=engine.phonemes)
    voice = Voice(engine.name, engine.narrator, engine.cache_key)
    clips = ClipCache(settings.cache if settings.use_cache else scratch)
    return Plan(
        path=path, pub=pub, settings=settings, voice=voice, fingerprint=print_, previous=previous, clips=clips,
        epoch=source_date_epoch(),
    )  # fmt: skip


def unchanged(path: Path, dest: Path, manifest: Manifest, seconds: float) -> SourceResult:
    """What an unchanged publication holds, read back from its manifest."""

    def audio_file(record: ManifestAudio) -> AudioFile:
        return AudioFile(dest / record.path, record.chapter, record.title, record.duration)

    return SourceResult(
        source=path,
        slug=dest.name,
        state="unchanged",
        folder=dest,
        files=tuple(dest / name for name in manifest.files),
        epub=dest / layout.file_name("epub", dest.name),
        audio=tuple(audio_file(a) for a in manifest.audio),
        full=audio_file(manifest.full),
        cues=manifest.cues,
        duration=manifest.duration,
        chapters=manifest.chapters,
        sentences=manifest.sentences,
        timings={"read": seconds, "total": seconds},
    )
