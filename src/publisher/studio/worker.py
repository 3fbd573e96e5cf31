"""A studio worker: a process of its own that takes queued jobs from the database and runs them
through the library API (publish, then check and proof-listen when asked), writing progress back.

`publisher studio` starts the workers (`python -m publisher.studio.worker --data DIR`) beside the
web server. A worker whose parent is gone stops at once (its job is queued again at the next
start); SIGTERM stops it after putting its job back in the queue.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import fcntl
import json
import logging
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from publisher import api
from publisher.studio import jobs
from publisher.studio import publications as pubs
from publisher.studio.db import connect, transaction
from publisher.studio.layout import Studio

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.25  # seconds between progress writes (stage changes are written at once)
IDLE_INTERVAL = 0.3  # seconds between looks at an empty queue


class Stop(Exception):
    """The studio is stopping: put the job back in the queue."""


class Runner:
    """Runs one job at a time for one worker process."""

    def __init__(self, studio: Studio, db: sqlite3.Connection, parent: int | None) -> None:
        self.studio = studio
        self.db = db
        self.parent = parent
        self.stopping = False
        self._last_poll = 0.0
        self._cancelled = False

    # --- signals and cancellation ------------------------------------------------------------

    def orphaned(self) -> bool:
        """The studio process that started this worker is gone (killed): stop without a word."""
        return self.parent is not None and os.getppid() != self.parent

    def should_stop(self, job_id: int) -> bool:
        """Asked between sentences, renderers and sources: cancel requested, or the studio stopping."""
        if self.stopping or self.orphaned():
            return True
        now = time.monotonic()
        if now - self._last_poll >= 0.2:
            self._last_poll = now
            self._cancelled = jobs.cancel_requested(self.db, job_id)
        return self._cancelled

    # --- the loop ----------------------------------------------------------------------------

    def loop(self) -> None:
        """Take and run jobs until told to stop."""
        while not self.stopping and not self.orphaned():
            job = jobs.claim(self.db, os.getpid())
            if job is None:
                time.sleep(IDLE_INTERVAL)
                continue
            self.run(job)

    def run(self, job: jobs.Job) -> None:
        """Run one claimed job to its end (done, failed, cancelled) or back into the queue."""
        self._cancelled = False
        self._last_poll = 0.0
        log.info("job %d: %s %s (attempt %d)", job.id, job.kind, job.slug, job.attempts)
        try:
            state, error, result = self.execute(job)
        except Stop:
            if self.orphaned():
                os._exit(0)  # the studio was killed: leave the job "running"; the next start queues it again
            with transaction(self.db):
                self.db.execute(
                    "UPDATE jobs SET state = 'queued', worker = NULL, attempts = max(attempts - 1, 0), message = ? "
                    "WHERE id = ?", ("the studio was stopped; the job runs again at its next start", job.id),
                )  # fmt: skip
            return
        except api.Cancelled:
            state, error, result = "cancelled", None, None
        except api.PublisherError as exc:
            state, error, result = "failed", str(exc), None
        except Exception as exc:  # a bug must not take the worker down: the job fails with one line
            log.exception("job %d failed unexpectedly", job.id)
            state, error, result = "failed", f"unexpected {type(exc).__name__}: {exc} (see the studio's log)", None
        jobs.finish(self.db, job.id, state, error, result)  # type: ignore[arg-type]
        log.info("job %d: %s%s", job.id, state, f": {error}" if error else "")

    def execute(self, job: jobs.Job) -> tuple[str, str | None, dict[str, Any] | None]:
        """(state, error, result) of a job; raises Stop when the studio stops under it."""
        row = pubs.publication_row(self.db, job.slug)
        if row is None:
            return "failed", f"the publication {job.slug!r} was deleted", None
        options = json.loads(row["options"])
        settings = pubs.job_settings(self.studio, self.db, job.slug)
        folder = settings.output / job.slug
        result: dict[str, Any] = {}
        if job.kind == "publish":
            with self.output_turn(job):
                outcome = self.publish(job, Path(row["source"]), row["source_name"], settings)
            if outcome[0] != "done":
                return outcome
            result = outcome[2] or {}
        if job.kind == "check" or (job.kind == "publish" and options.get("check")):
            result["check"] = self.check(job, folder)
        if job.kind == "proof" or (job.kind == "publish" and options.get("proof")):
            result["proof"] = self.proof(job, folder, settings)
        return "done", None, result

    @contextlib.contextmanager
    def output_turn(self, job: jobs.Job) -> Iterator[None]:
        """Wait for this worker's turn to write the output tree: a publish holds the output folder's
        lock, and a second publish beside it would fail, so workers take turns (in claim order)."""
        self.studio.root.mkdir(parents=True, exist_ok=True)
        with open(self.studio.root / ".publish.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                jobs.progress(self.db, job.id, "read", 0, 0, "waiting for another job to finish writing the output")
                self.wait_for(handle, job)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def wait_for(self, handle: Any, job: jobs.Job) -> None:
        """Take the lock on `handle` once the other worker lets go (or stop, if asked to)."""
        while True:
            if self.should_stop(job.id):
                raise Stop if self.stopping or self.orphaned() else api.Cancelled("cancelled")
            with contextlib.suppress(BlockingIOError):
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            time.sleep(0.25)

    def publish(
        self, job: jobs.Job, source: Path, source_name: str, settings: api.Settings
    ) -> tuple[str, str | None, dict[str, Any] | None]:
        last: dict[str, Any] = {"at": 0.0, "stage": ""}

        def progress(event: api.Progress) -> None:
            now = time.monotonic()
            if event.stage != last["stage"] or event.done >= event.total or now - last["at"] >= PROGRESS_INTERVAL:
                last.update(at=now, stage=event.stage)
                jobs.progress(self.db, job.id, event.stage, event.done, event.total, event.message)

        token = api.CancelToken(poll=lambda: self.should_stop(job.id))
        batch = api.publish([source], settings, progress=progress, cancel=token)
        if batch.cancelled or not batch.results:
            if self.stopping or self.orphaned():
                raise Stop
            return "cancelled", None, None
        (outcome,) = batch.results
        if outcome.state == "failed":
            message = pubs.display_error(outcome.error or api.PublisherError("failed"), source, source_name)
            return "failed", message, None
        if outcome.state == "cancelled":
            if self.stopping or self.orphaned():
                raise Stop
            return "cancelled", None, None
        return "done", None, {
            "state": outcome.state, "sentences": outcome.sentences, "synthesized": outcome.synthesized,
            "reused": outcome.reused, "duration": outcome.duration, "chapters": outcome.chapters,
            "timings": {k: round(v, 3) for k, v in outcome.timings.items()},
        }  # fmt: skip

    def check(self, job: jobs.Job, folder: Path) -> dict[str, int]:
        jobs.progress(self.db, job.id, "check", 0, 1, "running publisher check")
        if self.should_stop(job.id):
            raise Stop if self.stopping or self.orphaned() else api.Cancelled("cancelled")
        reports = api.check([folder], ace=os.environ.get("PUBLISHER_STUDIO_ACE", "1") != "0")
        stored = [
            {"check": r.check, "ok": r.ok, "summary": r.summary, "path": _relative(r.path, folder),
             "messages": list(r.messages)[:50]}
            for r in reports
        ]  # fmt: skip
        with transaction(self.db):
            self.db.execute("UPDATE publications SET checks = ?, checked = ? WHERE slug = ?",
                            (json.dumps(stored), time.time(), job.slug))  # fmt: skip
        jobs.progress(self.db, job.id, "check", 1, 1)
        return {"passed": sum(r.ok for r in reports), "failed": sum(not r.ok for r in reports)}

    def proof(self, job: jobs.Job, folder: Path, settings: api.Settings) -> dict[str, Any]:
        jobs.progress(self.db, job.id, "proof", 0, 1, "proof-listening (Whisper)")
        if self.should_stop(job.id):
            raise Stop if self.stopping or self.orphaned() else api.Cancelled("cancelled")
        report = api.proof(folder, settings)
        jobs.progress(self.db, job.id, "proof", 1, 1)
        return {"flagged": len(report.flagged)}


def _relative(path: Path, folder: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(folder.resolve()))
    except ValueError:
        return Path(path).name


def main(argv: list[str] | None = None) -> int:
    """`python -m publisher.studio.worker --data DIR [--cluster ADDRESS]`: run jobs until stopped."""
    parser = argparse.ArgumentParser(prog="publisher-studio-worker", description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--cluster", default=None)
    parser.add_argument("--port", type=int, default=8400)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--parent", type=int, default=None, help="stop when this process is gone")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="worker %(process)d: %(levelname)s: %(message)s", stream=sys.stderr)
    for noisy in ("piper", "onnxruntime", "urllib3", "gtts", "publisher.pipeline", "publisher.speech"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    studio = Studio(args.data.resolve(), host=args.host, port=args.port, cluster=args.cluster)
    runner = Runner(studio, connect(studio.database), args.parent)

    me = os.getpid()

    def stop(signum: int, frame: Any) -> None:
        if os.getpid() != me:  # a process forked by the pipeline (a synthesis pool) inherited this handler:
            signal.signal(signum, signal.SIG_DFL)  # it must end as it would have without it
            os.kill(os.getpid(), signum)
            return
        runner.stopping = True

    faulthandler.register(signal.SIGUSR1)  # kill -USR1 PID: where the worker is, on its stderr
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    os.chdir(studio.root)  # a lexicon.txt of the caller's working folder is never read by accident
    runner.loop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
