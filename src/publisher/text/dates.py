"""Dates: a date line read as a date, and a date written as the publication's language writes it."""

from __future__ import annotations

import datetime as _dt
import re

from publisher import i18n
from publisher.text.clean import collapse_ws

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]


def parse_date(text: str) -> str | None:
    """Return the ISO date (YYYY-MM-DD) if `text` is nothing but a real date, else None.

    Accepts "June 28, 2024", "28 June 2024", "2024-06-28", "Jun. 28, 2024", "June 2024" (→ the
    1st). Rejects sentences that merely contain a date.
    """
    from dateutil import parser as dateparser

    candidate = collapse_ws(text).rstrip(".")
    if not candidate or len(candidate) > 40 or not re.search(r"\b\d{4}\b", candidate):
        return None
    words = re.findall(r"[A-Za-z]+", candidate)
    allowed = {m for m in _MONTHS} | {m[:3] for m in _MONTHS} | {"sept", "st", "nd", "rd", "th"}
    allowed |= {"mon", "tue", "wed", "thu", "fri", "sat", "sun", "of", "t", "z"}
    allowed |= {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
    if any(w.lower() not in allowed for w in words):
        return None
    try:
        parsed = dateparser.parse(candidate, default=_dt.datetime(2000, 1, 1))
    except (ValueError, OverflowError):
        return None
    if parsed is None or not 1000 <= parsed.year <= 9999:
        return None
    return parsed.date().isoformat()


def display_date(iso: str, language: str = "en") -> str:
    """A reader-friendly date for the title page and the spoken opening, as the language writes it
    (CLDR's long form through Babel): "June 28, 2024", "28. Juni 2024", "28 июня 2024 г.", "2024年6月28日"."""
    try:
        day = _dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    from babel.dates import format_date

    return str(format_date(day, "long", locale=i18n.babel_locale(language)))
