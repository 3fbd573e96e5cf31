"""HTML pages: the main content of a real page (navigation, ads, comments dropped), with its tables and notes."""

from __future__ import annotations

from pathlib import Path

from publisher.readers import read_source

NEWS = """<!DOCTYPE html><html lang="en"><head><title>News | Big Site</title>
<meta name="author" content="Rita Reporter"><meta name="keywords" content="birds, marsh"></head><body>
<header class="site-header"><a href="/">Home</a></header>
<div class="menu"><a href="/a">Sport</a> <a href="/b">Weather</a></div>
<div id="content"><div class="story">
<h1>The Heron Returns</h1>
<p>After ten years away, herons have come back to the marsh, counters said on Monday, and they are nesting.</p>
<p>The count, made at dawn, found twelve birds at site A and seven at site B.<sup><a href="#fn1" id="r1">1</a></sup></p>
<table><caption>Counts</caption><tr><th>Site</th><th>Birds</th></tr><tr><td>A</td><td>12</td></tr></table>
<div class="ad-slot advert"><p>Buy our shoes now, they are very good shoes indeed, for walking in marshes.</p></div>
<p id="fn1"><a href="#r1">1.</a> Counted by volunteers.</p>
</div>
<div class="comments"><p>Great article, I loved reading it so much, thanks for writing it all up!</p></div>
<div class="related"><p><a href="/x">Ten other birds you will not believe, with many pictures of them all</a></p></div>
</div><footer>Copyright</footer></body></html>"""

TWO_ARTICLES = """<html><body><article><p>Teaser for another story, short.</p></article>
<article><h1>The Real Story</h1><p>This is the long story the page is about, with many words in it.</p>
<p>It goes on for a second paragraph, as real stories do.</p></article></body></html>"""


def _texts(path: Path) -> list[tuple[str, str]]:
    pub = read_source(path)
    return [(b.kind, s.text) for c in pub.chapters for b in c.blocks for s in b.sentences]


def test_readability_keeps_the_story_and_drops_the_furniture(tmp_path: Path) -> None:
    page = tmp_path / "news.html"
    page.write_text(NEWS, encoding="utf-8")
    pub = read_source(page)
    assert pub.metadata.title == "The Heron Returns" and pub.metadata.subjects == (
        "birds",
        "marsh",
    )
    said = " ".join(text for _, text in _texts(page))
    for gone in ("Sport", "shoes", "Great article", "Ten other birds", "Copyright", "Home"):
        assert gone not in said
    assert ("note", "Note 1: Counted by volunteers.") in _texts(page)  # a link to a paragraph linking back
    assert ("row", "Site A: birds, 12.") in _texts(page)


def test_the_largest_article_wins(tmp_path: Path) -> None:
    page = tmp_path / "two.html"
    page.write_text(TWO_ARTICLES, encoding="utf-8")
    texts = [text for _, text in _texts(page)]
    assert "Teaser for another story, short." not in texts
    assert "It goes on for a second paragraph, as real stories do." in texts
