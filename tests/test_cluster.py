"""Publishing on a Dask cluster: real `dask scheduler` and `dask worker` processes on loopback (and
LocalCluster for the quick cases); outputs byte-identical to a local publish under
SOURCE_DATE_EPOCH, a worker SIGKILLed mid-run, Ctrl-C, mismatched workers, an unreachable scheduler.

eSpeak NG's samples depend by a few samples on what the same process spoke before (measured: a
sentence is 12 samples shorter after another one; its state survives espeak_Initialize), so a
cold eSpeak narration differs between two local runs that speak in another order as well. The
byte-identity tests therefore use the silent engine cold (synthesis on the cluster) and eSpeak
with the clips a local run made (rendering on the cluster)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import FIXTURES, SEED

import publisher
from publisher.errors import ConfigError, EngineError
from publisher.pipeline.cluster import BATCH_CLIPS, batches
from publisher.pipeline.executor import Work, cluster_address
from publisher.settings import Settings, load_settings
from publisher.speech.engines import EngineOptions, EngineSpec
from publisher.speech.narrate import Clip

pytest.importorskip("distributed", reason="the cluster extra is not installed: pip install 'publisher[cluster]'")

SRC = Path(publisher.__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EPOCH = "1700000000"
#: (sources, engine) per invocation, as /work/baseline/snap.sh publishes them
RUNS = [(["putin-today.txt"], "espeak"), (["article.html", "chapters.txt"], "espeak"), (["book.md"], "silent")]
ALL = ["putin-today.txt", "article.html", "chapters.txt", "book.md"]
SILENT = [(ALL, "silent")]


def env(**extra: str) -> dict[str, str]:
    """The environment of every process here: this worktree's code, SOURCE_DATE_EPOCH, no
    DASK_SCHEDULER_ADDRESS from outside."""
    result = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    result.update({"PYTHONPATH": str(SRC), "SOURCE_DATE_EPOCH": EPOCH, **extra})
    return result


def worker_env(pythonpath: Path) -> dict[str, str]:
    """A worker's environment: without SOURCE_DATE_EPOCH (the client's epoch travels with the work)."""
    result = env(PYTHONPATH=str(pythonpath))
    del result["SOURCE_DATE_EPOCH"]
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sources(folder: Path) -> Path:
    """The seed and the fixtures, copied into `folder/src`."""
    src = folder / "src"
    src.mkdir(parents=True)
    shutil.copy(SEED, src)
    for name in ("book.md", "engine.png", "article.html", "chapters.txt"):
        shutil.copy(FIXTURES / name, src)
    return src


def publisher_cmd(src: Path, names: list[str], out: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "publisher", "publish", *(str(src / n) for n in names), "-o", str(out), *args]


def publish(src: Path, out: Path, cache: Path, *args: str, runs: list[tuple[list[str], str]] = RUNS) -> list[str]:
    """Publish like snap.sh (one invocation per engine); return each invocation's stderr."""
    errs = []
    for names, engine in runs:
        cmd = publisher_cmd(src, names, out, "--engine", engine, "--cache-dir", str(cache), *args)
        proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        errs.append(proc.stderr)
    return errs


def sums(out: Path) -> dict[str, str]:
    """sha256 of every file under `out` (the lock file aside), by relative path."""
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != ".publisher.lock"
    }


Reference = tuple[Path, dict[str, str], Path]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """The seed and fixtures published with local processes: what every cluster run must equal
    (the sources, the sums of the outputs, the clip cache)."""
    folder = tmp_path_factory.mktemp("local")
    src = sources(folder)
    publish(src, folder / "out", folder / "cache")
    return src, sums(folder / "out"), folder / "cache"


