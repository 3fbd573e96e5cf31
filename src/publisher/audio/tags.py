"""ID3v2.4 tags of every MP3: title, author, album, track, language, cover, the text as lyrics, and chapter frames."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mutagen.id3 import (
    APIC,
    CHAP,
    CTOC,
    ID3,
    TALB,
    TCON,
    TCOP,
    TDRC,
    TIT2,
    TLAN,
    TPE1,
    TPUB,
    TRCK,
    TSSE,
    USLT,
    CTOCFlags,
)  # fmt: skip

from publisher.i18n import join_names
from publisher.model.publication import Cover, Publication
from publisher.model.timeline import ChapterMark

# ISO 639-1 → ISO 639-2/B, which ID3's TLAN frame wants
_ISO639_2 = {
    "en": "eng", "fr": "fre", "de": "ger", "es": "spa", "it": "ita", "pt": "por", "nl": "dut",
    "ru": "rus", "pl": "pol", "sv": "swe", "da": "dan", "no": "nor", "nb": "nob", "fi": "fin",
    "cs": "cze", "sk": "slo", "hu": "hun", "ro": "rum", "el": "gre", "tr": "tur", "uk": "ukr",
    "ar": "ara", "he": "heb", "fa": "per", "hi": "hin", "zh": "chi", "ja": "jpn", "ko": "kor",
    "vi": "vie", "id": "ind", "ca": "cat", "eu": "baq", "ga": "gle", "cy": "wel", "is": "ice",
}  # fmt: skip


def iso639_2(language: str) -> str:
    """The three-letter code for a BCP 47 tag ("en-US" → "eng"; unknown → "und")."""
    primary = language.split("-")[0].lower()
    if len(primary) == 3:
        return primary
    return _ISO639_2.get(primary, "und")


def tag_mp3(
    path: Path,
    pub: Publication,
    title: str,
    track: tuple[int, int],
    text: str,
    cover: Cover,
    genre: str = "Audiobook",
    marks: Sequence[ChapterMark] = (),
) -> None:
    """Write the ID3v2.4 frames listeners' players read (and CHAP/CTOC when `marks` are given)."""
    meta = pub.metadata
    lang = iso639_2(meta.language)
    tags = ID3()  # ffmpeg wrote no tags (-id3v2_version 0): start from none
    tags.add(TIT2(encoding=3, text=title))
    if meta.authors:
        tags.add(TPE1(encoding=3, text=list(meta.authors)))
    tags.add(TALB(encoding=3, text=meta.title))
    tags.add(TRCK(encoding=3, text=f"{track[0]}/{track[1]}"))
    if meta.date:
        tags.add(TDRC(encoding=3, text=meta.date))
    tags.add(TLAN(encoding=3, text=lang))
    tags.add(TCON(encoding=3, text=genre))
    if meta.publisher:
        tags.add(TPUB(encoding=3, text=meta.publisher))
    if meta.rights:
        tags.add(TCOP(encoding=3, text=meta.rights))
    tags.add(TSSE(encoding=3, text="publisher (Lavf/LAME)"))
    tags.add(APIC(encoding=3, mime=cover.media_type, type=3, desc="Cover", data=cover.data))
    by = f" by {join_names(meta.authors)}" if meta.authors else ""
    tags.add(USLT(encoding=3, lang=lang, desc=f"{meta.title}{by}", text=text))
    if marks:
        ids = [f"chp{n}" for n in range(len(marks))]
        for element_id, mark in zip(ids, marks, strict=True):
            tags.add(
                CHAP(
                    element_id=element_id,
                    start_time=round(mark.start * 1000),
                    end_time=round(mark.end * 1000),
                    start_offset=0xFFFFFFFF,
                    end_offset=0xFFFFFFFF,
                    sub_frames=[TIT2(encoding=3, text=mark.title)],
                )
            )
        tags.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text="Chapters")],
            )
        )
    tags.save(path, v2_version=4)
