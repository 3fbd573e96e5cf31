"""Dask cluster benchmarks, each against a baseline measured in the same run (these machines are noisy).

    python benchmarks/cluster.py                      # both parts, appended to BENCHMARKS.md
    python benchmarks/cluster.py --engine espeak      # throughput with eSpeak NG (when Piper is too slow)
    python benchmarks/cluster.py --no-book            # scheduler overhead only

1. Throughput: the corpus book's first three chapters published cold with `--jobs 2` and with
   `--cluster local:2` (2 workers × 1 thread) on the same machine; the ratio, whether the outputs
   are byte-identical (SOURCE_DATE_EPOCH), the LocalCluster's start-up, a cold render from cached
   clips (the per-book serial part) and the client's planning time (read + normalise + fingerprint).
2. Scheduler overhead: the silent engine over 20,000 sentences, in-process vs the cluster's clip
   tasks (default batches), and one clip per task (the scheduler's own rate).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

import bench  # noqa: E402

from publisher.pipeline import cluster  # noqa: E402
from publisher.pipeline.cluster import DaskExecutor  # noqa: E402
from publisher.pipeline.engines import EngineCache  # noqa: E402
from publisher.pipeline.executor import LocalExecutor, Work  # noqa: E402
from publisher.pipeline.plan import plan_source  # noqa: E402
from publisher.settings import Settings  # noqa: E402
from publisher.speech.engines import EngineOptions, EngineSpec, get_engine  # noqa: E402
from publisher.speech.narrate import Clip  # noqa: E402

EPOCH = "1700000000"


def publisher(args: list[str], cwd: Path) -> float:
    """Wall seconds of one `publisher -q …` run (this worktree's code, SOURCE_DATE_EPOCH set)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "SOURCE_DATE_EPOCH": EPOCH}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "publisher", "-q", *args], cwd=cwd, env=env, capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"publisher failed: {proc.stderr.decode()[-800:]}")
    return time.perf_counter() - started


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".publisher.lock"
    }


def localcluster_start(workers: int) -> float:
    """Seconds to start and stop a LocalCluster of `workers` processes (connect + check included)."""
    started = time.perf_counter()
    with DaskExecutor(f"local:{workers}"):
        pass
    return time.perf_counter() - started


def bench_book(rows: list[tuple[str, str]], engine: str, chapters: int, book: Path) -> None:
    """--jobs 2 vs --cluster local:2 on the corpus book's first chapters, cold."""
    if not book.is_file():
        rows.append(("cluster vs --jobs", f"skipped: {book} is not here"))
        return
    bench.BOOK = book
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = bench.book_part(chapters, work / "book.md")
        words = len(source.read_text(encoding="utf-8").split())
        common = ["publish", "book.md", "--engine", engine]
        local = publisher([*common, "-o", "local", "--cache-dir", "c-local", "--jobs", "2"], work)
        cluster = publisher([*common, "-o", "cluster", "--cache-dir", "c-cluster", "--cluster", "local:2"], work)
        same = digests(work / "local") == digests(work / "cluster")
        files = len(digests(work / "local"))
        start = localcluster_start(2)
        shutil.rmtree(work / "c-local" / "segments")
        render = publisher([*common, "-o", "local", "--cache-dir", "c-local", "--force"], work)
        planned = time.perf_counter()
        plan_source(source, Settings(engine=engine, cache=work / "c-local"), EngineCache(), work / "scratch")
        plan = time.perf_counter() - planned
        sentences = len(list((work / "c-local" / "clips").rglob("*.pcm")))
        audio = float(json.loads((work / "local" / "book" / ".publisher.json").read_text())["duration"])
        out_bytes = sum(p.stat().st_size for p in (work / "local").rglob("*") if p.is_file())
        clip_bytes = sum(p.stat().st_size for p in (work / "c-local" / "clips").rglob("*") if p.is_file())
        label = f"book ({chapters} chapters, {words} words, {sentences} clips), {engine}"
        rows += [
            (f"{label}: --jobs 2", f"{local:.1f} s ({words / local:.0f} words/s)"),
            (f"{label}: --cluster local:2 (2 workers × 1 thread)", f"{cluster:.1f} s ({words / cluster:.0f} words/s)"),
            (f"{label}: cluster throughput / --jobs throughput", f"{local / cluster:.2f} ×"),
            (f"{label}: outputs byte-identical (SOURCE_DATE_EPOCH)", f"{'yes' if same else 'NO'} ({files} files)"),
            ("LocalCluster of 2 processes: start + version/voice check + stop", f"{start:.1f} s"),
            (f"{label}: cold render from cached clips (serial, one task)", f"{render:.1f} s"),
            (f"{label}: client planning (read, normalise, fingerprint)", f"{plan:.2f} s"),
            (f"{label}: narration", f"{audio:.0f} s of audio ({words / audio:.2f} words per second of audio)"),
            (
                f"{label}: bytes per second of audio",
                f"clips {clip_bytes / audio / 1e3:.1f} KB, outputs (all formats) {out_bytes / audio / 1e3:.1f} KB",
            ),
        ]


