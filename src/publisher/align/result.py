"""What aligning a recording found, as plain data: each sentence's time in the recording (aligned or
interpolated, with a confidence), the stretches of audio that are not in the text, and coverage;
and its alignment.json form."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

SCHEMA = 1


@dataclass(frozen=True)
class Written:
    """A sentence to find in the recording, in reading order."""

    sentence_id: str
    text: str
    chapter: int  # 1-based chapter of the narration it belongs to


@dataclass(frozen=True)
class SentenceTime:
    """Where one sentence is heard on the recording's joined timeline (seconds)."""

    sentence_id: str
    chapter: int
    text: str
    start: float
    end: float
    confidence: float  # share of its words heard (misheard words count by how alike), 0–1
    aligned: bool  # False: not found, its time interpolated between its neighbours'
    heard: str = ""  # the words heard for it

    @property
    def status(self) -> str:
        """ "aligned" or "interpolated"."""
        return "aligned" if self.aligned else "interpolated"


@dataclass(frozen=True)
class Stretch:
    """Audio that is not in the text (a preamble, credits, music, a repeated passage)."""

    start: float
    end: float
    heard: str  # the words heard there ("" where no words were heard: music, noise)


@dataclass(frozen=True)
class FileInfo:
    """One file of the recording, as the report names it."""

    name: str
    sha256: str
    start: float  # where it starts on the joined timeline
    duration: float


@dataclass(frozen=True)
class Alignment:
    """A recording aligned with a text."""

    language: str
    model: str
    files: tuple[FileInfo, ...]
    sentences: tuple[SentenceTime, ...]
    stretches: tuple[Stretch, ...] = ()
    words: int = 0  # written words
    words_heard: int = 0  # written words paired with a heard one
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    #: the sentences of the title page the publisher adds (title, author, "Narrated by …"): a reading
    #: need not have them, so they do not count in `aligned` and `coverage`
    title_page: frozenset[str] = frozenset()

    @property
    def text(self) -> tuple[SentenceTime, ...]:
        """The sentences of the text itself (the title page left out)."""
        return tuple(s for s in self.sentences if s.sentence_id not in self.title_page)

    @property
    def on_title_page(self) -> tuple[SentenceTime, ...]:
        """The sentences of the title page the publisher adds."""
        return tuple(s for s in self.sentences if s.sentence_id in self.title_page)

    @property
    def duration(self) -> float:
        """Seconds of the recording."""
        return sum(f.duration for f in self.files)

    @property
    def aligned(self) -> int:
        """Sentences of the text found in the recording."""
        return sum(1 for s in self.text if s.aligned)

    @property
    def coverage(self) -> float:
        """Share of the text's sentences found in the recording (0–1)."""
        text = self.text
        return self.aligned / len(text) if text else 0.0

    @property
    def in_order(self) -> bool:
        """Whether every sentence starts no earlier than the one before it ends."""
        return all(b.start >= a.end - 1e-6 for a, b in itertools.pairwise(self.sentences))

    def file_at(self, seconds: float) -> tuple[int, float]:
        """The file playing at `seconds` on the joined timeline, and the time in it."""
        index = 0
        for i, f in enumerate(self.files):
            if seconds >= f.start - 1e-9:
                index = i
        return index, seconds - self.files[index].start

    def to_json(self) -> dict[str, Any]:
        """The alignment as alignment.json holds it."""

        def place(seconds: float) -> dict[str, Any]:
            index, local = self.file_at(seconds)
            return {"file": self.files[index].name, "at": round(local, 3)}

        return {
            "schema": SCHEMA,
            "language": self.language,
            "model": self.model,
            "duration": round(self.duration, 3),
            "coverage": round(self.coverage, 4),
            "sentences_aligned": self.aligned,
            "sentences": len(self.text),
            "title_page": {
                "sentences": len(self.title_page),
                "sentences_aligned": sum(1 for s in self.on_title_page if s.aligned),
            },
            "words": self.words,
            "words_heard": self.words_heard,
            "files": [
                {"name": f.name, "sha256": f.sha256, "start": round(f.start, 3), "duration": round(f.duration, 3)}
                for f in self.files
            ],
            "timeline": [
                {
                    "id": s.sentence_id,
                    "chapter": s.chapter,
                    "status": s.status,
                    "start": round(s.start, 3),
                    "end": round(s.end, 3),
                    "recording": place(s.start),
                    "confidence": round(s.confidence, 3),
                    "text": s.text,
                    "heard": s.heard,
                    **({"title_page": True} if s.sentence_id in self.title_page else {}),
                }
                for s in self.sentences
            ],
            "not_in_text": [
                {"start": round(x.start, 3), "end": round(x.end, 3), "recording": place(x.start), "heard": x.heard}
                for x in self.stretches
            ],
            **self.extra,
        }
