"""formats/images.py: the images of a text, copied once each into the EPUB, the DAISY book or a page."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tests.conftest import FIXTURES

from publisher.errors import RenderError
from publisher.formats.images import ImageCopies, by_content


def test_numbered_in_order_of_first_appearance(tmp_path: Path) -> None:
    gif = tmp_path / "b.GIF"
    gif.write_bytes(b"GIF89a")
    images = ImageCopies(prefix="../")
    png = str(FIXTURES / "engine.png")
    assert images.href(png) == "../images/img-001.png"
    assert images.name(str(gif)) == "images/img-002.gif"
    assert images.href(png) == "../images/img-001.png"  # read once
    copies = list(images)
    assert [(c.number, c.name, c.media_type) for c in copies] == [
        (1, "images/img-001.png", "image/png"),
        (2, "images/img-002.gif", "image/gif"),
    ]
    assert copies[0].data == (FIXTURES / "engine.png").read_bytes()


def test_written_into_a_folder(tmp_path: Path) -> None:
    images = ImageCopies(tmp_path / "book")
    name = images.name(str(FIXTURES / "engine.png"))
    assert (tmp_path / "book" / name).read_bytes() == (FIXTURES / "engine.png").read_bytes()


def test_named_by_content(tmp_path: Path) -> None:
    data = (FIXTURES / "engine.png").read_bytes()
    images = ImageCopies(tmp_path, naming=by_content)
    assert images.name(str(FIXTURES / "engine.png")) == f"images/{hashlib.sha256(data).hexdigest()[:16]}.png"


def test_a_missing_image_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="cannot read image") as caught:
        ImageCopies().name(str(tmp_path / "gone.png"))
    assert "gone.png" in str(caught.value)
