"""Progress events and cancellation: what every stage reports, and how a caller stops a run.

One mechanism for every front end: the command line draws its progress bar from these events, the
studio streams them to the browser, a script may log them. A CancelToken is checked between tasks
by the local and the Dask executor alike; a cancelled run keeps what it finished and nothing it
had half made (each publication is moved into place whole, and the clip cache only ever gains
complete clips).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from publisher.errors import Cancelled

#: the stages a publication goes through, in order; "catalogue" is once per run
Stage = Literal["read", "synthesize", "align", "render", "catalogue"]
STAGES: tuple[Stage, ...] = ("read", "synthesize", "align", "render", "catalogue")


@dataclass(frozen=True)
class Progress:
    """One step of a run: `done` of `total` units of `stage` for `source` (None for the catalogue).

    Units are sources for "read"; sentences for "synthesize" (clips found in the cache count as
    done at once); seconds of a person's recording heard for "align" (recorded narration, whose
    transcription is the long part; a cached transcript is heard at once); renderers for "render"
    (0 then 1 when the rendering runs on a cluster worker); catalogue files for "catalogue".
    """

    stage: Stage
    source: Path | None  # None: the whole run (a cluster narrates several sources at once)
    slug: str | None
    done: int
    total: int
    sources: int = 1  # how many sources the event counts (several for a whole-run event)
    message: str = ""  # something to tell the user at this point ("Dask cluster …: 2 workers"), if any

    @property
    def fraction(self) -> float:
        """How far the stage is, 0–1."""
        return self.done / self.total if self.total else 1.0


#: what a caller passes to receive progress events (called in the caller's thread)
ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Ask a running publish to stop. Thread-safe; `poll`, when given, is asked too (a studio job
    may look up a flag in its database), so a token can be cancelled from outside the process."""

    def __init__(self, poll: Callable[[], bool] | None = None) -> None:
        self._event = threading.Event()
        self._poll = poll

    def cancel(self) -> None:
        """Stop at the next check: between sentences, renderers and sources."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether the run should stop."""
        if not self._event.is_set() and self._poll is not None and self._poll():
            self._event.set()
        return self._event.is_set()

    def check(self) -> None:
        """Raise Cancelled if the run should stop."""
        if self.cancelled:
            raise Cancelled("cancelled; finished publications were kept, nothing half-made was")


def check(token: CancelToken | None) -> None:
    """`token.check()` when there is a token."""
    if token is not None:
        token.check()


def emit(callback: ProgressCallback | None, event: Progress) -> None:
    """Send `event` when someone listens."""
    if callback is not None:
        callback(event)
