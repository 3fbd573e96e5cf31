"""Hostile files (issue 25): SVGs that carry scripts, EPUBs with zip-slip names, decompression-bomb
images, XHTML with an XML declaration, markup in a description. Every hostile file is made here."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from lxml import etree
from tests import helpers
from tests.test_epub_in import _rezip, pandoc_epub

from publisher.errors import SourceError
from publisher.readers import read_source
from publisher.validate.tools import run_epubcheck

# The modules new with issue 25 are imported inside the tests that use them, so that every other
# test here runs (and fails) on code without them.


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publisher", *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


# --- 1. SVG: an allow-list ------------------------------------------------------------------------

HOSTILE_SVG = b"""<?xml version="1.0"?>
<?xml-stylesheet href="http://evil.example/x.css"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="40"
     viewBox="0 0 40 40" onload="alert(1)">
  <title>A red square</title>
  <script>alert(2)</script>
  <a xlink:href="javascript:alert(3)"><rect id="square" width="40" height="40" fill="red" onclick="alert(4)"/></a>
  <a href=" JaVaScRiPt:alert(5)"><text x="2" y="12">link</text></a>
  <a href="&#106;avascript:alert(6)"><text x="2" y="24">entity</text></a>
  <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">
    <iframe src="javascript:alert(7)"/></div></foreignObject>
  <image href="http://evil.example/track.png" width="1" height="1"/>
  <image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" width="1" height="1"/>
  <use href="http://evil.example/sprite.svg#x"/>
  <use xlink:href="#square" x="1"/>
  <set attributeName="href" to="javascript:alert(8)"/>
  <animate attributeName="fill" values="red;blue" dur="1s"/>
  <style>@import url(http://evil.example/s.css); rect { fill: red }</style>
  <circle id="outer" cx="20" cy="20" r="10" style="fill: url(http://evil.example/p)"/>
  <circle id="inner" cx="20" cy="20" r="5" fill="blue" filter="url(http://evil.example/f)"/>
</svg>
"""


def _svg_is_clean(data: bytes) -> etree._Element:
    """Parse a copy and assert nothing in it can run, load or link anything."""
    root = etree.fromstring(data)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        assert etree.QName(el).localname not in ("script", "foreignObject", "set", "animate", "iframe"), el.tag
        assert etree.QName(el).namespace == "http://www.w3.org/2000/svg", el.tag
        for name, value in el.attrib.items():
            assert not etree.QName(name).localname.lower().startswith("on"), name
            assert "javascript" not in value.lower() and "evil.example" not in value, (name, value)
            assert not value.startswith("data:image/svg"), (name, value)
        if etree.QName(el).localname == "style":
            assert "@import" not in (el.text or "")
    assert b"xml-stylesheet" not in data
    return root


def test_the_svg_sanitiser_keeps_the_drawing_and_drops_all_that_runs_or_reaches_out() -> None:
    from publisher.sanitise import sanitise_svg

    found = sanitise_svg(HOSTILE_SVG)
    root = _svg_is_clean(found.data)
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert root.find("s:a/s:rect[@fill='red']", ns) is not None  # the drawing is kept
    assert root.find("s:circle[@id='inner'][@fill='blue']", ns) is not None
    assert root.find("s:circle[@id='inner']", ns).get("filter") is None
    assert root.find("s:use[@x='1']", ns).get("{http://www.w3.org/1999/xlink}href") == "#square"  # local: kept
    assert root.findtext("s:title", namespaces=ns) == "A red square"
    assert {"event handler onload", "event handler onclick", "<script>", "<foreignObject>", "<set>"} <= set(
        found.active
    )
    assert len([r for r in found.active if r.startswith("link")]) == 6  # 3 javascript:, 2 remote, 1 svg data: URL


def test_a_safe_svg_keeps_its_bytes_and_a_broken_one_is_refused() -> None:
    from publisher.sanitise import UnsafeSvg, sanitise_svg

    safe = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><!-- a dot --><circle r="2" fill="url(#g)"/></svg>'
    )
    assert sanitise_svg(safe).data == safe and sanitise_svg(safe).removed == []
    for bad in (
        b"<svg",
        b"<html/>",
        b'<!DOCTYPE svg [<!ENTITY a "x">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
    ):
        with pytest.raises(UnsafeSvg):
            sanitise_svg(bad)


@pytest.mark.slow
def test_an_svg_with_scripts_is_published_clean_and_both_epubs_pass_epubcheck(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "drawing.svg").write_bytes(HOSTILE_SVG)
    (tmp_path / "sources" / "pic.md").write_text(
        "---\ntitle: Pictures\n---\n\n# Pictures\n\nA drawing follows.\n\n![A red square](drawing.svg)\n\nThe end.\n",
        encoding="utf-8",
    )
    result = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache")
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if "drawing.svg" in line]
    assert len(warning) == 1 and "event handler onload" in warning[0] and "<script>" in warning[0], result.stderr
    folder = tmp_path / "output" / "pic"
    copies = [p.read_bytes() for p in folder.rglob("*.svg")]  # the read-along page's images/, DAISY's
    for name in ("pic.epub", "pic-read-aloud.epub"):
        with zipfile.ZipFile(folder / name) as epub:
            copies += [epub.read(n) for n in epub.namelist() if n.endswith(".svg")]
        report = run_epubcheck(folder / name)
        assert report.ok, report.messages
    assert len(copies) >= 4  # web page, DAISY, both EPUBs: the drawing is kept, not left out
    for data in copies:
        root = _svg_is_clean(data)
        assert root.find(".//{http://www.w3.org/2000/svg}rect[@fill='red']") is not None


# --- 2. zip-slip names in an EPUB -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../../evil.txt", "climbs out"),
        ("EPUB/../../evil.txt", "climbs out"),
        ("..\\..\\evil.txt", "climbs out"),
        ("/tmp/evil.txt", "absolute"),
        ("\\evil.txt", "absolute"),
        ("C:/evil.txt", "absolute"),
        ("EPUB/a\x00b.txt", "control character"),
    ],
)
def test_unsafe_member_names(name: str, why: str) -> None:
    from publisher.zipfiles import unsafe_member_name

    assert why in (unsafe_member_name(name) or "")


def test_safe_member_names() -> None:
    from publisher.zipfiles import unsafe_member_name

    for name in ("mimetype", "EPUB/text/ch001.xhtml", "OEBPS/Images/a b.png", "EPUB/..hidden", "a..b/c"):
        assert unsafe_member_name(name) is None, name


def test_an_epub_with_zip_slip_or_absolute_names_is_refused_with_one_line(tmp_path: Path) -> None:
    good = pandoc_epub(tmp_path, "epub3")
    (tmp_path / "sources").mkdir()
    for stem, member in (("slip", "../../evil.txt"), ("absolute", "/tmp/publisher-evil.txt"), ("deep", "EPUB/../../x")):
        _rezip(good, tmp_path / "sources" / f"{stem}.epub", {member: b"evil"})
    with zipfile.ZipFile(tmp_path / "sources" / "absolute.epub") as z:
        assert "/tmp/publisher-evil.txt" in z.namelist()  # zipfile kept the name as written
    result = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache")
    assert result.returncode == 9 and "Traceback" not in result.stderr
    lines = errors(result)
    assert len(lines) == 3, result.stderr
    for line in lines:
        assert re.fullmatch(
            r"error: sources/\w+\.epub: member '.+' (climbs out of the package|is an absolute path).*", line
        )
    assert not (tmp_path / "output" / "slip").exists() and not (tmp_path / "output" / "absolute").exists()
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/publisher-evil.txt").exists()
    feed = (tmp_path / "output" / "feed.xml").read_text(encoding="utf-8")
    assert "<item>" not in feed  # nothing offered in the catalogue


def test_the_enhanced_epub_never_copies_an_unsafe_name(tmp_path: Path) -> None:
    """The reader refuses the package; if the file changes between reading and rendering, the
    enhanced EPUB's writer refuses it too."""
    from publisher.formats.book import enhance

    good = pandoc_epub(tmp_path, "epub3")
    result = helpers.publish(good, tmp_path / "out", force=True)
    bad = _rezip(good, tmp_path / "bad.epub", {"../../evil.txt": b"evil"})
    with zipfile.ZipFile(bad) as zin, pytest.raises(Exception, match="climbs out of the package"):
        opf_name = enhance._opf_name(zin)
        opf = etree.fromstring(zin.read(opf_name))
        enhance._write(zin, tmp_path / "x.epub", opf_name, opf, {}, {"n/narration.css": b""}, None, set())
    assert (result.folder / "pandoc-epub3-enhanced.epub").is_file()


# --- 4. decompression bombs -----------------------------------------------------------------------


def bomb_png(path: Path, width: int, height: int) -> Path:
    """A 1-bit grayscale PNG of width × height pixels, all black: a few KB that decode to gigabytes."""
    row = b"\x00" + bytes((width + 7) // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def test_a_bomb_image_is_left_out_with_one_line_and_a_bomb_cover_refused(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    big = bomb_png(tmp_path / "sources" / "big.png", 13_000, 13_000)  # Pillow only warns (under 2 × 89 M)
    bomb_png(tmp_path / "sources" / "huge.png", 20_000, 20_000)  # Pillow raises
    assert big.stat().st_size < 100_000
    (tmp_path / "sources" / "pictures.md").write_text(
        "# Pictures\n\nBefore.\n\n![big](big.png)\n\n![huge](huge.png)\n\nAfter.\n", encoding="utf-8"
    )
    (tmp_path / "sources" / "covered.md").write_text(
        "---\ncover: big.png\n---\n\n# Covered\n\nText.\n", encoding="utf-8"
    )
    result = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache", "--no-daisy", "--no-audiobooks")
    assert "Traceback" not in result.stderr and "DecompressionBomb" not in result.stderr
    assert "please report" not in result.stderr
    assert errors(result) == [
        "error: sources/covered.md: cover 'big.png' is 13,000 × 13,000 pixels; the limit is 50 million"
    ]
    assert result.returncode == 4
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING")]
    assert "image 'big.png' is 13,000 × 13,000 pixels; the limit is 50 million; left out" in warnings[0]
    assert "image 'huge.png' has 400,000,000 pixels; the limit is 50 million; left out" in warnings[1]
    epub = helpers.Epub(tmp_path / "output" / "pictures" / "pictures.epub")
    assert not [n for n in epub.zip.namelist() if n.endswith(".png") and "cover" not in n]
    again = cli(tmp_path, "publish", "sources/pictures.md", "--engine", "silent", "--cache-dir", "cache", "--force")
    assert again.returncode == 0 and "DecompressionBomb" not in again.stderr  # later publishes stay quiet


def test_an_epub_with_a_bomb_cover_gets_a_made_cover(tmp_path: Path) -> None:
    good = pandoc_epub(tmp_path, "epub3")
    with zipfile.ZipFile(good) as z:
        opf = z.read("EPUB/content.opf").decode()
    png = bomb_png(tmp_path / "bomb.png", 20_000, 20_000).read_bytes()
    item = '<item id="bomb" href="media/bomb.png" media-type="image/png" properties="cover-image"/>'
    opf = opf.replace("</manifest>", item + "</manifest>")
    book = _rezip(good, tmp_path / "book.epub", {"EPUB/content.opf": opf.encode(), "EPUB/media/bomb.png": png})
    pub = read_source(book)
    assert pub.metadata.cover is None
    with pytest.raises(SourceError, match="400,000,000 pixels"):
        from publisher.readers.common import _cover_path

        (tmp_path / "bomb.md").write_text("x", encoding="utf-8")
        _cover_path("bomb.png", tmp_path / "bomb.md")


# --- 9. XHTML with an XML declaration ---------------------------------------------------------------

XHTML = """<?xml version="1.0" encoding="{encoding}"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="fr" lang="fr">
<head><title>Exporté</title><script src="app.js"/></head>
<body><h1>Exporté</h1><p>Une phrase café.<br/>Une autre.</p><p>Encore une.</p></body>
</html>
"""


@pytest.mark.parametrize(("suffix", "encoding"), [(".xhtml", "utf-8"), (".html", "UTF-8"), (".xhtml", "iso-8859-1")])
def test_xhtml_with_an_xml_declaration_reads(tmp_path: Path, suffix: str, encoding: str) -> None:
    source = tmp_path / f"exported{suffix}"
    source.write_bytes(XHTML.format(encoding=encoding).encode(encoding))
    pub = read_source(source)
    assert pub.metadata.title == "Exporté" and pub.metadata.language == "fr"
    texts = [b.text for c in pub.chapters for b in c.blocks if b.kind != "heading"]
    assert texts == ["Une phrase café. Une autre.", "Encore une."]


# --- 8. markup in metadata ------------------------------------------------------------------------

HOSTILE_DESCRIPTION = "Desc <img src=x onerror=alert(1)> &amp; <b>more</b><script>alert(2)</script> ]]>"


def test_plain_text() -> None:
    from publisher.sanitise import plain_text

    assert plain_text(HOSTILE_DESCRIPTION) == "Desc & more ]]>"
    assert plain_text("<p>One.</p><p>Two <i>words</i>.</p>") == "One. Two words."
    assert plain_text("x < y and Tom &amp; Jerry") == "x < y and Tom & Jerry"
    assert plain_text("No markup &amp; no change") == "No markup &amp; no change"  # left exactly as it was


def _descriptions(output: Path) -> list[str]:
    found = []
    for feed in [output / "feed.xml", *output.glob("*/feed.xml")]:
        rss = etree.parse(str(feed))
        found += rss.xpath("//description/text()")
        found += rss.xpath("//*[local-name()='summary']/text()")
    opds = json.loads((output / "opds.json").read_text(encoding="utf-8"))
    found += [p["metadata"].get("description", "") for p in opds["publications"]]
    found += etree.parse(str(output / "opds.xml")).xpath("//*[local-name()='summary']/text()")
    return found


def test_markup_in_a_description_never_reaches_feeds_or_catalogues(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "front.md").write_text(
        f"---\ntitle: Front\ndescription: {json.dumps(HOSTILE_DESCRIPTION)}\n---\n\nText.\n", encoding="utf-8"
    )
    meta = HOSTILE_DESCRIPTION.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    (tmp_path / "sources" / "page.html").write_text(
        f'<html><head><title>Page</title><meta name="description" content="{meta}"></head>'
        "<body><article><p>Some text of the page.</p></article></body></html>",
        encoding="utf-8",
    )
    result = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache", "--no-daisy", "--no-audiobooks")
    assert result.returncode == 0, result.stderr
    output = tmp_path / "output"
    found = _descriptions(output)
    assert found.count("Desc & more ]]>") >= 8, found  # site feed, serial feeds (channel + summary), OPDS
    assert not [d for d in found if "<" in d or "onerror" in d or "alert" in d], found
    for slug in ("front", "page"):
        assert helpers.Epub(output / slug / f"{slug}.epub").dc("description") == ["Desc & more ]]>"]

    # a manifest written before this rule: its description is made plain where the catalogue shows it
    manifest = output / "front" / ".publisher.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["metadata"]["description"] = "Old <img src=x onerror=alert(3)>text"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    from publisher.pipeline.publish import write_catalogue
    from publisher.settings import Settings

    write_catalogue(output, Settings(output=output))
    assert "Old text" in _descriptions(output)
    assert not [d for d in _descriptions(output) if "onerror" in d]
