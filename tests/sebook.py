"""Small EPUB 3 books written by the tests, marked up the way Standard Ebooks and publishers mark
theirs up: one case of each content model met in real books, print page breaks, an SVG cover."""

from __future__ import annotations

import zipfile
from pathlib import Path

XHTML_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
    'epub:prefix="z3998: http://www.daisy.org/z3998/2012/vocab/structure/, se: https://standardebooks.org/vocab/1.0" '
    'xml:lang="en-GB">\n<head><title>{title}</title><link href="../css/core.css" rel="stylesheet" type="text/css"/>'
    "</head>\n"
)

#: chapter file → (title, body) of each content-model case met in Standard Ebooks titles
CASES: dict[str, tuple[str, str]] = {
    # a play's cast list (The Importance of Being Earnest): list items holding paragraphs
    "dramatis-personae": (
        "Dramatis Personae",
        '<section id="dramatis-personae" epub:type="z3998:dramatis-personae"><h2 epub:type="title">Dramatis '
        "Personae</h2><ul><li><p>John Worthing, <abbr>J. P.</abbr></p></li><li><p>Algernon Moncrieff</p></li>"
        "<li><p>Lane, Manservant</p></li></ul></section>",
    ),
    # a play's dialogue: a table whose cells hold paragraphs and stage directions
    "act-1": (
        "Act I",
        '<section id="act-1" epub:type="z3998:scene"><h2 epub:type="title">Act I</h2>'
        '<p epub:type="z3998:stage-direction">Morning-room in Algernon’s flat.</p><table><tbody>'
        '<tr><td epub:type="z3998:persona">Algernon</td><td><p>Did you hear what I was playing, Lane?</p>'
        "<p>I’m sorry for that.</p></td></tr>"
        '<tr><td epub:type="z3998:persona">Lane</td><td>I didn’t think it polite to listen, sir.'
        '<a href="#fn-1" id="fnref-1" epub:type="noteref">1</a> '
        '<i epub:type="z3998:stage-direction">Hands them on a salver.</i></td></tr>'
        '</tbody></table><aside id="fn-1" epub:type="footnote"><p>A footnote cited from a table cell. '
        '<a href="#fnref-1" epub:type="backlink">↩</a></p></aside></section>',
    ),
    # poetry: lines as spans with line breaks, a sentence running over several lines
    "the-poem": (
        "The Poem",
        '<article id="the-poem" epub:type="z3998:poem"><h2 epub:type="title">The Poem</h2>'
        '<blockquote epub:type="z3998:verse"><p><span>I celebrate myself, and sing myself,</span><br/>'
        '<span class="i1">And what I assume you shall assume,</span><br/>'
        "<span>For every atom belonging to me as good belongs to you.</span></p>"
        "<p><span>I loafe and invite my soul.</span><br/><span>I lean and loafe at my ease.</span></p>"
        "</blockquote></article>",
    ),
    # a letter: header with a dateline, salutation, footer with a signature
    "letter-1": (
        "Letter 1",
        '<section id="letter-1" epub:type="chapter"><h2 epub:type="title">Letter 1</h2>'
        '<blockquote epub:type="z3998:letter"><header><p epub:type="se:letter.dateline">St. Petersburgh, '
        '<time>Dec. 11th, 17—</time></p></header><p epub:type="z3998:salutation">To Mrs. Saville, England.</p>'
        "<p>You will rejoice to hear that no disaster has accompanied the commencement of an enterprise. "
        'I arrived here yesterday.</p><footer><p epub:type="z3998:signature">R. Walton</p></footer></blockquote>'
        "</section>",
    ),
    # a dictionary: terms with <dfn>, definitions holding paragraphs
    "a": (
        "A",
        '<section id="a" epub:type="chapter"><h2 epub:type="title">A</h2><dl>'
        '<dt class="noun"><dfn>Abacot</dfn></dt><dd><p>A cap of state. It was worn by kings.</p></dd>'
        '<dt class="noun"><dfn>Abasement</dfn></dt><dd><p>A decent and customary mental attitude.</p>'
        "<p>In the presence of wealth or power.</p></dd></dl></section>",
    ),
    # endnotes are cited from the text: the note references
    "chapter-1": (
        "Chapter 1",
        '<section id="chapter-1" epub:type="chapter"><h2 epub:type="title">Chapter 1</h2>'
        '<p>The prince must be feared.<a href="endnotes.xhtml#note-1" id="noteref-1" epub:type="noteref">1</a> '
        'He must not be hated.<a href="endnotes.xhtml#note-2" id="noteref-2" epub:type="noteref">2</a></p>'
        '<div class="epigraph"><p>Text in a division.</p>Loose text after it. <p>And a last paragraph.</p></div>'
        "</section>",
    ),
    # a chapter's ordinal and title in one hgroup, as two headings (Alice's Adventures in Wonderland,
    # 2021): HTML has allowed one heading per hgroup since 2022, and EPUBCheck 5 says so
    "chapter-2": (
        "II: The Pool of Tears",
        '<section id="chapter-2" epub:type="chapter"><hgroup><h2 epub:type="ordinal z3998:roman">II</h2>'
        '<h3 epub:type="title">The Pool of Tears</h3></hgroup>'
        "<p>Curiouser and curiouser, cried Alice. She was so much surprised.</p></section>",
    ),
}
#: the endnotes document: list items holding one or several paragraphs, the back-link in the last
ENDNOTES = (
    "Endnotes",
    '<section id="endnotes" epub:type="endnotes"><h2 epub:type="title">Endnotes</h2><ol>'
    '<li id="note-1" epub:type="endnote"><p>Machiavelli wrote this in exile. He hoped for favour.</p>'
    '<p>The second paragraph of the note. <a href="chapter-1.xhtml#noteref-1" epub:type="backlink">↩</a></p></li>'
    '<li id="note-2" epub:type="endnote"><p>Hatred is the ruin of princes. See note '
    '<a href="endnotes.xhtml#note-1" id="noteref-3" epub:type="noteref">1</a>. '
    '<a href="chapter-1.xhtml#noteref-2" epub:type="backlink">↩</a></p></li></ol></section>',
)

