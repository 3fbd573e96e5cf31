"""PCM WAV files of any length: RIFF while the sizes fit its 32-bit fields, RF64 (EBU Tech 3306) past 4 GiB.

Python's `wave` module writes only RIFF, whose sizes are 32-bit: a chapter past 4 GiB of samples
(about 27 hours of 16-bit mono at 22,050 Hz) failed with "'L' format requires 0 <= number <=
4294967295" after writing it all. `WavWriter` reserves room for the RF64 size chunk at the start
(a JUNK chunk, as EBU Tech 3306 recommends) and turns it into `ds64` when the file is closed past
the limit; `wav_info` and `read_frames` read both kinds (ffmpeg reads both too).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

#: the largest size a RIFF chunk can declare; a file whose RIFF or data size passes it is written as
#: RF64 (a test or a benchmark may lower it to see an RF64 file without writing 4 GiB)
RIFF_LIMIT = 0xFFFFFFFF
_DS64_BYTES = 28  # riff size (8), data size (8), sample count (8), table length (4)
_HEADER = 12 + 8 + _DS64_BYTES + 8 + 16 + 8  # RIFF/WAVE, JUNK|ds64, fmt, data header


class WavError(ValueError):
    """A file that is not a PCM WAV (RIFF or RF64) this module reads."""


@dataclass(frozen=True)
class WavInfo:
    """What a WAV file holds: its format, where its samples start and how many frames there are."""

    rate: int
    channels: int
    width: int  # bytes per sample
    frames: int
    data_offset: int
    rf64: bool


class WavWriter:
    """Streams PCM frames into a WAV file; RIFF, or RF64 when closed past RIFF_LIMIT."""

    def __init__(self, path: Path, rate: int, channels: int = 1, width: int = 2) -> None:
        self.path = path
        self.rate, self.channels, self.width = rate, channels, width
        self.bytes = 0
        self._file: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()
        block = channels * width
        fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, 8 * width)
        self._file.write(
            b"RIFF" + struct.pack("<I", 0) + b"WAVE"
            + b"JUNK" + struct.pack("<I", _DS64_BYTES) + bytes(_DS64_BYTES)
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", 0)
        )  # fmt: skip

    @property
    def frames(self) -> int:
        """Frames written so far."""
        return self.bytes // (self.channels * self.width)

    def writeframes(self, data: bytes) -> None:
        """Append PCM frames (little-endian, interleaved)."""
        self._file.write(data)
        self.bytes += len(data)

    def close(self) -> None:
        """Write the sizes into the header (RF64's ds64 chunk when a size passes RIFF_LIMIT) and close."""
        if self._file.closed:
            return
        try:
            if self.bytes % 2:
                self._file.write(b"\x00")  # chunks are padded to an even length
            riff = _HEADER - 8 + self.bytes + self.bytes % 2
            self._file.seek(0)
            if riff > RIFF_LIMIT or self.bytes > RIFF_LIMIT:
                self._file.write(b"RF64" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE")
                self._file.write(b"ds64" + struct.pack("<I", _DS64_BYTES))
                self._file.write(struct.pack("<QQQI", riff, self.bytes, self.frames, 0))
                self._file.seek(_HEADER - 4)
                self._file.write(struct.pack("<I", 0xFFFFFFFF))
            else:
                self._file.write(b"RIFF" + struct.pack("<I", riff))
                self._file.seek(_HEADER - 4)
                self._file.write(struct.pack("<I", self.bytes))
        finally:
            self._file.close()

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def wav_info(path: Path) -> WavInfo:
    """The format and the sample data's place of a PCM WAV file, RIFF or RF64 (raises WavError)."""
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            raise WavError(f"{path} is not a WAV file")
        rf64 = head[:4] == b"RF64"
        data_size64: int | None = None
        fmt: tuple[int, int, int, int] | None = None
        while True:
            chunk = handle.read(8)
            if len(chunk) < 8:
                raise WavError(f"{path} has no data chunk")
            kind, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if kind == b"ds64":
                body = handle.read(size)
                data_size64 = struct.unpack("<Q", body[8:16])[0]
                handle.seek(size % 2, 1)
            elif kind == b"fmt ":
                body = handle.read(size)
                code, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
                if code not in (1, 0xFFFE):
                    raise WavError(f"{path} is not PCM (format {code})")
                fmt = (code, channels, rate, bits // 8)
                handle.seek(size % 2, 1)
            elif kind == b"data":
                if fmt is None:
                    raise WavError(f"{path} has its data before its format")
                if rf64 and size == 0xFFFFFFFF:
                    if data_size64 is None:
                        raise WavError(f"{path} is RF64 without a ds64 chunk")
                    size = data_size64
                _, channels, rate, width = fmt
                return WavInfo(rate, channels, width, size // (channels * width), handle.tell(), rf64)
            else:
                handle.seek(size + size % 2, 1)


def read_frames(path: Path, start: int = 0, end: int | None = None, chunk: int = 1 << 16) -> Iterator[bytes]:
    """The frames [start, end) of a WAV file, `chunk` frames at a time (memory stays flat for any length)."""
    info = wav_info(path)
    block = info.channels * info.width
    end = info.frames if end is None else min(end, info.frames)
    with open(path, "rb") as handle:
        handle.seek(info.data_offset + start * block)
        left = end - start
        while left > 0:
            data = handle.read(min(left, chunk) * block)
            if not data:
                break
            yield data
            left -= len(data) // block
