"""Speech engines for a run: each configuration loaded once, and a voice that does not speak the
source's language replaced by eSpeak NG in that language."""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import replace

from publisher.errors import EngineError
from publisher.model.publication import Publication
from publisher.settings import Settings
from publisher.speech.ahead import Speaker
from publisher.speech.engines import Engine, EngineOptions, EngineSpec, get_engine
from publisher.speech.voices import find_piper_voice

log = logging.getLogger(__name__)


#: the processes this one started ahead, each holding a voice loaded, kept for its later runs (a
#: studio worker, a script publishing again and again): at most KEPT, the least recently used ended
_SPEAKERS: OrderedDict[EngineSpec, Speaker] = OrderedDict()
KEPT = 2


def end_speakers() -> None:
    """End the processes this one started ahead (a command line ending: none outlives it, and
    their CPU time is counted as its own)."""
    while _SPEAKERS:
        _SPEAKERS.popitem()[1].close()


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
