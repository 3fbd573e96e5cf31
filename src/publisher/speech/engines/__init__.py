"""The engine protocol and the registry of engines (piper, espeak, gtts, silent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from publisher.errors import EngineError


@dataclass(frozen=True)
class Audio:
    """One synthesized clip: 16-bit signed little-endian mono PCM."""

    pcm: bytes
    sample_rate: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.pcm) / 2 / self.sample_rate


@dataclass(frozen=True)
class EngineOptions:
    """What a caller may ask of any engine."""

    voice: str | None = None
    language: str = "en"
    speed: float = 1.0
    cache_dir: Path | None = None  # where an engine may keep derived files (Piper's patched model)
    threads: int = 0  # threads one engine may use (0: the runtime's default)
    voices_dir: Path | None = None  # a folder of Piper voices (<name>.onnx + .onnx.json), chosen by name


class Engine(Protocol):
    """A speech engine: turns one sentence into audio. Engines know nothing of chapters."""

    name: str
    phonemes: bool  # reads inline IPA in [[ … ]] (Piper does)
    language: str  # BCP 47-ish language the voice speaks ("en-us")
    parallel: bool  # worth running in several processes (slow, CPU-bound engines)
    cache_key: str  # identifies the voice and every setting that changes the sound

    @property
    def narrator(self) -> str:
        """Human name of the voice, for credits and metadata ("Joe (Piper, en_US)")."""
        ...

    def synthesize(self, text: str) -> Audio:
        """Speak `text` (one sentence); raise EngineError on failure."""
        ...


@dataclass(frozen=True)
class EngineInfo:
    """A registry entry: how to build an engine and how to tell whether it works here."""

    name: str
    summary: str
    offline: bool
    factory: Callable[[EngineOptions], Engine]
    probe: Callable[[], str | None]  # None if usable here, else why not
    voices: Callable[[Path | None], list[str]]  # given a Piper voices folder


def _piper(options: EngineOptions) -> Engine:
    from publisher.speech.engines.piper import PiperEngine

    return PiperEngine(options)


def _espeak(options: EngineOptions) -> Engine:
    from publisher.speech.engines.espeak import EspeakEngine

    return EspeakEngine(options)


def _gtts(options: EngineOptions) -> Engine:
    from publisher.speech.engines.gtts import GttsEngine

    return GttsEngine(options)


def _silent(options: EngineOptions) -> Engine:
    from publisher.speech.engines.silent import SilentEngine

    return SilentEngine(options)


def _probe(module: str) -> Callable[[], str | None]:
    def probe() -> str | None:
        import importlib

        return importlib.import_module(f"publisher.speech.engines.{module}").probe()

    return probe


def _voices(module: str) -> Callable[[Path | None], list[str]]:
    def voices(voices_dir: Path | None = None) -> list[str]:
        import importlib

        listed: list[str] = importlib.import_module(f"publisher.speech.engines.{module}").voices(voices_dir)
        return listed

    return voices


ENGINES: dict[str, EngineInfo] = {
    "piper": EngineInfo("piper", "Piper neural voices (offline; default)", True, _piper,
                        _probe("piper"), _voices("piper")),
    "espeak": EngineInfo("espeak", "eSpeak NG (offline, robotic, 100+ languages, very fast)", True,
                         _espeak, _probe("espeak"), _voices("espeak")),
    "gtts": EngineInfo("gtts", "Google Translate text-to-speech (online only)", False, _gtts,
                       _probe("gtts"), _voices("gtts")),
    "silent": EngineInfo("silent", "Silence timed like speech (for tests and dry runs)", True,
                         _silent, _probe("silent"), _voices("silent")),
}  # fmt: skip

OFFLINE_ENGINES = ", ".join(n for n, e in ENGINES.items() if e.offline and n != "silent")


def get_engine(name: str, options: EngineOptions) -> Engine:
    """Build the engine `name`, or raise EngineError naming the engines there are."""
    info = ENGINES.get(name)
    if info is None:
        raise EngineError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    return info.factory(options)
