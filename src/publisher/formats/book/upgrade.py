"""EPUB 2 → EPUB 3 in place: package version and metadata, a nav document made from the NCX (kept), HTML5 doctypes;
and markup today's HTML no longer allows (an `hgroup` of several headings) brought up to date."""

from __future__ import annotations

import posixpath
import re
import zipfile
from urllib.parse import unquote

from lxml import etree

from publisher.xmlns import DC, EPUB, NCX, OPF, XHTML

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
NAV_NAME = "nav.xhtml"
XHTML_TYPES = {"application/xhtml+xml"}


def upgrade_package(opf: etree._Element, opf_name: str, zin: zipfile.ZipFile, modified: str) -> dict[str, bytes]:
    """Make an EPUB 2 package document EPUB 3 (keeping every metadata value) and return the members
    to add: a nav document built from the NCX's navigation points."""
    opf.set("version", "3.0")
    metadata = opf.find(f"{{{OPF}}}metadata")
    manifest = opf.find(f"{{{OPF}}}manifest")
    assert metadata is not None and manifest is not None
    _metadata_to_epub3(metadata, modified)
    for meta in metadata.iter(f"{{{OPF}}}meta"):
        if meta.get("name") == "cover":
            for item in manifest:
                if item.get("id") == meta.get("content") and (item.get("media-type") or "").startswith("image/"):
                    item.set("properties", "cover-image")
    base = posixpath.dirname(opf_name)
    nav_name = posixpath.join(base, NAV_NAME) if base else NAV_NAME
    if nav_name in zin.namelist():
        nav_name = posixpath.join(base, "nav-epub3.xhtml") if base else "nav-epub3.xhtml"
    ncx_id = opf.xpath("string(//*[local-name()='spine']/@toc)")
    ncx = next((i for i in manifest if i.get("id") == ncx_id), None)
    points: list[tuple[int, str, str]] = []
    if ncx is not None:
        ncx_name = posixpath.normpath(posixpath.join(base, unquote(ncx.get("href") or "")))
        points = _nav_points(etree.fromstring(zin.read(ncx_name), _PARSER), ncx_name, nav_name)
    title = "".join(metadata.findtext(f"{{{DC}}}title") or "Contents")
    language = (metadata.findtext(f"{{{DC}}}language") or "en").strip()
    if not opf.get("{http://www.w3.org/XML/1998/namespace}lang"):  # EPUB 3 reading systems look here
        opf.set("{http://www.w3.org/XML/1998/namespace}lang", language)
    etree.SubElement(
        manifest,
        f"{{{OPF}}}item",
        {"id": "nav-epub3", "href": posixpath.relpath(nav_name, base or "."), "media-type": "application/xhtml+xml",
         "properties": "nav"},
    )  # fmt: skip
    return {nav_name: _nav_document(points, title, language)}


def _metadata_to_epub3(metadata: etree._Element, modified: str) -> None:
    """opf:role, opf:file-as, opf:scheme and opf:event become EPUB 3 refinements or go where EPUB 3 says."""
    role, file_as = f"{{{OPF}}}role", f"{{{OPF}}}file-as"
    dates = metadata.findall(f"{{{DC}}}date")
    for extra in dates[1:]:  # EPUB 3 has one dc:date: the others keep their values as dcterms:date
        _meta(metadata, "dcterms:date", (extra.text or "").strip())
        metadata.remove(extra)
    for n, el in enumerate(list(metadata), start=1):
        if not isinstance(el.tag, str):
            continue
        for attr in [a for a in el.attrib if a.startswith(f"{{{OPF}}}")]:
            value = el.attrib.pop(attr)
            if attr in (role, file_as) and value:
                if not el.get("id"):
                    el.set("id", f"meta-{n}")
                prop = "role" if attr == role else "file-as"
                extra = {"scheme": "marc:relators"} if attr == role else {}
                _meta(metadata, prop, value, refines=f"#{el.get('id')}", **extra)
    for meta in metadata.findall(f"{{{OPF}}}meta"):
        if meta.get("property") == "dcterms:modified":
            metadata.remove(meta)
    _meta(metadata, "dcterms:modified", modified)


def _meta(metadata: etree._Element, prop: str, value: str, refines: str | None = None, **extra: str) -> None:
    attrib = {"property": prop, **({"refines": refines} if refines else {}), **extra}
    etree.SubElement(metadata, f"{{{OPF}}}meta", attrib).text = value


