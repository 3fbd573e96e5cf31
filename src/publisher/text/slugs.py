"""Slugs: the file-system and URL safe name of a publication."""

from __future__ import annotations

import re
import unicodedata


def slugify(name: str, max_length: int = 60) -> str:
    """A file-system and URL safe slug: lower-case ASCII letters, digits and hyphens; other scripts
    transliterated ("Война и мир" → "voina-i-mir", "Straße" → "strasse")."""
    from unidecode import unidecode

    ascii_name = unidecode(unicodedata.normalize("NFC", name))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    slug = slug[:max_length].rstrip("-") or "untitled"
    if slug in RESERVED_NAMES:  # Windows device names: such a folder cannot be copied to Windows
        slug += "-text"
    return slug


#: names Windows reserves for devices (with any extension); no output folder may be called so
RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
