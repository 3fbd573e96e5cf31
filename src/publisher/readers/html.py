"""HTML reader: a saved article page → Publication (chrome, scripts and styles dropped)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import lxml.html
from lxml import etree

from publisher.errors import SourceError
from publisher.model.publication import Block, BlockKind, Metadata, Publication, Run, Style
from publisher.readers.common import assemble, check_language
from publisher.text import collapse_ws, parse_date
from publisher.xmlns import XML

_DROP = (
    "script", "style", "noscript", "template", "nav", "aside", "form", "iframe", "button",
    "footer", "svg", "canvas", "video", "audio", "object", "embed", "select", "dialog",
)  # fmt: skip
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_INLINE_MARKS = {
    "em": "em",
    "i": "em",
    "cite": "em",
    "strong": "strong",
    "b": "strong",
    "code": "code",
}
_CONTAINERS = {
    "div", "section", "article", "main", "body", "header", "hgroup", "figure", "details",
    "center", "span", "table", "tbody", "thead", "tr", "dl",
}  # fmt: skip


def _meta(doc: lxml.html.HtmlElement, *names: str) -> str | None:
    for name in names:
        for attr in ("name", "property", "itemprop"):
            for el in doc.xpath(f"//meta[@{attr}=$n]", n=name):
                content = collapse_ws(el.get("content") or "")
                if content:
                    return content
    return None


def _runs(el: lxml.html.HtmlElement, marks: tuple[Style, ...] = ()) -> list[Run]:
    runs: list[Run] = []
    if el.text:
        runs.append(Run(el.text, marks))
    for child in el:
        if not isinstance(child.tag, str):  # comments, processing instructions
            pass
        elif child.tag == "br":
            runs.append(Run(" ", marks))
        elif child.tag == "img":
            pass
        elif child.tag == "a" and child.get("href"):
            runs.extend(_runs(child, (*marks, Style("link", child.get("href")))))
        elif child.tag in _INLINE_MARKS:
            runs.extend(_runs(child, (*marks, Style(_INLINE_MARKS[child.tag]))))  # type: ignore[arg-type]
        else:
            runs.extend(_runs(child, marks))
        if child.tail:
            runs.append(Run(child.tail, marks))
    return runs


def _walk(el: lxml.html.HtmlElement, blocks: list[Block], quote: int = 0) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _HEADINGS:
        blocks.append(Block(kind="heading", runs=_runs(el), level=_HEADINGS[tag]))
    elif tag == "p" or tag in ("figcaption", "dt", "dd", "caption", "td", "th", "address"):
        kind: BlockKind = "quote" if quote else "paragraph"
        blocks.append(Block(kind=kind, runs=_runs(el), level=quote))
        for img in el.iter("img"):
            _image(img, blocks)
    elif tag == "li":
        parent = el.getparent()
        ordered = parent is not None and parent.tag == "ol"
        blocks.append(Block(kind="list_item", runs=_runs(el), level=1, ordered=ordered))
    elif tag == "pre":
        blocks.append(Block(kind="code", runs=[Run(el.text_content(), (Style("code"),))]))
    elif tag == "img":
        _image(el, blocks)
    elif tag == "blockquote" or tag in _CONTAINERS or tag in ("ul", "ol"):
        depth = quote + 1 if tag == "blockquote" else quote
        if el.text and el.text.strip():
            blocks.append(Block(kind="quote" if depth else "paragraph", runs=[Run(el.text)], level=depth))
        for child in el:
            _walk(child, blocks, depth)
            if child.tail and child.tail.strip():
                kind2: BlockKind = "quote" if depth else "paragraph"
                blocks.append(Block(kind=kind2, runs=[Run(child.tail)], level=depth))
    elif tag:  # unknown element: keep its text as a paragraph rather than lose it
        runs = _runs(el)
        if "".join(r.text for r in runs).strip():
            blocks.append(Block(kind="quote" if quote else "paragraph", runs=runs, level=quote))


def _image(img: lxml.html.HtmlElement, blocks: list[Block]) -> None:
    src = img.get("src")
    if src:
        blocks.append(Block(kind="image", src=src, alt=collapse_ws(img.get("alt") or "")))


def read(text: str, path: Path, defaults: Metadata) -> Publication:
    """Read a saved web page (the article in it) into a Publication."""
    parser = lxml.html.HTMLParser(huge_tree=True, no_network=True)
    try:
        doc = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise SourceError(f"is not readable HTML: {exc}", path=path) from exc
    if any("Excessive depth" in error.message for error in parser.error_log):
        raise SourceError(
            "its elements are nested too deeply (over 2,048 levels) to read without losing text", path=path
        )
    meta = replace(defaults, authors=list(defaults.authors), subjects=list(defaults.subjects))
    title_el = doc.find(".//title")
    first_h1 = doc.find(".//h1")
    meta.title = (
        _meta(doc, "og:title", "twitter:title", "dc.title", "DC.title")
        or (collapse_ws(first_h1.text_content()) if first_h1 is not None else "")
        or (collapse_ws(title_el.text_content()) if title_el is not None else "")
    )
    author = _meta(doc, "author", "article:author", "dc.creator", "DC.creator", "byl")
    if author is None:
        by = doc.xpath("//*[@rel='author' or contains(@class,'byline') or @itemprop='author']")
        author = collapse_ws(by[0].text_content()) if by else None
    if author:
        meta.authors = [collapse_ws(author.removeprefix("By ").removeprefix("by "))]
    published = _meta(doc, "article:published_time", "date", "dc.date", "DC.date", "pubdate")
    if published is None:
        times = doc.xpath("//time[@datetime]")
        published = times[0].get("datetime") if times else None
    if published:
        meta.date = parse_date(published[:10]) or meta.date
    meta.description = _meta(doc, "description", "og:description") or meta.description
    meta.publisher = _meta(doc, "og:site_name", "publisher") or meta.publisher
    lang = doc.get("lang") or doc.get(f"{{{XML}}}lang")
    if lang:
        meta.language = check_language(lang, path)

    for bad in doc.xpath("|".join(f"//{t}" for t in _DROP)):
        bad.drop_tree()
    for el in doc.xpath("//*[@hidden or @aria-hidden='true' or @role='navigation']"):
        el.drop_tree()
    roots = doc.xpath("//article") or doc.xpath("//main") or doc.xpath("//body") or [doc]
    blocks: list[Block] = []
    for child in roots[0]:
        _walk(child, blocks)
    # a byline inside the article repeats the metadata: leave it out of the text
    blocks = [b for b in blocks if not (b.kind == "paragraph" and _is_byline(b.text, meta))]
    return assemble(meta, blocks, path)


def _is_byline(text: str, meta: Metadata) -> bool:
    plain = collapse_ws(text)
    if not plain:
        return False
    if meta.authors and plain.lower().removeprefix("by ").strip() == meta.authors[0].lower():
        return True
    return meta.date is not None and parse_date(plain) == meta.date
