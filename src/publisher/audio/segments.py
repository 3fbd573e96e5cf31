"""Chapter audio encoded in segments, kept in the cache, and joined frame for frame.

A chapter is cut in the silences between sentences into segments of about SEGMENT_SECONDS. Each
segment is levelled (its chapter's gain and limiter) and encoded once into an MP3 stream (for the
chapter MP3) and an AAC stream (for the M4B), which are kept in the cache under a key of its
samples and every setting that shapes them. Editing a sentence re-encodes the segment it is in;
the others come from the cache, so a one-sentence edit costs seconds even for a whole book.

Joined, every segment's first frame starts with an empty bit reservoir, so the stream is valid,
and each segment's encoder delay and padding (25–50 ms of silence) stays between it and the next.
Segment k's samples therefore start exactly at the summed length of the frames before it (MP3:
1152 samples a frame; AAC: 1024, after the encoder's 1024 samples of priming). A segment that
begins inside a chapter begins in a pause, so as much of that pause as the encoder's delay is
left out of its streams: the delay takes its place, and the pause keeps its length give or take
the last frame's padding (0–26 ms). Every sentence's time is then moved to where it is heard
(Placement.move).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from publisher.audio.loudness import PROFILES, level_filter, named_probe, probe_result
from publisher.audio.mp3 import mp3_frames, mp3_rate
from publisher.errors import RenderError
from publisher.ffmpeg import ffmpeg_exe, run_ffmpeg_fed
from publisher.model.timeline import Cue, Measurement, Track
from publisher.settings import Settings
from publisher.wavfile import WavError, WavInfo, WavWriter, read_frames, wav_info

SEGMENT_SECONDS = 20.0  # a segment ends at the first pause after this much audio at the latest
MIN_SECONDS = 4.0  # … and is at least this long
ANCHORS = 2  # about one sentence in ANCHORS ends a segment (chosen by its text: see plan)
MIN_PAUSE = 0.25  # seconds of silence a cut needs (it is made in the middle)
AAC_PRIMING = 1024  # samples ffmpeg's AAC encoder puts before the audio
MP3_DELAY = 1105  # samples (at the MP3's rate) LAME and a decoder put before the audio: 576 + 529
SEGMENT_VERSION = "2"
#: pieces of one chapter encoded by one ffmpeg run when many are missing (a first publish): each
#: keeps its own encoders, so its bytes are the same as alone (tested), and fewer processes start
BATCH = 6


@dataclass(frozen=True)
class Piece:
    """A stretch of a chapter WAV: samples [start, end) at the timeline's rate."""

    start: int
    end: int
    last: bool = False  # the chapter's last piece (it ends in the chapter's tail, not in a pause)


@dataclass(frozen=True)
class Encoded:
    """A levelled, encoded segment in the cache."""

    mp3: Path
    aac: Path
    mp3_seconds: float  # length of its MP3 frames (what it occupies in the joined file)
    aac_seconds: float
    loudness: Measurement
    mp3_lead: float = 0.0  # seconds of the piece's opening silence left out of its MP3 stream
    aac_lead: float = 0.0  # … and of its AAC stream


def _anchor(text: str) -> bool:
    return hashlib.sha256(text.encode()).digest()[0] % ANCHORS == 0


