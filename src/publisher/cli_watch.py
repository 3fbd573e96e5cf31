"""`publisher publish --watch`: the command line's side of `api.watch` (what it says between rounds,
and Ctrl-C: while waiting it ends the watch, exit 0; during a round it interrupts it, exit 130)."""

from __future__ import annotations

from pathlib import Path

import click

from publisher.cli_progress import Report
from publisher.errors import PublisherError
from publisher.settings import Settings


def watch_sources(paths: list[Path], settings: Settings, report: Report) -> None:
    """Publish `paths`, then again on every change, until Ctrl-C."""
    from publisher.api import watch

    busy = True  # the first round runs at once

    def changed(files: list[Path]) -> None:
        nonlocal busy
        busy = True
        more = f" and {len(files) - 5} more" if len(files) > 5 else ""
        report.say("changed: " + ", ".join(f.name for f in files[:5]) + more)

    try:
        for outcome in watch(paths, settings, progress=report.progress, on_result=report.finished, on_change=changed):
            busy = False
            report.close()
            if isinstance(outcome, PublisherError):
                click.echo(f"error: {outcome}", err=True)
            else:
                report.problems(outcome)
            report.say(f"watching {', '.join(str(p) for p in paths)} for changes (Ctrl-C to stop)")
    except KeyboardInterrupt:
        if busy:
            raise  # a round cut short: reported as any interrupted publish
        report.say("stopped watching")
