"""The web pages: each publication's accessible read-along page and the catalogue's index page.

- `output/<slug>/index.html` (`write_readalong`, a format renderer): the text with every sentence
  in a `<span id=…>`, highlighted while the full-length MP3 plays; sentence timings embedded as
  JSON; chapter list, keyboard shortcuts, captions track, downloads.
- `output/index.html` (`write_index`, a catalogue renderer): every publication with its cover,
  metadata, formats (with sizes) and the site's subscription links.

Both pages are built with lxml (every piece of user text is escaped by the serialiser), carry
their CSS and script inline (pinned by a Content-Security-Policy with their hashes: the pages make
no request outside their own site) and aim at WCAG 2.2 AA. Output is deterministic.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from lxml import etree
from PIL import Image

from publisher import __version__
from publisher.errors import RenderError
from publisher.files import write_atomic
from publisher.formats.book.xhtml import render_blocks
from publisher.formats.context import CatalogueContext, RenderContext
from publisher.model import layout
from publisher.model.catalogue import CatalogueEntry
from publisher.model.layout import media_type
from publisher.model.publication import Block
from publisher.text import display_date, join_names, text_direction

PAGE_NAME = "index.html"
FEED_NAME = "feed.xml"  # written by the catalogue stage into output/ and every output/<slug>/
OPDS_NAME = "opds.xml"
IMAGE_DIR = "images"


#: readable labels of the formats, by the kind the pipeline records them under
KIND_LABELS = {
    "epub": "EPUB",
    "read_aloud_epub": "EPUB with narration (read-aloud)",
    "mp3": "MP3",
    "m4b": "M4B audiobook",
    "vtt": "Captions (WebVTT)",
    "chapters": "Chapters (JSON)",
    "daisy": "DAISY 2.02 talking book (zip)",
    "daisy_zip": "DAISY 2.02 talking book (zip)",
    "audiobook": "Readium audiobook",
    "rpf": "Readium audiobook",
    "lpf": "W3C audiobook (LPF)",
    "feed": "Podcast feed (RSS)",
}
#: kinds that are not downloads: the page itself and the cover (shown as an image)
NOT_DOWNLOADS = {"page", "cover"}
#: the order downloads are listed in; other kinds follow alphabetically
KIND_ORDER = [
    "epub",
    "read_aloud_epub",
    "mp3",
    "m4b",
    "vtt",
    "chapters",
    "daisy",
    "daisy_zip",
    "audiobook",
    "rpf",
    "lpf",
]
#: formats other renderers may add, recognised by their file name ending
SUFFIX_KINDS = {".zip": "daisy", ".audiobook": "audiobook", ".lpf": "lpf"}


# --- small helpers ---------------------------------------------------------------------------


def _is_english(language: str) -> bool:
    return language.replace("_", "-").split("-")[0].lower() == "en"


def format_label(kind: str, path: str = "") -> str:
    """A readable label for a format ("M4B audiobook"), from its kind or else its file name."""
    if kind in KIND_LABELS:
        if kind == "daisy" and path and not path.lower().endswith(".zip"):
            return "DAISY 2.02 talking book (ncc.html)"
        return KIND_LABELS[kind]
    name = path.lower()
    for suffix, known in SUFFIX_KINDS.items():
        if name.endswith(suffix):
            return KIND_LABELS[known] if known != "daisy" or "daisy" in name else "ZIP archive"
    return kind.replace("_", " ").capitalize()


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


def clock(seconds: float) -> str:
    """A time as a player shows it: "4:05", "1:02:03"."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def human_duration(seconds: float) -> str:
    """A duration in words: "45 s", "12 min 5 s", "1 h 2 min"."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def iso_duration(seconds: float) -> str:
    """An ISO 8601 duration for `<time datetime>`: "PT12M5S"."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


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


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def _el(parent: etree._Element | None, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    """An HTML element (appended to `parent` when given); `class_` stands for `class`, `_` for `-`."""
    attrs = {k.rstrip("_").replace("_", "-"): v for k, v in attrib.items()}
    el = etree.Element(tag, attrs) if parent is None else etree.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _ui(el: etree._Element, language: str) -> etree._Element:
    """Mark an element holding the (English) interface text as English on a page in another language."""
    if not _is_english(language):
        el.set("lang", "en")
        el.set("dir", "ltr")
    return el


def _strip_namespaces(elements: Iterable[etree._Element]) -> list[etree._Element]:
    """XHTML elements from xhtml.render_blocks → plain HTML elements."""
    out = []
    for root in elements:
        for el in root.iter():
            if isinstance(el.tag, str) and el.tag.startswith("{"):
                el.tag = etree.QName(el).localname
        etree.cleanup_namespaces(root)
        out.append(root)
    return out


def _document(
    language: str, title: str, description: str | None, css: str, script: str | None
) -> tuple[etree._Element, etree._Element]:
    """The html root (lang, dir, head with CSP, meta, title, inline CSS) and its empty body."""
    html = _el(None, "html", lang=language, dir=text_direction(language))
    head = _el(html, "head")
    _el(head, "meta", charset="utf-8")
    policy = [
        "default-src 'none'",
        f"style-src {_csp_hash(css)}",
        "img-src 'self' data:",
        "media-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
    if script:
        policy.insert(1, f"script-src {_csp_hash(script)}")
    _el(head, "meta", http_equiv="Content-Security-Policy", content="; ".join(policy))
    _el(head, "meta", name="viewport", content="width=device-width, initial-scale=1")
    _el(head, "meta", name="generator", content=f"publisher {__version__}")
    if description:
        _el(head, "meta", name="description", content=description)
    _el(head, "title", title)
    _el(head, "link", rel="icon", href="data:,")  # no favicon request
    _el(head, "style", css)
    return html, _el(html, "body")


def _serialise(html: etree._Element) -> bytes:
    data = bytes(etree.tostring(html, method="html", encoding="utf-8", doctype="<!DOCTYPE html>")) + b"\n"
    # libxml2 knows HTML 4's void elements only; <track> has no content, so its end tag goes
    # (text can never contain "></track>": the serialiser escapes "<" and ">" in text)
    return data.replace(b"></track>", b">")


def _image_size(path: Path) -> tuple[int, int] | None:
    try:
        with Image.open(path) as img:
            return img.size
    except OSError:
        return None


def _cover(parent: etree._Element, folder: Path, name: str, alt: str, href_prefix: str = "") -> None:
    attrib = {"src": href_prefix + name, "alt": alt, "class": "cover"}
    size = _image_size(folder / name)
    if size:
        attrib.update(width=str(size[0]), height=str(size[1]))
    _el(parent, "img", **attrib)


# --- shared style ----------------------------------------------------------------------------

# Colours (contrast against their background, WCAG 2.x formula): text #1b1b1b on #fff 17.2:1,
# muted #4a4a4a 8.9:1, links #0b57d0 6.4:1 (5.1:1 on the highlight), highlighted sentence
# #1b1b1b on #fde68a 13.8:1; dark scheme: #ececec on #121212 15.9:1, links #9ec1ff 10.3:1,
# highlight #fff on #5c4800 8.8:1 (links on it 4.8:1). Focus outlines 3 px, ≥ 4.8:1 everywhere.
BASE_CSS = """\
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1b1b;--muted:#4a4a4a;--link:#0b57d0;--panel:#f4f4f4;\
--hl-bg:#fde68a;--hl-fg:#1b1b1b;--hl-bar:#8a6d00;--line:#767676}
@media (prefers-color-scheme:dark){:root{--bg:#121212;--fg:#ececec;--muted:#c8c8c8;--link:#9ec1ff;\
--panel:#1e1e1e;--hl-bg:#5c4800;--hl-fg:#fff;--hl-bar:#ffd166;--line:#8f8f8f}}
*{box-sizing:border-box}
html{background:var(--bg);color:var(--fg);font:1.125rem/1.6 system-ui,-apple-system,"Segoe UI",Roboto,\
"Noto Sans","Noto Sans Arabic","Noto Sans Hebrew",sans-serif}
body{margin:0;overflow-wrap:break-word}
main:focus{outline:none}
a{color:var(--link);text-underline-offset:.15em}
:focus-visible{outline:3px solid var(--link);outline-offset:2px;border-radius:2px}
.skip{position:absolute;left:-100vw;top:.5rem;z-index:10;background:var(--bg);color:var(--link);\
padding:.5rem 1rem;border:2px solid var(--link)}
.skip:focus{left:.5rem}
.wrap{max-width:44rem;margin:0 auto;padding:0 1rem}
.muted{color:var(--muted)}
img{max-width:100%;height:auto}
img.cover{display:block;width:12rem;border:1px solid var(--line)}
h1,h2,h3{line-height:1.25}
footer{margin-top:3rem;padding:1rem 0 2rem;border-top:1px solid var(--line);background:var(--panel)}
ul.formats{padding-inline-start:1.25rem}
ul.formats li{margin:.25rem 0}
.visually-hidden{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);\
clip-path:inset(50%);white-space:nowrap}
"""

READALONG_CSS = (
    BASE_CSS
    + """\
html{scroll-padding-top:8.5rem}
.player{position:sticky;top:0;z-index:5;background:var(--panel);border-bottom:1px solid var(--line);\
padding:.5rem 0}
.player audio{display:block;width:100%}
.player p{margin:.25rem 0;font-size:1rem}
.player .row{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;align-items:center}
.player input[type=checkbox]{width:1.25rem;height:1.25rem;margin:0 .4rem 0 0;vertical-align:-.2em}
.topnav ul{list-style:none;padding:0;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:.25rem 1.5rem}
#chapters ol{padding-inline-start:1.5rem}
#chapters a[aria-current]{font-weight:700}
.t{color:var(--muted);font-variant-numeric:tabular-nums}
.s{cursor:pointer;border-radius:.2em}
.s:hover{text-decoration:underline dotted}
.s.hl{background:var(--hl-bg);color:var(--hl-fg);box-shadow:0 .12em 0 var(--hl-bar)}
.intro{display:flex;flex-wrap:wrap;gap:1rem 1.5rem;align-items:flex-start;margin-top:1.5rem}
.titlepage h1{margin-top:0}
.byline{margin:.25rem 0;color:var(--muted)}
.s.hl .byline,.byline .s.hl{color:var(--hl-fg)}
blockquote{margin-inline:1.5rem 0;padding-inline-start:1rem;border-inline-start:4px solid var(--line)}
pre{white-space:pre-wrap;background:var(--panel);padding:.75rem}
figure{margin:1.5rem 0}
.closing{font-style:italic}
kbd{font:inherit;font-size:.9em;border:1px solid var(--line);border-radius:3px;padding:0 .3em}
dl.keys{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dl.keys dd{margin:0}
@media (prefers-reduced-motion:no-preference){.s{transition:background-color .15s}}
@media (max-height:32rem){.player{position:static}html{scroll-padding-top:0}}
"""
)

INDEX_CSS = (
    BASE_CSS
    + """\
header{padding:1rem 0;border-bottom:1px solid var(--line);background:var(--panel)}
header h1{margin:.25rem 0}
.subscribe ul{list-style:none;padding:0;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:.25rem 1.5rem}
.feed-url{overflow-wrap:anywhere}
article.pub{display:grid;grid-template-columns:9rem 1fr;gap:0 1.5rem;padding:1.5rem 0;\
border-bottom:1px solid var(--line)}
article.pub img.cover{width:9rem}
article.pub h2{margin:0 0 .25rem}
article.pub p{margin:.25rem 0}
@media (max-width:32rem){article.pub{grid-template-columns:1fr}}
"""
)

# The read-along behaviour. Shortcuts act when focus is not in a form field (Space and arrows
# also not on a link, button or the player, which have their own keys). The live region speaks
# only what a user action did ("Paused at 1:23"), never each sentence.
READALONG_JS = """\
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("timeline").textContent);
  var audio = document.getElementById("player");
  var status = document.getElementById("status");
  var now = document.getElementById("now");
  var follow = document.getElementById("follow");
  var bar = document.querySelector(".player");
  var reduce = window.matchMedia("(prefers-reduced-motion: reduce)");
  var cues = [], index = new Map();
  data.cues.forEach(function (c) {
    var el = document.getElementById(c[0]);
    if (!el) { return; }
    index.set(el, cues.length);
    cues.push({ el: el, start: c[1], end: c[2] });
    el.classList.add("s");
    el.tabIndex = -1;
  });
  var links = Array.prototype.slice.call(document.querySelectorAll("#chapters a[data-start]"));
  var current = -1, rover = -1, chapter = -1, userScrolled = -Infinity, frame = 0;

  function fmt(t) {
    t = Math.max(0, Math.floor(t || 0));
    var h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
    return (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }
  function say(text) { status.textContent = text; }
  function cueAt(t) {
    var lo = 0, hi = cues.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (cues[mid].start <= t + 0.05) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }
  function setRover(i) {
    if (i < 0 || i === rover) { return; }
    if (rover >= 0) { cues[rover].el.tabIndex = -1; }
    cues[i].el.tabIndex = 0;
    rover = i;
  }
  function inView(el) {
    var r = el.getBoundingClientRect();
    var top = bar && getComputedStyle(bar).position === "sticky" ? bar.getBoundingClientRect().bottom : 0;
    return r.top >= top && r.bottom <= window.innerHeight;
  }
  function reveal(el, force) {
    if (!force && (!follow.checked || Date.now() - userScrolled < 6000)) { return; }
    if (inView(el)) { return; }
    el.scrollIntoView({ block: "center", behavior: reduce.matches ? "auto" : "smooth" });
  }
  function highlight(i, force) {
    var moved = i !== current;
    if (moved) {
      if (current >= 0) {
        cues[current].el.classList.remove("hl");
        cues[current].el.removeAttribute("aria-current");
      }
      current = i;
      if (i >= 0) {
        cues[i].el.classList.add("hl");
        cues[i].el.setAttribute("aria-current", "true");
        var focused = document.activeElement;
        if (!focused || !index.has(focused)) { setRover(i); }
      }
    }
    if (i >= 0 && (force || (moved && !audio.paused))) { reveal(cues[i].el, force); }
    var t = audio.currentTime, c = -1;
    links.forEach(function (a, n) { if (parseFloat(a.dataset.start) <= t + 0.05) { c = n; } });
    if (c !== chapter) {
      if (chapter >= 0) { links[chapter].removeAttribute("aria-current"); }
      chapter = c;
      if (c >= 0) { links[c].setAttribute("aria-current", "true"); now.textContent = data.chapters[c].title; }
    }
  }
  function sync(force) { highlight(cueAt(audio.currentTime), force); }
  function tick() { sync(false); frame = audio.paused ? 0 : requestAnimationFrame(tick); }
  function play() {
    var p = audio.play();
    if (p && p.catch) { p.catch(function () { say("Use the player's Play button to start the audio."); }); }
  }
  function seek(t, andPlay) {
    var end = isFinite(audio.duration) ? audio.duration : data.duration;
    audio.currentTime = Math.max(0, Math.min(t, end));
    sync(true);
    if (andPlay) { play(); }
  }
  function playSentence(i) {
    setRover(i);
    seek(cues[i].start, true);
    say("Playing from " + fmt(cues[i].start));
  }

  audio.addEventListener("play", function () { if (!frame) { frame = requestAnimationFrame(tick); } });
  audio.addEventListener("timeupdate", function () { sync(false); });
  audio.addEventListener("seeked", function () { sync(false); });

  document.getElementById("text").addEventListener("click", function (e) {
    if (e.target.closest("a")) { return; }
    var el = e.target.closest(".s");
    if (el && index.has(el)) { playSentence(index.get(el)); }
  });
  document.getElementById("text").addEventListener("keydown", function (e) {
    var el = e.target;
    if (!index.has(el) || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var i = index.get(el);
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      playSentence(i);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      var next = i + (e.key === "ArrowDown" ? 1 : -1);
      if (next >= 0 && next < cues.length) {
        e.preventDefault();
        setRover(next);
        cues[next].el.focus({ preventScroll: true });
        reveal(cues[next].el, true);
      }
    }
  });
  links.forEach(function (a, n) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      seek(parseFloat(a.dataset.start), true);
      say("Playing " + data.chapters[n].title + ", from " + fmt(parseFloat(a.dataset.start)));
      var target = document.getElementById(a.getAttribute("href").slice(1));
      if (target) {
        if (index.has(target)) { setRover(index.get(target)); }
        target.focus({ preventScroll: true });
        reveal(target, true);
      }
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var el = e.target, tag = el.tagName;
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag) || el.isContentEditable) { return; }
    var control = /^(A|BUTTON|AUDIO|VIDEO|SUMMARY)$/.test(tag);
    var k = e.key;
    if (k === "k" || k === "K" || (k === " " && !control)) {
      e.preventDefault();
      if (audio.paused) { play(); say("Playing from " + fmt(audio.currentTime)); }
      else { audio.pause(); say("Paused at " + fmt(audio.currentTime)); }
    } else if (k === "j" || k === "J" || k === "l" || k === "L" ||
               (!control && (k === "ArrowLeft" || k === "ArrowRight"))) {
      e.preventDefault();
      var back = k === "j" || k === "J" || k === "ArrowLeft";
      seek(audio.currentTime + (back ? -10 : 10), false);
      say((back ? "Back" : "Forward") + " 10 seconds, at " + fmt(audio.currentTime));
    } else if (/^(PageUp|PageDown|Home|End|ArrowUp|ArrowDown)$/.test(k)) {
      userScrolled = Date.now();
    }
  });
  function scrolled() { userScrolled = Date.now(); }
  window.addEventListener("wheel", scrolled, { passive: true });
  window.addEventListener("touchmove", scrolled, { passive: true });
  window.addEventListener("pointerdown", function (e) { if (e.target === document.documentElement) { scrolled(); } });
  if (cues.length) { setRover(0); }
  document.documentElement.classList.add("js");
  sync(false);
})();
"""


# --- the read-along page ---------------------------------------------------------------------


def _folder_downloads(ctx: RenderContext) -> list[tuple[str, str, int | None]]:
    """(label, href, size) of every format written before the page, and of the serial feed, which
    the catalogue stage adds to the folder after every publication."""
    found: list[tuple[str, str, int | None]] = []
    for kind in layout.KINDS:
        path = ctx.written.get(kind.name)
        if path is None or not kind.download:
            continue
        href = path.relative_to(ctx.folder).as_posix()
        size = None if kind.name == "daisy" else path.stat().st_size  # ncc.html alone would mislead
        found.append((format_label(kind.name, href), href, size))
    if "feed" in ctx.later:
        found.append((KIND_LABELS["feed"], FEED_NAME, None))
    return found


class _PageImages:
    """Images of the text, copied into `<folder>/images/` under names taken from their content."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names: dict[str, str] = {}

    def href(self, src: str) -> str:
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


def _shift_headings(elements: list[etree._Element], by: int) -> None:
    for root in elements:
        for el in root.iter("h1", "h2", "h3", "h4", "h5", "h6"):
            el.tag = f"h{max(2, min(6, int(el.tag[1]) + by))}"


def _render(blocks: list[Block], images: _PageImages) -> list[etree._Element]:
    elements = _strip_namespaces(render_blocks(blocks, images.href))
    for el in elements:
        el.tail = "\n"
    return elements


def _chapter_targets(ctx: RenderContext) -> list[str | None]:
    """For each chapter mark, the id of the sentence its link points to."""
    cues = ctx.timeline.full_cues()
    if len(ctx.timeline.tracks) > 1 and len(ctx.marks) == len(ctx.pub.chapters):
        targets: list[str | None] = []
        for chapter in ctx.pub.chapters:
            first = next(chapter.sentences(), None)
            targets.append(first.id if first else None)
        return targets
    out: list[str | None] = []
    for mark in ctx.marks:
        cue = next((c for c in cues if c.start >= mark.start - 1e-3), None)
        out.append(cue.sentence_id if cue else None)
    return out


def readalong_page(ctx: RenderContext) -> bytes:
    """The read-along page of a publication, as bytes."""
    pub, meta = ctx.pub, ctx.pub.metadata
    lang = meta.language
    html, body = _document(lang, meta.title, meta.description, READALONG_CSS, READALONG_JS)
    images = _PageImages(ctx.folder)

    _ui(_el(body, "a", "Skip to the text", class_="skip", href="#text"), lang).tail = "\n"

    header = _el(body, "header")
    header.tail = "\n"
    topnav = _ui(_el(_el(header, "div", class_="wrap"), "nav", class_="topnav", aria_label="Page"), lang)
    items = _el(topnav, "ul")
    _el(_el(items, "li"), "a", "All publications", href=f"../{PAGE_NAME}")
    _el(_el(items, "li"), "a", "Chapters", href="#chapters")
    _el(_el(items, "li"), "a", "Downloads", href="#downloads")
    _el(_el(items, "li"), "a", "Keyboard shortcuts", href="#keys")

    player = _el(body, "div", class_="player", role="region", aria_label="Audio player")  # sticky: a child of body
    player.tail = "\n"
    _ui(player, lang)
    inner = _el(player, "div", class_="wrap")
    audio = _el(inner, "audio", id="player", controls="", preload="metadata", src=ctx.full.path.name)
    _el(audio, "track", kind="captions", src=f"{ctx.slug}.vtt", srclang=lang, label="Captions", default="")
    fallback = _el(audio, "a", "Download the MP3", href=ctx.full.path.name)
    fallback.tail = " (your browser cannot play it here)."
    row = _el(inner, "div", class_="row")
    now_p = _el(row, "p", "Now: ", class_="muted")
    _el(now_p, "span", ctx.marks[0].title if ctx.marks else meta.title, id="now", lang=lang, dir="auto")
    follow = _el(row, "p")
    label = _el(follow, "label")
    _el(label, "input", type="checkbox", id="follow", checked="")
    _el(label, "span", " Scroll to follow the narration")
    _el(inner, "p", "", id="status", class_="visually-hidden", role="status", aria_live="polite")

    nav = _el(body, "nav", id="chapters", aria_labelledby="chapters-heading")
    nav.tail = "\n"
    wrap = _el(nav, "div", class_="wrap")
    _ui(_el(wrap, "h2", "Chapters", id="chapters-heading"), lang)
    ol = _el(wrap, "ol")
    chapters_data = []
    for mark, target in zip(ctx.marks, _chapter_targets(ctx), strict=True):
        li = _el(ol, "li")
        attrib = {"href": f"#{target}" if target else "#text", "data-start": f"{mark.start:.3f}"}
        _el(li, "a", mark.title, **attrib).tail = " "
        _el(li, "span", clock(mark.start), class_="t")
        chapters_data.append({"title": mark.title, "start": round(mark.start, 3), "end": round(mark.end, 3)})

    main = _el(body, "main", id="text", tabindex="-1")
    main.tail = "\n"
    content = _el(main, "div", class_="wrap")
    intro = _el(content, "div", class_="intro")
    _cover(intro, ctx.folder, ctx.cover_name, ctx.cover.alt)
    titlepage = _el(intro, "div", class_="titlepage")
    for el in _render(pub.front, images):
        titlepage.append(el)
    for chapter in pub.chapters:
        section = _el(content, "section", class_="chapter", id=chapter.id)
        section.tail = "\n"
        blocks = [b for b in chapter.blocks if not any(b is f for f in pub.front)]
        elements = _render(blocks, images)
        if pub.has_title_page:
            _shift_headings(elements, 1)  # the title is the h1; chapter headings h2
        else:
            _shift_headings(elements, 0)  # an article: its title is the h1, its sections h2 and below
        for el in elements:
            section.append(el)
    if pub.closing:
        closing = _el(content, "p", class_="closing")
        for i, sentence in enumerate(pub.closing):
            _el(closing, "span", sentence.text, id=sentence.id).tail = " " if i < len(pub.closing) - 1 else None

    footer = _el(body, "footer")
    _ui(footer, lang)
    fwrap = _el(footer, "div", class_="wrap")
    downloads = _el(fwrap, "section", id="downloads", aria_labelledby="downloads-heading")
    _el(downloads, "h2", "Downloads", id="downloads-heading")
    ul = _el(downloads, "ul", class_="formats")
    for label_text, href, size in _folder_downloads(ctx):
        li = _el(ul, "li")
        link = _el(li, "a", label_text, href=href, type=media_type(href))
        if href == FEED_NAME:
            link.set("type", "application/rss+xml")
        if size is not None:
            link.tail = f" ({human_size(size)})"
    if len(ctx.audio) > 1:
        li = _el(ul, "li", "MP3 of each chapter:")
        sub = _el(li, "ol")
        for mp3 in ctx.audio:
            rel = mp3.path.relative_to(ctx.folder).as_posix()
            item = _el(sub, "li")
            _el(
                item, "a", mp3.title, href=rel, type="audio/mpeg", lang=lang, dir="auto"
            ).tail = f" ({human_duration(mp3.duration)}, {human_size(mp3.path.stat().st_size)})"

    keys = _el(fwrap, "section", id="keys", aria_labelledby="keys-heading")
    _el(keys, "h2", "Keyboard shortcuts", id="keys-heading")
    _el(
        keys,
        "p",
        "Outside form fields: the keys below control the audio. A sentence of the text can be focused with "
        "Tab (the one being read), then played with Enter or Space.",
    )
    dl = _el(keys, "dl", class_="keys")
    for combo, meaning in (
        (["Space", "k"], "Play or pause (Space only when focus is not on a link or button)"),
        (["j", "←"], "Back 10 seconds (arrow keys only when focus is not on a link or the player)"),
        (["l", "→"], "Forward 10 seconds"),
        (["Enter", "Space"], "On a sentence: play from that sentence"),
        (["↑", "↓"], "On a sentence: previous or next sentence"),
    ):
        dt = _el(dl, "dt")
        for n, key in enumerate(combo):
            _el(dt, "kbd", key).tail = " or " if n < len(combo) - 1 else None
        _el(dl, "dd", meaning)
    about = _el(fwrap, "p", class_="muted")
    about.text = f"Narrated by {ctx.timeline.narrator}. " if ctx.timeline.narrator else ""
    about.text += "Updated "
    _el(about, "time", ctx.modified[:10], datetime=ctx.modified).tail = f". Made with publisher {__version__}."

    data = {
        "title": meta.title,
        "duration": round(ctx.timeline.duration, 3),
        "chapters": chapters_data,
        "cues": [[c.sentence_id, round(c.start, 3), round(c.end, 3)] for c in ctx.timeline.full_cues()],
    }
    timeline = _el(body, "script", type="application/json", id="timeline")
    timeline.text = script_json(data)
    _el(body, "script", READALONG_JS)
    return _serialise(html)


def write_readalong(ctx: RenderContext) -> dict[str, Path]:
    """Write `<folder>/index.html`, the accessible read-along page."""
    path = ctx.folder / PAGE_NAME
    path.write_bytes(readalong_page(ctx))
    return {"page": path}


# --- the catalogue page ----------------------------------------------------------------------


def _entry_downloads(entry: CatalogueEntry, feed: bool) -> list[tuple[str, str, int | None]]:
    """(label, href relative to the publication folder, size) of every format of a publication."""
    kinds = [k for k in entry.formats if k not in NOT_DOWNLOADS and k != "feed"]
    kinds.sort(key=lambda k: (KIND_ORDER.index(k) if k in KIND_ORDER else len(KIND_ORDER), k))
    found: list[tuple[str, str, int | None]] = []
    for kind in kinds:
        path = entry.formats[kind]
        size = entry.files.get(path)
        if size is None and (entry.folder / path).is_file():
            size = (entry.folder / path).stat().st_size
        if kind == "daisy" and not path.endswith(".zip"):
            size = None  # the size of ncc.html alone would mislead: the book is the whole folder
        found.append((format_label(kind, path), path, size))
    if "feed" in entry.formats or feed:
        found.append((KIND_LABELS["feed"], entry.formats.get("feed", FEED_NAME), None))
    return found


def index_page(cat: CatalogueContext) -> bytes:
    """The catalogue page, as bytes."""
    entries, settings = cat.entries, cat.settings
    lang = settings.language
    title = settings.site_title
    html, body = _document(lang, title, f"{title}: read, listen and subscribe.", INDEX_CSS, None)
    _ui(_el(body, "a", "Skip to the publications", class_="skip", href="#publications"), lang).tail = "\n"

    header = _el(body, "header")
    header.tail = "\n"
    hwrap = _el(header, "div", class_="wrap")
    _el(hwrap, "h1", title)
    subscribe = _ui(_el(hwrap, "nav", class_="subscribe", aria_labelledby="subscribe-heading"), lang)
    _el(subscribe, "h2", "Subscribe", id="subscribe-heading", class_="visually-hidden")
    ul = _el(subscribe, "ul")
    feed_expected = layout.FEED in cat.files
    if feed_expected:
        _el(_el(ul, "li"), "a", "Podcast feed (RSS)", href=FEED_NAME, type="application/rss+xml")
    if layout.OPDS_XML in cat.files:
        _el(_el(ul, "li"), "a", "OPDS catalogue (for reading apps)", href=OPDS_NAME, type="application/atom+xml")
    if feed_expected:
        base = settings.base_url if settings.base_url.endswith("/") else settings.base_url + "/"
        hint = _el(subscribe, "p", "To subscribe in a podcast app, give it this address: ", class_="muted")
        _el(hint, "a", base + FEED_NAME, href=FEED_NAME, class_="feed-url")

    main = _el(body, "main", id="publications", tabindex="-1")
    main.tail = "\n"
    mwrap = _el(main, "div", class_="wrap")
    if not entries:
        _ui(_el(mwrap, "p", "Nothing has been published yet."), lang)
    for entry in entries:
        article = _el(mwrap, "article", class_="pub", aria_labelledby=f"pub-{entry.slug}")
        article.tail = "\n"
        if entry.language != lang:
            article.set("lang", entry.language)
            article.set("dir", text_direction(entry.language))
        figure = _el(article, "div")
        if entry.cover and (entry.folder / entry.cover).is_file():
            by = f" by {join_names(entry.authors)}" if entry.authors else ""
            _cover(figure, entry.folder, entry.cover, f"Cover of {entry.title}{by}", f"{entry.slug}/")
        text = _el(article, "div")
        heading = _el(text, "h2", id=f"pub-{entry.slug}")
        page = entry.formats.get("page")
        if page:
            _el(heading, "a", entry.title, href=f"{entry.slug}/{page}")
        else:
            heading.text = entry.title
        if entry.authors:
            _el(text, "p", f"By {join_names(entry.authors)}")
        facts = _el(text, "p", class_="muted")
        date = entry.date or entry.published[:10]
        _el(facts, "time", display_date(date, entry.language), datetime=date).tail = " · "
        _el(facts, "time", human_duration(entry.duration), datetime=iso_duration(entry.duration))
        if entry.narrator:
            _el(facts, "span", f" · narrated by {entry.narrator}")
        if entry.description:
            _el(text, "p", entry.description)
        if page:
            _ui(_el(_el(text, "p"), "a", "Read and listen", href=f"{entry.slug}/{page}"), entry.language)
        formats = _el(text, "ul", class_="formats", aria_label=f"Downloads of {entry.title}")
        for label_text, href, size in _entry_downloads(entry, "feed" in cat.kinds):
            item = _el(formats, "li")
            _ui(item, entry.language)
            link = _el(item, "a", label_text, href=f"{entry.slug}/{href}", type=media_type(href))
            if href.endswith(".xml"):
                link.set("type", "application/rss+xml")
            if size is not None:
                link.tail = f" ({human_size(size)})"

    footer = _el(body, "footer")
    _ui(footer, lang)
    modified = max((e.modified for e in entries), default=None)
    fp = _el(_el(footer, "div", class_="wrap"), "p", class_="muted")
    if modified:
        fp.text = "Updated "
        _el(fp, "time", modified[:10], datetime=modified).tail = f". Made with publisher {__version__}."
    else:
        fp.text = f"Made with publisher {__version__}."
    return _serialise(html)


def write_index(cat: CatalogueContext) -> list[Path]:
    """Write `output/index.html`, the catalogue page."""
    path = cat.output / PAGE_NAME
    write_atomic(path, index_page(cat))
    return [path]
