"""Clean text: the characters XML forbids removed, white space collapsed, what an engine is given."""

from __future__ import annotations

import re

_WS = re.compile(r"\s+")

#: characters no XML document may hold (and that never belong in prose): C0 controls other than
#: tab and newline, DEL, lone surrogates and the noncharacters U+FFFE/U+FFFF
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 forbids."""
    return _NOT_XML.sub("", text)


def collapse_ws(text: str) -> str:
    """Collapse every run of white space to one space and strip the ends."""
    return _WS.sub(" ", text).strip()


def spoken_text(text: str) -> str:
    """What the engine is given for a sentence: display text with layout-only characters removed."""
    text = text.replace("\u00ad", "")  # soft hyphens
    text = re.sub(r"[\u200b-\u200f\u2060\ufeff]", "", text)  # zero-width characters
    return collapse_ws(text)
