"""What the command line shows of a publish: a progress bar per source, a line per publication,
and the errors (the output of `publisher publish`, with or without --watch)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from publisher.clock import player_clock
from publisher.model import layout
from publisher.pipeline.results import BatchResult, SourceResult
from publisher.progress import Progress


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} KB"


class ProgressBars:
    """The terminal's view of a run's progress: a bar per source while its sentences are spoken (one
    for the whole run on a cluster) or its recording aligned (seconds heard); the executor's notices."""

    def __init__(self, whole_run: bool) -> None:
        self.whole_run = whole_run
        self.bar: Any = None
        self.key: object = None

    def __call__(self, event: Progress) -> None:
        if event.message:
            click.echo(event.message, err=True)
        if event.stage not in ("synthesize", "align") or (event.source is None) != self.whole_run:
            return
        key = (event.stage, event.source or "run")
        if key != self.key:
            self.close()
            if event.done >= event.total:  # nothing to wait for (a recording: no voice speaks it)
                return
            label = f"{event.sources} sources" if event.source is None else event.slug
            doing = "Narrating" if event.stage == "synthesize" else "Aligning the recording of"
            self.bar = click.progressbar(
                length=event.total, label=f"{doing} {label}", file=sys.stderr, show_eta=True, show_pos=True
            )
            self.bar.__enter__()
            self.key = key
        self.bar.update(event.done - self.bar.pos)
        if event.done >= event.total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar, self.key = None, None


def published_line(result: SourceResult) -> str:
    """What one source became, in a line."""
    if result.skipped:
        return f"{result.slug}: unchanged since the last publish → {result.folder}"
    mp3s = len(result.audio)
    size = _size(result.epub) if result.epub else "?"
    return (
        f"{result.slug}: {result.chapters} chapter{'s' * (result.chapters != 1)}, "
        f"{player_clock(round(result.duration))} narrated, EPUB {size}, "
        f"{mp3s} MP3{'s' * (mp3s != 1)}, {result.synthesized} of {result.sentences} sentences synthesized "
        f"in {result.seconds:.1f} s → {result.folder}"
    )


class Report:
    """A run's progress bars (none when quiet), a line per source published, an error line per
    source failed, and what went wrong with the batch as a whole."""

    def __init__(self, whole_run: bool, quiet: bool) -> None:
        self.quiet = quiet
        self.bars = ProgressBars(whole_run)
        self.progress: Callable[[Progress], None] | None = None if quiet else self.bars

    def finished(self, result: SourceResult) -> None:
        """One source is done (`on_result`)."""
        if result.state == "failed":
            click.echo(f"error: {result.error}", err=True)
        elif result.ok and not self.quiet:
            self.bars.close()
            click.echo(published_line(result))
            if result.folder and (result.folder / layout.ALIGNMENT_JSON).is_file():  # published from a recording
                from publisher.align.report import folder_summary

                for line in folder_summary(result.folder):
                    click.echo(f"  {line}")

    def close(self) -> None:
        self.bars.close()

    def problems(self, batch: BatchResult) -> bool:
        """Say what went wrong with the batch (no sources; sources failed), if anything did."""
        if not batch.results:
            click.echo("nothing to publish: no sources found (.txt, .md, .html, .epub, .docx, .odt…)", err=True)
            return True
        if batch.failed:
            n = len(batch.failed)
            click.echo(f"{n} of {len(batch.results)} sources failed; their earlier outputs were kept", err=True)
            return True
        return False

    def say(self, line: str) -> None:
        """A notice on stderr, unless quiet."""
        if not self.quiet:
            click.echo(line, err=True)
