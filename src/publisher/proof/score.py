"""Heard words → sentences: each word goes to the sentence whose cue holds it, then WER per sentence and chapter.

Whisper's word times are good to a few tenths of a second, and the pause between two sentences
is about that long, so a word at a boundary can land in the neighbouring sentence. After the
assignment by time, each boundary is checked: moving up to two words across it is kept only when
it lowers the two sentences' combined errors (the words stay in order; nothing is re-synthesized).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from publisher.proof.asr import HeardWord
from publisher.proof.compare import Alignment, align, normalise_words
from publisher.proof.forced import WordScore
from publisher.proof.verdict import THRESHOLD, WordFinding, judge, worst

# seconds of audio transcribed at a time, cut in the pause between two sentences: Whisper hears
# 30 s at once, so a window of at most one chunk never carries a misheard context into the next
# one and never loses a sentence at a chunk edge (seed, tiny.en: WER 0.051 with 28 s windows,
# 0.068 with 300 s windows); memory stays flat however long the book
MAX_WINDOW = 28.0
_CHAPTER_ID = re.compile(r"^c(\d+)-")


@dataclass(frozen=True)
class SentenceCue:
    """One sentence and where it is heard in the full-length MP3, read from the manifest."""

    sentence_id: str
    text: str
    start: float
    end: float
    chapter: int


@dataclass
class SentenceResult:
    """What was heard during one sentence's cue, and how it compares."""

    cue: SentenceCue
    words: list[HeardWord] = field(default_factory=list)
    alignment: Alignment | None = None
    expected: list[WordScore] | None = None  # the written words, teacher-forced on the sentence's clip
    findings: list[WordFinding] = field(default_factory=list)  # each written word's evidence (see verdict)

    @property
    def heard(self) -> str:
        """The heard words as the recogniser wrote them."""
        return " ".join(w.text for w in self.words)

    @property
    def score(self) -> float:
        """How wrong the sentence sounds: its word error rate (0 = heard exactly as written)."""
        return self.alignment.wer if self.alignment else 0.0

    @property
    def confidence(self) -> float:
        """How sure proof-listening is that the sentence is not said as written (0–1): its least
        likely word's confidence (see verdict)."""
        return max((f.confidence for f in self.findings), default=0.0)

    def triggers(self, threshold: float = THRESHOLD) -> list[WordFinding]:
        """The words that flag the sentence at `threshold`, most confident first."""
        return worst(self.findings, threshold)

    def reason(self, threshold: float = THRESHOLD) -> str:
        """Why the sentence is flagged, in words ("" when it is not)."""
        return "; ".join(f.reason for f in self.triggers(threshold))

    def judge(self, language: str) -> None:
        """Set the findings from the teacher-forced scores and what was heard (after `refine`)."""
        heard = " ".join(w.text for w in self.words)
        expected = self.expected
        if expected is None:  # not scored against the audio (a clip longer than Whisper hears at once)
            expected = unscored(self.cue.text, heard, language)
        self.findings = judge(expected, heard, language)


def chapters_of(cues: Sequence[tuple[str, str, float, float]]) -> list[SentenceCue]:
    """Cues from a manifest, each with its chapter number: `cNN-…` ids name it; title-page and closing
    sentences belong to the chapter whose audio file holds them (the first, and the last)."""
    numbers = [int(m.group(1)) for c in cues if (m := _CHAPTER_ID.match(c[0]))]
    current = numbers[0] if numbers else 1
    out = []
    for sentence_id, text, start, end in sorted(cues, key=lambda c: c[2]):
        match = _CHAPTER_ID.match(sentence_id)
        if match:
            current = int(match.group(1))
        out.append(SentenceCue(sentence_id, text, float(start), float(end), current))
    return out


def windows(cues: Sequence[SentenceCue], limit: float = MAX_WINDOW) -> list[list[SentenceCue]]:
    """Consecutive cues grouped into windows of at most `limit` seconds, never across a chapter."""
    groups: list[list[SentenceCue]] = []
    for cue in cues:
        if groups and groups[-1][-1].chapter == cue.chapter and cue.end - groups[-1][0].start <= limit:
            groups[-1].append(cue)
        else:
            groups.append([cue])
    return groups


