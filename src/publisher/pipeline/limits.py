"""Bounds on the work one source may ask for, checked before any synthesis starts: far beyond any
real book (see the settings' notes), so only a runaway or hostile source meets them."""

from __future__ import annotations

from pathlib import Path

from publisher.errors import SourceError
from publisher.model.publication import Publication
from publisher.settings import Settings


def check_limits(pub: Publication, settings: Settings, path: Path) -> None:
    """Refuse `pub` with one line when it has more chapters, sentences or characters of narrated
    text than `settings` allow (max_chapters, max_sentences, max_characters)."""
    sentences = list(pub.sentences())
    counts = (
        ("chapters", len(pub.chapters), settings.max_chapters, "max_chapters"),
        ("sentences", len(sentences), settings.max_sentences, "max_sentences"),
        ("characters of text to narrate", sum(len(s.text) for s in sentences), settings.max_characters,
         "max_characters"),
    )  # fmt: skip
    for what, count, limit, name in counts:
        if count > limit:
            raise SourceError(
                f"has {count:,} {what}; the limit is {limit:,} (far more than a real book needs; "
                f"raise {name} in publisher.toml if it is one)",
                path=path,
            )
