"""Documents through pandoc (Word, ODT, RTF, reStructuredText, LaTeX, Org, FB2, DocBook, JATS…) → HTML → Publication."""

from __future__ import annotations

import itertools
import logging
import re
import subprocess
import zipfile
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from pathlib import Path

import lxml.html
from lxml import etree

from publisher.errors import SourceError
from publisher.model.publication import Metadata, Publication
from publisher.readers.html import read_html
from publisher.readers.package import Package, media_folder
from publisher.text.clean import collapse_ws

log = logging.getLogger(__name__)

#: file suffix → pandoc's reader; every one is listed in the README's table of accepted sources
FORMATS: dict[str, str] = {
    ".docx": "docx",
    ".odt": "odt",
    ".rtf": "rtf",
    ".rst": "rst",
    ".tex": "latex",
    ".latex": "latex",
    ".org": "org",
    ".fb2": "fb2",
    ".dbk": "docbook",
    ".docbook": "docbook",
    ".jats": "jats",
    ".xml": "",  # DocBook or JATS: told apart by the root element
    ".textile": "textile",
    ".wiki": "mediawiki",
    ".mediawiki": "mediawiki",
    ".adoc": "asciidoc",
    ".asciidoc": "asciidoc",
    ".typ": "typst",
    ".muse": "muse",
    ".opml": "opml",
    ".ipynb": "ipynb",
    ".djot": "djot",
    ".t2t": "t2t",
    ".man": "man",
}
#: formats that are zip packages (checked for size and zip bombs before pandoc opens them)
ZIPPED = {"docx", "odt"}
#: pandoc may take this long on one document
TIMEOUT_SECONDS = 300

#: the HTML pandoc writes: the body, and the metadata as plain-text meta tags the HTML reader knows
TEMPLATE = """<!DOCTYPE html>
<html$if(lang)$ lang="$lang$"$endif$><head><meta charset="utf-8"/>
$if(title)$<meta name="dc.title" content="$pagetitle$"/>$endif$
$for(author-meta)$<meta name="author" content="$author-meta$"/>$endfor$
$if(date-meta)$<meta name="date" content="$date-meta$"/>$endif$
$if(keywords)$<meta name="keywords" content="$for(keywords)$$keywords$$sep$, $endfor$"/>$endif$
$if(description-meta)$<meta name="description" content="$description-meta$"/>$endif$
<title>$pagetitle$</title></head><body>
$if(subtitle)$<div id="publisher-subtitle">$subtitle$</div>$endif$
$if(abstract)$<div id="publisher-abstract">$abstract$</div>$endif$
$body$
</body></html>
"""


def pandoc_path() -> str:
    """The pandoc inside the pypandoc-binary wheel (no system install needed)."""
    try:
        import pypandoc
    except ImportError as exc:  # pragma: no cover - a runtime dependency
        raise SourceError("reading documents needs pandoc: pip install pypandoc-binary") from exc
    return str(pypandoc.get_pandoc_path())


def pandoc_format(path: Path) -> str:
    """pandoc's name for the source's format; an .xml file is DocBook or JATS by its root element."""
    name = FORMATS[path.suffix.lower()]
    if name:
        return name
    head = path.read_bytes()[:4096].decode("utf-8", "replace")
    if "<article" in head and ("JATS" in head or "jats" in head or "dtd-version" in head):
        return "jats"
    if "<book" in head or "<article" in head or "docbook" in head.lower():
        return "docbook"
    raise SourceError("is XML but neither DocBook nor JATS (its root is not <book> or <article>)", path=path)


#: Dublin Core and OpenDocument property elements → pandoc metadata fields
_PROPERTIES = {
    "title": "title", "creator": "author", "initial-creator": "author", "keywords": "keywords",
    "keyword": "keywords", "description": "description", "subject": "subject", "language": "lang",
    "created": "date", "creation-date": "date",
}  # fmt: skip


def document_properties(package: Package, fmt: str) -> dict[str, str]:
    """A Word or OpenDocument file's own properties (File → Properties): title, author, date…"""
    member = "docProps/core.xml" if fmt == "docx" else "meta.xml"
    if member not in package.names:
        return {}
    found: dict[str, str] = {}
    for el in package.xml(member).iter():
        if not isinstance(el.tag, str):
            continue
        field = _PROPERTIES.get(el.tag.rsplit("}", 1)[-1])
        text = " ".join("".join(el.itertext()).split())
        if field and text and field not in found:
            found[field] = text[:10] if field == "date" else text
        elif field == "keywords" and text:
            found[field] += f", {text}"
    return found


