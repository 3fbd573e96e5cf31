"""Speech engines for a run: each configuration loaded once, and a voice that does not speak the
source's language replaced by eSpeak NG in that language."""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from publisher.errors import EngineError
from publisher.model.publication import Publication
from publisher.pipeline.memo import edited_since_published
from publisher.settings import Settings
from publisher.speech.ahead import Speaker
from publisher.speech.engines import ENGINES, Engine, EngineOptions, EngineSpec, get_engine
from publisher.speech.voices import find_piper_voice

log = logging.getLogger(__name__)


#: the processes this one started ahead, each holding a voice loaded, kept for its later runs (a
#: studio worker, a script publishing again and again): at most KEPT, the least recently used ended
_SPEAKERS: OrderedDict[EngineSpec, Speaker] = OrderedDict()
KEPT = 2


#: a process started before the run knew which voice it needs (start_spare), not yet given one
_SPARE: list[Speaker] = []


def end_speakers() -> None:
    """End the processes this one started ahead (a command line ending: none outlives it, and
    their CPU time is counted as its own)."""
    drop_spare()
    while _SPEAKERS:
        _SPEAKERS.popitem()[1].close()


def start_spare(sources: list[Path], settings: Settings) -> None:
    """Start a synthesis process before the run has read anything, importing its engine's
    libraries while this process imports the pipeline and reads (0.1 s of a one-sentence edit), when
    the run is likely an edit: its engine is worth loading ahead, it synthesizes on this machine,
    no voice is kept loaded already, and some source's file is newer than its last publish's note.
    `start_ahead` gives it its voice; unused, `drop_spare` ends it."""
    if not _spare_wanted(settings):
        return
    with contextlib.suppress(OSError):  # a folder it cannot list: the run reports that itself
        for path in sources:
            files = path.iterdir() if path.is_dir() else [path]
            if any(f.is_file() and edited_since_published(f, settings) for f in files):
                _SPARE.append(Speaker(settings.engine))
                return


def ready_spare(settings: Settings) -> None:
    """Start a spare now, for a run expected later (a watch between its rounds), unless a voice is
    kept loaded already or a spare waits: the next edit then finds the engine's libraries imported
    (about 0.15 s of the first edit after a watch's first publish). A recorded narration needs none."""
    if not settings.narration and _spare_wanted(settings):
        _SPARE.append(Speaker(settings.engine))


def _spare_wanted(settings: Settings) -> bool:
    """Whether a spare is worth starting for `settings`: its engine is worth loading ahead (Piper),
    it synthesizes on this machine, and no voice is kept loaded already nor a spare waiting."""
    from publisher.pipeline.executor import cluster_address

    info = ENGINES.get(settings.engine)
    return bool(info and info.ahead and not _SPEAKERS and not _SPARE and cluster_address(settings.cluster) is None)


def drop_spare() -> None:
    """End the spare process a run did not use (its sources were unchanged, or another voice)."""
    while _SPARE:
        _SPARE.pop().close()


class EngineCache:
    """Engines are expensive to load (Piper: ~0.5 s): build each configuration once per run.

    With `ahead` (synthesis on this machine), a voice can also be loaded ahead of its sentences in
    a process of its own (speech/ahead.py), which this process keeps for its later runs.
    """

    def __init__(self, ahead: bool = False) -> None:
        self._engines: dict[tuple[str, str | None, str, float], Engine] = {}
        self._specs: dict[int, EngineSpec] = {}
        self.ahead = ahead

    def start_ahead(self, engine: Engine) -> None:
        """Have `engine`'s voice loaded in a process of its own, unless one has it already, this
        process has it loaded, or it is quick to load (only engines with a `load` step are worth
        it: Piper)."""
        spec = self.spec(engine)
        if not self.ahead or spec is None or not engine.parallel or getattr(engine, "loaded", True):
            return
        if self.speaker(engine) is not None:
            return
        old = _SPEAKERS.pop(spec, None)
        if old is not None:  # ended, or its voice's files have changed since
            old.close()
        spare = _SPARE.pop() if _SPARE else None
        if spare is not None and spare.alive:  # started before the source was read: its libraries are in
            spare.assign(spec, engine.cache_key)
            _SPEAKERS[spec] = spare
        else:
            _SPEAKERS[spec] = Speaker(spec, engine.cache_key)
        while len(_SPEAKERS) > KEPT:
            _SPEAKERS.popitem(last=False)[1].close()

    def speaker(self, engine: Engine) -> Speaker | None:
        """The process holding `engine`'s voice, if one does (alive, the same voice)."""
        spec = self.spec(engine)
        if spec is None or not self.ahead:
            return None
        found = _SPEAKERS.get(spec)
        if found is None or not found.alive or found.cache_key != engine.cache_key:
            return None
        _SPEAKERS.move_to_end(spec)
        return found

    def spec(self, engine: Engine) -> EngineSpec | None:
        """How to build `engine` again in another process (for parallel synthesis)."""
        return self._specs.get(id(engine))

    def get(self, settings: Settings, language: str) -> Engine:
        """The engine for `settings`; a voice that does not speak `language` gives way to eSpeak NG."""
        key = (settings.engine, settings.voice, language, settings.speed)
        if key not in self._engines:
            options = EngineOptions(
                voice=settings.voice, language=language, speed=settings.speed, cache_dir=settings.cache,
                voices_dir=settings.voices_dir,
            )  # fmt: skip
            name = settings.engine
            engine = get_engine(name, options)
            if _primary(engine.language) != _primary(language) and name != "silent":
                # the voice does not speak the source's language: a Piper voice of the voices folder
                # that does, else eSpeak NG (a warning only when the user chose that voice)
                local = find_piper_voice(language, settings.voices_dir) if name == "piper" else None
                log.log(
                    logging.WARNING if settings.voice else logging.INFO,
                    "the %s voice speaks %s, not %s: narrating with %s instead",
                    name, engine.language, language, local.stem if local else f"eSpeak NG in {language}",
                )  # fmt: skip
                name = "piper" if local else "espeak"
                options = replace(options, voice=str(local) if local else None)
                engine = get_engine(name, options)
            self._specs[id(engine)] = EngineSpec(name, options)
            log.info("%s: narrated by %s (%s engine)", language, engine.narrator, name)
            self._engines[key] = engine
        return self._engines[key]


def other_voices(pub: Publication, main: Engine, engines: EngineCache, settings: Settings) -> dict[str, Engine]:
    """The voice of each other language some sentences are in (English credits of a publication in a
    language the publisher has no words for), when one that speaks it is installed; the sentences
    of a language without one are read by the main voice."""
    found: dict[str, Engine] = {}
    tried: set[str] = set()
    for sentence in pub.sentences():
        language = sentence.language
        if not language or language in tried:
            continue
        tried.add(language)
        if _primary(language) == _primary(main.language):
            continue
        try:
            engine = engines.get(settings, language)
        except EngineError as exc:
            log.info("no %s voice (%s): the %s voice reads the sentences in %s", language, exc, main.narrator, language)
            continue
        if _primary(engine.language) == _primary(language):
            found[language] = engine
    return found


def _primary(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()
