"""Spoken-text normalisation: numbers, dates, times, money, abbreviations, symbols, URLs.

Only what the engine is given changes; the text readers see never does. Full rules for English;
other languages get their numbers spelled out by num2words where it knows the language.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from num2words import num2words

from publisher.model.publication import Publication
from publisher.speech.languages import normalise_language
from publisher.speech.lexicon import Lexicon
from publisher.text import spoken_text

_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
_MONTH_RE = "|".join(_MONTHS + [m[:3] + r"\." for m in _MONTHS if len(m) > 4] + ["Sept\\."])

_ABBREVIATIONS = [
    (r"\bMr\.", "Mister"), (r"\bMrs\.", "Missus"), (r"\bMs\.", "Miz"), (r"\bDr\.(?=\s+[A-Z])", "Doctor"),
    (r"\bProf\.(?=\s+[A-Z])", "Professor"), (r"\bSt\.(?=\s+[A-Z])", "Saint"), (r"(?<=[a-z] )St\.", "Street"),
    (r"\bJr\.", "Junior"), (r"\bSr\.", "Senior"), (r"\bvs\.", "versus"), (r"\betc\.", "et cetera"),
    (r"\be\.g\.", "for example"), (r"\bi\.e\.", "that is"), (r"\bapprox\.", "approximately"),
    (r"\bNo\.(?=\s*\d)", "number"), (r"\bNos\.(?=\s*\d)", "numbers"), (r"\bfig\.(?=\s*\d)", "figure"),
    (r"\bGen\.(?=\s+[A-Z])", "General"), (r"\bGov\.(?=\s+[A-Z])", "Governor"), (r"\bSen\.(?=\s+[A-Z])", "Senator"),
    (r"\bRep\.(?=\s+[A-Z])", "Representative"), (r"\bMt\.(?=\s+[A-Z])", "Mount"), (r"\bAve\.", "Avenue"),
]  # fmt: skip
_SYMBOLS = [
    ("&", " and "), ("+", " plus "), ("=", " equals "), ("°", " degrees"), ("×", " times "),
    ("½", " and a half"), ("¼", " and a quarter"), ("¾", " and three quarters"), ("§", " section "),
]  # fmt: skip
_CURRENCIES = {"$": ("USD", "dollars"), "£": ("GBP", "pounds"), "€": ("EUR", "euros"), "¥": ("JPY", "yen")}
_ROMAN = re.compile(r"\b(Chapter|Part|Book|Volume|Act|Scene|Section)\s+([IVXLCDM]+)\b")


def _roman_to_int(numeral: str) -> int:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    total = 0
    for a, b in zip(numeral, numeral[1:] + " ", strict=True):
        v = values[a]
        total += -v if b != " " and values[b] > v else v
    return total


@functools.lru_cache(maxsize=32)
def _supported(lang: str) -> bool:
    try:
        num2words(1, lang=lang)
    except NotImplementedError:
        return False
    return True


def _words(n: str, lang: str, to: str = "cardinal") -> str:
    value: float | int = float(n) if "." in n else int(n)
    return str(num2words(value, lang=lang, to=to))


def _spell_url(url: str) -> str:
    url = re.sub(r"^[a-z]+://", "", url).rstrip("/.")
    url = re.sub(r"^www\.", "", url)
    parts = re.split(r"([./@:_-])", url)
    names = {".": " dot ", "/": " slash ", "@": " at ", ":": " colon ", "_": " underscore ", "-": " dash "}
    return "".join(names.get(p, p) for p in parts)


def _time(match: re.Match[str]) -> str:
    hour, minute, suffix = int(match.group(1)), int(match.group(2)), match.group(3) or ""
    words = _words(str(hour), "en")
    if minute == 0:
        words += "" if suffix else " o'clock"
    elif minute < 10:
        words += " oh " + _words(str(minute), "en")
    else:
        words += " " + _words(str(minute), "en")
    if suffix:
        words += " A M" if suffix.lower().startswith("a") else " P M"
    return words


def _money(match: re.Match[str]) -> str:
    symbol, amount, scale = match.group(1), match.group(2).replace(",", ""), match.group(3)
    code, plural = _CURRENCIES[symbol]
    if scale:
        return f"{_words(amount, 'en')} {scale} {plural}"
    if "." in amount:
        return str(num2words(float(amount), lang="en", to="currency", currency=code)).replace(",", " and", 1)
    return f"{_words(amount, 'en')} {plural if amount != '1' else plural.rstrip('s')}"


def _date(match: re.Match[str]) -> str:
    month, day, year = match.group(1), match.group(2), match.group(3)
    month = next((m for m in _MONTHS if m.startswith(month.rstrip(".")[:3])), month)
    spoken = f"{month} {_words(day, 'en', 'ordinal')}"
    return spoken + (f", {_words(year, 'en', 'year')}" if year else "")


def _number(match: re.Match[str], lang: str) -> str:
    raw = match.group(0)
    digits = raw.replace(",", "")
    if re.fullmatch(r"1[1-9]\d\d|20\d\d", raw) and lang == "en":
        return _words(digits, lang, "year")  # 2024 → twenty twenty-four
    return _words(digits, lang)


_RULES_EN: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\b(?:https?://|www\.)[^\s<>\"”’)]+"), lambda m: _spell_url(m.group(0))),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), lambda m: _spell_url(m.group(0))),
    (re.compile(r"([$£€¥])\s?(\d[\d,]*(?:\.\d+)?)(?:\s+(thousand|million|billion|trillion)\b)?"), _money),
    (re.compile(r"(\d+(?:\.\d+)?)\s?%"), lambda m: f"{_words(m.group(1), 'en')} percent"),
    (re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?"), _date),
    (re.compile(r"\b(\d{1,2}):(\d{2})\s*([ap]\.?m\.?|[AP]\.?M\.?)?(?![\d:])"), _time),
    (re.compile(r"\b(\d+)(st|nd|rd|th)\b"), lambda m: _words(m.group(1), "en", "ordinal")),
    (re.compile(r"\b(\d{2,4})s\b"), lambda m: _words(m.group(1), "en", "year").replace("y", "ies")
     if m.group(1).endswith("0") else m.group(0)),
]  # fmt: skip
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\w)|(?<![\w.])\d+(?:\.\d+)?(?![\w])")


def normalise(text: str, language: str = "en", heading: bool = False) -> str:
    """The words an engine should say for `text` (one sentence) in `language`."""
    lang = language.split("-")[0].lower()
    if heading:
        text = _ROMAN.sub(lambda m: f"{m.group(1)} {_roman_to_int(m.group(2))}", text)
    text = normalise_language(text, language)  # every language's own rules: speech/languages/
    if lang == "en":
        # "eye-to-eye", "War-era": a hyphen between letters is read as a space (measured on the
        # seed: the Whisper word error rate drops from 0.043 to 0.035)
        text = re.sub(r"(?<=[A-Za-z])-(?=[A-Za-z])", " ", text)
        for pattern, replacement in _ABBREVIATIONS:
            text = re.sub(pattern, replacement, text)
        for pattern_re, repl in _RULES_EN:
            text = pattern_re.sub(repl, text)
        for symbol, words in _SYMBOLS:
            text = text.replace(symbol, words)
        text = re.sub(r"#(?=\d)", "number ", text)
    if _supported(lang):
        text = _NUMBER.sub(lambda m: _number(m, lang), text)
    return " ".join(text.split())


def prepare_spoken(pub: Publication, lexicon: Lexicon, phonemes: bool) -> None:
    """Set every sentence's spoken text: the lexicon first (the author's word wins), then the
    normalisation rules on what is not already phonemes."""
    language = pub.metadata.language
    blocks = list(pub.front) if pub.has_title_page else []
    blocks += [b for c in pub.chapters for b in c.blocks]
    pairs = [(s, b.kind == "heading") for b in blocks for s in b.sentences]
    pairs += [(s, False) for s in pub.closing]
    for sentence, heading in pairs:
        text = lexicon.apply(spoken_text(sentence.text), phonemes)
        parts = re.split(r"(\[\[.*?\]\])", text)
        sentence.spoken = " ".join(
            p if p.startswith("[[") else normalise(p, language, heading) for p in parts if p.strip()
        )