def to_html(path: Path, fmt: str, media: Path, properties: dict[str, str] | None = None) -> str:
    """Run pandoc (sandboxed: it reads only the source) and return the HTML it writes."""
    template = media / "publisher-template.html"
    template.write_text(TEMPLATE, encoding="utf-8")
    command = [
        pandoc_path(), str(path), "--from", fmt, "--to", "html5", "--standalone", "--sandbox",
        "--template", str(template), f"--extract-media={media}", "--wrap=none",
    ]  # fmt: skip
    for field, value in (properties or {}).items():
        if field == "keywords":
            command += [arg for k in value.split(",") if k.strip() for arg in ("-M", f"keywords={k.strip()}")]
        else:
            command += ["-M", f"{field}={value}"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SourceError(f"pandoc took over {TIMEOUT_SECONDS} s to read it; is it damaged?", path=path) from exc
    except OSError as exc:
        raise SourceError(f"cannot run pandoc: {exc.strerror or exc}", path=path) from exc
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit {done.returncode}"]
        raise SourceError(f"pandoc cannot read it as {fmt}: {problem[0][:200]}", path=path)
    for line in done.stderr.decode("utf-8", "replace").splitlines():
        log.info("%s: pandoc: %s", path, line)
    return done.stdout.decode("utf-8")


#: OpenDocument namespaces of the title block and images
TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
STYLE_NS = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
DRAW_NS = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
SVG_NS = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
#: paragraph styles of a title block (Writer's own, and what pandoc writes) → pandoc metadata fields
TITLE_STYLES = {"Title": "title", "Subtitle": "subtitle", "Author": "author", "Date": "date", "Abstract": "abstract"}
#: paragraph styles of a picture's caption (pandoc's, Writer's)
CAPTION_STYLES = {"FigureCaption", "Figure", "Caption", "Illustration", "ImageCaption"}


def _chain(name: str, parents: dict[str, str]) -> list[str]:
    """A style and the styles it inherits from, nearest first (Word's Subtitle is based on Title)."""
    chain: list[str] = []
    while name and name not in chain:
        chain.append(name)
        name = parents.get(name, "")
    return chain


def _style_of(el: etree._Element, parents: dict[str, str]) -> list[str]:
    """A paragraph's style and every style it inherits from (automatic styles name their parent)."""
    return _chain(el.get(f"{{{TEXT_NS}}}style-name") or "", parents)


@dataclass
class TitleBlock:
    """What a Word or OpenDocument file's title block and pictures say, which pandoc's readers drop or keep as text."""

    fields: dict[str, str] = dataclass_field(default_factory=dict)  # title, subtitle, author, date, abstract
    pages: int = 0  # print page breaks marked in the body (PAGE_TOKEN), which pandoc's readers drop
    alts: list[str] = dataclass_field(default_factory=list)  # each picture's text alternative, in order
    content: bytes | None = None  # content.xml without the title block (None: nothing to take out)


#: stands in the body for a page break while pandoc reads it (private-use characters: never in text)
PAGE_TOKEN = "\ue000page\ue001"
#: OpenDocument elements a soft page break may stand in as text, and where it stands between paragraphs
_ODT_INLINE = {f"{{{TEXT_NS}}}{t}" for t in ("p", "h", "span", "a")}
_ODT_FLOW = {f"{{{OFFICE_NS}}}text", f"{{{TEXT_NS}}}section", f"{{{TEXT_NS}}}list-item", f"{{{TEXT_NS}}}note-body"}


def _odt_pages(body: etree._Element) -> int:
    """Writer's soft page breaks (where its layout turned the page when the file was saved) become
    PAGE_TOKEN: as text inside a paragraph, as a paragraph of their own between paragraphs."""
    count = 0
    for mark in list(body.iter(f"{{{TEXT_NS}}}soft-page-break")):
        parent = mark.getparent()
        if parent is None:
            continue
        if parent.tag in _ODT_INLINE:
            stand_in = etree.Element(f"{{{TEXT_NS}}}span")
        elif parent.tag in _ODT_FLOW:
            stand_in = etree.Element(f"{{{TEXT_NS}}}p")
        else:  # between table rows or list items: the page turns at the next paragraph
            _remove_keeping_tail(mark)
            continue
        stand_in.text = PAGE_TOKEN
        stand_in.tail = mark.tail
        parent.replace(mark, stand_in)
        count += 1
    return count


def odt_front(package: Package) -> TitleBlock:
    """Title, Subtitle, Author, Date and Abstract paragraphs (and pandoc's bare abstract text) become
    metadata and leave the body; each picture's alternative text is its svg:title or svg:desc (what
    Writer's Alt Text dialog sets), else the caption paragraph that follows it."""
    root = package.xml("content.xml")
    parents = {
        str(s.get(f"{{{STYLE_NS}}}name")): str(s.get(f"{{{STYLE_NS}}}parent-style-name") or "")
        for s in root.iter(f"{{{STYLE_NS}}}style")
    }
    front = TitleBlock()
    for frame in root.iter(f"{{{DRAW_NS}}}frame"):
        if frame.find(f"{{{DRAW_NS}}}image") is None:
            continue
        alt = "".join(frame.findtext(f"{{{SVG_NS}}}title") or frame.findtext(f"{{{SVG_NS}}}desc") or "")
        paragraph = next((p for p in frame.iterancestors(f"{{{TEXT_NS}}}p")), None)
        following = paragraph.getnext() if paragraph is not None else None
        if not alt.strip() and following is not None and CAPTION_STYLES.intersection(_style_of(following, parents)):
            alt = "".join(following.itertext())
        front.alts.append(collapse_ws(alt))
    body = root.find(f"{{{OFFICE_NS}}}body/{{{OFFICE_NS}}}text")
    if body is None:
        return front
    front.pages = _odt_pages(body)
    changed = bool(front.pages)
    for child in list(body):
        if not isinstance(child.tag, str) or child.tag != f"{{{TEXT_NS}}}p":
            continue
        kinds = [TITLE_STYLES[s] for s in _style_of(child, parents) if s in TITLE_STYLES]
        if kinds and "".join(child.itertext()).strip():
            text = collapse_ws("".join(child.itertext()))
            name = kinds[0]
            front.fields[name] = f"{front.fields[name]} {text}" if name in front.fields else text
            _remove_keeping_tail(child)
            changed = True
    loose = collapse_ws(" ".join([body.text or "", *(c.tail or "" for c in body)]))
    if loose:  # pandoc writes a title block's abstract as bare text in the body
        front.fields.setdefault("abstract", loose)
        body.text = None
        for child in body:
            child.tail = None
        changed = True
    if changed:
        front.content = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return front


WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#: Word's title-block paragraph styles (what pandoc and Word's own templates use) → metadata fields
WORD_TITLE_STYLES = {
    "Title": "title", "Subtitle": "subtitle", "Author": "author", "Date": "date", "Abstract": "abstract",
    "AbstractTitle": "",
}  # fmt: skip


def docx_front(package: Package) -> TitleBlock:
    """A Word document's Title, Subtitle, Author, Date and Abstract paragraphs (pandoc's docx reader
    keeps the abstract and its "Abstract" title in the body) become metadata and leave the body."""
    w = f"{{{WORD_NS}}}"
    parents: dict[str, str] = {}
    if "word/styles.xml" in package.names:
        for style in package.xml("word/styles.xml").iter(f"{w}style"):
            based = style.find(f"{w}basedOn")
            parents[str(style.get(f"{w}styleId"))] = str(based.get(f"{w}val")) if based is not None else ""
    root = package.xml("word/document.xml")
    body = root.find(f"{w}body")
    front = TitleBlock()
    if body is None:
        return front
    # where Word's layout turned the page when it saved the file; else the page breaks typed in
    marks = list(body.iter(f"{w}lastRenderedPageBreak")) or [
        br for br in body.iter(f"{w}br") if br.get(f"{w}type") == "page"
    ]
    for mark in marks:
        stand_in = etree.Element(f"{w}t")
        stand_in.text = PAGE_TOKEN
        mark.getparent().replace(mark, stand_in)
    front.pages = len(marks)
    changed = bool(marks)
    for paragraph in list(body):
        if paragraph.tag != f"{w}p":
            continue
        style = paragraph.find(f"{w}pPr/{w}pStyle")
        chain = _chain(str(style.get(f"{w}val")) if style is not None else "", parents)
        kinds = [WORD_TITLE_STYLES[s] for s in chain if s in WORD_TITLE_STYLES]
        if not kinds:
            continue
        text = collapse_ws("".join(t.text or "" for t in paragraph.iter(f"{w}t")))
        if kinds[0] and text:
            front.fields[kinds[0]] = f"{front.fields[kinds[0]]} {text}" if kinds[0] in front.fields else text
        body.remove(paragraph)
        changed = True
    if changed:
        front.content = etree.tostring(root, xml_declaration=True, encoding="utf-8", standalone=True)
    return front


def _remove_keeping_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    previous = el.getprevious()
    if el.tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _rezipped(package: Package, member: str, content: bytes, dest: Path) -> Path:
    """A copy of a Word or OpenDocument package with `member` replaced (mimetype first and stored)."""
    with zipfile.ZipFile(dest, "w") as out:
        for name in package.zip.namelist():
            data = content if name == member else package.read(name)
            kind = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            out.writestr(name, data, compress_type=kind)
    return dest


def _page_breaks(html: str) -> str:
    """PAGE_TOKEN → page-break markers numbered from 2 (page 1 starts the body): a paragraph holding
    only the token is a marker between paragraphs, a token in running text one inside it."""
    if PAGE_TOKEN not in html:
        return html
    numbers = itertools.count(2)

    def marker(tag: str) -> str:
        n = next(numbers)
        return f'<{tag} id="page-{n}" role="doc-pagebreak" aria-label="{n}"></{tag}>'

    html = re.sub(r"<p>\s*" + PAGE_TOKEN + r"\s*</p>", lambda m: marker("div"), html)
    html = re.sub(PAGE_TOKEN, lambda m: marker("span"), html)
    first = '<div id="page-1" role="doc-pagebreak" aria-label="1"></div>'
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + first, html, count=1)


