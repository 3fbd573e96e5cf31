"""The web pages: the read-along page of each publication and the catalogue page.

Unit tests parse the pages with lxml (escaping, direction, links). Browser tests drive Debian's
headless Chromium through Playwright against a local HTTP server with byte ranges (the project's
own `publisher serve`): the page loads with no errors and no outside requests, the audio is as
long as the narration, sentences and chapter links seek and highlight, the keyboard works, and
axe-core finds no WCAG 2.2 A/AA violations.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import ROOT, SEED, copy_fixture
from tests.helpers import publish, serving

from publisher.formats import registry
from publisher.formats.web.downloads import format_label
from publisher.formats.web.site import escape_html, human_size, script_json, text_direction
from publisher.pipeline.publish import write_catalogue
from publisher.pipeline.results import SourceResult
from publisher.settings import Settings

AXE = ROOT / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
HOSTILE = '<script>alert(1)</script>&"]]>'


def page_of(folder: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((folder / "index.html").read_bytes())


def download_hrefs(doc: lxml.html.HtmlElement) -> list[str]:
    return [str(h) for h in doc.xpath("//section[@id='downloads']//a/@href")]


@dataclass
class Site:
    output: Path
    seed: SourceResult
    book: SourceResult
    publish_seconds: float


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    folder = tmp_path_factory.mktemp("site")
    output = folder / "out"
    started = time.perf_counter()
    seed = publish(SEED, output)
    book = publish(copy_fixture("book.md", folder), output)
    write_catalogue(output, Settings(engine="silent", output=output))
    return Site(output, seed, book, time.perf_counter() - started)


# --- without a browser ----------------------------------------------------------------------


def test_pages_are_written_and_registered(site: Site) -> None:
    for result in (site.seed, site.book):
        manifest = json.loads((result.folder / ".publisher.json").read_text(encoding="utf-8"))
        assert manifest["formats"]["page"] == "index.html"
        assert "index.html" in manifest["files"]
    assert (site.output / "index.html").is_file()


def test_every_sentence_is_a_span_with_its_cue_in_the_json(site: Site) -> None:
    doc = page_of(site.book.folder)
    (timeline,) = doc.xpath("//script[@type='application/json']")
    data = json.loads(timeline.text)
    assert [c[0] for c in data["cues"]] == [c.sentence_id for c in site.book.cues]
    for sentence_id, start, end in data["cues"]:
        assert doc.get_element_by_id(sentence_id).tag == "span"
        assert 0 <= start < end <= site.book.duration + 1e-6
    assert [c["title"] for c in data["chapters"]] == ["The First Chapter", "The Second Chapter"]
    assert doc.xpath("//img[@alt='A diagram of the engine']/@src")[0].startswith("images/")
    assert doc.xpath("//blockquote") and doc.xpath("//ul/li") and doc.xpath("//ol/li")
    assert [h.tag for h in doc.xpath("//main//h1|//main//h2|//main//h3")] == ["h1", "h2", "h3", "h2"]


def test_page_structure(site: Site) -> None:
    doc = page_of(site.seed.folder)
    root = doc.getroottree().getroot()
    assert root.get("lang") == "en" and root.get("dir") == "ltr"
    assert [el.tag for el in doc.xpath("/html/body/*[self::header or self::nav or self::main or self::footer]")] == [
        "header", "nav", "main", "footer",
    ]  # fmt: skip
    first = doc.xpath("/html/body/*")[0]
    assert first.tag == "a" and first.get("href") == "#text"
    (audio,) = doc.xpath("//audio[@controls]")
    assert audio.get("src") == "putin-today.mp3"
    (track,) = audio.xpath("track")
    assert track.get("kind") == "captions" and track.get("src") == "putin-today.vtt"
    assert track.get("srclang") == "en" and track.get("default") is not None
    assert doc.xpath("//img[@class='cover']/@alt") == ["Cover of Putin today by Ava Cai"]
    chapter_links = doc.xpath("//nav[@id='chapters']//a[@data-start]")
    assert len(chapter_links) == 7  # a mark per paragraph of an article, like the MP3's chapters
    assert doc.xpath("//*[@aria-live]/@aria-live") == ["polite"]
    assert not doc.xpath("//*[@src or @href][contains(@src, '//') or contains(@href, '://')]"
                         "[not(ancestor::main)]")  # fmt: skip
    assert b"</track>" not in (site.seed.folder / "index.html").read_bytes()


def test_downloads_link_every_format_present(site: Site) -> None:
    doc = page_of(site.book.folder)
    hrefs = download_hrefs(doc)
    for name in ("book.epub", "book-read-aloud.epub", "book.mp3", "book.m4b", "book.vtt", "book.chapters.json",
                 "feed.xml", "audio/01-the-first-chapter.mp3"):  # fmt: skip
        assert name in hrefs
    labels = doc.xpath("//section[@id='downloads']//a/text()")
    assert "Podcast feed (RSS)" in labels and "EPUB with narration (read-aloud)" in labels
    for href in hrefs:
        assert (site.book.folder / href).is_file(), href  # feed.xml too, once the catalogue is written


def test_downloads_only_for_files_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page lists what the registry's renderers wrote, nothing found on the disk by guessing."""
    kept = ("cover", "audio", "captions", "epub", "read-along page")
    monkeypatch.setattr(registry, "RENDERERS", tuple(r for r in registry.RENDERERS if r.name in kept))
    monkeypatch.setattr(registry, "CATALOGUE_RENDERERS", ())
    result = publish(SEED, tmp_path / "out", read_aloud=False)
    hrefs = download_hrefs(page_of(result.folder))
    assert hrefs == ["putin-today.epub", "putin-today.mp3", "putin-today.m4b", "putin-today.vtt",
                     "putin-today.chapters.json"]  # fmt: skip