@pytest.fixture(scope="module")
def silent_reference(reference: Reference, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The seed and fixtures published locally with the silent engine (a pure function of the text)."""
    folder = tmp_path_factory.mktemp("silent")
    publish(reference[0], folder / "out", folder / "cache", runs=SILENT)
    return sums(folder / "out")


def publications(found: dict[str, str], *slugs: str) -> dict[str, str]:
    """The sums of the files inside these publications' folders."""
    return {k: v for k, v in found.items() if k.split("/")[0] in slugs}


class DaskCluster:
    """A `dask scheduler` and `dask worker` processes (--nthreads 1, no nanny: a killed worker
    stays dead) on 127.0.0.1, each on a free port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.workers: list[subprocess.Popen[bytes]] = []
        self.names: dict[str, subprocess.Popen[bytes]] = {}
        log = (folder / "scheduler.log").open("wb")
        self.scheduler = subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", self.address.rsplit(":", 1)[1],
             "--dashboard-address", f"127.0.0.1:{free_port()}", "--no-show"],
            env=env(), stdout=log, stderr=subprocess.STDOUT, cwd=folder,
        )  # fmt: skip

    def add_worker(self, pythonpath: Path = SRC, hidden: Path | None = None) -> subprocess.Popen[bytes]:
        """Start one worker with the code under `pythonpath` (in a mount namespace where `hidden` is
        an empty tmpfs, when given: a machine that shares none of those folders); return once the
        scheduler has it."""
        before = self.count()
        n = len(self.names)
        log = (self.folder / f"worker{n}.log").open("wb")
        space = hidden / "worker-space" if hidden else self.folder
        cmd = [str(BIN / "dask"), "worker", self.address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
               "--no-dashboard", "--memory-limit", "0", "--name", f"w{n}", "--local-directory", str(space)]  # fmt: skip
        if hidden is not None:
            cmd = ["unshare", "-m", "sh", "-c", f'mount -t tmpfs none {hidden} && exec "$0" "$@"', *cmd]
        worker = subprocess.Popen(
            cmd, env=worker_env(pythonpath), stdout=log, stderr=subprocess.STDOUT, cwd="/" if hidden else self.folder
        )
        self.workers.append(worker)
        self.names[f"w{n}"] = worker
        self.wait(lambda: self.count() > before, f"worker {n} to join")
        return worker

    def client(self) -> object:
        from distributed import Client

        return Client(self.address, timeout=30, set_as_default=False)

    def count(self) -> int:
        """Workers the scheduler knows."""
        try:
            with self.client() as client:  # type: ignore[attr-defined]
                return len(client.scheduler_info(n_workers=-1)["workers"])
        except OSError:
            return 0

    def busy_with(self, prefix: str) -> subprocess.Popen[bytes] | None:
        """The worker process running a task whose key starts with `prefix` now, if any."""
        with self.client() as client:  # type: ignore[attr-defined]
            busy = client.processing()
            names = {addr: w["name"] for addr, w in client.scheduler_info(n_workers=-1)["workers"].items()}
        for address, keys in busy.items():
            if any(str(k).startswith(prefix) for k in keys) and str(names.get(address)) in self.names:
                return self.names[str(names[address])]
        return None

    def tasks(self) -> int:
        """Tasks the scheduler still holds."""
        with self.client() as client:  # type: ignore[attr-defined]
            return int(client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)))

    @staticmethod
    def wait(condition: object, what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not condition():  # type: ignore[operator]
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.2)

    def stop(self, worker: subprocess.Popen[bytes]) -> None:
        """Stop one worker and wait until the scheduler has let it go."""
        before = self.count()
        worker.terminate()
        worker.wait(30)
        self.workers.remove(worker)
        self.wait(lambda: self.count() < before, "the worker to leave")

    def close(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                proc.kill()
            proc.wait(30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    running = DaskCluster(tmp_path_factory.mktemp("dask"))
    try:
        running.add_worker()
        running.add_worker()
        yield running
    finally:
        running.close()


# --- settings, the plain path, the plan of tasks ---------------------------------------------


def test_plain_path_never_imports_dask(tmp_path: Path) -> None:
    """A publish on this machine's processes runs the executor and never loads Dask."""
    shutil.copy(FIXTURES / "chapters.txt", tmp_path)
    command = ["publish", "chapters.txt", "--engine", "silent", "-o", "out", "--cache-dir", "cache"]
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "publisher", *command],
        env=env(),
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "out" / "chapters" / "chapters.epub").is_file()
    modules = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line]
    assert "publisher.pipeline.executor" in modules
    assert not [m for m in modules if m.split(".")[0] in ("dask", "distributed", "bokeh")]


