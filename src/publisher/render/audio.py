"""MP3s: loudness-normalised masters, one tagged MP3 per chapter, and the full-length MP3 with
ID3 chapter frames (CHAP + CTOC)."""

from __future__ import annotations

import os
import shutil
import wave
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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

from publisher.ffmpeg import run_ffmpeg
from publisher.front import join_names
from publisher.model import Publication
from publisher.render.cover import Cover
from publisher.render.loudness import PROFILES, Measurement, measure, normalise
from publisher.render.timeline import Mark
from publisher.settings import Settings
from publisher.speech.narrate import Narration
from publisher.text import slugify

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
    """A loudness-normalised WAV ready to encode, and what it measured."""

    wav: Path
    loudness: Measurement


def chapter_file_name(index: int, title: str) -> str:
    """NN-<chapter-slug>.mp3"""
    return f"{index:02d}-{slugify(title, max_length=40)}.mp3"


def concat_wavs(paths: Sequence[Path], dest: Path) -> None:
    """Join WAVs of one format end to end, streaming (memory stays flat)."""
    with wave.open(str(dest), "wb") as out:
        for n, path in enumerate(paths):
            with wave.open(str(path)) as part:
                if n == 0:
                    out.setparams(part.getparams())
                while frames := part.readframes(1 << 16):
                    out.writeframes(frames)


def make_masters(narration: Narration, work: Path, settings: Settings) -> tuple[dict[int, Master], Master]:
    """Normalised WAVs: one per track, and one for the whole publication."""
    profile = PROFILES[settings.profile]

    def master(index: int, wav: Path) -> Master:
        dest = work / f"master-{index:02d}.wav"
        return Master(dest, normalise(wav, dest, profile))

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # each job is an ffmpeg process
        futures = {t.index: pool.submit(master, t.index, t.wav) for t in narration.tracks}
        tracks = {index: future.result() for index, future in futures.items()}
    # the full-length master is the normalised tracks back to back: each is on target, so is the whole
    full_wav = work / "master-full.wav"
    concat_wavs([tracks[t.index].wav for t in narration.tracks], full_wav)
    full = Master(
        full_wav, tracks[narration.tracks[0].index].loudness if len(tracks) == 1 else measure(full_wav, False)
    )
    return tracks, full


def encode_mp3(wav: Path, mp3: Path, settings: Settings, bitrate: int | None = None) -> None:
    """WAV → constant-bitrate mono MP3 at the publication's sample rate (gapless LAME header)."""
    kbps = bitrate or settings.bitrate
    rate = settings.sample_rate if kbps >= 48 else min(settings.sample_rate, 22050)  # LAME's sweet spot
    run_ffmpeg(
        [
            "-y", "-i", str(wav), "-map_metadata", "-1", "-vn",
            "-ac", "1", "-ar", str(rate),
            "-c:a", "libmp3lame", "-b:a", f"{kbps}k", "-compression_level", "5", "-write_xing", "1",
            "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3", str(mp3),
        ],
        what="encoding MP3",
        path=mp3,
    )  # fmt: skip


def tag_mp3(
    path: Path,
    pub: Publication,
    title: str,
    track: tuple[int, int],
    text: str,
    cover: Cover,
    genre: str = "Audiobook",
    marks: Sequence[Mark] = (),
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


def write_mp3s(
    pub: Publication,
    narration: Narration,
    masters: dict[int, Master],
    full_master: Master,
    cover: Cover,
    staging: Path,
    settings: Settings,
    marks: Sequence[Mark],
    also: Sequence[Callable[[], None]] = (),
) -> tuple[list[AudioFile], AudioFile]:
    """Chapter MP3s under `staging/audio/` and the full-length `<slug>.mp3` with chapter frames.

    Encoders run side by side (one ffmpeg per core), with any `also` jobs (the M4B). A one-chapter
    publication's full-length file is its chapter's audio, so it is copied, not encoded again.
    """
    folder = staging / "audio"
    folder.mkdir(parents=True, exist_ok=True)
    total = len(narration.tracks)
    chapter_paths = {t.index: folder / chapter_file_name(t.index, t.title) for t in narration.tracks}
    full_path = staging / f"{pub.slug}.mp3"
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        jobs = [pool.submit(encode_mp3, masters[i].wav, p, settings) for i, p in chapter_paths.items()]
        if total > 1:
            jobs.append(pool.submit(encode_mp3, full_master.wav, full_path, settings))
        jobs += [pool.submit(job) for job in also]
        for job in jobs:
            job.result()
    if total == 1:
        shutil.copyfile(next(iter(chapter_paths.values())), full_path)
    files = []
    for track in narration.tracks:
        mp3 = chapter_paths[track.index]
        text = "\n".join(cue.text for cue in track.cues)
        tag_mp3(mp3, pub, track.title, (track.index, total), text, cover)
        files.append(AudioFile(mp3, track.index, track.title, track.duration, masters[track.index].loudness))
    text = "\n".join(cue.text for track in narration.tracks for cue in track.cues)
    tag_mp3(full_path, pub, pub.metadata.title, (1, 1), text, cover, genre="Podcast", marks=marks)
    return files, AudioFile(full_path, 0, pub.metadata.title, narration.duration, full_master.loudness)


def encode_embedded_audio(
    narration: Narration, masters: dict[int, Master], folder: Path, settings: Settings
) -> dict[int, Path]:
    """Smaller MP3s for the read-aloud EPUB (settings.read_aloud_bitrate), untagged."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for track in narration.tracks:
        mp3 = folder / chapter_file_name(track.index, track.title)
        encode_mp3(masters[track.index].wav, mp3, settings, bitrate=settings.read_aloud_bitrate)
        files[track.index] = mp3
    return files