def test_hostile_text_is_escaped(tmp_path: Path) -> None:
    source = tmp_path / "hostile.md"
    description = "</script><script>alert(2)</script> \u2028 <!-- & -->"
    source.write_text(
        f'---\ntitle: {json.dumps(HOSTILE)}\nauthor: "Eve <img src=x onerror=alert(3)>"\n'
        f"description: {json.dumps(description)}\nlanguage: en\n---\n\n"
        "A paragraph with `</script>` and \\<b>bold\\</b> tags in it. 🎧 Émoji and ]]> too.\n",
        encoding="utf-8",
    )
    output = tmp_path / "out"
    result = publish(source, output)
    write_catalogue(output, Settings(engine="silent", output=output))
    for path in (result.folder / "index.html", output / "index.html"):
        raw = path.read_bytes().decode("utf-8")
        doc = lxml.html.fromstring(raw)
        assert "<script>alert" not in raw and "<img src=x" not in raw
        heading = doc.xpath("//title" if path.parent == result.folder else "//article//h2")[0]
        assert heading.text_content() == HOSTILE
        assert not doc.xpath("//*[@onerror]") and not doc.xpath("//b")
        scripts = doc.xpath("//script")
        assert all(s.get("type") == "application/json" or "alert" not in (s.text or "") for s in scripts)
        assert len(scripts) == (2 if path.parent == result.folder else 0)
        assert HOSTILE in doc.text_content()
    doc = page_of(result.folder)
    assert doc.xpath("//h1")[0].text_content() == HOSTILE
    (timeline,) = doc.xpath("//script[@type='application/json']")
    assert json.loads(timeline.text)["title"] == HOSTILE
    assert "<" not in timeline.text and ">" not in timeline.text and "&" not in timeline.text
    assert "A paragraph with </script> and <b>bold</b> tags in it." in doc.text_content()


def test_script_json_cannot_end_its_element() -> None:
    nasty = {"t": "</script><!--<script>&\u2028\u2029"}
    text = script_json(nasty)
    assert json.loads(text) == nasty
    assert not any(ch in text for ch in "<>&\u2028\u2029")


def static_bytes(*names: str) -> bytes:
    """The shipped static files, read from the installed package (not through site.py)."""
    folder = resources.files("publisher.formats.web").joinpath("static")
    return b"".join(folder.joinpath(name).read_bytes() for name in names)


