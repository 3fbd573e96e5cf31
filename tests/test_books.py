"""Real books in (issue 26): sentence spans that never change the XHTML content model, on a small
book holding each case met in Standard Ebooks titles; EPUBCheck and Ace judge the editions."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from PIL import Image
from tests import helpers, sebook
from tests.conftest import FIXTURES

from publisher.formats.book.phrasing import mark_sentences, unwrap_misplaced
from publisher.pipeline.engines import EngineCache
from publisher.readers import read_source
from publisher.settings import Settings
from publisher.speech.cache import ClipCache
from publisher.svg import svg_problem
from publisher.text.clean import spoken_text
from publisher.validate.daisy import check_daisy
from publisher.validate.tools import run_ace, run_epubcheck

X = "{http://www.w3.org/1999/xhtml}"
SMIL = "{http://www.w3.org/ns/SMIL}"


def _el(markup: str) -> etree._Element:
    return etree.fromstring(f'<div xmlns="http://www.w3.org/1999/xhtml">{markup}</div>')[0]


def _markup(el: etree._Element) -> str:
    text = etree.tostring(el, encoding="unicode")
    return text.replace(' xmlns="http://www.w3.org/1999/xhtml"', "")


@pytest.mark.parametrize(
    ("markup", "sentences", "expected"),
    [
        # a list item holding a paragraph: the span goes inside the paragraph, never around it
        (
            "<li><p>Algernon Moncrieff</p></li>",
            ["Algernon Moncrieff"],
            '<li><p><span id="s0">Algernon Moncrieff</span></p></li>',
        ),
        # an endnote of two paragraphs and a back-link: a span per sentence, each in its paragraph
        (
            '<li id="note-1"><p>One. Two.</p> <p>Three. <a href="#r">↩</a></p></li>',
            ["One.", "Two.", "Three."],
            '<li id="note-1"><p><span id="s0">One.</span> <span id="s1">Two.</span></p> '
            '<p><span id="s2">Three.</span> <a href="#r">↩</a></p></li>',
        ),
        # a sentence that runs over a block boundary is highlighted in its first stretch only
        (
            "<li><p>First part</p><p>second part.</p></li>",
            ["First part second part."],
            '<li><p><span id="s0">First part</span></p><p>second part.</p></li>',
        ),
        # verse: a sentence over three lines wraps the lines' spans and breaks (all phrasing)
        (
            "<p><span>I sing,</span><br/><span>and I</span><br/><span>celebrate.</span> <span>Then rest.</span></p>",
            ["I sing, and I celebrate.", "Then rest."],
            '<p><span id="s0"><span>I sing,</span><br/><span>and I</span><br/><span>celebrate.</span></span> '
            '<span id="s1"><span>Then rest.</span></span></p>',
        ),
        # loose text between paragraphs of a division: wrapped where it stands, the paragraphs apart
        (
            "<div><p>Inside.</p>Loose text. <p>After.</p></div>",
            ["Inside.", "Loose text.", "After."],
            '<div><p><span id="s0">Inside.</span></p><span id="s1">Loose text.</span> '
            '<p><span id="s2">After.</span></p></div>',
        ),
        # a link holding a paragraph is flow content: the span goes inside the paragraph
        (
            '<div><a href="#x"><p>Linked paragraph.</p></a></div>',
            ["Linked paragraph."],
            '<div><a href="#x"><p><span id="s0">Linked paragraph.</span></p></a></div>',
        ),
        # text directly in a list (not allowed there) is never wrapped; the items are
        (
            "<ul> stray <li>An item.</li></ul>",
            ["stray", "An item."],
            '<ul> stray <li><span id="s1">An item.</span></li></ul>',
        ),
        # a term with <dfn>: the span around the dfn, inside the dt
        (
            "<dt><dfn>Abacot</dfn></dt>",
            ["Abacot"],
            '<dt><span id="s0"><dfn>Abacot</dfn></span></dt>',
        ),
    ],
)
def test_sentence_spans_hold_phrasing_content_only(markup: str, sentences: list[str], expected: str) -> None:
    el = _el(markup)
    placed = mark_sentences(el, sentences, lambda n: f"s{n}")
    assert _markup(el) == expected
    assert [ident for ident, _ in placed] == [f"s{n}" for n in range(len(sentences)) if f'id="s{n}"' in expected]


def test_a_span_that_breaks_the_content_model_is_taken_out_before_writing() -> None:
    el = _el('<li>Before <span id="bad"><p>A paragraph.</p> tail</span> after <span id="ok">fine</span></li>')
    wrong = unwrap_misplaced(el, {"bad", "ok"})
    assert [s.get("id") for s in wrong] == ["bad"]
    assert _markup(el) == '<li>Before <p>A paragraph.</p> tail after <span id="ok">fine</span></li>'


def test_an_author_with_several_roles_is_an_author(tmp_path: Path) -> None:
    """Standard Ebooks give an author several MARC roles ("aut" and "win", the writer of an
    introduction, after it): the book's author stays its author, in the tags and the credits."""
    meta = read_source(sebook.cases_epub(tmp_path / "roles.epub")).metadata
    assert meta.authors == ("Ann Example",) and "Ann Example" not in [name for name, _ in meta.contributors]


