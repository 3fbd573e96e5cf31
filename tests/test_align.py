"""Recorded narration, the core: recordings found and decoded, pieces cut at silences, words paired,
sentences timed, the report. The end-to-end part hears a real recording the test makes (eSpeak NG
reading a preamble that is not in the text, then the text with one sentence left out)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from lxml import html as lxml_html
from tests.recordings import Made, speak

from publisher.align.match import pair_words
from publisher.align.pieces import FRAME, cut, frame_levels
from publisher.align.recording import SAMPLE_RATE, audio_files, natural_key, open_recording, probe, stream
from publisher.align.report import render_page, summary, write_report
from publisher.align.result import Written
from publisher.align.run import align_recording
from publisher.align.words import tokens
from publisher.errors import SourceError
from publisher.ffmpeg import ffmpeg_exe


def _tone(path: Path, seconds: float, extra: list[str] | None = None) -> Path:
    args = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            *(extra or []), str(path)]  # fmt: skip
    subprocess.run(args, check=True)
    return path


# --- recordings ---------------------------------------------------------------------------------


def test_a_folder_is_taken_in_natural_order(tmp_path: Path) -> None:
    for name in ("10 - end.mp3", "2 - middle.wav", "1 - start.flac"):
        _tone(tmp_path / name, 0.5)
    (tmp_path / "notes.txt").write_text("not audio", encoding="utf-8")
    (tmp_path / ".hidden.mp3").write_bytes(b"")
    assert [p.name for p in audio_files([tmp_path])] == ["1 - start.flac", "2 - middle.wav", "10 - end.mp3"]
    assert sorted(["b10", "b2", "a"], key=natural_key) == ["a", "b2", "b10"]
    recording = open_recording([tmp_path])
    assert [f.path.name for f in recording.files] == ["1 - start.flac", "2 - middle.wav", "10 - end.mp3"]
    assert recording.offsets[1] == pytest.approx(0.5, abs=0.06)
    assert recording.duration == pytest.approx(1.5, abs=0.15)


def test_unreadable_audio_is_one_line_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "chapter.mp3"
    bad.write_bytes(b"ID3" + bytes(range(256)) * 40)
    with pytest.raises(SourceError) as caught:
        probe(bad)
    assert caught.value.path == bad and "\n" not in str(caught.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="no audio file"):
        audio_files([empty])
    with pytest.raises(SourceError, match="no such recording"):
        audio_files([tmp_path / "missing.mp3"])


def test_a_truncated_file_fails_where_it_is_decoded(tmp_path: Path) -> None:
    good = _tone(tmp_path / "a.m4a", 2.0)
    cut_short = tmp_path / "b.m4a"
    cut_short.write_bytes(good.read_bytes()[:200])
    with pytest.raises(SourceError) as caught:
        list(stream(cut_short))
    assert caught.value.path == cut_short


def test_m4b_chapter_marks_are_read_as_hints(tmp_path: Path) -> None:
    meta = tmp_path / "meta.txt"
    meta.write_text(
        ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=Opening\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=The Second\n",
        encoding="utf-8",
    )
    book = tmp_path / "book.m4b"
    args = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=3", "-i", str(meta),
            "-map", "0:a", "-map_chapters", "1", "-c:a", "aac", "-f", "mp4", str(book)]  # fmt: skip
    subprocess.run(args, check=True)
    marks = probe(book).marks
    assert [(m.title, round(m.start, 2)) for m in marks] == [("Opening", 0.0), ("The Second", 1.5)]


def test_pieces_cover_the_file_once_and_are_cut_in_silence() -> None:
    rate, loud = SAMPLE_RATE, 0.3
    parts = []
    for n in range(8):  # 2.3 s of tone, then 0.4 s of silence, eight times
        t = np.arange(int(2.3 * rate)) / rate
        parts += [loud * np.sin(2 * np.pi * 300 * t).astype(np.float32), np.zeros(int(0.4 * rate), np.float32)]
        assert n < 8
    audio = np.concatenate(parts)
    blocks = [audio[i : i + rate] for i in range(0, len(audio), rate)]
    pieces = list(cut(iter(blocks), 0, limit=5.0))
    assert sum(len(p.samples) for p, _ in pieces) == len(audio)
    assert all(len(p.samples) <= 5.0 * rate for p, _ in pieces)
    at = 0.0
    for piece, levels in pieces:
        assert piece.start == pytest.approx(at)
        assert len(levels) == len(piece.samples) // int(SAMPLE_RATE * FRAME)
        at = piece.end
    for piece, _ in pieces[:-1]:  # every cut falls in a silence (tone every 2.7 s from 0 for 2.3 s)
        assert 2.3 <= piece.end % 2.7 <= 2.7
    assert frame_levels(np.zeros(SAMPLE_RATE, np.float32)).max() == -120.0


# --- words and pairing ------------------------------------------------------------------------


def test_words_compare_without_case_accents_punctuation_or_digits() -> None:
    assert tokens("L'Homme, né libre — en 1789!", "fr") == ("l", "homme", "ne", "libre", "en", "mille", "sept",
                                                            "cent", "quatre", "vingt", "neuf")  # fmt: skip
    assert tokens("It's 21 o'clock.", "en") == tokens("it s twenty-one o clock", "en")
    assert tokens("港口。", "zh") == ("港", "口")


def test_pairing_tolerates_misheard_skipped_repeated_and_extra_words() -> None:
    text = list(tokens("the quick brown fox jumps over the lazy dog then it sleeps in the warm sun all day long", "en"))
    heard = list(
        tokens(
            "this is a recording in the public domain "  # a preamble
            "the quick brown fox jumps over the lacy dog "  # a misheard word
            "then it sleeps then it sleeps in the warm sun "  # a repeat
            "long",  # "all day" skipped
            "en",
        )
    )
    pairs = pair_words(text, heard)
    paired = {i: j for i, j, _ in pairs}
    assert [heard[paired[i]] for i in range(0, 9)] == list(tokens("the quick brown fox jumps over the lacy dog", "en"))
    assert heard[paired[18]] == "long" and 16 not in paired and 17 not in paired
    assert all(j >= 7 for _, j, _ in pairs)  # nothing of the preamble is paired
    assert [p[:2] for p in pairs] == sorted(p[:2] for p in pairs)
    assert len({j for _, j, _ in pairs}) == len(pairs)
    assert next(score for i, _, score in pairs if i == 7) < 1.0


def test_a_long_text_pairs_by_anchors_and_another_text_pairs_little() -> None:
    rng = np.random.default_rng(7)
    vocabulary = [f"w{n}" for n in range(3000)]
    text = [str(w) for w in rng.choice(vocabulary, 20_000)]
    heard = ["intro"] * 50 + text[:9000] + text[9100:]  # a preamble, and 100 words skipped
    pairs = pair_words(text, heard)
    assert len(pairs) >= 19_800
    other = [str(w) for w in rng.choice(vocabulary, 20_000)]
    assert len(pair_words(other, heard)) < 2_000


# --- a real recording -------------------------------------------------------------------------

PREAMBLE = "This recording was made for a test. It belongs to everybody, and anyone may copy it."
SENTENCES = [
    ("The lighthouse keeper climbed the stairs every evening.", 1),
    ("He carried a lamp, a book and a small loaf of bread.", 1),
    ("From the top he could see the whole harbour.", 1),
    ("The ships came home slowly when the wind was weak.", 2),
    ("His daughter counted them from the window of the school.", 2),
    ("Nobody in the village ever forgot that winter.", 2),
]
SKIPPED = 4  # the reader leaves this sentence out


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Made:
    folder = tmp_path_factory.mktemp("recording")
    parts = [(PREAMBLE, 1.2)] + [(text, 0.7) for n, (text, _) in enumerate(SENTENCES) if n != SKIPPED]
    return speak(parts, folder / "reading.mp3")


def _written(sentences: list[tuple[str, int]] = SENTENCES) -> list[Written]:
    return [Written(f"c{ch:02d}-s{n:04d}", text, ch) for n, (text, ch) in enumerate(sentences, 1)]


@pytest.fixture(scope="module")
def aligned(recording: Made, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    cache = tmp_path_factory.mktemp("cache")
    alignment, _, transcript = align_recording(_written(), [recording.path], "en", cache)
    assert transcript.transcribed == 1
    return alignment, cache


def test_every_sentence_read_is_found_in_order_near_its_true_start(aligned: tuple[Any, Path], recording: Made) -> None:
    alignment, _ = aligned
    truth = {text: (start, end) for text, start, end in recording.times}
    for n, sentence in enumerate(alignment.sentences):
        if n == SKIPPED:
            assert not sentence.aligned and sentence.status == "interpolated"
            continue
        assert sentence.aligned, sentence
        start, end = truth[sentence.text]
        assert abs(sentence.start - start) < 0.25, (sentence, start)
        assert abs(sentence.end - end) < 0.4, (sentence, end)
        assert sentence.confidence >= 0.5
    assert alignment.in_order
    assert alignment.coverage == pytest.approx(5 / 6)
    before, after = alignment.sentences[SKIPPED - 1], alignment.sentences[SKIPPED + 1]
    assert before.end <= alignment.sentences[SKIPPED].start < alignment.sentences[SKIPPED].end <= after.start


def test_the_preamble_is_reported_as_audio_not_in_the_text(aligned: tuple[Any, Path], recording: Made) -> None:
    alignment, _ = aligned
    _, preamble_start, preamble_end = recording.times[0]
    first = alignment.stretches[0]
    assert first.start < preamble_end and first.end > preamble_start
    assert "recording" in first.heard and "test" in first.heard
    assert first.end <= alignment.sentences[0].start


def test_the_cache_hears_once_and_a_text_edit_aligns_again_without_hearing(
    aligned: tuple[Any, Path], recording: Made
) -> None:
    alignment, cache = aligned
    again, _, transcript = align_recording(_written(), [recording.path], "en", cache)
    assert transcript.transcribed == 0
    assert json.dumps(again.to_json()) == json.dumps(alignment.to_json())
    edited = list(SENTENCES)
    edited[1] = ("He carried a lantern, a book and a little loaf of bread.", 1)
    changed, _, transcript = align_recording(_written(edited), [recording.path], "en", cache)
    assert transcript.transcribed == 0
    assert changed.sentences[1].aligned and changed.sentences[1].text.startswith("He carried a lantern")


def test_another_text_is_hardly_covered(aligned: tuple[Any, Path], recording: Made) -> None:
    _, cache = aligned
    other = [
        ("Whereas recognition of the inherent dignity of all members of the human family is the foundation.", 1),
        ("Everyone has the right to life, liberty and security of person.", 1),
        ("No one shall be held in slavery or servitude.", 1),
        ("All are equal before the law and are entitled without any discrimination to equal protection.", 1),
    ]
    wrong, _, _ = align_recording(_written(other), [recording.path], "en", cache)
    assert wrong.coverage < 0.3


def test_report_files_and_summary(aligned: tuple[Any, Path], tmp_path: Path) -> None:
    alignment, _ = aligned
    written = write_report(alignment, tmp_path, "The Lighthouse")
    assert [p.name for p in written] == ["alignment.json", "alignment.html"]
    data = json.loads((tmp_path / "alignment.json").read_text(encoding="utf-8"))
    assert data["sentences"] == 6 and data["sentences_aligned"] == 5
    assert [s["status"] for s in data["timeline"]].count("interpolated") == 1
    assert data["timeline"][0]["recording"]["file"] == "reading.mp3"
    assert data["not_in_text"] and "recording" in data["not_in_text"][0]["heard"]
    page = lxml_html.fromstring((tmp_path / "alignment.html").read_bytes())
    assert page.get("lang") == "en"
    missing = page.xpath("//ol[@class='sentences']")[0]
    assert SENTENCES[SKIPPED][0] in missing.text_content()
    assert "recording" in page.xpath("//ol[@class='stretches']")[0].text_content()
    assert not page.xpath("//a[@class='play']")  # no published audio beside it: nothing to play
    cues = {s.sentence_id: (s.start + 10, s.end + 10) for s in alignment.sentences}
    played = lxml_html.fromstring(render_page(alignment, "The Lighthouse", "book.mp3", cues))
    assert played.xpath("//audio/@src") == ["book.mp3"]
    assert played.xpath("//a[@class='play']/@href")[0].startswith("book.mp3#t=")
    lines = summary(alignment.to_json(), "lighthouse")
    assert lines[0].startswith("lighthouse: 5 of 6 sentences found")
    assert any("not heard" in line and "harbour" not in line for line in lines[1:])


def test_a_transcript_read_from_the_cache_is_marked_used(tmp_path: Path) -> None:
    """What was heard in a recording file is kept in the cache; reading it again touches it, so
    `cache prune` keeps the transcripts of recordings still being published."""
    import os
    import time

    from publisher.align.transcribe import _load
    from publisher.speech.cache import ClipCache

    path = tmp_path / "cache" / "align" / "ab" / "abcdef.json"
    path.parent.mkdir(parents=True)
    np.save(path.with_suffix(".npy"), np.zeros(4, dtype=np.float16))
    path.write_text(json.dumps({"words": [[0.0, 0.4, "hello", 0.9]], "duration": 1.0}), encoding="utf-8")
    old = time.time() - 40 * 86400
    for used in (path, path.with_suffix(".npy")):
        os.utime(used, (old, old))
    heard = _load(path)
    assert heard is not None and [w.text for w in heard.words] == ["hello"]
    assert ClipCache(tmp_path / "cache").prune(older_than_days=30) == (0, 0)
    assert ClipCache(tmp_path / "cache").clear()[0] == 2
