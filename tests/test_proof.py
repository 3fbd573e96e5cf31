"""Proof-listening: heard words to sentences, WER, flagged sentences, lexicon suggestions, the report
files, and the missing-extra message. One end-to-end run transcribes real eSpeak NG narration."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html

from publisher.cli import cli
from publisher.prepare.lexicon import Lexicon, LexiconEntry
from publisher.proof.asr import Decoding, HeardWord
from publisher.proof.compare import align, join_single_letters, metric, normalise_words
from publisher.proof.page import render_page
from publisher.proof.report import ChapterScore, ProofReport
from publisher.proof.score import SentenceCue, SentenceResult, assign, chapters_of, refine, tally, windows
from publisher.proof.suggest import MIN_PLACES, phonemes, suggest


def _words(text: str, start: float, step: float = 0.3) -> list[HeardWord]:
    return [HeardWord(w, start + i * step, start + i * step + 0.25, 0.9) for i, w in enumerate(text.split())]


def _cue(sentence_id: str, text: str, start: float, end: float, chapter: int = 1) -> SentenceCue:
    return SentenceCue(sentence_id, text, start, end, chapter)


def test_normaliser_makes_spelling_and_number_forms_equal() -> None:
    assert normalise_words("Mr. Putin met the U.S. Army's honour guard.") == normalise_words(
        "Mister Putin met the US army's honor guard"
    )
    assert join_single_letters("the u s and a b c army") == "the us and abc army"
    assert normalise_words("twenty-one", "en") == normalise_words("21", "en")


def test_languages_without_spaces_are_compared_by_character() -> None:
    assert normalise_words("早上，玛丽走到港口。", "zh-Hans") == list("早上玛丽走到港口")
    assert normalise_words("船はもう海に出ていて", "ja") == list("船はもう海に出ていて")
    assert metric("zh")[:2] == ("CER", "characters") and metric("fr")[:2] == ("WER", "words")
    alignment = align(normalise_words("玛丽走到港口", "zh"), normalise_words("玛丽走到海口", "zh"))
    assert (alignment.substitutions, alignment.wer) == (1, 1 / 6)


def test_alignment_lists_what_was_heard_instead() -> None:
    a = align(normalise_words("Putin has taken it further."), normalise_words("cued in has taken it further"))
    assert a.missed == [("putin", "cued in")]
    assert (a.substitutions, a.deletions, a.insertions) == (1, 0, 1)
    assert a.wer == pytest.approx(2 / 5)
    assert align(["a", "b"], []).wer == 1.0 and align([], []).wer == 0.0


def test_cues_know_their_chapter_and_windows_never_cross_one() -> None:
    raw = [("title-s0001", "A Book", 0.5, 1.5), ("c01-s0001", "One.", 2.0, 3.0), ("c02-s0001", "Two.", 4.0, 5.0)]
    raw.append(("closing-s0001", "The end.", 6.0, 7.0))
    cues = chapters_of(raw)
    assert [c.chapter for c in cues] == [1, 1, 2, 2]
    assert [[c.sentence_id for c in g] for g in windows(cues)] == [
        ["title-s0001", "c01-s0001"],
        ["c02-s0001", "closing-s0001"],
    ]
    long = [_cue(f"c01-s{i:04d}", "x", i * 10.0, i * 10.0 + 8) for i in range(7)]
    assert [len(g) for g in windows(long, limit=28.0)] == [3, 3, 1]


def test_each_heard_word_goes_to_the_sentence_whose_cue_holds_it() -> None:
    cues = [_cue("c01-s0001", "The cat sat.", 0.0, 1.0), _cue("c01-s0002", "The dog ran.", 1.4, 2.4)]
    heard = _words("The cat sat.", 0.05) + _words("The dog ran.", 1.45)
    results = assign(cues, heard)
    assert [r.heard for r in results] == ["The cat sat.", "The dog ran."]
    refine(results, "en")
    assert all(r.score == 0 for r in results)
    assert tally(results, "en").wer == 0


def test_a_word_late_across_a_boundary_is_moved_back() -> None:
    cues = [_cue("c01-s0001", "The cat sat down.", 0.0, 1.2), _cue("c01-s0002", "Then it slept.", 1.5, 2.5)]
    # Whisper put "down" after the pause: by time it belongs to the second sentence
    heard = [*_words("The cat sat", 0.05), HeardWord("down.", 1.36, 1.5, 0.8), *_words("Then it slept.", 1.6)]
    results = assign(cues, heard)
    assert results[1].heard.startswith("down.")
    refine(results, "en")
    assert [r.heard for r in results] == ["The cat sat down.", "Then it slept."]
    assert [r.score for r in results] == [0, 0]


def _result(sentence_id: str, text: str, heard: str, start: float = 0.0) -> SentenceResult:
    cue = _cue(sentence_id, text, start, start + 3)
    return SentenceResult(cue, _words(heard, start), align(normalise_words(text), normalise_words(heard)))


def test_lexicon_suggestion_needs_two_places_and_gives_the_voices_phonemes() -> None:
    results = [
        _result("c01-s0001", "Putin spoke.", "cued in spoke", 0),
        _result("c01-s0002", "Then Putin left.", "then cued in left", 4),
        _result("c01-s0003", "Nobody met Siobhan.", "nobody met shy oban", 8),  # once: the recogniser's slip
        _result("c01-s0004", "Mary waved and Mary left.", "waved and left", 12),  # not heard at all: no guess
        _result("c01-s0005", "Mary came back.", "came back", 16),
    ]
    found = suggest(results, "en-US")
    assert [s.word for s in found] == ["Putin"]
    (putin,) = found
    assert putin.places == ["c01-s0001", "c01-s0002"] and len(putin.places) >= MIN_PLACES
    assert putin.heard == ["cued in"]
    assert putin.phonemes == phonemes("Putin", "en-us") == "pjˈuːtɪn"  # eSpeak NG's "pew-tin"
    assert putin.line == "Putin: [[ pjˈuːtɪn ]] | Putin"
    # a word already in the lexicon shows the phonemes the voice was given from it
    (listed,) = suggest(results, "en-US", Lexicon({"Putin": LexiconEntry("pˈuːtɪn", "Pootin")}))
    assert listed.in_lexicon and listed.phonemes == "pˈuːtɪn"


def test_a_word_mostly_heard_right_is_not_suggested() -> None:
    results = [_result(f"c01-s{i:04d}", "Anna sang.", "anna sang", i * 4) for i in range(8)]
    results += [_result("c01-s0100", "Anna sang.", "hannah sang", 40), _result("c01-s0101", "Anna sang.", "ana sang")]
    assert suggest(results, "en") == []  # missed in 2 of 10 sentences


def _report(results: list[SentenceResult]) -> ProofReport:
    flagged = [r for r in results if r.score > 0]
    return ProofReport(
        "demo", "A <Demo> & Test", "en-US", "demo.mp3", 20.0, Decoding("tiny.en"), tally(results, "en"),
        [ChapterScore(1, "One", 0.0, 20.0, tally(results, "en"))], flagged, suggest(results, "en"), len(results),
    )  # fmt: skip


def test_page_has_one_playable_link_per_flagged_sentence() -> None:
    results = [
        _result("c01-s0001", "Putin spoke.", "cued in spoke", 0),
        _result("c01-s0002", "Then Putin left.", "then cued in left", 4),
        _result("c01-s0003", "All was well.", "all was well", 8),
    ]
    page = lxml_html.document_fromstring(render_page(_report(results)))
    links = page.xpath("//a[@class='play']")
    assert len(links) == 2
    for link, result in zip(links, [r for r in results if r.score > 0], strict=True):
        assert link.get("href") == f"demo.mp3#t={result.cue.start:.3f},{result.cue.end:.3f}"
        assert float(link.get("data-start")) == result.cue.start and float(link.get("data-end")) == result.cue.end
    assert page.get_element_by_id("narration").get("src") == "demo.mp3"
    assert page.find(".//title").text == "Proof-listening: A <Demo> & Test"  # escaped, not markup
    assert "Putin: [[ pjˈuːtɪn ]] | Putin" in page.find(".//pre").text_content()
    policy = page.find(".//meta[@http-equiv='Content-Security-Policy']").get("content")
    assert "script-src 'sha256-" in policy and "style-src 'sha256-" in policy


def test_missing_extra_is_one_line_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, runner: CliRunner, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # what an install without the extra looks like
    (tmp_path / "pub").mkdir()
    (tmp_path / "pub" / ".publisher.json").write_text("{}", encoding="utf-8")
    result = runner.invoke(cli, ["proof", str(tmp_path / "pub")])
    assert result.exit_code == 6
    assert result.stderr == "error: proof-listening needs faster-whisper: pip install 'publisher[proof]'\n"
    # publish --proof says so before narrating anything
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("Title\n\nOne line.\n", encoding="utf-8")
    result = runner.invoke(cli, ["publish", str(tmp_path / "src"), "-o", str(tmp_path / "out"), "--proof"])
    assert result.exit_code == 6 and "pip install 'publisher[proof]'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_proof_of_a_folder_that_was_never_published(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["proof", str(tmp_path)])
    assert result.exit_code != 0 and "nothing to proof" in result.stderr


SPEECH = """The Names