def test_every_content_model_case_gives_valid_editions(tmp_path: Path) -> None:
    """The cases of real books (cast lists, plays, verse, letters, a dictionary, endnotes of
    several paragraphs, loose text in a division) in one book: every edition passes EPUBCheck,
    the enhanced one adds no Ace finding, and every sentence of the book is highlighted."""
    source = sebook.cases_epub(tmp_path / "cases.epub")
    result = helpers.publish(source, tmp_path / "out", daisy=False, audiobooks=False)
    editions = [result.folder / f"{result.slug}{suffix}.epub" for suffix in ("", "-read-aloud", "-enhanced")]
    for edition in editions:
        report = run_epubcheck(edition)
        assert report.ok and not report.messages, (edition.name, report.messages)
    enhanced = helpers.Epub(editions[2])
    own = set(run_ace(source).messages)
    assert own, "the fixture carries Standard Ebooks' own Ace findings (epub:type without a role)"
    assert set(run_ace(editions[2]).messages) <= own
    highlighted: dict[str, list[str]] = {}
    for item in enhanced.manifest().values():
        if item.get("media-overlay"):
            smil = enhanced.manifest()[item.get("media-overlay")]
            targets = etree.fromstring(enhanced.zip.read(enhanced.base + smil.get("href"))).iter(f"{SMIL}text")
            doc = enhanced.xml(item.get("href"))
            texts = []
            for target in targets:
                (el,) = doc.xpath("//*[@id=$i]", i=target.get("src").split("#")[1])
                texts.append(" ".join("".join(el.itertext()).split()))
            highlighted[item.get("href").removeprefix("text/")] = texts
    assert highlighted["dramatis-personae.xhtml"][1:] == [
        "John Worthing, J. P.",
        "Algernon Moncrieff",
        "Lane, Manservant",
    ]
    assert highlighted["endnotes.xhtml"] == [
        "Machiavelli wrote this in exile.", "He hoped for favour.", "The second paragraph of the note.",
        "Hatred is the ruin of princes.", "See note 1.",
    ]  # fmt: skip
    assert highlighted["a.xhtml"][1:] == [
        "Abacot", "A cap of state.", "It was worn by kings.", "Abasement",
        "A decent and customary mental attitude.", "In the presence of wealth or power.",
    ]  # fmt: skip
    assert highlighted["letter-1.xhtml"][-1] == "R. Walton"
    assert highlighted["the-poem.xhtml"][1].startswith("I celebrate myself") and len(highlighted["the-poem.xhtml"]) == 4
    assert "Loose text after it." in highlighted["chapter-1.xhtml"]
    assert highlighted["chapter-2.xhtml"][:2] == ["II", "The Pool of Tears"]
    (group,) = enhanced.xml("text/chapter-2.xhtml").xpath("//*[local-name()='hgroup']")
    assert [(etree.QName(el).localname, el.text) for el in group] == [("h2", "II"), ("p", "The Pool of Tears")]
    original = zipfile.ZipFile(source)
    for name in original.namelist():  # the book's own files are kept; only the narrated documents change
        if not name.endswith((".opf", ".xhtml")):
            assert enhanced.zip.read(name) == original.read(name), name


