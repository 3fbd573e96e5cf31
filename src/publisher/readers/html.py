"""HTML reader: a web page's main content → Publication (navigation, ads, comments, scripts dropped)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree

from publisher.errors import SourceError
from publisher.model.publication import Metadata, Publication
from publisher.readers.common import assemble, check_language
from publisher.readers.markup import Notes, Walker, same_doc
from publisher.sanitise import plain_text
from publisher.text.clean import collapse_ws
from publisher.text.dates import parse_date
from publisher.xmlns import XML

_DROP = (
    "script", "style", "noscript", "template", "nav", "aside", "form", "iframe", "button",
    "footer", "svg", "canvas", "video", "audio", "object", "embed", "select", "dialog",
)  # fmt: skip
#: class or id words of page furniture: navigation, ads, comments, sharing, newsletters
_CHROME = re.compile(
    r"(^|[\s_-])(comments?|advert\w*|ads?|sponsor\w*|promo\w*|share|sharing|social|related|newsletter|"
    r"subscribe|cookie\w*|banner|sidebar|menu|breadcrumbs?|popup|modal|masthead|site-header|site-footer)($|[\s_-])",
    re.IGNORECASE,
)


def _meta(doc: lxml.html.HtmlElement, *names: str) -> str | None:
    for name in names:
        for attr in ("name", "property", "itemprop"):
            for el in doc.xpath(f"//meta[@{attr}=$n]", n=name):
                content = collapse_ws(el.get("content") or "")
                if content:
                    return content
    return None


def _text_length(el: lxml.html.HtmlElement) -> int:
    return len(collapse_ws(el.text_content()))


def _link_density(el: lxml.html.HtmlElement) -> float:
    total = _text_length(el) or 1
    return sum(_text_length(a) for a in el.iter("a")) / total


def main_content(doc: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The element holding the page's text: the largest <article> or <main>; failing those, the
    block whose own paragraphs hold the most prose (a readability-style score: text of its
    paragraphs, less what is links); failing that, the body."""
    for tag in ("article", "main"):
        found = doc.xpath(f"//{tag}")
        if found:
            return max(found, key=_text_length)
    scores: dict[lxml.html.HtmlElement, float] = {}
    for p in doc.xpath("//p | //pre | //blockquote"):
        parent = p.getparent()
        length = _text_length(p)
        if parent is None or length < 25:
            continue
        score = (1 + length / 100 + collapse_ws(p.text_content()).count(",")) * (1 - _link_density(p))
        scores[parent] = scores.get(parent, 0.0) + score
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + score / 2
    if scores:
        best = max(scores, key=lambda el: scores[el] * (1 - _link_density(el)))
        if best.tag != "html":
            return best
    bodies = doc.xpath("//body")
    return bodies[0] if bodies else doc


def drop_chrome(doc: lxml.html.HtmlElement) -> None:
    """Remove scripts, styles, navigation, ads, comments and hidden elements from the page."""
    for bad in doc.xpath("|".join(f"//{t}" for t in _DROP)):
        if not (set((bad.get("epub:type") or bad.get("role") or "").split()) & NOTE_ROLES):
            bad.drop_tree()
    for el in doc.xpath("//*[@hidden or @aria-hidden='true' or @role='navigation' or @role='complementary']"):
        el.drop_tree()
    for el in doc.xpath("//*[@class or @id]"):
        words = f"{el.get('class') or ''} {el.get('id') or ''}"
        if el.tag not in ("html", "body", "article", "main") and _CHROME.search(words) and el.getparent() is not None:
            el.drop_tree()


#: an XML declaration opening the text (XHTML): the text is decoded already, so its encoding is void
_XML_DECLARATION = re.compile(r"\A\s*<\?xml\s[^>]*\?>")

#: asides that are notes, not page furniture: kept
NOTE_ROLES = {"footnote", "endnote", "doc-footnote", "doc-endnote", "rearnote", "note"}


def read(text: str, path: Path, defaults: Metadata) -> Publication:
    """Read a web page (its main content) into a Publication."""
    return read_html(text, path, defaults)


