"""The web pages' shared parts: templates, escaping, static CSS/JavaScript with CSP hashes, formatters, writers.

- `output/<slug>/index.html` (`write_readalong`, a format renderer): the read-along page; what it
  shows is gathered in `readalong.py`.
- `output/index.html` (`write_index`, a catalogue renderer): the catalogue page; what it shows is
  gathered in `index.py`.

Both pages are Jinja2 templates (`templates/`) with autoescape on: every value a template writes
is escaped the way lxml's HTML serialiser escapes it (`&`, `<`, `>`, `"` and carriage return), unless
it is `Markup` (the static files, the text's markup serialised by lxml, the timeline JSON). Their
CSS and script are package data files (`static/`), inlined and pinned by a Content-Security-Policy
with their hashes: the pages make no request outside their own site. They aim at WCAG 2.2 AA.
Output is deterministic.
"""

from __future__ import annotations

import json
import logging
import re
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined
from jinja2.ext import Extension
from markupsafe import Markup

from publisher import __version__
from publisher.clock import human_duration, iso_duration, player_clock
from publisher.csp import csp_hash
from publisher.files import write_atomic
from publisher.formats.context import CatalogueContext, RenderContext
from publisher.formats.styles import STRUCTURE_CSS, has_structure
from publisher.formats.web.catalogue import Page, RenderCache, pages, remove_stale_pages
from publisher.formats.web.downloads import PAGE_NAME
from publisher.formats.web.index import index_data
from publisher.formats.web.readalong import readalong_data
from publisher.i18n import catalogue_language, translator
from publisher.model.catalogue import CatalogueEntry
from publisher.text.languages import text_direction

log = logging.getLogger(__name__)

# --- formatters (also the templates' filters) ------------------------------------------------


def human_size(size: int) -> str:
    """A file size for people: "850 bytes", "12 kB", "3.4 MB" (powers of 1000)."""
    if size < 1000:
        return f"{size} bytes"
    for unit in ("kB", "MB", "GB"):
        size_f = size / 1000
        if size_f < 1000 or unit == "GB":
            return f"{size_f:.0f} {unit}" if size_f >= 100 else f"{size_f:.1f} {unit}"
        size = round(size_f)
    return f"{size} bytes"  # pragma: no cover


def script_json(data: object) -> str:
    """JSON safe inside `<script type="application/json">`: no `<`, `>` or `&` can end the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


# --- escaping and templates ------------------------------------------------------------------

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"})


def escape_html(value: object) -> Markup:
    """`value` as text or a double-quoted attribute value, escaped as lxml's HTML serialiser does.

    Unlike markupsafe's escape, `'` stays as it is (every attribute value in the templates is in
    double quotes) and a carriage return becomes `&#13;`. The one difference from lxml: a straight
    `"` is always `&quot;` (lxml leaves it in text, and puts such an attribute value in `'`
    quotes); both read back the same. `Markup` passes unchanged.
    """
    if isinstance(value, Markup):
        return value
    return Markup(str(value).translate(_ESCAPES))


def ui(language: str) -> Markup:
    """The attributes that mark the interface text as English on a page in another language, when
    that language has no catalogue (its interface text is then in English)."""
    english = language.replace("_", "-").split("-")[0].lower() == "en"
    return Markup("") if english or catalogue_language(language) else Markup(' lang="en" dir="ltr"')


def kbd(key: str) -> Markup:
    """A key name as `<kbd>key</kbd>`."""
    return Markup("<kbd>") + escape_html(key) + Markup("</kbd>")


class JoinLines(Extension):
    """Drops every line break of a template with the next line's indentation (templates are written
    one element to a line; the pages have no white space between tags)."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        """The template's source with its lines joined."""
        return re.sub(r"\r?\n[ \t]*", "", source)


def _bytecode_cache() -> FileSystemBytecodeCache | None:
    """Jinja's per-user cache of compiled templates (`<tmp>/_jinja2-cache-<uid>`, which Jinja makes
    0700 and checks is this user's), or None when that folder is not safe to use: another user made
    it first. Templates are then compiled on every run; publishing never stops for it."""
    try:
        return FileSystemBytecodeCache()
    except (RuntimeError, OSError) as exc:
        log.info("compiled templates are not kept between runs: %s", exc)
        return None


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("publisher.formats.web", "templates"),
        autoescape=True,
        finalize=escape_html,
        undefined=StrictUndefined,
        extensions=[JoinLines],
        auto_reload=False,  # package data: the templates do not change while publisher runs
        # compiled templates kept between runs (Jinja's own per-user cache in the temporary folder,
        # keyed by each template's source): an edit's publish skips 0.08 s of template compiling
        bytecode_cache=_bytecode_cache(),
    )
    env.filters.update(
        clock=player_clock,
        human_duration=human_duration,
        iso_duration=partial(iso_duration, units=True),
        human_size=human_size,
        script_json=lambda data: Markup(script_json(data)),
    )
    env.globals.update(ui=ui, kbd=kbd, version=__version__)
    return env


