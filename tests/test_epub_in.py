"""EPUB in: real EPUB 2 and 3 books (made by pandoc and ebooklib here) read into Publications and
published again; hostile packages refused with one line."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pypandoc
import pytest
from ebooklib import epub
from tests import helpers
from tests.conftest import FIXTURES

from publisher.errors import SourceError
from publisher.readers import read_source
from publisher.validate.overlays import check_overlays
from publisher.validate.tools import run_ace, run_epubcheck

BOOK_MD = """\
---
title: Pandoc Book
author: Jo March
lang: en-US
date: 2020-05-01
publisher: Orchard Press
rights: CC BY 4.0
subject: Testing
description: A book made by pandoc.
---

# The First Chapter

Some text with a note.[^1] More *text* here.

| Site | Birds |
|------|------:|
| A    | 12    |

: Bird counts

![An engine drawing](engine.png)

# The Second Chapter

> A quotation in a block.

- one
- two

[^1]: The note itself.
"""


def pandoc_epub(tmp_path: Path, version: str) -> Path:
    """A real EPUB made by pandoc (`-t epub3` or `-t epub2`) from Markdown with a note, a table and an image."""
    shutil.copy(FIXTURES / "engine.png", tmp_path / "engine.png")
    source = tmp_path / "book.md"
    source.write_text(BOOK_MD, encoding="utf-8")
    out = tmp_path / f"pandoc-{version}.epub"
    pypandoc.convert_file(str(source), version, outputfile=str(out), extra_args=[f"--resource-path={tmp_path}"])
    return out


def ebooklib_epub(tmp_path: Path) -> Path:
    """An EPUB 3 made with ebooklib: creators with roles, a series, a colophon, an aside footnote."""
    book = epub.EpubBook()
    book.set_identifier("urn:isbn:9780000000002")
    book.set_title("The Lighthouse Keeper")
    book.set_language("en")
    book.add_author("Mary Shore", role="aut", uid="author")
    book.add_author("Tom Translator", role="trl", uid="translator")
    book.add_metadata("DC", "publisher", "Harbour Books")
    book.add_metadata("DC", "subject", "Sea stories")
    book.add_metadata(None, "meta", "Coast Tales", {"property": "belongs-to-collection", "id": "series"})
    book.add_metadata(None, "meta", "2", {"property": "group-position", "refines": "#series"})
    chapters = []
    texts = {
        "one": '<h1>Arrival</h1><p>The keeper came in spring.<a epub:type="noteref" href="#n1" id="r1">1</a></p>'
        '<aside epub:type="footnote" id="n1"><p>It was April.</p></aside>',
        "two": "<h1>The Storm</h1><p>Waves rose high. The lamp held.</p>",
        "colophon": '<section epub:type="colophon"><p>Set in Georgia by Harbour Books.</p></section>',
    }
    for name, body in texts.items():
        item = epub.EpubHtml(title=name.capitalize(), file_name=f"{name}.xhtml", lang="en")
        item.content = f'<html xmlns:epub="http://www.idpf.org/2007/ops"><body>{body}</body></html>'
        book.add_item(item)
        chapters.append(item)
    book.toc = [epub.Link("one.xhtml", "Arrival at the Light", "one"), epub.Link("two.xhtml", "The Storm", "two")]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    out = tmp_path / "ebooklib.epub"
    epub.write_epub(str(out), book)
    return out


@pytest.mark.parametrize("version", ["epub3", "epub2"])
def test_pandoc_epub_structure_and_metadata(tmp_path: Path, version: str) -> None:
    pub = read_source(pandoc_epub(tmp_path, version))
    meta = pub.metadata
    assert (meta.title, meta.authors, meta.language, meta.date) == ("Pandoc Book", ("Jo March",), "en-US", "2020-05-01")
    assert (meta.publisher, meta.rights, meta.subjects) == ("Orchard Press", "CC BY 4.0", ("Testing",))
    assert meta.description == "A book made by pandoc." and (meta.identifier or "").startswith("urn:uuid:")
    assert [c.title for c in pub.chapters] == ["The First Chapter", "The Second Chapter"]  # no title page chapter
    kinds = [b.kind for b in pub.chapters[0].blocks]
    assert kinds == ["heading", "paragraph", "note", "table", "row", "row", "figure"]
    first = pub.chapters[0].blocks
    assert [s.text for s in first[2].sentences] == ["Note 1: The note itself."]
    assert first[5].sentences[0].text == "Site A: birds, 12."
    assert (
        first[6].alt == "An engine drawing"
        and Path(first[6].src or "").read_bytes() == (FIXTURES / "engine.png").read_bytes()
    )
    assert not Path(first[6].src or "").is_relative_to(tmp_path)  # unpacked to a temporary folder
    assert [b.kind for b in pub.chapters[1].blocks] == ["heading", "quote", "list_item", "list_item"]


def test_ebooklib_epub_roles_series_toc_titles_and_matter(tmp_path: Path) -> None:
    pub = read_source(ebooklib_epub(tmp_path))
    meta = pub.metadata
    assert meta.authors == ("Mary Shore",) and meta.contributors == (("Tom Translator", "trl"),)
    assert (meta.series, meta.series_position, meta.identifier) == ("Coast Tales", "2", "urn:isbn:9780000000002")
    assert [c.title for c in pub.chapters] == ["Arrival at the Light", "The Storm"]  # from the nav; colophon left out
    blocks = pub.chapters[0].blocks
    assert [b.kind for b in blocks] == ["heading", "paragraph", "note"]
    assert blocks[1].sentences[0].text == "The keeper came in spring."
    assert blocks[2].sentences[0].text == "Note 1: It was April."


def test_epub_in_publishes_valid_books(tmp_path: Path) -> None:
    source = pandoc_epub(tmp_path, "epub3")
    own = run_epubcheck(source)  # the input's own findings, reported apart
    result = helpers.publish(source, tmp_path / "out")
    read_aloud = result.folder / f"{result.slug}-read-aloud.epub"
    for book in (result.epub, read_aloud):
        for report in (run_epubcheck(book), run_ace(book)):
            assert report.ok, (report.messages, own.messages)
    assert check_overlays(read_aloud).ok
    c01 = helpers.Epub(result.epub).xml("text/c01.xhtml")
    assert c01.find(".//x:aside[@role='doc-footnote']", helpers.NS) is not None
    assert c01.find(".//x:figure/x:figcaption", helpers.NS) is not None


def _rezip(src: Path, dest: Path, change: dict[str, bytes | None]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            if info.filename in change:
                continue
            zout.writestr(info, zin.read(info.filename))
        for name, data in change.items():
            if data is not None:
                zout.writestr(name, data, zipfile.ZIP_DEFLATED)
    return dest


ENCRYPTION = b"""<?xml version="1.0"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
<enc:EncryptedData><enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
<enc:CipherData><enc:CipherReference URI="EPUB/text/ch001.xhtml"/></enc:CipherData></enc:EncryptedData>
</encryption>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE html [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>
<html xmlns="http://www.w3.org/1999/xhtml"><body><p>&c;</p></body></html>"""


def test_hostile_epubs_get_one_line(tmp_path: Path) -> None:
    good = pandoc_epub(tmp_path, "epub3")
    with zipfile.ZipFile(good) as z:
        opf = z.read("EPUB/content.opf")
    cases = {
        "drm": (_rezip(good, tmp_path / "drm.epub", {"META-INF/encryption.xml": ENCRYPTION}), r"encrypted \(DRM\)"),
        "outside": (
            _rezip(
                good, tmp_path / "out.epub", {"EPUB/content.opf": opf.replace(b'href="text/ch001', b'href="../../x')}
            ),
            "outside the package",
        ),
        "laughs": (_rezip(good, tmp_path / "xxe.epub", {"EPUB/text/ch001.xhtml": LAUGHS}), "declares XML entities"),
        "bomb": (_rezip(good, tmp_path / "bomb.epub", {"EPUB/text/big.xhtml": bytes(20_000_000)}), "zip bomb"),
    }
    truncated = tmp_path / "broken.epub"
    truncated.write_bytes(good.read_bytes()[:2000])
    cases["broken"] = (truncated, "broken or truncated zip")
    empty = tmp_path / "empty.epub"
    empty.write_bytes(b"")
    cases["empty"] = (empty, "empty")
    for name, (path, message) in cases.items():
        with pytest.raises(SourceError, match=message) as info:
            read_source(path)
        assert "\n" not in str(info.value), name
