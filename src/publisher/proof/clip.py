"""Scoring one sentence's audio against its text, on its own: what the studio's pronunciation editor
calls after a lexicon fix, without proofing the whole book. The same scoring as `publisher proof`
(free transcript, teacher-forced word probabilities, verdict), on a clip instead of a window."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher.errors import PublisherError
from publisher.proof.asr import SAMPLE_RATE, decode_window, decoding_for, load_model, transcribe_samples
from publisher.proof.compare import align, normalise_words
from publisher.proof.forced import expected_words
from publisher.proof.verdict import THRESHOLD, WordFinding, judge, worst

DEFAULT_CACHE = Path(".cache/publisher")  # where the multilingual model is joined (as publish's --cache-dir)
LONGEST = 30.0  # seconds: what Whisper hears at once


@dataclass(frozen=True)
class SentenceScore:
    """How one sentence's audio compares with its text."""

    text: str  # the sentence as written
    heard: str  # the free transcript of the clip
    words: list[WordFinding]  # each written word's evidence, in text order
    threshold: float  # the confidence at which the sentence is flagged
    wer: float  # word error rate of the free transcript (the old score)

    @property
    def confidence(self) -> float:
        """How sure proof-listening is that the sentence is not said as written (0–1)."""
        return max((w.confidence for w in self.words), default=0.0)

    @property
    def flagged(self) -> bool:
        """Whether the confidence reaches the threshold."""
        return self.confidence >= self.threshold

    @property
    def triggers(self) -> list[WordFinding]:
        """The words that flag the sentence, most confident first."""
        return worst(self.words, self.threshold)

    @property
    def reason(self) -> str:
        """Why the sentence is flagged, in words ("" when it is not)."""
        return "; ".join(w.reason for w in self.triggers)


def _decode_bytes(data: bytes) -> Any:
    """16 kHz mono samples of an audio file held in memory (a WAV from `api.speak`, an MP3…)."""
    import subprocess

    import numpy as np

    from publisher.ffmpeg import ffmpeg_exe

    args = [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", "pipe:0", "-ac", "1", "-ar", str(SAMPLE_RATE)]
    done = subprocess.run([*args, "-f", "s16le", "-"], input=data, capture_output=True, check=False)
    if done.returncode != 0:
        raise PublisherError(f"cannot decode the audio: {done.stderr.decode(errors='replace').strip()[:200]}")
    return np.frombuffer(done.stdout, dtype=np.int16).astype(np.float32) / 32768.0


def _samples(audio: Path | bytes | Any) -> Any:
    import numpy as np

    if isinstance(audio, bytes):
        return _decode_bytes(audio)
    if isinstance(audio, str | Path):
        path = Path(audio)
        if not path.is_file():
            raise PublisherError("no such audio file", path=path)
        return decode_window(path)
    samples = np.asarray(audio)
    if samples.dtype == np.int16:
        return samples.astype(np.float32) / 32768.0
    if samples.ndim != 1:
        raise PublisherError(f"expected mono 16 kHz samples, got an array of shape {samples.shape}")
    return samples.astype(np.float32)


def score_clip(
    audio: Path | bytes | Any,
    text: str,
    language: str = "en",
    cache: Path = DEFAULT_CACHE,
    threshold: float = THRESHOLD,
) -> SentenceScore:
    """Score one sentence's audio against `text`.

    `audio` is an audio file (any format ffmpeg reads: WAV, MP3, …), its bytes (`api.speak`'s WAV)
    or 16 kHz mono samples (numpy float32 in −1…1, or int16), holding the sentence and little
    else, at most 30 s. The model and
    decoding are those `publisher proof` uses for `language`; the model loads once per process."""
    samples = _samples(audio)
    if len(samples) > LONGEST * SAMPLE_RATE:
        raise PublisherError(f"the clip is {len(samples) / SAMPLE_RATE:.0f} s long; score one sentence (at most 30 s)")
    decoding = decoding_for(language)
    model = load_model(decoding.model, cache)
    heard = " ".join(w.text for w in transcribe_samples(model, samples, 0.0, language, decoding))
    findings = judge(expected_words(model, samples, text, language), heard, language)
    wer = align(normalise_words(text, language), normalise_words(heard, language)).wer
    return SentenceScore(text, heard, findings, threshold, wer)
