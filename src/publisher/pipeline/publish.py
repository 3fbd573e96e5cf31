"""The pipeline: read → narrate → render → move into output/ atomically, one source at a time."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from publisher import __version__
from publisher.audio.marks import full_cues
from publisher.audio.master import AudioFile, Master, encode_embedded_audio, make_masters, write_audio
from publisher.audio.segments import Placement
from publisher.errors import PublisherError, RenderError, SourceError
from publisher.formats.book.epub import ReadAloud, identifier, modified_time, write_epub
from publisher.formats.captions import chapters_json, write_vtt
from publisher.formats.context import RenderContext
from publisher.formats.cover import Cover, load_cover
from publisher.formats.registry import FORMAT_RENDERERS
from publisher.formats.web.catalogue import write_catalogue
from publisher.model.publication import Metadata, Publication
from publisher.model.timeline import ChapterMark, Cue, Narration
from publisher.pipeline.manifest import MANIFEST, read_manifest
from publisher.readers import is_source, read_source
from publisher.readers.common import place_notes
from publisher.settings import Settings, source_date_epoch
from publisher.speech.cache import ClipCache
from publisher.speech.credits import add_front_matter
from publisher.speech.engines import Engine, EngineOptions, get_engine
from publisher.speech.lexicon import Lexicon, from_mapping, load_lexicon
from publisher.speech.narrate import count_sentences, default_jobs, narrate
from publisher.speech.normalise import prepare_spoken
from publisher.text import slugify

log = logging.getLogger(__name__)

#: called with the number of sentences to narrate; returns a per-sentence tick and a close()
ProgressFactory = Callable[[str, int], tuple[Callable[[int], None], Callable[[], None]]]

LOCK_NAME = ".publisher.lock"


@dataclass
class PublishResult:
    """What one source became."""

    source: Path
    slug: str
    folder: Path
    epub: Path
    audio: list[AudioFile]
    full: AudioFile
    cues: list[Cue]  # every sentence where it is heard in the full-length file
    duration: float
    seconds: float
    sentences: int
    chapters: int
    skipped: bool = False  # unchanged since the last publish: nothing was rendered
    synthesized: int = 0  # sentences synthesized in this run (the others came from the cache)


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


class EngineCache:
    """Engines are expensive to load (Piper: ~0.5 s): build each configuration once per run."""

    def __init__(self) -> None:
        self._engines: dict[tuple[str, str | None, str, float], Engine] = {}
        self._specs: dict[int, tuple[str, EngineOptions]] = {}

    def spec(self, engine: Engine) -> tuple[str, EngineOptions] | None:
        """How to build `engine` again in another process (for parallel synthesis)."""
        return self._specs.get(id(engine))

    def get(self, settings: Settings, language: str) -> Engine:
        """The engine for `settings`; a voice that does not speak `language` gives way to eSpeak NG."""
        key = (settings.engine, settings.voice, language, settings.speed)
        if key not in self._engines:
            options = EngineOptions(
                voice=settings.voice, language=language, speed=settings.speed, cache_dir=settings.cache
            )
            engine = get_engine(settings.engine, options)
            if _primary(engine.language) != _primary(language) and settings.engine != "silent":
                log.warning(
                    "the %s voice speaks %s, not %s: narrating with eSpeak NG in %s instead",
                    settings.engine, engine.language, language, language,
                )  # fmt: skip
                options = EngineOptions(language=language, speed=settings.speed, cache_dir=settings.cache)
                engine = get_engine("espeak", options)
                self._specs[id(engine)] = ("espeak", options)
            else:
                self._specs[id(engine)] = (settings.engine, options)
            self._engines[key] = engine
        return self._engines[key]


def _primary(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()


def load_project_lexicon(settings: Settings, cwd: Path | None = None) -> Lexicon:
    """The lexicon file named in settings, else lexicon.txt / lexicon.pls in the working folder."""
    if settings.lexicon is not None:
        return load_lexicon(settings.lexicon)
    for name in ("lexicon.txt", "lexicon.pls"):
        candidate = (cwd or Path.cwd()) / name
        if candidate.is_file():
            return load_lexicon(candidate)
    return Lexicon()


@contextlib.contextmanager
def output_lock(output: Path) -> Iterator[None]:
    """One publisher run per output folder at a time."""
    output.mkdir(parents=True, exist_ok=True)
    with open(output / LOCK_NAME, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise PublisherError(
                f"another publisher run is writing to {output}; wait for it to finish", path=None
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_leftovers(output: Path) -> None:
    """Clear what a killed run (SIGKILL, power cut) left behind: staging folders are never complete,
    so they go; a previous good output caught between the two renames of replace_folder is put back.

    Called with the output lock held, so no other run can be using them.
    """
    for leftover in sorted(output.glob(".*.tmp-*")):
        if not leftover.is_dir():
            continue
        for old in leftover.glob(".old-*"):
            dest = output / old.name.removeprefix(".old-")
            if not dest.exists():
                log.warning("restoring %s, which an interrupted run had moved aside", dest)
                os.replace(old, dest)
        log.info("removing %s, left behind by an interrupted run", leftover)
        shutil.rmtree(leftover, ignore_errors=True)


def replace_folder(staging: Path, dest: Path) -> None:
    """Move a complete `staging` folder to `dest`, replacing the old one only once all is ready."""
    old = None
    if dest.exists():
        old = staging.parent / f".old-{dest.name}"
        os.replace(dest, old)
    try:
        os.replace(staging, dest)
    except OSError:
        if old is not None:
            os.replace(old, dest)  # put the previous good output back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def effective_settings(base: Settings, meta: Metadata, flags: dict[str, Any]) -> Settings:
    """defaults < publisher.toml (already in `base`) < front matter < command-line flags."""
    front = {"engine": meta.engine, "voice": meta.voice, **meta.settings}
    settings = base.with_overrides(front, f"{meta.title}: front matter")
    return settings.with_overrides(flags, "command line").for_profile()


#: settings that change only the catalogue (feeds, OPDS, index page) or how a run works, not a publication
NOT_FINGERPRINTED = {
    "base_url", "site_title", "category", "explicit", "owner_email", "jobs", "force", "output", "use_cache", "cache",
}  # fmt: skip


def fingerprint(path: Path, pub: Publication, settings: Settings, lexicon_files: list[Path]) -> str:
    """Everything an output depends on, hashed: a publication whose fingerprint has not changed
    since its last publish is not rendered again."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}:{len(data)}:".encode())
        digest.update(data)

    add("version", __version__.encode())
    add("source", path.read_bytes())
    relevant = {k: v for k, v in asdict(settings).items() if k not in NOT_FINGERPRINTED}
    add("settings", json.dumps(relevant, default=str, sort_keys=True).encode())
    add("epoch", str(source_date_epoch()).encode())
    images = [Path(b.src) for c in pub.chapters for b in c.blocks if b.kind == "image" and b.src]
    for extra in [*([pub.metadata.cover] if pub.metadata.cover else []), *images, *lexicon_files]:
        add(str(extra), extra.read_bytes())
    add("voice", voice_identity(settings).encode())
    return digest.hexdigest()