By Ada Vale

Siobhan walked to the harbour in the morning. The boats were already out at sea.

Later, Siobhan met an old friend by the water. They talked about the weather and the fish.

In the evening Siobhan went home and read a book by the fire.
"""


@pytest.fixture(scope="module")
def proofed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, str]:
    """A short text published with eSpeak NG and proof-listened with `publish --proof` (real Whisper)."""
    root = tmp_path_factory.mktemp("proof")
    (root / "src").mkdir()
    (root / "src" / "names.txt").write_text(SPEECH, encoding="utf-8")
    args = ["publish", str(root / "src"), "-o", str(root / "out"), "--engine", "espeak", "--proof"]
    args += ["--cache-dir", str(root / "cache"), "--no-daisy", "--no-audiobooks", "--no-read-aloud"]
    result = CliRunner(mix_stderr=False).invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    folder = root / "out" / "names"
    return folder, json.loads((folder / "proof.json").read_text(encoding="utf-8")), result.stdout


@pytest.mark.slow
def test_real_transcription_report(proofed: tuple[Path, Any, str]) -> None:
    folder, report, stdout = proofed
    manifest = json.loads((folder / ".publisher.json").read_text(encoding="utf-8"))
    assert report["slug"] == "names" and report["model"] == "tiny.en" and report["audio"] == "names.mp3"
    assert report["sentences"] == len(manifest["cues"])
    assert 0 <= report["wer"] < 0.5, report  # eSpeak is robotic, but most words are heard
    assert report["words"] > 50
    (chapter,) = report["chapters"]
    assert chapter["wer"] == report["wer"] and chapter["title"] == "The Names"
    cues = {c[0]: c for c in manifest["cues"]}
    confidences = [f["confidence"] for f in report["flagged"]]
    assert confidences, "eSpeak's 'Siobhan' should be misheard somewhere"
    assert confidences == sorted(confidences, reverse=True)
    assert all(report["threshold"] <= c <= 1 for c in confidences)
    for entry in report["flagged"]:
        cue = cues[entry["sentence"]]
        assert (entry["text"], entry["start"], entry["end"]) == (cue[1], round(cue[2], 3), round(cue[3], 3))
        assert set(entry) >= {"rank", "chapter", "heard", "missed", "score", "reason", "words"}
        assert entry["words"] and entry["reason"] == "; ".join(w["reason"] for w in entry["words"])
        for word in entry["words"]:
            assert word["word"] in entry["text"] and 0 <= word["probability"] <= 1
            assert report["threshold"] <= word["confidence"] <= entry["confidence"]
    for suggestion in report["lexicon"]:
        assert len(suggestion["places"]) >= 2 and suggestion["line"].startswith(suggestion["word"] + ": [[ ")
    assert stdout.splitlines()[-1] == f"  → {folder / 'proof.html'}"
    assert "names: WER" in stdout


@pytest.mark.slow
def test_real_page_links_every_flagged_sentence(proofed: tuple[Path, Any, str]) -> None:
    folder, report, _ = proofed
    page = lxml_html.parse(str(folder / "proof.html")).getroot()
    links = page.xpath("//a[@class='play']")
    assert len(links) == len(report["flagged"])
    for link, entry in zip(links, report["flagged"], strict=True):
        assert link.get("href") == f"names.mp3#t={entry['start']:.3f},{entry['end']:.3f}"
    assert (folder / "names.mp3").is_file() and (folder / "index.html").is_file()


@pytest.mark.slow
def test_silent_narration_is_refused(tmp_path: Path, runner: CliRunner) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "quiet.txt").write_text("Quiet\n\nNothing is said here at all, not one word.\n", "utf-8")
    args = ["publish", str(tmp_path / "src"), "-o", str(tmp_path / "out"), "--engine", "silent", "--no-daisy"]
    assert runner.invoke(cli, [*args, "--cache-dir", str(tmp_path / "cache")]).exit_code == 0
    result = runner.invoke(cli, ["proof", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 3
    assert "hardly any speech heard" in result.stderr and "silent engine" in result.stderr
    assert not (tmp_path / "out" / "quiet" / "proof.json").exists()


@pytest.mark.slow
def test_check_summarises_the_report_and_fails_above_max_wer(proofed: tuple[Path, Any, str]) -> None:
    folder, report, _ = proofed
    runner = CliRunner(mix_stderr=False)
    result = runner.invoke(cli, ["check", str(folder / "proof.json")])
    assert result.exit_code == 0, result.stdout
    line = result.stdout.splitlines()[0]
    assert line.startswith("ok    proof-listening") and f"WER {report['wer']:.3f}" in line
    assert f"{len(report['flagged'])} of {report['sentences']} sentences flagged" in line
    assert report["wer"] > 0  # eSpeak's "Siobhan" is misheard
    result = runner.invoke(cli, ["check", str(folder / "proof.json"), "--max-wer", "0"])
    assert result.exit_code == 8
    assert f"WER {report['wer']:.3f} is above --max-wer 0" in result.stdout
    assert "worst: " in result.stdout
    result = runner.invoke(cli, ["check", str(folder / "proof.json"), "--max-wer", "0.9"])
    assert result.exit_code == 0


@pytest.mark.slow
def test_check_fails_a_report_of_other_audio_or_unreadable(proofed: tuple[Path, Any, str], tmp_path: Path) -> None:
    folder, _, _ = proofed
    copy = tmp_path / folder.name
    copy.mkdir()
    manifest = json.loads((folder / ".publisher.json").read_text(encoding="utf-8"))
    (copy / ".publisher.json").write_text(json.dumps(manifest | {"fingerprint": "0" * 64}), encoding="utf-8")
    (copy / "proof.json").write_bytes((folder / "proof.json").read_bytes())
    runner = CliRunner(mix_stderr=False)
    result = runner.invoke(cli, ["check", str(copy)])
    assert result.exit_code == 8
    assert "made from an earlier narration than the one published here" in result.stdout
    (copy / "proof.json").write_text('{"wer": ', encoding="utf-8")
    result = runner.invoke(cli, ["check", str(copy / "proof.json")])
    assert result.exit_code == 8 and "FAIL  proof-listening" in result.stdout
    assert "not a readable proof-listening report" in result.stdout


def test_the_joined_recogniser_model_is_made_once_and_marked_used_each_time(tmp_path: Path) -> None:
    """The multilingual model is joined from its two packages into the cache once; each later use
    touches it, so `cache prune` keeps it while it is used."""
    from publisher.proof.asr import join_parts
    from publisher.speech.cache import ClipCache

    parts = [tmp_path / "model.bin.part1", tmp_path / "model.bin.part2"]
    parts[0].write_bytes(b"first half ")
    parts[1].write_bytes(b"second half")
    companion = tmp_path / "config.json"
    companion.write_text("{}", encoding="utf-8")
    target = join_parts(parts, [companion], tmp_path / "cache")
    assert (target / "model.bin").read_bytes() == b"first half second half" and (target / "config.json").is_file()
    old = time.time() - 40 * 86400
    for path in target.iterdir():
        os.utime(path, (old, old))
    assert join_parts(parts, [companion], tmp_path / "cache") == target
    assert all(p.stat().st_mtime > old + 86400 for p in target.iterdir())
    assert ClipCache(tmp_path / "cache").prune(older_than_days=30) == (0, 0)
