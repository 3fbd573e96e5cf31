"""Spoken text in languages other than English: numbers, ordinals, dates, years, times, money,
percentages and common abbreviations, read as each language reads them (speech/normalise.py calls
`normalise_language` first).

num2words spells the numbers (cardinals, ordinals with Russian cases, years, currencies) and Babel
gives month and currency names; the rules here (tables.py) are only what neither library has:
separators, the words around a time or a percentage, abbreviations, how a date's day is read,
Chinese numerals (chinese.py). English gets one rule here: day-first dates ("1 September 1843",
as en-GB dates are shown) read "the first of September, eighteen forty-three".
"""

from __future__ import annotations

import functools
import re

from num2words import num2words

from publisher.prepare.languages import chinese, japanese
from publisher.prepare.languages.tables import LANGUAGES, Language, czech_day, polish_day

#: Arabic-Indic and Persian digits, and the Arabic decimal and thousands marks, as ASCII
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
#: currency symbols and codes → ISO 4217 (a symbol before or after the amount)
_SYMBOLS = {"€": "EUR", "$": "USD", "US$": "USD", "£": "GBP", "¥": "JPY", "₽": "RUB", "zł": "PLN", "Kč": "CZK",
            "kr": "SEK", "CHF": "CHF", "EUR": "EUR", "USD": "USD", "GBP": "GBP", "RUB": "RUB", "PLN": "PLN",
            "CZK": "CZK", "SEK": "SEK", "JPY": "JPY", "CNY": "CNY", "元": "CNY", "円": "JPY"}  # fmt: skip
_CHINESE_CURRENCY = {"CNY": "元", "JPY": "日元", "USD": "美元", "EUR": "欧元", "GBP": "英镑", "RUB": "卢布"}


def primary(language: str) -> str:
    """The primary language subtag, lower-case ("pt-BR" → "pt")."""
    return language.replace("_", "-").split("-")[0].lower()


def languages() -> list[str]:
    """The languages with rules here (besides English)."""
    return sorted(LANGUAGES)


def words(number: str, rules: Language, to: str = "cardinal", **options: object) -> str:
    """A number written with ASCII digits and "." as decimal mark, in words."""
    if rules.code == "zh":
        return ("第" if to == "ordinal" else "") + chinese.number(number)
    value: float | int = float(number) if "." in number else int(number)
    if to == "year" and (rules.year != "year" or rules.code == "ja"):
        to = "cardinal"
    try:
        spoken = str(num2words(value, lang=rules.code, to=to, **options))
    except (NotImplementedError, TypeError, OverflowError):
        spoken = str(num2words(value, lang=rules.code))
    return spoken.replace("etttusen", "ettusen") if rules.code == "sv" else spoken  # num2words 0.5.14


@functools.lru_cache(maxsize=32)
def _patterns(code: str) -> dict[str, re.Pattern[str]]:
    from babel.dates import get_month_names

    rules = LANGUAGES[code]
    edge_l, edge_r = (r"(?<!\d)", r"(?!\d)") if code in ("ja", "zh") else (r"(?<![\w.,])", r"(?!\w)")
    group, decimal = re.escape(rules.group), re.escape(rules.decimal)
    number = rf"(?:\d{{1,3}}(?:[{group}]\d{{3}})+|\d+)(?:[{decimal}]\d+)?"
    months: set[str] = set()
    for width in ("wide", "abbreviated"):
        for context in ("format", "stand-alone"):
            months.update(str(m).rstrip(".") for m in get_month_names(width, context, locale=code).values())
    month = "|".join(sorted((re.escape(m) for m in months if len(m) > 1), key=len, reverse=True))
    joiner = "|".join(rf"\s+{w}" for w in rules.date_words)
    suffix = re.escape(rules.year_suffix[0]) if rules.year_suffix[0] else "(?!x)x"
    symbols = "|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True))
    return {
        "number": re.compile(edge_l + number + edge_r),
        "percent": re.compile(rf"{edge_l}({number})\s?%"),
        "money_before": re.compile(rf"(?<!\w)({symbols})\s?({number}){edge_r}"),
        "money_after": re.compile(rf"{edge_l}({number})\s?({symbols})(?!\w)"),
        "date": re.compile(
            rf"{edge_l}(?:(\w+)\s+)?(\d{{1,2}})(\.?(?:{joiner})?\s+(?:{month})\.?)"
            rf"(?:((?:{joiner})?\s+)(\d{{3,4}})(?!\d))?(\s*{suffix})?",
            re.IGNORECASE,
        ),
        "time": re.compile(rf"{edge_l}([01]?\d|2[0-3])[:](\d\d)(?!\d)(?:\s?(?:Uhr|uur|h)\b)?"),
    }


