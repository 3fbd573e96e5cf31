"""Distribution at library scale: episode dates in reading order that survive re-publishing,
Podcasting 2.0 tags, paginated and faceted OPDS 1.2/2.0 and site feed, the offline feed and OPDS
validators on good and deliberately broken documents, and catalogue rewrites limited to what changed."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from PIL import Image
from tests.conftest import FIXTURES

from publisher import api
from publisher.formats.web.catalogue import paged_name, pages
from publisher.pipeline.publish import write_catalogue
from publisher.pipeline.results import BatchResult
from publisher.settings import Settings
from publisher.validate.feed_rules import feed_problems
from publisher.validate.opds import check_opds_json, check_opds_xml
from publisher.validate.run import check_paths

BASE = "https://example.org/lib/"
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
NS = {"itunes": ITUNES, "podcast": PODCAST, "a": ATOM, "dc": "http://purl.org/dc/terms/",
      "opds": "http://opds-spec.org/2010/catalog"}  # fmt: skip
OLD_BOOK = (
    "---\ntitle: A Book of 1891\nauthor: Ada Old\ndate: 1891-05-01\n---\n\n"
    "# One\n\nFirst part. It is short.\n\n# Two\n\nSecond part.\n"
)
ARTICLE = "---\ntitle: An Undated Article\nauthor: Ada Old\nlanguage: fr\n---\n\nUn article court. Deux phrases.\n"


def run(sources: Path, output: Path, **flags: object) -> BatchResult:
    settings = Settings(engine="silent", cache=output.parent / "cache")
    result = api.publish([sources], settings.override(output=output, base_url=BASE, **flags))
    assert not result.failed, result.failed
    return result


def write_sources(folder: Path) -> Path:
    sources = folder / "sources"
    sources.mkdir(parents=True)
    shutil.copy(FIXTURES / "chapters.txt", sources / "long-walk.txt")
    (sources / "old.md").write_text(OLD_BOOK, encoding="utf-8")
    (sources / "article.md").write_text(ARTICLE, encoding="utf-8")
    return sources


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("library")
    run(write_sources(folder), folder / "out", page_size=2, owner_email="pod@example.org")
    return folder / "out"


def tree(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


# --- serial feeds: dates in reading order, stable across re-publishing ----------------------


def test_chapter_episodes_are_dated_in_reading_order(library: Path) -> None:
    parsed = feedparser.parse((library / "old" / "feed.xml").read_bytes())
    assert parsed.bozo == 0
    assert [e.title for e in parsed.entries] == ["One", "Two"]
    dates = [e.published_parsed for e in parsed.entries]
    assert dates[0][:6] == (1891, 5, 1, 0, 0, 0) and dates[1][:6] == (1891, 5, 1, 0, 1, 0)
    numbers = [
        int(e.findtext("itunes:episode", namespaces=NS)) for e in tree(library / "old" / "feed.xml").iter("item")
    ]
    assert numbers == [1, 2]


def test_republishing_keeps_dates_and_guids_and_marks_only_the_changed_chapter(tmp_path: Path) -> None:
    sources = write_sources(tmp_path)
    output = tmp_path / "out"
    run(sources, output, page_size=2)

    def items() -> dict[str, tuple[str, str, str | None]]:
        return {i.findtext("title"): (i.findtext("guid"), i.findtext("pubDate"), i.findtext("a:updated", namespaces=NS))
                for i in tree(output / "old" / "feed.xml").iter("item")}  # fmt: skip

    before = items()
    assert all(updated is None for _, _, updated in before.values())
    (sources / "old.md").write_text(OLD_BOOK.replace("Second part.", "Second part, revised."), encoding="utf-8")
    run(sources, output, page_size=2)
    after = items()
    assert after["One"] == before["One"]  # unchanged chapter: same guid, same date, no update mark
    assert after["Two"][:2] == before["Two"][:2]  # changed chapter: same guid and date...
    assert after["Two"][2] is not None  # ...and says when it was updated
    assert feed_problems(etree.parse(str(output / "old" / "feed.xml"))) == []
    parsed = feedparser.parse((output / "old" / "feed.xml").read_bytes())
    assert parsed.bozo == 0 and parsed.entries[1].updated_parsed is not None
    manifest = json.loads((output / "old" / ".publisher.json").read_text(encoding="utf-8"))
    assert [bool(a["updated"]) for a in manifest["audio"]] == [False, True] and all(
        a["digest"] for a in manifest["audio"]
    )


# --- Podcasting 2.0 ---------------------------------------------------------------------------


def test_podcast_medium_person_and_locked(library: Path, tmp_path: Path) -> None:
    book = tree(library / "old" / "feed.xml").find("channel")
    assert book.findtext("podcast:medium", namespaces=NS) == "audiobook"
    persons = [(p.text, p.get("group"), p.get("role")) for p in book.findall("podcast:person", NS)]
    assert persons == [("Ada Old", "writing", "author"), ("silence (test engine)", "cast", "narrator")]
    locked = book.find("podcast:locked", NS)
    assert (locked.text, locked.get("owner")) == ("no", "pod@example.org")
    site = tree(library / "feed.xml").find("channel")
    assert site.findtext("podcast:medium", namespaces=NS) == "podcast"
    assert site.findall("podcast:person", NS) == []  # the site's items each name their own people
    assert all(item.findall("podcast:person", NS) for item in site.iter("item"))
    article = tree(library / "article" / "feed.xml").find("channel")
    assert article.findtext("podcast:medium", namespaces=NS) == "podcast"
    settings = Settings(output=library, base_url=BASE, page_size=2, locked=True)
    copy_of = tmp_path / "copy"
    shutil.copytree(library, copy_of)
    write_catalogue(copy_of, settings)
    assert tree(copy_of / "old" / "feed.xml").findtext("channel/podcast:locked", namespaces=NS) == "yes"


# --- the feed validator ---------------------------------------------------------------------


def test_every_feed_and_page_passes_the_validator_and_feedparser(library: Path) -> None:
    feeds = sorted(library.glob("feed*.xml")) + sorted(library.glob("*/feed.xml"))
    assert [p.name for p in feeds[:2]] == ["feed-2.xml", "feed.xml"] and len(feeds) == 5
    for path in feeds:
        assert feed_problems(etree.parse(str(path))) == [], path
        assert feedparser.parse(path.read_bytes()).bozo == 0, path


BREAKAGES = {
    "PC-guid": lambda c: c.find("podcast:guid", NS).__setattr__("text", "not-a-uuid"),
    "PC-medium": lambda c: c.find("podcast:medium", NS).__setattr__("text", "radio"),
    "PC-locked": lambda c: c.find("podcast:locked", NS).__setattr__("text", "maybe"),
    "PC-person": lambda c: c.find("podcast:person", NS).set("role", "chief"),
    "APPLE-9": lambda c: c.find("item/itunes:duration", NS).__setattr__("text", "long"),
    "APPLE-7": lambda c: c.find("item").remove(c.find("item/itunes:episode", NS)),
    "APPLE-4": lambda c: c.findall("item")[1].find("guid").__setattr__("text", c.find("item/guid").text),
    "APPLE-3": lambda c: c.findall("item")[1].find("enclosure").set("url", c.find("item/enclosure").get("url")),
    "RSS-3": lambda c: c.find("item/enclosure").set("length", "many"),
    "RSS-4": lambda c: c.find("item/pubDate").__setattr__("text", "yesterday"),
    "RSS-1": lambda c: c.remove(c.find("description")),
    "ORDER": lambda c: c.findall("item")[1].find("pubDate").__setattr__("text", "Mon, 01 Jan 1800 00:00:00 +0000"),
    "PC-transcript": lambda c: c.find("item/podcast:transcript", NS).set("rel", "subtitles"),
}


@pytest.mark.parametrize("code", sorted(BREAKAGES))
def test_the_validator_catches_each_broken_rule_and_cites_its_source(library: Path, code: str) -> None:
    document = etree.parse(str(library / "old" / "feed.xml"))
    broken = copy.deepcopy(document)
    BREAKAGES[code](broken.getroot().find("channel"))
    problems = feed_problems(broken)
    assert any(p.startswith(f"[{code}]") for p in problems), problems
    cited = next(p for p in problems if p.startswith(f"[{code}]"))
    assert any(source in cited for source in ("RSS 2.0", "Apple Podcasts", "Podcasting 2.0", "issue 18")), cited


# --- OPDS -----------------------------------------------------------------------------------


def test_opds_pages_facets_and_search(library: Path) -> None:
    root = tree(library / "opds.xml")
    links = {link.get("rel"): link.get("href") for link in root.findall("a:link", NS)}
    assert (
        links["next"] == BASE + "opds-2.xml"
        and links["last"] == BASE + "opds-2.xml"
        and links["first"] == BASE + "opds.xml"
    )
    assert "previous" not in links and links["search"] == BASE + "opensearch.xml"
    assert len(root.findall("a:entry", NS)) == 2 and len(tree(library / "opds-2.xml").findall("a:entry", NS)) == 1
    facets = [(f.get("{http://opds-spec.org/2010/catalog}facetGroup"), f.get("title"), f.get("{http://purl.org/syndication/thread/1.0}count"))
              for f in root.findall("a:link[@rel='http://opds-spec.org/facet']", NS)]  # fmt: skip
    assert ("Language", "en", "2") in facets and ("Language", "fr", "1") in facets
    assert any(group == "Author" and title == "Ada Old" for group, title, _ in facets)
    french = json.loads((library / "_opds" / "language" / "fr.json").read_text(encoding="utf-8"))
    assert [p["metadata"]["title"] for p in french["publications"]] == ["An Undated Article"]
    active = [link for group in french["facets"] for link in group["links"] if link.get("rel") == "self"]
    assert [link["title"] for link in active] == ["fr"]
    data = json.loads((library / "opds.json").read_text(encoding="utf-8"))
    assert data["metadata"]["numberOfItems"] == 3 and data["metadata"]["itemsPerPage"] == 2
    assert {link["rel"] for link in data["links"]} >= {"self", "next", "first", "last", "search"}
    search = tree(library / "opensearch.xml")
    assert any("{searchTerms}" in u.get("template", "") for u in search)
    for atom in [*library.glob("opds*.xml"), *library.glob("_opds/*/*.xml")]:
        assert feedparser.parse(atom.read_bytes()).bozo == 0, atom
    index = json.loads((library / "search.json").read_text(encoding="utf-8"))
    assert sorted(r["title"] for r in index["publications"]) == [
        "A Book of 1891",
        "An Undated Article",
        "The Long Walk",
    ]


def test_opds_dates_come_from_the_source(library: Path) -> None:
    entries = {e.findtext("a:title", namespaces=NS): e for page in ("opds.xml", "opds-2.xml")
               for e in tree(library / page).findall("a:entry", NS)}  # fmt: skip
    old = entries["A Book of 1891"]
    assert old.findtext("dc:issued", namespaces=NS) == "1891-05-01" and old.find("a:published", NS) is None
    undated = entries["An Undated Article"]
    assert undated.find("dc:issued", NS) is None and undated.findtext("a:published", namespaces=NS)
    publications = {p["metadata"]["title"]: p["metadata"] for name in ("opds.json", "opds-2.json")
                    for p in json.loads((library / name).read_text(encoding="utf-8"))["publications"]}  # fmt: skip
    assert publications["A Book of 1891"]["published"] == "1891-05-01"
    assert "published" not in publications["An Undated Article"]


def test_opds_entries_offer_every_format_with_type_size_and_a_real_thumbnail(library: Path) -> None:
    entry = next(
        e
        for e in tree(library / "opds.xml").findall("a:entry", NS)
        if e.findtext("a:title", namespaces=NS) == "The Long Walk"
    )
    kinds = {
        link.get("type"): link
        for link in entry.findall("a:link[@rel='http://opds-spec.org/acquisition/open-access']", NS)
    }
    assert set(kinds) >= {"application/epub+zip", "audio/mpeg", "audio/mp4", "application/audiobook+zip",
                          "application/lpf+zip", "application/zip"}  # fmt: skip
    for link in kinds.values():
        assert int(link.get("length")) == (library / link.get("href")[len(BASE) :]).stat().st_size
    thumb = entry.find("a:link[@rel='http://opds-spec.org/image/thumbnail']", NS).get("href")
    cover = entry.find("a:link[@rel='http://opds-spec.org/image']", NS).get("href")
    assert thumb != cover
    with Image.open(library / thumb[len(BASE) :]) as image:
        assert max(image.size) == 200


def test_check_passes_the_whole_output(library: Path) -> None:
    # the catalogue's documents as `publisher check` finds them (EPUBCheck on the EPUBs is tested elsewhere)
    documents = [*library.glob("feed*.xml"), *library.glob("opds*"), library / "opensearch.xml"]
    documents += [*library.glob("*/feed.xml"), library / "_opds"]
    reports = check_paths(documents, ace=False)
    kinds = {r.check for r in reports}
    assert kinds == {"feed", "OPDS 1.2", "OPDS 2.0", "OpenSearch"}
    assert len([r for r in reports if r.check == "OPDS 2.0"]) == 2 + 4  # two pages, two languages, two authors
    assert all(r.ok for r in reports), [(r.path, r.messages) for r in reports if not r.ok]


def test_opds_validators_catch_broken_documents(library: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(library, out)
    data = json.loads((out / "opds.json").read_text(encoding="utf-8"))
    data["publications"][0]["links"] = [link for link in data["publications"][0]["links"] if link["rel"] == "alternate"]
    data["publications"][1]["links"][0]["size"] = 1
    data["metadata"]["itemsPerPage"] = 0
    (out / "opds.json").write_text(json.dumps(data), encoding="utf-8")
    report = check_opds_json(out / "opds.json")
    assert not report.ok
    text = "\n".join(report.messages)
    assert "schema: publications" in text and "schema: metadata/itemsPerPage" in text and "declared size 1" in text
    feed = etree.parse(str(out / "opds.xml"))
    entry = feed.getroot().find("a:entry", NS)
    entry.find("a:summary", NS).set("type", "html")
    for link in entry.findall("a:link[@rel='http://opds-spec.org/acquisition/open-access']", NS):
        entry.remove(link)
    feed.getroot().find("a:link[@rel='search']", NS).set("type", "text/html")
    feed.write(str(out / "opds.xml"))
    messages = "\n".join(check_opds_xml(out / "opds.xml").messages)
    assert "§5.1.3" in messages and "§5.4" in messages and "§3" in messages
    assert "RELAX NG" in messages and "summary" in messages  # the grammar too: OPDS allows only type="text"
    thumb = out / "long-walk" / "thumbnail.jpg"
    shutil.copy(out / "long-walk" / "cover.jpg", thumb)
    assert any(
        "thumbnail" in m
        for m in check_opds_xml(out / "opds-2.xml").messages + check_opds_xml(out / "opds.xml").messages
    )


# --- pagination and rewriting only what changed ----------------------------------------------


def test_pages() -> None:
    assert paged_name("feed.xml", 1) == "feed.xml" and paged_name("feed.xml", 3) == "feed-3.xml"
    split = pages(list(range(5)), 2)
    assert [list(p.items) for p in split] == [[0, 1], [2, 3], [4]]
    assert split[1].neighbours("opds.xml") == {
        "first": "opds.xml",
        "last": "opds-3.xml",
        "prev": "opds.xml",
        "next": "opds-3.xml",
    }
    assert split[0].neighbours("x.json") == {"first": "x.json", "last": "x-3.json", "next": "x-2.json"}
    assert len(pages([], 10)) == 1 and pages([], 10)[0].count == 1


def test_rebuilding_rewrites_only_the_files_whose_content_changed(library: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(library, out)
    settings = Settings(base_url=BASE, page_size=2, owner_email="pod@example.org")
    # nothing changed: nothing written (the index page belongs to the site renderer, checked in test_site)
    assert [p for p in write_catalogue(out, settings) if not p.name.startswith("index")] == []
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.xml")}
    manifest = out / "article" / ".publisher.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["metadata"]["modified"] = "2030-01-01T00:00:00Z"  # the article re-published (same title and date)
    manifest.write_text(json.dumps(data), encoding="utf-8")
    written = {p.relative_to(out).as_posix() for p in write_catalogue(out, settings)}
    page = next(n for n in ("opds.xml", "opds-2.xml") if "An Undated Article" in (out / n).read_text(encoding="utf-8"))
    feed_page = next(
        n for n in ("feed.xml", "feed-2.xml") if "An Undated Article" in (out / n).read_text(encoding="utf-8")
    )
    expected = {"article/feed.xml", feed_page, page, page.replace(".xml", ".json"),
                "_opds/language/fr.xml", "_opds/language/fr.json"}  # fmt: skip
    author = next(p.relative_to(out).as_posix() for p in (out / "_opds" / "author").glob("ada-old-*.xml"))
    expected |= {author, author.replace(".xml", ".json")}
    assert written - {"index.html", "index-2.html"} == expected
    untouched = [p for p in before if p.relative_to(out).as_posix() not in written]
    assert untouched and all(p.stat().st_mtime_ns == before[p] for p in untouched)


def test_fewer_pages_remove_the_stale_ones(library: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(library, out)
    assert (out / "feed-2.xml").is_file() and (out / "opds-2.json").is_file()
    write_catalogue(out, Settings(base_url=BASE, page_size=10))
    assert (
        not (out / "feed-2.xml").exists() and not (out / "opds-2.xml").exists() and not (out / "opds-2.json").exists()
    )
    root = tree(out / "opds.xml")
    assert root.find("a:link[@rel='next']", NS) is None and len(root.findall("a:entry", NS)) == 3


def test_unchanged_files_are_neither_rendered_nor_rewritten(library: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(library, out)
    settings = Settings(base_url=BASE, page_size=2, owner_email="pod@example.org")
    for cache in out.glob(".publisher-*.json"):  # without the render cache every file is rendered again...
        cache.unlink()
    assert [
        p for p in write_catalogue(out, settings) if not p.name.startswith("index")
    ] == []  # ...and its bytes compared
    caches = {".publisher-feeds.json", ".publisher-index.json", ".publisher-opds.json", ".publisher-catalogue.json"}
    assert {p.name for p in out.glob(".publisher-*.json")} == caches
    (out / "opds-2.json").unlink()  # a file deleted by hand comes back
    (out / "old" / "feed.xml").write_bytes(b"edited by hand")  # the cache trusts the files it wrote...
    assert {p.relative_to(out).as_posix() for p in write_catalogue(out, settings)} - {"index.html"} == {"opds-2.json"}
    forced = write_catalogue(out, Settings(base_url=BASE, page_size=2, owner_email="pod@example.org", force=True))
    assert out / "old" / "feed.xml" in forced  # ...until --force renders everything again
    assert feed_problems(etree.parse(str(out / "old" / "feed.xml"))) == []


def test_the_opds_grammar_as_published_rejects_every_http_url(library: Path) -> None:
    """Why opds12_schema corrects one pattern: as written ("\\nrt") it excludes the letters r and t."""
    from publisher.validate.opds import OPDS12_RNG, relax_ng_problems

    assert relax_ng_problems(etree.parse(str(library / "opds.xml"))) == []
    as_published = etree.RelaxNG(etree.parse(str(OPDS12_RNG)))
    assert not as_published.validate(etree.parse(str(library / "opds.xml")))
    assert "anyURI" in str(as_published.error_log)


def test_index_page_is_paginated_like_the_feeds(library: Path, tmp_path: Path) -> None:
    """index.html, index-2.html: page_size publications each, in the site feed's order, linked
    first/prev/next/last; a one-page catalogue has no page links; fewer pages remove the stale ones."""
    import lxml.html

    site_order = [item.findtext("title") for item in tree(library / "feed.xml").iter("item")]
    site_order += [item.findtext("title") for item in tree(library / "feed-2.xml").iter("item")]
    shown, links = [], {}
    for name in ("index.html", "index-2.html"):
        doc = lxml.html.parse(str(library / name)).getroot()
        shown += [h.text_content().strip() for h in doc.xpath("//article[@class='pub']//h2")]
        links[name] = {a.get("rel"): a.get("href") for a in doc.xpath("//nav[@class='pages']//a")}
        assert doc.xpath("//nav[@class='pages']/p/text()")[0].startswith("Page ")
    assert len(shown) == 3 and shown == site_order
    assert links["index.html"] == {"first": "index.html", "next": "index-2.html", "last": "index-2.html"}
    assert links["index-2.html"] == {"first": "index.html", "prev": "index.html", "last": "index-2.html"}
    assert not (library / "index-3.html").exists()
    out = tmp_path / "out"
    shutil.copytree(library, out)
    write_catalogue(out, Settings(base_url=BASE, page_size=10))
    assert not (out / "index-2.html").exists()
    assert lxml.html.parse(str(out / "index.html")).getroot().xpath("//nav[@class='pages']") == []
    before = (out / "index.html").stat().st_mtime_ns  # nothing changed: the page is not even rendered again
    assert [p for p in write_catalogue(out, Settings(base_url=BASE, page_size=10)) if p.name.startswith("index")] == []
    assert (out / "index.html").stat().st_mtime_ns == before
