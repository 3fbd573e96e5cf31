"""The catalogue renderers, run once per batch over every publication in `output/`.

Each takes the entries (read back from every publication's manifest), the output folder and the
settings, and returns the files it wrote. Files are written atomically (temporary name, then
rename), so a reader of the web folder never sees half a feed.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from publisher.pipeline.manifest import CatalogueEntry, load_entries
from publisher.settings import Settings

CatalogueRenderer = Callable[[list[CatalogueEntry], Path, Settings], list[Path]]

#: "module:function" of each catalogue renderer, imported when the catalogue is written (the
#: renderers import write_atomic from here, so they cannot be imported at the top of this module)
CATALOGUE_RENDERERS: list[str] = [
    "publisher.formats.web.feed:write_feeds",
    "publisher.formats.web.opds:write_opds",
    "publisher.formats.web.site:write_index",
]


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_catalogue(output: Path, settings: Settings) -> list[Path]:
    """Feeds, catalogue and index page for everything published in `output/`."""
    entries = load_entries(output)
    written: list[Path] = []
    for name in CATALOGUE_RENDERERS:
        module, _, function = name.partition(":")
        render: CatalogueRenderer = getattr(importlib.import_module(module), function)
        written.extend(render(entries, output, settings))
    return written