def _rendered(step: object, cancel: object) -> str:
    """A rendering that renders nothing (the benchmark measures synthesis and scheduling)."""
    return "rendered"


def silent_works(n: int, folder: Path) -> list[Work]:
    """One source's worth of `n` distinct short sentences for the silent engine (no rendering)."""
    options = EngineOptions()
    engine = get_engine("silent", options)
    clips = []
    for i in range(n):
        text = f"S{i:x}."
        key = hashlib.sha256(f"{engine.cache_key}\x1f{text}".encode()).hexdigest()
        clips.append(Clip(key, f"s{i}", text))
    cache = folder / "cache"
    return [Work(source=folder / "src", slug="bench", clips=tuple(clips), cached=0, cache=cache,
                 spec=EngineSpec("silent", options), cache_key=engine.cache_key, render=_rendered,
                 output=folder / "out", engine=engine)]  # fmt: skip


def timed_run(runner: LocalExecutor | DaskExecutor, works: list[Work]) -> float:
    started = time.perf_counter()
    for outcome in runner.run(works):
        if isinstance(outcome.result, BaseException):
            raise outcome.result
    return time.perf_counter() - started


def bench_overhead(rows: list[tuple[str, str]], sentences: int, single: int) -> None:
    """The silent engine: in-process vs clip tasks on a LocalCluster of 2 processes."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        works = silent_works(sentences, folder / "local")
        local = timed_run(LocalExecutor(1), works)
        with DaskExecutor("local:2") as dask:
            works = silent_works(sentences, folder / "batched")
            tasks = len(cluster.batches(works))
            batched = timed_run(dask, works)
            default = cluster.BATCH_CLIPS
            cluster.BATCH_CLIPS = 1
            try:
                works = silent_works(single, folder / "single")
                one = timed_run(dask, works)
            finally:
                cluster.BATCH_CLIPS = default
    rows += [
        (f"silent engine, {sentences} sentences: in-process", f"{local:.1f} s ({sentences / local:.0f} sentences/s)"),
        (
            f"silent engine, {sentences} sentences: cluster, {tasks} tasks of ≤ {cluster.BATCH_CLIPS} clips",
            f"{batched:.1f} s ({tasks / batched:.0f} tasks/s, {sentences / batched:.0f} sentences/s)",
        ),
        (
            f"silent engine, {sentences} sentences: cluster overhead per sentence",
            f"{(batched - local) / sentences * 1000:.2f} ms",
        ),
        (
            f"silent engine, {single} sentences, one clip per task",
            f"{one:.1f} s ({single / one:.0f} tasks/s, {one / single * 1000:.1f} ms per task)",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="piper", help="engine of the throughput part (piper or espeak)")
    parser.add_argument("--chapters", type=int, default=3, help="chapters of the corpus book")
    parser.add_argument("--book", type=Path, default=bench.BOOK, help=f"the corpus book [{bench.BOOK}]")
    parser.add_argument("--sentences", type=int, default=20000, help="sentences of the overhead part")
    parser.add_argument("--single", type=int, default=3000, help="sentences of the one-clip-per-task part")
    parser.add_argument("--no-book", action="store_true", help="scheduler overhead only")
    parser.add_argument("--no-overhead", action="store_true", help="throughput only")
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    if not args.no_overhead:
        bench_overhead(rows, args.sentences, args.single)
    if not args.no_book:
        bench_book(rows, args.engine, args.chapters, args.book)
    load = os.getloadavg()[0]
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    head = (
        f"## {stamp} — Dask cluster — {platform.node()}, {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {load:.1f} at the end"
    )
    width = max(len(k) for k, _ in rows)
    print(head)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    if not args.no_record:
        table = "\n".join(f"| {k} | {v} |" for k, v in rows)
        with (ROOT / "BENCHMARKS.md").open("a", encoding="utf-8") as handle:
            handle.write(f"\n{head}\n\n| measure | result |\n| --- | --- |\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
