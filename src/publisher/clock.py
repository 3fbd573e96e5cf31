"""Times as text and back: SMIL, WebVTT and DAISY clock values, ISO 8601 durations, player times."""

from __future__ import annotations

import datetime as _dt
import re

_ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
#: SMIL timecount units (SMIL 1.0 §4.2.1, SMIL 3.0 clock values), longest suffix first
_UNITS = (("ms", 0.001), ("min", 60.0), ("h", 3600.0), ("s", 1.0))


# --- formatting ---------------------------------------------------------------------------------


def milliseconds(seconds: float) -> int:
    """`seconds` rounded to whole milliseconds (the precision of every clock value written here)."""
    return round(seconds * 1000)


def full_clock(seconds: float, *, pad_hours: bool = True) -> str:
    """A full clock value with milliseconds: "01:02:03.456" (WebVTT, DAISY 2.02's hh:mm:ss);
    with `pad_hours=False` "1:02:03.456" (SMIL 3.0 in EPUB media overlays)."""
    hours, rest = divmod(milliseconds(seconds), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:{'02d' if pad_hours else 'd'}}:{minutes:02d}:{secs:02d}.{millis:03d}"


def timecount(seconds: float) -> str:
    """A SMIL timecount in seconds with milliseconds: "12.345s" (DAISY 2.02 `seq dur`)."""
    ms = milliseconds(seconds)
    return f"{ms // 1000}.{ms % 1000:03d}s"


def npt(seconds: float) -> str:
    """A SMIL 1.0 Normal Play Time clip value: "npt=12.345s" (DAISY 2.02 `clip-begin`/`clip-end`)."""
    return f"npt={timecount(seconds)}"


def seconds_text(seconds: float) -> str:
    """Seconds with up to 3 decimals and no trailing zeros: "12.3", "0" (media fragments `#t=`)."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def iso_duration(seconds: float, *, units: bool = False) -> str:
    """An ISO 8601 duration: "PT123.456S" (seconds to the millisecond, as the W3C audiobook
    manifests write it); with `units=True` whole seconds in hours, minutes and seconds, "PT2M3S"
    (HTML `<time datetime>`)."""
    if not units:
        return f"PT{seconds_text(seconds)}S"
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def player_clock(seconds: float) -> str:
    """A time as a player shows it, in whole seconds (a fraction is dropped): "4:05", "1:02:03"."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def human_duration(seconds: float) -> str:
    """A duration in words for people: "45 s", "12 min 5 s", "1 h 2 min"."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def tenths_clock(seconds: float) -> str:
    """A time to a tenth of a second, for reports: "4:05.3", "1:02:03.4"."""
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:04.1f}" if hours else f"{minutes}:{secs:04.1f}"


# --- parsing ------------------------------------------------------------------------------------


def parse_clock(value: str) -> float:
    """Seconds in a SMIL clock value (1.0 or 3.0), also with an "npt=" prefix: "npt=1.5s", "1.5s",
    "150ms", "2min", "1h", "12.5", "0:01:02.5", "01:02.5". Raises ValueError for anything else."""
    text = value.strip()
    if text.startswith("npt="):
        text = text[4:]
    for unit, factor in _UNITS:
        if text.endswith(unit):
            return _number(text[: -len(unit)], value) * factor
    parts = text.split(":")
    if len(parts) > 3:
        raise ValueError(f"not a SMIL clock value: {value!r}")
    total = 0.0
    for part in parts:
        total = total * 60 + _number(part, value)
    return total


def _number(text: str, value: str) -> float:
    """A plain decimal number (no sign, exponent, "inf" or "nan", which float() would take)."""
    if not re.fullmatch(r"\d+(?:\.\d*)?|\.\d+", text):
        raise ValueError(f"not a SMIL clock value: {value!r}")
    return float(text)


def parse_iso_duration(value: object) -> float | None:
    """Seconds in an ISO 8601 duration of days, hours, minutes and seconds ("PT1H2M3.5S"), else None."""
    match = _ISO_DURATION.match(value) if isinstance(value, str) else None
    if match is None or value in ("P", "PT"):
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)


# --- the time of a publish ---------------------------------------------------------------------


def modified_time(epoch: int | None) -> _dt.datetime:
    """When a publish happened: SOURCE_DATE_EPOCH when set (reproducible builds), else now; in UTC."""
    if epoch is not None:
        return _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc)
    return _dt.datetime.now(tz=_dt.timezone.utc).replace(microsecond=0)


def iso_utc(moment: _dt.datetime) -> str:
    """An ISO 8601 UTC timestamp to the second: "2026-12-06T09:38:11Z"."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