def test_cluster_setting_from_toml_flag_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "publisher.toml").write_text('cluster = "tcp://10.0.0.5:8786"\n')
    assert load_settings(cwd=tmp_path).cluster == "tcp://10.0.0.5:8786"
    assert Settings().with_overrides({"cluster": "local:4"}, "command line").cluster == "local:4"
    with pytest.raises(ConfigError, match="cluster 'tcp://a b' is not a scheduler address"):
        Settings().with_overrides({"cluster": "tcp://a b"}, "command line")
    with pytest.raises(ConfigError, match="a local cluster has 1–256 workers"):
        Settings().with_overrides({"cluster": "local:0"}, "command line")
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert cluster_address(None) is None
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9999")
    assert cluster_address(None) == "tcp://127.0.0.1:9999"
    assert cluster_address("local:2") == "local:2"  # the setting wins over the environment
    assert cluster_address("off") is None
    assert "cluster" not in Settings().publication_values()  # where it runs never changes what is published


def _work(name: str, texts: list[str], cache: Path) -> Work:
    clips = tuple(Clip(hashlib.sha256(t.encode()).hexdigest(), f"s{i}", t) for i, t in enumerate(texts))
    return Work(
        source=Path(name), slug=name, clips=clips, cached=0, cache=cache, spec=EngineSpec("silent", EngineOptions()),
        cache_key="silent:x", render=lambda step, cancel: None, output=cache,
    )  # fmt: skip


def test_a_clip_two_books_share_is_one_task(tmp_path: Path) -> None:
    shared = "A sentence both books have."
    a = _work("a", [f"Sentence {i} of a." for i in range(3)] + [shared], tmp_path)
    b = _work("b", [shared, "Only in b."], tmp_path)
    tasks = batches([a, b])
    made = [clip.key for _, clips, _ in tasks for clip in clips]
    assert sorted(made) == sorted({c.key for c in (*a.clips, *b.clips)}), "every clip once"
    owner = next(users for _, clips, users in tasks if any(c.text == shared for c in clips))
    assert owner == [0, 1], "both books wait for the shared clip"
    single = [key for key, clips, _ in tasks if len(clips) == 1]
    assert all(key == f"clip-{clips[0].key}" for key, clips, _ in tasks if key in single)


def test_batches_are_small(tmp_path: Path) -> None:
    work = _work("w", [f"Sentence number {i}." for i in range(500)], tmp_path)
    tasks = batches([work])
    assert all(len(clips) <= BATCH_CLIPS for _, clips, _ in tasks)
    assert len({key for key, _, _ in tasks}) == len(tasks) >= 500 / BATCH_CLIPS


# --- LocalCluster: the quick cases -----------------------------------------------------------


def test_local_cluster_publish_is_byte_identical(
    reference: Reference, silent_reference: dict[str, str], tmp_path: Path
) -> None:
    """Every clip made and every publication rendered by a LocalCluster of two processes."""
    errs = publish(reference[0], tmp_path / "out", tmp_path / "cache", "--cluster", "local:2", runs=SILENT)
    assert "Dask cluster tcp://127.0.0.1:" in errs[0] and "2 workers, 2 threads" in errs[0]
    assert "dashboard http://" in errs[0]
    assert errs[0].count("Narrating ") == 1 and "Narrating 4 sources" in errs[0], "one bar for the whole run"
    assert sums(tmp_path / "out") == silent_reference
    assert not list((tmp_path / "out").glob(".*tmp-*")), "no staging or scratch folder is left"


