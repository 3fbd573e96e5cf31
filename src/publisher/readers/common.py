"""What every reader shares: decoding, front matter, and assembling blocks into chapters."""

from __future__ import annotations

import datetime as _dt
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from publisher.errors import SourceError
from publisher.model.publication import Block, Chapter, Metadata, Publication, Run, Style
from publisher.readers.decoding import BOMS as BOMS  # re-exported: readers import them from here
from publisher.readers.decoding import MAX_BLOCK_CHARS
from publisher.readers.decoding import MAX_SOURCE_BYTES as MAX_SOURCE_BYTES
from publisher.readers.decoding import decode_source as decode_source
from publisher.sanitise import UnsafeSvg, plain_text, sanitise_svg
from publisher.structure import arrange_notes, number_chapter
from publisher.svg import svg_problem
from publisher.text.clean import collapse_ws, xml_safe
from publisher.text.dates import parse_date
from publisher.text.languages import language_problem
from publisher.text.slugs import slugify

log = logging.getLogger(__name__)

#: A title longer than this is refused (it goes into file tags, feeds and page titles).
MAX_TITLE_CHARS = 500

_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    """Split YAML front matter (between `---` lines at the very top) from the body."""
    if not text.startswith("---\n"):
        return {}, text
    end = re.search(r"^(---|\.\.\.)[ \t]*$", text[4:], flags=re.MULTILINE)
    if end is None:
        raise SourceError("front matter starts with '---' but has no closing '---' line", path=path)
    raw = text[4 : 4 + end.start()]
    body = text[4 + end.end() :]
    import yaml  # only for a source with front matter (12 ms of every run otherwise)

    try:
        data = yaml.safe_load(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SourceError(f"malformed YAML front matter{where}: {problem}", path=path) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError("front matter must be a mapping of 'key: value' lines", path=path)
    return _xml_safe_values(data), body


def _xml_safe_values(value: Any, seen: dict[int, Any] | None = None) -> Any:
    """Front matter with every string cleaned as text is (YAML escapes can smuggle in "\\x00").

    YAML aliases share one object however often they are used; `seen` cleans each object once,
    so a "billion laughs" document costs its size, not its expansion.
    """
    seen = {} if seen is None else seen
    if isinstance(value, str):
        return xml_safe(value)
    if not isinstance(value, (dict, list)):
        return value
    if id(value) in seen:
        return seen[id(value)]
    if isinstance(value, dict):
        clean: Any = {}
        seen[id(value)] = clean
        clean.update({_xml_safe_values(k, seen): _xml_safe_values(v, seen) for k, v in value.items()})
    else:
        clean = []
        seen[id(value)] = clean
        clean.extend(_xml_safe_values(v, seen) for v in value)
    return clean


#: settings a source may choose for itself in its front matter (see settings.py)
FRONT_MATTER_SETTINGS = {
    "speed", "pause_sentence", "pause_paragraph", "pause_heading", "lead_in", "tail", "profile", "announce",
    "typographer", "notes", "narration", "narrator",
}  # fmt: skip

_KEYS = {
    "title": "title",
    "author": "authors",
    "authors": "authors",
    "creator": "authors",
    "creators": "authors",
    "date": "date",
    "language": "language",
    "lang": "language",
    "description": "description",
    "summary": "description",
    "publisher": "publisher",
    "rights": "rights",
    "license": "rights",
    "identifier": "identifier",
    "isbn": "identifier",
    "subjects": "subjects",
    "subject": "subjects",
    "tags": "subjects",
    "keywords": "subjects",
    "cover": "cover",
    "cover-image": "cover",
    "cover_image": "cover",
    "voice": "voice",
    "engine": "engine",
    "lexicon": "lexicon",
    "pronunciations": "lexicon",
}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [collapse_ws(str(v)) for v in value if str(v).strip()]
    return [collapse_ws(p) for p in re.split(r"\s*;\s*|\s+and\s+", str(value)) if p.strip()]


def metadata_from_front_matter(data: dict[str, Any], path: Path, base: Metadata) -> Metadata:
    """Apply front-matter keys over `base`; unknown keys are reported, not fatal."""
    changes: dict[str, Any] = {}
    settings: dict[str, object] = {}
    for key, value in data.items():
        field = _KEYS.get(str(key).lower())
        setting = str(key).lower().replace("-", "_")
        if field is None and setting in FRONT_MATTER_SETTINGS:
            if setting == "narration" and value:  # a recording named beside the source
                items = value if isinstance(value, (list, tuple)) else [value]
                value = [str(path.parent / str(item)) for item in items]
            settings[setting] = value
            continue
        if field is None:
            log.warning("%s: unknown front matter key %r ignored", path, key)
            continue
        if value is None:
            continue
        if field in ("authors", "subjects"):
            changes[field] = _as_list(value)
        elif field == "date":
            changes[field] = _date_value(value, path)
        elif field == "cover":
            changes[field] = _cover_path(str(value), path)
        elif field == "language":
            changes[field] = check_language(str(value), path)
        elif field == "description":  # shown as HTML by podcast and reading apps: its text only
            changes[field] = plain_text(collapse_ws(str(value)))
        elif field == "lexicon":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise SourceError("lexicon must map words to pronunciations ('word: respelling')", path=path)
            changes[field] = {str(k): v for k, v in value.items()}
        else:
            changes[field] = collapse_ws(str(value))
    return replace(base, settings=settings, **changes)


def _date_value(value: Any, path: Path) -> str:
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    iso = parse_date(str(value))
    if iso is None:
        raise SourceError(f"date {value!r} is not a date (use YYYY-MM-DD)", path=path)
    return iso


def check_language(tag: str, path: Path) -> str:
    """Return a BCP 47 language tag, or raise naming the file."""
    tag = tag.strip().replace("_", "-")
    if not _LANGUAGE_TAG.match(tag):
        raise SourceError(f"language {tag!r} is not a BCP 47 tag such as 'en' or 'fr-CA'", path=path)
    problem = language_problem(tag)
    if problem:
        raise SourceError(problem, path=path)
    return tag


def clean_runs(runs: Sequence[Run]) -> list[Run]:
    """Collapse white space across runs (keeping single spaces between them) and drop empties."""
    out: list[Run] = []
    prev_space = True
    for run in runs:
        if is_page_mark(run):  # a print page break: no text, kept where it stands
            out.append(run)
            continue
        text = re.sub(r"\s+", " ", run.text)
        if prev_space:
            text = text.lstrip(" ")
        if not text:
            continue
        prev_space = text.endswith(" ")
        if out and out[-1].marks == run.marks:
            out[-1] = Run(out[-1].text + text, run.marks)
        else:
            out.append(Run(text, run.marks))
    texts = [n for n, run in enumerate(out) if not is_page_mark(run)]
    if texts:
        last = out[texts[-1]]
        stripped = last.text.rstrip(" ")
        out[texts[-1]] = Run(stripped, last.marks)
        if not stripped:
            out.pop(texts[-1])
    return out


def is_page_mark(run: Run) -> bool:
    """Whether `run` is a print page break (an empty run marked "pagebreak")."""
    return not run.text and any(m.kind == "pagebreak" for m in run.marks)


def number_pages(chapters: Sequence[Chapter]) -> list[Chapter]:
    """The chapters with every print page break given a unique id ("page-214", "page-xii",
    "page-214-2" for a number seen before); a break just before a chapter's heading moves just
    after it (the heading opens the chapter's document)."""
    seen: set[str] = set()

    def ident(label: str) -> str:
        base = "page-" + (re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "x")
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}-{n}"
        seen.add(name)
        return name

    def mark(run: Run) -> Run:
        label = run.marks[0].href or ""
        return Run("", (Style("pagebreak", label, ident(label)),))

    out = []
    for chapter in chapters:
        blocks = list(chapter.blocks)
        lead = next((n for n, b in enumerate(blocks) if b.kind != "pagebreak"), 0)
        if lead and blocks[lead].kind == "heading":
            blocks = [blocks[lead], *blocks[:lead], *blocks[lead + 1 :]]
        numbered = []
        for block in blocks:
            if block.kind == "pagebreak":
                block = replace(block, anchor=ident(block.label))
            elif any(is_page_mark(r) for r in block.runs):
                runs = [mark(r) if is_page_mark(r) else r for r in block.runs]
                marks = iter([r for r in runs if is_page_mark(r)])
                cells = [  # a row's runs are its cells' runs: the same marks, in order
                    replace(cell, runs=[next(marks, r) if is_page_mark(r) else r for r in cell.runs])
                    for cell in block.cells
                ]
                block = replace(block, runs=runs, cells=cells)
            numbered.append(block)
        out.append(replace(chapter, blocks=numbered))
    return out


