"""MP3s: loudness-normalised masters, one tagged MP3 per chapter, and the full-length MP3 with
ID3 chapter frames (CHAP + CTOC)."""

from __future__ import annotations

import logging
import math
import os
import shutil
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from mutagen.id3 import (
    APIC,
    CHAP,
    CTOC,
    ID3,
    TALB,
    TCON,
    TCOP,
    TDRC,
    TIT2,
    TLAN,
    TPE1,
    TPUB,
    TRCK,
    TSSE,
    USLT,
    CTOCFlags,
)  # fmt: skip

from publisher.audio.loudness import (
    PROFILES,
    Measurement,
    choose_gain,
    correction,
    level_filter,
)
from publisher.audio.m4b import M4bAudio, write_m4b
from publisher.audio.marks import chapter_marks
from publisher.audio.segments import AAC_PRIMING, Encoded, Placement, encode_segments, gapped_wav, plan
from publisher.errors import RenderError
from publisher.ffmpeg import concat_listing, run_ffmpeg
from publisher.formats.cover import Cover
from publisher.model.publication import Publication
from publisher.model.timeline import ChapterMark, Narration, Track
from publisher.settings import Settings
from publisher.speech.credits import join_names
from publisher.text import slugify

log = logging.getLogger(__name__)

# ISO 639-1 → ISO 639-2/B, which ID3's TLAN frame wants
_ISO639_2 = {
    "en": "eng", "fr": "fre", "de": "ger", "es": "spa", "it": "ita", "pt": "por", "nl": "dut",
    "ru": "rus", "pl": "pol", "sv": "swe", "da": "dan", "no": "nor", "nb": "nob", "fi": "fin",
    "cs": "cze", "sk": "slo", "hu": "hun", "ro": "rum", "el": "gre", "tr": "tur", "uk": "ukr",
    "ar": "ara", "he": "heb", "fa": "per", "hi": "hin", "zh": "chi", "ja": "jpn", "ko": "kor",
    "vi": "vie", "id": "ind", "ca": "cat", "eu": "baq", "ga": "gle", "cy": "wel", "is": "ice",
}  # fmt: skip


def iso639_2(language: str) -> str:
    """The three-letter code for a BCP 47 tag ("en-US" → "eng"; unknown → "und")."""
    primary = language.split("-")[0].lower()
    if len(primary) == 3:
        return primary
    return _ISO639_2.get(primary, "und")


@dataclass(frozen=True)
class AudioFile:
    """A written MP3 and what it holds."""

    path: Path
    chapter: int  # 0 for the full-length file
    title: str
    duration: float
    loudness: Measurement | None = None


@dataclass(frozen=True)
class Master:
    """A chapter's narration WAV and the gain that brings it to the loudness profile.

    The gain (and a limiter) is applied by each encoder on the fly; `loudness` is what the
    levelled audio measured (predicted from the WAV until the chapter's MP3 encode has measured it).
    """

    wav: Path
    gain: float
    loudness: Measurement
    slope: float = 1.0  # dB the levelled result moves per dB of gain (the limiter keeps it below 1)


def chapter_file_name(index: int, title: str) -> str:
    """NN-<chapter-slug>.mp3"""
    return f"{index:02d}-{slugify(title, max_length=40)}.mp3"


#: the loudness of a master whose gain came from the last publish (its encode measures it)
UNMEASURED = Measurement(math.nan, math.nan, math.nan, math.nan, math.nan)


def make_masters(narration: Narration, settings: Settings, hints: Mapping[int, float]) -> dict[int, Master]:
    """Choose every chapter's gain (measuring side by side, one ffmpeg per core).

    A chapter with a hint (its gain in the last publish, same profile) is not measured: an edit
    moves a chapter's loudness by hundredths of a dB, and its encode checks the result anyway.
    """
    profile = PROFILES[settings.profile]

    def master(track: Track) -> Master:
        if track.index in hints:
            return Master(track.wav, hints[track.index], UNMEASURED)
        level = choose_gain(track.wav, track.rms, profile)
        return Master(track.wav, level.gain, level.predicted, level.slope)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {t.index: pool.submit(master, t) for t in narration.tracks}
        return {index: future.result() for index, future in futures.items()}


def mp3_rate(settings: Settings, kbps: int | None = None) -> int:
    """The MP3 sample rate for a bitrate: the publication's, or at most 22,050 Hz below 48 kbit/s
    (LAME's sweet spot)."""
    kbps = kbps or settings.bitrate
    return settings.sample_rate if kbps >= 48 else min(settings.sample_rate, 22050)


