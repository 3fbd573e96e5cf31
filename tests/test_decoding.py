"""Source encodings: byte-order marks, declared encodings, detection (with the language as a hint),
and a one-line error for text no encoding reads."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from publisher.errors import SourceError
from publisher.readers import read_source
from publisher.readers.decoding import decode_source

RUSSIAN = "Война и мир\n\nЕщё в начале июля, в чрезвычайно жаркое время, под вечер один молодой человек вышел.\n"
POLISH = "Zażółć gęślą jaźń\n\nPchnąć w tę łódź jeża lub ośm skrzyń fig. Łódź, Kraków i Gdańsk.\n"
JAPANESE = "吾輩は猫である\n\n吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。\n"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Latin-1 title\n\nCafé crème, naïve.\n", "cp1252"),
        (RUSSIAN, "koi8_r"),
        (RUSSIAN, "cp1251"),
        ("Ελληνικά\n\nΗ γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.\n", "cp1253"),
    ],
)
def test_undeclared_encodings_are_detected(tmp_path: Path, text: str, encoding: str) -> None:
    source = tmp_path / "a.txt"
    source.write_bytes(text.encode(encoding))
    assert decode_source(source) == text


@pytest.mark.parametrize(("text", "encoding", "language"), [(POLISH, "cp1250", "pl"), (JAPANESE, "shift_jis", "ja")])
def test_the_language_named_in_front_matter_decides_between_guesses(
    tmp_path: Path, text: str, encoding: str, language: str
) -> None:
    source = tmp_path / "a.md"
    source.write_bytes(f"---\nlanguage: {language}\n---\n\n{text}".encode(encoding))
    pub = read_source(source)
    assert pub.metadata.language == language
    assert text.split("\n\n")[1].strip()[:10] in "".join(b.text for c in pub.chapters for b in c.blocks)


def test_declared_encodings_are_honoured(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    html = tmp_path / "a.html"
    body = "<html><head><meta charset='koi8-r'><title>Война</title></head><body><p>Ещё в начале июля.</p></body></html>"
    html.write_bytes(body.encode("koi8_r"))
    with caplog.at_level(logging.INFO, logger="publisher.readers.decoding"):
        pub = read_source(html)
    assert pub.metadata.title == "Война"
    assert "declared" in caplog.text and "koi8" in caplog.text
    xhtml = tmp_path / "b.xhtml"
    doc = (
        '<?xml version="1.0" encoding="Shift_JIS"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head>'
        "<title>猫</title></head><body><p>吾輩は猫である。名前はまだ無い。</p></body></html>"
    )
    xhtml.write_bytes(doc.encode("shift_jis"))
    assert read_source(xhtml).metadata.title == "猫"
    legacy = tmp_path / "c.html"  # ISO-8859-1 means Windows-1252 on the web: “curly quotes” survive
    legacy.write_bytes('<meta charset="iso-8859-1"><title>A “quoted” café</title><p>Text.</p>'.encode("cp1252"))
    assert read_source(legacy).metadata.title == "A “quoted” café"


def test_byte_order_marks_win(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_bytes("Título\n\nTexto en UTF-16 con eñes.\n".encode("utf-16"))
    assert decode_source(source).startswith("Título")


def test_wrong_declarations_and_undecodable_text_are_one_line_errors(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.html"
    wrong.write_bytes("<meta charset='shift_jis'><p>\x81\xff\xfe</p>".encode("latin-1"))
    with pytest.raises(SourceError, match=r"declares shift_jis but is not shift_jis text") as caught:
        decode_source(wrong)
    assert "\n" not in str(caught.value)
    unknown = tmp_path / "unknown.html"
    unknown.write_bytes(b"<meta charset='klingon-8'><p>caf\xe9</p>")
    with pytest.raises(SourceError, match="klingon-8"):
        decode_source(unknown)