def read_html(text: str, path: Path, defaults: Metadata, media: Path | None = None, whole: bool = False) -> Publication:
    """Read HTML into a Publication: the page's main content, or with `whole` all of the body (a
    document converted by pandoc); `media` is the folder its images were unpacked into."""
    parser = lxml.html.HTMLParser(huge_tree=True, no_network=True)
    # lxml refuses decoded text that declares an encoding (an XHTML file's `<?xml … encoding=…?>`)
    text = _XML_DECLARATION.sub("", text, count=1)
    try:
        doc = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise SourceError(f"is not readable HTML: {exc}", path=path) from exc
    if any("Excessive depth" in error.message for error in parser.error_log):
        raise SourceError(
            "its elements are nested too deeply (over 2,048 levels) to read without losing text", path=path
        )
    meta = page_metadata(doc, path, defaults)
    drop_chrome(doc)
    bodies = doc.xpath("//body")
    root = (bodies[0] if bodies else doc) if whole else main_content(doc)
    notes = Notes()
    notes.scan(doc, "", lambda d, href: same_doc(d, href))
    walker = Walker("", notes)
    for child in root:
        walker.walk(child)
    for el in doc.iter():  # notes kept outside the main content (a page's footnotes section)
        if notes.keys.get(id(el)) and not _inside(el, root):
            walker.walk(el)
    # a byline inside the article repeats the metadata: leave it out of the text
    blocks = [b for b in walker.blocks if not (b.kind == "paragraph" and _is_byline(b.text, meta))]
    return assemble(meta, blocks, path, media)


def page_metadata(doc: lxml.html.HtmlElement, path: Path, defaults: Metadata) -> Metadata:
    """Title, authors, date, description, publisher, keywords and language from a page's head."""
    changes: dict[str, Any] = {}
    title_el = doc.find(".//title")
    first_h1 = doc.find(".//h1")
    changes["title"] = (
        _meta(doc, "og:title", "twitter:title", "dc.title", "DC.title")
        or (collapse_ws(first_h1.text_content()) if first_h1 is not None else "")
        or (collapse_ws(title_el.text_content()) if title_el is not None else "")
    )
    author = _meta(doc, "author", "article:author", "dc.creator", "DC.creator", "byl")
    if author is None:
        by = doc.xpath("//*[@rel='author' or contains(@class,'byline') or @itemprop='author']")
        author = collapse_ws(by[0].text_content()) if by else None
    if author:
        others = [collapse_ws(m.get("content") or "") for m in doc.xpath("//meta[@name='author']")[1:]]
        changes["authors"] = [collapse_ws(author.removeprefix("By ").removeprefix("by ")), *filter(None, others)]
    published = _meta(doc, "article:published_time", "date", "dc.date", "DC.date", "pubdate")
    if published is None:
        times = doc.xpath("//time[@datetime]")
        published = times[0].get("datetime") if times else None
    if published:
        changes["date"] = parse_date(published[:10]) or defaults.date
    description = _meta(doc, "description", "og:description")
    changes["description"] = plain_text(description) if description else defaults.description  # text, never markup
    changes["subtitle"] = _meta(doc, "subtitle") or defaults.subtitle
    changes["publisher"] = _meta(doc, "og:site_name", "publisher") or defaults.publisher
    keywords = _meta(doc, "keywords")
    if keywords:
        changes["subjects"] = [collapse_ws(k) for k in keywords.split(",") if k.strip()]
    lang = doc.get("lang") or doc.get(f"{{{XML}}}lang")
    if lang:
        changes["language"] = check_language(lang, path)
    return replace(defaults, **changes)


def _inside(el: lxml.html.HtmlElement, root: lxml.html.HtmlElement) -> bool:
    return el is root or any(a is root for a in el.iterancestors())


def _is_byline(text: str, meta: Metadata) -> bool:
    plain = collapse_ws(text)
    if not plain:
        return False
    if meta.authors and plain.lower().removeprefix("by ").strip() == meta.authors[0].lower():
        return True
    return meta.date is not None and parse_date(plain) == meta.date
