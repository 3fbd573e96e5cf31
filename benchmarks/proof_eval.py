"""Proof-listening evaluation: inject misreadings through the lexicon and count what `publisher proof` finds.

    python benchmarks/proof_eval.py                                  # the seed, default Piper voice
    python benchmarks/proof_eval.py --engine espeak --voice en-us    # another voice
    python benchmarks/proof_eval.py --threshold 0.3 --keep /tmp/eval # other threshold; keep the outputs

The source is published once as written (with the project lexicon) and once per injection set
in publisher.proof.evaluate (gross, subtle, subtle-common: the lexicon says the word wrong, so
the voice really says it wrong), each proof-listened by `publisher proof` in its own process
under /usr/bin/time (CPU seconds = user + system). Per set: recall, precision, how many of the
top N flags are real (injected, or flagged on the clean build too, whose flags a person judges),
and what was missed. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from publisher.proof.evaluate import SETS, evaluate, inject  # noqa: E402


def publish(source: Path, out: Path, lexicon: Path, cache: Path, engine: list[str]) -> Path:
    """Publish `source` into `out` with `lexicon`; the publication folder."""
    args = [sys.executable, "-m", "publisher", "-q", "publish", str(source), "-o", str(out), "--lexicon", str(lexicon)]
    args += ["--cache-dir", str(cache), "--no-daisy", "--no-audiobooks", "--no-read-aloud", *engine]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    (folder,) = [p for p in out.iterdir() if (p / ".publisher.json").is_file()]
    return folder


def proof(folder: Path, cache: Path, threshold: float | None) -> tuple[dict[str, Any], float]:
    """Run `publisher proof` on `folder` under /usr/bin/time: proof.json and CPU seconds."""
    args = ["/usr/bin/time", "-f", "cpu %U %S", sys.executable, "-m", "publisher", "-q", "proof", str(folder)]
    args += ["--cache-dir", str(cache)] + (["--threshold", str(threshold)] if threshold is not None else [])
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    cpu = re.search(r"cpu ([\d.]+) ([\d.]+)", done.stderr)
    assert cpu
    return json.loads((folder / "proof.json").read_text(encoding="utf-8")), float(cpu.group(1)) + float(cpu.group(2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, nargs="?", default=ROOT / "sources" / "putin-today.txt")
    parser.add_argument("--lexicon", type=Path, default=ROOT / "lexicon.txt")
    parser.add_argument("--engine", default=None, help="speech engine [piper]")
    parser.add_argument("--voice", default=None, help="engine voice [the engine's default]")
    parser.add_argument("--threshold", type=float, default=None, help="flagging threshold [proof's default]")
    parser.add_argument("--sets", default=",".join(SETS), help=f"injection sets [{','.join(SETS)}]")
    parser.add_argument("--top", type=int, default=8, help="how many of the first flags to check [8]")
    parser.add_argument("--keep", type=Path, default=None, help="keep the outputs in this folder")
    args = parser.parse_args()
    engine = (["--engine", args.engine] if args.engine else []) + (["--voice", args.voice] if args.voice else [])
    base = args.lexicon.read_text(encoding="utf-8") if args.lexicon.is_file() else ""
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        src = work / "src"
        src.mkdir(exist_ok=True)
        (src / args.source.name).write_bytes(args.source.read_bytes())
        cache = work / "cache"
        runs: dict[str, tuple[dict[str, Any], float]] = {}
        for name in ["clean", *args.sets.split(",")]:
            lexicon = work / f"lexicon-{name}.txt"
            lexicon.write_text(base if name == "clean" else inject(base, SETS[name]), encoding="utf-8")
            folder = publish(src, work / f"out-{name}", lexicon, cache, engine)
            runs[name] = proof(folder, cache, args.threshold)
            sentences = {c[0]: c[1] for c in json.loads((folder / ".publisher.json").read_text("utf-8"))["cues"]}
    clean, clean_cpu = runs.pop("clean")
    clean_ids = [str(e["sentence"]) for e in clean["flagged"]]
    out: dict[str, Any] = {
        "source": str(args.source),
        "engine": args.engine or "piper",
        "voice": args.voice or "default",
        "model": clean["model"],
        "threshold": clean["threshold"],
        "audio_seconds": clean["duration"],
        "clean": {
            "wer": clean["wer"], "flagged": len(clean["flagged"]), "sentences": clean["sentences"],
            "proof_cpu_seconds": round(clean_cpu, 1), "cpu_per_audio_second": round(clean_cpu / clean["duration"], 3),
            "flags": [
                {"sentence": e["sentence"], "confidence": e["confidence"], "text": e["text"], "heard": e["heard"],
                 "reason": e["reason"]}
                for e in clean["flagged"]
            ],
        },
    }  # fmt: skip
    for name, (report, cpu) in runs.items():
        result = evaluate(report["flagged"], sentences, SETS[name], clean_ids, args.top)
        out[name] = result.to_json() | {"wer": report["wer"], "proof_cpu_seconds": round(cpu, 1)}
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
