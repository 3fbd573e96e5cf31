"""Lexicon suggestions: words the recogniser missed in two or more places, with the phonemes the voice used.

A word missed once may be the recogniser's slip; a name missed wherever it occurs is the voice's
pronunciation. Each suggestion is a `lexicon.txt` line ready to edit: the word, the eSpeak NG
phonemes Piper was given for it (the voice's own reading, to correct), and a respelling slot.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from publisher.prepare.lexicon import Lexicon
from publisher.proof.compare import normalise_words
from publisher.proof.score import SentenceResult

log = logging.getLogger(__name__)

MIN_PLACES = 2  # sentences in which the word was missed
MIN_SHARE = 0.25  # of the sentences holding the word


@dataclass(frozen=True)
class Suggestion:
    """A word to add to (or correct in) the pronunciation lexicon."""

    word: str  # as written in the text
    places: list[str]  # sentence ids where it was missed
    occurrences: int  # sentences that contain it
    heard: list[str]  # what was heard instead, most common first
    phonemes: str  # IPA the voice was given (eSpeak NG's reading, or the lexicon's)
    in_lexicon: bool

    @property
    def line(self) -> str:
        """A `lexicon.txt` line to edit: `word: [[ IPA ]] | respelling`."""
        return f"{self.word}: [[ {self.phonemes} ]] | {self.word}"


def espeak_voice(language: str) -> str:
    """The eSpeak NG voice whose phonemes the narration used for `language` (Piper's en voice is en-us)."""
    lang = language.lower()
    if lang in ("en", "en-us") or lang.startswith("en-us"):
        return "en-us"
    if lang.startswith("en-gb"):
        return "en"
    return lang.split("-")[0]


@functools.lru_cache(maxsize=4096)
def phonemes(word: str, voice: str) -> str:
    """eSpeak NG's IPA for `word` as Piper's phonemizer produces it ("" when eSpeak is unusable here)."""
    try:
        from piper.phonemize_espeak import EspeakPhonemizer
    except ImportError:
        return ""
    try:
        sentences = _phonemizer(EspeakPhonemizer).phonemize(voice, word)
    except Exception as exc:  # an unknown voice: say so once, suggest without phonemes
        log.warning("eSpeak NG cannot phonemize with voice %s: %s", voice, exc)
        return ""
    text = "".join("".join(s) for s in sentences)
    return re.sub(r"[.,;:!?]", "", text).strip()


@functools.lru_cache(maxsize=1)
def _phonemizer(cls: type) -> Any:
    return cls()


def _written_form(word: str, text: str) -> str | None:
    """`word` (normalised, lower case) as it is written in `text`, or None when the text spells it otherwise."""
    match = re.search(rf"(?<![\w']){re.escape(word)}(?![\w])", text.replace("’", "'"), flags=re.IGNORECASE)
    return match.group(0) if match else None


def suggest(
    results: Sequence[SentenceResult], language: str, lexicon: Lexicon | None = None, voice: str | None = None
) -> list[Suggestion]:
    """Words heard as something else in at least MIN_PLACES sentences and MIN_SHARE of the sentences holding them."""
    occurrences: Counter[str] = Counter()
    places: dict[str, list[str]] = defaultdict(list)
    heard: dict[str, Counter[str]] = defaultdict(Counter)
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    for result in results:
        occurrences.update(set(normalise_words(result.cue.text, language)))
        if result.alignment is None:
            continue
        for word, instead in result.alignment.missed:
            form = _written_form(word, result.cue.text)
            # heard as something else: a word that is simply not heard is more often cut off than misread
            if not instead or form is None or len(word) < 3 or not word.isalpha():
                continue
            if result.cue.sentence_id not in places[word]:
                places[word].append(result.cue.sentence_id)
            heard[word][instead] += 1
            forms[word][form] += 1
    voice = voice or espeak_voice(language)
    entries = {k.lower(): v for k, v in (lexicon.entries if lexicon else {}).items()}
    out = []
    for word, where in places.items():
        if len(where) < MIN_PLACES or len(where) < MIN_SHARE * occurrences[word]:
            continue
        form = forms[word].most_common(1)[0][0]
        entry = entries.get(word)
        ipa = entry.phonemes if entry and entry.phonemes else phonemes(form, voice)
        out.append(
            Suggestion(
                form, where, occurrences[word], [h for h, _ in heard[word].most_common()], ipa, entry is not None
            )
        )
    out.sort(key=lambda s: (-len(s.places), s.word.casefold()))
    return out
