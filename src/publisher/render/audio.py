"""MP3s: loudness-normalised masters, one tagged MP3 per chapter, and the full-length MP3 with
ID3 chapter frames (CHAP + CTOC)."""

from __future__ import annotations

import logging
import math
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
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

from publisher.ffmpeg import run_ffmpeg
from publisher.front import join_names
from publisher.model import Publication
from publisher.render.cover import Cover
from publisher.render.loudness import (
    PROBE,
    PROFILES,
    Measurement,
    Profile,
    choose_gain,
    correction,
    level_filter,
    probe_result,
)
from publisher.render.timeline import Mark
from publisher.settings import Settings
from publisher.speech.narrate import Narration, Track
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


def levelled(masters: Sequence[Master], profile: Profile, probe: bool) -> tuple[list[str], list[str], list[str]]:
    """ffmpeg arguments that read `masters`, level each and join them end to end.

    Returns (input arguments, the filter graph with its output mapped, and — with `probe` — the
    arguments of a second, null output that measures the levelled audio; put them last).
    """
    inputs: list[str] = []
    graph = []
    for n, master in enumerate(masters):
        inputs += ["-i", str(master.wav)]
        graph.append(f"[{n}:a]{level_filter(master.gain, profile)}[l{n}]")
    joined = "".join(f"[l{n}]" for n in range(len(masters)))
    graph.append(f"{joined}concat=n={len(masters)}:v=0:a=1[mix]" if len(masters) > 1 else f"{joined}anull[mix]")
    if probe:
        graph.append(f"[mix]asplit[out][probe];[probe]{PROBE}[null]")
        return inputs, ["-filter_complex", ";".join(graph), "-map", "[out]"], ["-map", "[null]", "-f", "null", "-"]
    return inputs, ["-filter_complex", ";".join(graph), "-map", "[mix]"], []


def encode_mp3(
    masters: Sequence[Master], mp3: Path, settings: Settings, bitrate: int | None = None, probe: bool = False
) -> Measurement | None:
    """Level and join `masters` into a constant-bitrate mono MP3 at the publication's sample rate
    (gapless LAME header); with `probe`, return what the levelled audio measured."""
    kbps = bitrate or settings.bitrate
    rate = settings.sample_rate if kbps >= 48 else min(settings.sample_rate, 22050)  # LAME's sweet spot
    inputs, graph, probe_out = levelled(masters, PROFILES[settings.profile], probe)
    log = run_ffmpeg(
        [
            "-y", "-loglevel", "info", "-nostats", *inputs, *graph, "-map_metadata", "-1", "-vn",
            "-ac", "1", "-ar", str(rate),
            "-c:a", "libmp3lame", "-b:a", f"{kbps}k", "-compression_level", "5", "-write_xing", "1",
            "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3", str(mp3), *probe_out,
        ],
        what="encoding MP3",
        path=mp3,
    )  # fmt: skip
    return probe_result(log) if probe else None


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
    cover: Cover,
    staging: Path,
    settings: Settings,
    marks: Sequence[Mark],
    also: Sequence[Callable[[Sequence[Master]], None]] = (),
) -> tuple[list[AudioFile], AudioFile, dict[int, Master]]:
    """Chapter MP3s under `staging/audio/` and the full-length `<slug>.mp3` with chapter frames.

    Encoders run side by side (one ffmpeg per core), with any `also` jobs (the M4B), which get
    every chapter's master. Each chapter's encode measures what it levelled; a chapter the limiter
    left off target is encoded again with a corrected gain, and so are the whole-publication files.
    A one-chapter publication's full-length file is its chapter's audio, so it is copied, not
    encoded again. Returns the files and the masters with their measured loudness.
    """
    profile = PROFILES[settings.profile]
    folder = staging / "audio"
    folder.mkdir(parents=True, exist_ok=True)
    total = len(narration.tracks)
    order = [t.index for t in narration.tracks]
    chapter_paths = {t.index: folder / chapter_file_name(t.index, t.title) for t in narration.tracks}
    full_path = staging / f"{pub.slug}.mp3"
    todo = list(order)
    full_loudness: Measurement | None = None
    for attempt in range(4):
        every = [masters[i] for i in order]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            chapters = {i: pool.submit(encode_mp3, [masters[i]], chapter_paths[i], settings, None, True) for i in todo}
            full = pool.submit(encode_mp3, every, full_path, settings, None, True) if total > 1 else None
            others = [pool.submit(job, every) for job in also]
            measured = {i: job.result() for i, job in chapters.items()}
            full_loudness = full.result() if full is not None else None
            for job in others:
                job.result()
        todo = []
        for i, result in measured.items():
            assert result is not None
            error = correction(profile, result)
            log.debug(
                "chapter %d at %+.2f dB: %.2f LUFS, RMS %.2f dBFS", i, masters[i].gain, result.integrated, result.rms
            )
            masters[i] = replace(masters[i], gain=masters[i].gain + error / masters[i].slope, loudness=result)
            if error and attempt < 3:
                log.info("chapter %d: %.2f dB off target after the limiter; encoding it again", i, error)
                todo.append(i)
        if not todo:
            break
    if total == 1:
        shutil.copyfile(chapter_paths[order[0]], full_path)
        full_loudness = masters[order[0]].loudness
    assert full_loudness is not None
    files = []
    for track in narration.tracks:
        mp3 = chapter_paths[track.index]
        text = "\n".join(cue.text for cue in track.cues)
        tag_mp3(mp3, pub, track.title, (track.index, total), text, cover)
        files.append(AudioFile(mp3, track.index, track.title, track.duration, masters[track.index].loudness))
    text = "\n".join(cue.text for track in narration.tracks for cue in track.cues)
    tag_mp3(full_path, pub, pub.metadata.title, (1, 1), text, cover, genre="Podcast", marks=marks)
    return files, AudioFile(full_path, 0, pub.metadata.title, narration.duration, full_loudness), masters


def encode_embedded_audio(
    narration: Narration, masters: dict[int, Master], folder: Path, settings: Settings
) -> dict[int, Path]:
    """Smaller MP3s for the read-aloud EPUB (settings.read_aloud_bitrate), untagged."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for track in narration.tracks:
        mp3 = folder / chapter_file_name(track.index, track.title)
        encode_mp3([masters[track.index]], mp3, settings, bitrate=settings.read_aloud_bitrate)
        files[track.index] = mp3
    return files