def test_print_page_breaks_are_kept_listed_and_never_spoken(tmp_path: Path) -> None:
    """A publisher's page breaks (between and inside paragraphs, before a heading) stay where they
    are in the text and read-aloud editions, with a page-list and the EPUB Accessibility metadata;
    DAISY lists them in the NCC; no sentence says a page number."""
    source = sebook.paged_epub(tmp_path / "paged.epub")
    result = helpers.publish(source, tmp_path / "out", audiobooks=False)
    for suffix in ("", "-read-aloud"):
        path = result.folder / f"{result.slug}{suffix}.epub"
        report = run_epubcheck(path)
        assert report.ok and not report.messages, (path.name, report.messages)
        ace = run_ace(path)
        assert ace.ok and not ace.messages, (path.name, ace.messages)
        book = helpers.Epub(path)
        chapter = book.xml("text/c01.xhtml")
        breaks = chapter.xpath("//*[@role='doc-pagebreak']")
        assert [(b.tag.split("}")[1], b.get("aria-label"), b.get("id")) for b in breaks] == [
            ("div", "1", "page-1"), ("span", "2", "page-2"), ("div", "3", "page-3"),
        ]  # fmt: skip
        assert breaks[1].getparent().get("id") == "c01-s0003"  # inside its sentence, where the page turns
        assert "".join(breaks[1].getparent().itertext()) == "The gulls followed them home across the grey water."
        assert chapter.xpath("//*[local-name()='h1']/following-sibling::*[1]/@id") == ["page-1"]
        nav = book.xml("text/nav.xhtml")
        (page_list,) = nav.xpath("//*[@role='doc-pagelist']")
        links = [(a.text, a.get("href")) for a in page_list.iter(f"{X}a")]
        assert links == [("1", "c01.xhtml#page-1"), ("2", "c01.xhtml#page-2"), ("3", "c01.xhtml#page-3"),
                         ("4", "c02.xhtml#page-4"), ("5", "c02.xhtml#page-5")]  # fmt: skip
        assert {"pageBreakMarkers", "pageNavigation"} <= set(book.meta("schema:accessibilityFeature"))
        assert book.meta("pageBreakSource") == ["urn:isbn:9780000000019"]
    pub = read_source(source)
    assert [label for _, label, _ in pub.page_breaks()] == ["1", "2", "3", "4", "5"]
    heard = [s.spoken + s.text for s in pub.sentences() if not s.text.startswith("Table")]  # "1 row, 2 columns"
    assert not any(c.isdigit() for text in heard for c in text)  # the text has no digits but the page numbers
    vtt = (result.folder / f"{result.slug}.vtt").read_text(encoding="utf-8")
    lines = vtt.splitlines()
    cues = [lines[n + 1] for n, line in enumerate(lines) if "-->" in line]  # each cue's text: what is heard
    assert len(cues) == 14 and "Tide, High water." in cues  # the table's row, its page number unread
    assert not any(c.isdigit() for cue in cues if not cue.startswith("Table") for c in cue)
    ncc = etree.parse(str(result.folder / "daisy" / "ncc.html")).getroot()
    pages = [(s.get("class"), "".join(s.itertext()).strip(), s[0].get("href")) for s in ncc.iter(f"{X}span")]
    assert pages == [
        ("page-normal", "1", "01.smil#p-c01-s0002"), ("page-normal", "2", "01.smil#p-c01-s0003"),
        ("page-normal", "3", "01.smil#p-c01-s0005"), ("page-normal", "4", "02.smil#p-c02-s0002"),
        ("page-normal", "5", "02.smil#p-c02-s0005"),
    ]  # fmt: skip
    meta = {m.get("name"): m.get("content") for m in ncc.iter(f"{X}meta")}
    assert (meta["ncc:pageNormal"], meta["ncc:maxPageNormal"], meta["ncc:tocItems"]) == ("5", "5", "8")
    content = etree.parse(str(result.folder / "daisy" / "content.html")).getroot()
    assert [e.text for e in content.xpath("//*[@class='page-normal']")] == ["1", "2", "3", "4", "5"]
    report = check_daisy(result.folder / "daisy" / "ncc.html")
    assert report.ok, report.messages


