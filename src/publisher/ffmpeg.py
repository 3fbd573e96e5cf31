"""Where ffmpeg comes from (the imageio-ffmpeg wheel) and how it is run."""

from __future__ import annotations

import functools
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

from publisher.errors import RenderError

_FOUND = threading.Lock()


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped by imageio-ffmpeg (no system install needed). Found once
    per process, also when several threads ask at once (imageio-ffmpeg runs `ffmpeg -version` to
    check it: 20-40 ms, which two encoders starting together each paid)."""
    with _FOUND:
        return _ffmpeg_exe()


@functools.lru_cache(maxsize=1)
def _ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@functools.lru_cache(maxsize=1)
def configure_pydub() -> None:
    """Point pydub at our ffmpeg (and silence its warning about a missing system ffmpeg)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment
    AudioSegment.converter = ffmpeg_exe()
    AudioSegment.ffmpeg = ffmpeg_exe()


def run_ffmpeg(args: list[str], what: str, path: Path | None = None) -> str:
    """Run ffmpeg quietly; raise RenderError with its last error lines if it fails."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return _checked(proc.returncode, proc.stderr, what, path)


def _checked(code: int, log: str, what: str, path: Path | None) -> str:
    """`log` if ffmpeg succeeded; otherwise a RenderError with its last error lines."""
    if code != 0:
        tail = " | ".join(log.strip().splitlines()[-3:]) or f"exit code {code}"
        raise RenderError(f"ffmpeg failed while {what}: {tail}", path=path)
    return log


def run_ffmpeg_fed(args: list[str], feed: Iterator[bytes], what: str, path: Path | None = None) -> str:
    """run_ffmpeg with `feed`'s chunks on its standard input (for `-i pipe:0`), streamed."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *args]
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: ffmpeg never blocks on what it prints
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
        assert proc.stdin is not None
        try:
            for chunk in feed:
                proc.stdin.write(chunk)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg stopped early: its exit code and log say why
        finally:
            code = proc.wait()
        log.seek(0)
        return _checked(code, log.read().decode(errors="replace"), what, path)


def concat_listing(paths: list[Path]) -> str:
    """A listing for ffmpeg's concat demuxer (`-f concat -safe 0 -i listing`)."""
    return "".join("file '{}'\n".format(str(p.resolve()).replace("'", "'\\''")) for p in paths)


def decode_to_pcm(data: bytes, sample_rate: int, what: str) -> bytes:
    """Decode any audio ffmpeg reads (MP3 from an online engine) to 16-bit mono PCM."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", "pipe:0",
           "-f", "s16le", "-ac", "1", "-ar", str(sample_rate), "pipe:1"]  # fmt: skip
    proc = subprocess.run(cmd, input=data, capture_output=True, check=False)
    if proc.returncode != 0 or not proc.stdout:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no audio"]
        raise RenderError(f"could not decode {what}: {tail[0]}")
    return proc.stdout