def _nav_points(ncx: etree._Element, ncx_name: str, nav_name: str) -> list[tuple[int, str, str]]:
    """(depth, label, href relative to the nav document) for each navPoint, in order."""
    out = []
    for point in ncx.iter(f"{{{NCX}}}navPoint"):
        depth = sum(1 for a in point.iterancestors(f"{{{NCX}}}navPoint"))
        label = " ".join((point.findtext(f"{{{NCX}}}navLabel/{{{NCX}}}text") or "").split())
        content = point.find(f"{{{NCX}}}content")
        if content is None or not label:
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(ncx_name), content.get("src") or ""))
        out.append((depth, label, posixpath.relpath(target, posixpath.dirname(nav_name) or ".")))
    return out


def _nav_document(points: list[tuple[int, str, str]], title: str, language: str) -> bytes:
    html = etree.Element(f"{{{XHTML}}}html", nsmap={None: XHTML, "epub": EPUB})
    html.set("lang", language)
    html.set("{http://www.w3.org/XML/1998/namespace}lang", language)
    head = etree.SubElement(html, f"{{{XHTML}}}head")
    etree.SubElement(head, f"{{{XHTML}}}meta", {"charset": "utf-8"})
    etree.SubElement(head, f"{{{XHTML}}}title").text = title
    body = etree.SubElement(html, f"{{{XHTML}}}body")
    nav = etree.SubElement(body, f"{{{XHTML}}}nav", {f"{{{EPUB}}}type": "toc", "role": "doc-toc"})
    etree.SubElement(nav, f"{{{XHTML}}}h1").text = "Contents"
    stack = [etree.SubElement(nav, f"{{{XHTML}}}ol")]
    last_li: etree._Element | None = None
    for depth, label, href in points or [(0, title, "")]:
        while depth + 1 > len(stack) and last_li is not None:
            stack.append(etree.SubElement(last_li, f"{{{XHTML}}}ol"))
        del stack[depth + 1 :]
        last_li = etree.SubElement(stack[-1], f"{{{XHTML}}}li")
        link = etree.SubElement(last_li, f"{{{XHTML}}}a", {"href": href} if href else {})
        link.text = label
    return b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n' + etree.tostring(html, encoding="utf-8")


#: XHTML 1.1 attributes HTML5 dropped, and the CSS that says the same
_ALIGN = {"align": "text-align", "valign": "vertical-align"}


def html5_doctype(data: bytes) -> bytes:
    """An XHTML 1.1 content document as EPUB 3 wants it: the HTML5 doctype, `align`/`valign` as
    CSS, no `http-equiv` other than Content-Type; all else kept as the book has it."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return re.sub(rb"<!DOCTYPE[^>\[]*(\[[^\]]*\])?\s*>", b"<!DOCTYPE html>", data, count=1)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr, prop in _ALIGN.items():
            value = el.attrib.pop(attr, None)
            if value:
                style = el.get("style", "").rstrip("; ")
                el.set("style", f"{style}; {prop}: {value}".lstrip("; "))
        if el.tag == f"{{{XHTML}}}meta" and el.get("http-equiv", "content-type").lower() != "content-type":
            el.getparent().remove(el)
    return b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n' + etree.tostring(root, encoding="utf-8")


def xhtml_members(opf: etree._Element, opf_name: str) -> set[str]:
    """The package's XHTML content documents, by member name."""
    base = posixpath.dirname(opf_name)
    return {
        posixpath.normpath(posixpath.join(base, unquote(i.get("href") or "")))
        for i in opf.iter(f"{{{OPF}}}item")
        if i.get("media-type") in XHTML_TYPES
    }


_HEADINGS = tuple(f"{{{XHTML}}}h{n}" for n in range(1, 7))


def modern_hgroups(root: etree._Element) -> int:
    """Make every `hgroup` hold one heading, as HTML has required since 2022 (and EPUBCheck 5 checks:
    "element h3 not allowed here"): its highest-ranked heading stays, the others become `p` elements
    with their attributes (ids, epub:type) and content kept — how Standard Ebooks' own books now mark
    a chapter's ordinal and title. Returns how many headings changed."""
    changed = 0
    for group in root.iter(f"{{{XHTML}}}hgroup"):
        headings = [el for el in group if el.tag in _HEADINGS]
        if len(headings) < 2:
            continue
        kept = min(headings, key=lambda el: _HEADINGS.index(el.tag))
        for el in headings:
            if el is not kept:
                el.tag = f"{{{XHTML}}}p"
                changed += 1
    return changed


def modernise_document(data: bytes) -> bytes:
    """`data` (an XHTML content document) with modern_hgroups applied; the same bytes when nothing
    needed it or it does not parse."""
    if b"hgroup" not in data:
        return data
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return data
    if not modern_hgroups(root):
        return data
    tree = root.getroottree()
    doctype = tree.docinfo.doctype
    head = b'<?xml version="1.0" encoding="utf-8"?>\n' + (doctype.encode() + b"\n" if doctype else b"")
    return head + etree.tostring(root, encoding="utf-8")