def test_an_svg_cover_is_kept_and_drawn_for_the_audio_and_pages(tmp_path: Path) -> None:
    """Standard Ebooks' covers are SVG: the EPUB editions keep the drawing itself as their cover
    image; the MP3s, the M4B, the thumbnail and the web pages get it drawn as pixels (resvg)."""
    source = sebook.paged_epub(tmp_path / "paged.epub")
    result = helpers.publish(source, tmp_path / "out", daisy=False, audiobooks=False)
    for suffix in ("", "-read-aloud"):
        book = helpers.Epub(result.folder / f"{result.slug}{suffix}.epub")
        (item,) = [i for i in book.manifest().values() if "cover-image" in (i.get("properties") or "")]
        assert item.get("media-type") == "image/svg+xml"
        assert book.zip.read(book.base + item.get("href")) == sebook.COVER_SVG.encode()
        page = book.xml("text/cover.xhtml")
        (img,) = page.iter(f"{X}img")
        assert img.get("src") == "../images/cover.svg" and img.get("alt") == "Cover of The Harbour by Ann Example"
    with Image.open(result.folder / "cover.jpg") as cover:
        assert (cover.format, cover.size) == ("JPEG", (1400, 2100))
        red, green, blue = cover.convert("RGB").getpixel((700, 700))  # the drawing's yellow sun
        assert red > 200 and green > 160 and blue < 110
        assert cover.convert("RGB").getpixel((20, 20))[2] > 80  # its blue sky, not a generated cover's
    tags = ID3(result.folder / "audio" / next(p.name for p in (result.folder / "audio").glob("*.mp3")))
    (apic,) = tags.getall("APIC")
    assert apic.mime == "image/jpeg" and apic.data == (result.folder / "cover.jpg").read_bytes()
    (art,) = MP4(result.folder / f"{result.slug}.m4b").tags["covr"]
    assert bytes(art) == (result.folder / "cover.jpg").read_bytes()
    with Image.open(result.folder / "thumbnail.jpg") as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) < 1400


