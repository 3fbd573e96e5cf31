"""Decoding a source file's bytes: byte-order marks, declared encodings, detection, clean-up."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from publisher.errors import SourceError
from publisher.text.clean import xml_safe

log = logging.getLogger(__name__)

#: A source larger than this is refused (a 100,000-word book is about 0.6 MB).
MAX_SOURCE_BYTES = 20 * 1024 * 1024
#: A paragraph (or any block) longer than this is refused: real prose never comes close (it is
#: about 8,000 words), while a runaway line would narrate for hours.
MAX_BLOCK_CHARS = 50_000


def decode_source(path: Path) -> str:
    """Read a source file as text, refusing binary and empty files.

    In order: a byte-order mark (UTF-8, UTF-16, UTF-32); UTF-8; the encoding the file declares
    (`<meta charset>`, `http-equiv` Content-Type, `<?xml encoding?>`); else a guess among the
    legacy encodings of the language the file names (`language: ru` → Windows-1251, KOI8-R) and
    charset-normalizer's, reported at -v. Text that decodes in no encoding is refused with one
    line, never turned into mojibake.
    """
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise SourceError(
                f"file is {size / 1e6:.1f} MB; the limit is {MAX_SOURCE_BYTES / 1e6:.0f} MB "
                "(split the book into several sources)",
                path=path,
            )
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc
    for bom, codec in BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise SourceError(f"starts with a {codec} byte-order mark but is not {codec} text", path=path) from exc
            log.info("%s: decoded as %s (byte-order mark)", path, codec.upper())
            return _clean_text(text, path)
    if b"\x00" in data[:8192]:
        raise SourceError("looks like a binary file, not text", path=path)
    try:
        return _clean_text(data.decode("utf-8-sig"), path)
    except UnicodeDecodeError as exc:
        utf8_error = exc
    declared = declared_encoding(data)
    if declared is not None:
        return _clean_text(_decode_declared(data, declared, path), path)
    return _clean_text(_decode_guessed(data, path, utf8_error), path)


_DECLARATIONS = [
    re.compile(rb"""<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']"""),
    re.compile(rb"""<meta[^>]*?\scharset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE),
]
#: labels whose WHATWG meaning is Windows-1252 (what browsers decode them as)
_WINDOWS_1252 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "cp819"}


def declared_encoding(data: bytes) -> str | None:
    """The encoding the head of `data` declares (XML declaration, HTML meta), if any."""
    head = data[:4096]
    for pattern in _DECLARATIONS:
        match = pattern.search(head)
        if match:
            label = match.group(1).decode("ascii").lower()
            return "cp1252" if label in _WINDOWS_1252 else label
    return None


def _decode_declared(data: bytes, label: str, path: Path) -> str:
    import codecs

    try:
        codec = codecs.lookup(label).name
    except LookupError as exc:
        raise SourceError(
            f"declares the encoding {label!r}, which Python does not know; save it as UTF-8", path=path
        ) from exc
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"declares {label} but is not {label} text (byte {exc.start}); save it as UTF-8", path=path
        ) from exc
    log.info("%s: decoded as %s (declared in the file)", path, codec)
    # the declaration described the bytes; the text is now Unicode (lxml refuses both together)
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)


#: legacy encodings by language, most used first: a language named in the file decides between
#: encodings that read its bytes equally well (charset-normalizer alone takes short French text
#: for Windows-1250 and Japanese for Korean)
_LEGACY: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("pl", "cs", "sk", "hu", "sl", "hr", "ro", "bs", "sq"), ("cp1250", "iso8859_2")),
    **dict.fromkeys(("ru", "uk", "bg", "be", "sr", "mk"), ("cp1251", "koi8_r", "koi8_u", "iso8859_5")),
    "ja": ("cp932", "euc_jp", "iso2022_jp"), "zh": ("gb18030", "big5"), "ko": ("cp949", "euc_kr"),
    **dict.fromkeys(("ar", "fa", "ur"), ("cp1256", "iso8859_6")), "he": ("cp1255", "iso8859_8"),
    "el": ("cp1253", "iso8859_7"), "tr": ("cp1254", "iso8859_9"), "vi": ("cp1258",), "th": ("cp874",),
    **dict.fromkeys(("lt", "lv", "et"), ("cp1257", "iso8859_13")),
}  # fmt: skip
_LANGUAGE_HINT = re.compile(rb"""(?:^lang(?:uage)?\s*:\s*["']?|\blang\s*=\s*["'])([A-Za-z]{2,3})\b""", re.MULTILINE)


#: encodings tried when the file names no language, most common first (ties go to the first)
_COMMON = ("cp1252", "cp1251", "koi8_r", "cp1250", "cp1253", "cp1254", "cp1257", "cp1255", "cp1256",
           "cp932", "euc_jp", "gb18030", "big5", "cp949")  # fmt: skip
_ODD_CATEGORIES = {"So", "Sc", "Sk", "Sm", "No", "Cc", "Cf", "Co", "Cn"}


def _script(char: str) -> str:
    import unicodedata

    script = unicodedata.name(char, "?").split(" ")[0]
    return "CJK" if script in ("HIRAGANA", "KATAKANA", "IDEOGRAPHIC") else script


def oddness(text: str) -> int:
    """How unlike real text `text` looks: symbols inside words, capitals after small letters, words
    mixing scripts, half-width katakana and C1 controls (what a wrong legacy encoding makes)."""
    odd = 0
    for word in re.findall(r"\S+", text[:65536]):
        scripts = set()
        for i, ch in enumerate(word):
            code = ord(ch)
            if 0xFF61 <= code <= 0xFF9F or 0x80 <= code <= 0x9F or ch == "\ufffd":
                odd += 3
            elif ch.isalpha():
                scripts.add(_script(ch))
                if ch.isupper() and i and word[i - 1].islower():
                    odd += 1
            elif unicodedata_category(ch) in _ODD_CATEGORIES and any(c.isalpha() for c in word):
                odd += 2
        odd += len(scripts) - 1 if len(scripts) > 1 else 0
    return odd


def unicodedata_category(char: str) -> str:
    """The Unicode general category of `char` ("Lu", "So", …)."""
    import unicodedata

    return unicodedata.category(char)


def _decode_guessed(data: bytes, path: Path, utf8_error: UnicodeDecodeError) -> str:
    from charset_normalizer import from_bytes

    hint = _LANGUAGE_HINT.search(data[:4096])
    language = hint.group(1).decode("ascii").lower() if hint else ""
    detected = [m.encoding for m in from_bytes(data[:65536])]
    candidates = list(dict.fromkeys([*_LEGACY.get(language, ()), *_COMMON, *detected]))
    scored: list[tuple[int, int, str, str]] = []
    for rank, encoding in enumerate(candidates):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        scored.append((oddness(text), rank, encoding, text))
    if not scored:
        raise SourceError(
            f"is not UTF-8 (byte {utf8_error.start}) and no other encoding reads it; save it as UTF-8", path=path
        ) from utf8_error
    _, _, choice, text = min(scored)
    log.info(
        "%s: not UTF-8 and no encoding declared; decoded as %s (guessed%s; charset-normalizer: %s; save it "
        "as UTF-8 to be sure)", path, choice, f" for language {language}" if language else "",
        ", ".join(detected[:3]) or "no guess",
    )  # fmt: skip
    return text


#: byte-order marks of the Unicode encodings other than UTF-8 (longest first: UTF-32 LE starts like UTF-16 LE)
BOMS = [
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
]


def _clean_text(text: str, path: Path) -> str:
    text = text.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # control characters other than tab and newline never belong in prose (nor in XML)
    text = xml_safe(text)
    if not text.strip():
        raise SourceError("is empty: there is no text to publish", path=path)
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > MAX_BLOCK_CHARS and not path.suffix.lower().startswith(".htm"):
            raise SourceError(
                f"line {number} is {len(line):,} characters long; the limit is {MAX_BLOCK_CHARS:,} per paragraph",
                path=path,
            )
    return text
