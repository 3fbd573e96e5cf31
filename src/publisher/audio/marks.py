"""The whole-publication timeline: cue times in the full-length file, and its chapter marks."""

from __future__ import annotations

from publisher.model.publication import Publication
from publisher.model.timeline import ChapterMark, Cue, Narration

MARK_TITLE_WORDS = 6


def full_cues(narration: Narration) -> list[Cue]:
    """Every cue shifted to its place in the full-length file."""
    cues: list[Cue] = []
    for track, offset in zip(narration.tracks, narration.offsets(), strict=True):
        cues.extend(Cue(c.sentence_id, c.text, c.start + offset, c.end + offset) for c in track.cues)
    return cues


def first_words(text: str) -> str:
    words = text.split()
    head = " ".join(words[:MARK_TITLE_WORDS])
    return head + ("…" if len(words) > MARK_TITLE_WORDS else "")


def chapter_marks(pub: Publication, narration: Narration) -> list[ChapterMark]:
    """One mark per chapter; for a single-chapter publication, one per paragraph.

    Marks cover the file end to end: each runs until the next one starts.
    """
    starts: list[tuple[str, float]] = []
    if len(narration.tracks) > 1:
        offsets = narration.offsets()
        starts.extend((track.title, offset) for track, offset in zip(narration.tracks, offsets, strict=True))
    else:
        where = {c.sentence_id: c.start for c in full_cues(narration)}
        starts.append((pub.metadata.title, 0.0))  # title, credits, heading
        for block in pub.chapters[0].blocks:
            if block.kind in ("heading", "byline") or not block.sentences or block in pub.front:
                continue
            first = block.sentences[0]
            starts.append((first_words(block.text), where[first.id]))
    total = narration.duration
    return [
        ChapterMark(title, start, starts[i + 1][1] if i + 1 < len(starts) else total)
        for i, (title, start) in enumerate(starts)
    ]
