"""Proof-listening: transcribe published narration offline and find the sentences it got wrong.

asr (which Whisper model, loading it, windowed transcription with word timestamps), compare (the
ASR text normaliser and word alignment), score (heard words → sentences, WER per chapter, flagged
sentences), suggest (lexicon suggestions with the voice's phonemes), report (run it on a
publication folder; JSON and terminal summary), page (proof.html). Needs the `proof` extra.
"""
