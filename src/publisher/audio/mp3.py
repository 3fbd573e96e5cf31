"""MP3 streams frame by frame: sample rates for a bitrate, frame counts, and joins without re-encoding."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from publisher.errors import RenderError
from publisher.ffmpeg import concat_listing, run_ffmpeg
from publisher.settings import Settings


def mp3_rate(settings: Settings, kbps: int | None = None) -> int:
    """The MP3 sample rate for a bitrate: the publication's, or at most 22,050 Hz below 48 kbit/s
    (LAME's sweet spot)."""
    kbps = kbps or settings.bitrate
    return settings.sample_rate if kbps >= 48 else min(settings.sample_rate, 22050)


_KBPS = {
    1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],  # MPEG-1 layer III
    2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],  # MPEG-2 and 2.5 layer III
}


_RATES = {3: (1, (44100, 48000, 32000)), 2: (2, (22050, 24000, 16000)), 0: (2, (11025, 12000, 8000))}


def mp3_frames(path: Path) -> tuple[int, int, int]:
    """(audio frames, samples per frame, sample rate) of an untagged layer III file as our encoder
    writes it: a Xing/Info header frame, then audio frames."""
    data = path.read_bytes()
    pos = frames = 0
    spf = rate = 0
    while pos + 4 <= len(data):
        header = int.from_bytes(data[pos : pos + 4], "big")
        version_bits, layer_bits = (header >> 19) & 3, (header >> 17) & 3
        kbps_index, rate_index = (header >> 12) & 15, (header >> 10) & 3
        if header >> 21 != 0x7FF or version_bits not in _RATES or layer_bits != 1 or rate_index == 3:
            raise RenderError(f"not a clean MP3 stream at byte {pos}", path=path)
        version, rates = _RATES[version_bits]
        rate, spf = rates[rate_index], 1152 if version == 1 else 576
        size = (spf // 8) * _KBPS[version][kbps_index] * 1000 // rate + ((header >> 9) & 1)
        mono = (header >> 6) & 3 == 3
        side = 4 + (0 if header >> 16 & 1 else 2) + ((17, 9) if mono else (32, 17))[version - 1]  # after the CRC
        if not (frames == 0 and pos == 0 and data[pos + side : pos + side + 4] in (b"Xing", b"Info")):
            frames += 1  # the header frame holds no audio
        pos += size
    if pos != len(data):
        raise RenderError("the MP3 stream ends inside a frame", path=path)
    return frames, spf, rate


def mp3_timeline(parts: Sequence[Path]) -> list[float]:
    """Where each of `parts` starts once they are joined by `join_mp3s`, then where the last one
    ends (seconds; one more value than parts)."""
    times = [0.0]
    for part in parts:
        frames, spf, rate = mp3_frames(part)
        times.append(times[-1] + frames * spf / rate)
    return times


def join_mp3s(parts: Sequence[Path], dest: Path) -> None:
    """Join MP3s made with the same settings into one, frame for frame (no re-encoding).

    Every part's first audio frame starts with an empty bit reservoir, so the stream stays valid;
    each part's encoder delay and padding (25–50 ms of silence at 44.1 kHz) stays between the
    parts, and the gapless header of the result trims only the first part's delay and the last
    part's padding. So part k starts exactly at the summed length of the frames before it,
    `mp3_timeline` (tested: every part's decoded samples reappear bit for bit at that position).
    """
    listing = dest.with_suffix(".concat.txt")
    listing.write_text(concat_listing(list(parts)), encoding="utf-8")
    try:
        run_ffmpeg(
            ["-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-map", "0:a", "-c", "copy",
             "-map_metadata", "-1", "-write_xing", "1", "-id3v2_version", "0", "-write_id3v1", "0",
             "-f", "mp3", str(dest)],
            what="joining the chapter MP3s", path=dest,
        )  # fmt: skip
    finally:
        listing.unlink(missing_ok=True)
