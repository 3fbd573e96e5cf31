"""Audio engineering: mastering to a loudness target, segments encoded once, joins, tags and the M4B.

It turns the narration (chapter WAVs and cues) into the placed timeline every format reads."""
