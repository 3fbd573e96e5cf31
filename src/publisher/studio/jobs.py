"""The job queue, kept in SQLite: enqueue, claim (one worker per job), progress, cancel, finish, and
recovery of the jobs a killed studio left running.

A job is a row; its state goes queued → running → done | failed | cancelled. Workers claim the
oldest queued job inside `BEGIN IMMEDIATE`, so two workers never take the same one. Progress is
written by the worker and read by the web server (the job page's Server-Sent Events). A running
job whose worker process is gone (the studio was killed) is queued again and run from the clip
cache; after MAX_ATTEMPTS it is marked failed with a message saying so.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Literal

from publisher.studio.db import transaction

Kind = Literal["publish", "check", "proof"]
State = Literal["queued", "running", "done", "failed", "cancelled"]
FINAL: frozenset[str] = frozenset({"done", "failed", "cancelled"})
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Job:
    """One row of the queue."""

    id: int
    slug: str
    kind: Kind
    state: State
    stage: str | None
    done: int
    total: int
    message: str
    error: str | None
    cancel: bool
    attempts: int
    worker: int | None
    created: float
    started: float | None
    stage_started: float | None
    finished: float | None
    result: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        return cls(
            id=row["id"], slug=row["slug"], kind=row["kind"], state=row["state"], stage=row["stage"],
            done=row["done"], total=row["total"], message=row["message"], error=row["error"],
            cancel=bool(row["cancel"]), attempts=row["attempts"], worker=row["worker"], created=row["created"],
            started=row["started"], stage_started=row["stage_started"], finished=row["finished"],
            result=json.loads(row["result"]) if row["result"] else None,
        )  # fmt: skip

    @property
    def final(self) -> bool:
        """Done, failed or cancelled: nothing more will happen to it."""
        return self.state in FINAL

    def seconds_left(self, now: float | None = None) -> float | None:
        """An estimate of the time left in the current stage (None when there is nothing to go on)."""
        if self.state != "running" or not self.stage_started or not self.total or not 0 < self.done < self.total:
            return None
        elapsed = (now or time.time()) - self.stage_started
        return elapsed * (self.total - self.done) / self.done

    def to_json(self) -> dict[str, Any]:
        """The job as the API shows it."""
        left = self.seconds_left()
        return {
            "id": self.id, "slug": self.slug, "kind": self.kind, "state": self.state, "stage": self.stage,
            "done": self.done, "total": self.total, "message": self.message, "error": self.error,
            "cancel_requested": self.cancel, "attempts": self.attempts,
            "seconds_left": round(left, 1) if left is not None else None,
            "created": self.created, "started": self.started, "finished": self.finished, "result": self.result,
        }  # fmt: skip


def enqueue(db: sqlite3.Connection, slug: str, kind: Kind, user_id: int | None) -> int:
    """Queue a job; its id."""
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO jobs (slug, kind, user_id, created) VALUES (?, ?, ?, ?)", (slug, kind, user_id, time.time())
        )
    return int(cursor.lastrowid or 0)


def get(db: sqlite3.Connection, job_id: int) -> Job | None:
    """The job with this id."""
    row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return Job.from_row(row) if row else None


def for_slug(db: sqlite3.Connection, slug: str, limit: int = 20) -> list[Job]:
    """A publication's jobs, newest first."""
    rows = db.execute("SELECT * FROM jobs WHERE slug = ? ORDER BY id DESC LIMIT ?", (slug, limit))
    return [Job.from_row(r) for r in rows]


def active(db: sqlite3.Connection, slug: str | None = None) -> list[Job]:
    """Queued and running jobs (of one publication), oldest first."""
    sql = "SELECT * FROM jobs WHERE state IN ('queued', 'running')"
    rows = db.execute(sql + (" AND slug = ?" if slug else "") + " ORDER BY id", (slug,) if slug else ())
    return [Job.from_row(r) for r in rows]


