"""Proof-listening's confidence: each written word's evidence (teacher-forced probability and what the
free transcript heard) → confidence and reason; the injection evaluation; and, end to end with the
default Piper voice and Whisper, a misreading injected through the lexicon is flagged, named and
ranked first, by `publisher proof` and by `score_clip` alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from publisher.cli import cli
from publisher.proof import score_clip
from publisher.proof.asr import decode_window
from publisher.proof.compare import normalise_words
from publisher.proof.evaluate import GROSS, evaluate, holds, inject
from publisher.proof.forced import WordScore, speakable
from publisher.proof.verdict import THRESHOLD, confidence_of, judge


def _scores(text: str, low: dict[str, float]) -> list[WordScore]:
    """Teacher-forced scores as `expected_words` gives them: 0.99 unless listed in `low`."""
    return [WordScore(w, low.get(w, 0.99), i * 0.4, i * 0.4 + 0.3) for i, w in enumerate(text.split())]


def _finding(findings: list[Any], word: str) -> Any:
    (found,) = [f for f in findings if f.word == word]
    return found


def test_confidence_is_a_log_scale_of_the_evidence() -> None:
    assert confidence_of(0.1) == pytest.approx(0.25) and confidence_of(0.01) == pytest.approx(0.5)
    assert confidence_of(1e-4) == 1.0 and confidence_of(0.0) == 1.0 and confidence_of(1.0) == 0.0
    assert confidence_of(0.025) > THRESHOLD > confidence_of(0.03)


def test_a_word_heard_as_another_counts_ten_times_over() -> None:
    text = "the threat pushed the Biden administration"
    findings = judge(_scores(text, {"Biden": 0.07}), "the threat pushed the bid and administration", "en")
    biden = _finding(findings, "Biden")
    assert biden.heard == "bid and" and biden.confidence == pytest.approx(confidence_of(0.007))
    assert biden.confidence >= THRESHOLD
    assert biden.reason == "“Biden” heard as “bid and” (the recogniser gives the written word 7.0%)"
    assert all(f.confidence == 0 and f.as_written for f in findings if f.word != "Biden")  # p × 10 ≥ 1


def test_a_word_heard_as_written_needs_a_much_lower_probability() -> None:
    heard = "Putin has proven that he can hurt"
    findings = judge(_scores(heard, {"Putin": 0.006}), heard, "en")
    assert _finding(findings, "Putin").confidence < THRESHOLD  # a name at a clip's start: not flagged
    findings = judge(_scores(heard, {"Putin": 0.0002}), heard, "en")
    putin = _finding(findings, "Putin")
    assert putin.confidence >= THRESHOLD and putin.as_written
    assert "heard as written, but the recogniser gives the written word 0.02%" in putin.reason


def test_recogniser_spelling_is_not_a_finding() -> None:
    # "into" for "in to": the same letters; "U .S." and " -out" are Whisper's spacing
    text = "officials in the U.S. are too sucked in to an all-out war"
    heard = "officials in the U .S. are too sucked into an all -out war"
    findings = judge(_scores(text, {"in": 0.018, "to": 0.2}), heard, "en")
    assert max(f.confidence for f in findings) < THRESHOLD
    assert normalise_words(heard) == [*normalise_words(text)[:7], "into", "an", "all", "out", "war"]
    # another ending ("Houthi" for "Houthis") is judged on the probability alone, no boost
    findings = judge(_scores("and the Houthis attack", {"Houthis": 0.05}), "and the Houthi attack", "en")
    houthis = _finding(findings, "Houthis")
    assert houthis.confidence == pytest.approx(confidence_of(0.05)) and houthis.confidence < THRESHOLD


def test_a_word_not_heard_is_judged_on_its_probability() -> None:
    findings = judge(_scores("By Ava Cai", {"Ava": 0.007, "Cai": 0.005}), "by Avakai", "en")
    assert _finding(findings, "Cai").heard == "" and "“Cai” not heard" in _finding(findings, "Cai").reason
    assert _finding(findings, "Cai").confidence == pytest.approx(confidence_of(0.005))
    assert _finding(findings, "Ava").heard == "avakai"


def test_speakable_text_is_written_as_whisper_writes() -> None:
    assert speakable("his “plans” — Russia’s war") == "his plans, Russia's war"


def test_injection_and_its_evaluation() -> None:
    lexicon = "# comment\nPutin: [[ pˈuːtɪn ]] | Pootin\nMoscow: Moskva\n"
    out = inject(lexicon, {"Moscow": "Boston", "tactic": "tadpole"})
    assert out.splitlines() == ["# comment", "Putin: [[ pˈuːtɪn ]] | Pootin", "Moscow: Boston", "tactic: tadpole"]
    assert holds("experts in Moscow discuss", "Moscow") and not holds("Moscow's", "Mosc")
    assert holds("The Tactic", "tactic") and not holds("moscow", "Moscow")  # case as the lexicon matches
    sentences = {"s1": "Experts in Moscow.", "s2": "A tactic.", "s3": "Putin today.", "s4": "Nothing here."}
    flagged = [
        {"sentence": "s3", "words": [{"word": "Putin"}]},
        {"sentence": "s1", "words": [{"word": "Moscow"}]},
        {"sentence": "s4", "words": [{"word": "here"}]},
    ]
    result = evaluate(flagged, sentences, ["Moscow", "tactic"], clean=["s3"], top=2)
    assert (result.positives, result.found, result.named, result.flagged, result.clean_flags) == (2, 1, 1, 3, 1)
    assert result.recall == 0.5 and result.precision == 0.5 and result.missed == ["s2"]
    assert (result.top_real, result.top_injected) == (2, 1)
    assert result.to_json()["top2_real"] == 2


TEXT = """A Walk by the Sea

