"""The cover: the source's own image, or a generated square one with title and author."""

from __future__ import annotations

import hashlib
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

from publisher.i18n import translator
from publisher.model.publication import Cover, Metadata
from publisher.text import join_names

SIZE = 1600  # square, inside Apple Podcasts' 1400–3000 px

# dark backgrounds: white text on each has a contrast ratio above 7:1 (WCAG AAA)
_PALETTE = ["#1d3557", "#2b2d42", "#3d405b", "#264653", "#5f0f40", "#22223b", "#283618", "#370617"]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, max_size: int, width: int, max_lines: int) -> tuple[list[str], int]:
    """Largest font size (≤ max_size) at which `text` wraps into ≤ max_lines lines of `width` px."""
    size = max_size
    while size > 24:
        font = _font(size)
        avg = max(1.0, draw.textlength("abcdefghijklmnopqrstuvwxyz", font=font) / 26)
        lines = textwrap.wrap(text, width=max(4, int(width / avg))) or [text]
        if len(lines) <= max_lines and all(draw.textlength(ln, font=font) <= width for ln in lines):
            return lines, size
        size -= 8
    return textwrap.wrap(text, width=40)[:max_lines], size


def generate_cover(meta: Metadata) -> Cover:
    """A square JPEG cover: title large, author below, on a colour chosen from the title."""
    digest = hashlib.sha256(meta.title.encode()).digest()
    background = _PALETTE[digest[0] % len(_PALETTE)]
    image = Image.new("RGB", (SIZE, SIZE), background)
    draw = ImageDraw.Draw(image)
    margin = 140
    width = SIZE - 2 * margin
    lines, size = _fit(draw, meta.title, 170, width, 4)
    font = _font(size)
    line_height = int(size * 1.18)
    author_lines, author_size = _fit(draw, join_names(meta.authors), 90, width, 2) if meta.authors else ([], 0)
    total = len(lines) * line_height + 110 + len(author_lines) * int(author_size * 1.2)
    y = max(margin, (SIZE - total) // 2)
    for line in lines:
        draw.text((margin, y), line, font=font, fill="#ffffff")
        y += line_height
    draw.rectangle((margin, y + 30, margin + 240, y + 42), fill="#f1c40f")
    y += 110
    author_font = _font(max(author_size, 24))
    for line in author_lines:
        draw.text((margin, y), line, font=author_font, fill="#f1f1f1")
        y += int(author_size * 1.2)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=88, optimize=True)
    return Cover(buf.getvalue(), "image/jpeg", cover_alt(meta.title, meta.authors, meta.language))


def cover_alt(title: str, authors: list[str], language: str) -> str:
    """The cover's text alternative ("Cover of <title> by <authors>") in the publication's language."""
    _ = translator(language).gettext
    if authors:
        return _("Cover of {title} by {authors}", title=title, authors=join_names(authors, language))
    return _("Cover of {title}", title=title)


def load_cover(meta: Metadata) -> Cover:
    """The source's cover (converted to JPEG unless it is JPEG or PNG), or a generated one."""
    if meta.cover is None:
        return generate_cover(meta)
    alt = cover_alt(meta.title, meta.authors, meta.language)
    with Image.open(meta.cover) as img:
        if img.format in ("JPEG", "PNG"):
            return Cover(meta.cover.read_bytes(), f"image/{img.format.lower()}", alt)
        buf = io.BytesIO()
        img.convert("RGB").save(buf, format="JPEG", quality=90)
    return Cover(buf.getvalue(), "image/jpeg", alt)


#: Apple Podcasts' artwork rules: square, 1400–3000 px, JPEG or PNG in RGB
ARTWORK_MIN, ARTWORK_MAX = 1400, 3000


def podcast_artwork(cover: Cover) -> bytes | None:
    """A square RGB JPEG of `cover` within Apple's 1400–3000 px, or None when the cover already is one.

    A cover that is not square is centred on a square of its own edge colour (nothing is cropped).
    """
    with Image.open(io.BytesIO(cover.data)) as img:
        width, height = img.size
        if width == height and ARTWORK_MIN <= width <= ARTWORK_MAX and img.mode == "RGB":
            return None
        picture = img.convert("RGB")
    edge = max(width, height)
    side = min(max(edge, ARTWORK_MIN), ARTWORK_MAX)
    background = picture.getpixel((0, 0))
    square = Image.new("RGB", (edge, edge), background)
    square.paste(picture, ((edge - width) // 2, (edge - height) // 2))
    if side != edge:
        square = square.resize((side, side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    square.save(buf, format="JPEG", quality=90)
    return buf.getvalue()
