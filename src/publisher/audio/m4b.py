"""M4B audiobook: AAC in MP4 with a chapter track, the cover as attached picture, stik=2.

The AAC comes from the chapters' cached segments (segments.py), joined without re-encoding.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mutagen.mp4 import MP4, MP4Cover

from publisher.ffmpeg import run_ffmpeg
from publisher.i18n import join_names
from publisher.model.publication import Cover, Publication
from publisher.model.timeline import ChapterMark


def _ffmeta_escape(value: str) -> str:
    for ch in ("\\", "=", ";", "#", "\n"):
        value = value.replace(ch, "\\" + ch)
    return value


def ffmetadata(pub: Publication, marks: Sequence[ChapterMark]) -> str:
    """An ;FFMETADATA1 file: global tags and one [CHAPTER] per mark (TIMEBASE=1/1000)."""
    meta = pub.metadata
    lines = [";FFMETADATA1", f"title={_ffmeta_escape(meta.title)}", f"album={_ffmeta_escape(meta.title)}"]
    if meta.authors:
        lines.append(f"artist={_ffmeta_escape(join_names(meta.authors))}")
    if meta.date:
        lines.append(f"date={meta.date}")
    lines.append("genre=Audiobook")
    for mark in marks:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(mark.start * 1000)}",
            f"END={round(mark.end * 1000)}",
            f"title={_ffmeta_escape(mark.title)}",
        ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class M4bAudio:
    """The AAC segments an M4B is joined from, and the time map from the full-length MP3."""

    parts: list[Path]  # ADTS files, in playing order
    anchors: list[tuple[float, float]]  # (segment start in the full-length MP3, its start in the M4B)
    duration: float  # seconds of AAC frames

    def time(self, mp3_time: float) -> float:
        """Where a moment of the full-length MP3 is heard in the M4B."""
        mp3_start, m4b_start = next(a for a in reversed(self.anchors) if a[0] <= mp3_time + 1e-6)
        return m4b_start + (mp3_time - mp3_start)


def write_m4b(pub: Publication, audio: M4bAudio, cover: Cover, marks: Sequence[ChapterMark], dest: Path) -> None:
    """Join `audio`'s AAC segments (no re-encoding) into an .m4b with chapters, cover and
    audiobook tags; `marks` are times in the full-length MP3, moved to the M4B's timeline."""
    starts = [audio.time(mark.start) for mark in marks]
    moved = [
        ChapterMark(mark.title, start, starts[n + 1] if n + 1 < len(starts) else audio.duration)
        for n, (mark, start) in enumerate(zip(marks, starts, strict=True))
    ]
    meta_file = dest.with_suffix(".ffmeta")
    cover_file = dest.with_name(f"{dest.stem}-cover.{cover.extension}")
    joined = dest.with_suffix(".aac")  # ADTS frames carry their own length: joined, they are one stream
    meta_file.write_text(ffmetadata(pub, moved), encoding="utf-8")
    cover_file.write_bytes(cover.data)
    with joined.open("wb") as out:
        for part in audio.parts:
            with part.open("rb") as data:
                shutil.copyfileobj(data, out)
    try:
        run_ffmpeg(
            [
                "-y", "-f", "aac", "-i", str(joined), "-i", str(cover_file), "-i", str(meta_file),
                "-map", "0:a", "-map", "1:v", "-map_metadata", "2", "-map_chapters", "2",
                "-c:a", "copy", "-c:v", "copy", "-disposition:v", "attached_pic",
                "-f", "ipod", str(dest),
            ],
            what="joining the M4B audiobook",
            path=dest,
        )  # fmt: skip
    finally:
        meta_file.unlink(missing_ok=True)
        cover_file.unlink(missing_ok=True)
        joined.unlink(missing_ok=True)
    mp4 = MP4(dest)
    tags = mp4.tags
    assert tags is not None
    tags["stik"] = [2]  # media kind: Audiobook
    tags["\xa9nam"] = [pub.metadata.title]
    tags["\xa9alb"] = [pub.metadata.title]
    if pub.metadata.authors:
        tags["\xa9ART"] = [join_names(pub.metadata.authors)]
        tags["aART"] = [join_names(pub.metadata.authors)]
    if pub.metadata.date:
        tags["\xa9day"] = [pub.metadata.date]
    tags["\xa9gen"] = ["Audiobook"]
    if "covr" not in tags:
        fmt = MP4Cover.FORMAT_PNG if cover.media_type == "image/png" else MP4Cover.FORMAT_JPEG
        tags["covr"] = [MP4Cover(cover.data, imageformat=fmt)]
    mp4.save()
