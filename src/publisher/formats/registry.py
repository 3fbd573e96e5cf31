"""The one registry of renderers: every format the publisher writes, in the order they run, each
with the kinds of output it declares.

Per-publication renderers take a RenderContext (the publication, its placed timeline, the files
written before them) and return the files they wrote by kind; those go into the publication's
manifest and from there into the catalogue. Catalogue renderers run once per batch, after every
publication, over the entries read back from every manifest in `output/`. Adding a format means
adding its module and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from publisher.formats.context import CatalogueContext, RenderContext
from publisher.model import layout


@dataclass(frozen=True)
class Renderer:
    """A per-publication format: what it is called, what it writes, and the function that does."""

    name: str
    kinds: tuple[str, ...]  # the kinds of output it returns (layout.KINDS); () for side files only
    render: Callable[[RenderContext], dict[str, Path]]


@dataclass(frozen=True)
class CatalogueRenderer:
    """A format written once per batch over every publication in `output/`."""

    name: str
    files: tuple[str, ...]  # what it writes into output/ (layout names)
    kinds: tuple[str, ...]  # kinds it also writes into each publication's folder (the serial feed)
    render: Callable[[CatalogueContext], list[Path]]


# Each renderer's module is imported when it first renders (a run whose sources are all unchanged
# loads none of them: ebooklib, the audio encoders, DAISY…); the functions below are that, and
# nothing more.
def write_cover(ctx: RenderContext) -> dict[str, Path]:
    """The cover image, as the source gave it or as generated."""
    path = ctx.folder / ctx.cover_name
    path.write_bytes(ctx.cover.data)
    return {"cover": path}


def write_audio_files(ctx: RenderContext) -> dict[str, Path]:
    """Chapter MP3s, the full-length MP3 with chapter frames, and the M4B (audio/place.py)."""
    from publisher.audio.place import write_audio

    write_audio(ctx.pub, ctx.placed, ctx.encoded, ctx.cover)
    return {"mp3": ctx.full.path, "m4b": ctx.folder / layout.file_name("m4b", ctx.slug)}


def _captions(ctx: RenderContext) -> dict[str, Path]:
    from publisher.formats.captions import write_captions

    return write_captions(ctx)


def _epub(ctx: RenderContext) -> dict[str, Path]:
    from publisher.formats.book.epub import write_text_epub

    return write_text_epub(ctx)


def _read_aloud(ctx: RenderContext) -> dict[str, Path]:
    from publisher.formats.book.epub import write_read_aloud_epub

    return write_read_aloud_epub(ctx)


def _enhanced(ctx: RenderContext) -> dict[str, Path]:
    from publisher.formats.book.enhance import write_enhanced

    return write_enhanced(ctx)


def _chapter_files(ctx: RenderContext) -> dict[str, Path]:
    from publisher.formats.web.feed import write_chapter_files

    return write_chapter_files(ctx)


def _artwork(ctx: RenderContext) -> dict[str, Path]:
    from publisher.formats.web.feed import write_artwork

    return write_artwork(ctx)


def _daisy(ctx: RenderContext) -> dict[str, Path]:
    from publisher.formats.book.daisy import write_daisy

    return write_daisy(ctx)


def _audiobooks(ctx: RenderContext) -> dict[str, Path]:
    from publisher.formats.book.audiobook import write_audiobooks

    return write_audiobooks(ctx)


def _readalong(ctx: RenderContext) -> dict[str, Path]:
    from publisher.formats.web.site import write_readalong

    return write_readalong(ctx)


def _feeds(cat: CatalogueContext) -> list[Path]:
    from publisher.formats.web.feed import write_feeds

    return write_feeds(cat)


def _opds(cat: CatalogueContext) -> list[Path]:
    from publisher.formats.web.opds import write_opds

    return write_opds(cat)


def _index(cat: CatalogueContext) -> list[Path]:
    from publisher.formats.web.site import write_index

    return write_index(cat)


RENDERERS: tuple[Renderer, ...] = (
    Renderer("cover", ("cover",), write_cover),
    Renderer("audio", ("mp3", "m4b"), write_audio_files),
    Renderer("captions", ("vtt", "chapters"), _captions),
    Renderer("epub", ("epub",), _epub),
    Renderer("read-aloud", ("read_aloud_epub",), _read_aloud),
    Renderer("enhanced EPUB", ("enhanced_epub",), _enhanced),  # an EPUB source, kept and narrated
    Renderer("chapter marks", (), _chapter_files),
    Renderer("artwork", ("artwork", "thumbnail"), _artwork),
    Renderer("daisy", ("daisy", "daisy_zip"), _daisy),
    Renderer("audiobooks", ("audiobook", "lpf"), _audiobooks),
    Renderer("read-along page", ("page",), _readalong),  # last: it links every file written before it
)

CATALOGUE_RENDERERS: tuple[CatalogueRenderer, ...] = (
    CatalogueRenderer("feeds", (layout.FEED,), ("feed",), _feeds),
    CatalogueRenderer(
        "opds",
        (layout.OPDS_XML, layout.OPDS_JSON, layout.OPENSEARCH, layout.SEARCH_INDEX, layout.FACET_DIR),
        (),
        _opds,
    ),
    CatalogueRenderer("index page", (layout.PAGE,), (), _index),
)


#: the modules the renderers above import when they first render
RENDERER_MODULES = (
    "publisher.audio.place",
    "publisher.formats.captions",
    "publisher.formats.book.epub",
    "publisher.formats.book.enhance",
    "publisher.formats.web.feed",
    "publisher.formats.book.daisy",
    "publisher.formats.book.audiobook",
    "publisher.formats.web.site",
    "publisher.formats.web.opds",
)


def load_renderers() -> None:
    """Import every renderer's module now (while this process would otherwise wait, e.g. for a
    sentence spoken in another process), not when each first renders."""
    import importlib

    for module in RENDERER_MODULES:
        importlib.import_module(module)


def catalogue_kinds() -> frozenset[str]:
    """Kinds of output the catalogue stage adds to each publication's folder."""
    return frozenset(kind for renderer in CATALOGUE_RENDERERS for kind in renderer.kinds)


def catalogue_files() -> frozenset[str]:
    """Files the catalogue stage writes into `output/`."""
    return frozenset(name for renderer in CATALOGUE_RENDERERS for name in renderer.files)
