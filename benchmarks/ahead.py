"""How many edited sentences the voice loaded ahead should take (pipeline/executor.py AHEAD_CLIPS):
the seed with N sentences changed, published in a new process each, the N clips spoken by the voice
loaded ahead or by the usual pool of `jobs` processes; wall seconds, median of --rounds.

    python benchmarks/ahead.py [--rounds 3] [--counts 2 4 6 8]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sources" / "putin-today.txt"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SYLLABLES = [
    "ba",
    "ko",
    "mi",
    "du",
    "re",
    "so",
    "ta",
    "ne",
    "li",
    "po",
    "gu",
    "fe",
    "ra",
    "vo",
    "ki",
    "ma",
    "lu",
    "de",
    "no",
    "si",
]

#: publish sources/ of the folder named, with AHEAD_CLIPS set; print how many clips were made
PUBLISH = """
import sys
from pathlib import Path
import publisher.pipeline.executor as executor
executor.AHEAD_CLIPS = int(sys.argv[2])
from publisher import api
from publisher.pipeline.engines import end_speakers
folder = Path(sys.argv[1])
result = api.publish([folder / "sources"], api.Settings(output=folder / "out", cache=folder / "cache")).results[0]
end_speakers()
print(result.synthesized)
"""


def publish(folder: Path, limit: int) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "-c", PUBLISH, str(folder), str(limit)], capture_output=True, text=True, check=True)
    return time.perf_counter() - started, int(done.stdout.split()[-1])


def edited(text: str, count: int) -> str:
    """`text` with a made-up word added to `count` of its sentences (every other one)."""
    sentences = re.findall(r"[^.!?\n]{40,}[.!?]", text)
    for sentence in sentences[: 2 * count : 2]:
        word = "".join(random.choice(SYLLABLES) for _ in range(4))
        text = text.replace(sentence, f"{sentence[:-1]} {word}{sentence[-1]}", 1)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--counts", type=int, nargs="+", default=[2, 4, 6, 8])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "sources").mkdir()
        source = folder / "sources" / SEED.name
        shutil.copy(SEED, source)
        publish(folder, 0)
        walls: dict[tuple[int, str], list[float]] = {}
        for _ in range(args.rounds):
            for count in args.counts:
                for mode, limit in (("ahead", 1000), ("pool", 0)):
                    source.write_text(edited(SEED.read_text(encoding="utf-8"), count), encoding="utf-8")
                    wall, made = publish(folder, limit)
                    assert made == count, f"{made} clips made for {count} sentences edited"
                    walls.setdefault((count, mode), []).append(wall)
        for count in args.counts:
            ahead, pool = (statistics.median(walls[(count, mode)]) for mode in ("ahead", "pool"))
            print(f"{count} sentences edited: voice loaded ahead {ahead:.2f} s, pool {pool:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