def test_unreachable_scheduler_is_one_line_naming_it(tmp_path: Path) -> None:
    src = sources(tmp_path)
    address = f"tcp://127.0.0.1:{free_port()}"
    proc = subprocess.run(
        publisher_cmd(src, ["chapters.txt"], tmp_path / "out", "--engine", "silent", "--cluster", address),
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == EngineError.exit_code
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot reach the Dask scheduler at {address}")
    assert not (tmp_path / "out" / "chapters").exists()


# --- a real scheduler and two workers ----------------------------------------------------------


def test_cluster_publish_is_byte_identical(
    reference: Reference, silent_reference: dict[str, str], cluster: DaskCluster, tmp_path: Path
) -> None:
    """The seed and fixtures as snap.sh publishes them (eSpeak clips from the local run's cache,
    rendered on the workers), and all four with the silent engine from a cold cache."""
    src, expected, made = reference
    shutil.copytree(made, tmp_path / "cache")
    errs = publish(src, tmp_path / "out", tmp_path / "cache", "--cluster", cluster.address)
    assert f"Dask cluster {cluster.address}: 2 workers, 2 threads" in errs[0]
    assert sums(tmp_path / "out") == expected
    publish(src, tmp_path / "silent", tmp_path / "cold", "--cluster", cluster.address, runs=SILENT)
    assert sums(tmp_path / "silent") == silent_reference


def run_killing_a_busy_worker(cluster: DaskCluster, cmd: list[str], prefix: str, what: str) -> tuple[int, str]:
    """Run `cmd` on the cluster, SIGKILL the worker as soon as it runs a task whose key starts with
    `prefix`, and wait for the run: (its exit code, its stderr). A new worker replaces the dead one
    (the next tests want two workers again)."""
    proc = subprocess.Popen([*cmd, "--cluster", cluster.address], env=env(), stderr=subprocess.PIPE, text=True)
    victim = None
    try:
        cluster.wait(lambda: cluster.busy_with(prefix) is not None or proc.poll() is not None, what)
        victim = cluster.busy_with(prefix)
        assert proc.poll() is None and victim is not None, "the run ended before a worker could be killed"
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
        _, err = proc.communicate(timeout=600)
    finally:
        if victim is not None:
            cluster.workers.remove(victim)
            cluster.add_worker()
    return proc.returncode, err


def test_worker_killed_mid_run(reference: Reference, cluster: DaskCluster, tmp_path: Path) -> None:
    """SIGKILL the worker that is rendering a publication: Dask gives its task to the other worker
    and the publish completes with the same bytes (the dead worker's staging folder is cleared)."""
    src, expected, made = reference
    shutil.copytree(made, tmp_path / "cache")
    names = ["putin-today.txt", "article.html", "chapters.txt"]
    cmd = publisher_cmd(src, names, tmp_path / "out", "--engine", "espeak", "--cache-dir", str(tmp_path / "cache"))
    returncode, err = run_killing_a_busy_worker(cluster, cmd, "render-", "a render task")
    assert returncode == 0, err
    slugs = ("putin-today", "article", "chapters")
    assert publications(sums(tmp_path / "out"), *slugs) == publications(expected, *slugs)
    assert not list((tmp_path / "out").glob(".*tmp-*")), "the dead worker's staging folder is cleared"


def test_worker_killed_while_making_clips(cluster: DaskCluster, tmp_path: Path) -> None:
    """SIGKILL a worker in the middle of a clip task (3,000 short sentences, silent engine): the
    task runs again on the other worker and the outputs equal a local publish's."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "many.md").write_text(
        "# Many\n\n" + "\n\n".join(" ".join(f"S{p}x{i}." for i in range(30)) for p in range(100)) + "\n"
    )
    runs = [(["many.md"], "silent")]
    publish(src, tmp_path / "local", tmp_path / "c-local", runs=runs)
    cache = tmp_path / "cache"
    cmd = publisher_cmd(src, ["many.md"], tmp_path / "out", "--engine", "silent", "--cache-dir", str(cache))
    returncode, err = run_killing_a_busy_worker(cluster, cmd, "clips-", "a clip task")
    assert returncode == 0, err
    assert sums(tmp_path / "out") == sums(tmp_path / "local")
    assert len(list((cache / "clips").rglob("*.pcm"))) == 3000 + 3  # the sentences, title and credits


def test_ctrl_c_cancels_and_keeps_cache_and_outputs(reference: Reference, cluster: DaskCluster, tmp_path: Path) -> None:
    """Ctrl-C while the workers make clips: exit 130, the scheduler drops the run's tasks, the
    earlier outputs are untouched and every clip kept is whole."""
    src, expected, made = reference
    out, cache = tmp_path / "out", tmp_path / "cache"
    shutil.copytree(made.parent / "out", out)
    cmd = publisher_cmd(src, ["putin-today.txt"], out, "--engine", "espeak", "--force", "--cache-dir", str(cache))
    proc = subprocess.Popen([*cmd, "--cluster", cluster.address], env=env(), stderr=subprocess.PIPE, text=True)
    cluster.wait(lambda: len(list((cache / "clips").rglob("*.pcm"))) >= 5 or proc.poll() is not None, "clips")
    assert proc.poll() is None, "the run ended before Ctrl-C"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    cluster.wait(lambda: cluster.tasks() == 0, "the scheduler to drop the run's tasks", timeout=60)
    cluster.wait(lambda: not list((cache / "clips").rglob(".tmp-*")), "the last clip being written", timeout=60)
    # a render task a worker had already started runs to its end (Dask cannot stop a running
    # thread) and moves its folder into place whole, or not at all: wait for its staging folder
    cluster.wait(lambda: not list(out.glob(".*.tmp-*")), "a render already running to finish", timeout=120)
    assert sums(out) == expected, "the earlier outputs are untouched"
    clips = list((cache / "clips").rglob("*.pcm"))
    assert len(clips) >= 5
    for clip in clips:  # whole: as long as the local run's clip of that sentence, give or take eSpeak's jitter
        local = (made / clip.relative_to(cache)).stat().st_size
        assert abs(clip.stat().st_size - local) <= 0.01 * local
    again = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr


def test_workers_that_share_no_folder(
    reference: Reference, silent_reference: dict[str, str], cluster: DaskCluster, tmp_path: Path
) -> None:
    """A worker that sees neither the cache, nor the output, nor the sources (another machine
    without the shared mount): its clips come back to the client's cache and the publications are
    rendered on the client, with a warning; the bytes are the same."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs unshare and root for a private mount namespace")
    hidden = tmp_path.parents[1]  # every test's folders
    odd = cluster.add_worker(hidden=hidden)
    try:
        errs = publish(reference[0], tmp_path / "out", tmp_path / "cache", "--cluster", cluster.address, runs=SILENT)
        with cluster.client() as client:  # type: ignore[attr-defined]
            seen = client.run(os.path.isdir, str(tmp_path), workers=[_address_of(client, odd, cluster)])
    finally:
        cluster.stop(odd)
    assert list(seen.values()) == [False], "the odd worker really does not see the test's folders"
    assert "3 workers" in errs[0]
    assert errs[0].count("not on a path every worker shares; rendered here") == 4
    assert sums(tmp_path / "out") == silent_reference
    assert len(list((tmp_path / "cache" / "clips").rglob("*.pcm"))) > 0


