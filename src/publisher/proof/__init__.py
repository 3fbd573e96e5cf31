"""Proof-listening: transcribe published narration offline and find the sentences it got wrong.

asr (which Whisper model, loading it, windowed transcription with word timestamps), compare (the
ASR text normaliser and word alignment), forced (the written text teacher-forced on a sentence's
audio: each word's probability), verdict (the evidence per word → confidence and reason), score
(heard words → sentences, WER per chapter), suggest (lexicon suggestions with the voice's
phonemes), report (run it on a publication folder; JSON and terminal summary), page (proof.html),
clip (`score_clip`: one sentence on its own, for the studio), evaluate (injected misreadings:
recall, precision). Needs the `proof` extra.
"""

from publisher.proof.clip import SentenceScore, score_clip

__all__ = ["SentenceScore", "score_clip"]
