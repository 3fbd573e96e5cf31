"""Whether the catalogue in output/ (feeds, OPDS, index page) was written whole from the publications there now."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from publisher.model import layout
from publisher.validate.report import Report


def _manifests(output: Path) -> dict[str, str]:
    """SHA-256 of every publication's manifest, by folder (read as the catalogue stage reads them)."""
    found = {}
    for folder in sorted(output.iterdir()):
        manifest = folder / layout.MANIFEST
        if folder.is_dir() and not folder.name.startswith(".") and manifest.is_file():
            found[folder.name] = hashlib.sha256(manifest.read_bytes()).hexdigest()
    return found


def is_output_folder(path: Path) -> bool:
    """An output folder: one holding publications (or a catalogue record), not a publication itself."""
    if not path.is_dir() or (path / layout.MANIFEST).is_file():
        return False
    return (path / layout.CATALOGUE_RECORD).is_file() or bool(_manifests(path))


def check_catalogue(output: Path) -> Report:
    """The catalogue's record (written last, after every catalogue file) against the manifests now
    in `output`: missing, it was interrupted while being written; different, publications were
    published, changed or removed after it. Either way the next `publisher publish` rewrites it."""
    now = _manifests(output)
    record = output / layout.CATALOGUE_RECORD
    again = "the next `publisher publish` writes it again"
    try:
        made = json.loads(record.read_text(encoding="utf-8"))["publications"]
        if not isinstance(made, dict):
            raise TypeError("publications is not a mapping")
    except FileNotFoundError:
        return Report(
            output, "catalogue", False,
            f"stale: no record that it was written whole (interrupted, or written by an older publisher); {again}",
            [f"{len(now)} publications in {output}"],
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Report(output, "catalogue", False, f"stale: its record is unreadable ({exc}); {again}")
    messages = [f"not listed yet: {slug}" for slug in sorted(set(now) - set(made))]
    messages += [f"still listed, no longer published: {slug}" for slug in sorted(set(made) - set(now))]
    messages += [f"listed as it was before its last publish: {slug}" for slug in sorted(set(now) & set(made))
                 if now[slug] != made[slug]]  # fmt: skip
    if messages:
        return Report(output, "catalogue", False, f"stale: made before the last change to {output}; {again}", messages)
    return Report(output, "catalogue", True, f"{len(now)} publications, written whole from what is published")
