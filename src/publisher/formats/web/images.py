"""Images on the web pages: covers with their pixel size, and the text's images copied under content names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

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
