"""Why a sentence is flagged: each written word's evidence (teacher-forced probability, what the free
transcript heard instead) turned into a confidence in 0–1 and a reason in words.

The evidence for a word is the probability `p` the recogniser gives the written word at its
place in the audio (`forced.expected_words`), weighed by what the free transcript heard there:

- another word ("Biden" heard as "bid and"): both say it is wrong, evidence `p / 10`;
- the word as written: the free transcript disagrees, evidence `p × 10` (on the seed, words
  heard as written but scored low were names at the start of a clip, not misreadings);
- nothing (a deletion), or the word with another ending ("Houthi" for "Houthis", "reasoned" for
  "reason", endings the voice did say): evidence `p`;
- the same letters spaced or hyphenated otherwise ("into" for "in to", "U .S." for "U.S."):
  spelling, not speech; never flagged.

confidence = −log10(evidence) / 4, clamped to 0–1: 0.25 when the word gets 1 in 10, 0.5 when it
gets 1 in 100, 1 at 1 in 10,000. A sentence's confidence is its least likely word's. The default
threshold (THRESHOLD) was calibrated on the seed with the default voice, clean and with
misreadings injected through the lexicon (BENCHMARKS.md, benchmarks/proof_eval.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from publisher.proof.compare import normalise_words, word_ops
from publisher.proof.forced import WordScore

THRESHOLD = 0.4  # flag a sentence whose confidence is at least this (evidence ≤ 1 in 10^1.6 ≈ 2.5%)
HEARD_BOOST = 10.0  # the free transcript heard another word too: the evidence counts this much more
AS_WRITTEN = 10.0  # the free transcript heard the word as written: the evidence counts this much less
_ENDINGS = ("s", "es", "ed", "d", "'s", "s'")
_NOT_LETTERS = re.compile(r"[^\w]|_")


@dataclass(frozen=True)
class WordFinding:
    """The evidence about one written word."""

    word: str  # as written
    heard: str  # what the free transcript heard in its place ("" = nothing; equal = as written)
    probability: float  # teacher-forced probability of the written word (0–1)
    confidence: float  # that the narration does not say this word as written (0–1)
    reason: str  # in words, for a person

    @property
    def as_written(self) -> bool:
        """Whether the free transcript heard the word as written (or only spelled differently)."""
        return self.heard == self.word


def confidence_of(evidence: float) -> float:
    """−log10(evidence) / 4, clamped to 0–1."""
    if evidence <= 0:
        return 1.0
    return max(0.0, min(1.0, -math.log10(evidence) / 4))


def _letters(words: Sequence[str]) -> str:
    return _NOT_LETTERS.sub("", "".join(words).lower())


def _ending_only(expected: str, heard: str) -> bool:
    a, b = _letters([expected]), _letters([heard])
    if not a or not b or a == b:
        return False
    short, long = sorted((a, b), key=len)
    return long.startswith(short) and long[len(short) :] in {e.replace("'", "") for e in _ENDINGS}


def _percent(p: float) -> str:
    if p >= 0.1:
        return f"{p:.0%}"
    if p >= 0.001:
        return f"{p:.1%}"
    return f"{p:.2%}" if p >= 0.0001 else "less than 0.01%"


def judge(expected: Sequence[WordScore], heard: str, language: str) -> list[WordFinding]:
    """Each written word's finding, given the teacher-forced scores of the sentence and its free transcript."""
    # the reference is built word by word so each normalised word knows which written word it came from
    owners: list[int] = []
    reference: list[str] = []
    for i, score in enumerate(expected):
        forms = normalise_words(score.word, language)
        reference += forms
        owners += [i] * len(forms)
    ops = word_ops(reference, normalise_words(heard, language))
    instead: dict[int, list[str]] = {}
    differs: dict[int, bool] = {}
    for (op, heard_words), owner in zip(ops, owners, strict=True):
        differs[owner] = differs.get(owner, False) or op != "equal"
        if heard_words and heard_words not in instead.setdefault(owner, []):
            instead[owner].append(heard_words)
    # runs of differing words whose letters equal what was heard there are spelling, not speech
    noise: set[int] = set()
    run: list[int] = []
    for i in [*range(len(expected)), -1]:
        if i >= 0 and differs.get(i):
            run.append(i)
            continue
        if run:
            written = [w for j in run for w in normalise_words(expected[j].word, language)]
            said = []
            for j in run:
                said += [h for h in instead.get(j, []) if h not in said]
            if _letters(written) == _letters(said):
                noise.update(run)
            run = []
    findings = []
    for i, score in enumerate(expected):
        p, pct = score.probability, _percent(score.probability)
        other = " ".join(instead.get(i, []))
        if i in noise:  # the same letters, spaced or hyphenated otherwise: said as written
            findings.append(WordFinding(score.word, score.word, p, 0.0, f"“{score.word}” heard as written"))
            continue
        if not differs.get(i):
            other, evidence = score.word, min(1.0, p * AS_WRITTEN)
            reason = f"“{score.word}” heard as written, but the recogniser gives the written word {pct}"
        elif not other:  # a word left out is more often the recogniser's slip than the narrator's
            evidence = p
            reason = f"“{score.word}” not heard (the recogniser gives the written word {pct})"
        else:
            evidence = p if _ending_only(score.word, other) else p / HEARD_BOOST
            reason = f"“{score.word}” heard as “{other}” (the recogniser gives the written word {pct})"
        findings.append(WordFinding(score.word, other, p, confidence_of(evidence), reason))
    return findings


def worst(findings: Sequence[WordFinding], threshold: float, most: int = 3) -> list[WordFinding]:
    """The findings at or above `threshold`, most confident first (at most `most`)."""
    over = [f for f in findings if f.confidence >= threshold]
    return sorted(over, key=lambda f: -f.confidence)[:most]
