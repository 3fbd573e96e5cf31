"""A synthesis process started ahead of its sentences, and kept for the next run.

Loading a Piper voice costs a run 0.2 s before its first sentence (importing onnxruntime and
numpy, then the model's session), and an edit of one sentence then waits for it. A Speaker is
forked as soon as the run knows which voice a source needs, and loads it while the source is still
being prepared; its sentences are then spoken there, exactly as this process would (the same
engine, options and threads: Piper's samples depend on its thread count, so the clips are the
bytes this process would have made), into the same cache. A process that publishes again (a
studio worker, a script) finds it still there, its voice loaded (pipeline/engines.py keeps it);
it ends with that process, which it notices by the end of its pipe. When a run looks like an edit
before it has read anything, a spare is forked even earlier, given only the engine's name: it
imports the engine's libraries while the run imports its pipeline and reads, and is then told the
voice (`assign`).

It is an optimisation and nothing more: a Speaker that cannot load its voice, or ends, hands its
sentences back, and the caller speaks them itself (raising whatever error the engine raises there).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.progress import CancelToken, check
from publisher.speech.cache import ClipCache
from publisher.speech.engines import ENGINES, EngineSpec
from publisher.speech.narrate import Clip, forked_engine, speak

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

log = logging.getLogger(__name__)

POLL = 0.1  # seconds between looks at the cancellation token while a sentence is spoken


class Speaker:
    """One forked process holding one voice (built from `spec`; its engine has `cache_key`), speaking the
    clips it is sent into the cache they are sent with; one caller at a time (`busy`)."""

    def __init__(self, spec: EngineSpec | str, cache_key: str = "") -> None:
        """Fork the process and have it load `spec`'s voice; given only an engine's name, a spare:
        it imports that engine's libraries and waits for `assign` to say which voice."""
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self.cache_key = cache_key
        self.busy = threading.Lock()
        self._conn, child = context.Pipe()
        process = context.Process(target=_serve, args=(spec, child, self._conn), name="publisher-speaker", daemon=True)
        self._process = process
        self._process.start()
        child.close()
        self._pending: list[str] = []
        self._closed = False
        self.spare = isinstance(spec, str)

    def assign(self, spec: EngineSpec, cache_key: str) -> None:
        """Have a spare load `spec`'s voice (whose engine has `cache_key`): it is then a Speaker like any."""
        assert self.spare, "only a spare is told its voice"
        self.spare = False
        self.cache_key = cache_key
        with contextlib.suppress(OSError):  # it has ended: receive hands the clips back
            self._conn.send(spec)

    @property
    def alive(self) -> bool:
        """Whether it can still speak (it has not failed, been cancelled or ended)."""
        return not self._closed and self._process.is_alive()

    def send(self, clips: Sequence[Clip], root: Path) -> None:
        """Start speaking `clips` (in order) into the clip cache at `root`; `receive` waits for them."""
        self._pending.extend(c.key for c in clips)
        with contextlib.suppress(OSError):  # it has ended: receive hands them all back
            self._conn.send((str(root), list(clips)))

    def receive(self, progress: Callable[[int], None] | None = None, cancel: CancelToken | None = None) -> list[str]:
        """Wait for the clips sent; returns the keys of those it did not make (it failed or ended:
        the caller makes them). A cancelled token ends the process and raises Cancelled."""
        try:
            while self._pending:
                check(cancel)
                if not self._conn.poll(POLL):
                    continue
                kind, key = self._conn.recv()
                if kind != "done":
                    log.debug("the synthesis process gave up (%s): speaking here instead", key)
                    break
                self._pending.remove(key)
                if progress is not None:
                    progress(1)
        except (EOFError, OSError):
            log.debug("the synthesis process ended: speaking here instead")
        except BaseException:
            self.close()
            raise
        left, self._pending = self._pending, []
        if left:
            self.close()
        return left

    def close(self) -> None:
        """End the process (a clip it was writing is never left half-written: the cache only takes whole files)."""
        self._closed = True
        self._conn.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=5)


def _serve(spec: EngineSpec | str, conn: Connection, parents: Connection) -> None:
    """The process: load the voice, then speak every clip sent, telling each one done; on any
    failure, say so and end (the parent speaks what is left, and reports the failure itself). It
    ends when the parent closes its end of the pipe (or ends), so the parent's end, which the fork
    copied here, is closed first. A spare (`spec` an engine's name) imports that engine's libraries
    first, then is sent its voice's spec."""
    parents.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it ends this)
    try:
        if isinstance(spec, str):
            ENGINES[spec].warm()
            try:
                spec = conn.recv()
            except EOFError:  # not needed after all
                return
        engine = forked_engine(*spec)
        load = getattr(engine, "load", None)
        if load is not None:
            load()
        while True:
            try:
                root, clips = conn.recv()
            except EOFError:  # the parent is done (or gone)
                return
            cache = ClipCache(Path(root))
            for clip in clips:
                cache.put(clip.key, speak(engine, clip))
                conn.send(("done", clip.key))
    except Exception as exc:  # reported by the parent, which speaks the sentence itself
        with contextlib.suppress(OSError):
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
