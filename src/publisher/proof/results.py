"""What proof-listening found: the scores of a publication and of its chapters, and the sentences
whose audio does not match their text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from publisher.proof.asr import Decoding
from publisher.proof.compare import metric
from publisher.proof.score import SentenceResult, Tally
from publisher.proof.suggest import Suggestion
from publisher.proof.verdict import THRESHOLD, WordFinding


def finding_json(finding: WordFinding) -> dict[str, Any]:
    """One word's evidence as proof.json writes it."""
    return {
        "word": finding.word,
        "heard": finding.heard,
        "confidence": round(finding.confidence, 3),
        "probability": round(finding.probability, 4),
        "reason": finding.reason,
    }


@dataclass(frozen=True)
class ChapterScore:
    """One chapter's word error rate."""

    number: int
    title: str
    start: float
    end: float
    tally: Tally


@dataclass
class ProofReport:
    """Everything `publisher proof` found in one publication."""

    slug: str
    title: str
    language: str
    audio: str  # the full-length MP3, relative to the publication folder
    duration: float
    decoding: Decoding
    tally: Tally
    chapters: list[ChapterScore]
    flagged: list[SentenceResult]  # worst first
    suggestions: list[Suggestion]
    sentences: int
    seconds: float = 0.0  # how long proof-listening took
    fingerprint: str = ""  # the manifest's fingerprint of the narration that was heard
    threshold: float = THRESHOLD  # the confidence at which a sentence was flagged
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON data (the proof.json layout)."""

        def tally_json(t: Tally) -> dict[str, Any]:
            return {
                "wer": round(t.wer, 4), "words": t.words, "substitutions": t.substitutions,
                "deletions": t.deletions, "insertions": t.insertions,
            }  # fmt: skip

        return {
            "slug": self.slug,
            "title": self.title,
            "language": self.language,
            "metric": metric(self.language).name.lower(),  # "wer", or "cer" where characters are compared
            "audio": self.audio,
            "fingerprint": self.fingerprint,
            "duration": round(self.duration, 3),
            "model": self.decoding.model,
            "decoding": self.decoding.options(),
            "seconds": round(self.seconds, 2),
            "sentences": self.sentences,
            "threshold": self.threshold,
            **tally_json(self.tally),
            "chapters": [
                {"chapter": c.number, "title": c.title, "start": round(c.start, 3), "end": round(c.end, 3)}
                | tally_json(c.tally)
                for c in self.chapters
            ],
            "flagged": [
                {
                    "rank": rank,
                    "sentence": r.cue.sentence_id,
                    "chapter": r.cue.chapter,
                    "score": round(r.score, 4),  # the sentence's word error rate
                    "confidence": round(r.confidence, 3),
                    "reason": r.reason(self.threshold),
                    "text": r.cue.text,
                    "heard": r.heard,
                    "start": round(r.cue.start, 3),
                    "end": round(r.cue.end, 3),
                    "words": [finding_json(f) for f in r.triggers(self.threshold)],
                    "missed": [{"word": w, "heard": h} for w, h in (r.alignment.missed if r.alignment else [])],
                }
                for rank, r in enumerate(self.flagged, 1)
            ],
            "lexicon": [
                {
                    "word": s.word,
                    "places": s.places,
                    "occurrences": s.occurrences,
                    "heard": s.heard,
                    "phonemes": s.phonemes,
                    "in_lexicon": s.in_lexicon,
                    "line": s.line,
                }
                for s in self.suggestions
            ],
        }
