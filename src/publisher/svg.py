"""SVG drawings: whether one is safe and self-contained (so it can be kept as it is), and its
rasterisation with resvg (the resvg-py wheel: no system library) for art that must be pixels."""

from __future__ import annotations

import io

from lxml import etree

from publisher.xmlns import SVG

XLINK = "http://www.w3.org/1999/xlink"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
#: CSS that can fetch something: @import, or url() not pointing inside the drawing or at data
_FETCHING_CSS = ("@import", "url(http", "url(//", "url(file", "url(/", "url(.")


def svg_problem(data: bytes) -> str | None:
    """Why `data` cannot be used as a drawing of its own, or None: it must be a well-formed SVG
    with no scripts, no entities, and nothing it fetches from elsewhere (every href is a fragment
    or a data: URI), so that it shows the same wherever it is copied and reads no other file."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        return f"is not well-formed XML ({exc})"
    if root.tag != f"{{{SVG}}}svg":
        return "is not an SVG drawing (its root is not <svg>)"
    if root.getroottree().docinfo.internalDTD is not None:
        return "declares a DTD or entities"
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if etree.QName(el).localname in ("script", "foreignObject"):
            return f"holds a <{etree.QName(el).localname}>"
        for name, value in el.attrib.items():
            local = etree.QName(name).localname
            if local == "href" and not value.strip().startswith(("#", "data:")):
                return f"refers to a file outside itself ({value[:60]!r})"
            if local.startswith("on"):
                return f"has an event handler ({local})"
            if local == "style" and any(f in value.replace(" ", "").lower() for f in _FETCHING_CSS):
                return "has CSS that fetches a file"
        if etree.QName(el).localname == "style":
            css = "".join(el.itertext()).replace(" ", "").lower()
            if any(f in css for f in _FETCHING_CSS):
                return "has CSS that fetches a file"
    return None


def rasterise(data: bytes, longest: int) -> bytes:
    """A self-contained SVG (see svg_problem) drawn as an RGB JPEG whose longer edge is `longest`
    pixels, on white where it is transparent."""
    import resvg_py
    from PIL import Image

    root = etree.fromstring(data, _PARSER)
    box = [float(v) for v in (root.get("viewBox") or "0 0 0 0").replace(",", " ").split()[2:4]]
    width, height = box if len(box) == 2 and min(box) > 0 else (1.0, 1.0)
    wide = width >= height
    png = resvg_py.svg_to_bytes(
        svg_string=etree.tostring(root, encoding="unicode"),
        width=longest if wide else None,
        height=None if wide else longest,
    )
    with Image.open(io.BytesIO(bytes(png))) as image:
        drawing = image.convert("RGBA")
    page = Image.new("RGB", drawing.size, "#ffffff")
    page.paste(drawing, mask=drawing.getchannel("A"))
    out = io.BytesIO()
    page.save(out, format="JPEG", quality=90, optimize=True)
    return out.getvalue()
