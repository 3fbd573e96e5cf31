"""A silent engine for tests and dry runs: silence as long as the sentence would take to say."""

from __future__ import annotations

from pathlib import Path

from publisher.speech.engines import Audio, EngineOptions

SECONDS_PER_CHARACTER = 0.06
SAMPLE_RATE = 22050


def probe() -> str | None:
    """Always usable."""
    return None


def voices(voices_dir: Path | None = None) -> list[str]:
    """It has one voice: silence."""
    return ["silence"]


class SilentEngine:
    """Deterministic: a sentence of n characters gives exactly round(n × 0.06 × 22050) samples."""

    name = "silent"
    sample_rate = SAMPLE_RATE
    phonemes = False
    parallel = False

    def __init__(self, options: EngineOptions) -> None:
        self.speed = options.speed
        self.language = options.language
        self.cache_key = f"silent:{SECONDS_PER_CHARACTER}:{self.speed}"

    @property
    def narrator(self) -> str:
        """No voice at all."""
        return "silence (test engine)"

    def synthesize(self, text: str) -> Audio:
        """Silence proportional to the text's length (at least 0.2 s)."""
        seconds = max(0.2, len(text) * SECONDS_PER_CHARACTER / self.speed)
        return Audio(pcm=bytes(2 * round(seconds * SAMPLE_RATE)), sample_rate=SAMPLE_RATE)


def create(options: EngineOptions) -> SilentEngine:
    """The engine, as the registry builds it."""
    return SilentEngine(options)
