"""The audio stage: chapter MP3s, the full-length MP3 and the M4B from segments encoded once, and the
narration placed in them (a new, immutable Timeline that every format reads)."""

from __future__ import annotations

import itertools
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from publisher.audio.loudness import PROFILES, correction
from publisher.audio.m4b import M4bAudio, write_m4b
from publisher.audio.marks import chapter_marks
from publisher.audio.master import Master, combined_loudness, encode_mp3
from publisher.audio.mp3 import join_mp3s, mp3_timeline
from publisher.audio.segments import AAC_PRIMING, Encoded, Piece, Placement, encode_segments, gapped_wav, plan
from publisher.audio.tags import tag_mp3
from publisher.model import layout
from publisher.model.publication import Cover, Publication
from publisher.model.timeline import AudioFile, Narration, PlacedAudio, Timeline
from publisher.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncodedAudio:
    """How the audio stage encoded a publication: what the audio renderers join, and each
    chapter's gain (kept in the manifest as the next publish's starting point)."""

    masters: Mapping[int, Master]  # each chapter's gain and measured loudness
    placements: Mapping[int, Placement]  # where each chapter's pieces landed in its MP3
    segments: Mapping[int, tuple[Encoded, ...]]  # each chapter's encoded pieces (MP3 and AAC)


def place_audio(
    pub: Publication, narration: Narration, masters: dict[int, Master], folder: Path, settings: Settings, store: Path
) -> tuple[PlacedAudio, EncodedAudio]:
    """Level and encode every chapter in segments (kept in `store`, see segments.py) and place the
    narration in the files they will be joined into: `folder`'s chapter MP3s and full-length MP3.

    Times come from the segments' frame counts, so they are known before any file is joined; the
    result is a new timeline (`narration` is not changed).
    """
    rate = narration.sample_rate
    plans = {t.index: plan(t, rate) for t in narration.tracks}
    masters, encoded = _encode_chapters(narration, plans, masters, settings, store)
    placements: dict[int, Placement] = {}
    lengths: dict[int, float] = {}  # of each chapter's joined MP3
    for i in plans:
        *starts, lengths[i] = mp3_timeline([e.mp3 for e in encoded[i]])
        placements[i] = Placement(plans[i], [at - e.mp3_lead for at, e in zip(starts, encoded[i], strict=True)], rate)
    tracks = tuple(
        replace(t, cues=tuple(placements[t.index].move(c) for c in t.cues), duration=placements[t.index].duration)
        for t in narration.tracks
    )
    offsets = list(itertools.accumulate((lengths[t.index] for t in tracks[:-1]), initial=0.0))
    marks = chapter_marks(pub, tracks, offsets)
    timeline = Timeline(narration.engine, narration.narrator, rate, tracks, tuple(offsets), marks)
    files = tuple(
        AudioFile(
            folder / layout.chapter_mp3(t.index, t.title), t.index, t.title, t.duration, masters[t.index].loudness
        )
        for t in tracks
    )
    if len(tracks) > 1:
        full_loudness = combined_loudness([(t.duration, masters[t.index].loudness) for t in tracks])
    else:
        full_loudness = masters[tracks[0].index].loudness
    full = AudioFile(
        folder / layout.file_name("mp3", pub.slug), 0, pub.metadata.title, timeline.duration, full_loudness
    )
    segments = {i: tuple(e) for i, e in encoded.items()}
    return PlacedAudio(timeline, files, full), EncodedAudio(masters, placements, segments)


def write_audio(pub: Publication, placed: PlacedAudio, encoded: EncodedAudio, cover: Cover) -> None:
    """The chapter MP3s, the full-length MP3 with chapter frames (every segment, chapter after
    chapter) and the M4B, joined side by side from the encoded segments, then tagged."""
    timeline, full = placed.timeline, placed.full
    paths = {a.chapter: a.path for a in placed.chapters}
    placed.chapters[0].path.parent.mkdir(parents=True, exist_ok=True)
    mp3s = {i: [e.mp3 for e in encoded.segments[i]] for i in paths}
    m4b = _m4b_parts(timeline, encoded.placements, encoded.segments)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        jobs = [pool.submit(join_mp3s, mp3s[i], paths[i]) for i in paths]
        if len(paths) > 1:
            jobs.append(pool.submit(join_mp3s, [part for t in timeline.tracks for part in mp3s[t.index]], full.path))
        m4b_path = full.path.with_name(layout.file_name("m4b", pub.slug))
        jobs.append(pool.submit(write_m4b, pub, m4b, cover, list(timeline.marks), m4b_path))
        for job in jobs:
            job.result()
    if len(paths) == 1:
        shutil.copyfile(placed.chapters[0].path, full.path)
    for track, audio in zip(timeline.tracks, placed.chapters, strict=True):
        text = "\n".join(cue.text for cue in track.cues)
        tag_mp3(audio.path, pub, track.title, (track.index, len(paths)), text, cover)
    text = "\n".join(cue.text for cue in timeline.full_cues())
    tag_mp3(full.path, pub, pub.metadata.title, (1, 1), text, cover, genre="Podcast", marks=list(timeline.marks))


def _encode_chapters(
    narration: Narration, plans: dict[int, list[Piece]], masters: dict[int, Master], settings: Settings, store: Path
) -> tuple[dict[int, Master], dict[int, list[Encoded]]]:
    """Every chapter's segments, levelled and encoded; a chapter the limiter left off target is
    encoded again with a corrected gain. Returns the masters with their measured loudness."""
    profile = PROFILES[settings.profile]
    masters = dict(masters)
    wavs = {t.index: t.wav for t in narration.tracks}
    encoded: dict[int, list[Encoded]] = {}
    todo = list(plans)
    for attempt in range(4):
        jobs = [(wavs[i], p, masters[i].gain) for i in todo for p in plans[i]]
        results = iter(encode_segments(jobs, settings, store))
        retry = []
        for i in todo:
            encoded[i] = [next(results) for _ in plans[i]]
            rate = narration.sample_rate
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
    return masters, encoded


def _m4b_parts(
    timeline: Timeline, placements: Mapping[int, Placement], encoded: Mapping[int, Sequence[Encoded]]
) -> M4bAudio:
    """The M4B's AAC segments, and where each MP3-timeline segment start lands in it."""
    parts: list[Path] = []
    anchors: list[tuple[float, float]] = []  # (start in the full-length MP3, start in the M4B)
    priming = AAC_PRIMING / timeline.sample_rate
    running = 0.0  # seconds of AAC frames so far
    for track, offset in zip(timeline.tracks, timeline.starts, strict=True):
        for start, segment in zip(placements[track.index].starts, encoded[track.index], strict=True):
            anchors.append((offset + start, running + priming - segment.aac_lead))
            parts.append(segment.aac)
            running += segment.aac_seconds
    return M4bAudio(parts, anchors, running)


def encode_embedded_audio(
    placed: PlacedAudio, encoded: EncodedAudio, folder: Path, settings: Settings
) -> dict[int, Path]:
    """Smaller MP3s for the read-aloud EPUB (settings.read_aloud_bitrate), untagged, on the same
    timeline as the chapter MP3s (the pauses between their segments put in)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for track in placed.timeline.tracks:
        gapped = folder / f"{track.index:02d}.wav"
        gapped_wav(track.wav, encoded.placements[track.index], gapped)
        mp3 = folder / f"{layout.chapter_stem(track.index, track.title)}.mp3"
        master = replace(encoded.masters[track.index], wav=gapped)
        encode_mp3(master, mp3, settings, bitrate=settings.read_aloud_bitrate)
        gapped.unlink()
        files[track.index] = mp3
    return files
