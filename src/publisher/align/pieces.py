"""The recording cut at its quietest moments into pieces short enough for one Whisper window, while
it streams; and its level every 10 ms, which is where the pauses between sentences are found.

A piece is plain data (its file, where it starts, its samples), so pieces can be transcribed one
after another here or as tasks elsewhere; only one piece and the levels are held at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from publisher.align.recording import SAMPLE_RATE

FRAME = 0.01  # seconds per level frame
HOP = int(SAMPLE_RATE * FRAME)
LIMIT = 28.0  # longest piece (Whisper hears 30 s at a time)
FLOOR_DB = -120.0  # the level of digital silence


@dataclass(frozen=True)
class Piece:
    """Part of one recording file: where it starts in the file (seconds) and its 16 kHz samples."""

    file: int
    start: float
    samples: Any  # numpy float32

    @property
    def end(self) -> float:
        """Where it ends in the file."""
        return self.start + len(self.samples) / SAMPLE_RATE


def frame_levels(samples: Any) -> Any:
    """dBFS of each whole 10 ms frame of `samples` (float32 numpy)."""
    import numpy as np

    frames = len(samples) // HOP
    if frames == 0:
        return np.zeros(0, dtype=np.float32)
    power = (samples[: frames * HOP].reshape(frames, HOP).astype(np.float64) ** 2).mean(axis=1)
    return np.maximum(10 * np.log10(power + 1e-13), FLOOR_DB).astype(np.float32)


def quietest(levels: Any, first: int, last: int, smooth: int = 15) -> int:
    """The frame between `first` and `last` at the middle of the quietest `smooth` frames (150 ms)."""
    import numpy as np

    window = levels[first:last]
    if len(window) <= smooth:
        return first + int(np.argmin(window)) if len(window) else first
    kernel = np.ones(smooth, dtype=np.float64) / smooth
    averaged = np.convolve(window.astype(np.float64), kernel, mode="valid")
    return first + int(np.argmin(averaged)) + smooth // 2


def cut(blocks: Iterator[Any], file: int, limit: float = LIMIT) -> Iterator[tuple[Piece, Any]]:
    """Pieces of at most `limit` seconds, each cut at the quietest moment of its second half, with
    the levels of the frames it holds (every frame of the file exactly once, in order)."""
    import numpy as np

    most = int(limit * SAMPLE_RATE) // HOP * HOP
    buffer = np.zeros(0, dtype=np.float32)
    start = 0  # samples of the file before `buffer`
    for block in blocks:
        buffer = np.concatenate([buffer, block])
        while len(buffer) > most:
            levels = frame_levels(buffer[:most])
            at = quietest(levels, len(levels) // 2, len(levels)) * HOP
            yield Piece(file, start / SAMPLE_RATE, buffer[:at].copy()), levels[: at // HOP]
            buffer = buffer[at:]
            start += at
    if len(buffer):
        levels = frame_levels(buffer)
        yield Piece(file, start / SAMPLE_RATE, buffer), levels
