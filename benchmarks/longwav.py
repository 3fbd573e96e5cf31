"""Chapters past the WAV format's 4 GiB: RF64 chapter WAVs, measured (issue 25: 5).

Two measurements, each printed as a BENCHMARKS.md section:

    PYTHONPATH=src python benchmarks/longwav.py mechanism      # a 10-minute chapter, RIFF vs RF64 (limit lowered)
    PYTHONPATH=src python benchmarks/longwav.py real           # one eSpeak chapter past 4 GiB (about 27 h), for real

`mechanism` publishes the same one-chapter source with the RIFF limit as it is and lowered to
1 MiB (so its chapter WAV is RF64), alternating, and compares CPU seconds and the published bytes.
`real` publishes one chapter long enough that its WAV passes 4 GiB (the sentence is synthesized
once and heard tens of thousands of times), watching the chapter WAV in staging, and reports the
time, peak memory, the WAV's size and kind, and the published durations read back by ffprobe.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from publisher import api, wavfile
from publisher.ffmpeg import ffmpeg_exe
from publisher.pipeline.results import SourceResult
from publisher.settings import Settings
from publisher.speech.engines import EngineOptions, get_engine
from publisher.speech.narrate import TIMELINE_RATE, to_timeline

SENTENCE = "The clock in the hall ticks on."
ROOT = Path(__file__).resolve().parents[1]


def cpu() -> float:
    """CPU seconds of this process and its finished children (ffmpeg)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def source(folder: Path, paragraphs: int) -> Path:
    path = folder / "long.md"
    body = "\n\n".join([SENTENCE] * paragraphs)
    path.write_text(f"---\ntitle: The long chapter\nauthor: A Clock\n---\n\n{body}\n", encoding="utf-8")
    return path


def publish_one(src: Path, settings: Settings) -> SourceResult:
    """Publish one source through the library API (its error raised)."""
    (result,) = api.publish([src], settings).results
    if result.error is not None:
        raise result.error
    return result


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix in (".mp3", ".m4b", ".vtt", ".epub")
    }


def mechanism(rounds: int) -> str:
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    riff_limit = wavfile.RIFF_LIMIT
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = source(work, 340)  # about 10 minutes of eSpeak
        warm = work / "warm"  # the clips, made once; each timed publish encodes every segment again
        publish_one(src, Settings(engine="espeak", output=work / "out-warm", cache=warm, daisy=False, audiobooks=False))
        times: dict[str, list[float]] = {"RIFF": [], "RF64": []}
        outputs: dict[str, dict[str, str]] = {}
        for n in range(rounds):
            for kind in ("RIFF", "RF64") if n % 2 == 0 else ("RF64", "RIFF"):
                wavfile.RIFF_LIMIT = riff_limit if kind == "RIFF" else 1 << 20
                out, cache = work / f"out-{kind}-{n}", work / f"cache-{kind}-{n}"
                shutil.copytree(warm / "clips", cache / "clips", copy_function=os.link)
                settings = Settings(engine="espeak", output=out, cache=cache, daisy=False, audiobooks=False)
                started = cpu()
                result = publish_one(src, settings)
                times[kind].append(cpu() - started)
                assert result.folder is not None
                outputs[kind] = digests(result.folder)
        wavfile.RIFF_LIMIT = riff_limit
        seconds = result.duration
    same = outputs["RIFF"] == outputs["RF64"]
    lines = [
        f"## {dt.datetime.now():%Y-%m-%d %H:%M} — RF64 chapter WAVs, the mechanism ({platform.node()}, "
        f"{platform.machine()}, Python {platform.python_version()})",
        "",
        f"`PYTHONPATH=src python benchmarks/longwav.py mechanism`: one eSpeak chapter of {seconds / 60:.1f} min "
        f"({seconds * TIMELINE_RATE * 2 / 2**20:.0f} MiB of WAV) published {rounds} times each way, alternating, "
        "the clips made once beforehand, every segment encoded again each time; RF64 forced by lowering the "
        "RIFF limit to 1 MiB. CPU seconds include ffmpeg's.",
        "",
        "| chapter WAV | CPU s per publish (each run) | median |",
        "| --- | --- | --- |",
    ]
    for kind, values in times.items():
        lines.append(f"| {kind} | {', '.join(f'{v:.1f}' for v in values)} | {sorted(values)[len(values) // 2]:.1f} |")
    lines += ["", f"Published MP3s, M4B, VTT and EPUBs byte-identical between the two: **{same}**."]
    return "\n".join(lines)


