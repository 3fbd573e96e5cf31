"""A real `publisher studio` process for the studio's tests: started on a free port with its own data
folder, its first-admin link read from what it prints, and helpers to sign in and follow jobs."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PUBLISHER = Path(sys.executable).parent / "publisher"
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    """A studio process and what it printed."""

    process: subprocess.Popen[str]
    data: Path
    port: int
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def setup_link(self) -> str | None:
        for line in self.lines:
            found = re.search(r"(http://\S+/setup/\S+)", line)
            if found:
                return found.group(1)
        return None

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def kill(self) -> None:
        """SIGKILL the studio and its workers at once, as a power cut or the OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def start(data: Path, *args: str, env: dict[str, str] | None = None) -> Running:
    """Start `publisher studio --data DATA ARGS` and wait until it answers (and has printed its
    first-admin link, when it prints one)."""
    port = free_port()
    environment = {**os.environ, "PUBLISHER_STUDIO_ACE": "0", **(env or {})}
    process = subprocess.Popen(
        [str(PUBLISHER), "studio", "--data", str(data), "--port", str(port), *args],
        stdout=subprocess.PIPE, stderr=None, text=True, env=environment, start_new_session=True,
    )  # fmt: skip
    running = Running(process, data, port)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            running.lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(running.url + "/signin", timeout=2)
        except httpx.TransportError:
            if process.poll() is not None:
                raise AssertionError(f"the studio ended with {process.returncode}") from None
            time.sleep(0.1)
            continue
        printed = "".join(running.lines)
        if printed.startswith("publisher studio: ") and ("No account yet" not in printed or "/setup/" in printed):
            return running
        time.sleep(0.05)
    raise AssertionError(f"the studio did not answer within 30 s: {running.lines}")


def stop(running: Running) -> None:
    """SIGINT to the studio (which stops its workers), as a service manager stops it; SIGKILL if it does not end."""
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGINT)
        try:
            running.process.wait(30)
        except subprocess.TimeoutExpired:
            running.kill()


@contextmanager
def studio_process(data: Path, *args: str) -> Iterator[Running]:
    running = start(data, *args)
    try:
        yield running
    finally:
        stop(running)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def create_admin(running: Running, name: str = "admin") -> httpx.Client:
    """Use the one-time link; a browser-like client signed in as the new admin."""
    link = running.setup_link
    assert link, running.lines
    client = running.client(accept="text/html")
    form = client.get(link)
    assert form.status_code == 200
    answer = client.post(link, data={"csrf": csrf_of(form.text), "name": name, "password": PASSWORD,
                                     "confirm": PASSWORD})  # fmt: skip
    assert answer.status_code == 303, answer.text
    return client


def sign_in(running: Running, name: str, password: str = PASSWORD) -> httpx.Client:
    client = running.client(accept="text/html")
    form = client.get("/signin")
    answer = client.post("/signin", data={"csrf": csrf_of(form.text), "name": name, "password": password})
    assert answer.status_code == 303, answer.text
    return client


def add_user(data: Path, name: str, role: str, password: str = PASSWORD) -> str:
    """`publisher user add` then `publisher user token`: the account's API token."""
    subprocess.run([str(PUBLISHER), "user", "add", name, "--role", role, "--data", str(data)], input=password + "\n",
                   text=True, check=True, capture_output=True)  # fmt: skip
    token = subprocess.run([str(PUBLISHER), "user", "token", name, "--data", str(data)], text=True, check=True,
                           capture_output=True).stdout.strip()  # fmt: skip
    return token


def wait_job(client: httpx.Client, job: int, timeout: float = 240) -> dict[str, Any]:
    """Poll GET /api/jobs/ID until the job is over; its last state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state: dict[str, Any] = client.get(f"/api/jobs/{job}", headers={"accept": "application/json"}).json()
        if state["state"] in ("done", "failed", "cancelled"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {job} did not end within {timeout} s")