def recent(db: sqlite3.Connection, limit: int = 50) -> list[Job]:
    """The latest jobs, newest first."""
    return [Job.from_row(r) for r in db.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,))]


def claim(db: sqlite3.Connection, worker: int) -> Job | None:
    """Take the oldest queued job for `worker` (a process id): it becomes running. None: nothing queued."""
    with transaction(db, immediate=True):
        row = db.execute("SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1").fetchone()
        if row is None:
            return None
        now = time.time()
        db.execute(
            "UPDATE jobs SET state = 'running', worker = ?, started = ?, stage = NULL, done = 0, total = 0, "
            "stage_started = ?, attempts = attempts + 1 WHERE id = ?",
            (worker, now, now, row["id"]),
        )
    return get(db, row["id"])


def progress(db: sqlite3.Connection, job_id: int, stage: str, done: int, total: int, message: str = "") -> None:
    """Record how far a running job is (the stage's start time moves when the stage changes)."""
    with transaction(db):
        db.execute(
            "UPDATE jobs SET stage_started = CASE WHEN stage IS ? THEN stage_started ELSE ? END, stage = ?, "
            "done = ?, total = ?, message = CASE WHEN ? = '' THEN message ELSE ? END WHERE id = ?",
            (stage, time.time(), stage, done, total, message, message, job_id),
        )


def finish(
    db: sqlite3.Connection, job_id: int, state: State, error: str | None = None, result: dict[str, Any] | None = None
) -> None:
    """End a job."""
    with transaction(db):
        db.execute(
            "UPDATE jobs SET state = ?, error = ?, result = ?, finished = ?, worker = NULL WHERE id = ?",
            (state, error, json.dumps(result) if result is not None else None, time.time(), job_id),
        )


def request_cancel(db: sqlite3.Connection, job_id: int) -> Job | None:
    """Ask a job to stop: a queued one is cancelled at once, a running one at its worker's next check."""
    with transaction(db, immediate=True):
        db.execute("UPDATE jobs SET cancel = 1 WHERE id = ? AND state IN ('queued', 'running')", (job_id,))
        db.execute(
            "UPDATE jobs SET state = 'cancelled', finished = ?, message = 'cancelled before it started' "
            "WHERE id = ? AND state = 'queued'",
            (time.time(), job_id),
        )
    return get(db, job_id)


def cancel_requested(db: sqlite3.Connection, job_id: int) -> bool:
    """Whether someone asked the job to stop."""
    row = db.execute("SELECT cancel FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return bool(row and row["cancel"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(db: sqlite3.Connection, workers: frozenset[int] | None = None) -> list[int]:
    """Queue again every running job whose worker is gone (not in `workers`, or not alive): the
    studio was killed while it ran. Its clips are in the cache, so the run picks up where it was.
    A job that was interrupted MAX_ATTEMPTS times is marked failed instead. Returns the ids queued."""
    queued = []
    with transaction(db, immediate=True):
        for row in db.execute("SELECT id, worker, attempts, cancel FROM jobs WHERE state = 'running'").fetchall():
            pid = row["worker"]
            if pid is not None and (pid in workers if workers is not None else _alive(pid)):
                continue
            if row["cancel"]:
                db.execute("UPDATE jobs SET state = 'cancelled', finished = ?, worker = NULL WHERE id = ?",
                           (time.time(), row["id"]))  # fmt: skip
            elif row["attempts"] >= MAX_ATTEMPTS:
                db.execute(
                    "UPDATE jobs SET state = 'failed', finished = ?, worker = NULL, error = ? WHERE id = ?",
                    (time.time(), f"the studio stopped while this job ran, {row['attempts']} times; "
                     "it was not tried again (see the studio's log)", row["id"]),
                )  # fmt: skip
            else:
                db.execute(
                    "UPDATE jobs SET state = 'queued', worker = NULL, message = ? WHERE id = ?",
                    ("the studio stopped while this job ran; it runs again, reusing the narration made so far",
                     row["id"]),
                )  # fmt: skip
                queued.append(row["id"])
    return queued
