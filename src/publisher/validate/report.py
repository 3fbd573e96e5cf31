"""One validator's verdict on one file: what every check returns and `publisher check` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Report:
    """One validator's verdict on one file."""

    path: Path
    check: str
    ok: bool
    summary: str
    messages: list[str] = field(default_factory=list)
