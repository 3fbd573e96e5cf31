"""A person's recording as the publication's Narration: aligned with the text, cut into one WAV per
chapter at each chapter's first sentence (in the pause before it), each sentence's cue taken from
the alignment. After this, mastering, placement and every renderer treat it as any narration.

Nothing synthetic is mixed in: the audio is the recording, whole, in its own order; what the
reader says that is not in the text (a LibriVox preamble, credits) stays where it was read and is
listed in the alignment report.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import wave
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from publisher.align.recording import Recording, audio_files, file_hash, open_recording, stream
from publisher.align.result import Alignment, Written
from publisher.align.run import file_infos, written_sentences
from publisher.align.timing import time_sentences
from publisher.align.transcribe import Hearer, transcribe
from publisher.clock import human_duration
from publisher.errors import AlignmentError
from publisher.i18n import translator
from publisher.model.publication import Publication
from publisher.model.timeline import RECORDED, Cue, Narration, Track
from publisher.proof.asr import require_extra

log = logging.getLogger(__name__)

RATE = 22050  # the narration timeline's rate (speech/narrate.py's TIMELINE_RATE)
#: below this share of its sentences found, a recording is taken not to read the text (measured:
#: recordings of their own text 0.90–1.00, of another text 0.00–0.09; BENCHMARKS.md)
MIN_COVERAGE = 0.5
WORDS_PER_SECOND = 2.5  # an unhurried reading pace (150 words a minute)
MIN_LENGTH = 0.25  # a recording shorter than this share of the text's reading time is far too short
LEAD = 0.5  # seconds of the pause before a chapter's first sentence kept at the start of its audio


@dataclass(frozen=True)
class RecordedNarration:
    """The narration made from a recording, and the alignment it came from."""

    narration: Narration
    alignment: Alignment
    recording: Recording


def default_narrator(language: str) -> str:
    """How the narrator is credited when nobody named them, in the publication's language."""
    return translator(language).gettext("a human narrator")


def recording_fingerprint(fingerprint: str, paths: tuple[Path, ...]) -> str:
    """`fingerprint` with the recording's content in it (each file's SHA-256, in order): a new
    take of a chapter publishes again, a renamed folder of the same files does not."""
    digest = hashlib.sha256(fingerprint.encode())
    for path in audio_files(list(paths)):
        digest.update(f"{file_hash(path)}\n".encode())
    return digest.hexdigest()


def check_length(written: list[Written], recording: Recording, source: Path) -> None:
    """Refuse a recording far shorter than anyone could read the text in (before hearing it)."""
    words = sum(len(w.text.split()) for w in written)
    expected = words / WORDS_PER_SECOND
    if words >= 20 and recording.duration < MIN_LENGTH * expected:
        raise AlignmentError(
            f"{recording.name} is far too short for {source.name}: {human_duration(recording.duration)} of audio "
            f"for about {human_duration(expected)} of reading ({words} words); is it the whole recording?"
        )


def check_coverage(alignment: Alignment, recording: Recording, source: Path) -> None:
    """Refuse a recording that does not read the text: too few of its sentences were heard."""
    if alignment.coverage < MIN_COVERAGE:
        raise AlignmentError(
            f"{recording.name} does not match {source.name}: only {100 * alignment.coverage:.0f} % of its "
            f"sentences were heard in it ({alignment.aligned} of {len(alignment.text)}; at least "
            f"{100 * MIN_COVERAGE:.0f} % needed); is it the recording of this text?"
        )


def chapter_cuts(alignment: Alignment, hints: list[float]) -> list[float]:
    """Where each chapter's audio starts on the recording's timeline: the first at 0, each other in
    the pause before its first sentence. A file boundary or a chapter mark (`hints`) in that pause
    wins, so what a reader says before a chapter (its announcement, a preamble) stays with it."""
    sentences = alignment.sentences
    boundaries = sorted({*(f.start for f in alignment.files[1:]), *hints})
    cuts = [0.0]
    for previous, sentence in itertools.pairwise(sentences):
        if sentence.chapter == previous.chapter:
            continue
        end, start = previous.end, sentence.start
        inside = [b for b in boundaries if end - 1e-6 <= b <= start + 1e-6]
        in_pause = max(end, start - min(LEAD, (start - end) / 2)) if start > end else start
        cut = inside[-1] if inside else in_pause
        cuts.append(max(cut, cuts[-1]))
    return cuts