class Watcher(threading.Thread):
    """Follows the chapter WAV in `output`'s staging folders: its largest size and its header."""

    def __init__(self, output: Path) -> None:
        super().__init__(daemon=True)
        self.output = output
        self.size = 0
        self.kind = b""
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(2.0):
            for wav in self.output.glob(".*.tmp-*/work/*.wav"):
                try:
                    size = wav.stat().st_size
                    with open(wav, "rb") as handle:
                        head = handle.read(4)
                except OSError:
                    continue
                if size >= self.size:
                    self.size, self.kind = size, head


def probe_duration(path: Path) -> float:
    """The duration ffmpeg reads from a file's headers (the Xing frame of an MP3, the M4B's moov)."""
    info = subprocess.run([ffmpeg_exe(), "-i", str(path)], capture_output=True, text=True, check=False).stderr
    stamp = info.split("Duration: ", 1)[1].split(",", 1)[0]
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def real(folder: Path, margin: float) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        engine="espeak", output=folder / "output", cache=folder / "cache", daisy=False, audiobooks=False, jobs=1,
        sample_rate=22050, bitrate=32, m4b_bitrate=24,  # the cheapest encodes: 27 h of audio goes through them
    )  # fmt: skip
    engine = get_engine("espeak", EngineOptions(language="en"))
    clip = len(to_timeline(engine.synthesize(SENTENCE))) / 2 / TIMELINE_RATE
    per_paragraph = clip + settings.pause_paragraph
    needed = (2**32 / 2 / TIMELINE_RATE) * margin
    paragraphs = int(needed / per_paragraph) + 1
    src = source(folder, paragraphs)
    watcher = Watcher(settings.output)
    watcher.start()
    wall, started = time.perf_counter(), cpu()
    result = publish_one(src, settings)
    assert result.folder is not None
    wall, used = time.perf_counter() - wall, cpu() - started
    watcher.stop.set()
    watcher.join()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    mp3 = probe_duration(result.folder / "long.mp3")
    m4b = probe_duration(result.folder / "long.m4b")
    sizes = {p.name: p.stat().st_size for p in result.folder.iterdir() if p.is_file()}
    lines = [
        f"## {dt.datetime.now():%Y-%m-%d %H:%M} — one chapter past 4 GiB of WAV, published ({platform.node()}, "
        f"{platform.machine()}, Python {platform.python_version()})",
        "",
        f"`PYTHONPATH=src python benchmarks/longwav.py real`: eSpeak NG, `{SENTENCE}` ({clip:.2f} s) as "
        f"{paragraphs:,} paragraphs of one chapter; --no-daisy --no-audiobooks, MP3 32 kbit/s at 22,050 Hz, M4B "
        "24 kbit/s, -j 1, on a shared 2-core machine.",
        "",
        "| measure | result |",
        "| --- | --- |",
        f"| narration | {result.duration:,.0f} s ({result.duration / 3600:.1f} h), {result.sentences:,} sentences |",
        f"| chapter WAV in staging | {watcher.size:,} bytes ({watcher.size / 2**30:.2f} GiB), "
        f"written as {watcher.kind.decode(errors='replace')} |",
        f"| publish wall / CPU (with ffmpeg) | {wall / 60:.1f} min / {used:,.0f} s |",
        f"| peak RSS: publisher / largest child | {peak:,.0f} MB / {kids:,.0f} MB |",
        f"| long.mp3 by ffprobe vs the manifest | {mp3:,.2f} s vs {result.duration:,.2f} s |",
        f"| long.m4b by ffprobe | {m4b:,.2f} s |",
        f"| long.mp3 / long.m4b / read-aloud EPUB | {sizes['long.mp3'] / 1e6:,.0f} / {sizes['long.m4b'] / 1e6:,.0f} / "
        f"{sizes['long-read-aloud.epub'] / 1e6:,.0f} MB |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["mechanism", "real"])
    parser.add_argument("--rounds", type=int, default=3, help="mechanism: publishes each way")
    parser.add_argument("--folder", type=Path, default=None, help="real: where to publish (needs ~10 GB)")
    parser.add_argument("--margin", type=float, default=1.02, help="real: WAV size as a multiple of 4 GiB")
    parser.add_argument("--keep", action="store_true", help="real: keep the folder")
    args = parser.parse_args()
    if args.what == "mechanism":
        print(mechanism(args.rounds))
        return
    folder = args.folder or Path(tempfile.mkdtemp(prefix="longwav-", dir=ROOT.parent))
    try:
        report = real(folder, args.margin)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(report)
    print(json.dumps({"folder": str(folder)}), file=sys.stderr)


if __name__ == "__main__":
    main()
