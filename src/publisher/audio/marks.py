"""The whole-publication timeline: cue times in the full-length file, and its chapter marks."""

from __future__ import annotations

from collections.abc import Sequence

from publisher.model.publication import Publication
from publisher.model.timeline import ChapterMark, Track

MARK_TITLE_WORDS = 6


def first_words(text: str) -> str:
    words = text.split()
    head = " ".join(words[:MARK_TITLE_WORDS])
    return head + ("…" if len(words) > MARK_TITLE_WORDS else "")


def chapter_marks(pub: Publication, tracks: Sequence[Track], starts: Sequence[float]) -> tuple[ChapterMark, ...]:
    """One mark per chapter; for a single-chapter publication, one per paragraph.

    `tracks` are placed in the full-length file at `starts`. Marks cover the file end to end: each
    runs until the next one starts.
    """
    heads: list[tuple[str, float]] = []
    if len(tracks) > 1:
        heads.extend((track.title, start) for track, start in zip(tracks, starts, strict=True))
    else:
        where = {c.sentence_id: c.start + starts[0] for c in tracks[0].cues}
        heads.append((pub.metadata.title, 0.0))  # title, credits, heading
        for block in pub.chapters[0].blocks:
            if block.kind in ("heading", "byline") or not block.sentences or block in pub.front:
                continue
            first = block.sentences[0]
            heads.append((first_words(block.text), where[first.id]))
    total = starts[-1] + tracks[-1].duration
    return tuple(
        ChapterMark(title, start, heads[i + 1][1] if i + 1 < len(heads) else total)
        for i, (title, start) in enumerate(heads)
    )
