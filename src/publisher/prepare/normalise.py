"""Spoken-text normalisation: numbers, dates, times, money, abbreviations, symbols, URLs.

Only what the engine is given changes; the text readers see never does. Full rules for English;
other languages get their numbers spelled out by num2words where it knows the language.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import replace

from num2words import num2words

from publisher.model.publication import Block, Publication
from publisher.prepare.languages import normalise_language
from publisher.prepare.lexicon import Lexicon
from publisher.text.clean import spoken_text

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
    if heading and lang != "en":
        text = _ROMAN.sub(lambda m: f"{m.group(1)} {_roman_to_int(m.group(2))}", text)
    text = normalise_language(text, language)  # every language's own rules: speech/languages/
    if lang == "en":
        text = english_rules(text, heading)
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


def prepare_spoken(pub: Publication, lexicon: Lexicon, phonemes: bool) -> Publication:
    """`pub` with every sentence's spoken text: the lexicon first (the author's word wins), then the
    normalisation rules on what is not already phonemes."""
    language = pub.metadata.language

    def said(block: Block) -> Block:
        heading = block.kind == "heading"
        spoken = [
            replace(s, spoken=spoken_sentence(s.text, language, lexicon, phonemes, heading)) for s in block.sentences
        ]
        return replace(block, sentences=spoken)

    chapters = [replace(c, blocks=[said(b) for b in c.blocks]) for c in pub.chapters]
    # an article's title page is its first chapter's first blocks: the same blocks, not copies
    front = [said(b) for b in pub.front] if pub.has_title_page else chapters[0].blocks[: len(pub.front)]
    closing = [replace(s, spoken=spoken_sentence(s.text, language, lexicon, phonemes)) for s in pub.closing]
    return replace(pub, front=front, chapters=chapters, closing=closing)


def spoken_sentence(text: str, language: str, lexicon: Lexicon, phonemes: bool, heading: bool = False) -> str:
    """What the engine is given for one sentence shown as `text`: the lexicon first (the author's
    word wins), then the language's rules on what is not already phonemes."""
    said = lexicon.apply(spoken_text(text), phonemes)
    if language.split("-")[0].lower() == "en":
        said = heteronyms_en(said, phonemes)
    parts = re.split(r"(\[\[.*?\]\])", said)
    return " ".join(p if p.startswith("[[") else normalise(p, language, heading) for p in parts if p.strip())


# --- English rules for what the voice stumbles on (each its own function, tested on its own) -------
_TITLE_WORDS = (
    "Chapter|Part|Book|Volume|Act|Scene|Section|Article|Canto|Psalm|Appendix|Figure|Plate|Phase|Stage|"
    "Class|Type|Level|War|Apollo|Round"
)
_NUMERAL = r"(?=[IVXL]+\b)L?X{0,3}(?:IX|IV|V?I{0,3})(?<=[IVXL])"
_TITLE_ROMAN = re.compile(rf"\b({_TITLE_WORDS})\s+({_NUMERAL})\b(?![’'-])")
_NAME_ROMAN = re.compile(rf"\b([A-Z][a-z]+)\s+({_NUMERAL})\b(?![’'-])")


def roman_numerals_en(text: str, heading: bool = False) -> str:
    """Roman numerals said as numbers: "Chapter IV" → "Chapter 4", "World War II" → "World War 2";
    after a name, as an ordinal: "Henry VIII" → "Henry the eighth". A heading that is only a numeral
    ("IV.") becomes its number. A lone "I" or "V" counts only where it ends a name ("George I.")."""
    stripped = text.strip(" .")
    # a heading that is only a numeral: "IV", "II.", "V." — but a lone "I", "L", "V" or "X" without
    # its full stop is a letter (the headings of a dictionary)
    if heading and re.fullmatch(_NUMERAL, stripped) and (len(stripped) > 1 or text.strip().endswith(".")):
        return str(_roman_to_int(stripped))
    text = _TITLE_ROMAN.sub(lambda m: f"{m.group(1)} {_roman_to_int(m.group(2))}", text)

    def ordinal(m: re.Match[str]) -> str:
        name, numeral = m.group(1), m.group(2)
        if len(numeral) == 1:
            follows = m.string[m.end() : m.end() + 1]
            if numeral == "X" or m.start() == 0 or follows not in ("", ".", ",", ";", ":", ")"):
                return m.group(0)  # "Malcolm X", "Then I went": not a regnal number
        return f"{name} the {_words(str(_roman_to_int(numeral)), 'en', 'ordinal')}"

    return _NAME_ROMAN.sub(ordinal, text)


_YEAR = r"1[0-9]{3}|20[0-9]{2}"


