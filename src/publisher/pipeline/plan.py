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
from publisher.model.timeline import RECORDED, AudioFile
from publisher.pipeline.engines import EngineCache, other_voices
from publisher.pipeline.fingerprint import extra_files, fingerprint, up_to_date
from publisher.pipeline.limits import check_limits
from publisher.pipeline.memo import SourceMemo
from publisher.pipeline.results import SourceResult
from publisher.pipeline.slugs import check_owner
from publisher.prepare import prepare
from publisher.prepare.lexicon import Lexicon, from_mapping, load_lexicon, project_lexicon_file
from publisher.readers import ReadOptions, read_source
from publisher.readers.common import cover_image
from publisher.settings import Settings, source_date_epoch
from publisher.speech.cache import ClipCache
from publisher.speech.narrate import Voice, speak_other_languages
from publisher.tempdirs import stable_name
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
    if layered.cover is not None:  # the caller's cover, instead of the source's
        cover = cover_image(layered.cover, str(layered.cover), path)
        pub = replace(pub, metadata=replace(pub.metadata, cover=cover))
    return pub, layered


def plan_source(
    path: Path, settings: Settings, engines: EngineCache, scratch: Path, absolute: bool = False
) -> Plan | SourceResult:
    """Read and prepare one source; a SourceResult instead when its fingerprint (text, settings,
    voice, lexicon, images) matches its last complete publish, which is left as it is. `scratch`
    holds the clips of a run without the cache; `absolute` makes every folder absolute (for
    processes that do not share this one's working directory)."""
    started = time.perf_counter()
    memo = SourceMemo(path, settings, absolute)
    known = memo.unchanged()  # the same file, settings, images, lexicon and voice as its last publish
    if known is not None:
        log.info("%s: unchanged since the last publish; left as it is", path)
        return unchanged(path, known[0], known[1], time.perf_counter() - started)
    pub, settings = read(path, settings)
    check_limits(pub, settings, path)  # before anything is synthesized
    if absolute:
        settings = replace(settings, output=settings.output.absolute(), cache=settings.cache.absolute())
    if settings.narration:  # a person's recording: found from any working directory, by any worker
        settings = replace(settings, narration=tuple(p.absolute() for p in settings.narration))
    dest = settings.output / pub.slug
    lexicon_file = project_lexicon_file(settings.lexicon)
    lexicon_files = [lexicon_file] if lexicon_file and lexicon_file.is_file() else []
    print_ = fingerprint(path, pub, settings, lexicon_files)
    memo.remember(print_, dest, settings, [(stable_name(f), f) for f in extra_files(pub, lexicon_files)])
    if settings.narration:
        from publisher.align.narration import recording_fingerprint  # only for a recorded source

        print_ = recording_fingerprint(print_, settings.narration)  # a new take publishes again
    previous = read_manifest(dest)
    check_owner(previous, path, dest)
    if previous is not None and not settings.force and up_to_date(dest, previous, print_):
        log.info("%s: unchanged since the last publish; left as it is", path)
        return unchanged(path, dest, previous, time.perf_counter() - started)
    project = load_lexicon(lexicon_file) if lexicon_file is not None else Lexicon()
    lexicon = project.merged(from_mapping(pub.metadata.lexicon, str(path)))
    clips = ClipCache(settings.cache if settings.use_cache else scratch)
    if settings.narration:  # a person's recording, aligned at render time: no voice is loaded
        pub, voice = _prepare_recorded(pub, settings, lexicon)
        return Plan(
            path=path, pub=pub, settings=settings, voice=voice, fingerprint=print_, previous=previous, clips=clips,
            epoch=source_date_epoch(),
        )  # fmt: skip
    engine = engines.get(settings, pub.metadata.language)
    if previous is not None:  # published before: likely a few sentences to speak (an edit)
        engines.start_ahead(engine)  # the voice loads while the source is prepared
    narrator = engine.narrator if settings.announce else None
    pub = prepare(pub, settings, lexicon, narrator=narrator, phonemes=engine.phonemes)
    others = other_voices(pub, engine, engines, settings)  # English credits read by an English voice
    speak_other_languages(pub, others, clips)
    voice = Voice(engine.name, engine.narrator, engine.cache_key, tuple((k, e.cache_key) for k, e in others.items()))
    return Plan(
        path=path, pub=pub, settings=settings, voice=voice, fingerprint=print_, previous=previous, clips=clips,
        epoch=source_date_epoch(),
    )  # fmt: skip


def _prepare_recorded(pub: Publication, settings: Settings, lexicon: Lexicon) -> tuple[Publication, Voice]:
    """A publication read by a person: the title page credits the narrator, no spoken credits or
    closing line are added to the reading, and the metadata credits the narrator (MARC role "nrt")."""
    from publisher.align.narration import default_narrator

    narrator = settings.narrator or default_narrator(pub.metadata.language)
    pub = prepare(pub, replace(settings, announce=False), lexicon, narrator=narrator, phonemes=False)
    contributors = (*pub.metadata.contributors, (narrator, "nrt"))
    pub = replace(pub, metadata=replace(pub.metadata, contributors=contributors))
    return pub, Voice(RECORDED, narrator, "")


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
