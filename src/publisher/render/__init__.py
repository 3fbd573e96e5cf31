"""Renderers: each is a function of Publication + Narration + Settings that writes one format."""