def _title_block(html: str, alts: list[str]) -> str:
    """The subtitle and abstract pandoc's template put first in the body become meta tags the HTML
    reader knows; pictures without a text alternative get the one the document gives them; page
    breaks become markers."""
    html = _page_breaks(html)
    doc = lxml.html.document_fromstring(html, parser=lxml.html.HTMLParser(huge_tree=True, no_network=True))
    head = doc.find("head")
    for ident, name in (("publisher-subtitle", "subtitle"), ("publisher-abstract", "description")):
        for el in doc.xpath("//*[@id=$i]", i=ident):
            text = collapse_ws(el.text_content())
            if text and head is not None:
                etree.SubElement(head, "meta", {"name": name, "content": text})
            el.drop_tree()
    for img, alt in zip(doc.iter("img"), alts, strict=False):
        if alt and not (img.get("alt") or "").strip():
            img.set("alt", alt)
    return lxml.html.tostring(doc, encoding="unicode", doctype="<!DOCTYPE html>")


def read_file(path: Path, defaults: Metadata) -> Publication:
    """Read a document through pandoc: its properties become the metadata, its headings (Word's
    Heading 1, 2… styles) chapters and sections, its images are unpacked to a temporary folder."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc
    if size == 0:
        raise SourceError("is empty (0 bytes): there is no document to read", path=path)
    fmt = pandoc_format(path)
    properties: dict[str, str] = {}
    front = TitleBlock()
    source = path
    media = media_folder(path)
    if fmt in ZIPPED:
        package = Package(path, fmt.upper())  # refuses broken zips and zip bombs before pandoc sees them
        properties = document_properties(package, fmt)
        member = "content.xml" if fmt == "odt" else "word/document.xml"
        if member in package.names:
            front = odt_front(package) if fmt == "odt" else docx_front(package)
            properties.update(front.fields)  # the title block wins over File → Properties
            if front.content is not None:
                source = _rezipped(package, member, front.content, media / f"publisher-body{path.suffix.lower()}")
    html = to_html(source, fmt, media, properties)
    pub = read_html(_title_block(html, front.alts), path, defaults, media=media, whole=True)
    if front.pages:  # the document's own pages: it is their source
        pub = replace(pub, metadata=replace(pub.metadata, page_source=pub.metadata.identifier or path.name))
    return pub
