"""GFM Markdown end to end: tables, footnotes, task lists, strikethrough, autolinks, definition
lists, figures and smart punctuation; read by the reader, heard as a listener can follow, and
rendered accessibly (EPUBCheck, Ace, overlays, DAISY)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree
from tests import helpers
from tests.conftest import FIXTURES

from publisher.errors import ConfigError
from publisher.prepare.notes import place_notes
from publisher.readers import read_source
from publisher.settings import Settings
from publisher.validate.daisy import check_daisy
from publisher.validate.overlays import check_overlays
from publisher.validate.tools import run_ace, run_epubcheck

GFM = """\
---
title: Field Notes
author: Ada Lovelace
---

# Field Notes

## Counts

We counted "birds" -- and fish... at two sites.[^m] See https://example.org for more.

Table: Bird counts

| Site | Birds | Fish |
| ---- | ----: | ---: |
| A    | 12    | 3    |
| B    | 7     | 0    |

- [ ] Count again
- [x] Write it up

~~Old plan~~ new plan.

```python
print("hello")
print("world")
```

## Words

Heron
: A wading bird with long legs.

Egret
: A white heron.[^e]

![A heron standing in reeds](engine.png "A heron at site A")

[^m]: Counted in May, at dawn.

    Weather was fair.

[^e]: Egrets are herons too.
"""


@pytest.fixture
def gfm(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    shutil.copy(FIXTURES / "engine.png", tmp_path / "src" / "engine.png")
    path = tmp_path / "src" / "field-notes.md"
    path.write_text(GFM, encoding="utf-8")
    return path


def _kinds(path: Path) -> list[tuple[str, str, list[str]]]:
    pub = read_source(path)
    return [(b.kind, b.text, [s.text for s in b.sentences]) for c in pub.chapters for b in c.blocks]


def test_tables_are_read_row_by_row_with_header_names(gfm: Path) -> None:
    blocks = _kinds(gfm)
    table = next(i for i, b in enumerate(blocks) if b[0] == "table")
    assert blocks[table] == ("table", "Bird counts", ["Table: Bird counts. 2 rows, 3 columns."])
    assert [b[2] for b in blocks[table + 1 : table + 4]] == [
        ["Columns: Site, Birds, Fish."],
        ["Site A: birds, 12; fish, 3."],
        ["Site B: birds, 7; fish, 0."],
    ]
    assert not any("|" in b[1] for b in blocks)  # no table left as a paragraph of pipes


def test_footnotes_follow_the_citing_paragraph_and_are_introduced(gfm: Path) -> None:
    blocks = _kinds(gfm)
    cite = next(i for i, b in enumerate(blocks) if b[1].startswith("We counted"))
    assert blocks[cite][2][0] == "We counted “birds” – and fish… at two sites."  # marker "1" not read
    assert blocks[cite + 1] == ("note", "Counted in May, at dawn.", ["Note 1: Counted in May, at dawn."])
    assert blocks[cite + 2] == ("note", "Weather was fair.", ["Weather was fair."])
    egret = next(i for i, b in enumerate(blocks) if b[1].startswith("A white heron"))
    assert blocks[egret + 1][2] == ["Note 1: Egrets are herons too."]  # numbered per chapter


def test_notes_at_chapter_end_or_not_read(gfm: Path) -> None:
    pub = read_source(gfm)
    pub = place_notes(pub, "chapter")
    first = pub.chapters[0].blocks
    assert [b.kind for b in first[-2:]] == ["note", "note"] and all(b.endnote for b in first[-2:])
    pub = place_notes(pub, "none")
    notes = [b for c in pub.chapters for b in c.blocks if b.kind == "note"]
    assert len(notes) == 3 and all(not b.sentences for b in notes)
    with pytest.raises(ConfigError, match="notes 'aloud'"):
        Settings(notes="aloud").validate("test")


def test_task_lists_code_definitions_figures_and_typography(gfm: Path) -> None:
    blocks = _kinds(gfm)
    assert ("list_item", "☐ Count again", ["To do: Count again"]) in blocks
    assert ("list_item", "☑ Write it up", ["Done: Write it up"]) in blocks
    code = next(b for b in blocks if b[0] == "code")
    assert code[1] == 'print("hello")\nprint("world")' and code[2] == ["Code, python, 2 lines, shown in the text."]
    assert ("term", "Heron", ["Heron"]) in blocks and (
        "definition",
        "A wading bird with long legs.",
        ["A wading bird with long legs."],
    ) in blocks
    assert ("figure", "A heron at site A", ["A heron at site A"]) in blocks


def test_typographer_can_be_turned_off(gfm: Path) -> None:
    gfm.write_text(GFM.replace("author: Ada Lovelace", "author: Ada Lovelace\ntypographer: false"), encoding="utf-8")
    text = " ".join(b[1] for b in _kinds(gfm))
    assert '"birds" -- and fish...' in text


def test_gfm_book_renders_accessibly(gfm: Path, tmp_path: Path) -> None:
    result = helpers.publish(gfm, tmp_path / "out")
    read_aloud = result.folder / "field-notes-read-aloud.epub"
    book = helpers.Epub(read_aloud)
    c01 = book.xml("text/c01.xhtml")
    ns = helpers.NS
    table = c01.find(".//x:table", ns)
    assert table is not None and table.findtext("x:caption/x:span", namespaces=ns) == "Bird counts"
    assert [th.get("scope") for th in table.iterfind("x:thead/x:tr/x:th", ns)] == ["col", "col", "col"]
    ref = c01.find(".//x:a[@role='doc-noteref']", ns)
    assert ref is not None and ref.get(f"{{{ns['epub']}}}type") == "noteref"
    aside = c01.find(f".//x:aside[@id='{ref.get('href')[1:]}']", ns)
    assert aside is not None and aside.get("role") == "doc-footnote"
    assert aside.find(".//x:a[@role='doc-backlink']", ns).get("href") == f"#{ref.get('id')}"
    c02 = book.xml("text/c02.xhtml")
    assert c02.find(".//x:dl/x:dt", ns) is not None and c02.find(".//x:figure/x:figcaption", ns) is not None
    smil = book.xml("smil/c01.smil")
    types = {s.get(f"{{{ns['epub']}}}type") for s in smil.iter("{http://www.w3.org/ns/SMIL}seq")}
    assert {"footnote", "table"} <= types
    rows = smil.xpath("//*[@epub:type='table-row']", namespaces=ns)
    assert len(rows) == 3
    for epub in (result.epub, read_aloud):
        for report in (run_epubcheck(epub), run_ace(epub)):
            assert report.ok, report.messages
    overlays = check_overlays(read_aloud)
    assert overlays.ok, overlays.messages
    daisy = check_daisy(result.folder / "daisy" / "ncc.html")
    assert daisy.ok, daisy.messages
    content = etree.parse(str(result.folder / "daisy" / "content.html")).getroot()
    assert content.find(".//x:table/x:caption", ns) is not None
    assert "http://www.idpf.org/2007/ops" not in etree.tostring(content).decode()


@pytest.mark.parametrize("mode", ["chapter", "none"])
def test_notes_at_chapter_end_or_unread_render_valid_overlays(gfm: Path, tmp_path: Path, mode: str) -> None:
    result = helpers.publish(gfm, tmp_path / "out", notes=mode)
    read_aloud = result.folder / "field-notes-read-aloud.epub"
    overlays = check_overlays(read_aloud)
    assert overlays.ok, overlays.messages
    c01 = helpers.Epub(read_aloud).xml("text/c01.xhtml")
    section = c01.find(".//x:section[@role='doc-endnotes']", helpers.NS)
    assert section is not None and section.find("x:ol/x:li", helpers.NS).get("id") == "c01-note-1"
    spans = section.findall(".//x:span", helpers.NS)
    assert (len(spans) == 0) == (mode == "none")  # unread notes carry no sentence ids
    if mode == "chapter":
        report = run_epubcheck(read_aloud)
        assert report.ok, report.messages
    else:
        opf = helpers.Epub(read_aloud)
        assert "auditory" not in opf.meta("schema:accessModeSufficient")
