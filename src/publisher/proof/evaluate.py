"""Evaluating proof-listening: misreadings injected through the lexicon, and how many of them the report finds.

An injection is a lexicon entry that makes the voice say a word wrong, so the narration really
says the wrong thing while the text (and so the expected text) stays right. Gross misreadings
say another word ("Biden" as "bacon"); subtle ones say the word as a careless narrator or a
voice's letter-to-sound rules would ("subtle" with its "b", "Moscow" stressed on the second
syllable, "nuclear" as "nucular"). The sets below were made for the seed text
(sources/putin-today.txt) and the default Piper voice; `inject` writes them into a lexicon.

Scored per sentence: a sentence holding an injected word is a positive. Recall is the share of
positives flagged; precision the share of flagged sentences that are positive; `named` counts
positives whose flag names the injected word among its triggers. Flags of sentences the clean
build flags too are counted apart (`clean_flags`): they are the narration's own findings, judged
by a person (BENCHMARKS.md), not noise of the injection.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# word → what the voice is made to say: IPA for Piper | a respelling for other engines (eSpeak NG)
GROSS = {  # another word: what a listener hears at once
    "Vietnam": "Vermont",
    "alarms": "charms",
    "invasion": "vacation",
    "Biden": "bacon",
    "victory": "factory",
    "tactic": "tadpole",
    "permission": "submarine",
    "Moscow": "Boston",
}
SUBTLE = {  # the word said wrong, as narrators and letter-to-sound rules do: one word per sentence
    "reviving": "[[ ɹᵻvˈiːvɪŋ ]] | reveeving",  # re-VEE-ving
    "loosening": "[[ lˈuːzənɪŋ ]] | loozening",  # a z for the s
    "severe": "[[ sˈɛvɚ ]] | sevver",  # SEV-er
    "Biden": "[[ bˈɪdən ]] | Bidden",  # BID-en
    "tactic": "[[ tæktˈiːk ]] | tacteek",  # tac-TEEK
    "Moscow": "[[ məskˈaʊ ]] | muhscow",  # muh-SCOW
    "sabotage": "[[ sˈæbətˌɪdʒ ]] | sabbotidge",  # SAB-o-tidge
    "subtle": "[[ sˈʌbtəl ]] | subbtle",  # the b said
}
SUBTLE_COMMON = {  # the examples: frequent words, a vowel or a syllable off
    "nuclear": "[[ nˈuːkjʊlɚ ]] | nucular",  # NOO-kyuh-ler
    "Korea": "[[ kˈɔɹiə ]] | Korria",  # KOR-ia
    "Ukrainian": "[[ ʌkɹˈeɪniən ]] | Ukranian",  # uh-KRAY-nian
}
SETS = {"gross": GROSS, "subtle": SUBTLE, "subtle-common": SUBTLE_COMMON}


def inject(lexicon_text: str, injections: Mapping[str, str]) -> str:
    """A lexicon (`lexicon.txt` text) with the injected entries added (replacing any of the same word)."""
    keys = {k.casefold() for k in injections}
    kept = [
        line
        for line in lexicon_text.splitlines()
        if not line.strip() or line.lstrip().startswith("#") or line.split(":")[0].strip().casefold() not in keys
    ]
    return "\n".join([*kept, *(f"{word}: {say}" for word, say in injections.items())]) + "\n"


def holds(text: str, word: str) -> bool:
    """Whether `text` holds `word` as the lexicon matches it (whole word; a key with capitals in that case only)."""
    flags = re.IGNORECASE if word == word.lower() else 0
    return re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text, flags) is not None


@dataclass(frozen=True)
class Evaluation:
    """What a proof report found of one set of injections."""

    positives: int  # sentences holding an injected word
    found: int  # of them flagged
    named: int  # of them flagged with the injected word among the triggers
    flagged: int  # sentences flagged in all
    clean_flags: int  # flagged sentences the clean build flags too (the narration's own findings)
    top: int  # how many of the first flags were looked at (N)
    top_real: int  # of them positive, or flagged in the clean build too
    top_injected: int  # of them positive
    missed: list[str]  # positive sentence ids not flagged

    @property
    def recall(self) -> float:
        """Positives flagged / positives."""
        return self.found / self.positives if self.positives else 1.0

    @property
    def precision(self) -> float:
        """Positive flags / flags beyond the clean build's own."""
        other = self.flagged - self.clean_flags
        return self.found / other if other > 0 else 1.0

    def to_json(self) -> dict[str, Any]:
        """As plain JSON data."""
        return {
            "positives": self.positives, "found": self.found, "named": self.named, "flagged": self.flagged,
            "clean_flags": self.clean_flags, "recall": round(self.recall, 3), "precision": round(self.precision, 3),
            f"top{self.top}_real": self.top_real, f"top{self.top}_injected": self.top_injected, "missed": self.missed,
        }  # fmt: skip


def evaluate(
    flagged: Sequence[Mapping[str, Any]],
    sentences: Mapping[str, str],
    injections: Iterable[str],
    clean: Iterable[str] = (),
    top: int = 8,
) -> Evaluation:
    """Score a report's `flagged` entries (proof.json's, in rank order) against the injected words.

    `sentences` maps every sentence id to its text; `clean` holds the ids the clean build flags."""
    words = list(injections)
    positives = {sid: [w for w in words if holds(text, w)] for sid, text in sentences.items()}
    positives = {sid: ws for sid, ws in positives.items() if ws}
    clean_ids = set(clean)
    found = named = 0
    for entry in flagged:
        injected = positives.get(str(entry["sentence"]))
        if not injected:
            continue
        found += 1
        triggers = [str(w.get("word", "")) for w in entry.get("words", [])]
        if any(holds(t, w) for t in triggers for w in injected):
            named += 1
    head = [str(e["sentence"]) for e in flagged[:top]]
    flagged_ids = {str(e["sentence"]) for e in flagged}
    return Evaluation(
        positives=len(positives),
        found=found,
        named=named,
        flagged=len(flagged),
        clean_flags=sum(1 for sid in flagged_ids if sid in clean_ids and sid not in positives),
        top=top,
        top_real=sum(1 for sid in head if sid in positives or sid in clean_ids),
        top_injected=sum(1 for sid in head if sid in positives),
        missed=sorted(sid for sid in positives if sid not in flagged_ids),
    )
