"""Speech: engines behind one protocol, and narration of a Publication into timed audio."""