The children walked to the harbour in the morning.

Later that day, their father took a train to Moscow to see his sister.

In the evening everyone went home and read by the fire.
"""


def _publish(root: Path, name: str, lexicon: str) -> Path:
    (root / name / "src").mkdir(parents=True)
    (root / name / "src" / "walk.txt").write_text(TEXT, encoding="utf-8")
    (root / name / "lexicon.txt").write_text(lexicon, encoding="utf-8")
    args = ["publish", str(root / name / "src"), "-o", str(root / name / "out"), "--proof", "--no-announce"]
    args += ["--lexicon", str(root / name / "lexicon.txt"), "--cache-dir", str(root / "cache")]
    args += ["--no-daisy", "--no-audiobooks", "--no-read-aloud"]
    result = CliRunner(mix_stderr=False).invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    return root / name / "out" / "walk"


@pytest.fixture(scope="module")
def walks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The short text narrated by the default Piper voice as written, and with "Moscow" said "Boston"."""
    root = tmp_path_factory.mktemp("confidence")
    return {
        "clean": _publish(root, "clean", ""),
        "gross": _publish(root, "gross", inject("", {"Moscow": GROSS["Moscow"]})),
    }


def _report(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "proof.json").read_text(encoding="utf-8"))


def _clip(folder: Path, sentence: str) -> Any:
    manifest = json.loads((folder / ".publisher.json").read_text(encoding="utf-8"))
    (cue,) = [c for c in manifest["cues"] if sentence in c[1]]
    return decode_window(folder / "walk.mp3", max(0.0, cue[2] - 0.2), cue[3] + 0.2), cue[1]


@pytest.mark.slow
def test_an_injected_misreading_is_flagged_first_with_its_word(walks: dict[str, Path]) -> None:
    report = _report(walks["gross"])
    assert report["threshold"] == THRESHOLD and report["flagged"]
    first = report["flagged"][0]
    assert "Moscow" in first["text"] and first["confidence"] >= THRESHOLD
    (trigger, *_) = first["words"]
    assert trigger["word"] == "Moscow" and trigger["heard"] != "Moscow" and 0 <= trigger["probability"] < 0.01
    assert first["reason"].startswith("“Moscow” heard as “")
    assert 0 <= first["start"] < first["end"] <= report["duration"] + 0.01
    # said as written, the same sentence is not flagged
    clean = _report(walks["clean"])
    assert clean["sentences"] == report["sentences"]
    assert first["sentence"] not in [f["sentence"] for f in clean["flagged"]], clean["flagged"]


@pytest.mark.slow
def test_score_clip_scores_one_sentence_like_the_proof(walks: dict[str, Path]) -> None:
    samples, text = _clip(walks["gross"], "Moscow")
    wrong = score_clip(samples, text, "en")
    assert wrong.flagged and wrong.triggers[0].word == "Moscow" and wrong.confidence >= THRESHOLD
    assert "Moscow" in wrong.reason and wrong.heard
    # after the "lexicon fix" (the clean narration) the same sentence passes
    samples, text = _clip(walks["clean"], "Moscow")
    fixed = score_clip(samples, text, "en")
    assert not fixed.flagged and fixed.reason == "" and fixed.confidence < THRESHOLD
    assert [w.word for w in fixed.words] == [w.strip(".,") for w in speakable(text).split()]
    # the studio's path: the sentence spoken again (api.speak's WAV bytes), with the wrong entry and without
    from publisher import api

    settings = api.Settings(cache=walks["clean"].parents[2] / "cache")
    spoken = api.speak(text, settings, lexicon={"Moscow": GROSS["Moscow"]})
    assert score_clip(spoken, text).triggers[0].word == "Moscow"
    assert not score_clip(api.speak(text, settings), text).flagged
