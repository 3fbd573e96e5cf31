"""The XML namespaces of every format written or checked here, and one prefix map for XPath."""

from __future__ import annotations

XHTML = "http://www.w3.org/1999/xhtml"
XML = "http://www.w3.org/XML/1998/namespace"
SVG = "http://www.w3.org/2000/svg"
#: EPUB 3 structural semantics (`epub:type`, `epub:textref`)
EPUB = "http://www.idpf.org/2007/ops"
OPF = "http://www.idpf.org/2007/opf"
CONTAINER = "urn:oasis:names:tc:opendocument:xmlns:container"  # META-INF/container.xml
NCX = "http://www.daisy.org/z3986/2005/ncx/"
SMIL = "http://www.w3.org/ns/SMIL"
#: Dublin Core elements (the OPF's dc:title …) and DCMI terms (OPDS 1.2 entries)
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
ATOM = "http://www.w3.org/2005/Atom"
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
OPDS = "http://opds-spec.org/2010/catalog"
THR = "http://purl.org/syndication/thread/1.0"  # Atom threading: facet counts
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
PLS = "http://www.w3.org/2005/01/pronunciation-lexicon"
XMLENC = "http://www.w3.org/2001/04/xmlenc#"  # META-INF/encryption.xml (DRM)

#: prefixes for XPath over EPUB packages, content documents and overlays
NS = {"opf": OPF, "dc": DC, "x": XHTML, "s": SMIL, "epub": EPUB, "ncx": NCX}
