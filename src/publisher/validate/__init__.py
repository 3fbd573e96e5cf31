"""Validators: EPUBCheck, DAISY Ace, media overlays, tags, DAISY 2.02, audiobook packages, feeds."""
