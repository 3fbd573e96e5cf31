"""The enhanced read-aloud EPUB: the input book kept as it is, with sentence spans, SMIL and audio added."""

from __future__ import annotations

import zipfile
from pathlib import Path

from click.testing import CliRunner
from lxml import etree
from tests import helpers
from tests.test_epub_in import ebooklib_epub, pandoc_epub

from publisher.cli import cli
from publisher.formats import registry
from publisher.validate.enhanced import split_inherited
from publisher.validate.tools import run_ace, run_epubcheck

SMIL = "{http://www.w3.org/ns/SMIL}"


def test_the_enhancer_is_registered() -> None:
    """An EPUB source gets its enhanced edition from the registry, like every other format."""
    (renderer,) = [r for r in registry.RENDERERS if "enhanced_epub" in r.kinds]
    assert renderer.kinds == ("enhanced_epub",) and renderer.render.__module__ == registry.__name__
    assert "write_enhanced" in renderer.render.__code__.co_names, "it loads the enhancer when it first renders"


def test_enhanced_epub_keeps_the_book_and_adds_narration(tmp_path: Path) -> None:
    source = pandoc_epub(tmp_path, "epub3")
    result = helpers.publish(source, tmp_path / "out")
    enhanced = result.folder / f"{result.slug}-enhanced.epub"
    original, new = zipfile.ZipFile(source), zipfile.ZipFile(enhanced)
    assert new.namelist()[0] == "mimetype"
    for name in original.namelist():  # every member kept; all but the package and narrated XHTML unchanged
        if not name.endswith((".opf", "ch001.xhtml", "ch002.xhtml")):
            assert new.read(name) == original.read(name), name
    book = helpers.Epub(enhanced)
    assert book.dc("identifier") == helpers.Epub(source).dc("identifier")
    assert book.dc("title") == ["Pandoc Book"] and book.meta("media:active-class")
    doc = book.xml("text/ch001.xhtml")
    spans = {s.get("id"): "".join(s.itertext()) for s in doc.iter("{http://www.w3.org/1999/xhtml}span")}
    assert spans["narr-c01-s0003"] == "More text here."
    assert doc.find(".//{http://www.w3.org/1999/xhtml}tr[@id]") is not None  # rows are heard whole
    items = book.manifest()
    chapter = next(i for i in items.values() if i.get("href") == "text/ch001.xhtml")
    smil = etree.fromstring(book.zip.read(book.base + items[chapter.get("media-overlay")].get("href")))
    targets = [t.get("src").split("#")[1] for t in smil.iter(f"{SMIL}text")]
    assert targets[:3] == ["narr-c01-s0001", "narr-c01-s0002", "narr-c01-s0003"]
    assert all(t in spans or doc.find(f".//*[@id='{t}']") is not None for t in targets)
    assert run_epubcheck(enhanced).ok
    own = set(run_ace(source).messages)
    assert set(run_ace(enhanced).messages) <= own  # no new violations (pandoc's own: no summary)


def test_ebooklib_book_is_enhanced(tmp_path: Path) -> None:
    result = helpers.publish(ebooklib_epub(tmp_path), tmp_path / "out")
    enhanced = result.folder / f"{result.slug}-enhanced.epub"
    report = run_epubcheck(enhanced)
    assert report.ok, report.messages


def test_epub2_becomes_epub3_with_nav_and_ncx_kept(tmp_path: Path) -> None:
    source = pandoc_epub(tmp_path, "epub2")
    two = helpers.publish(source, tmp_path / "out")
    enhanced = two.folder / f"{two.slug}-enhanced.epub"
    book = helpers.Epub(enhanced)
    assert book.opf.get("version") == "3.0" and book.meta("dcterms:modified")
    items = book.manifest().values()
    nav = next(i for i in items if "nav" in (i.get("properties") or "").split())
    toc = [a.text for a in book.xml(nav.get("href")).iter("{http://www.w3.org/1999/xhtml}a")]
    assert "The First Chapter" in toc and any(i.get("media-type") == "application/x-dtbncx+xml" for i in items)
    assert any(i.get("media-overlay") for i in items)
    report = run_epubcheck(enhanced)
    assert report.ok, report.messages
    own = set(run_ace(source).messages)
    assert set(run_ace(enhanced).messages) <= own


def test_inherited_findings_are_the_sources_own_rule_in_the_same_document() -> None:
    summary = "moderate Publications must declare the 'schema:accessibilitySummary' metadata: ..."
    contrast = "serious Elements must meet minimum color contrast ratio: Fix ..."
    own = [f"{summary} (OEBPS/content.opf )", f"{contrast} (EPUB/text/ch001.xhtml p:nth-child(2) > a)"]
    enhanced = [
        f"{contrast} (EPUB/text/ch001.xhtml p:nth-child(2) > span > a)",
        f"{contrast} (EPUB/text/ch001.xhtml p:nth-child(5) > a)",
        f"{summary} (OEBPS/content.opf )",
        "serious Images must have alternate text: ... (EPUB/text/ch002.xhtml img)",
    ]
    new, inherited = split_inherited(enhanced, own)
    # the source had one contrast finding in ch001 (its pointer moved inside a sentence span): a second is new
    assert inherited == [enhanced[0], enhanced[2]]
    assert new == [enhanced[1], enhanced[3]]


def test_check_lists_the_source_books_own_ace_findings_apart(tmp_path: Path) -> None:
    source = pandoc_epub(tmp_path, "epub3")
    result = helpers.publish(source, tmp_path / "out")
    enhanced = result.folder / f"{result.slug}-enhanced.epub"
    own = run_ace(source).messages
    assert own, "pandoc's EPUB has findings of its own (no accessibility summary), which the test needs"
    runner = CliRunner(mix_stderr=False)
    found = runner.invoke(cli, ["check", str(enhanced), "--sources", str(source.parent)])
    (ace,) = [line for line in found.stdout.splitlines() if line.split()[1:2] == ["Ace"]]
    assert ace.startswith("ok") and ": 0 new violations" in ace and "inherited from the source EPUB" in ace
    assert f"inherited from {source.name}: " in found.stdout
    assert found.exit_code == 0, found.stdout
    missing = runner.invoke(cli, ["check", str(enhanced), "--sources", str(tmp_path / "elsewhere")])
    assert missing.exit_code == 8
    assert "the source EPUB was not found in" in missing.stdout and "--sources" in missing.stdout
