"""The per-publication format renderers, run in this order once the EPUBs and audio are written.

Each takes a RenderContext and returns the files it wrote by kind ("daisy_zip", "audiobook", …),
which go into the publication's manifest and from there into the catalogue pages and feeds.
Adding a format means adding a module under render/ and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from publisher.formats.book.audiobook import write_audiobooks
from publisher.formats.book.daisy import write_daisy
from publisher.formats.context import RenderContext
from publisher.formats.web.feed import write_artwork, write_chapter_files
from publisher.formats.web.site import write_readalong

Renderer = Callable[[RenderContext], dict[str, Path]]

FORMAT_RENDERERS: list[Renderer] = [
    write_chapter_files,
    write_artwork,
    write_daisy,
    write_audiobooks,
    write_readalong,  # keep last: the read-along page links every file written before it
]