def ranges_en(text: str) -> str:
    """Number ranges said with "to": "1914–18" → "1914 to 18" (read as years), "pages 10–20" → "10 to 20";
    a hyphen counts between years only ("1914-1918"), so phone numbers keep theirs."""

    def years(m: re.Match[str]) -> str:
        first, second = m.group(1), m.group(2)
        return f"{_words(first, 'en', 'year')} to {_words(second, 'en', 'year')}"

    text = re.sub(rf"\b({_YEAR})\s?[–-]\s?(\d{{2}}|{_YEAR})\b(?!\s?[–-]?\d)", years, text)
    return re.sub(r"(?<![\w.,])(\d+)\s?–\s?(\d+)\b", r"\1 to \2", text)


_ERA = r"B\.C\.E\.|B\.C\.|BCE|BC|A\.D\.|AD|C\.E\.|CE"


def _era(marker: str) -> str:
    return " ".join(marker.replace(".", ""))  # "B.C." → "B C": letters, not a word or a sentence end


def early_years_en(text: str) -> str:
    """Years before 1100 said as years where the words around them say they are years: "in 1066" →
    "in ten sixty-six" (not "one thousand and sixty-six"), "44 BC" → "forty-four B C", "AD 410" →
    "A D four ten". Later years are read as years wherever they stand (see _number)."""

    def era_after(m: re.Match[str]) -> str:
        end = "." if m.group(2).endswith(".") and m.end() == len(m.string) else ""
        return f"{_words(m.group(1), 'en', 'year')} {_era(m.group(2))}{end}"

    text = re.sub(rf"(?<![\w.,])(\d{{1,4}})\s?({_ERA})(?![\w])", era_after, text)
    text = re.sub(
        r"(?<![\w.])(AD|A\.D\.)\s?(\d{1,4})\b(?![.,]\d)",
        lambda m: f"{_era(m.group(1))} {_words(m.group(2), 'en', 'year')}",
        text,
    )
    return re.sub(
        r"\b((?:[Ii]n|[Ss]ince|[Uu]ntil|[Tt]ill|[Bb]efore|[Aa]fter|[Cc]irca|year)\s+)(10\d\d)\b(?![.,]\d|\s?[–-]\s?\d)",
        lambda m: m.group(1) + _words(m.group(2), "en", "year"),
        text,
    )


_DENOMINATORS = {2: ("half", "halves"), 4: ("quarter", "quarters")}


def _fraction(numerator: int, denominator: int) -> str:
    singular, plural = _DENOMINATORS.get(denominator) or (
        _words(str(denominator), "en", "ordinal"),
        _words(str(denominator), "en", "ordinal") + "s",
    )
    return f"{_words(str(numerator), 'en')} {singular if numerator == 1 else plural}"


def fractions_en(text: str) -> str:
    """Fractions said as fractions: "3/4" → "three quarters", "1 1/2" → "one and a half" (dates such as
    6/28/2024 and ratios such as 24/7 are left alone)."""

    def mixed(m: re.Match[str]) -> str:
        whole, num, den = m.group(1), int(m.group(2)), int(m.group(3))
        part = "a half" if (num, den) == (1, 2) else _fraction(num, den)
        return f"{_words(whole, 'en')} and {part}"

    text = re.sub(r"(?<![\d/.,])(\d+) ([1-9])/(1[0-6]|[2-9])(?![\d/])", mixed, text)
    return re.sub(
        r"(?<![\d/.,])([1-9]|1[0-5])/(1[0-6]|[2-9])(?![\d/])",
        lambda m: _fraction(int(m.group(1)), int(m.group(2))) if int(m.group(1)) < int(m.group(2)) else m.group(0),
        text,
    )


def initials_en(text: str) -> str:
    """Initials before a name said as letters: "J. R. R. Tolkien" → "J R R Tolkien" (no full stops, so
    the voice neither pauses after each one nor ends the sentence there). "U.S." is left alone."""
    return re.sub(
        r"\b((?:[A-Z]\.\s){2,})(?=[A-Z][a-z])", lambda m: m.group(1).replace(".", "").replace("  ", " "), text
    )


_UNITS = {
    "km": "kilometre", "m": "metre", "cm": "centimetre", "mm": "millimetre", "kg": "kilogram", "g": "gram",
    "mg": "milligram", "lb": "pound", "lbs": "pound", "oz": "ounce", "ft": "foot", "mi": "mile", "mph": "mile per hour",
    "km/h": "kilometre per hour", "kph": "kilometre per hour", "ml": "millilitre", "kW": "kilowatt",
    "kWh": "kilowatt hour", "MB": "megabyte", "GB": "gigabyte", "TB": "terabyte", "kB": "kilobyte", "Hz": "hertz",
    "kHz": "kilohertz", "MHz": "megahertz", "GHz": "gigahertz", "°C": "degree Celsius", "°F": "degree Fahrenheit",
}  # fmt: skip
_UNIT_RE = re.compile(
    r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)\s?("
    + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
    + r")(?![\w/])"
)


