"""Catalogue files at scale: pagination (one definition for every paginated document) and a
render cache, so re-publishing one title of thousands rewrites only the pages that show it.

Large catalogues are split into pages the same way everywhere (site feed, OPDS 1.2 and 2.0, the
index page): `page_size` entries per page in catalogue order (newest first, then by title); page 1
keeps the plain name (`feed.xml`, `opds.xml`, `index.html`) and page n ≥ 2 is `<stem>-<n><suffix>`
(`feed-2.xml`, `opds-2.xml`, `index-2.html`). `paged_name` and `pages` are the one definition.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from publisher import __version__
from publisher.files import remove, write_atomic
from publisher.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


def paged_name(name: str, number: int) -> str:
    """The file name of page `number` (1-based) of a paginated document: "feed.xml", "feed-2.xml"."""
    if number == 1:
        return name
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}-{number}.{suffix}" if dot else f"{name}-{number}"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a paginated document: its items and where it sits among the others."""

    items: Sequence[T]
    number: int  # 1-based
    count: int  # how many pages there are (at least 1)
    total: int  # how many items across all pages
    size: int  # items per page

    def name(self, first: str) -> str:
        """This page's file name, given page 1's."""
        return paged_name(first, self.number)

    def neighbours(self, first: str) -> dict[str, str]:
        """File names by link relation (RFC 5005 §3 / RFC 8288): first, last, and prev/next when they exist."""
        links = {"first": paged_name(first, 1), "last": paged_name(first, self.count)}
        if self.number > 1:
            links["prev"] = paged_name(first, self.number - 1)
        if self.number < self.count:
            links["next"] = paged_name(first, self.number + 1)
        return links


def pages(items: Sequence[T], size: int) -> list[Page[T]]:
    """`items` cut into pages of `size` (one empty page when there are none)."""
    size = max(1, size)
    count = max(1, -(-len(items) // size))
    return [Page(items[i * size : (i + 1) * size], i + 1, count, len(items), size) for i in range(count)]


def remove_stale_pages(folder: Path, first: str, keep: int) -> None:
    """Delete pages beyond `keep` left by a larger catalogue ("feed-7.xml" when there are now 6)."""
    stem, _, suffix = first.rpartition(".")
    for path in folder.glob(f"{stem}-*.{suffix}"):
        number = path.name[len(stem) + 1 : -len(suffix) - 1]
        if number.isdigit() and int(number) > keep:
            remove(path)
            log.info("removed %s (the catalogue has %d pages now)", path, keep)


class RenderCache:
    """What each catalogue file was last rendered from, kept in `output/.publisher-<name>.json` (hidden,
    never served), so a file whose inputs have not changed is not even rendered again.

    A key covers the publisher version and every setting that changes an output (not those of how a run works:
    jobs, cluster, cache, force), so an upgrade or a new base_url renders everything; `force` ignores the
    cache; a file deleted by hand is written again.
    """

    def __init__(self, output: Path, name: str, settings: Settings) -> None:
        self.path = output / f".publisher-{name}.json"
        self.salt = f"{__version__}\n{sorted(settings.output_values().items())!r}"  # not how the run works
        self.keys: dict[str, str] = {}
        if not settings.force:
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
                self.keys = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                self.keys = {}
        self.seen: dict[str, str] = {}

    def key(self, *parts: object) -> str:
        """The key of a file rendered from `parts` (strings, numbers, tuples of them)."""
        return hashlib.sha256(f"{self.salt}\n{parts!r}".encode()).hexdigest()

    def fresh(self, path: Path, key: str) -> bool:
        """Whether `path` exists and was last rendered from `key` (the key is remembered either way)."""
        name = path.relative_to(self.path.parent).as_posix()
        self.seen[name] = key
        return self.keys.get(name) == key and path.is_file()

    def save(self) -> None:
        """Remember the keys of this run's files (only those: files no longer written are forgotten)."""
        data = json.dumps(self.seen, sort_keys=True, separators=(",", ":")).encode()
        write_atomic(self.path, data)
