"""Speech engines for a run: each configuration loaded once, and a voice that does not speak the
source's language replaced by eSpeak NG in that language."""

from __future__ import annotations

import logging

from publisher.settings import Settings
from publisher.speech.engines import Engine, EngineOptions, get_engine

log = logging.getLogger(__name__)


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