#: a publisher's chapter with print page breaks between and inside paragraphs
PAGED: dict[str, tuple[str, str]] = {
    "chapter-1": (
        "Chapter 1",
        '<section id="chapter-1" epub:type="chapter" role="doc-chapter"><h2>The Harbour</h2>'
        '<span epub:type="pagebreak" role="doc-pagebreak" id="page-1" aria-label="1"/>'
        "<p>The boats came in at dusk. The gulls followed them home across the "
        '<span epub:type="pagebreak" role="doc-pagebreak" id="page-2" aria-label="2"/>grey water.</p>'
        '<p>Nobody spoke.</p><div epub:type="pagebreak" role="doc-pagebreak" id="page-3" title="3"></div>'
        "<p>Morning came late.</p></section>",
    ),
    "chapter-2": (
        "Chapter 2",
        '<section id="chapter-2" epub:type="chapter" role="doc-chapter"><h2>The Storm</h2>'
        '<p><span epub:type="pagebreak" role="doc-pagebreak" id="page-4">4</span>The wind rose. '
        "It blew all night.</p><table><tbody><tr><td>Tide</td><td>High "
        '<span epub:type="pagebreak" role="doc-pagebreak" id="page-5" aria-label="5"/>water</td></tr></tbody>'
        "</table></section>",
    ),
}

#: a cover drawn in SVG, as Standard Ebooks ships theirs (a title box over a picture)
COVER_SVG = (
    '<?xml version="1.0" encoding="utf-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
    'viewBox="0 0 1400 2100"><title>The cover for The Harbour</title>'
    '<rect width="1400" height="2100" fill="#204060"/><circle cx="700" cy="700" r="400" fill="#f0c040"/>'
    '<rect class="title-box" x="0" y="1500" width="1400" height="400" fill="#000" fill-opacity=".75"/>'
    '<path d="M200 1600h1000v60H200z" fill="#fff"/></svg>\n'
)


def _document(title: str, body: str, kind: str = "bodymatter") -> str:
    return XHTML_HEAD.format(title=title) + f'<body epub:type="{kind}">{body}</body>\n</html>\n'


def _nav(chapters: dict[str, tuple[str, str]], pages: list[tuple[str, str]]) -> str:
    toc = "".join(f'<li><a href="text/{name}.xhtml">{title}</a></li>' for name, (title, _) in chapters.items())
    page_list = ""
    if pages:
        items = "".join(f'<li><a href="text/{href}">{label}</a></li>' for href, label in pages)
        page_list = (
            f'<nav epub:type="page-list" role="doc-pagelist" hidden="hidden"><h2>Pages</h2><ol>{items}</ol></nav>'
        )
    return (
        XHTML_HEAD.format(title="Table of Contents").replace("../css/core.css", "css/core.css")
        + f'<body epub:type="frontmatter"><nav id="toc" epub:type="toc" role="doc-toc"><h2>Contents</h2><ol>{toc}</ol>'
        f"</nav>{page_list}</body>\n</html>\n"
    )


