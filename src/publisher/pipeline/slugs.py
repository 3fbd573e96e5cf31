"""Who owns an output folder: a source may only replace a publication that was published from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from publisher.errors import SourceError


def recorded_source(manifest: dict[str, Any] | None) -> str | None:
    """The file name of the source a manifest says its publication came from (None: not recorded)."""
    source = manifest.get("source") if manifest else None
    return source if isinstance(source, str) and source else None


def check_owner(manifest: dict[str, Any] | None, source: Path, folder: Path) -> None:
    """Raise SourceError when `folder` holds a publication of another source (by file name), so a
    second "Война и мир.md" never overwrites the `voina-i-mir` a "voina-i-mir.txt" made."""
    owner = recorded_source(manifest)
    if owner is not None and owner != source.name:
        raise SourceError(
            f"its slug {folder.name!r} is already published in {folder} from {owner!r}; rename one of "
            f"them, or publish this one under another name with --slug NAME",
            path=source,
        )
