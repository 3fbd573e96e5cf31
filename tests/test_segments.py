"""Chapter audio in cached segments: an edit re-encodes one segment, and joining segments keeps
every sentence where its cue says (compared with the same chapter encoded in one piece)."""

from __future__ import annotations

import array
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from tests.helpers import publish_one

from publisher.audio import segments
from publisher.audio.loudness import measure
from publisher.ffmpeg import ffmpeg_exe
from publisher.pipeline.results import SourceResult
from publisher.settings import Settings

SEED = Path(__file__).parent.parent / "sources" / "putin-today.txt"


def decoded(path: Path) -> array.array[int]:
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-"], capture_output=True, check=True
    ).stdout
    return array.array("h", out)


def run(project: Path, output: str = "output") -> SourceResult:
    settings = Settings(engine="espeak", output=project / output, cache=project / "cache")
    return publish_one(project / "sources" / SEED.name, settings)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "sources").mkdir()
    shutil.copy(SEED, tmp_path / "sources")
    return tmp_path


def segment_files(project: Path) -> set[Path]:
    return set((project / "cache" / "segments").rglob("*.json"))


def test_sentences_are_heard_where_their_cues_say(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each sentence's sound sits at the same place after its cue as in the same chapter encoded in
    one piece: the cuts, the encoders' delays and the trims move nothing (within 1 ms, found by
    cross-correlating the two decodes around every cue)."""
    cut = run(project)
    pieces = segment_files(project)
    assert len(pieces) >= 6  # 169 s of speech in segments of 4 to about 20 s
    monkeypatch.setattr(segments, "SEGMENT_SECONDS", 1e9)
    monkeypatch.setattr(segments, "ANCHORS", 10**9)
    whole = run(project, "whole")
    assert len(segment_files(project) - pieces) == 1  # the chapter in one piece
    rate = MP3(cut.full.path).info.sample_rate
    cut_audio, whole_audio = decoded(cut.full.path), decoded(whole.full.path)
    assert len(cut.cues) == len(whole.cues) == 25
    x, y = np.asarray(cut_audio, dtype=np.float64), np.asarray(whole_audio, dtype=np.float64)
    later = 0.0
    reach = rate // 100  # search ±10 ms
    for a, b in zip(cut.cues, whole.cues, strict=True):
        assert a.sentence_id == b.sentence_id and a.end - a.start == pytest.approx(b.end - b.start, abs=1e-6)
        ref = y[round(b.start * rate) : round(b.start * rate) + rate // 2]  # the sentence's first half second
        at = round(a.start * rate)
        scores = [float(np.dot(x[at + d : at + d + len(ref)], ref)) for d in range(-reach, reach + 1)]
        shift = (int(np.argmax(scores)) - reach) / rate
        assert abs(shift) <= 0.001, (a.sentence_id, shift)
        later = max(later, a.start - b.start)
    assert 0 <= later < 0.4  # the pauses at the cuts grew by at most the frames' padding
    for path in (cut.full.path, cut.folder / "putin-today.m4b"):
        assert -20.0 <= measure(path).integrated <= -18.0, path


def test_an_edit_encodes_only_its_segment_again(project: Path) -> None:
    first = run(project)
    before = segment_files(project)
    source = project / "sources" / SEED.name
    source.write_text(source.read_text(encoding="utf-8").replace("another level", "a new level"), encoding="utf-8")
    edited = run(project)
    made = segment_files(project) - before
    assert len(made) == 1, made  # the segment with the edited sentence; every other one came from the cache
    assert json.loads(next(iter(made)).read_text(encoding="utf-8"))["mp3_seconds"] > 5
    assert edited.synthesized == 1
    changed = [c for c in edited.cues if "a new level" in c.text]
    assert len(changed) == 1
    same = [a for a, b in zip(first.cues, edited.cues, strict=True) if a.sentence_id == b.sentence_id]
    assert same[0].start == edited.cues[0].start  # cues before the edit did not move
    m4b = MP4(edited.folder / "putin-today.m4b")
    assert len(m4b.chapters) == 7 and m4b.info.length == pytest.approx(edited.duration, abs=0.5)
    # mutagen counts whole frames (it does not read the encoder delay and padding: up to 52 ms)
    assert 0 <= MP3(edited.full.path).info.length - edited.duration < 0.053


def test_a_piece_encodes_to_the_same_bytes_alone_split_or_in_a_batch(tmp_path: Path) -> None:
    """A first publish encodes a chapter's pieces several to an ffmpeg run, an edit one piece at a
    time (MP3 and AAC by two processes): the cached streams and the measured loudness must not
    depend on which, or an interrupted run would not finish like an uninterrupted one."""
    import wave

    rate = 22050
    tone = np.sin(np.arange(rate * 30) * 2 * np.pi * 220 / rate) * np.linspace(0.05, 0.6, rate * 30)
    wav = tmp_path / "chapter.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(rate)
        out.writeframes((tone * 32767).astype("<i2").tobytes())
    settings = Settings()
    pieces = [
        segments.Piece(0, 9 * rate),
        segments.Piece(9 * rate, 21 * rate),
        segments.Piece(21 * rate, 30 * rate, True),
    ]

    def encode(how: str) -> list[tuple[bytes, bytes, float, float, float]]:
        jobs = [segments._Job(wav, piece, 3.0, tmp_path / how / f"{n:02}" / "seg") for n, piece in enumerate(pieces)]
        if how == "batch":
            made = segments._encode_batch(jobs, settings)
        elif how == "alone":
            made = [e for job in jobs for e in segments._encode_batch([job], settings)]
        else:
            made = [segments._encode_split(job, settings) for job in jobs]
        return [
            (e.mp3.read_bytes(), e.aac.read_bytes(), e.mp3_seconds, e.loudness.integrated, e.loudness.rms) for e in made
        ]

    batch = encode("batch")
    assert encode("alone") == batch
    assert encode("split") == batch
    assert len({round(b[3], 1) for b in batch}) == 3  # louder and louder: each piece measured on its own


def test_the_same_piece_twice_is_encoded_once(tmp_path: Path) -> None:
    """Two pieces with the same samples and gain (a refrain) share one cache entry; encoding them in
    one batch must not have two encoders write the same file."""
    import wave

    rate = 22050
    tones = [220, 330, 330, 440, 550, 660]  # pieces 1 and 2 alike, in the same batch of three
    bars = [np.sin(np.arange(rate * 5) * 2 * np.pi * hz / rate) * 0.3 for hz in tones]
    wav = tmp_path / "chapter.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(rate)
        out.writeframes((np.concatenate(bars) * 32767).astype("<i2").tobytes())
    pieces = [segments.Piece(k * 5 * rate, (k + 1) * 5 * rate, k == 5) for k in range(6)]
    made = segments.encode_segments([(wav, p, 0.0) for p in pieces], Settings(), tmp_path / "store")
    assert len(made) == 6 and made[1] == made[2] and len({e.mp3 for e in made}) == 5
    assert len(list((tmp_path / "store").rglob("*.json"))) == 5
    assert all(len(decoded(e.mp3)) > 4 * rate for e in made)
    assert not list((tmp_path / "store").rglob("*.tmp*"))
