"""Loudness profiles for spoken word, measured with ITU-R BS.1770 (ffmpeg's ebur128), volumedetect and astats.

Each chapter is measured once; its encoders then apply a gain and a true-peak-safe limiter on the
fly (no normalised copy is written) and measure what they encoded, so every file of a publication
lands on the same target. The limiter compensates its look-ahead, so no sentence moves on the
timeline.
"""

from __future__ import annotations

import logging
import math
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from publisher.errors import RenderError
from publisher.ffmpeg import run_ffmpeg
from publisher.model.timeline import Measurement

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    """Targets of one loudness profile (mono files)."""

    name: str
    integrated: float | None  # LUFS target, or None to aim at `rms` instead
    rms: float | None  # dBFS target of the whole file's RMS (ACX)
    limit: float  # sample-peak ceiling of the limiter, dBFS (true peak lands below the spec)
    min_bitrate: int  # kbit/s
    sample_rate: int | None  # forced sample rate, or None for the publication's setting
    lead_in: float | None  # forced room tone at the head (s)
    tail: float | None  # forced room tone at the tail (s)
    codec_allowance: float = 0.0  # dB the master is made louder, for what lossy encoders take away


PROFILES = {
    # Apple/Spotify spoken-word podcasts: −16 LUFS stereo ≙ −19 LUFS mono; true peak ≤ −1 dBTP
    # (measured here: LAME at 64 kbit/s and AAC take 0.3–0.6 LU off speech, through their low-pass)
    "podcast": Profile("podcast", integrated=-19.0, rms=None, limit=-2.5, min_bitrate=32,
                       sample_rate=None, lead_in=None, tail=None, codec_allowance=0.4),
    # ACX (Audible): RMS −23…−18 dB, peak ≤ −3 dBFS, 44.1 kHz, CBR ≥ 192 kbit/s, room tone 0.5–1 s / 1–5 s
    "acx": Profile("acx", integrated=None, rms=-20.0, limit=-3.5, min_bitrate=192,
                   sample_rate=44100, lead_in=0.75, tail=2.0),
}  # fmt: skip


def _number(pattern: str, text: str, what: str) -> float:
    matches = re.findall(pattern, text)
    if not matches:
        raise RenderError(f"could not measure {what} (ffmpeg printed no value)")
    return float(matches[-1])  # float() reads "-inf" too


def _summary(log: str) -> str:
    """ebur128's closing summary (its per-frame lines come before it)."""
    return log[log.rfind("Summary:") :] if "Summary:" in log else log


def _integrated(log: str) -> float:
    return _number(r"I:\s+(-?[\d.]+|-inf) LUFS", _summary(log), "integrated loudness")


def _rms(log: str) -> float:
    return _number(r"RMS level dB:\s+(-?[\d.]+|-inf)", log, "RMS level")


def _parse(log: str) -> Measurement:
    return Measurement(
        integrated=_integrated(log),
        true_peak=_number(r"Peak:\s+(-?[\d.]+|-inf) dBFS", _summary(log), "true peak"),
        rms=_rms(log),
        peak=_number(r"Peak level dB:\s+(-?[\d.]+|-inf)", log, "peak level"),
        noise_floor=_number(r"Noise floor dB:\s+(-?[\d.]+|-inf)", log, "noise floor"),
    )


def measure(path: Path) -> Measurement:
    """Integrated loudness and true peak (ebur128, 4× oversampled), overall RMS, peak and noise
    floor (astats) of a finished file: what the tests and a listener's tools would read."""
    log = run_ffmpeg(
        ["-nostats", "-loglevel", "info", "-i", str(path),
         "-af", "ebur128=peak=true:framelog=quiet,astats=measure_perchannel=none", "-f", "null", "-"],
        what="measuring loudness", path=path,
    )  # fmt: skip
    return _parse(log)


def _target_error(profile: Profile, measured: Measurement) -> float:
    if profile.integrated is not None:
        target = profile.integrated + profile.codec_allowance
        return target - measured.integrated if math.isfinite(measured.integrated) else 0.0
    assert profile.rms is not None
    return profile.rms + profile.codec_allowance - measured.rms if math.isfinite(measured.rms) else 0.0


def level_filter(gain: float, profile: Profile) -> str:
    """The ffmpeg filters that bring audio to `profile`: a gain, then a true-peak-safe limiter
    whose look-ahead is compensated (no sample moves on the timeline)."""
    gain = max(-30.0, min(30.0, gain))
    limit = 10 ** (profile.limit / 20)
    return f"volume={gain:.2f}dB,alimiter=limit={limit:.4f}:attack=5:release=50:level=disabled:latency=enabled"


