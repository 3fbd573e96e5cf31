"""What the pronunciation editor's verdict costs: a sentence of the seed said with a fix (api.speak,
the default Piper voice) and proof-listened alone (api.score_clip, Whisper tiny.en), as the studio's
web process does for "hear it with the fix":

    python benchmarks/verdict.py [--sentences 8] [--write]

One fresh process (so the first verdict pays the imports, the voice and Whisper's load, as the
studio's first one does), on an empty cache; then one verdict per further sentence. Wall and CPU
seconds (this process's user + system; ffmpeg's decoding of the clip included, as a child) for the
speaking and the scoring of each. Printed, and appended to BENCHMARKS.md with --write.
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

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sources" / "putin-today.txt"

CHILD = """
import io, json, resource, sys, time, wave
from pathlib import Path

def cpu():
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

def seconds(wav):
    with wave.open(io.BytesIO(wav)) as clip:
        return clip.getnframes() / clip.getframerate()

def timed(function):
    c, t = cpu(), time.perf_counter()
    result = function()
    return result, time.perf_counter() - t, cpu() - c

(from_api, import_wall, import_cpu) = timed(lambda: __import__("publisher.api", fromlist=["api"]))
api = from_api
settings = api.Settings(cache=Path(sys.argv[1]))
rows = []
for text in json.loads(sys.argv[2]):
    audio, speak_wall, speak_cpu = timed(lambda: api.speak(text, settings, language="en"))
    score, score_wall, score_cpu = timed(lambda: api.score_clip(audio, text, "en", settings))
    rows.append({"words": len(text.split()), "audio": seconds(audio), "speak_wall": speak_wall,
                 "speak_cpu": speak_cpu, "score_wall": score_wall, "score_cpu": score_cpu,
                 "flagged": score.flagged, "confidence": score.confidence})
print(json.dumps({"import_wall": import_wall, "import_cpu": import_cpu, "rows": rows}))
"""


def sentences(count: int) -> list[str]:
    """The seed's first sentences of at least five words, as the publication's cues hold them."""
    from publisher import api

    pub, _ = api.read(SEED)
    return [s.text for s in pub.sentences() if len(s.text.split()) >= 5][:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=8)
    parser.add_argument("--write", action="store_true", help="append the results to BENCHMARKS.md")
    args = parser.parse_args()
    texts = sentences(args.sentences)
    with tempfile.TemporaryDirectory(prefix="verdict-bench-") as cache:
        done = subprocess.run([sys.executable, "-c", CHILD, cache, json.dumps(texts)], capture_output=True,
                              text=True, check=True)  # fmt: skip
    data = json.loads(done.stdout.strip().splitlines()[-1])
    first, warm = data["rows"][0], data["rows"][1:]
    load = Path("/proc/loadavg").read_text().split()[0]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in warm)

    lines = [f"## {dt.date.today().isoformat()}: the pronunciation editor's verdict (benchmarks/verdict.py)", "",
             f"The seed's first {len(texts)} sentences of five words or more, default Piper voice, Whisper "
             f"tiny.en, {platform.machine()} with {len(os.sched_getaffinity(0))} cores, load average {load} at "
             "the end. One fresh process on an empty cache, as the studio's web process: the first verdict "
             "pays the voice's and Whisper's load; the others are warm. Seconds, wall (CPU).", "",
             "| | speak (api.speak) | score (api.score_clip) | sentence audio |", "|---|---|---|---|",
             f"| import publisher.api | {data['import_wall']:.2f} ({data['import_cpu']:.2f}) | | |",
             f"| first verdict | {first['speak_wall']:.2f} ({first['speak_cpu']:.2f}) | "
             f"{first['score_wall']:.2f} ({first['score_cpu']:.2f}) | {first['audio']:.1f} s |",
             f"| later verdicts, median of {len(warm)} | {median('speak_wall'):.2f} ({median('speak_cpu'):.2f}) | "
             f"{median('score_wall'):.2f} ({median('score_cpu'):.2f}) | {median('audio'):.1f} s |",
             f"| later verdicts, slowest | {max(r['speak_wall'] for r in warm):.2f} | "
             f"{max(r['score_wall'] for r in warm):.2f} | {max(r['audio'] for r in warm):.1f} s |",
             "", f"Flagged: {sum(r['flagged'] for r in data['rows'])} of {len(data['rows'])} (no fix was made: "
             "the voice as it is)."]  # fmt: skip
    text = "\n".join(lines) + "\n"
    print(text)
    print(json.dumps(data, indent=1), file=sys.stderr)
    if args.write:
        with (ROOT / "BENCHMARKS.md").open("a", encoding="utf-8") as out:
            out.write("\n" + text)


if __name__ == "__main__":
    main()
