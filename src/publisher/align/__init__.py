"""Recorded narration: a person's recording of a book aligned with its text, sentence by sentence.

`recording` finds, probes and streams the audio; `pieces` cuts it at silences while it streams;
`transcribe` hears each piece (faster-whisper word timestamps, cached by the recording's
content); `words` and `match` pair what was heard with what is written; `timing` turns the pairs
into each sentence's start and end, refined at the pauses, the rest interpolated; `report` and
`page` write alignment.json, alignment.html and the terminal summary; `run` is the whole chain.
"""
