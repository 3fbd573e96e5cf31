"""Untrusted markup made harmless: plain text from HTML (descriptions), SVG through an allow-list."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from publisher.xmlns import SVG, XML

XLINK = "http://www.w3.org/1999/xlink"
_WS = re.compile(r"\s+")

# --- plain text ---------------------------------------------------------------------------------

#: inline elements: their text runs on without a space (every other element is a break)
_INLINE = {
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "kbd", "mark", "q", "s", "samp",
    "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr", "font", "tt", "big", "strike",
}  # fmt: skip
#: elements whose content is never text a reader sees
_HIDDEN = ("script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math", "head", "title")


def plain_text(text: str) -> str:
    """`text` without markup: the words an HTML renderer would show, white space collapsed (for
    descriptions, which podcast apps, reading systems and catalogues render as HTML). Text without
    a `<` is returned as it is."""
    if "<" not in text:
        return text
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(text, create_parent="div")
    except (etree.ParserError, ValueError):
        return _WS.sub(" ", re.sub(r"<[^>]*>?", " ", text)).strip()
    for hidden in root.xpath("|".join(f"//{tag}" for tag in _HIDDEN)):
        hidden.drop_tree()
    for el in root.iter():
        if isinstance(el.tag, str) and el is not root and el.tag.lower() not in _INLINE:
            el.tail = " " + (el.tail or "")
            el.text = " " + (el.text or "")
    return _WS.sub(" ", root.text_content()).strip()


# --- SVG ------------------------------------------------------------------------------------------

#: SVG elements a drawing needs (SVG 1.1/2 shapes, text, paint servers, clipping, masking, filters)
SVG_ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "symbol", "use", "title", "desc", "switch", "a", "view",
        "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "image",
        "text", "tspan", "textPath",
        "linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask", "marker", "style",
        "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix",
        "feDiffuseLighting", "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA",
        "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur", "feImage", "feMerge", "feMergeNode", "feMorphology",
        "feOffset", "fePointLight", "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
    }
)  # fmt: skip
#: attributes without a namespace that draw, place or describe (no event handler is one of them)
SVG_ATTRIBUTES = frozenset(
    {
        # core, structure, accessibility
        "id", "class", "style", "lang", "tabindex", "role", "version", "baseProfile", "viewBox",
        "preserveAspectRatio", "x", "y", "width", "height", "transform", "href", "requiredFeatures",
        "requiredExtensions", "systemLanguage", "focusable",
        "aria-label", "aria-labelledby", "aria-describedby", "aria-hidden",
        # geometry
        "d", "cx", "cy", "r", "rx", "ry", "x1", "y1", "x2", "y2", "points", "pathLength", "dx", "dy", "rotate",
        "textLength", "lengthAdjust", "startOffset", "method", "spacing", "side",
        # presentation
        "alignment-baseline", "baseline-shift", "clip", "clip-path", "clip-rule", "color", "color-interpolation",
        "color-interpolation-filters", "color-profile", "color-rendering", "direction", "display",
        "dominant-baseline", "enable-background", "fill", "fill-opacity", "fill-rule", "filter", "flood-color",
        "flood-opacity", "font", "font-family", "font-size", "font-size-adjust", "font-stretch", "font-style",
        "font-variant", "font-weight", "glyph-orientation-horizontal", "glyph-orientation-vertical",
        "image-rendering", "kerning", "letter-spacing", "lighting-color", "marker-end", "marker-mid",
        "marker-start", "mask", "opacity", "overflow", "paint-order", "pointer-events", "shape-rendering",
        "stop-color", "stop-opacity", "stroke", "stroke-dasharray", "stroke-dashoffset", "stroke-linecap",
        "stroke-linejoin", "stroke-miterlimit", "stroke-opacity", "stroke-width", "text-anchor",
        "text-decoration", "text-rendering", "unicode-bidi", "vector-effect", "visibility", "word-spacing",
        "writing-mode", "mix-blend-mode", "isolation", "transform-origin",
        # paint servers, clipping, masking, markers
        "gradientUnits", "gradientTransform", "spreadMethod", "fx", "fy", "fr", "offset", "patternUnits",
        "patternContentUnits", "patternTransform", "clipPathUnits", "maskUnits", "maskContentUnits",
        "markerUnits", "markerWidth", "markerHeight", "refX", "refY", "orient",
        # filters
        "filterUnits", "primitiveUnits", "filterRes", "in", "in2", "result", "mode", "type", "values",
        "tableValues", "slope", "intercept", "amplitude", "exponent", "operator", "k1", "k2", "k3", "k4",
        "order", "kernelMatrix", "divisor", "bias", "targetX", "targetY", "edgeMode", "kernelUnitLength",
        "preserveAlpha", "surfaceScale", "diffuseConstant", "specularConstant", "specularExponent", "scale",
        "xChannelSelector", "yChannelSelector", "stdDeviation", "azimuth", "elevation", "z", "pointsAtX",
        "pointsAtY", "pointsAtZ", "limitingConeAngle", "baseFrequency", "numOctaves", "seed", "stitchTiles",
        "radius", "media",
    }
)  # fmt: skip
#: namespaced attributes kept: xml:space, xml:lang and the (checked) xlink:href and xlink:title
_NAMESPACED = frozenset({f"{{{XML}}}space", f"{{{XML}}}lang", f"{{{XLINK}}}href", f"{{{XLINK}}}title"})
#: raster images a drawing may embed as a data: URL (never another SVG, which could hold anything)
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*\Z", re.IGNORECASE)
#: links a reader may follow from an <a>
_LINK = re.compile(r"(https?:|mailto:)[^\s]*\Z|#[^\s]*\Z", re.IGNORECASE)
#: CSS that reaches outside the drawing or runs code: any url() but a fragment, @import, expression()…
_BAD_CSS = re.compile(r"url\s*\(\s*(?!['\"]?#)|@import|expression\s*\(|javascript:|behavior\s*:|-moz-binding", re.I)
#: presentation attributes (fill, clip-path, filter, marker-*) may hold url(#id), and only that
_URL = re.compile(r"url\s*\(", re.IGNORECASE)
_FRAGMENT_URL = re.compile(r"\s*url\(\s*['\"]?#[^)'\"]*['\"]?\s*\)(\s+\S.*)?\Z", re.IGNORECASE)


class UnsafeSvg(ValueError):
    """An SVG that cannot be made safe (not well-formed, not SVG, or declaring entities)."""


#: removed elements that run, load or animate something (the rest is editor data or unknown markup)
_ACTIVE_ELEMENTS = frozenset(
    {"script", "foreignObject", "iframe", "object", "embed", "set", "animate", "animateMotion",
     "animateTransform", "animateColor", "discard", "mpath", "handler", "listener", "style"}
)  # fmt: skip


@dataclass
class Sanitised:
    """An SVG after the allow-list: its bytes, and what was taken out (empty: it was safe as it was)."""

    data: bytes
    removed: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)  # what could run, load or link: scripts, handlers, links


def _local(name: str) -> tuple[str, str]:
    """(namespace, local name) of an element or attribute name."""
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return "", name


def _href_ok(element: str, value: str) -> bool:
    value = value.strip()
    if element == "a":
        return bool(_LINK.match(value))
    if element in ("image", "feImage"):
        return bool(_DATA_IMAGE.match(value)) or (value.startswith("#") and element == "feImage")
    return value.startswith("#")  # use, textPath, gradients, patterns, filters: inside the drawing only


def sanitise_svg(data: bytes) -> Sanitised:
    """`data` through the allow-list: only SVG_ELEMENTS and SVG_ATTRIBUTES stay; no script, no event
    handler, no foreignObject or animation, no processing instruction, no DOCTYPE, no reference
    outside the drawing (links in `href` only to `#fragments`, http(s)/mailto on `<a>`, raster
    data: URLs on `<image>`; CSS without url() other than `url(#…)`, @import or expression()).

    An SVG with nothing to remove keeps its bytes; otherwise it is serialised again. Raises
    UnsafeSvg when it is not a well-formed SVG document or declares entities.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise UnsafeSvg(f"not well-formed XML: {exc}") from exc
    if root.tag != f"{{{SVG}}}svg":
        raise UnsafeSvg("its root element is not <svg>")
    tree = root.getroottree()
    dtd = tree.docinfo.internalDTD
    if dtd is not None and list(dtd.iterentities()):
        raise UnsafeSvg("it declares XML entities")
    found = Sanitised(data)
    if tree.docinfo.doctype:
        found.removed.append("DOCTYPE")
    for node in [*root.itersiblings(preceding=True), *root.itersiblings()]:
        if isinstance(node, etree._ProcessingInstruction):
            found.removed.append(f"<?{node.target}?>")
            found.active.append(f"<?{node.target}?>")
    _clean(root, found)
    if not found.removed:
        return found
    found.data = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return found


