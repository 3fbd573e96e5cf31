"""Renderers of every output format, and the one registry that lists them with the files they write."""