def voice_identity(settings: Settings) -> str:
    """The voice's identity without loading it: a Piper model's path, size and modification time,
    and the version of the patch that makes it deterministic (a new patch speaks differently)."""
    if settings.engine != "piper":
        return f"{settings.engine}:{settings.voice}"
    from publisher.speech.engines.determinism import NOISE_SEED, PATCH_VERSION
    from publisher.speech.engines.piper import default_voice

    model = Path(settings.voice).expanduser() if settings.voice else default_voice()
    try:
        stat = model.stat()
    except OSError:
        return f"piper:{model}:missing"
    return f"piper:{model.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{PATCH_VERSION}:{NOISE_SEED}"


def _lexicon_files(settings: Settings) -> list[Path]:
    if settings.lexicon is not None:
        return [settings.lexicon] if settings.lexicon.is_file() else []
    return [p for p in (Path.cwd() / "lexicon.txt", Path.cwd() / "lexicon.pls") if p.is_file()]


def _up_to_date(dest: Path, manifest: dict[str, Any], print_: str) -> bool:
    """Whether `dest`, described by its `manifest`, holds a complete publication with this fingerprint."""
    if manifest.get("fingerprint") != print_:
        return False
    for name, size in manifest.get("files", {}).items():
        file = dest / name
        if not file.is_file() or file.stat().st_size != size:
            return False
    return True


