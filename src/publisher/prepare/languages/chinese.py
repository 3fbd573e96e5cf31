"""Chinese numerals for the spoken text (num2words has no Chinese): 1250 → 一千二百五十, 2024年 → 二零二四年."""

from __future__ import annotations

DIGITS = "零一二三四五六七八九"
_SMALL = [(1000, "千"), (100, "百"), (10, "十")]
_LARGE = [(10**8, "亿"), (10**4, "万")]


def _below_10000(n: int) -> str:
    out = ""
    zero = False
    for value, name in _SMALL:
        digit, n = divmod(n, value)
        if digit:
            if zero and out:
                out += "零"
            out += DIGITS[digit] + name
            zero = False
        elif out:
            zero = True
    if n:
        if zero and out:
            out += "零"
        out += DIGITS[n]
    return out


def cardinal(n: int) -> str:
    """A whole number in Chinese characters, as it is read: 10 → 十, 15 → 十五, 1005 → 一千零五."""
    if n == 0:
        return "零"
    if n < 0:
        return "负" + cardinal(-n)
    out = ""
    rest = n
    pad = False
    for value, name in _LARGE:
        part, rest = divmod(rest, value)
        if part:
            if pad and part < 1000:
                out += "零"
            out += _below_10000(part) + name
            pad = True
        elif out:
            pad = True
    if rest:
        if out and rest < 1000:
            out += "零"
        out += _below_10000(rest)
    if out.startswith("一十"):  # 10–19 are read 十, 十五
        out = out[1:]
    return out


def number(text: str) -> str:
    """A number as written ("1250", "3.14") in Chinese: 一千二百五十, 三点一四."""
    whole, _, fraction = text.partition(".")
    spoken = cardinal(int(whole))
    if fraction:
        spoken += "点" + "".join(DIGITS[int(d)] for d in fraction)
    return spoken


def year(text: str) -> str:
    """A year is read digit by digit: 2024 → 二零二四."""
    return "".join(DIGITS[int(d)] for d in text)
