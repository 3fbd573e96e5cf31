"""Documents through pandoc (Word, ODT, RTF, reStructuredText, LaTeX, Org, FB2, DocBook, JATS…) → HTML → Publication."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from publisher.errors import SourceError
from publisher.model.publication import Metadata, Publication
from publisher.readers.html import read_html
from publisher.readers.package import Package, media_folder

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
    if fmt in ZIPPED:
        package = Package(path, fmt.upper())  # refuses broken zips and zip bombs before pandoc sees them
        properties = document_properties(package, fmt)
    media = media_folder(path)
    html = to_html(path, fmt, media, properties)
    return read_html(html, path, defaults, media=media, whole=True)