def assemble(meta: Metadata, blocks: list[Block], path: Path, media: Path | None = None) -> Publication:
    """Turn a flat list of blocks into chapters, number sentences, and fill missing metadata.

    Chapters start at the shallowest heading level that occurs more than once; a single top
    heading that opens the document is the title. A document without headings is one chapter
    named after its title.
    """
    blocks = [b for b in (clean_block(b, path, media) for b in blocks) if b is not None]
    check_lengths(blocks, path)
    headings = [b for b in blocks if b.kind == "heading"]
    title = meta.title
    if headings and headings[0] is blocks[0]:
        top = min(b.level for b in headings)
        if blocks[0].level == top and sum(b.level == top for b in headings) == 1:
            title = title or blocks[0].text
            if len(headings) == 1 or collapse_ws(blocks[0].text) == collapse_ws(title):
                blocks = blocks[1:]
                headings = headings[1:]
    title = title or path.stem.replace("-", " ").replace("_", " ").strip().capitalize() or "Untitled"
    if len(title) > MAX_TITLE_CHARS:
        raise SourceError(f"the title is {len(title):,} characters long; the limit is {MAX_TITLE_CHARS}", path=path)
    if not any(b.kind != "heading" for b in blocks) and not headings:
        raise SourceError("has a title but no text to publish", path=path)

    parts: list[tuple[str, list[Block]]] = []  # each chapter's title and blocks
    chapter_level = min((b.level for b in headings), default=0)
    prev_level = 1
    pending: list[Block] = []  # page breaks just before a chapter heading: they open that chapter
    for block in blocks:
        if block.kind == "heading" and block.level <= chapter_level:
            while parts and parts[-1][1] and parts[-1][1][-1].kind == "pagebreak":
                pending.insert(0, parts[-1][1].pop())
            parts.append((block.text, [replace(block, level=1), *pending]))
            pending = []
            prev_level = 1
            continue
        if not parts and block.kind == "pagebreak" and headings:
            pending.append(block)
            continue
        if not parts:  # text before the first chapter heading, or no headings at all
            parts.append((title, [Block(kind="heading", runs=[Run(title)], level=1)]))
            prev_level = 1
        if block.kind == "heading":  # a section inside the chapter: levels never skip
            block = replace(block, level=max(2, min(block.level - chapter_level + 1, prev_level + 1, 6)))
            prev_level = block.level
        parts[-1][1].append(block)

    chapters = [Chapter(index=n, title=name, blocks=body) for n, (name, body) in enumerate(parts, start=1)]
    if any(b.kind == "note" for b in blocks):
        chapters = arrange_notes(chapters)
    chapters = number_pages(chapters)
    return Publication(
        slug=slugify(path.stem),
        source=path,
        metadata=replace(meta, title=title),
        chapters=[number_chapter(chapter, meta.language) for chapter in chapters],
        has_title_page=bool(headings),
    )


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".svg", ".webp"}