def _clean(el: etree._Element, found: Sanitised) -> None:
    """Remove from `el`'s content (depth first) what the allow-list does not name; clean its attributes."""
    _clean_attributes(el, _local(el.tag)[1], found)
    for child in list(el):
        if isinstance(child, etree._ProcessingInstruction):
            found.removed.append(f"<?{child.target}?>")
            found.active.append(f"<?{child.target}?>")
            _remove(child)
            continue
        if not isinstance(child.tag, str):
            continue  # comments stay
        namespace, local = _local(child.tag)
        reason = None
        if namespace != SVG or local not in SVG_ELEMENTS:
            reason = f"<{local}>"
        elif local == "style" and _BAD_CSS.search(child.text or ""):
            reason = "<style> reaching outside the drawing"
        if reason is None:
            _clean(child, found)
            continue
        found.removed.append(reason)
        if local in _ACTIVE_ELEMENTS:
            found.active.append(reason)
        _remove(child)


def _clean_attributes(el: etree._Element, local: str, found: Sanitised) -> None:
    for name in list(el.attrib):
        value = el.attrib[name]
        namespace, attr = _local(name)
        active = True
        if attr.lower().startswith("on"):
            reason = f"event handler {attr}"
        elif (namespace and name not in _NAMESPACED) or (not namespace and attr not in SVG_ATTRIBUTES):
            reason, active = f"attribute {attr}", False
        elif attr == "href" and not _href_ok(local, value):
            reason = f"link {value.strip()[:40]!r}"
        elif attr == "style" and _BAD_CSS.search(value):
            reason = "style reaching outside the drawing"
        elif attr not in ("href", "style") and _URL.search(value) and not _FRAGMENT_URL.match(value):
            reason = f"{attr} reaching outside the drawing"
        else:
            continue
        del el.attrib[name]
        found.removed.append(reason)
        if active:
            found.active.append(reason)


def _remove(el: etree._Element) -> None:
    """Take `el` out of the tree, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    previous = el.getprevious()
    parent.remove(el)
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
