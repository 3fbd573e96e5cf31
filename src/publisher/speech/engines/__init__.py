"""The engine protocol and the registry of engines (piper, espeak, gtts, silent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

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


class EngineSpec(NamedTuple):
    """How to build an engine again in another process: its registry name and options."""

    name: str
    options: EngineOptions


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


class EngineModule(Protocol):
    """What each engine's module provides: the engine, whether it works here, and its voices."""

    def create(self, options: EngineOptions) -> Engine:
        """Build the engine."""
        ...

    def probe(self) -> str | None:
        """None if the engine is usable here, else why not."""
        ...

    def voices(self, voices_dir: Path | None = None) -> list[str]:
        """The voices it has here (Piper: also those in `voices_dir`)."""
        ...


@dataclass(frozen=True)
class EngineInfo:
    """A registry entry: what the engine is, and how to load its module (only when it is used:
    Piper's brings onnxruntime and numpy)."""

    name: str
    summary: str
    offline: bool
    load: Callable[[], EngineModule]
    ahead: bool = False  # its voice is slow to load: worth loading in a process of its own ahead of need

    def factory(self, options: EngineOptions) -> Engine:
        """Build the engine."""
        return self.load().create(options)

    def probe(self) -> str | None:
        """None if usable here, else why not."""
        return self.load().probe()

    def voices(self, voices_dir: Path | None = None) -> list[str]:
        """The voices it has here."""
        return self.load().voices(voices_dir)

    def warm(self) -> None:
        """Import what building the engine will need (a process started before it knows which
        voice: speech/ahead.py), when its module says what that is."""
        warm = getattr(self.load(), "warm", None)
        if warm is not None:
            warm()


def _piper() -> EngineModule:
    from publisher.speech.engines import piper

    return piper


def _espeak() -> EngineModule:
    from publisher.speech.engines import espeak

    return espeak


def _gtts() -> EngineModule:
    from publisher.speech.engines import gtts

    return gtts


def _silent() -> EngineModule:
    from publisher.speech.engines import silent

    return silent


ENGINES: dict[str, EngineInfo] = {
    "piper": EngineInfo("piper", "Piper neural voices (offline; default)", True, _piper, ahead=True),
    "espeak": EngineInfo("espeak", "eSpeak NG (offline, robotic, 100+ languages, very fast)", True, _espeak),
    "gtts": EngineInfo("gtts", "Google Translate text-to-speech (online only)", False, _gtts),
    "silent": EngineInfo("silent", "Silence timed like speech (for tests and dry runs)", True, _silent),
}

OFFLINE_ENGINES = ", ".join(n for n, e in ENGINES.items() if e.offline and n != "silent")


def get_engine(name: str, options: EngineOptions) -> Engine:
    """Build the engine `name`, or raise EngineError naming the engines there are."""
    info = ENGINES.get(name)
    if info is None:
        raise EngineError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    return info.factory(options)