TEMPLATES = _environment()


# --- static files and the Content-Security-Policy --------------------------------------------


def static_text(name: str) -> str:
    """The text of a file in `static/`, byte for byte (no newline translation)."""
    return resources.files("publisher.formats.web").joinpath("static").joinpath(name).read_bytes().decode("utf-8")


# Colours (contrast against their background, WCAG 2.x formula): text #1b1b1b on #fff 17.2:1,
# muted #4a4a4a 8.9:1, links #0b57d0 6.4:1 (5.1:1 on the highlight), highlighted sentence
# #1b1b1b on #fde68a 13.8:1; dark scheme: #ececec on #121212 15.9:1, links #9ec1ff 10.3:1,
# highlight #fff on #5c4800 8.8:1 (links on it 4.8:1). Focus outlines 3 px, ≥ 4.8:1 everywhere.
BASE_CSS = static_text("base.css")
READALONG_CSS = BASE_CSS + static_text("readalong.css")
INDEX_CSS = BASE_CSS + static_text("index.css")

# The read-along behaviour. Shortcuts act when focus is not in a form field (Space and arrows
# also not on a link, button or the player, which have their own keys). The live region speaks
# only what a user action did ("Paused at 1:23"), never each sentence.
READALONG_JS = static_text("readalong.js")


def content_security_policy(css: str, script: str | None) -> str:
    """The page's policy: nothing from anywhere but its own inline style (and script), images and media."""
    policy = [
        "default-src 'none'",
        f"style-src {csp_hash(css)}",
        "img-src 'self' data:",
        "media-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
    if script:
        policy.insert(1, f"script-src {csp_hash(script)}")
    return "; ".join(policy)


# --- the pages -------------------------------------------------------------------------------


def render_page(
    template: str, *, language: str, title: str, description: str | None, css: str, script: str | None, **data: Any
) -> bytes:
    """A page from `templates/<template>`, in the document every page shares, as UTF-8 bytes."""
    html = TEMPLATES.get_template(template).render(
        lang=language,
        dir=text_direction(language),
        title=title,
        description=description,
        csp=content_security_policy(css, script),
        css=Markup(css),
        script=Markup(script or ""),
        _=translator(language).markup,
        **data,
    )
    return html.encode("utf-8")


def readalong_page(ctx: RenderContext) -> bytes:
    """The read-along page of a publication, as bytes."""
    meta = ctx.pub.metadata
    data = readalong_data(ctx)
    return render_page(
        "readalong.html",
        language=meta.language,
        title=meta.title,
        description=meta.description,
        css=READALONG_CSS + STRUCTURE_CSS if has_structure(ctx.pub) else READALONG_CSS,
        script=READALONG_JS,
        **data,
    )


def write_readalong(ctx: RenderContext) -> dict[str, Path]:
    """Write `<folder>/index.html`, the accessible read-along page."""
    path = ctx.folder / PAGE_NAME
    path.write_bytes(readalong_page(ctx))
    return {"page": path}


def index_page(cat: CatalogueContext, page: Page[CatalogueEntry] | None = None) -> bytes:
    """One page of the catalogue page (the first, or the only one), as bytes."""
    page = page or pages(cat.entries, cat.settings.page_size)[0]
    title = cat.settings.site_title
    shown = title if page.count == 1 else f"{title} (page {page.number} of {page.count})"
    return render_page(
        "index.html",
        language=cat.settings.language,
        title=shown,
        description=translator(cat.settings.language).gettext("{title}: read, listen and subscribe.", title=title),
        css=INDEX_CSS,
        script=None,
        **index_data(cat, page),
    )


def write_index(cat: CatalogueContext) -> list[Path]:
    """Write `output/index.html`, the catalogue page, and its further pages (`index-2.html`, …) when
    there are more publications than `page_size`; returns the files whose bytes changed."""
    written = []
    cache = RenderCache(cat.output, "index", cat.settings)
    updated = max((e.modified for e in cat.entries), default="")  # every page's footer says it
    links = (sorted(cat.files), sorted(cat.kinds))
    every = pages(cat.entries, cat.settings.page_size)
    for page in every:
        path = cat.output / page.name(PAGE_NAME)
        key = cache.key(page.number, page.count, updated, links, tuple(e.digest for e in page.items))
        if not cache.fresh(path, key) and write_atomic(path, index_page(cat, page)):
            written.append(path)
    remove_stale_pages(cat.output, PAGE_NAME, len(every))
    cache.save()
    return written
