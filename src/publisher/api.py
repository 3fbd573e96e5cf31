"""The library API: what the command line, the studio and your own Python code call.

Publish sources with typed settings and get a typed result per source; follow progress events;
stop a run with a cancellation token; list, check, remove and preview publications::

    from publisher import api

    settings = api.load_settings().override(engine="espeak", output="output")
    batch = api.publish(["sources/putin-today.txt"], settings, progress=print)
    for result in batch.results:
        print(result.slug, result.state, result.synthesized, result.reused, result.timings)

Settings are layered once: defaults < `publisher.toml` (`load_settings`) < each source's front
matter < what the caller sets with `Settings.override` (pinned: front matter cannot change it).
Nothing here prints; errors are `PublisherError`s with a message and an exit code.
"""

from __future__ import annotations

import functools
import io
import shutil
import wave
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher.errors import (
    BatchError,
    Cancelled,
    ConfigError,
    EngineError,
    PublisherError,
    RenderError,
    SourceError,
    ValidationError,
)
from publisher.manifest import Manifest, load_entries, read_manifest
from publisher.model.catalogue import CatalogueEntry
from publisher.model.publication import Publication
from publisher.pipeline.results import BatchResult, SourceResult
from publisher.progress import STAGES, CancelToken, Progress, ProgressCallback, Stage
from publisher.settings import Settings, load_settings
from publisher.validate.report import Report

__all__ = [
    "STAGES",
    "BatchError",
    "BatchResult",
    "CancelToken",
    "Cancelled",
    "CatalogueEntry",
    "ConfigError",
    "Engine",
    "EngineError",
    "Manifest",
    "Progress",
    "ProgressCallback",
    "Publication",
    "PublisherError",
    "RenderError",
    "Report",
    "Settings",
    "SourceError",
    "SourceResult",
    "Stage",
    "ValidationError",
    "catalogue",
    "check",
    "engines",
    "find_sources",
    "load_settings",
    "media_type",
    "proof",
    "publication",
    "publish",
    "read",
    "remove",
    "score_clip",
    "speak",
    "voices",
    "watch",
]


def publish(
    sources: Iterable[str | Path],
    settings: Settings | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    on_result: Callable[[SourceResult], None] | None = None,
) -> BatchResult:
    """Publish every source (files, or folders of them) into `settings.output/<slug>/`, then write
    the catalogue (feeds, OPDS, index page) of everything in `settings.output`.

    A source that fails is reported in its result (`state == "failed"`, `error`) and leaves its
    earlier outputs untouched; the others go on. `progress` is called with every Progress event (in
    this thread); `cancel` stops the run at the next task (`BatchResult.cancelled`): what was
    finished is kept, nothing half-made is. `on_result` hears of each source as it finishes.
    """
    from publisher.pipeline.engines import drop_spare, start_spare

    paths, settings = [Path(s) for s in sources], settings or Settings()
    start_spare(paths, settings)  # an edit's voice starts loading while the pipeline is imported
    try:
        from publisher.pipeline.publish import publish_all

        return publish_all(paths, settings, progress, cancel, on_result)
    finally:
        drop_spare()


def watch(
    sources: Iterable[str | Path],
    settings: Settings | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    on_result: Callable[[SourceResult], None] | None = None,
    on_change: Callable[[list[Path]], None] | None = None,
    poll: float = 0.1,
) -> Iterator[BatchResult | PublisherError]:
    """Publish `sources` as `publish` does, then again each time one of their files changes (a
    source saved, added to or taken out of a named folder, or removed; the lexicon; the cover and
    recordings the settings name), until `cancel` is set: a generator of each round's BatchResult,
    or of the error that stopped a round (a named source gone): the watch goes on after either.

    Files are looked at every `poll` seconds; `on_change` hears which changed before the round. The
    voice stays loaded in its process between rounds (an edit costs the sentence and the render),
    and ends with the watch. Settings are those given: a changed `publisher.toml` needs a new watch.
    """
    from publisher.pipeline.engines import end_speakers
    from publisher.pipeline.watch import watch as watching

    paths, settings = [Path(s) for s in sources], settings or Settings()
    try:
        yield from watching(
            paths, settings, lambda: publish(paths, settings, progress=progress, cancel=cancel, on_result=on_result),
            cancel, on_change, poll,
        )  # fmt: skip
    finally:
        end_speakers()


@dataclass(frozen=True)
class Engine:
    """A speech engine `Settings.engine` may name: what it is, whether it runs offline, and why it
    cannot be used here (None when it can)."""

    name: str
    summary: str
    offline: bool
    problem: str | None


def engines() -> list[Engine]:
    """Every speech engine, in the order `publisher engines` lists them, each probed here."""
    from publisher.speech.engines import ENGINES

    return [Engine(info.name, info.summary, info.offline, info.probe()) for info in ENGINES.values()]


def voices(engine: str, voices_dir: str | Path | None = None) -> list[str]:
    """The voices `engine` has here (Piper: the bundled voice and those in `voices_dir`), as
    `Settings.voice` names them; EngineError for an unknown or unusable engine."""
    from publisher.speech.engines import ENGINES

    info = ENGINES.get(engine)
    if info is None:
        raise EngineError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    problem = info.probe()
    if problem is not None:
        raise EngineError(f"{engine}: {problem}")
    return info.voices(Path(voices_dir) if voices_dir else None)


def find_sources(paths: Iterable[str | Path]) -> list[Path]:
    """The sources `publish` would take from `paths`: files as named, and every readable source in
    named folders (sorted; hidden files, `_drafts` and READMEs left out)."""
    from publisher.pipeline.publish import find_sources as found

    return found([Path(p) for p in paths])


