"""Message catalogues: every string the publisher speaks or shows a reader, in the publication's language.

The catalogues are gettext files, `locales/<lang>/LC_MESSAGES/publisher.po` (the source) and the
compiled `publisher.mo` beside each (committed, and checked by the tests against the `.po`;
`make i18n` extracts with Babel and compiles them again). `translator(language)` picks the
catalogue by BCP 47 fallback (`pt-BR` → `pt_BR` → `pt` → English); a language without one falls
back to English and says so once per run. English is the source language: its translations are
the message ids themselves, so English output never depends on a catalogue.
"""

from __future__ import annotations

import functools
import gettext
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from markupsafe import Markup

log = logging.getLogger(__name__)

DOMAIN = "publisher"
SOURCE_LANGUAGE = "en"
#: languages with a complete catalogue (besides English, the source)
LANGUAGES = ("ar", "cs", "de", "es", "fr", "it", "ja", "nl", "pl", "pt", "pt_BR", "ru", "sv", "zh")
_warned: set[str] = set()

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"})


def locale_dir() -> Any:
    """The folder holding `<lang>/LC_MESSAGES/publisher.{po,mo}` (package data)."""
    return resources.files("publisher.i18n").joinpath("locales")


def candidates(language: str) -> list[str]:
    """Catalogue names to try for a BCP 47 tag, most specific first: "pt-BR" → ["pt_BR", "pt"];
    "zh-Hans-CN" → ["zh_Hans_CN", "zh_Hans", "zh"]. Case is normalised (language lower, region upper)."""
    parts = [p for p in language.replace("_", "-").split("-") if p]
    if not parts:
        return []
    norm = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 2 or part.isdigit():
            norm.append(part.upper())
        elif len(part) == 4:
            norm.append(part.title())
        else:
            norm.append(part.lower())
    return ["_".join(norm[:n]) for n in range(len(norm), 0, -1)]


@functools.lru_cache(maxsize=64)
def _catalogue(name: str) -> gettext.GNUTranslations | None:
    mo = locale_dir().joinpath(name, "LC_MESSAGES", f"{DOMAIN}.mo")
    if not mo.is_file():
        return None
    with mo.open("rb") as handle:
        return gettext.GNUTranslations(handle)


def catalogue_language(language: str) -> str | None:
    """The catalogue `language` is shown in ("pt" for "pt-BR"), "en" for English, None if there is none."""
    for name in candidates(language):
        if name == SOURCE_LANGUAGE:
            return name
        if _catalogue(name) is not None:
            return name
    return None


@dataclass(frozen=True)
class Translator:
    """Translations for one language: `gettext`/`ngettext` with `{name}` fields filled in."""

    language: str  # the catalogue in use ("pt" for a pt-BR publication; "en" when falling back)
    requested: str  # the publication's language tag
    _catalogue: gettext.NullTranslations

    def gettext(self, message: str, **fields: object) -> str:
        """`message` in this language, with `{field}`s filled in."""
        text = self._catalogue.gettext(message)
        return text.format(**fields) if fields else text

    def ngettext(self, singular: str, plural: str, count: int, **fields: object) -> str:
        """The form for `count` (the language's plural rules), with `{count}` and `{field}`s filled in."""
        return self._catalogue.ngettext(singular, plural, count).format(count=count, **fields)

    def markup(self, message: str, **fields: object) -> Markup:
        """`message` for an HTML template: the translation escaped, the fields escaped unless Markup."""
        text = self._catalogue.gettext(message).translate(_ESCAPES)
        safe = {k: v if isinstance(v, Markup) else str(v).translate(_ESCAPES) for k, v in fields.items()}
        return Markup(text.format(**safe) if fields else text)


def translator(language: str) -> Translator:
    """The translations for `language` (BCP 47), most specific first: pt-BR → pt_BR, pt-AO → pt, else English.

    A language without a catalogue is shown in English, with one warning per language per run.
    """
    name = catalogue_language(language)
    if name is None or name == SOURCE_LANGUAGE:
        primary = (candidates(language) or [SOURCE_LANGUAGE])[-1]
        if name is None and primary not in _warned:
            _warned.add(primary)
            log.warning(
                "no %r translation of the publisher's own words (credits, labels, page texts): they are in English; "
                "languages with one: %s",
                language, ", ".join(("en", *LANGUAGES)),
            )  # fmt: skip
        return Translator(SOURCE_LANGUAGE, language, gettext.NullTranslations())
    catalogue = _catalogue(name)
    assert catalogue is not None
    return Translator(name, language, catalogue)


def join_names(names: Sequence[str], language: str = "en") -> str:
    """ "A", "A and B", "A, B and C" in the language's own way (CLDR list patterns; English keeps
    the house style without a serial comma)."""
    if not names:
        return ""
    if catalogue_language(language) in (None, SOURCE_LANGUAGE):
        if len(names) <= 2:
            return " and ".join(names)
        return ", ".join(names[:-1]) + " and " + names[-1]
    from babel.lists import format_list

    return str(format_list(list(names), locale=babel_locale(language)))


def babel_locale(language: str) -> str:
    """The Babel locale for a BCP 47 tag ("pt-BR" → "pt_BR"; unknown → the language; else "en")."""
    from babel import Locale, UnknownLocaleError

    for name in candidates(language):
        try:
            Locale.parse(name)
        except (UnknownLocaleError, ValueError):
            continue
        return name
    return SOURCE_LANGUAGE


def N_(message: str) -> str:
    """Marks `message` for extraction where it is translated later (labels in tables)."""
    return message
