"""Images on the web pages: covers with their pixel size, and the text's images copied under content names."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from publisher.errors import RenderError

IMAGE_DIR = "images"


@dataclass(frozen=True)
class Picture:
    """An `<img class="cover">`: address, text alternative and pixel size (when the file can be read)."""

    src: str
    alt: str
    width: int | None
    height: int | None


def image_size(path: Path) -> tuple[int, int] | None:
    """The pixel size of an image file, or None when it cannot be read as one."""
    try:
        with Image.open(path) as img:
            return img.size
    except OSError:
        return None


def cover_picture(folder: Path, name: str, alt: str, href_prefix: str = "") -> Picture:
    """The cover `folder/name` as a page shows it, linked as `href_prefix + name`."""
    size = image_size(folder / name)
    return Picture(href_prefix + name, alt, *(size or (None, None)))


class PageImages:
    """Images of the text, copied into `<folder>/images/` under names taken from their content."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names: dict[str, str] = {}

    def href(self, src: str) -> str:
        """The page's address of the image at `src` (copied on first use)."""
        if src not in self.names:
            path = Path(src)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise RenderError(f"cannot read image: {exc.strerror or exc}", path=path) from exc
            name = f"{IMAGE_DIR}/{hashlib.sha256(data).hexdigest()[:16]}{path.suffix.lower()}"
            target = self.folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            self.names[src] = name
        return self.names[src]