def named_probe(name: str) -> str:
    """ffmpeg filters measuring what levelling needs, named so several can share a run and each be
    read back with `probe_result(log, name)`: integrated loudness (no true peak, whose 4×
    oversampling would triple the cost) and RMS from volumedetect, to 0.1 dB, which costs next to
    nothing where astats took as long as ebur128 (0.1 s of a cold publish of the seed)."""
    return f"ebur128@{name}=peak=none:framelog=quiet,volumedetect@{name}"


def probe_result(log: str, name: str) -> Measurement:
    """What the `named_probe(name)` branch of an ffmpeg run measured (its filters print their
    lines as "[ebur128@name @ 0x…] …")."""
    summary = re.search(rf"\[ebur128@{re.escape(name)} @ [^\]]*\] Summary:(.*?)(?=\n\[|\Z)", log, re.DOTALL)
    volume = re.findall(rf"\[volumedetect@{re.escape(name)} @ [^\]]*\] mean_volume:[^\n]*", log)
    own = (summary.group(0) if summary else "") + "\n" + "\n".join(volume)
    mean = _number(r"mean_volume:\s+(-?[\d.]+|-inf) dB", own, "RMS level")
    rms = -math.inf if mean <= -91.0 else mean  # volumedetect's floor (16-bit): digital silence
    return Measurement(_integrated(own), math.nan, rms, math.nan, math.nan)


def _probe(src: Path, gain: float, profile: Profile) -> Measurement:
    log = run_ffmpeg(
        ["-nostats", "-loglevel", "info", "-i", str(src), "-af", f"{level_filter(gain, profile)},{named_probe('0')}",
         "-f", "null", "-"],
        what="measuring loudness", path=src,
    )  # fmt: skip
    return probe_result(log, "0")


@dataclass(frozen=True)
class Level:
    """A chosen gain, what it is expected to measure, and how fast the result moves with the gain."""

    gain: float  # dB, before the limiter
    predicted: Measurement
    slope: float = 1.0  # dB of result per dB of gain near `gain` (the limiter keeps it below 1)


def choose_gain(src: Path, rms: float, profile: Profile) -> Level:
    """The gain that brings `src` (whose overall RMS level is `rms` dBFS) to `profile` through the
    limiter.

    The limiter takes loudness off the peaks, more the harder it is driven (about 0.9 dB at the
    seed's gain, growing by half a dB per dB). So the levelled result is measured at two gains
    around the one the RMS suggests (side by side, one ffmpeg each) and the gain is read off the
    line through the two (a secant step). When that lands more than 0.75 dB from both (eSpeak's
    RMS says less about its loudness than Piper's), the result is measured there too and the step
    taken again from the two nearest points. Lands within 0.1 dB on the sources tried; the encoders
    check what they encoded.
    """
    guess = Measurement(rms, math.nan, rms, math.nan, math.nan)
    start = _target_error(profile, guess) + 1.0 if math.isfinite(rms) else 0.0  # 1 dB: a typical limiter loss
    with ThreadPoolExecutor(max_workers=2) as pool:
        gains = (start, start + 1.5)
        points = list(zip(gains, pool.map(lambda g: _probe(src, g, profile), gains), strict=True))
    for _ in range(3):
        points.sort(key=lambda p: abs(_target_error(profile, p[1])))
        (g1, m1), (g2, m2) = points[:2]
        e1, e2 = _target_error(profile, m1), _target_error(profile, m2)
        if not (math.isfinite(e1) and math.isfinite(e2)) or abs(e1 - e2) < 0.05:
            return Level(g1 + (e1 if math.isfinite(e1) else 0.0), m1)
        gain = g1 + max(-6.0, min(6.0, e1 * (g2 - g1) / (e1 - e2)))
        slope = (e1 - e2) / (g2 - g1)
        if abs(e1) <= 0.1 or min(abs(gain - g1), abs(gain - g2)) <= 0.75:
            break
        points.append((gain, _probe(src, gain, profile)))
    log.debug("%s: RMS %.2f dBFS; probed %s; gain %+.2f dB", src.name, rms,
              ", ".join(f"{g:+.2f} dB → {_target_error(profile, m):+.2f}" for g, m in points), gain)  # fmt: skip
    fraction = (gain - g1) / (g2 - g1)

    def between(a: float, b: float) -> float:
        return a + (b - a) * fraction

    predicted = Measurement(
        between(m1.integrated, m2.integrated), math.nan, between(m1.rms, m2.rms), math.nan, math.nan
    )
    return Level(gain, predicted, max(0.2, min(1.0, slope)))


def correction(profile: Profile, result: Measurement, tolerance: float = 0.25) -> float:
    """How far (dB) levelled audio measured as `result` is from `profile`; 0 within `tolerance`.

    The limiter takes some loudness off the peaks, so a first gain can land a little low; the
    correction is added to the gain and the file encoded again (rare for speech: none of the
    sources in the test suite needs it).
    """
    if not math.isfinite(result.integrated):
        return 0.0
    error = _target_error(profile, result)
    return error if abs(error) > tolerance else 0.0
