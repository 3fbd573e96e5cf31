"""Japanese for voices that read kana only: kanji given as their hiragana readings.

eSpeak NG's Japanese voice (and every Piper voice, which speaks eSpeak NG's phonemes) reads kana
but says each kanji as "Chinese letter", in English. Found by proof-listening a short Japanese
text: 21 s of audio for 63 characters, a character error rate of 4.8 (Whisper base); with the
kanji given as hiragana by pykakasi's dictionary, 9 s and 0.55. Readings are the dictionary's, so
a rare or ambiguous word can be read wrongly (年老いた → としよりいた): a lexicon entry fixes it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]")
_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_GROUPS = {"万": 10_000, "億": 100_000_000}
_NUMERAL = re.compile(r"[〇零一二三四五六七八九十百千万億]+")
# how a counter after a number is read, where the number changes it: {counter: (reading, {n: whole reading})}
_DAYS = {1: "ついたち", 2: "ふつか", 3: "みっか", 4: "よっか", 5: "いつか", 6: "むいか", 7: "なのか", 8: "ようか",
         9: "ここのか", 10: "とおか", 14: "じゅうよっか", 20: "はつか", 24: "にじゅうよっか"}  # fmt: skip
_MINUTES = {1: "いっぷん", 2: "にふん", 3: "さんぷん", 4: "よんぷん", 5: "ごふん", 6: "ろっぷん", 7: "ななふん",
            8: "はっぷん", 9: "きゅうふん", 0: "っぷん"}  # fmt: skip
_COUNTERS = {"時": "じ", "年": "ねん", "月": "がつ", "日": "にち", "人": "にん", "円": "えん", "分": "ふん"}
_SPECIAL = {
    "時": {4: "よじ", 7: "しちじ", 9: "くじ"},
    "月": {4: "しがつ", 7: "しちがつ", 9: "くがつ"},
    "人": {1: "ひとり", 2: "ふたり", 4: "よにん", 7: "しちにん"},
    "日": _DAYS,
}


def kanji_number(numeral: str) -> int | None:
    """二千二十四 → 2024, 十四 → 14, 二〇二四 → 2024 (digit by digit); None if it is not a number."""
    if all(c in _DIGITS for c in numeral):
        return int("".join(str(_DIGITS[c]) for c in numeral))
    total = group = digit = 0
    for c in numeral:
        if c in _DIGITS:
            digit = _DIGITS[c]
        elif c in _UNITS:
            group += (digit or 1) * _UNITS[c]
            digit = 0
        elif c in _GROUPS:
            total += (group + digit or 1) * _GROUPS[c]
            group = digit = 0
        else:
            return None
    return total + group + digit


def _reading(n: int) -> str:
    from num2words import num2words

    return str(num2words(n, lang="ja", reading=True))


def _with_counter(n: int, counter: str) -> str:
    special = _SPECIAL.get(counter, {})
    if n in special:
        return special[n]
    if counter == "時" and n > 10 and n % 10 in special:  # じゅうよじ, じゅうしちじ, じゅうくじ
        return _reading(n - n % 10) + special[n % 10]
    if counter == "分":  # いっぷん, さんじゅっぷん, にじゅうごふん
        ones = n % 10
        head = _reading(n - ones) if n >= 10 else ""
        if ones == 0:
            return head.removesuffix("う") + "っぷん" if head.endswith("じゅう") else head + "ふん"
        return head + _MINUTES[ones]
    spoken = _reading(n)
    if n % 10 == 4 and n % 100 != 14 and counter in ("年", "円"):
        spoken = spoken.removesuffix("よん") + "よ"  # にじゅうよねん
    if counter == "日" and n % 10 == 4 and n % 100 not in (4, 14, 24):
        return spoken + "にち"
    return spoken + _COUNTERS[counter]


def numbers_as_kana(text: str) -> str:
    """Kanji numerals and the counters after them read as they are said: 十四時三十分 → じゅうよじさんじゅっぷん,
    三月五日 → さんがついつか, 二人 → ふたり; other kanji numerals as plain numbers."""

    def spoken(m: re.Match[str]) -> str:
        n = kanji_number(m.group(1))
        if n is None:
            return m.group(0)
        return _with_counter(n, m.group(2)) if m.group(2) else _reading(n)

    counters = "".join(_COUNTERS)
    return re.sub(rf"({_NUMERAL.pattern})([{counters}])?", spoken, text)


@functools.lru_cache(maxsize=1)
def _converter() -> Any:
    import pykakasi

    return pykakasi.kakasi()  # loads its dictionaries: about 0.5 s, once per process


def kanji_as_kana(text: str) -> str:
    """`text` with every word holding a kanji replaced by its hiragana reading (numbers and their
    counters by the rules above, the rest by pykakasi's dictionary); kana, Latin letters, digits and
    punctuation are kept as they are."""
    text = numbers_as_kana(text)
    if not _KANJI.search(text):
        return text
    return "".join(part["hira"] if _KANJI.search(part["orig"]) else part["orig"] for part in _converter().convert(text))