def _result_from_manifest(path: Path, dest: Path, manifest: dict[str, Any], started: float) -> PublishResult:
    def audio_file(entry: dict[str, Any]) -> AudioFile:
        return AudioFile(dest / entry["path"], entry["chapter"], entry["title"], entry["duration"])

    return PublishResult(
        source=path,
        slug=dest.name,
        folder=dest,
        epub=dest / f"{dest.name}.epub",
        audio=[audio_file(a) for a in manifest["audio"]],
        full=audio_file(manifest["full"]),
        duration=manifest["duration"],
        seconds=time.perf_counter() - started,
        cues=[Cue(*c) for c in manifest["cues"]],
        sentences=manifest["sentences"],
        chapters=manifest["chapters"],
        skipped=True,
    )


def _write_manifest(
    staging: Path,
    result: PublishResult,
    print_: str,
    meta: dict[str, Any],
    marks: list[ChapterMark],
    formats: dict[str, Path],
    levels: dict[str, Any],
) -> None:
    def entry(a: AudioFile) -> dict[str, Any]:
        return {
            "path": str(a.path.relative_to(result.folder)),
            "chapter": a.chapter,
            "title": a.title,
            "duration": a.duration,
        }

    files = {str(p.relative_to(staging)): p.stat().st_size for p in sorted(staging.rglob("*")) if p.is_file()}
    manifest = {
        "fingerprint": print_,
        "version": __version__,
        "metadata": meta,
        "duration": result.duration,
        "sentences": result.sentences,
        "chapters": result.chapters,
        "audio": [entry(a) for a in result.audio],
        "full": entry(result.full),
        "marks": [{"title": m.title, "start": round(m.start, 3), "end": round(m.end, 3)} for m in marks],
        "formats": {kind: str(path.relative_to(staging)) for kind, path in sorted(formats.items())},
        "cues": [[c.sentence_id, c.text, c.start, c.end] for c in result.cues],
        "levels": levels,  # each chapter's gain, a starting point for the next publish
        "files": files,
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def _metadata(
    pub: Publication, engine: Engine, book_id: str, modified: str, previous: dict[str, Any] | None, cover_name: str
) -> dict[str, Any]:
    """What the catalogue needs to know about a publication (kept in its manifest)."""
    meta = pub.metadata
    if meta.date:
        published = f"{meta.date}T00:00:00Z"
    elif previous and isinstance(previous.get("metadata"), dict) and previous["metadata"].get("published"):
        published = previous["metadata"]["published"]  # first publish: an episode's date never moves
    else:
        published = modified
    return {
        "title": meta.title,
        "authors": meta.authors,
        "language": meta.language,
        "identifier": book_id,
        "date": meta.date,
        "description": meta.description,
        "publisher": meta.publisher,
        "rights": meta.rights,
        "subjects": meta.subjects,
        "narrator": engine.narrator,
        "cover": cover_name,
        "published": published,
        "modified": modified,
    }


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
    output = settings.output
    dest = output / pub.slug
    print_ = fingerprint(path, pub, settings, _lexicon_files(settings))
    previous = read_manifest(dest)
    if previous is not None and not settings.force and _up_to_date(dest, previous, print_):
        log.info("%s: unchanged since the last publish; left as it is", path)
        return _result_from_manifest(path, dest, previous, started)

    engine = engines.get(settings, pub.metadata.language)
    add_front_matter(pub, engine.narrator if settings.announce else None, closing=settings.announce)
    lexicon = load_project_lexicon(settings).merged(from_mapping(pub.metadata.lexicon, str(path)))
    prepare_spoken(pub, lexicon, engine.phonemes)
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{pub.slug}.tmp-", dir=output) as tmp:
        work = Path(tmp) / "work"
        staging = Path(tmp) / pub.slug
        work.mkdir()
        staging.mkdir()
        cache = ClipCache(settings.cache if settings.use_cache else work / "clips")
        jobs = settings.jobs or default_jobs()
        narration = _narrate(pub, engine, settings, work, cache, jobs, engines.spec(engine), progress)
        cover = load_cover(pub.metadata)
        (staging / f"cover.{cover.extension}").write_bytes(cover.data)
        hints = _previous_gains(previous, settings.profile)
        store = cache.segments if settings.use_cache else work / "segments"
        audio, full, masters, marks, placements = render_audio(pub, narration, cover, settings, staging, hints, store)
        epoch = source_date_epoch()
        epub_path = staging / f"{pub.slug}.epub"
        write_epub(pub, cover, epub_path, epoch, certifier=settings.publisher)
        formats: dict[str, Path] = {
            "epub": epub_path,
            "mp3": full.path,
            "m4b": staging / f"{pub.slug}.m4b",
            "vtt": staging / f"{pub.slug}.vtt",
            "chapters": staging / f"{pub.slug}.chapters.json",
            "cover": staging / f"cover.{cover.extension}",
        }
        if settings.read_aloud:
            embedded = {a.chapter: a.path for a in audio}
            if settings.read_aloud_bitrate:
                embedded = encode_embedded_audio(narration, masters, placements, work / "embedded", settings)
            read_aloud = ReadAloud(narration, embedded)
            formats["read_aloud_epub"] = staging / f"{pub.slug}-read-aloud.epub"
            write_epub(pub, cover, formats["read_aloud_epub"], epoch, settings.publisher, read_aloud)
        book_id = identifier(pub)
        modified = modified_time(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")
        ctx = RenderContext(
            pub, narration, settings, cover, staging, work, audio, full, marks, book_id, epoch, modified
        )
        for render in FORMAT_RENDERERS:
            formats.update(render(ctx))

        def moved(a: AudioFile) -> AudioFile:
            return AudioFile(dest / a.path.relative_to(staging), a.chapter, a.title, a.duration, a.loudness)

        result = PublishResult(
            source=path,
            slug=pub.slug,
            folder=dest,
            epub=dest / epub_path.name,
            audio=[moved(a) for a in audio],
            full=moved(full),
            duration=narration.duration,
            seconds=0.0,
            cues=full_cues(narration),
            sentences=count_sentences(pub),
            chapters=len(pub.chapters),
            synthesized=narration.synthesized,
        )
        meta = _metadata(pub, engine, book_id, modified, previous, ctx.cover_name)
        levels = {"profile": settings.profile, "gains": {str(i): round(m.gain, 2) for i, m in masters.items()}}
        _write_manifest(staging, result, print_, meta, marks, formats, levels)
        try:
            replace_folder(staging, dest)
        except OSError as exc:
            raise RenderError(f"cannot move the finished publication into place: {exc}", path=dest) from exc
    result.seconds = time.perf_counter() - started
    return result


def _previous_gains(previous: dict[str, Any] | None, profile: str) -> dict[int, float]:
    """Each chapter's gain in the last publish of this publication, if it used the same profile."""
    levels = previous.get("levels") if previous else None
    if not isinstance(levels, dict) or levels.get("profile") != profile or not isinstance(levels.get("gains"), dict):
        return {}
    try:
        return {int(index): float(gain) for index, gain in levels["gains"].items()}
    except (TypeError, ValueError):
        return {}


def render_audio(
    pub: Publication,
    narration: Narration,
    cover: Cover,
    settings: Settings,
    staging: Path,
    hints: dict[int, float],
    store: Path,
) -> tuple[list[AudioFile], AudioFile, dict[int, Master], list[ChapterMark], dict[int, Placement]]:
    """Every audio output: chapter MP3s + VTTs, full MP3 with chapters, M4B, captions, chapters JSON.

    `hints` are the chapters' gains in the last publish (see make_masters); encoded segments are
    kept in `store`.
    """
    masters = make_masters(narration, settings, hints)
    audio, full, masters, marks, placements = write_audio(pub, narration, masters, cover, staging, settings, store)
    for track, mp3 in zip(narration.tracks, audio, strict=True):
        write_vtt(track.cues, pub.metadata.language, mp3.path.with_suffix(".vtt"))
    write_vtt(full_cues(narration), pub.metadata.language, staging / f"{pub.slug}.vtt")
    (staging / f"{pub.slug}.chapters.json").write_text(chapters_json(marks, pub.metadata.title), encoding="utf-8")
    return audio, full, masters, marks, placements


def _narrate(
    pub: Publication,
    engine: Engine,
    settings: Settings,
    work: Path,
    cache: ClipCache,
    jobs: int,
    spec: tuple[str, EngineOptions] | None,
    progress: ProgressFactory | None,
) -> Narration:
    if progress is None:
        return narrate(pub, engine, settings, work, cache, jobs, spec)
    tick, close = progress(pub.slug, count_sentences(pub))
    try:
        return narrate(pub, engine, settings, work, cache, jobs, spec, tick)
    finally:
        close()


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
                slug = slugify(source.stem)
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