def encode_mp3(master: Master, mp3: Path, settings: Settings, bitrate: int | None = None) -> None:
    """Level `master` into a constant-bitrate mono MP3 (gapless LAME header), in one piece: for the
    read-aloud EPUB's smaller audio (the chapter MP3s are joined from segments, segments.py)."""
    kbps = bitrate or settings.bitrate
    run_ffmpeg(
        [
            "-y", "-i", str(master.wav), "-af", level_filter(master.gain, PROFILES[settings.profile]),
            "-map_metadata", "-1", "-vn", "-ac", "1", "-ar", str(mp3_rate(settings, kbps)),
            "-c:a", "libmp3lame", "-b:a", f"{kbps}k", "-compression_level", "5", "-write_xing", "1",
            "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3", str(mp3),
        ],
        what="encoding MP3",
        path=mp3,
    )  # fmt: skip


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


def combined_loudness(parts: Sequence[tuple[float, Measurement]]) -> Measurement:
    """The loudness of parts (seconds, measurement) played back to back: their mean power,
    weighted by length (exact for RMS; for gated loudness a close estimate, within 0.1 LU here)."""
    total = sum(seconds for seconds, _ in parts) or 1.0

    def mean(values: list[tuple[float, float]]) -> float:
        power = sum(seconds * 10 ** (value / 10) for seconds, value in values if math.isfinite(value))
        return 10 * math.log10(power / total) if power > 0 else -math.inf

    return Measurement(
        mean([(s, m.integrated) for s, m in parts]), math.nan, mean([(s, m.rms) for s, m in parts]), math.nan, math.nan
    )


def tag_mp3(
    path: Path,
    pub: Publication,
    title: str,
    track: tuple[int, int],
    text: str,
    cover: Cover,
    genre: str = "Audiobook",
    marks: Sequence[ChapterMark] = (),
) -> None:
    """Write the ID3v2.4 frames listeners' players read (and CHAP/CTOC when `marks` are given)."""
    meta = pub.metadata
    lang = iso639_2(meta.language)
    tags = ID3()  # ffmpeg wrote no tags (-id3v2_version 0): start from none
    tags.add(TIT2(encoding=3, text=title))
    if meta.authors:
        tags.add(TPE1(encoding=3, text=meta.authors))
    tags.add(TALB(encoding=3, text=meta.title))
    tags.add(TRCK(encoding=3, text=f"{track[0]}/{track[1]}"))
    if meta.date:
        tags.add(TDRC(encoding=3, text=meta.date))
    tags.add(TLAN(encoding=3, text=lang))
    tags.add(TCON(encoding=3, text=genre))
    if meta.publisher:
        tags.add(TPUB(encoding=3, text=meta.publisher))
    if meta.rights:
        tags.add(TCOP(encoding=3, text=meta.rights))
    tags.add(TSSE(encoding=3, text="publisher (Lavf/LAME)"))
    tags.add(APIC(encoding=3, mime=cover.media_type, type=3, desc="Cover", data=cover.data))
    by = f" by {join_names(meta.authors)}" if meta.authors else ""
    tags.add(USLT(encoding=3, lang=lang, desc=f"{meta.title}{by}", text=text))
    if marks:
        ids = [f"chp{n}" for n in range(len(marks))]
        for element_id, mark in zip(ids, marks, strict=True):
            tags.add(
                CHAP(
                    element_id=element_id,
                    start_time=round(mark.start * 1000),
                    end_time=round(mark.end * 1000),
                    start_offset=0xFFFFFFFF,
                    end_offset=0xFFFFFFFF,
                    sub_frames=[TIT2(encoding=3, text=mark.title)],
                )
            )
        tags.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text="Chapters")],
            )
        )
    tags.save(path, v2_version=4)