def read(source: str | Path, settings: Settings | None = None) -> tuple[Publication, Settings]:
    """Read one source without publishing it: its Publication (as read, before the prepare stage)
    and the settings it would be published with (its front matter layered in)."""
    from publisher.pipeline.plan import read as read_one

    return read_one(Path(source), settings or Settings())


def catalogue(output: str | Path) -> list[CatalogueEntry]:
    """Every complete publication in `output`, newest first (read from their manifests)."""
    return load_entries(Path(output))


def publication(output: str | Path, slug: str) -> Manifest | None:
    """What `output/<slug>/` holds and was made from (its manifest), or None if nothing is published there."""
    return read_manifest(Path(output) / slug)


def remove(slug: str, settings: Settings, progress: ProgressCallback | None = None) -> bool:
    """Delete the publication `slug` from `settings.output` (its folder) and write the catalogue
    again without it; False if there was none. Holds the output folder's lock, as a publish does."""
    from publisher.pipeline.publish import write_catalogue
    from publisher.pipeline.staging import output_lock
    from publisher.text.slugs import slugify

    if slugify(slug) != slug:
        raise ConfigError(f"{slug!r} is not a publication's name (a slug: lower-case letters, digits, hyphens)")
    folder = settings.output / slug
    with output_lock(settings.output):
        if read_manifest(folder) is None:
            return False
        trash = folder.with_name(f".{slug}.tmp-removed")
        folder.rename(trash)  # out of the catalogue's sight at once, then gone
        shutil.rmtree(trash, ignore_errors=True)
        write_catalogue(settings.output, settings, progress)
    return True


def media_type(name: str) -> str:
    """The media type a published file is served with (`name`: its path inside the output folder,
    so `feed.xml` and `<slug>/feed.xml` are podcast feeds and `opds.xml` an OPDS catalogue)."""
    from publisher.model.layout import file_type

    return file_type(name)


def check(
    paths: Iterable[str | Path], *, ace: bool = True, max_wer: float | None = None, sources: Iterable[Path] = ()
) -> list[Report]:
    """Validate published outputs as `publisher check` does (EPUBCheck, DAISY Ace, media overlays,
    ID3 frames, DAISY, audiobook packages, feeds, OPDS, proof reports); one Report per check."""
    from publisher.validate.run import check_paths

    return check_paths([Path(p) for p in paths], ace=ace, max_wer=max_wer, sources=list(sources) or None)


def proof(
    folder: str | Path, settings: Settings | None = None, *, model: str | None = None, threshold: float | None = None
) -> Any:
    """Proof-listen one publication folder as `publisher proof` does: transcribe its full-length MP3
    offline (Whisper; the `proof` extra), score each sentence's written words against its audio,
    write proof.json and proof.html into the folder, and return the report (`.flagged`: the
    sentences whose confidence reaches `threshold` (default 0.4), surest first). One sentence is
    scored on its own by `publisher.proof.score_clip` (for instance on `speak`'s WAV)."""
    from publisher.prepare.lexicon import load_project_lexicon
    from publisher.proof.asr import Decoding, require_extra
    from publisher.proof.report import proof_publication, write_report

    require_extra()
    settings = settings or Settings()
    folder = Path(folder)
    lexicon = load_project_lexicon(settings.lexicon)
    from publisher.proof.verdict import THRESHOLD

    decoding = Decoding(model) if model else None
    report = proof_publication(folder, settings.cache, lexicon, decoding, THRESHOLD if threshold is None else threshold)
    write_report(report, folder)
    return report


def speak(
    text: str, settings: Settings | None = None, *, language: str | None = None, lexicon: dict[str, str] | None = None
) -> bytes:
    """One sentence as the publication would say it: normalised for `language` (default: the
    settings'), with the project's lexicon and `lexicon`'s entries applied, spoken by the settings'
    engine and voice (the clip cache is used). Returns a WAV file's bytes (mono, 16-bit)."""
    from publisher.prepare.lexicon import from_mapping, load_project_lexicon
    from publisher.prepare.normalise import spoken_sentence
    from publisher.speech.cache import ClipCache
    from publisher.speech.narrate import TIMELINE_RATE, Clip
    from publisher.speech.narrate import speak as speak_clip

    settings = settings or Settings()
    language = language or settings.language
    engine = _engines().get(settings, language)
    words = load_project_lexicon(settings.lexicon).merged(from_mapping(lexicon or {}, "lexicon"))
    spoken = spoken_sentence(text, language, words, engine.phonemes)
    cache = ClipCache(settings.cache)
    key = cache.key(engine.cache_key, spoken)
    if settings.use_cache and cache.has(key):
        pcm = cache.get(key)
    else:
        pcm = speak_clip(engine, Clip(key, "preview", spoken))
        if settings.use_cache:
            cache.put(key, pcm)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(TIMELINE_RATE)
        wav.writeframes(pcm)
    return out.getvalue()


@functools.lru_cache(maxsize=1)
def _engines() -> Any:
    """This process's engines for `speak` (a voice loads once, not at every sentence heard)."""
    from publisher.pipeline.engines import EngineCache

    return EngineCache()


def score_clip(audio: Path | bytes, text: str, language: str = "en", settings: Settings | None = None) -> Any:
    """How surely one sentence's audio (a file, or `speak`'s WAV bytes) says `text`, as
    proof-listening judges it: `.flagged`, `.confidence` (0–1), `.reason`, `.heard`, `.words`
    (the `proof` extra; the Whisper model loads once per process, from `settings.cache`)."""
    from publisher.proof import score_clip as score
    from publisher.proof.asr import require_extra

    require_extra()  # without the extra: ProofUnavailable (exit code 6) with the install command, not an ImportError
    cache = (settings or Settings()).cache
    return score(audio, text, language, cache)
