"""clock.py: every time format written (SMIL, WebVTT, DAISY, ISO 8601, player times) and read back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher.clock import (
    full_clock,
    iso_duration,
    milliseconds,
    npt,
    parse_clock,
    parse_iso_duration,
    player_clock,
    seconds_text,
    timecount,
)

#: up to 100 hours, in the float seconds the timeline holds
seconds = st.floats(min_value=0, max_value=360_000, allow_nan=False, allow_infinity=False)


def test_formats_as_each_output_writes_them() -> None:
    assert full_clock(3723.4567) == "01:02:03.457"  # WebVTT, DAISY ncc:totalTime
    assert full_clock(3723.4567, pad_hours=False) == "1:02:03.457"  # EPUB media overlays
    assert full_clock(62.0005, pad_hours=False) == "0:01:02.000"  # round half to even, as before
    assert full_clock(360_000) == "100:00:00.000"
    assert timecount(12.3456) == "12.346s" and timecount(0) == "0.000s"
    assert npt(1.5) == "npt=1.500s"
    assert seconds_text(12.3) == "12.3" and seconds_text(0.0001) == "0" and seconds_text(5) == "5"
    assert iso_duration(123.456) == "PT123.456S" and iso_duration(0) == "PT0S"
    assert iso_duration(3723.6, units=True) == "PT1H2M4S" and iso_duration(59.4, units=True) == "PT59S"
    assert player_clock(245.9) == "4:05" and player_clock(3723) == "1:02:03" and player_clock(-3) == "0:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("npt=1.5s", 1.5),
        ("1.5s", 1.5),
        ("150ms", 0.15),
        ("2min", 120.0),
        ("0.5min", 30.0),
        ("1h", 3600.0),
        ("1.25h", 4500.0),
        ("12.5", 12.5),
        ("0:01:02.5", 62.5),
        ("01:02.5", 62.5),
        (" 100:00:00.000 ", 360_000.0),
    ],
)
def test_parses_every_smil_clock_value_form(text: str, expected: float) -> None:
    assert parse_clock(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "s", "abc", "1:2:3:4", "1::2", "-1s", "1e3s", "nan", "infs", "1.5 min"])
def test_rejects_what_is_not_a_clock_value(text: str) -> None:
    with pytest.raises(ValueError, match="not a SMIL clock value"):
        parse_clock(text)


def test_parses_iso_durations() -> None:
    assert parse_iso_duration("PT1H2M3.5S") == 3723.5
    assert parse_iso_duration("P1DT1S") == 86401.0
    assert parse_iso_duration("PT123.456S") == pytest.approx(123.456)
    for bad in ("P", "PT", "1H", "PT1.5", "", None, 12):
        assert parse_iso_duration(bad) is None


@given(seconds)
def test_full_clock_round_trips_to_the_millisecond(value: float) -> None:
    for pad_hours in (True, False):
        assert milliseconds(parse_clock(full_clock(value, pad_hours=pad_hours))) == milliseconds(value)


@given(seconds)
def test_timecount_and_npt_round_trip_to_the_millisecond(value: float) -> None:
    assert milliseconds(parse_clock(timecount(value))) == milliseconds(value)
    assert milliseconds(parse_clock(npt(value))) == milliseconds(value)


@given(seconds)
def test_iso_durations_round_trip(value: float) -> None:
    assert milliseconds(parse_iso_duration(iso_duration(value)) or 0) == milliseconds(round(value, 3))
    assert parse_iso_duration(iso_duration(value, units=True)) == round(value)


@given(seconds)
def test_player_clock_round_trips_whole_seconds(value: float) -> None:
    assert parse_clock(player_clock(value)) == int(value)


@given(st.integers(min_value=0, max_value=360_000_000))
def test_whole_milliseconds_survive_every_format(ms: int) -> None:
    """DAISY keeps its times in whole milliseconds and formats ms / 1000: nothing is lost."""
    hours, minutes, secs = ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60
    assert full_clock(ms / 1000) == f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms % 1000:03d}"
    assert timecount(ms / 1000) == f"{ms // 1000}.{ms % 1000:03d}s"
    assert milliseconds(parse_clock(timecount(ms / 1000))) == ms
