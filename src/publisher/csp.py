"""Content-Security-Policy helpers for the pages we write (read-along, catalogue, proof report)."""

from __future__ import annotations

import base64
import hashlib


def csp_hash(source: str) -> str:
    """The CSP source expression that allows one inline style or script: `'sha256-…'`."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode() + "'"