def _number_value(raw: str, rules: Language) -> str:
    """ "1.250,5" (German) → "1250.5"."""
    whole, mark, fraction = raw, "", ""
    for dec in rules.decimal:
        head, found, tail = raw.rpartition(dec)
        if found and tail.isdigit() and not (dec in rules.group and len(tail) == 3 and head.isdigit()):
            whole, mark, fraction = head, ".", tail
            break
    whole = "".join(ch for ch in whole if ch.isdigit())
    return whole + mark + fraction


def _money(amount: str, code: str, rules: Language) -> str:
    value = _number_value(amount, rules)
    whole, _, cents = value.partition(".")
    cents = (cents + "0")[:2] if cents else ""
    if rules.code == "zh":
        return chinese.number(value) + _CHINESE_CURRENCY.get(code, code)
    try:
        if cents and int(cents):
            return str(num2words(float(value), lang=rules.code, to="currency", currency=code))
        spoken = str(num2words(float(whole), lang=rules.code, to="currency", currency=code, separator="|"))
        return spoken.split("|")[0].strip()
    except (NotImplementedError, TypeError, KeyError, ValueError):
        from babel.numbers import get_currency_name

        name = get_currency_name(code, int(whole), locale=rules.code)
        tail = f" {words(str(int(cents)), rules)}" if cents and int(cents) else ""
        return f"{words(whole, rules)} {name}{tail}"


def _percent(number: str, rules: Language) -> str:
    value = _number_value(number, rules)
    spoken = words(value, rules)
    if rules.code == "ru" and "." not in value:  # процент, процента, процентов
        n = int(value)
        form = (
            "процент"
            if n % 10 == 1 and n % 100 != 11
            else "процента"
            if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14
            else "процентов"
        )
        return f"{spoken} {form}"
    return rules.percent.format(n=spoken)


_DE_DATIVE = {"am", "vom", "zum", "dem", "den", "seit", "bis", "ab"}


def _day(day: int, rules: Language, before: str) -> str:
    if rules.day == "ordinal-r":  # "fünfter März"; after "am"/"vom": "fünften"
        ordinal = words(str(day), rules, "ordinal")
        return ordinal + ("n" if before.lower() in _DE_DATIVE else "r")
    if rules.day == "ordinal":
        return words(str(day), rules, "ordinal")
    if rules.day == "ordinal-n":
        return words(str(day), rules, "ordinal", gender="n")
    if rules.day == "genitive-pl":
        return polish_day(day)
    if rules.day == "genitive-cs":
        return czech_day(day)
    if rules.day == "first" and day == 1:
        return rules.first_word
    return words(str(day), rules)


def _date(match: re.Match[str], rules: Language) -> str:
    before, day, month, joiner, year, suffix = match.groups()
    if not 1 <= int(day) <= 31:
        return match.group(0)
    spoken = (before + " " if before else "") + _day(int(day), rules, before or "") + month.lstrip(".")
    if year:
        if rules.year == "genitive":
            spoken += f"{joiner}{words(year, rules, 'ordinal', case='g')} {rules.year_suffix[1]}"
        elif rules.year == "digits":
            spoken += joiner + chinese.year(year)
        else:
            spoken += joiner + words(year, rules, "year")
            if suffix:
                spoken += " " + rules.year_suffix[1]
    elif suffix:
        spoken += suffix
    return spoken


def _time(match: re.Match[str], rules: Language) -> str:
    hour, minute = match.group(1), match.group(2)
    spoken_hour = words(str(int(hour)), rules)
    if int(minute) == 0:
        return rules.hour.format(h=spoken_hour)
    return rules.time.format(h=spoken_hour, m=words(str(int(minute)), rules))


