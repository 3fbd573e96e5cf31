"""Language tags: is a BCP 47 tag valid, which script does it use, which way is it written."""

from __future__ import annotations

import functools
import re

#: text direction of scripts written right to left (ISO 15924)
RTL_SCRIPTS = frozenset({"Arab", "Hebr", "Syrc", "Thaa", "Nkoo", "Adlm", "Rohg", "Mand", "Samr", "Mend", "Yezi"})

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