def sha256_source(data: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode() + "'"


def policy_of(doc: lxml.html.HtmlElement) -> dict[str, str]:
    (content,) = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    return dict(directive.split(" ", 1) for directive in content.split("; "))


def test_csp_hashes_are_those_of_the_shipped_static_files(site: Site) -> None:
    readalong, index = page_of(site.book.folder), page_of(site.output)
    readalong_css, index_css = static_bytes("base.css", "readalong.css"), static_bytes("base.css", "index.css")
    script = static_bytes("readalong.js")
    assert policy_of(readalong)["style-src"] == sha256_source(readalong_css)
    assert policy_of(readalong)["script-src"] == sha256_source(script)
    assert policy_of(index)["style-src"] == sha256_source(index_css)
    assert "script-src" not in policy_of(index) and policy_of(index)["default-src"] == "'none'"
    # what is inline is those files, byte for byte (so the hashes hold in the browser too)
    (style,) = readalong.xpath("//style")
    assert style.text.encode() == readalong_css
    assert [s.text.encode() for s in readalong.xpath("//script[not(@type)]")] == [script]
    assert index.xpath("//style")[0].text.encode() == index_css
    for data in (readalong_css, index_css, script):
        assert b"</" not in data  # nothing in them can end their element early


def test_a_script_in_a_title_is_escaped_in_both_pages(tmp_path: Path) -> None:
    title = "</title><script>alert('t')</script> & \"quoted\""
    source = tmp_path / "title.md"
    source.write_text(
        f"---\ntitle: {json.dumps(title)}\nauthor: \"O'Brien <script>alert('a')</script>\"\nlanguage: en\n"
        "typographer: false\n---\n\n"  # straight quotes stay straight: what is escaped is checked exactly
        "# \\<script>alert('c')\\</script> chapter\n\nOne sentence.\n\n# Second\n\nTwo sentences. Here.\n",
        encoding="utf-8",
    )
    output = tmp_path / "out"
    result = publish(source, output)
    write_catalogue(output, Settings(engine="silent", output=output))
    escaped = "&lt;/title&gt;&lt;script&gt;alert('t')&lt;/script&gt; &amp; &quot;quoted&quot;"
    readalong_raw = (result.folder / "index.html").read_text(encoding="utf-8")
    index_raw = (output / "index.html").read_text(encoding="utf-8")
    assert f"<title>{escaped}</title>" in readalong_raw and f"<title>{escaped}</title>" not in index_raw
    assert f"alt=\"Cover of {escaped} by O'Brien &lt;script&gt;" in readalong_raw
    assert f'aria-label="Downloads of {escaped}"' in index_raw and f">{escaped}</a></h2>" in index_raw
    assert "&lt;script&gt;alert('c')&lt;/script&gt; chapter</a>" in readalong_raw  # the chapter list
    for raw in (readalong_raw, index_raw):
        assert "<script>alert" not in raw
        doc = lxml.html.fromstring(raw)
        assert not [s for s in doc.xpath("//script") if "alert" in (s.text or "") and s.get("type") is None]
    assert page_of(result.folder).xpath("//title")[0].text == title
    (heading,) = page_of(output).xpath("//article//h2")
    assert heading.text_content() == title


# characters lxml accepts in text and attributes: no C0/C1 controls but tab, line feed, return
XML_TEXT = st.text(
    st.one_of(
        st.sampled_from("\t\n\r &<>\"'=/;#%?é\u00a0\u2028"),
        st.characters(blacklist_categories=("Cs", "Cc", "Cn")),
    ),
    max_size=40,
)


@given(XML_TEXT)
@settings(max_examples=300, deadline=None)
def test_template_escaping_is_the_html_serialisers(value: str) -> None:
    """The pages' escaping writes what lxml wrote before the templates (byte for byte, but for a
    straight double quote: lxml writes it as is in text, and quotes such an attribute with '),
    and always reads back as the value."""
    html = lxml.etree.Element("html")
    p = lxml.etree.SubElement(lxml.etree.SubElement(html, "body"), "p", title=value)
    p.text = value
    serialised = lxml.etree.tostring(html, method="html", encoding="unicode")
    ours = f'<html><body><p title="{escape_html(value)}">{escape_html(value)}</p></body></html>'
    if '"' not in value:
        assert ours == serialised
    parsed = lxml.html.fromstring(ours).xpath("//p")[0]
    assert (parsed.get("title"), parsed.text or "") == (value, value)


def test_templates_quote_every_attribute_with_double_quotes() -> None:
    folder = resources.files("publisher.formats.web").joinpath("templates")
    names = [t.name for t in folder.iterdir() if t.name.endswith(".html")]
    assert sorted(names) == ["index.html", "macros.html", "page.html", "readalong.html"]
    for name in names:
        source = folder.joinpath(name).read_text(encoding="utf-8")
        assert not re.search(r"[\w-]='", source), name  # escape_html leaves ' alone
        assert not re.search(r"[\w-]=\{\{", source), name  # and unquoted values would be unsafe


def test_right_to_left_languages(tmp_path: Path) -> None:
    source = tmp_path / "arabic.md"
    source.write_text(
        "---\ntitle: مرحبا بالعالم\nauthor: كاتب\nlanguage: ar\n---\n\nهذه جملة أولى. وهذه جملة ثانية.\n",
        encoding="utf-8",
    )
    output = tmp_path / "out"
    result = publish(source, output)
    write_catalogue(output, Settings(engine="silent", output=output))
    root = page_of(result.folder).getroottree().getroot()
    assert (root.get("lang"), root.get("dir")) == ("ar", "rtl")
    assert root.xpath("//track/@srclang") == ["ar"]
    # the interface text is Arabic too (its catalogue), so it is not marked as another language
    assert root.xpath("//h2[@id='chapters-heading']/@lang") == []
    assert root.xpath("//h2[@id='chapters-heading']/text()") == ["الفصول"]
    index = page_of(output)
    assert index.xpath("//article/@dir") == ["rtl"] and index.xpath("//article/@lang") == ["ar"]
    assert [text_direction(t) for t in ("he", "fa-IR", "ur", "en", "ar_EG")] == ["rtl", "rtl", "rtl", "ltr", "rtl"]


def test_catalogue_page(site: Site) -> None:
    doc = page_of(site.output)
    articles = doc.xpath("//main//article")
    assert [a.xpath(".//h2")[0].text_content() for a in articles] == ["Putin today", "A Small Book of Tests"]
    book = articles[1]
    assert book.xpath(".//h2/a/@href") == ["book/index.html"]
    assert book.xpath(".//img/@alt") == ["Cover of A Small Book of Tests by Ada Lovelace and Charles Babbage"]
    labels = [li.text_content() for li in book.xpath(".//ul[@class='formats']/li")]
    assert labels[:6] == [
        f"EPUB ({human_size((site.book.folder / 'book.epub').stat().st_size)})",
        f"EPUB with narration (read-aloud) ({human_size((site.book.folder / 'book-read-aloud.epub').stat().st_size)})",
        f"MP3 ({human_size(site.book.full.path.stat().st_size)})",
        f"M4B audiobook ({human_size((site.book.folder / 'book.m4b').stat().st_size)})",
        f"Captions (WebVTT) ({human_size((site.book.folder / 'book.vtt').stat().st_size)})",
        f"Chapters (JSON) ({human_size((site.book.folder / 'book.chapters.json').stat().st_size)})",
    ]
    assert labels[-1] == "Podcast feed (RSS)"
    for href in book.xpath(".//a/@href"):
        assert (site.output / href).is_file(), href
    assert "Two short chapters" in book.text_content() and "1 September 1843" in book.text_content()
    subscribe = doc.xpath("//nav[contains(@class, 'subscribe')]//a/@href")
    assert "feed.xml" in subscribe and "opds.xml" in subscribe
    assert not any(h.startswith("podcast:") for h in doc.xpath("//a/@href"))


def test_labels_and_sizes() -> None:
    assert format_label("daisy_zip", "x-daisy.zip") == "DAISY 2.02 talking book (zip)"
    assert format_label("audiobook", "x.audiobook") == "Readium audiobook"
    assert format_label("lpf", "x.lpf") == "W3C audiobook (LPF)"
    assert format_label("", "book.lpf") == "W3C audiobook (LPF)"
    assert format_label("brand_new", "x.bin") == "Brand new"
    assert [human_size(n) for n in (0, 999, 1000, 48_209, 1_527_069)] == [
        "0 bytes", "999 bytes", "1.0 kB", "48.2 kB", "1.5 MB",
    ]  # fmt: skip


def test_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719532800")
    pages = []
    for run in ("a", "b"):
        output = tmp_path / run
        result = publish(SEED, output)
        write_catalogue(output, Settings(engine="silent", output=output))
        pages.append(((result.folder / "index.html").read_bytes(), (output / "index.html").read_bytes()))
    assert pages[0] == pages[1]
    assert b"2024-06-28T00:00:00Z" in pages[0][0]


# --- in a browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[str]:
    with serving(site.output) as port:
        yield f"http://127.0.0.1:{port}/"


@dataclass
class Watch:
    """Everything that went wrong while a page was open."""

    problems: list[str] = field(default_factory=list)
    hosts: set[str] = field(default_factory=set)


def watched(page: Any) -> Watch:
    watch = Watch()
    page.on("console", lambda m: m.type == "error" and watch.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: watch.problems.append(f"page error: {e}"))
    page.on("request", lambda r: watch.hosts.add(urlsplit(r.url).hostname or r.url.split(":", 1)[0]))

    def failed(request: Any) -> None:
        # Chromium cancels a media request when it seeks and asks again with another Range
        if request.resource_type == "media" and request.failure == "net::ERR_ABORTED":
            return
        watch.problems.append(f"failed: {request.url} {request.failure}")

    page.on("requestfailed", failed)
    page.on("response", lambda r: r.status >= 400 and watch.problems.append(f"HTTP {r.status}: {r.url}"))
    return watch


def open_page(browser: Any, url: str, **context: Any) -> tuple[Any, Any, Watch]:
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    watch = watched(page)
    page.goto(url, wait_until="load")
    return ctx, page, watch


def wait_for_audio(page: Any) -> None:
    page.wait_for_function("() => document.getElementById('player').readyState >= 1", timeout=15_000)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    if not AXE.is_file():
        pytest.fail(f"axe-core is not installed at {AXE}: run `make test`, which installs it")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def test_browser_loads_with_no_errors_and_audio_as_long_as_the_narration(site: Site, server: str, browser: Any) -> None:
    ctx, page, watch = open_page(browser, server + "putin-today/index.html")
    wait_for_audio(page)
    duration = page.evaluate("document.getElementById('player').duration")
    assert abs(duration - site.seed.duration) < 0.5
    page.wait_for_function("() => document.querySelector('track').track.cues?.length > 0")
    assert page.evaluate("document.querySelector('track').track.cues.length") == len(site.seed.cues)
    assert page.evaluate("document.querySelectorAll('.s').length") == len(site.seed.cues)
    ctx.close()
    assert watch.problems == []
    assert watch.hosts <= {"127.0.0.1", "data"}


def test_browser_clicking_a_sentence_seeks_plays_and_highlights(site: Site, server: str, browser: Any) -> None:
    ctx, page, watch = open_page(browser, server + "putin-today/index.html")
    wait_for_audio(page)
    for cue in (site.seed.cues[10], site.seed.cues[3], site.seed.cues[-2]):
        page.click(f"[id='{cue.sentence_id}']")
        page.wait_for_function(
            """([id, start]) => {
                const a = document.getElementById('player'), s = document.getElementById(id);
                return Math.abs(a.currentTime - start) <= 0.3 && s.classList.contains('hl')
                    && s.getAttribute('aria-current') === 'true';
            }""",
            arg=[cue.sentence_id, cue.start],
            timeout=5_000,
        )
        assert page.evaluate("document.querySelectorAll('.hl, [aria-current=true].s').length") == 1
    page.wait_for_function("() => !document.getElementById('player').paused")
    assert page.evaluate("document.getElementById('status').textContent").startswith("Playing from")
    ctx.close()
    assert watch.problems == []


def test_browser_chapter_links_seek_to_the_marks(site: Site, server: str, browser: Any) -> None:
    ctx, page, watch = open_page(browser, server + "book/index.html")
    wait_for_audio(page)
    marks = json.loads((site.book.folder / "book.chapters.json").read_text(encoding="utf-8"))["chapters"]
    links = page.locator("#chapters a[data-start]")
    assert links.count() == len(marks) == 2
    for n in (1, 0):
        links.nth(n).click()
        page.wait_for_function(
            "start => Math.abs(document.getElementById('player').currentTime - start) <= 0.3",
            arg=marks[n]["startTime"],
            timeout=5_000,
        )
        assert links.nth(n).get_attribute("aria-current") == "true"
    ctx.close()
    assert watch.problems == []


def test_browser_keyboard(site: Site, server: str, browser: Any) -> None:
    ctx, page, watch = open_page(browser, server + "putin-today/index.html")
    wait_for_audio(page)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"  # visible focus
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'text'")
    page.keyboard.press("k")
    page.wait_for_function("() => !document.getElementById('player').paused")
    page.keyboard.press("k")
    page.wait_for_function("() => document.getElementById('player').paused")
    before = page.evaluate("document.getElementById('player').currentTime")
    page.keyboard.press("l")
    after = page.evaluate("document.getElementById('player').currentTime")
    assert abs(after - before - 10) < 0.3
    page.keyboard.press("ArrowLeft")
    assert abs(page.evaluate("document.getElementById('player').currentTime") - before) < 0.3
    assert "Back 10 seconds" in page.evaluate("document.getElementById('status').textContent")
    # Tab from the text lands on one sentence (roving tabindex); Down moves on, Enter plays from it
    focus = page.evaluate("document.querySelectorAll('.s[tabindex=\"0\"]').length")
    assert focus == 1
    page.focus(f"[id='{site.seed.cues[5].sentence_id}']")
    page.keyboard.press("ArrowDown")
    target = site.seed.cues[6]
    assert page.evaluate("document.activeElement.id") == target.sentence_id
    page.keyboard.press("Enter")
    page.wait_for_function(
        "start => Math.abs(document.getElementById('player').currentTime - start) <= 0.3", arg=target.start
    )
    assert page.get_attribute(f"[id='{target.sentence_id}']", "aria-current") == "true"
    ctx.close()
    assert watch.problems == []


def test_browser_reduced_motion(site: Site, server: str, browser: Any) -> None:
    ctx, page, watch = open_page(browser, server + "book/index.html", reduced_motion="reduce",
                                 viewport={"width": 800, "height": 500})  # fmt: skip
    wait_for_audio(page)
    assert page.evaluate("matchMedia('(prefers-reduced-motion: reduce)').matches")
    # an instant jump: the chapter's first sentence is in view as soon as the click returns
    top = page.evaluate(
        """() => { document.querySelectorAll('#chapters a[data-start]')[1].click();
                   const r = document.getElementById('c02-s0001').getBoundingClientRect();
                   return [r.top, r.bottom, window.innerHeight, window.scrollY]; }"""
    )
    assert top[0] >= 0 and top[1] <= top[2] and top[3] > 0
    assert page.evaluate("document.activeElement.id") == "c02-s0001"
    ctx.close()
    assert watch.problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_browser_axe_readalong(server: str, browser: Any, scheme: str) -> None:
    ctx, page, watch = open_page(browser, server + "book/index.html", color_scheme=scheme)
    wait_for_audio(page)
    page.click("[id='c01-s0003']")  # a highlighted sentence (with a link-free emphasis) is checked too
    page.evaluate("document.getElementById('player').pause()")
    assert page.evaluate("document.querySelector('.hl').id") == "c01-s0003"
    page.wait_for_function("() => document.getAnimations().length === 0")  # the highlight's fade-in is over
    started = time.perf_counter()
    violations = axe_violations(page)
    print(f"axe (read-along, {scheme}): {time.perf_counter() - started:.2f} s")
    ctx.close()
    assert violations == []
    assert watch.problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_browser_axe_catalogue(site: Site, server: str, browser: Any, scheme: str) -> None:
    ctx, page, watch = open_page(browser, server + "index.html", color_scheme=scheme)
    assert page.title() == "Publications"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    violations = axe_violations(page)
    ctx.close()
    assert violations == []
    assert watch.problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_browser_axe_readalong_with_tables_and_notes(tmp_path: Path, browser: Any, scheme: str) -> None:
    """A read-along page of a GFM source (a table with its caption, footnotes, a definition list):
    notes keep their kind as data-epub-type (no stray namespaces), and axe finds nothing."""
    from tests.test_gfm import GFM

    source = tmp_path / "gfm.md"
    source.write_text(GFM, encoding="utf-8")
    result = publish(source, tmp_path / "out")
    html = (result.folder / "index.html").read_text(encoding="utf-8")
    assert "<table" in html and "<caption" in html and 'data-epub-type="footnote"' in html
    assert "xmlns:" not in html and "ns0:" not in html
    with serving(tmp_path / "out") as port:
        url = f"http://127.0.0.1:{port}/{result.slug}/index.html"
        ctx, page, watch = open_page(browser, url, color_scheme=scheme)
        wait_for_audio(page)
        violations = axe_violations(page)
        ctx.close()
    assert violations == []
    assert watch.problems == []