class _Writer:
    """One chapter's WAV, written as samples arrive, with its length and level."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.samples = 0
        self.energy = 0.0
        self._wav = wave.open(str(path), "wb")  # noqa: SIM115 - closed in close()
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(RATE)

    def write(self, samples: Any) -> None:
        import numpy as np

        pcm = np.clip(np.round(samples * 32768.0), -32768, 32767).astype("<i2")
        self._wav.writeframes(pcm.tobytes())
        self.samples += len(pcm)
        as_float = pcm.astype(np.float64)
        self.energy += float(np.dot(as_float, as_float))

    @property
    def rms(self) -> float:
        if not self.energy:
            return -math.inf
        return 10 * math.log10(self.energy / self.samples) - 20 * math.log10(32768)

    def close(self) -> None:
        self._wav.close()


def write_tracks(recording: Recording, alignment: Alignment, cuts: list[float], workdir: Path) -> list[_Writer]:
    """The recording decoded once, file after file, each sample routed to its chapter's WAV."""
    writers = [_Writer(workdir / f"{n:02d}.wav") for n in range(1, len(cuts) + 1)]
    starts = [round(c * RATE) for c in cuts]
    try:
        for file, info in zip(recording.files, alignment.files, strict=True):
            at = round(info.start * RATE)  # the file's first sample on the joined timeline
            for block in stream(file.path, RATE):
                while len(block):
                    chapter = max(n for n, s in enumerate(starts) if s <= at)
                    room = starts[chapter + 1] - at if chapter + 1 < len(starts) else len(block)
                    part = block[: max(room, 1)]
                    writers[chapter].write(part)
                    at += len(part)
                    block = block[len(part) :]
    finally:
        for writer in writers:
            writer.close()
    return writers


def recorded_narration(
    pub: Publication,
    paths: list[Path],
    narrator: str,
    source: Path,
    cache: Path,
    workdir: Path,
    hearer: Hearer | None = None,
    heard: Callable[[float, float], None] | None = None,
) -> RecordedNarration:
    """Align the recording `paths` name with `pub` and make it `pub`'s narration (one WAV per
    chapter in `workdir`); an unsuitable recording is an AlignmentError, a broken one a SourceError.
    `heard(seconds, length)` is told how much of the recording has been transcribed."""
    require_extra()
    written = written_sentences(pub)
    recording = open_recording(paths)
    check_length(written, recording, source)
    language = pub.metadata.language
    length = sum(f.duration for f in recording.files)
    progress = None if heard is None else (lambda seconds: heard(min(seconds, length), length))
    if heard is not None:
        heard(0.0, length)
    transcript = transcribe(recording, language, cache, hearer=hearer, progress=progress)
    alignment = time_sentences(written, transcript, file_infos(recording, transcript), language)
    title_page = frozenset(s.id for block in pub.front for s in block.sentences)
    alignment = replace(alignment, title_page=title_page)  # the words we add: not the reader's to read
    check_coverage(alignment, recording, source)
    hints = [offset + mark.start for file, offset in zip(recording.files, recording.offsets, strict=True)
             for mark in file.marks if mark.start > 0]  # fmt: skip
    cuts = chapter_cuts(alignment, hints)
    if len(cuts) != len(pub.chapters):  # pragma: no cover - every chapter has a sentence (its heading)
        raise AlignmentError(f"{len(cuts)} chapters found in the alignment for {len(pub.chapters)}", path=source)
    writers = write_tracks(recording, alignment, cuts, workdir)
    tracks = []
    for chapter, cut, writer in zip(pub.chapters, cuts, writers, strict=True):
        duration = writer.samples / RATE
        cues = []
        for sentence in alignment.sentences:
            if sentence.chapter != chapter.index:
                continue
            start = min(max(sentence.start - cut, 0.0), duration)
            end = min(max(sentence.end - cut, start), duration)
            cues.append(Cue(sentence.sentence_id, sentence.text, round(start, 4), round(end, 4)))
        tracks.append(Track(chapter.index, chapter.title, writer.path, duration, tuple(cues), writer.rms))
    narration = Narration(RECORDED, narrator, RATE, tuple(tracks), 0)
    return RecordedNarration(narration, alignment, recording)
