"""Text helpers shared by readers and renderers: sentence splitting, slugs, dates, spoken text."""

from __future__ import annotations

import datetime as _dt
import functools
import re
import unicodedata
from typing import Any

import pysbd

from publisher import i18n

# Languages pysbd has rules for; any other language falls back to the English rules.
_PYSBD_LANGUAGES = {
    "en", "hi", "mr", "zh", "es", "am", "ar", "hy", "bg", "ur", "ru", "pl",
    "fa", "nl", "da", "fr", "my", "el", "it", "ja", "de", "kk", "sk",
}  # fmt: skip

_WS = re.compile(r"\s+")
_TERMINAL = set('.!?…。！？｡؟۔"”’»)」』）')
#: scripts written without letter case, where a full stop and a space end a sentence whatever
#: follows (pysbd's Arabic rules miss "… بكم. كيف …"; Hebrew has no rules at all)
_UNCASED_SCRIPTS = {"Arab", "Hebr", "Syrc", "Thaa", "Nkoo"}
_UNCASED_STOP = re.compile(r"[.!?؟۔…]+[\"”’»)]*\s+(?=\S)")
#: scripts whose sentences end at a full-width stop without a space (Chinese, Japanese)
_CJK_SCRIPTS = {"Hans", "Hant", "Jpan", "Hani", "Kore"}
_CJK_STOP = re.compile(r"[。！？｡]+(?![」』”’）)])(?=\S)")
#: text direction of scripts written right to left (ISO 15924)
RTL_SCRIPTS = frozenset({"Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg", "Mand", "Samr", "Mend", "Yezi"})


#: characters no XML document may hold (and that never belong in prose): C0 controls other than
#: tab and newline, DEL, lone surrogates and the noncharacters U+FFFE/U+FFFF
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 forbids."""
    return _NOT_XML.sub("", text)


def collapse_ws(text: str) -> str:
    """Collapse every run of white space to one space and strip the ends."""
    return _WS.sub(" ", text).strip()


#: the script of common languages, known without loading langcodes (~0.1 s at every start): Latin
#: whatever the region; the others only as a bare tag ("zh-TW" or "az-IR" ask langcodes)
LATIN_LANGUAGES = frozenset(
    [
        "en",
        "de",
        "fr",
        "es",
        "it",
        "nl",
        "pt",
        "pl",
        "sv",
        "cs",
        "da",
        "nb",
        "nn",
        "no",
        "fi",
        "et",
        "lv",
        "lt",
        "ro",
        "hu",
        "sk",
        "sl",
        "hr",
        "ca",
        "eu",
        "gl",
        "ga",
        "cy",
        "is",
        "id",
        "sq",
        "af",
        "mt",
        "lb",
    ]
)
BARE_SCRIPTS = {"ar": "Arab", "fa": "Arab", "he": "Hebr", "ja": "Jpan", "ko": "Kore", "ru": "Cyrl", "uk": "Cyrl",
                "el": "Grek", "hi": "Deva", "th": "Thai"}  # fmt: skip
_SIMPLE_TAG = re.compile(r"^(?P<primary>[a-zA-Z]{2})(?:[-_](?P<region>[a-zA-Z]{2}))?$")


def _quick_script(language: str) -> str | None:
    simple = _SIMPLE_TAG.match(language)
    if simple is None:
        return None
    primary = simple["primary"].lower()
    if primary in LATIN_LANGUAGES:
        return "Latn"
    return BARE_SCRIPTS.get(primary) if simple["region"] is None else None


@functools.lru_cache(maxsize=64)
def script_of(language: str) -> str:
    """The ISO 15924 script a BCP 47 tag is written in ("sr-Latn" → "Latn", "ar" → "Arab",
    "pa-Arab" → "Arab", "ja" → "Jpan"); "Latn" for a tag langcodes cannot read."""
    quick = _quick_script(language)
    if quick is not None:
        return quick
    import langcodes

    try:
        return str(langcodes.Language.get(language.replace("_", "-")).maximize().script or "Latn")
    except (ValueError, LookupError):
        return "Latn"


def _pysbd_language(language: str) -> str:
    """The pysbd rules for `language`: its own, else those of its script's main language, else English."""
    primary = language.replace("_", "-").split("-")[0].lower()
    if primary in _PYSBD_LANGUAGES:
        return primary
    script = script_of(language)
    return {"Hans": "zh", "Hant": "zh", "Hani": "zh", "Jpan": "ja", "Arab": "ar", "Cyrl": "ru"}.get(script, "en")


@functools.lru_cache(maxsize=16)
def _segmenter(language: str) -> Any:
    return pysbd.Segmenter(language=_pysbd_language(language), clean=False)