def write_audio(
    pub: Publication,
    narration: Narration,
    masters: dict[int, Master],
    cover: Cover,
    staging: Path,
    settings: Settings,
    store: Path,
) -> tuple[list[AudioFile], AudioFile, dict[int, Master], list[ChapterMark], dict[int, Placement]]:
    """Chapter MP3s under `staging/audio/`, the full-length `<slug>.mp3` with chapter frames and
    the `<slug>.m4b`, all joined from segments encoded once and kept in `store` (see segments.py).

    Each chapter's segments measure what they levelled; a chapter the limiter left off target is
    encoded again with a corrected gain. The tracks' cues, durations and offsets are moved to the
    joined files' timeline. Returns the MP3s, the masters with their measured loudness, the
    full-length file's chapter marks, and where each chapter's pieces landed.
    """
    profile = PROFILES[settings.profile]
    folder = staging / "audio"
    folder.mkdir(parents=True, exist_ok=True)
    rate = narration.sample_rate
    tracks = {t.index: t for t in narration.tracks}
    plans = {i: plan(t, rate) for i, t in tracks.items()}
    encoded: dict[int, list[Encoded]] = {}
    todo = list(tracks)
    for attempt in range(4):
        results = iter(
            encode_segments([(tracks[i].wav, p, masters[i].gain) for i in todo for p in plans[i]], settings, store)
        )
        retry = []
        for i in todo:
            encoded[i] = [next(results) for _ in plans[i]]
            result = combined_loudness(
                [((p.end - p.start) / rate, e.loudness) for p, e in zip(plans[i], encoded[i], strict=True)]
            )
            error = correction(profile, result)
            log.debug(
                "chapter %d at %+.2f dB: %.2f LUFS, RMS %.2f dBFS", i, masters[i].gain, result.integrated, result.rms
            )
            masters[i] = replace(masters[i], gain=masters[i].gain + error / masters[i].slope, loudness=result)
            if error and attempt < 3:
                log.info("chapter %d: %.2f dB off target after the limiter; encoding it again", i, error)
                retry.append(i)
        todo = retry
        if not todo:
            break
    chapter_paths = {i: folder / chapter_file_name(i, t.title) for i, t in tracks.items()}
    segments = {i: [e.mp3 for e in encoded[i]] for i in tracks}
    placements: dict[int, Placement] = {}
    lengths: dict[int, float] = {}  # of each chapter's joined MP3
    for i, track in tracks.items():
        *starts, lengths[i] = mp3_timeline(segments[i])
        placements[i] = Placement(plans[i], [at - e.mp3_lead for at, e in zip(starts, encoded[i], strict=True)], rate)
        track.cues = [placements[i].move(cue) for cue in track.cues]
        track.duration = placements[i].duration
    full_path = staging / f"{pub.slug}.mp3"
    in_order = [segment for track in narration.tracks for segment in segments[track.index]]
    if len(tracks) > 1:  # the full-length MP3 is every segment joined, chapter after chapter
        running = 0.0
        for track in narration.tracks:
            track.offset = running
            running += lengths[track.index]
        full_loudness = combined_loudness([(t.duration, masters[t.index].loudness) for t in narration.tracks])
    else:
        full_loudness = masters[narration.tracks[0].index].loudness
    marks = chapter_marks(pub, narration)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # the joins and the M4B side by side
        jobs = [pool.submit(join_mp3s, segments[i], chapter_paths[i]) for i in tracks]
        if len(tracks) > 1:
            jobs.append(pool.submit(join_mp3s, in_order, full_path))
        m4b = _m4b_parts(narration, placements, encoded)
        jobs.append(pool.submit(write_m4b, pub, m4b, cover, marks, staging / f"{pub.slug}.m4b"))
        for job in jobs:
            job.result()
    if len(tracks) == 1:
        shutil.copyfile(chapter_paths[narration.tracks[0].index], full_path)
    total = len(tracks)
    files = []
    for track in narration.tracks:
        mp3 = chapter_paths[track.index]
        text = "\n".join(cue.text for cue in track.cues)
        tag_mp3(mp3, pub, track.title, (track.index, total), text, cover)
        files.append(AudioFile(mp3, track.index, track.title, track.duration, masters[track.index].loudness))
    text = "\n".join(cue.text for track in narration.tracks for cue in track.cues)
    tag_mp3(full_path, pub, pub.metadata.title, (1, 1), text, cover, genre="Podcast", marks=marks)
    full = AudioFile(full_path, 0, pub.metadata.title, narration.duration, full_loudness)
    return files, full, masters, marks, placements


def _m4b_parts(narration: Narration, placements: dict[int, Placement], encoded: dict[int, list[Encoded]]) -> M4bAudio:
    """The M4B's AAC segments, and where each MP3-timeline segment start lands in it."""
    parts: list[Path] = []
    anchors: list[tuple[float, float]] = []  # (start in the full-length MP3, start in the M4B)
    priming = AAC_PRIMING / narration.sample_rate
    running = 0.0  # seconds of AAC frames so far
    for track, offset in zip(narration.tracks, narration.offsets(), strict=True):
        for start, segment in zip(placements[track.index].starts, encoded[track.index], strict=True):
            anchors.append((offset + start, running + priming - segment.aac_lead))
            parts.append(segment.aac)
            running += segment.aac_seconds
    return M4bAudio(parts, anchors, running)


def encode_embedded_audio(
    narration: Narration, masters: dict[int, Master], placements: dict[int, Placement], folder: Path, settings: Settings
) -> dict[int, Path]:
    """Smaller MP3s for the read-aloud EPUB (settings.read_aloud_bitrate), untagged, on the same
    timeline as the chapter MP3s (the pauses between their segments put in)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for track in narration.tracks:
        gapped = folder / f"{track.index:02d}.wav"
        gapped_wav(track.wav, placements[track.index], gapped)
        mp3 = folder / chapter_file_name(track.index, track.title)
        encode_mp3(replace(masters[track.index], wav=gapped), mp3, settings, bitrate=settings.read_aloud_bitrate)
        gapped.unlink()
        files[track.index] = mp3
    return files
