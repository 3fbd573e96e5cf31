"""Documents through pandoc: a real .docx made with python-docx (headings, a table, a footnote, an
image with alt text) and an .odt made by pandoc, read into chapters and published."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import docx
import pypandoc
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches
from tests import helpers
from tests.conftest import FIXTURES

from publisher.errors import SourceError
from publisher.readers import READERS, read_source
from publisher.validate.tools import run_ace, run_epubcheck

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{W}">'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
    '</w:footnote><w:footnote w:id="1"><w:p><w:r><w:t>Counted by volunteers.</w:t></w:r></w:p></w:footnote>'
    "</w:footnotes>"
)


def word_document(folder: Path) -> Path:
    """A .docx as Word writes them: properties, Heading 1/2 styles, a table, a footnote, an image with alt text."""
    d = docx.Document()
    d.core_properties.title = "Quarterly Field Report"
    d.core_properties.author = "Ada Lovelace"
    d.core_properties.keywords = "birds, marsh"
    d.core_properties.language = "en-GB"
    d.core_properties.comments = "Counts of wading birds."
    d.add_heading("Spring Counts", level=1)
    cited = d.add_paragraph("Herons returned to the marsh this spring.")
    notes = Part(
        PackURI("/word/footnotes.xml"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
        FOOTNOTES.encode(),
        d.part.package,
    )
    d.part.relate_to(notes, RELATIONSHIP_TYPE.FOOTNOTES)
    ref = OxmlElement("w:footnoteReference")
    ref.set(qn("w:id"), "1")
    cited.add_run()._r.append(ref)
    d.add_heading("Method", level=2)
    d.add_paragraph("Counts were made at dawn.")
    table = d.add_table(rows=3, cols=2)
    for row, values in zip(table.rows, [("Site", "Birds"), ("A", "12"), ("B", "7")], strict=True):
        row.cells[0].text, row.cells[1].text = values
    picture = d.add_picture(str(FIXTURES / "engine.png"), width=Inches(2))
    picture._inline.docPr.set("descr", "A drawing of the engine")
    d.add_heading("Summer Counts", level=1)
    d.add_paragraph("Fewer birds were seen in summer.")
    path = folder / "report.docx"
    d.save(str(path))
    return path


def test_docx_chapters_metadata_table_note_and_image(tmp_path: Path) -> None:
    source = word_document(tmp_path)
    pub = read_source(source)
    meta = pub.metadata
    assert (meta.title, meta.authors, meta.language) == ("Quarterly Field Report", ("Ada Lovelace",), "en-GB")
    assert (
        meta.subjects
        == (
            "birds",
            "marsh",
        )
        and meta.description == "Counts of wading birds."
    )
    assert [c.title for c in pub.chapters] == ["Spring Counts", "Summer Counts"]  # Heading 1 = chapters
    blocks = pub.chapters[0].blocks
    kinds = [b.kind for b in blocks]
    assert kinds == ["heading", "paragraph", "note", "heading", "paragraph", "table", "row", "row", "row", "image"]
    assert blocks[2].sentences[0].text == "Note 1: Counted by volunteers."
    assert blocks[7].sentences[0].text == "Site A: birds, 12."
    image = blocks[-1]
    assert image.alt == "A drawing of the engine" and Path(image.src or "").is_file()
    assert not list(tmp_path.glob("media")) and sorted(p.name for p in tmp_path.iterdir()) == ["report.docx"]


def test_docx_publishes_valid_epubs(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    source = word_document(tmp_path / "src")
    result = helpers.publish(source, tmp_path / "out")
    for report in (run_epubcheck(result.epub), run_ace(result.epub)):
        assert report.ok, report.messages


def test_odt_made_by_pandoc(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "engine.png", tmp_path / "engine.png")
    markdown = tmp_path / "story.md"
    markdown.write_text(
        "# Morning\n\nThe tide was out.[^1]\n\n![Boats on the sand](engine.png)\n\n"
        "# Evening\n\n| Boat | Crew |\n|---|---|\n| Swift | 3 |\n\n[^1]: Low water at six.\n",
        encoding="utf-8",
    )
    odt = tmp_path / "story.odt"
    pypandoc.convert_file(str(markdown), "odt", outputfile=str(odt), extra_args=[f"--resource-path={tmp_path}"])
    pub = read_source(odt)
    assert [c.title for c in pub.chapters] == ["Morning", "Evening"]
    first = pub.chapters[0].blocks
    # pandoc's ODT writer keeps the caption as a paragraph after the image and drops the alt text
    assert [b.kind for b in first] == ["heading", "paragraph", "note", "image", "paragraph"]
    assert first[2].sentences[0].text == "Note 1: Low water at six." and first[4].text == "Boats on the sand"
    assert Path(first[3].src or "").is_file()
    rows = [b.sentences[0].text for b in pub.chapters[1].blocks if b.kind == "row"]
    assert rows == ["Columns: Boat, Crew.", "Boat Swift: crew, 3."]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.docx", b"", "is empty"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "broken or truncated zip"),
        ("data.xml", b"<catalog><item/></catalog>", "neither DocBook nor JATS"),
        ("hollow.odt", b"", "pandoc cannot read it as odt: Could not find content.xml"),
    ],
)
def test_bad_documents_get_one_line(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    if name == "hollow.odt":  # a real zip without the document inside
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
    with pytest.raises(SourceError, match=message) as info:
        read_source(path)
    assert "\n" not in str(info.value)


def test_every_document_suffix_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for suffix in READERS:
        assert f"`{suffix}`" in readme, suffix