def plan(track: Track, rate: int) -> list[Piece]:
    """Cut points of one chapter, in the middle of pauses.

    Which pauses is decided by the sentences' text (a pause after an "anchor" sentence, about one
    in ANCHORS), not by running time, so an edit that changes one sentence's length moves no cut
    but its own segment's: the segments after it keep their samples and come from the cache.
    Segments are kept between MIN_SECONDS and about SEGMENT_SECONDS.
    """
    total = round(track.duration * rate)
    cuts = [0]
    for before, after in itertools.pairwise(track.cues):
        length = before.end - cuts[-1] / rate
        if after.start - before.end < MIN_PAUSE or length < MIN_SECONDS:
            continue
        if _anchor(before.text) or length >= SEGMENT_SECONDS:
            # cue times are whole samples: counting from the sentence's end keeps a cut's place
            # in its pause, to the sample, when an edit earlier in the chapter moves everything
            end, start = round(before.end * rate), round(after.start * rate)
            cuts.append(end + (start - end) // 2)
    return [Piece(a, b, b == total) for a, b in itertools.pairwise([*cuts, total]) if b > a]


def _key(wav: Path, piece: Piece, gain: float, settings: Settings) -> str:
    profile = PROFILES[settings.profile]
    rate = _info(wav).rate
    digest = hashlib.sha256()
    shape = (
        f"{SEGMENT_VERSION}|{Path(ffmpeg_exe()).name}|{level_filter(gain, profile)}|mp3 {settings.bitrate}k "
        f"{mp3_rate(settings)} Hz q5|aac {settings.m4b_bitrate}k fast|{rate} Hz|trims {_trims(piece, rate, settings)}"
    )
    digest.update(shape.encode())
    for chunk in _samples(wav, piece):
        digest.update(chunk)
    return digest.hexdigest()


def _info(wav: Path) -> WavInfo:
    """A chapter WAV's format (RIFF, or RF64 past 4 GiB): it must be 16-bit mono."""
    try:
        info = wav_info(wav)
    except (OSError, WavError) as exc:
        raise RenderError(f"cannot read the narration WAV: {exc}", path=wav) from exc
    if info.width != 2 or info.channels != 1:
        raise RenderError("narration WAV is not 16-bit mono", path=wav)
    return info


def _samples(wav: Path, piece: Piece) -> Iterator[bytes]:
    """The piece's 16-bit mono samples, a chunk at a time (memory stays flat for any length)."""
    _info(wav)
    yield from read_frames(wav, piece.start, piece.end)


def _trims(piece: Piece, rate: int, settings: Settings) -> tuple[int, int, int]:
    """Samples (at the timeline's `rate`) of silence left out of a piece's streams, so that joined
    pieces change the pauses they are cut in as little as possible: (MP3 start, AAC start, AAC end;
    a negative end adds silence).

    A piece that starts in a pause leaves out as much of it as its encoder delays the audio (the
    delay takes its place). One that ends in a pause is cut or lengthened, whichever is nearer, to
    fill its last AAC frame exactly, so its AAC frames end where its samples do (a pause changes
    by at most ±23 ms in the M4B; LAME's padding adds 12–38 ms to it in the MP3). A chapter's
    lead-in and tail stay whole.
    """
    mp3_lead = round(MP3_DELAY * rate / mp3_rate(settings)) if piece.start else 0
    aac_lead = AAC_PRIMING if piece.start else 0
    spare = (piece.end - piece.start - aac_lead) % 1024
    aac_tail = 0 if piece.last else (spare if spare < 512 else spare - 1024)
    return mp3_lead, aac_lead, aac_tail


def adts_frames(path: Path) -> int:
    """How many AAC frames an ADTS file holds."""
    data = path.read_bytes()
    pos = frames = 0
    while pos + 7 <= len(data):
        if data[pos] != 0xFF or data[pos + 1] & 0xF6 != 0xF0:
            raise RenderError(f"not a clean ADTS stream at byte {pos}", path=path)
        pos += ((data[pos + 3] & 3) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
        frames += 1
    if pos != len(data):
        raise RenderError("the ADTS stream ends inside a frame", path=path)
    return frames


def _cached(base: Path) -> Encoded | None:
    mp3, aac, facts = base.with_suffix(".mp3"), base.with_suffix(".aac"), base.with_suffix(".json")
    if not (facts.is_file() and mp3.is_file() and aac.is_file()):
        return None
    try:
        known = json.loads(facts.read_text(encoding="utf-8"))
        m = Measurement(known["integrated"], float("nan"), known["rms"], float("nan"), float("nan"))
        found = Encoded(mp3, aac, known["mp3_seconds"], known["aac_seconds"], m, known["mp3_lead"], known["aac_lead"])
    except (ValueError, KeyError, TypeError):
        return None  # a damaged record: encode again
    for path in (mp3, aac, facts):
        os.utime(path)  # recently used: `cache prune` keeps it
    return found


@dataclass(frozen=True)
class _Job:
    """One piece to encode: where its samples are, its gain, and where it goes in the cache."""

    wav: Path
    piece: Piece
    gain: float
    base: Path

    def tmp(self, suffix: str) -> Path:
        """Where this process and thread write the piece's `suffix` stream before it is kept."""
        return self.base.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp{suffix}")


@dataclass(frozen=True)
class _Streams:
    """How one piece becomes its two streams: the filters after levelling and the output options."""

    mp3_branch: str
    aac_branch: str
    to_mp3: list[str]
    to_aac: list[str]
    leads: tuple[int, int]  # samples left out of the MP3 and the AAC stream


def _streams(job: _Job, rate: int, settings: Settings, tag: str) -> _Streams:
    """The MP3 and AAC branches of a piece (fed from [m{tag}] and [a{tag}] in a filter graph)."""
    mp3_lead, aac_lead, aac_tail = _trims(job.piece, rate, settings)
    aac_end = job.piece.end - job.piece.start - max(aac_tail, 0)
    to_mp3 = [
        "-map", f"[m{tag}]", "-map_metadata", "-1", "-ac", "1", "-ar", str(mp3_rate(settings)),
        "-c:a", "libmp3lame", "-b:a", f"{settings.bitrate}k", "-compression_level", "5", "-write_xing", "1",
        "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3", str(job.tmp(".mp3")),
    ]  # fmt: skip
    to_aac = [
        "-map", f"[a{tag}]", "-map_metadata", "-1", "-ac", "1",
        "-c:a", "aac", "-aac_coder", "fast", "-b:a", f"{settings.m4b_bitrate}k", "-f", "adts",
        str(job.tmp(".aac")),
    ]  # fmt: skip
    aac_branch = f"atrim=start_sample={aac_lead}:end_sample={aac_end},asetpts=PTS-STARTPTS"
    if aac_tail < 0:
        aac_branch += f",apad=pad_len={-aac_tail}"
    return _Streams(
        f"atrim=start_sample={mp3_lead},asetpts=PTS-STARTPTS", aac_branch, to_mp3, to_aac, (mp3_lead, aac_lead)
    )


def _both(levelled: str, streams: _Streams, tag: str) -> str:
    """Filters from a piece's levelled audio to its MP3, AAC and probe outputs ([m], [a], [p] + tag)."""
    return (
        f"{levelled}asplit=3[mx{tag}][ax{tag}][px{tag}];[mx{tag}]{streams.mp3_branch}[m{tag}];"
        f"[ax{tag}]{streams.aac_branch}[a{tag}];[px{tag}]{named_probe(tag)}[p{tag}]"
    )


def _kept(job: _Job, rate: int, leads: tuple[int, int], loudness: Measurement) -> Encoded:
    """Move a piece's finished streams into the cache, its facts last."""
    tmp_mp3, tmp_aac = job.tmp(".mp3"), job.tmp(".aac")
    mp3, aac, facts = job.base.with_suffix(".mp3"), job.base.with_suffix(".aac"), job.base.with_suffix(".json")
    frames, spf, frame_rate = mp3_frames(tmp_mp3)
    encoded = Encoded(
        mp3, aac, frames * spf / frame_rate, adts_frames(tmp_aac) * 1024 / rate, loudness,
        leads[0] / rate, leads[1] / rate,
    )  # fmt: skip
    os.replace(tmp_mp3, mp3)
    os.replace(tmp_aac, aac)
    record = {
        "integrated": encoded.loudness.integrated,
        "rms": encoded.loudness.rms,
        "mp3_seconds": encoded.mp3_seconds,
        "aac_seconds": encoded.aac_seconds,
        "mp3_lead": encoded.mp3_lead,
        "aac_lead": encoded.aac_lead,
    }
    tmp = job.tmp(".json")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, facts)  # written last: a segment without it is encoded again
    return encoded


def _cleanup(jobs: Sequence[_Job]) -> None:
    for job in jobs:
        job.tmp(".mp3").unlink(missing_ok=True)
        job.tmp(".aac").unlink(missing_ok=True)


def _source_args(rate: int) -> list[str]:
    return ["-y", "-loglevel", "info", "-nostats", "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0"]


def _encode_split(job: _Job, settings: Settings) -> Encoded:
    """Level and encode one piece into the cache, the MP3 and the AAC by two ffmpeg processes side
    by side (quicker when only a piece or two are needed: an edit)."""
    job.base.parent.mkdir(parents=True, exist_ok=True)
    rate = _info(job.wav).rate
    streams = _streams(job, rate, settings, "0")
    level = level_filter(job.gain, PROFILES[settings.profile])

    def run(graph: str, outputs: list[str]) -> str:
        return run_ffmpeg_fed(
            [*_source_args(rate), "-filter_complex", graph, *outputs], _samples(job.wav, job.piece),
            "encoding audio", path=job.wav,
        )  # fmt: skip

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            first = pool.submit(
                run, f"[0:a]{level},asplit=2[mx][px];[mx]{streams.mp3_branch}[m0];[px]{named_probe('0')}[p0]",
                [*streams.to_mp3, "-map", "[p0]", "-f", "null", "-"],
            )  # fmt: skip
            second = pool.submit(run, f"[0:a]{level},{streams.aac_branch}[a0]", streams.to_aac)
            log = first.result()
            second.result()
        return _kept(job, rate, streams.leads, probe_result(log, "0"))
    finally:
        _cleanup([job])


def _encode_batch(jobs: Sequence[_Job], settings: Settings) -> list[Encoded]:
    """Level and encode one or more pieces of one chapter WAV in one ffmpeg run: the stretch they
    cover is read once, and each piece cut from it gets its own limiter and encoders, so its
    streams are the same bytes in any batch, or split (tested)."""
    wav = jobs[0].wav
    rate = _info(wav).rate
    low, high = min(j.piece.start for j in jobs), max(j.piece.end for j in jobs)
    graph = [f"[0:a]asplit={len(jobs)}" + "".join(f"[x{n}]" for n in range(len(jobs)))]
    outputs: list[str] = []
    streams = []
    for n, job in enumerate(jobs):
        job.base.parent.mkdir(parents=True, exist_ok=True)
        piece = _streams(job, rate, settings, str(n))
        trim = f"atrim=start_sample={job.piece.start - low}:end_sample={job.piece.end - low},asetpts=PTS-STARTPTS"
        graph.append(_both(f"[x{n}]{trim},{level_filter(job.gain, PROFILES[settings.profile])},", piece, str(n)))
        outputs += [*piece.to_mp3, *piece.to_aac, "-map", f"[p{n}]", "-f", "null", "-"]
        streams.append(piece)
    try:
        log = run_ffmpeg_fed(
            [*_source_args(rate), "-filter_complex", ";".join(graph), *outputs],
            _samples(wav, Piece(low, high)), "encoding audio", path=wav,
        )  # fmt: skip
        return [
            _kept(job, rate, piece.leads, probe_result(log, str(n)))
            for n, (job, piece) in enumerate(zip(jobs, streams, strict=True))
        ]
    finally:
        _cleanup(jobs)


def _batches(jobs: list[_Job], cores: int) -> list[list[_Job]]:
    """Missing pieces in runs of at most BATCH from the same chapter WAV, in a number of runs
    that keeps every core busy."""
    groups: list[list[_Job]] = []
    for job in jobs:
        if groups and groups[-1][0].wav == job.wav:
            groups[-1].append(job)
        else:
            groups.append([job])
    batches = []
    for group in groups:
        count = -(-len(group) // BATCH)
        count = min(len(group), -(-count // cores) * cores)
        size, extra = divmod(len(group), count)
        at = 0
        for k in range(count):
            take = size + (k < extra)
            batches.append(group[at : at + take])
            at += take
    return batches


def encode_segments(jobs: Sequence[tuple[Path, Piece, float]], settings: Settings, store: Path) -> list[Encoded]:
    """Encode (or find in `store`) every (chapter WAV, piece, gain), side by side, one ffmpeg per core."""
    cores = os.cpu_count() or 1

    def base(job: tuple[Path, Piece, float]) -> Path:
        key = _key(*job, settings)
        return store / key[:2] / key

    with ThreadPoolExecutor(max_workers=cores) as pool:
        bases = list(pool.map(base, jobs))
        found = list(pool.map(_cached, bases))
        first: dict[Path, int] = {}  # a piece twice (the same samples and gain) is encoded once
        for n, hit in enumerate(found):
            if hit is None:
                first.setdefault(bases[n], n)
        todo = [_Job(*jobs[n], base) for base, n in first.items()]
        if len(todo) < cores:  # an edit: each piece by two processes, MP3 ‖ AAC
            made = list(pool.map(lambda job: _encode_split(job, settings), todo))
        else:
            runs = pool.map(lambda batch: _encode_batch(batch, settings), _batches(todo, cores))
            made = [encoded for run in runs for encoded in run]
        by_base = {job.base: encoded for job, encoded in zip(todo, made, strict=True)}
        found = [hit if hit is not None else by_base[bases[n]] for n, hit in enumerate(found)]
    return [hit for hit in found if hit is not None]


@dataclass(frozen=True)
class Placement:
    """Where a chapter's pieces landed in its joined MP3 (seconds)."""

    pieces: list[Piece]
    starts: list[float]
    rate: int

    def move(self, cue: Cue) -> Cue:
        """The cue at its time in the joined file (a cue never straddles a cut)."""
        at = round(cue.start * self.rate)
        k = max(i for i, piece in enumerate(self.pieces) if piece.start <= at or i == 0)
        shift = self.starts[k] - self.pieces[k].start / self.rate
        return Cue(cue.sentence_id, cue.text, cue.start + shift, cue.end + shift)

    @property
    def duration(self) -> float:
        """Length of the joined file once trimmed (the last piece's own length after its start)."""
        last = self.pieces[-1]
        return self.starts[-1] + (last.end - last.start) / self.rate


def gapped_wav(wav: Path, placement: Placement, dest: Path) -> None:
    """`wav` with silence put between its pieces so each starts where it does in the joined MP3
    (for encoding the same chapter again in one go, e.g. smaller for the read-aloud EPUB)."""
    source = _info(wav)
    with WavWriter(dest, source.rate, source.channels, source.width) as out:
        width = source.width
        written = 0
        for piece, start in zip(placement.pieces, placement.starts, strict=True):
            target = round(start * placement.rate)
            if target > written:
                out.writeframes(bytes(width * (target - written)))
                written = target
            for frames in _samples(wav, piece):
                out.writeframes(frames)
                written += len(frames) // width