def _address_of(client: Any, worker: subprocess.Popen[bytes], cluster: DaskCluster) -> str:
    name = next(n for n, w in cluster.names.items() if w is worker)
    return next(a for a, w in client.scheduler_info(n_workers=-1)["workers"].items() if w["name"] == name)


def test_a_failing_task_fails_its_source_only(cluster: DaskCluster, tmp_path: Path) -> None:
    """gTTS cannot reach Google from here: its clip tasks fail on the worker, that source fails
    with one line, the other source is published and the catalogue lists it."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "online.md").write_text("---\ntitle: Online only\nengine: gtts\n---\n\n# One\n\nA sentence here.\n")
    shutil.copy(FIXTURES / "chapters.txt", src)
    (tmp_path / "publisher.toml").write_text('engine = "silent"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "publisher", "publish", "src", "-o", "out", "--cluster", cluster.address],
        env=env(),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == EngineError.exit_code, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "online.md" in errors[0], proc.stderr
    assert (tmp_path / "out" / "chapters" / "chapters.epub").is_file()
    assert not (tmp_path / "out" / "online").exists()
    assert "chapters" in (tmp_path / "out" / "index.html").read_text()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("__init__.py", '__version__ = "', '__version__ = "0.0.0+other-'), "runs publisher 0.0.0+other-"),
        (("speech/engines/silent.py", "SECONDS_PER_CHARACTER = 0.06", "SECONDS_PER_CHARACTER = 0.07"),
         "does not have this client's silent voice"),
    ],
)  # fmt: skip
def test_a_mismatched_worker_is_refused(
    edit: tuple[str, str, str], message: str, cluster: DaskCluster, tmp_path: Path
) -> None:
    """A worker running other code (another version, another voice) joins: the run stops with one
    line naming it before anything is synthesized, instead of mixing narrations."""
    other = tmp_path / "other"
    shutil.copytree(SRC / "publisher", other / "publisher", ignore=shutil.ignore_patterns("__pycache__"))
    name, old, new = edit
    path = other / "publisher" / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    odd = cluster.add_worker(other)
    try:
        src = sources(tmp_path)
        args = ("--engine", "silent", "--cluster", cluster.address, "--cache-dir", str(tmp_path / "cache"))
        proc = subprocess.run(
            publisher_cmd(src, ["chapters.txt"], tmp_path / "out", *args),
            env=env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        cluster.stop(odd)
    assert proc.returncode == EngineError.exit_code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("error: Dask worker tcp://127.0.0.1:") and message in lines[-1], proc.stderr
    assert not (tmp_path / "cache" / "clips").exists(), "nothing was synthesized"
    assert not (tmp_path / "out" / "chapters").exists()
