"""Readers: txt, Markdown, HTML → Publication; bad inputs → one clear SourceError."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.errors import SourceError
from publisher.model.publication import Publication
from publisher.readers import read_source


def all_sentence_ids(pub: Publication) -> list[str]:
    return [s.id for s in pub.sentences()]


def test_seed_metadata_and_single_chapter(seed: Path) -> None:
    pub = read_source(seed)
    meta = pub.metadata
    assert meta.title == "Putin today"
    assert meta.authors == ("Ava Cai",)
    assert meta.date == "2024-06-28"
    assert pub.slug == "putin-today"
    assert len(pub.chapters) == 1
    chapter = pub.chapters[0]
    assert chapter.title == "Putin today"
    paragraphs = [b for b in chapter.blocks if b.kind == "paragraph"]
    assert len(paragraphs) == 6
    assert paragraphs[0].sentences[0].text.startswith("When it comes to threatening NATO")
    # "U.S." never ends a sentence
    assert not any(s.text.endswith("U.S.") for s in chapter.sentences())
    assert not pub.has_title_page  # an article: the title page is the chapter's header


def test_txt_headings_make_chapters(fixtures: Path) -> None:
    pub = read_source(fixtures / "chapters.txt")
    assert pub.metadata.authors == ("Jo March",)
    assert pub.metadata.date == "2021-03-12"
    assert [c.title for c in pub.chapters] == ["Chapter One", "Chapter Two"]
    assert pub.has_title_page


def test_markdown_front_matter_and_structure(fixtures: Path) -> None:
    pub = read_source(fixtures / "book.md")
    meta = pub.metadata
    assert meta.title == "A Small Book of Tests"
    assert meta.authors == (
        "Ada Lovelace",
        "Charles Babbage",
    )
    assert (meta.date, meta.language, meta.publisher, meta.rights) == (
        "1843-09-01",
        "en-GB",
        "Test Press",
        "Public domain",
    )
    assert meta.subjects == (
        "Testing",
        "Engines",
    )
    assert [c.title for c in pub.chapters] == ["The First Chapter", "The Second Chapter"]
    kinds = [b.kind for b in pub.chapters[0].blocks]
    assert kinds == ["heading", "paragraph", "quote", "list_item", "list_item", "image", "heading", "paragraph"]
    first = pub.chapters[0].blocks[1]
    assert [m.kind for r in first.runs for m in r.marks] == ["em", "strong"]
    link = pub.chapters[0].blocks[3]
    assert any(m.href == "https://example.org/engine" for r in link.runs for m in r.marks)
    image = pub.chapters[0].blocks[5]
    assert image.alt == "A diagram of the engine" and Path(image.src or "").is_file()
    section = pub.chapters[0].blocks[6]
    assert section.level == 2
    assert pub.chapters[1].blocks[1].ordered


def test_html_article_drops_scripts_and_chrome(fixtures: Path) -> None:
    pub = read_source(fixtures / "article.html")
    assert pub.metadata.title == "A Saved Article"
    assert pub.metadata.authors == ("Grace Hopper",)
    assert pub.metadata.date == "2024-03-05"
    text = " ".join(s.text for s in pub.sentences())
    assert "never run" not in text and "injected" not in text
    assert "Home" not in text and "Copyright footer" not in text
    assert "By Grace Hopper" not in text  # the byline is metadata, not body text
    assert [c.title for c in pub.chapters] == ["A Saved Article", "Background", "Today"]


def test_sentence_ids_are_unique_and_stable(fixtures: Path) -> None:
    first = all_sentence_ids(read_source(fixtures / "book.md"))
    again = all_sentence_ids(read_source(fixtures / "book.md"))
    assert first == again
    assert len(first) == len(set(first))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "is empty"),
        ("blank.md", b"  \n\n \t\n", "is empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        ("bad.md", b"---\ntitle: [unclosed\n---\nText.\n", "malformed YAML front matter"),
        ("open.md", b"---\ntitle: x\nText.\n", "no closing"),
        ("list.md", b"---\n- a\n- b\n---\nText.\n", "must be a mapping"),
        ("lang.md", b"---\nlanguage: not a language\n---\nText.\n", "BCP 47"),
        ("date.md", b"---\ndate: someday\n---\nText.\n", "not a date"),
        ("title.md", b"# Only a title\n", "no text"),
        ("thing.pages", b"PK", "unknown source type"),
        ("thing.docx", b"PK", "broken or truncated zip"),
    ],
)
def test_bad_sources_raise_one_clear_error(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError) as info:
        read_source(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_bom_and_windows_line_endings_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffTitle\r\n\r\nBy Someone\r\n\r\nOne sentence. Two.\r\n".encode())
    pub = read_source(path)
    assert pub.metadata.title == "Title"
    assert [s.text for s in pub.chapters[0].sentences()][-2:] == ["One sentence.", "Two."]


paragraph = st.lists(
    st.text(alphabet=st.characters(categories=("L",), max_codepoint=0x2FF), min_size=1, max_size=10),
    min_size=1,
    max_size=25,
).map(lambda ws: " ".join(ws) + ".")


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(paragraph, min_size=1, max_size=6))
def test_markdown_reader_loses_and_duplicates_no_word(tmp_path: Path, paragraphs: list[str]) -> None:
    path = tmp_path / "gen.md"
    path.write_text("---\ntitle: Generated\n---\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    pub = read_source(path)
    body = [s.text for c in pub.chapters for b in c.blocks[1:] for s in b.sentences]
    assert " ".join(body).split() == " ".join(paragraphs).split()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(paragraph, min_size=1, max_size=6))
def test_txt_reader_loses_and_duplicates_no_word(tmp_path: Path, paragraphs: list[str]) -> None:
    path = tmp_path / "gen.txt"
    path.write_text("Generated title\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    pub = read_source(path)
    body = [s.text for c in pub.chapters for b in c.blocks[1:] for s in b.sentences]
    assert " ".join(body).split() == " ".join(paragraphs).split()
