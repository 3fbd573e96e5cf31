"""The studio's pronunciation loop on the seed with the default Piper voice, through the library API
the studio calls (`api.speak` for "hear it with the fix", `api.publish` for the republish):

    python benchmarks/studio.py [--rounds 2] [--word Houthis --word Putin]

Each round starts from an empty cache and output: a cold publish, then for each word a fix heard
(api.speak with the lexicon entry, in a fresh process: what the studio's first "hear" costs, imports
and voice load included; then once more warm, as every later "hear" in the web process), then the
entry saved and the publication republished. Wall and CPU seconds (this process and its children)
for each; the republish as a fraction of the cold publish of the same round. Printed, and appended to
BENCHMARKS.md with --write.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sources" / "putin-today.txt"
FIXES = {"Houthis": "[[ hˈuːθiːz ]] | Hoothees", "Putin": "[[ pˈuːtɪn ]] | Pootin"}

HEAR = """
import json, resource, sys, time
started, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
from publisher import api
from pathlib import Path
settings = api.Settings(cache=Path(sys.argv[1]), lexicon=Path(sys.argv[5]))  # the studio's merged file
word, pronunciation, sentence = sys.argv[2], sys.argv[3], sys.argv[4]
wav = api.speak(sentence, settings, lexicon={word: pronunciation})
cold = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF)
warm_start = time.perf_counter()
api.speak(sentence + " Again.", settings, lexicon={word: pronunciation})
warm = time.perf_counter() - warm_start
end = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"cold": cold, "cold_cpu": after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime,
                  "warm": warm, "warm_cpu": end.ru_utime + end.ru_stime - after.ru_utime - after.ru_stime,
                  "bytes": len(wav)}))
"""


def cpu_seconds() -> float:
    """This process's CPU seconds, its waited-for children's, and those of the voice processes it
    keeps (speech/ahead.py: alive between publishes, so not yet in RUSAGE_CHILDREN)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime + held_cpu()


def held_cpu() -> float:
    from publisher.pipeline import engines

    total = 0.0
    for speaker in list(engines._SPEAKERS.values()):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{speaker._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def measured(function: Any) -> tuple[Any, float, float]:
    cpu, started = cpu_seconds(), time.perf_counter()
    result = function()
    return result, time.perf_counter() - started, cpu_seconds() - cpu


def one_round(words: list[str]) -> dict[str, Any]:
    from publisher import api

    folder = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    try:
        settings = api.Settings(output=folder / "output", cache=folder / "cache", lexicon=folder / "lexicon.txt")
        (folder / "lexicon.txt").write_text("", encoding="utf-8")
        batch, wall, cpu = measured(lambda: api.publish([SEED], settings))
        (cold,) = batch.results
        row: dict[str, Any] = {"cold": {"wall": wall, "cpu": cpu, "sentences": cold.sentences}, "words": {}}
        entries: list[str] = []
        for word in words:
            sentence = next(c.text for c in cold.cues if word in c.text)
            command = [sys.executable, "-c", HEAR, str(settings.cache), word, FIXES[word], sentence]
            command.append(str(folder / "lexicon.txt"))
            heard = subprocess.run(command, capture_output=True, text=True, check=True)
            hear = json.loads(heard.stdout.strip().splitlines()[-1])
            entries.append(f"{word}: {FIXES[word]}")
            (folder / "lexicon.txt").write_text("\n".join(entries) + "\n", encoding="utf-8")
            batch, wall, cpu = measured(lambda: api.publish([SEED], settings))
            (again,) = batch.results
            holding = len({c.text for c in cold.cues if word in c.text})
            row["words"][word] = {
                "hear": hear, "republish": {"wall": wall, "cpu": cpu, "synthesized": again.synthesized,
                                            "holding": holding, "timings": dict(again.timings)},
                "ratio_wall": wall / row["cold"]["wall"], "ratio_cpu": cpu / row["cold"]["cpu"],
            }  # fmt: skip
        return row
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--word", action="append", choices=sorted(FIXES), help="words to fix, in order")
    parser.add_argument("--write", action="store_true", help="append the results to BENCHMARKS.md")
    args = parser.parse_args()
    words = args.word or ["Houthis", "Putin"]
    rounds = [one_round(words) for _ in range(args.rounds)]
    load = Path("/proc/loadavg").read_text().split()[0]
    lines = [f"## {dt.date.today().isoformat()}: the studio's pronunciation loop (benchmarks/studio.py)", "",
             f"Seed, default Piper voice, {platform.machine()} with {len(__import__('os').sched_getaffinity(0))} "
             f"cores, load average {load} at the end; each round from an empty "
             "cache. Hear = api.speak of one sentence with the entry, in a fresh process (the studio's first "
             "\"hear\": imports and voice load included) and warm (every later one). Republish = api.publish "
             "after saving the entry (the words are fixed one after the other, so the second republish has both).",
             "", "| round | cold publish wall / CPU s | word (sentences holding it) | hear cold / warm, wall (CPU) s "
             "| republish wall / CPU s | synthesized | republish ÷ cold (wall, CPU) |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for n, row in enumerate(rounds, 1):
        for word, data in row["words"].items():
            rep = data["republish"]
            lines.append(
                f"| {n} | {row['cold']['wall']:.1f} / {row['cold']['cpu']:.1f} | {word} ({rep['holding']}) | "
                f"{data['hear']['cold']:.2f} ({data['hear']['cold_cpu']:.2f}) / {data['hear']['warm']:.2f} "
                f"({data['hear']['warm_cpu']:.2f}) | {rep['wall']:.1f} / {rep['cpu']:.1f} | "
                f"{rep['synthesized']} | {data['ratio_wall']:.2f}, {data['ratio_cpu']:.2f} |"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    print(json.dumps(rounds, indent=1, default=str), file=sys.stderr)
    if args.write:
        with (ROOT / "BENCHMARKS.md").open("a", encoding="utf-8") as out:
            out.write("\n" + text)


if __name__ == "__main__":
    main()
