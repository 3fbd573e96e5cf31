"""Running the studio: prepare the data folder, queue again what a killed studio left running, start
the worker processes, and serve the app with uvicorn until stopped (then stop the workers, whose
jobs go back to the queue).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

from publisher.studio import accounts, jobs
from publisher.studio.db import connect, migrate
from publisher.studio.layout import Studio

log = logging.getLogger(__name__)


def prepare(studio: Studio) -> str | None:
    """Create or migrate the database and the folders; queue again the jobs a killed studio left
    running. Returns the first-admin link when there is no account yet."""
    for folder in (studio.root, studio.uploads, studio.lexicons, studio.output, studio.cache):
        folder.mkdir(parents=True, exist_ok=True)
    studio.uploads.chmod(0o700)
    studio.secret()
    migrate(studio.database)
    db = connect(studio.database)
    try:
        requeued = jobs.recover(db, workers=frozenset())
        if requeued:
            log.warning("queued again %d job(s) the studio was running when it stopped: %s", len(requeued),
                        ", ".join(map(str, requeued)))  # fmt: skip
        if accounts.count_users(db) == 0:
            return f"{studio.url}setup/{accounts.new_setup_link(db)}"
        return None
    finally:
        db.close()


class Workers:
    """The worker processes: started, watched (one that dies is started again), stopped."""

    def __init__(self, studio: Studio, count: int) -> None:
        self.studio = studio
        self.count = count
        self.processes: list[subprocess.Popen[bytes]] = []
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "publisher.studio.worker", "--data", str(self.studio.root)]
        command += ["--host", self.studio.host, "--port", str(self.studio.port), "--parent", str(os.getpid())]
        if self.studio.cluster:
            command += ["--cluster", self.studio.cluster]
        return command

    def start(self) -> None:
        self.processes = [subprocess.Popen(self.command()) for _ in range(self.count)]
        self._watcher = threading.Thread(target=self._watch, name="studio-workers", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.wait(2.0):
            for n, process in enumerate(self.processes):
                if process.poll() is not None and not self._stop.is_set():
                    log.warning("worker %d ended (exit %s); starting another", process.pid, process.returncode)
                    db = connect(self.studio.database)
                    try:
                        jobs.recover(db, frozenset(p.pid for p in self.processes if p.poll() is None))
                    finally:
                        db.close()
                    self.processes[n] = subprocess.Popen(self.command())

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM every worker (each puts its job back in the queue), then wait; SIGKILL stragglers."""
        self._stop.set()
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def serve(studio: Studio, workers: int = 1, announce: Callable[[str], None] = print) -> None:
    """Run the studio until interrupted: the workers, and the app under uvicorn."""
    import uvicorn

    from publisher.studio.web import create_app

    link = prepare(studio)
    app = create_app(studio)
    config = uvicorn.Config(app, host=studio.host, port=studio.port, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=3, proxy_headers=False)  # fmt: skip
    server = uvicorn.Server(config)
    pool = Workers(studio, workers)
    pool.start()
    announce(f"publisher studio: {studio.url} (data in {studio.root}; {workers} worker"
             f"{'s' * (workers != 1)}; Ctrl-C to stop)")  # fmt: skip
    if link:
        announce(f"No account yet: open this one-time link to create the first admin:\n  {link}")
    try:
        server.run()
    finally:
        pool.stop()
