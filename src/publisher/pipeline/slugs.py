"""Who owns an output folder: a source may only replace a publication that was published from it."""

from __future__ import annotations

from pathlib import Path

from publisher.errors import SourceError
from publisher.manifest import Manifest


def recorded_source(manifest: Manifest | None) -> str | None:
    """The file name of the source a manifest says its publication came from (None: not recorded)."""
    return manifest.source or None if manifest else None


def check_owner(manifest: Manifest | None, source: Path, folder: Path) -> None:
    """Raise SourceError when `folder` holds a publication of another source (by file name), so a
    second "Война и мир.md" never overwrites the `voina-i-mir` a "voina-i-mir.txt" made."""
    owner = recorded_source(manifest)
    if owner is not None and owner != source.name:
        raise SourceError(
            f"its slug {folder.name!r} is already published in {folder} from {owner!r}; rename one of "
            f"them, or publish this one under another name with --slug NAME",
            path=source,
        )
