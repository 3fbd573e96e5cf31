"""Which voice speaks a language: BCP 47 fallback matching (case-insensitive) over eSpeak NG's
languages and the Piper voices of a voices folder (`<name>.onnx` + `<name>.onnx.json`)."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: macrolanguages and old codes as eSpeak NG and Piper name them
_ALIASES = {"zh": ["cmn"], "iw": ["he"], "in": ["id"], "no": ["nb"], "ji": ["yi"], "fil": ["tl"], "ms": ["zlm"]}
_CANTONESE_REGIONS = {"hk", "mo"}


def tag_chain(tag: str) -> list[str]:
    """The tags to try for `tag`, most specific first, lower-case: "pt-BR" → ["pt-br", "pt"];
    "zh-Hans-CN" → ["zh-hans-cn", "zh-hans", "zh", "cmn"]; "deu" → ["de"]; "zh-HK" → [… "yue"]."""
    import langcodes

    raw = tag.replace("_", "-").strip().lower()
    with contextlib.suppress(ValueError):
        raw = langcodes.standardize_tag(raw).lower()
    parts = [p for p in raw.split("-") if p]
    chain = ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]
    if parts and parts[0] == "zh" and _CANTONESE_REGIONS & set(parts[1:]):
        chain.insert(len(chain) - 1, "yue")  # Hong Kong and Macau speak Cantonese
    if parts:
        chain.extend(_ALIASES.get(parts[0], []))
    return list(dict.fromkeys(chain))


@dataclass(frozen=True)
class Offer:
    """A voice and the languages it speaks, with eSpeak-style priorities (lower is better)."""

    name: str
    languages: tuple[tuple[str, int], ...]


def match(tag: str, offers: Iterable[Offer]) -> str | None:
    """The voice for `tag`: one named exactly so (any case), else the best voice for the most
    specific tag of its fallback chain (pt-BR → pt; sr-Latn → sr; zh-Hans → zh → cmn)."""
    offers = list(offers)
    wanted = tag.replace("_", "-").lower()
    for offer in offers:
        if offer.name.lower() == wanted:
            return offer.name
    for candidate in tag_chain(tag):
        ranked = [
            (priority, offer.name)
            for offer in offers
            for language, priority in offer.languages
            if language.replace("_", "-").lower() == candidate
        ]
        named = [offer.name for offer in offers if offer.name.lower() == candidate]
        if named:
            return named[0]
        if ranked:
            return min(ranked)[1]
    return None


@dataclass(frozen=True)
class PiperVoiceFile:
    """A Piper voice in a voices folder: `<name>.onnx` with its `<name>.onnx.json`."""

    name: str  # "de_DE-thorsten-medium"
    model: Path
    language: str  # BCP 47 ("de-DE")


def piper_voices(folder: Path | None) -> list[PiperVoiceFile]:
    """Every Piper voice in `folder` (models without their .onnx.json are skipped with a warning)."""
    if folder is None or not folder.is_dir():
        return []
    found = []
    for model in sorted(folder.glob("*.onnx")):
        config = model.with_name(model.name + ".json")
        if not config.is_file():
            log.warning("%s: no %s beside it; not a usable Piper voice", model, config.name)
            continue
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
            code = data.get("language", {}).get("code") or data["espeak"]["voice"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            log.warning("%s: unreadable voice config; skipped", config)
            continue
        found.append(PiperVoiceFile(model.stem, model, str(code).replace("_", "-")))
    return found


def piper_offers(voices: list[PiperVoiceFile]) -> list[Offer]:
    """Piper voices as offers: each speaks its language (and, less well, the language's primary tag)."""
    return [Offer(v.name, ((v.language, 1), (v.language.split("-")[0], 2))) for v in voices]


def find_piper_voice(voice: str, folder: Path | None) -> Path | None:
    """A Piper voice named `voice` ("de_DE-thorsten-medium") or speaking `voice` (a language tag) in
    `folder`; None when there is none."""
    voices = piper_voices(folder)
    name = match(voice, piper_offers(voices))
    return next((v.model for v in voices if v.name == name), None)