def _script_pieces(pieces: list[str], language: str) -> list[str]:
    """pysbd's pieces cut again where the language's script ends sentences without a capital after."""
    script = script_of(language)
    stop = _UNCASED_STOP if script in _UNCASED_SCRIPTS else _CJK_STOP if script in _CJK_SCRIPTS else None
    if stop is None:
        return pieces
    out: list[str] = []
    for piece in pieces:
        cuts = [m.end() for m in stop.finditer(piece)]
        start = 0
        for cut in cuts:
            out.append(piece[start:cut])
            start = cut
        out.append(piece[start:])
    return [p for p in out if p]


def split_sentences(text: str, language: str = "en") -> list[tuple[int, int]]:
    """Cut `text` into sentences; return (start, end) character offsets, white space trimmed.

    pysbd keeps abbreviations ("U.S.", "Mr."), decimals and quotations intact. The offsets are
    found by walking the original text, so no character is ever lost or repeated: the spans
    cover every non-space character exactly once.
    """
    if not text.strip():
        return []
    pieces = _script_pieces(_segmenter(language).segment(text), language)
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        core = piece.strip()
        if not core:
            continue
        found = text.find(core, cursor)
        if found < 0:  # the segmenter changed the text: keep the rest whole rather than lose it
            break
        if found > cursor and text[cursor:found].strip() and spans:
            # text skipped by the segmenter belongs to the previous sentence
            spans[-1] = (spans[-1][0], found)
        start, end = found, found + len(core)
        if not spans and text[cursor:found].strip():
            start = cursor
        spans.append((start, end))
        cursor = end
    if text[cursor:].strip():
        spans.append((cursor, len(text)))
    trimmed = [(s + _lead(text, s, e), e - _trail(text, s, e)) for s, e in spans if text[s:e].strip()]
    merged: list[tuple[int, int]] = []
    for start, end in trimmed:
        glued = merged and start == merged[-1][1] and text[start - 1] not in _TERMINAL
        if merged and (glued or not any(ch.isalnum() for ch in text[start:end])):
            # lone punctuation, or a cut inside a word, belongs to the sentence before it
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _lead(text: str, start: int, end: int) -> int:
    chunk = text[start:end]
    return len(chunk) - len(chunk.lstrip())


def _trail(text: str, start: int, end: int) -> int:
    chunk = text[start:end]
    return len(chunk) - len(chunk.rstrip())


def slugify(name: str, max_length: int = 60) -> str:
    """A file-system and URL safe slug: lower-case ASCII letters, digits and hyphens; other scripts
    transliterated ("Война и мир" → "voina-i-mir", "Straße" → "strasse")."""
    from unidecode import unidecode

    ascii_name = unidecode(unicodedata.normalize("NFC", name))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    slug = slug[:max_length].rstrip("-") or "untitled"
    if slug in RESERVED_NAMES:  # Windows device names: such a folder cannot be copied to Windows
        slug += "-text"
    return slug


#: names Windows reserves for devices (with any extension); no output folder may be called so
RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}

#: ISO 639-1 two-letter language codes (a two-letter tag outside this list is a typo)
_ISO_639_1 = """
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik
io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml
mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd
se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi
vo wa wo xh yi yo za zh zu
"""
ISO_639_1 = frozenset(_ISO_639_1.split())


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


def spoken_text(text: str) -> str:
    """What the engine is given for a sentence: display text with layout-only characters removed."""
    text = text.replace("\u00ad", "")  # soft hyphens
    text = re.sub(r"[\u200b-\u200f\u2060\ufeff]", "", text)  # zero-width characters
    return collapse_ws(text)


#: languages written right to left (primary subtags)
RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ps", "sd", "syr", "ug", "ur", "yi"})


def text_direction(language: str) -> str:
    """ "rtl" for languages written right to left (Arabic, Hebrew, Persian, Urdu…), else "ltr".

    The script decides, so a script subtag wins: "pa-Arab" (Shahmukhi) is rtl, "ks-Deva" is ltr."""
    if "-" not in language.replace("_", "-"):
        primary = language.lower()
        if primary in RTL_LANGUAGES:
            return "rtl"
    return "rtl" if script_of(language) in RTL_SCRIPTS else "ltr"


def language_problem(tag: str) -> str | None:
    """None if `tag` is a valid BCP 47 tag of a registered language ("de", "pt-BR", "sr-Latn",
    "deu", "en-GB-x-rp"), else what is wrong with it."""
    simple = _SIMPLE_TAG.match(tag)
    if simple and simple["primary"].lower() in ISO_639_1:  # "de", "pt-BR": well formed and registered
        return None
    import langcodes

    if not langcodes.tag_is_valid(tag):
        return f"language {tag!r} is not a known language code (BCP 47, registered), such as 'en' or 'fr-CA'"
    primary = tag.split("-")[0].lower()
    if primary in ("und", "mul", "zxx", "mis"):
        return f"language {tag!r} names no language; give the language the text is written in"
    return None


def join_names(names: list[str], language: str = "en") -> str:
    """ "A", "A and B", "A, B and C" (in `language`'s own way: "A, B und C", "A、B和C")."""
    return i18n.join_names(names, language)
