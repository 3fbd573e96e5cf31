"""zipfiles.py: the one reproducible zip writer, for the sorted packages and for the EPUB."""

from __future__ import annotations

import datetime as _dt
import zipfile
from pathlib import Path

from tests.conftest import copy_fixture
from tests.helpers import Epub, publish

from publisher.zipfiles import STORED_SUFFIXES, StampedZip, member_info, write_zip, zip_time

EPOCH = 1_700_000_000  # 2023-11-14T22:13:20Z
STAMP = (2023, 11, 14, 22, 13, 20)


def test_member_info_stores_media_and_deflates_the_rest() -> None:
    for name, stored in (("a/b.MP3", True), ("cover.jpeg", True), ("x.webp", True), ("c.xhtml", False)):
        info = member_info(name, STAMP)
        assert info.compress_type == (zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED), name
        assert info.date_time == STAMP
        assert info.external_attr == 0o644 << 16 and info.create_system == 3


def test_zip_time() -> None:
    assert zip_time(EPOCH) == STAMP
    assert zip_time(None) == (1980, 1, 1, 0, 0, 0)
    assert zip_time(0) == (1980, 1, 1, 0, 0, 0)  # the ZIP format cannot say 1970


def test_stamped_zip_keeps_the_writers_order(tmp_path: Path) -> None:
    dest = tmp_path / "x.zip"
    with StampedZip(dest, STAMP) as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/container.xml", "<container/>")
        zf.writestr("EPUB/audio/a.mp3", b"\xff\xfb" * 100)
    with zipfile.ZipFile(dest) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["mimetype", "META-INF/container.xml", "EPUB/audio/a.mp3"]
        assert [i.compress_type for i in infos] == [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]
        assert {i.date_time for i in infos} == {STAMP}
        assert zf.read("EPUB/audio/a.mp3") == b"\xff\xfb" * 100


def test_write_zip_is_reproducible(tmp_path: Path) -> None:
    media = tmp_path / "a.mp3"
    media.write_bytes(b"\xff\xfb" * 1000)
    members: dict[str, bytes | Path] = {"z.json": b"{}", "a.mp3": media, "m/toc.html": b"<html/>"}
    write_zip(tmp_path / "one.zip", members, EPOCH)
    write_zip(tmp_path / "two.zip", dict(reversed(members.items())), EPOCH)
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as zf:
        assert zf.namelist() == ["a.mp3", "m/toc.html", "z.json"]
        assert {i.date_time for i in zf.infolist()} == {STAMP}


def test_the_epub_is_written_by_the_same_writer(tmp_path: Path) -> None:
    """mimetype first and stored (OCF), every member stamped with the book's dcterms:modified."""
    result = publish(copy_fixture("book.md", tmp_path), tmp_path / "out", epoch=str(EPOCH))
    for path in (result.epub, result.folder / f"{result.slug}-read-aloud.epub"):
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
            assert zf.read("mimetype") == b"application/epub+zip"
            assert {i.date_time for i in infos} == {STAMP}
            assert {i.external_attr for i in infos} == {0o644 << 16}
            for info in infos:
                stored = info.filename.endswith(STORED_SUFFIXES) or info.filename == "mimetype"
                assert info.compress_type == (zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED), info.filename
        assert Epub(path).meta("dcterms:modified") == ["2023-11-14T22:13:20Z"]


def test_without_source_date_epoch_the_epub_is_stamped_now(tmp_path: Path) -> None:
    before = _dt.datetime.now(tz=_dt.timezone.utc).replace(microsecond=0, tzinfo=None)
    result = publish(copy_fixture("chapters.txt", tmp_path), tmp_path / "out")
    after = _dt.datetime.now(tz=_dt.timezone.utc).replace(tzinfo=None)
    with zipfile.ZipFile(result.epub) as zf:
        (stamp,) = {i.date_time for i in zf.infolist()}
    assert before - _dt.timedelta(seconds=2) <= _dt.datetime(*stamp) <= after
