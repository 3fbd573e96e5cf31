"""The pronunciation lexicon: whole-word, case-aware replacements applied to spoken text.

Two file formats:

* plain text (``lexicon.txt``), one entry a line, ``#`` starts a comment::

      Putin: [[ pˈuːtɪn ]] | Pootin     # IPA for Piper, a respelling for other engines
      Houthis: Hoothees                 # a respelling works with every engine
      nginx: engine x                   # all lower case: matched in any case

* W3C PLS 1.0 (``*.pls``): ``<lexeme>`` with ``<grapheme>``, ``<phoneme>`` (IPA) and ``<alias>``.

A key with capitals matches that exact case; an all-lower-case key matches any case. Possessives
("Putin's") keep their ending.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from publisher.errors import ConfigError
from publisher.xmlns import PLS


@dataclass(frozen=True)
class LexiconEntry:
    """How to say one word: IPA phonemes (Piper) and/or a respelling (any engine)."""

    phonemes: str | None = None
    respelling: str | None = None


@dataclass
class Lexicon:
    """Word → LexiconEntry, applied longest word first."""

    entries: dict[str, LexiconEntry] = field(default_factory=dict)

    def merged(self, other: Lexicon) -> Lexicon:
        """A lexicon with `other`'s entries over this one's."""
        return Lexicon({**self.entries, **other.entries})

    def fingerprint(self) -> str:
        """A stable text form, for cache keys."""
        return "\n".join(f"{k}\t{e.phonemes}\t{e.respelling}" for k, e in sorted(self.entries.items()))

    def apply(self, text: str, phonemes: bool) -> str:
        """Replace every listed word in `text`; `phonemes` says whether the engine reads [[ IPA ]]."""
        for word in sorted(self.entries, key=len, reverse=True):
            entry = self.entries[word]
            replace: Callable[[re.Match[str]], str]
            if phonemes and entry.phonemes:

                def to_ipa(m: re.Match[str], ipa: str = entry.phonemes) -> str:
                    return f"[[ {ipa}{'z' if m.group(1) else ''} ]]"

                replace = to_ipa
            elif entry.respelling:

                def to_words(m: re.Match[str], words: str = entry.respelling) -> str:
                    return words + (m.group(1) or "")

                replace = to_words
            else:
                continue
            flags = 0 if word != word.lower() else re.IGNORECASE
            pattern = rf"(?<![\w\[]){re.escape(word)}(['’]s)?(?![\w\]])"
            if _NO_SPACES.search(word):  # no spaces around words to find: "年老いた" in "年老いた漁師"
                pattern = rf"{re.escape(word)}()"
            text = re.sub(pattern, replace, text, flags=flags)
        return text


# scripts written without spaces between words (CJK ideographs, kana, Thai, Lao, Myanmar, Khmer):
# an entry in them matches wherever it stands, since there is no word boundary to look for
_NO_SPACES = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]"
)


def parse_entry(value: str) -> LexiconEntry:
    """ "[[ ipa ]] | respelling", "[[ ipa ]]" or "respelling"."""
    phonemes = respelling = None
    for part in (p.strip() for p in value.split("|")):
        match = re.fullmatch(r"\[\[\s*(.+?)\s*\]\]", part)
        if match:
            phonemes = match.group(1)
        elif part:
            respelling = part
    return LexiconEntry(phonemes, respelling)


def from_mapping(data: Mapping[str, object], origin: str) -> Lexicon:
    """A lexicon from front matter: ``lexicon: {Putin: "[[ pˈuːtɪn ]]"}``."""
    entries = {}
    for key, value in data.items():
        if not isinstance(value, str) or not str(key).strip():
            raise ConfigError(f"{origin}: lexicon entry {key!r} must map a word to a string")
        entries[str(key).strip()] = parse_entry(value)
    return Lexicon(entries)


def load_lexicon(path: Path) -> Lexicon:
    """Read a plain-text or PLS lexicon file; every malformed line is reported together."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the lexicon: {exc.strerror or exc}") from exc
    if path.suffix.lower() == ".pls":
        return _load_pls(raw, path)
    entries: dict[str, LexiconEntry] = {}
    problems = []
    for n, line in enumerate(raw.decode("utf-8-sig").splitlines(), start=1):
        line = re.sub(r"\s+#.*$|^#.*$", "", line).strip()
        if not line:
            continue
        word, sep, value = line.partition(":")
        if not sep or not word.strip() or not value.strip():
            problems.append(f"line {n}: expected 'word: pronunciation'")
            continue
        entries[word.strip()] = parse_entry(value)
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return Lexicon(entries)


def _load_pls(raw: bytes, path: Path) -> Lexicon:
    try:
        root = etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"{path}: not a valid PLS file: {exc}") from exc
    ns = {"p": PLS}
    entries = {}
    for lexeme in root.iterfind("p:lexeme", ns):
        phoneme = lexeme.findtext("p:phoneme", namespaces=ns)
        alias = lexeme.findtext("p:alias", namespaces=ns)
        for grapheme in lexeme.iterfind("p:grapheme", ns):
            if grapheme.text and grapheme.text.strip():
                entries[grapheme.text.strip()] = LexiconEntry(
                    phoneme.strip() if phoneme else None, alias.strip() if alias else None
                )
    return Lexicon(entries)


#: the lexicon files a publish looks for in the working folder when settings name none, in order
LEXICON_NAMES = ("lexicon.txt", "lexicon.pls")


def project_lexicon_file(named: Path | None, cwd: Path | None = None) -> Path | None:
    """The lexicon file a publish reads: the one named in settings, else lexicon.txt or lexicon.pls
    in the working folder (the first there is), else None."""
    if named is not None:
        return named
    for name in LEXICON_NAMES:
        candidate = (cwd or Path.cwd()) / name
        if candidate.is_file():
            return candidate
    return None


def load_project_lexicon(named: Path | None, cwd: Path | None = None) -> Lexicon:
    """The project's lexicon (see project_lexicon_file); an empty one when there is none."""
    found = project_lexicon_file(named, cwd)
    return load_lexicon(found) if found is not None else Lexicon()
