"""Real books in (issue 26): sentence spans that never change the XHTML content model, on a small
book holding each case met in Standard Ebooks titles; EPUBCheck and Ace judge the editions."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree
from tests import helpers, sebook

from publisher.formats.book.phrasing import mark_sentences, unwrap_misplaced
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
    assert highlighted["dramatis-personae.xhtml"][1:] == ["John Worthing, J. P.", "Algernon Moncrieff", "Lane, Manservant"]
    assert highlighted["endnotes.xhtml"] == [
        "Machiavelli wrote this in exile.", "He hoped for favour.", "The second paragraph of the note.",
        "Hatred is the ruin of princes.",
    ]  # fmt: skip
    assert highlighted["a.xhtml"][1:] == [
        "Abacot", "A cap of state.", "It was worn by kings.", "Abasement",
        "A decent and customary mental attitude.", "In the presence of wealth or power.",
    ]  # fmt: skip
    assert highlighted["letter-1.xhtml"][-1] == "R. Walton"
    assert highlighted["the-poem.xhtml"][1].startswith("I celebrate myself") and len(highlighted["the-poem.xhtml"]) == 4
    assert "Loose text after it." in highlighted["chapter-1.xhtml"]
    original = zipfile.ZipFile(source)
    for name in original.namelist():  # the book's own files are kept; only the narrated documents change
        if not name.endswith((".opf", ".xhtml")):
            assert enhanced.zip.read(name) == original.read(name), name