_ORDINALS: dict[str, tuple[re.Pattern[str], dict[str, str]]] = {
    "fr": (re.compile(r"(?<!\w)(\d+)(er|re|ère|e|ème|ᵉ|ᵉʳ)(?!\w)"), {}),
    "es": (re.compile(r"(?<!\w)(\d+)\.?([ºª°])"), {}),
    "it": (re.compile(r"(?<!\w)(\d+)\.?([ºª°])"), {}),
    "pt": (re.compile(r"(?<!\w)(\d+)\.?([ºª°])"), {}),
    "nl": (re.compile(r"(?<!\w)(\d+)(ste|de|e)(?!\w)"), {}),
    "sv": (re.compile(r"(?<!\w)(\d+):(a|e)(?!\w)"), {}),
    "de": (re.compile(r"(?<!\w)(\d{1,3})\.(?=\s+[A-ZÄÖÜ][a-zäöüß])()"), {}),
    "ru": (re.compile(r"(?<!\w)(\d+)-(й|го|му|м|е|я|ю|х|ое|ая|ый|ий)(?!\w)"), {}),
}
_RU_CASES = {"го": ("g", "m"), "му": ("d", "m"), "м": ("p", "m"), "е": ("n", "n"), "ое": ("n", "n"),
             "я": ("n", "f"), "ая": ("n", "f"), "ю": ("a", "f"), "х": ("g", "m")}  # fmt: skip


def _ordinal(match: re.Match[str], rules: Language) -> str:
    number, ending = match.group(1), match.group(2)
    if rules.code == "fr" and number == "1":
        return "première" if ending in ("re", "ère") else "premier"
    if rules.code == "ru":
        case, gender = _RU_CASES.get(ending, ("n", "m"))
        return words(number, rules, "ordinal", case=case, gender=gender, plural=ending == "х")
    spoken = words(number, rules, "ordinal")
    if ending == "ª" and spoken.endswith("o"):
        spoken = spoken[:-1] + "a"
    return spoken


def normalise_language(text: str, language: str) -> str:
    """`text` (one sentence) with the numbers, dates, times, money, percentages and abbreviations
    of `language` in words; unchanged for a language without rules here."""
    code = primary(language)
    if code == "en":
        return english_day_first_dates(text)
    rules = LANGUAGES.get(code)
    if rules is None:
        return text
    text = text.translate(_DIGITS)
    if code == "ar":
        text = text.replace("٫", ".").replace("٬", ",")
    for pattern, replacement in rules.abbreviations:
        text = re.sub(pattern, replacement, text)
    pats = _patterns(code)
    text = pats["money_before"].sub(lambda m: _money(m.group(2), _SYMBOLS[m.group(1)], rules), text)
    text = pats["money_after"].sub(lambda m: _money(m.group(1), _SYMBOLS[m.group(2)], rules), text)
    text = pats["percent"].sub(lambda m: _percent(m.group(1), rules), text)
    text = pats["date"].sub(lambda m: _date(m, rules), text)
    if code == "zh":
        text = re.sub(r"(?<!\d)(\d{4})(?=年)", lambda m: chinese.year(m.group(1)), text)
    text = pats["time"].sub(lambda m: _time(m, rules), text)
    if code in _ORDINALS:
        text = _ORDINALS[code][0].sub(lambda m: _ordinal(m, rules), text)
    text = pats["number"].sub(lambda m: words(_number_value(m.group(0), rules), rules), text)
    return japanese.kanji_as_kana(text) if code == "ja" else text  # numbers are spelled in kanji too


_EN_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_EN_DAY_FIRST = re.compile(rf"(?<![\w.,])(\d{{1,2}})(?:st|nd|rd|th)?\s+({_EN_MONTHS})\b(?:,?\s+(\d{{4}})(?!\d))?")


def english_day_first_dates(text: str) -> str:
    """ "1 September 1843" → "the first of September, eighteen forty-three" (British order)."""

    def say(match: re.Match[str]) -> str:
        day, month, year = match.groups()
        if not 1 <= int(day) <= 31:
            return match.group(0)
        spoken = f"the {num2words(int(day), lang='en', to='ordinal')} of {month}"
        return spoken + (f", {num2words(int(year), lang='en', to='year')}" if year else "")

    return _EN_DAY_FIRST.sub(say, text)
