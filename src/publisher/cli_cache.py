"""`publisher cache`: inspect, prune or empty the narration cache (its own group of commands)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from publisher.settings import load_settings

if TYPE_CHECKING:
    from publisher.speech.cache import ClipCache


@click.group()
def cache() -> None:
    """Inspect or empty the narration cache (sentence clips and derived voice models).

    \b
    Example:
      publisher cache info
    """


def _cache_root(ctx: click.Context, folder: Path | None) -> ClipCache:
    from publisher.speech.cache import ClipCache

    root = folder or load_settings(ctx.obj.get("config") if ctx.obj else None).cache
    return ClipCache(root)


_cache_dir_option = click.option(
    "--cache-dir", "folder", type=click.Path(file_okay=False, path_type=Path), help="Cache folder [.cache/publisher]."
)


@cache.command("info")
@_cache_dir_option
@click.pass_context
def cache_info(ctx: click.Context, folder: Path | None) -> None:
    """Where the cache is and how much it holds.

    \b
    Example:
      publisher cache info
    """
    info = _cache_root(ctx, folder).info()
    click.echo(f"cache: {info.root}")
    click.echo(f"sentence clips: {info.clips} ({info.bytes / 1e6:.1f} MB)")
    click.echo(f"encoded audio segments: {info.segments} files ({info.segment_bytes / 1e6:.1f} MB)")
    click.echo(f"voice models: {info.models} ({info.model_bytes / 1e6:.1f} MB)")
    click.echo(f"transcripts, recogniser model and notes: {info.other} files ({info.other_bytes / 1e6:.1f} MB)")


@cache.command("prune")
@_cache_dir_option
@click.option("--days", type=float, default=30.0, show_default=True, help="Keep what was used within this many days.")
@click.pass_context
def cache_prune(ctx: click.Context, folder: Path | None, days: float) -> None:
    """Delete clips, encoded segments, voice models, transcripts and notes no run has used for a while.

    \b
    Example:
      publisher cache prune --days 7
    """
    removed, freed = _cache_root(ctx, folder).prune(days)
    click.echo(
        f"removed {removed} files of clips, segments, voice models, transcripts and notes ({freed / 1e6:.1f} MB)"
    )


@cache.command("clear")
@_cache_dir_option
@click.pass_context
def cache_clear(ctx: click.Context, folder: Path | None) -> None:
    """Delete everything in the cache (the next publish synthesizes again).

    \b
    Example:
      publisher cache clear
    """
    removed, freed = _cache_root(ctx, folder).clear()
    click.echo(f"removed {removed} files ({freed / 1e6:.1f} MB)")