def _plural(unit: str) -> str:
    words = unit.split(" ", 1)
    head = {"foot": "feet", "hertz": "hertz", "degree": "degrees"}.get(words[0], words[0] + "s")
    return " ".join([head, *words[1:]])


def units_en(text: str) -> str:
    """Unit symbols after a number said in words: "5 km" → "5 kilometres", "1 kg" → "1 kilogram", "20 °C"
    → "20 degrees Celsius" (only right after a number, so "m" and "g" elsewhere stay letters)."""

    def unit(m: re.Match[str]) -> str:
        name = _UNITS[m.group(2)]
        return f"{m.group(1)} {name if m.group(1) == '1' else _plural(name)}"

    return _UNIT_RE.sub(unit, text)


def all_caps_en(text: str) -> str:
    """Shouted phrases read as words: a run of two or more all-capital words with eight letters or more
    ("THE END OF IT ALL") is lower-cased, so "IT" is not spelled "I T". Acronyms alone ("NATO", "the FBI") stay."""

    def lower(m: re.Match[str]) -> str:
        run = m.group(0)
        return run.lower() if sum(c.isalpha() for c in run) >= 8 else run

    return re.sub(r"\b[A-Z][A-Z’']*(?:[ ,;:]+[A-Z][A-Z’']*)+\b", lower, text)


# heteronyms: (IPA for Piper, respelling for other engines) of the reading the context asks for
_SAYINGS = {
    "red": ("ɹˈɛd", "red"), "led": ("lˈɛd", "led"), "lyve": ("lˈaɪv", "lyve"), "cloze": ("klˈoʊz", "cloze"),
    "wined": ("wˈaɪnd", "wined"),
}  # fmt: skip
_MODALS = {
    "to",
    "will",
    "would",
    "can",
    "could",
    "should",
    "must",
    "might",
    "may",
    "shall",
    "please",
    "don't",
    "didn't",
}
_SUBJECTS = {"i", "we", "they", "you", "who"}
_DETERMINERS = {"the", "a", "an", "your", "my", "his", "her", "our", "their", "its", "this", "that", "it", "them"}
# Only where eSpeak NG (whose phonemes Piper speaks) reads the word wrong; measured: it already says
# "has/was read" (red), "will read" (reed), "we live" (liv), "live music" (lyve), "must wind" and
# "wind up" (wined), but "she read" as reed, every "close" as klohs, "lead pipe" and "wind the clock" wrong.
_RULES: dict[str, Callable[[str, str, bool], str | None]] = {
    "read": lambda prev, nxt, first: "red" if prev in {"he", "she"} else None,
    "lead": lambda prev, nxt, first: "led"
    if nxt in {"pipe", "pipes", "paint", "poisoning", "mine", "mines", "weight", "weights", "shot", "pencil", "roof"}
    or prev in {"of", "with", "as", "molten"}
    else None,
    "live": lambda prev, nxt, first: "lyve"
    if nxt in {"broadcast", "broadcasts", "audience", "performance", "recording", "wire", "ammunition", "bait", "coals",
               "concert", "stream", "television"}
    else None,
    "close": lambda prev, nxt, first: None
    if nxt in {"to", "by", "call", "friend", "friends", "relative", "relatives", "range", "enough", "behind"}
    else "cloze" if prev in _MODALS | _SUBJECTS or (first and nxt in _DETERMINERS) else None,
    "wind": lambda prev, nxt, first: "wined" if prev in _SUBJECTS or (first and nxt in _DETERMINERS) else None,
}  # fmt: skip


def heteronyms_en(text: str, phonemes: bool) -> str:
    """Words spelled alike but said two ways (read, lead, live, close, wind), said the way their neighbours
    ask for: "she read" (red), "lead pipe" (led), "live music" (lyve), "close the door" (cloze), "wind the
    clock" (wined). Inline IPA [[ … ]] for a voice that reads phonemes, a respelling otherwise; where the
    context does not decide, the word is left to the voice."""
    tokens = re.split(r"(\b[\w’']+\b)", text)
    words = [(i, t) for i, t in enumerate(tokens) if re.fullmatch(r"[\w’']+", t)]
    for n, (i, word) in enumerate(words):
        rule = _RULES.get(word.lower())
        if rule is None:
            continue
        prev = words[n - 1][1].lower().replace("’", "'") if n else ""
        nxt = words[n + 1][1].lower() if n + 1 < len(words) else ""
        saying = rule(prev, nxt, n == 0)
        if saying:
            ipa, respelling = _SAYINGS[saying]
            tokens[i] = f"[[ {ipa} ]]" if phonemes else respelling
    return "".join(tokens)


def english_rules(text: str, heading: bool = False) -> str:
    """The English clarity rules above, in the order they need (before numbers are spelled out)."""
    text = roman_numerals_en(text, heading)
    text = all_caps_en(text)
    text = initials_en(text)
    text = early_years_en(text)
    text = ranges_en(text)
    text = fractions_en(text)
    return units_en(text)
