"""Images of the text copied into an output: each source read once (an SVG made safe), named in order or by content."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from publisher.errors import RenderError
from publisher.sanitise import UnsafeSvg, sanitise_svg

IMAGE_DIR = "images"


@dataclass(frozen=True)
class CopiedImage:
    """One source image as the output holds it."""

    number: int  # 1, 2, … in order of first appearance
    name: str  # its path inside the output, e.g. images/img-001.png
    data: bytes
    media_type: str  # from the file name; application/octet-stream when unknown


#: how an image is named inside the output, from (number, source path, bytes)
Naming = Callable[[int, Path, bytes], str]


def numbered(number: int, path: Path, data: bytes) -> str:
    """images/img-001.png: names in order of appearance (EPUB, DAISY)."""
    return f"{IMAGE_DIR}/img-{number:03d}{path.suffix.lower()}"


def by_content(number: int, path: Path, data: bytes) -> str:
    """images/<16 hex digits of SHA-256>.png: a name that changes only when the image does (web pages)."""
    return f"{IMAGE_DIR}/{hashlib.sha256(data).hexdigest()[:16]}{path.suffix.lower()}"


class ImageCopies:
    """The images of a text, collected as the renderer meets them (`href` is the `ImageHref` for
    `xhtml.render_blocks`). With a `folder`, each one is also written there under its name;
    `prefix` is what an href puts before the name (e.g. "../" from the EPUB's text/ folder)."""

    def __init__(self, folder: Path | None = None, naming: Naming = numbered, prefix: str = "") -> None:
        self.folder = folder
        self.naming = naming
        self.prefix = prefix
        self._copies: dict[str, CopiedImage] = {}

    def href(self, src: str) -> str:
        """The link to the image at `src` from the documents that show it (see `name`)."""
        return self.prefix + self.name(src)

    def name(self, src: str) -> str:
        """The name inside the output of the image at `src` (an absolute path), copying it the first time."""
        if src not in self._copies:
            path = Path(src)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise RenderError(f"cannot read image: {exc.strerror or exc}", path=path) from exc
            if path.suffix.lower() == ".svg":  # never a script, handler or outside reference in a copy
                try:
                    data = sanitise_svg(data).data
                except UnsafeSvg as exc:
                    raise RenderError(f"the SVG image cannot be made safe: {exc}", path=path) from exc
            number = len(self._copies) + 1
            name = self.naming(number, path, data)
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if self.folder is not None:
                target = self.folder / name
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                except OSError as exc:
                    raise RenderError(f"cannot write image: {exc.strerror or exc}", path=target) from exc
            self._copies[src] = CopiedImage(number, name, data, media_type)
        return self._copies[src].name

    def __iter__(self) -> Iterator[CopiedImage]:
        """The copies in order of first appearance."""
        return iter(self._copies.values())