def clean_block(block: Block, path: Path, media: Path | None = None) -> Block | None:
    """`block` as it is kept: its white space tidied, its image found on disk; None when nothing is left."""
    if block.kind == "image":
        return _resolve_image(block, path, media)
    if block.kind == "figure":  # without its image, the caption is still text worth keeping
        block = _resolve_image(block, path, media) or replace(block, kind="paragraph", src=None)
    if block.kind == "row":
        cells = [replace(cell, runs=clean_runs(cell.runs)) for cell in block.cells]
        row = replace(block, runs=clean_runs(block.runs), cells=cells)
        return row if any(c.runs for c in cells) else None
    if block.kind == "code":  # a program keeps its lines and indentation
        text = "".join(r.text for r in block.runs).strip("\n")
        return replace(block, runs=[Run(text, block.runs[0].marks)]) if text.strip() else None
    cleaned = replace(block, runs=clean_runs(block.runs))
    return cleaned if cleaned.runs or block.kind in ("table", "figure", "pagebreak") else None


#: an image with more pixels than this is left out (a cover: refused): a real book's largest
#: illustrations and covers are a few thousand pixels a side; a 20 KB PNG can declare 13,000 × 13,000
#: (169 million pixels, 1.7 GB once decoded). Pillow's own bomb check warns at 89 million.
MAX_IMAGE_PIXELS = 50_000_000


