"""M4B audiobook: AAC in MP4 with a chapter track, the cover as attached picture, stik=2."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mutagen.mp4 import MP4, MP4Cover

from publisher.ffmpeg import run_ffmpeg
from publisher.front import join_names
from publisher.model import Publication
from publisher.render.audio import Master, levelled
from publisher.render.cover import Cover
from publisher.render.loudness import Profile
from publisher.render.timeline import Mark


def _ffmeta_escape(value: str) -> str:
    for ch in ("\\", "=", ";", "#", "\n"):
        value = value.replace(ch, "\\" + ch)
    return value


def ffmetadata(pub: Publication, marks: Sequence[Mark]) -> str:
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


def write_m4b(
    pub: Publication,
    masters: Sequence[Master],
    profile: Profile,
    cover: Cover,
    marks: Sequence[Mark],
    dest: Path,
    bitrate: int,
) -> None:
    """Level and join the chapters' `masters` into AAC in an .m4b with chapters, cover and audiobook tags."""
    meta_file = dest.with_suffix(".ffmeta")
    cover_file = dest.with_name(f"{dest.stem}-cover.{cover.extension}")
    meta_file.write_text(ffmetadata(pub, marks), encoding="utf-8")
    cover_file.write_bytes(cover.data)
    inputs, graph, _ = levelled(masters, profile, probe=False)
    n = len(masters)
    try:
        run_ffmpeg(
            [
                "-y", *inputs, "-i", str(cover_file), "-i", str(meta_file), *graph,
                "-map", f"{n}:v", "-map_metadata", str(n + 1), "-map_chapters", str(n + 1),
                "-c:a", "aac", "-aac_coder", "fast", "-b:a", f"{bitrate}k", "-ac", "1",
                "-c:v", "copy", "-disposition:v", "attached_pic",
                "-f", "ipod", str(dest),
            ],
            what="encoding the M4B audiobook",
            path=dest,
        )  # fmt: skip
    finally:
        meta_file.unlink(missing_ok=True)
        cover_file.unlink(missing_ok=True)
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
