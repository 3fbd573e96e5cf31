"""The cover: the source's own image, or a generated square one with title and author."""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import subprocess
import textwrap
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from publisher.i18n import join_names, translator
from publisher.model.publication import Cover, Metadata
from publisher.svg import rasterise, svg_problem
from publisher.text.languages import text_direction

log = logging.getLogger(__name__)

SIZE = 1600  # square, inside Apple Podcasts' 1400–3000 px

# dark backgrounds: white text on each has a contrast ratio above 7:1 (WCAG AAA)
_PALETTE = ["#1d3557", "#2b2d42", "#3d405b", "#264653", "#5f0f40", "#22223b", "#283618", "#370617"]


def _font(size: int, path: str | None = None) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


def _glyph(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, char: str) -> bytes:
    image = Image.new("L", (64, 64))
    ImageDraw.Draw(image).text((8, 8), char, font=font, fill=255)
    return image.tobytes()


def _covers(path: str | None, text: str) -> bool:
    """Whether the font draws every character of `text` (a missing one draws as the private-use one does)."""
    font = _font(40, path)
    missing = _glyph(font, "\ue000")
    return all(_glyph(font, ch) != missing for ch in set(text) if not ch.isspace())


@functools.lru_cache(maxsize=32)
def cover_font(text: str, language: str) -> str | None:
    """The font file to draw `text` with: None (Pillow's own) when that font has every character,
    else an installed font for the language (fontconfig) that has them; None, with a warning, when
    none does (Chinese and Japanese need e.g. Debian's fonts-noto-cjk)."""
    if _covers(None, text):
        return None
    primary = language.replace("_", "-").split("-")[0].lower()
    try:
        listed = subprocess.run(
            ["fc-list", f":lang={primary}", "file"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        listed = ""
    for path in sorted(line.split(":")[0].strip() for line in listed.splitlines() if line.strip()):
        if path.endswith((".ttf", ".otf", ".ttc")) and _covers(path, text):
            return path
    log.warning(
        "no installed font draws the title %r (%s): the generated cover shows boxes; install one", text, language
    )
    return None


def _fit(
    draw: ImageDraw.ImageDraw, text: str, max_size: int, width: int, max_lines: int, path: str | None = None
) -> tuple[list[str], int]:
    """Largest font size (≤ max_size) at which `text` wraps into ≤ max_lines lines of `width` px."""
    size = max_size
    while size > 24:
        font = _font(size, path)
        if path is None:
            avg = max(1.0, draw.textlength("abcdefghijklmnopqrstuvwxyz", font=font) / 26)
        else:  # another script's font: measure the text itself (CJK has no spaces to wrap at)
            avg = max(1.0, draw.textlength(text, font=font) / max(1, len(text)))
        chars = max(4, int(width / avg))
        lines = textwrap.wrap(text, width=chars) or [text]
        if path is not None and any(draw.textlength(ln, font=font) > width for ln in lines):
            lines = [text[i : i + chars] for i in range(0, len(text), chars)]
        if len(lines) <= max_lines and all(draw.textlength(ln, font=font) <= width for ln in lines):
            return lines, size
        size -= 8
    return textwrap.wrap(text, width=40)[:max_lines], size


def generate_cover(meta: Metadata) -> Cover:
    """A square JPEG cover: title large, author below, on a colour chosen from the title (drawn
    once per process for the same title, authors and language: 40 ms)."""
    return _drawn(meta.title, tuple(meta.authors), meta.language)


@functools.lru_cache(maxsize=8)
def _drawn(title: str, authors: tuple[str, ...], language: str) -> Cover:
    digest = hashlib.sha256(title.encode()).digest()
    background = _PALETTE[digest[0] % len(_PALETTE)]
    image = Image.new("RGB", (SIZE, SIZE), background)
    draw = ImageDraw.Draw(image)
    margin = 140
    width = SIZE - 2 * margin
    byline = join_names(authors, language)
    path = cover_font(title + byline, language)
    lines, size = _fit(draw, title, 170, width, 4, path)
    font = _font(size, path)
    line_height = int(size * 1.18)
    author_lines, author_size = _fit(draw, byline, 90, width, 2, path) if authors else ([], 0)
    total = len(lines) * line_height + 110 + len(author_lines) * int(author_size * 1.2)
    y = max(margin, (SIZE - total) // 2)
    rtl = text_direction(language) == "rtl"  # right-to-left titles stand at the right margin
    x, anchor = (SIZE - margin, "ra") if rtl else (margin, "la")
    for line in lines:
        draw.text((x, y), line, font=font, fill="#ffffff", anchor=anchor)
        y += line_height
    bar = margin if anchor == "la" else SIZE - margin - 240
    draw.rectangle((bar, y + 30, bar + 240, y + 42), fill="#f1c40f")
    y += 110
    author_font = _font(max(author_size, 24), path)
    for line in author_lines:
        draw.text((x, y), line, font=author_font, fill="#f1f1f1", anchor=anchor)
        y += int(author_size * 1.2)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=88, optimize=True)
    return Cover(buf.getvalue(), "image/jpeg", cover_alt(title, authors, language))


def cover_alt(title: str, authors: Sequence[str], language: str) -> str:
    """The cover's text alternative ("Cover of <title> by <authors>") in the publication's language."""
    _ = translator(language).gettext
    if authors:
        return _("Cover of {title} by {authors}", title=title, authors=join_names(authors, language))
    return _("Cover of {title}", title=title)


#: an SVG cover's rasterisation: its longer edge (Standard Ebooks draws theirs 1400 × 2100)
RASTER_EDGE = 2100


def load_cover(meta: Metadata) -> Cover:
    """The source's cover (converted to JPEG unless it is JPEG or PNG; an SVG drawing kept, with a
    JPEG drawn from it by resvg for the audio files, thumbnails and pages), or a generated one."""
    if meta.cover is None:
        return generate_cover(meta)
    alt = cover_alt(meta.title, meta.authors, meta.language)
    if meta.cover.suffix.lower() == ".svg":
        drawing = meta.cover.read_bytes()
        problem = svg_problem(drawing)
        if problem:  # the readers refuse such drawings; one changed since is not trusted either
            log.warning("%s: the SVG cover %s; a cover is generated instead", meta.cover, problem)
            return generate_cover(meta)
        return Cover(rasterise(drawing, RASTER_EDGE), "image/jpeg", alt, svg=drawing)
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