def image_problem(file: Path) -> str | None:
    """Why `file` is not an image a publication can use (None when it is): it must decode as an image
    (header and structure, without decoding every pixel) of at most MAX_IMAGE_PIXELS; an SVG must be
    well-formed SVG (scripts, event handlers and outside references are removed when it is copied)."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    if file.suffix.lower() == ".svg":
        try:
            sanitise_svg(file.read_bytes())
        except OSError as exc:
            return f"cannot be read ({exc.strerror or exc})"
        except UnsafeSvg as exc:
            return f"is not a usable SVG drawing ({exc})"
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # bounded below, by us
            with Image.open(file) as img:
                width, height = img.size
                if width * height > MAX_IMAGE_PIXELS:
                    return f"is {width:,} × {height:,} pixels; the limit is {MAX_IMAGE_PIXELS // 1_000_000} million"
                img.verify()
    except Image.DecompressionBombError as exc:  # over twice Pillow's own limit: said before we can ask
        size = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = f"{int(size.group(1)):,} pixels" if size else "too many pixels"
        return f"has {pixels}; the limit is {MAX_IMAGE_PIXELS // 1_000_000} million"
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError):
        return "is not an image"
    return None


def is_image(file: Path) -> bool:
    """Whether `file` is an image a publication can use (see image_problem)."""
    return image_problem(file) is None


def svg_warnings(file: Path) -> list[str]:
    """What the copies of an SVG will leave out that could run, load or link something."""
    try:
        return sanitise_svg(file.read_bytes()).active
    except (OSError, UnsafeSvg):
        return []


def _cover_path(value: str, path: Path) -> Path:
    """The cover named in front matter: an image file inside the source's folder, or a clear error."""
    folder = path.parent.resolve()
    cover = (folder / value).resolve()
    if not cover.is_relative_to(folder):
        raise SourceError(f"cover image {value!r} is outside the source's folder", path=path)
    return cover_image(cover, value, path)


def cover_image(cover: Path, name: str, source: Path) -> Path:
    """`cover` if it is an image a cover can be (the error names `name` and `source` otherwise)."""
    if not cover.is_file():
        raise SourceError(f"cover image {name!r} not found", path=source)
    kinds = "a JPEG, PNG, GIF, WebP or self-contained SVG image"
    if cover.suffix.lower() not in IMAGE_SUFFIXES:
        raise SourceError(f"cover {name!r} is not {kinds}", path=source)
    if cover.suffix.lower() == ".svg":  # kept as the EPUBs' cover: nothing in it may run or fetch
        problem = svg_problem(cover.read_bytes())
        if problem:
            raise SourceError(f"cover {name!r} {problem}; a cover must be {kinds}", path=source)
        return cover.resolve()
    problem = image_problem(cover)
    if problem == "is not an image":
        raise SourceError(f"cover {name!r} is not {kinds}", path=source)
    if problem:
        raise SourceError(f"cover {name!r} {problem}", path=source)
    return cover.resolve()


def _resolve_image(block: Block, path: Path, media: Path | None = None) -> Block | None:
    """Keep an image only if it is a local image file inside the source's folder (or `media`, the
    folder a package's images were unpacked into)."""
    src = block.src or ""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", src):
        log.warning("%s: remote image %r left out (images must be local files)", path, src)
        return None
    folder = (media or path.parent).resolve()
    target = (folder / src).resolve()
    if not target.is_relative_to(folder):
        log.warning("%s: image %r is outside the source's folder; left out", path, src)
        return None
    if target.suffix.lower() not in IMAGE_SUFFIXES or not target.is_file():
        log.warning("%s: image %r not found or not an image; left out", path, src)
        return None
    problem = image_problem(target)
    if problem is not None:
        log.warning("%s: image %r %s; left out", path, src, problem)
        return None
    removed = svg_warnings(target) if target.suffix.lower() == ".svg" else []
    if removed:
        log.warning("%s: image %r: left out of its copies: %s", path, src, ", ".join(sorted(set(removed))))
    return replace(block, src=str(target))


def check_lengths(blocks: list[Block], path: Path) -> None:
    for number, block in enumerate(blocks, start=1):
        if len(block.text) > MAX_BLOCK_CHARS:
            raise SourceError(
                f"block {number} ({block.text[:30]!r}…) is {len(block.text):,} characters long; "
                f"the limit is {MAX_BLOCK_CHARS:,} per paragraph",
                path=path,
            )