def window_span(groups: list[list[SentenceCue]], index: int, duration: float) -> tuple[float, float]:
    """The audio span of window `index`: from halfway through the pause before it to halfway after."""
    first, last = groups[index][0], groups[index][-1]
    start = (groups[index - 1][-1].end + first.start) / 2 if index else max(0.0, first.start - 0.5)
    end = (last.end + groups[index + 1][0].start) / 2 if index + 1 < len(groups) else min(duration, last.end + 1.0)
    return start, max(end, start + 0.1)


def assign(cues: Sequence[SentenceCue], words: Sequence[HeardWord]) -> list[SentenceResult]:
    """Give each heard word to the sentence whose cue holds its middle (or the nearest cue)."""
    results = [SentenceResult(cue) for cue in cues]
    if not results:
        return results
    index = 0
    for word in sorted(words, key=lambda w: w.middle):
        t = word.middle
        while index + 1 < len(cues) and t >= (cues[index].end + cues[index + 1].start) / 2:
            index += 1
        results[index].words.append(word)
    return results


def _cost(words: list[HeardWord], reference: list[str], language: str) -> tuple[int, Alignment]:
    alignment = align(reference, normalise_words(" ".join(w.text for w in words), language))
    return alignment.errors, alignment


def refine(results: list[SentenceResult], language: str, reach: int = 2) -> None:
    """Move up to `reach` words across each sentence boundary where that lowers the errors; align each sentence."""
    references = [normalise_words(r.cue.text, language) for r in results]
    for i, result in enumerate(results):
        result.alignment = _cost(result.words, references[i], language)[1]
    for i in range(len(results) - 1):
        left, right = results[i], results[i + 1]
        if left.cue.chapter != right.cue.chapter:
            continue
        joined = left.words + right.words
        split = len(left.words)
        best = (_cost(left.words, references[i], language)[0] + _cost(right.words, references[i + 1], language)[0], 0)
        for shift in range(-min(reach, split), min(reach, len(right.words)) + 1):
            if shift == 0:
                continue
            at = split + shift
            cost = _cost(joined[:at], references[i], language)[0] + _cost(joined[at:], references[i + 1], language)[0]
            if cost < best[0]:
                best = (cost, shift)
        if best[1]:
            at = split + best[1]
            left.words, right.words = joined[:at], joined[at:]
        left.alignment = _cost(left.words, references[i], language)[1]
        right.alignment = _cost(right.words, references[i + 1], language)[1]


UNSCORED = 0.05  # probability given to a word heard differently where no teacher-forced score exists


def unscored(text: str, heard: str, language: str) -> list[WordScore]:
    """Stand-in scores for a sentence that could not be teacher-forced: words the free transcript
    heard differently get UNSCORED (flagged, as before teacher forcing), the others 1."""
    words = text.split()
    reference = [normalise_words(w, language) for w in words]
    flat = [w for forms in reference for w in forms]
    missed = {w for w, _ in align(flat, normalise_words(heard, language)).missed}
    return [
        WordScore(w, UNSCORED if any(f in missed for f in forms) else 1.0, 0.0, 0.0)
        for w, forms in zip(words, reference, strict=True)
    ]


@dataclass(frozen=True)
class Tally:
    """Word errors over a stretch of text (a chapter, or the whole publication)."""

    words: int
    substitutions: int
    deletions: int
    insertions: int

    @property
    def errors(self) -> int:
        """All word errors."""
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        """Errors per reference word."""
        return self.errors / self.words if self.words else 0.0


def tally(results: Sequence[SentenceResult], language: str) -> Tally:
    """WER of the whole stretch, aligned as one text (as an external evaluation would score it)."""
    reference = [w for r in results for w in normalise_words(r.cue.text, language)]
    heard = [w for r in results for w in normalise_words(r.heard, language)]
    a = align(reference, heard)
    return Tally(len(reference), a.substitutions, a.deletions, a.insertions)
