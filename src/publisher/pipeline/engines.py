"""Speech engines for a run: each configuration loaded once, and a voice that does not speak the
source's language replaced by eSpeak NG in that language."""

from __future__ import annotations

import logging
from dataclasses import replace

from publisher.settings import Settings
from publisher.speech.engines import Engine, EngineOptions, EngineSpec, get_engine
from publisher.speech.voices import find_piper_voice

log = logging.getLogger(__name__)


class EngineCache:
    """Engines are expensive to load (Piper: ~0.5 s): build each configuration once per run."""

    def __init__(self) -> None:
        self._engines: dict[tuple[str, str | None, str, float], Engine] = {}
        self._specs: dict[int, EngineSpec] = {}

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


def _primary(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()
