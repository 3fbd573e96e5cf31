"""publisher: one text source in, an accessible EPUB 3 and narrated MP3 chapters out."""

#: the one place the version is written (pyproject.toml reads it from here); a literal, because
#: asking importlib.metadata costs 35 ms on every run
__version__ = "0.2.0"

__all__ = ["__version__"]