def test_an_svg_that_reaches_outside_itself_is_not_a_cover(tmp_path: Path) -> None:
    """An SVG cover that would read another file (a local path, a web address) is not kept and
    not drawn: the book gets a generated cover, and nothing outside the book is read."""
    secret = tmp_path / "secret.png"
    Image.new("RGB", (10, 10), "#ff0000").save(secret)
    drawing = sebook.COVER_SVG.replace("</svg>", f'<image href="{secret}" width="1400" height="2100"/></svg>')
    source = sebook.write_epub(tmp_path / "reach.epub", "The Harbour", sebook.PAGED, cover_svg=drawing)
    assert svg_problem(drawing.encode()) == f"refers to a file outside itself ({str(secret)[:60]!r})"
    result = helpers.publish(source, tmp_path / "out", daisy=False, audiobooks=False, read_aloud=False)
    book = helpers.Epub(result.folder / f"{result.slug}.epub")
    (item,) = [i for i in book.manifest().values() if "cover-image" in (i.get("properties") or "")]
    assert item.get("media-type") == "image/jpeg"  # generated
    assert svg_problem(sebook.COVER_SVG.encode()) is None
    assert svg_problem(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>') == "holds a <script>"


BOOK_MD = """---
title: The Lighthouse Keeper
subtitle: A Tale of the Coast
author: Mary Shore
date: 2024-03-01
abstract: A keeper, a storm and a lamp that held.
---

# Arrival

The keeper came in spring. The boats followed.

![The lighthouse at dusk](engine.png)

# The Storm

Waves rose high. The lamp held.

# Morning

The sea was calm again.
"""
ODT_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
WORD = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _document(tmp_path: Path, fmt: str) -> Path:
    """A three-chapter Markdown book with a title block, made into Word or ODT by pandoc, with the
    page breaks Writer or Word write when they save (a soft page break, a last rendered page break)
    put in by hand: before "The Storm" and in the middle of its paragraph."""
    import pypandoc

    (tmp_path / "engine.png").write_bytes((FIXTURES / "engine.png").read_bytes())
    (tmp_path / "book.md").write_text(BOOK_MD, encoding="utf-8")
    made = tmp_path / f"made.{fmt}"
    pypandoc.convert_file(
        str(tmp_path / "book.md"), fmt, outputfile=str(made), extra_args=[f"--resource-path={tmp_path}"]
    )
    member = "content.xml" if fmt == "odt" else "word/document.xml"
    with zipfile.ZipFile(made) as z:
        names = z.namelist()
        members = {n: z.read(n) for n in names}
    root = etree.fromstring(members[member])
    if fmt == "odt":
        (storm,) = [h for h in root.iter(f"{{{ODT_TEXT}}}h") if "".join(h.itertext()) == "The Storm"]
        storm.addprevious(etree.Element(f"{{{ODT_TEXT}}}soft-page-break"))
        (waves,) = [p for p in root.iter(f"{{{ODT_TEXT}}}p") if "".join(p.itertext()).startswith("Waves")]
        waves.text = "Waves rose high. "
        waves.append(etree.Element(f"{{{ODT_TEXT}}}soft-page-break"))
        waves[-1].tail = "The lamp held."
    else:
        paragraphs = [p for p in root.iter(f"{{{WORD}}}p") if "".join(p.itertext()) in ("The Storm", "Morning")]
        for paragraph in paragraphs:
            run = next(paragraph.iter(f"{{{WORD}}}r"))
            run.insert(0, etree.Element(f"{{{WORD}}}lastRenderedPageBreak"))
    members[member] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    dest = tmp_path / f"book.{fmt}"
    with zipfile.ZipFile(dest, "w") as z:
        for name in names:
            z.writestr(
                name, members[name], compress_type=zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            )
    return dest


@pytest.mark.parametrize("fmt", ["odt", "docx"])
def test_a_documents_title_block_is_metadata_and_its_pages_are_kept(tmp_path: Path, fmt: str) -> None:
    """Title, Subtitle, Author, Date and Abstract paragraphs are the book's metadata, not a chapter:
    three chapters, the title heard once at the start; the picture keeps its text alternative; the
    document's page breaks are print page markers with a page-list."""
    source = _document(tmp_path, fmt)
    pub = read_source(source)
    meta = pub.metadata
    assert (meta.title, meta.subtitle, meta.authors, meta.date) == (
        "The Lighthouse Keeper", "A Tale of the Coast", ("Mary Shore",), "2024-03-01",
    )  # fmt: skip
    assert meta.description == "A keeper, a storm and a lamp that held."
    assert [c.title for c in pub.chapters] == ["Arrival", "The Storm", "Morning"]
    texts = [b.text for c in pub.chapters for b in c.blocks]
    assert not {"The Lighthouse Keeper", "A Tale of the Coast", "Mary Shore", "Abstract"} & set(texts)
    assert not any("A keeper, a storm" in t for t in texts)
    (image,) = [b for c in pub.chapters for b in c.blocks if b.kind in ("image", "figure")]
    assert image.alt == "The lighthouse at dusk"
    pages = [(chapter.title, label) for chapter, label, _ in pub.page_breaks()]
    expected = {"odt": ["1", "2", "3"], "docx": ["1", "2", "3"]}[fmt]
    assert [label for _, label in pages] == expected
    assert pages[1][0] == "The Storm" and meta.page_source == source.name
    result = helpers.publish(source, tmp_path / "out", daisy=False, audiobooks=False, read_aloud=False)
    book = helpers.Epub(result.folder / f"{result.slug}.epub")
    report = run_epubcheck(result.folder / f"{result.slug}.epub")
    assert report.ok and not report.messages, report.messages
    nav = book.xml("text/nav.xhtml")
    assert [a.text for a in nav.xpath("//*[@role='doc-pagelist']//*[local-name()='a']")] == expected
    title_page = book.xml("text/titlepage.xhtml")
    heard = [" ".join("".join(s.itertext()).split()) for s in title_page.iter(f"{X}span")]
    assert heard[:3] == ["The Lighthouse Keeper", "A Tale of the Coast", "By Mary Shore"]
    chapters = [book.xml(f"text/c0{n}.xhtml") for n in (1, 2, 3)]
    assert not any("The Lighthouse Keeper" in "".join(doc.itertext()) for doc in chapters)


def test_english_credits_of_a_finnish_book_are_read_by_an_english_voice(tmp_path: Path) -> None:
    """The publisher has no Finnish words: its credits ("By …", "Narrated by …", the closing line)
    are English, so an English voice reads them (eSpeak NG's English here), marked lang="en";
    the text is read by the Finnish voice."""
    source = tmp_path / "tarina.md"
    source.write_text(
        "---\ntitle: Meren tarina\nauthor: Aino Virtanen\nlanguage: fi\n---\n\n# Ensimmäinen luku\n\n"
        "Meri oli tyyni. Laivat tulivat kotiin.\n",
        encoding="utf-8",
    )
    cache = tmp_path / "cache"
    result = helpers.publish(source, tmp_path / "out", engine="espeak", cache=cache, daisy=False, audiobooks=False)
    engines = EngineCache()
    english = engines.get(Settings(engine="espeak"), "en")
    finnish = engines.get(Settings(engine="espeak"), "fi")
    assert english.language.startswith("en") and finnish.language.startswith("fi")
    clips = ClipCache(cache)
    closing = "This is the end of Meren tarina, by Aino Virtanen."
    assert clips.has(clips.key(english.cache_key, spoken_text(closing)))
    assert not clips.has(clips.key(finnish.cache_key, spoken_text(closing)))
    assert clips.has(clips.key(finnish.cache_key, spoken_text("Meri oli tyyni.")))
    assert not clips.has(clips.key(english.cache_key, spoken_text("Meri oli tyyni.")))
    book = helpers.Epub(result.folder / f"{result.slug}.epub")
    spans = {"".join(s.itertext()): s for s in book.xml("text/c01.xhtml").iter(f"{X}span")}
    assert spans["By Aino Virtanen"].get("lang") == "en"
    assert spans["By Aino Virtanen"].get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert spans["Meren tarina"].get("lang") is None and spans["Meri oli tyyni."].get("lang") is None
    report = run_epubcheck(result.folder / f"{result.slug}-read-aloud.epub")
    assert report.ok and not report.messages, report.messages


def test_id3_words_are_in_the_publications_language(tmp_path: Path) -> None:
    """The cover's description, the lyrics' description and the table of contents' title of every
    MP3 are in the publication's language, not English."""
    source = tmp_path / "geschichte.md"
    source.write_text(
        "---\ntitle: Die Geschichte\nauthor: Anna Müller\nlanguage: de\n---\n\n# Eins\n\nDas Meer war ruhig.\n\n"
        "# Zwei\n\nDie Schiffe kamen heim.\n",
        encoding="utf-8",
    )
    result = helpers.publish(source, tmp_path / "out", read_aloud=False, daisy=False, audiobooks=False)
    tags = ID3(result.folder / f"{result.slug}.mp3")
    (apic,) = tags.getall("APIC")
    (uslt,) = tags.getall("USLT")
    (ctoc,) = tags.getall("CTOC")
    assert (apic.desc, uslt.desc, ctoc.sub_frames["TIT2"].text[0]) == (
        "Umschlag", "Die Geschichte von Anna Müller", "Kapitel",
    )  # fmt: skip
    assert uslt.lang == "ger"
