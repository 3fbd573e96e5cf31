"""Reproducible zip packages (EPUB, DAISY zip, Readium .audiobook, W3C .lpf): the same input and
SOURCE_DATE_EPOCH always give the same bytes."""

from __future__ import annotations

import datetime as _dt
import re
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import SizedBuffer

#: members kept uncompressed: media that is compressed already (Readium packaging §4, LPF)
STORED_SUFFIXES = (".mp3", ".m4a", ".jpg", ".jpeg", ".png", ".gif", ".webp")


def unsafe_member_name(name: str) -> str | None:
    """Why a zip member's name must never be copied or unpacked (None when it is safe): absolute
    (`/etc/x`, `\\x`, `C:x`), climbing out of the package (a `..` part, "zip slip"), empty, or
    holding a NUL or another control character."""
    if not name or name in (".", "/"):
        return "is empty"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "holds a control character"
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "is an absolute path"
    if ".." in re.split(r"[/\\]", name):
        return "climbs out of the package ('..')"
    return None


def zip_time(epoch: int | None) -> tuple[int, int, int, int, int, int]:
    """The one timestamp of every member: SOURCE_DATE_EPOCH (UTC) when set, else 1980-01-01."""
    if epoch is None:
        return (1980, 1, 1, 0, 0, 0)
    when = _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc)
    if when.year < 1980:  # the ZIP format cannot say earlier
        return (1980, 1, 1, 0, 0, 0)
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)


def member_info(name: str, stamp: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    """How every member is written: the one timestamp `stamp`, Unix 0644, media stored, the rest deflated."""
    info = zipfile.ZipInfo(name, date_time=stamp)
    stored = name.lower().endswith(STORED_SUFFIXES)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3  # Unix, wherever it is made
    return info


class StampedZip(zipfile.ZipFile):
    """A ZipFile for writers that add members one at a time in their own order (ebooklib's EPUB
    writer: `mimetype` first): every member named by a string is written as `member_info` says."""

    def __init__(self, file: Path | str, stamp: tuple[int, int, int, int, int, int]) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED)
        self.stamp = stamp

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: SizedBuffer | str,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        """Write one member (see zipfile.ZipFile.writestr); a name becomes `member_info(name, stamp)`."""
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = member_info(zinfo_or_arcname, self.stamp)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)


def write_zip(dest: Path, members: dict[str, bytes | Path], epoch: int | None) -> None:
    """A reproducible zip: members sorted by name, one timestamp, Unix 0644, media stored.

    A member given as a Path is streamed from that file (a long book's MP3s never sit in memory).
    """
    stamp = zip_time(epoch)
    with zipfile.ZipFile(dest, "w") as zf:
        for name in sorted(members):
            info = member_info(name, stamp)
            content = members[name]
            if isinstance(content, Path):
                info.file_size = content.stat().st_size  # decides ZIP64 up front, as writestr does
                with content.open("rb") as source, zf.open(info, "w") as target:
                    shutil.copyfileobj(source, target, 1 << 20)
            else:
                stored = info.compress_type == zipfile.ZIP_STORED
                zf.writestr(info, content, compresslevel=None if stored else 9)


def write_folder_zip(folder: Path, dest: Path, epoch: int | None) -> None:
    """Zip every file of `folder` at the archive's root (see write_zip)."""
    members: dict[str, bytes | Path] = {
        p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()
    }
    write_zip(dest, members, epoch)