def _opf(title: str, chapters: list[str], cover: bool, paged: bool, extra_items: str = "") -> str:
    items = "".join(
        f'<item href="text/{name}.xhtml" id="{name}.xhtml" media-type="application/xhtml+xml"/>' for name in chapters
    )
    spine = "".join(f'<itemref idref="{name}.xhtml"/>' for name in chapters)
    cover_item = (
        '<item href="images/cover.svg" id="cover.svg" media-type="image/svg+xml" properties="cover-image"/>'
        if cover
        else ""
    )
    page_meta = (
        '<meta property="schema:accessibilityFeature">pageBreakMarkers</meta>'
        '<meta property="schema:accessibilityFeature">pageNavigation</meta>'
        '<meta property="pageBreakSource">urn:isbn:9780000000019</meta><dc:source>urn:isbn:9780000000019</dc:source>'
        if paged
        else ""
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'unique-identifier="uid" xml:lang="en-GB" prefix="se: https://standardebooks.org/vocab/1.0">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<dc:identifier id="uid">urn:uuid:3f1a0a5e-6b43-4c29-9a0a-2d3f4e5b6c7d</dc:identifier>'
        f"<dc:title>{title}</dc:title>"
        '<dc:language>en-GB</dc:language><dc:creator id="author">Ann Example</dc:creator>'
        # as Standard Ebooks credit an author: several roles, the author's not last
        '<meta property="role" refines="#author" scheme="marc:relators">aut</meta>'
        '<meta property="role" refines="#author" scheme="marc:relators">win</meta>'
        '<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>'
        '<meta property="schema:accessMode">textual</meta><meta property="schema:accessModeSufficient">textual</meta>'
        '<meta property="schema:accessibilityFeature">tableOfContents</meta>'
        '<meta property="schema:accessibilityFeature">readingOrder</meta>'
        '<meta property="schema:accessibilityFeature">structuralNavigation</meta>'
        '<meta property="schema:accessibilityHazard">none</meta>'
        '<meta property="schema:accessibilitySummary">A test book marked up like a real one.</meta>'
        f"{page_meta}</metadata><manifest>"
        '<item href="css/core.css" id="core.css" media-type="text/css"/>'
        '<item href="toc.xhtml" id="toc.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        f"{cover_item}{items}{extra_items}</manifest><spine>{spine}</spine></package>\n"
    )


def write_epub(
    dest: Path,
    title: str,
    chapters: dict[str, tuple[str, str]],
    back: dict[str, tuple[str, str]] | None = None,
    pages: list[tuple[str, str]] = (),  # type: ignore[assignment]
    cover_svg: str | None = None,
) -> Path:
    """An EPUB 3 as a publisher's build zips it: mimetype first and stored, then the package."""
    back = back or {}
    documents = {**chapters, **back}
    with zipfile.ZipFile(dest, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), b"application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0" encoding="utf-8"?>\n<container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile '
            'full-path="epub/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>\n',
        )
        z.writestr("epub/content.opf", _opf(title, list(documents), cover_svg is not None, bool(pages)))
        z.writestr("epub/css/core.css", "body { font-family: serif; }\n")
        z.writestr("epub/toc.xhtml", _nav(chapters, list(pages)))
        if cover_svg is not None:
            z.writestr("epub/images/cover.svg", cover_svg)
        for name, (doc_title, body) in chapters.items():
            z.writestr(f"epub/text/{name}.xhtml", _document(doc_title, body))
        for name, (doc_title, body) in back.items():
            z.writestr(f"epub/text/{name}.xhtml", _document(doc_title, body, "backmatter"))
    return dest


def cases_epub(dest: Path) -> Path:
    """Every content-model case in one book, its endnotes in a document of their own."""
    return write_epub(dest, "Content Models", CASES, back={"endnotes": ENDNOTES})


def paged_epub(dest: Path) -> Path:
    """A publisher's book with print page breaks, a page-list and an SVG cover."""
    pages = [("chapter-1.xhtml#page-1", "1"), ("chapter-1.xhtml#page-2", "2"), ("chapter-1.xhtml#page-3", "3")]
    pages += [("chapter-2.xhtml#page-4", "4"), ("chapter-2.xhtml#page-5", "5")]
    return write_epub(dest, "The Harbour", PAGED, pages=pages, cover_svg=COVER_SVG)
