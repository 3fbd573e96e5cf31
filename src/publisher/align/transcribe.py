"""Hearing a recording: every word with its time (faster-whisper word timestamps), piece by piece,
cached by each file's content so a text edit aligns again without transcribing again. Rendered
on a Dask cluster, the pieces are heard as tasks of their own across its workers.

The models are those proof-listening uses, installed from PyPI by the `proof` extra: Whisper
tiny.en for English, the multilingual base model otherwise (see proof/asr.py). Decoding here is
greedy (beam 1): the alignment needs the words' times and most of the words, not a perfect
transcript; with the base model greedy decoding took 18 CPU-s against 38 for beam 5 on a 128 s
French reading (tiny.en: no measurable difference) (BENCHMARKS.md, recorded narration).
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher.align.pieces import FRAME, Piece, cut
from publisher.align.recording import Recording, RecordingFile, stream
from publisher.files import mark_used, write_atomic
from publisher.proof.asr import Decoding, HeardWord, load_model, transcribe_samples

log = logging.getLogger(__name__)

CACHE_VERSION = 1  # bump when what is cached changes meaning
Progress = Callable[[float], None]  # seconds of the recording heard so far


def decoding_for(language: str) -> Decoding:
    """The Whisper model and decoding options for aligning a recording in `language` (BCP 47)."""
    model = "tiny.en" if language.split("-")[0].lower() == "en" else "base"
    return Decoding(model, beam_size=1, condition_on_previous_text=False)


@dataclass(frozen=True)
class FileTranscript:
    """What was heard in one recording file: its words (times in the file) and its level every 10 ms."""

    words: tuple[HeardWord, ...]
    levels: Any  # numpy float32 dBFS per 10 ms frame
    duration: float  # seconds decoded

    def level_at(self, seconds: float) -> float:
        """dBFS of the frame at `seconds`."""
        index = min(max(int(seconds / FRAME), 0), len(self.levels) - 1)
        return float(self.levels[index]) if len(self.levels) else -120.0


@dataclass(frozen=True)
class Transcript:
    """What was heard in each file of a recording, how, and how many files had to be transcribed."""

    files: tuple[FileTranscript, ...]
    decoding: Decoding
    transcribed: int = 0  # files heard in this run (the rest came from the cache)


def hear_piece(piece: Piece, language: str, decoding: Decoding, cache: Path) -> list[HeardWord]:
    """Every word heard in one piece, with times in its file: a pure function of plain data, so a
    worker process (or a Dask task) can run it; the model is loaded once per process."""
    model = load_model(decoding.model, cache)
    return list(transcribe_samples(model, piece.samples, piece.start, language, decoding))


def _cache_path(cache: Path, file: RecordingFile, decoding: Decoding) -> Path:
    options = json.dumps([CACHE_VERSION, decoding.model, decoding.options()], sort_keys=True)
    key = hashlib.sha256(f"{file.sha256}:{options}".encode()).hexdigest()[:32]
    return cache / "align" / key[:2] / f"{key}.json"


def _load(path: Path) -> FileTranscript | None:
    import numpy as np

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        levels = np.load(path.with_suffix(".npy")).astype(np.float32)
        mark_used([path, path.with_suffix(".npy")])
        words = tuple(HeardWord(str(w[2]), float(w[0]), float(w[1]), float(w[3])) for w in data["words"])
        return FileTranscript(words, levels, float(data["duration"]))
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def _store(path: Path, heard: FileTranscript, file: RecordingFile, decoding: Decoding, where: str) -> None:
    import io

    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.save(buffer, heard.levels.astype(np.float16))
    write_atomic(path.with_suffix(".npy"), buffer.getvalue())  # levels first: the JSON marks it complete
    data = {
        "version": CACHE_VERSION,
        "sha256": file.sha256,
        "file": file.path.name,
        "model": decoding.model,
        "decoding": decoding.options(),
        "duration": round(heard.duration, 4),
        "heard": where,  # "here", "cluster" (its pieces were tasks) or "given" (a caller's hearer)
        "words": [[round(w.start, 3), round(w.end, 3), w.text, round(w.probability, 3)] for w in heard.words],
    }
    write_atomic(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


Hearer = Callable[[Iterable[Piece]], Iterator[list[HeardWord]]]


def cluster_hearer(language: str, decoding: Decoding, cache: Path) -> Hearer | None:
    """Inside a Dask task (a publication rendered on a cluster): a hearer that sends the pieces to
    the cluster as tasks of their own (`hear_piece`), a few ahead of the one being waited for, so
    memory stays flat; None anywhere else (pieces are heard here, in order)."""
    try:
        from distributed import get_worker, worker_client
    except ImportError:
        return None
    try:
        get_worker()
    except ValueError:
        return None

    def hear(pieces: Iterable[Piece]) -> Iterator[list[HeardWord]]:
        with worker_client() as client:  # leaves this worker's thread pool while it waits
            ahead = max(2, 2 * len(client.scheduler_info().get("workers", {})))
            pending: collections.deque[Any] = collections.deque()
            for piece in pieces:
                pending.append(client.submit(hear_piece, piece, language, decoding, cache, pure=False))
                if len(pending) >= ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    return hear


def transcribe_file(
    file: RecordingFile,
    index: int,
    language: str,
    cache: Path,
    decoding: Decoding,
    hearer: Hearer | None = None,
    progress: Progress | None = None,
    done_before: float = 0.0,
) -> FileTranscript:
    """Hear one file: stream it, cut it into pieces at its quietest moments, hear each piece (in
    order, here, unless `hearer` maps them elsewhere) and keep every word and the levels."""
    import numpy as np

    levels: list[Any] = []
    pieces: list[Piece] = []  # only the pieces handed to the hearer and not heard yet

    def feed() -> Iterator[Piece]:
        for piece, piece_levels in cut(stream(file.path), index):
            levels.append(piece_levels)
            pieces.append(piece)
            yield piece

    hear: Hearer = hearer or (lambda ps: (hear_piece(p, language, decoding, cache) for p in ps))
    words: list[HeardWord] = []
    for heard in hear(feed()):
        piece = pieces.pop(0)
        words.extend(heard)
        if progress is not None:
            progress(done_before + piece.end)
    joined = np.concatenate(levels) if levels else np.zeros(0, dtype=np.float32)
    return FileTranscript(tuple(words), joined, round(len(joined) * FRAME, 4))  # as the cache stores it


def transcribe(
    recording: Recording,
    language: str,
    cache: Path,
    decoding: Decoding | None = None,
    hearer: Hearer | None = None,
    progress: Progress | None = None,
) -> Transcript:
    """Hear every file of `recording` (from the cache where it was heard before with the same model
    and options: the key is the file's SHA-256, never its name or date)."""
    decoding = decoding or decoding_for(language)
    where = "given" if hearer is not None else "here"
    if hearer is None:
        hearer = cluster_hearer(language, decoding, cache)
        where = "here" if hearer is None else "cluster"
    files: list[FileTranscript] = []
    made = 0
    for index, (file, offset) in enumerate(zip(recording.files, recording.offsets, strict=True)):
        path = _cache_path(cache, file, decoding)
        heard = _load(path)
        if heard is None:
            log.info("%s: transcribing %.0f s with Whisper %s", file.path.name, file.duration, decoding.model)
            heard = transcribe_file(file, index, language, cache, decoding, hearer, progress, offset)
            _store(path, heard, file, decoding, where)
            made += 1
        else:
            log.info("%s: transcript from the cache", file.path.name)
        if progress is not None:
            progress(offset + file.duration)
        files.append(heard)
    return Transcript(tuple(files), decoding, made)
