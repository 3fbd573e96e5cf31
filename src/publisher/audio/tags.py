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
    TCOM,
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

from publisher.i18n import join_names, translator
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
    narrator: str | None = None,
) -> None:
    """Write the ID3v2.4 frames listeners' players read (and CHAP/CTOC when `marks` are given); a
    person who reads it (`narrator`) goes in TCOM, where audiobook players look for the narrator."""
    meta = pub.metadata
    lang = iso639_2(meta.language)
    tags = ID3()  # ffmpeg wrote no tags (-id3v2_version 0): start from none
    tags.add(TIT2(encoding=3, text=title))
    if meta.authors:
        tags.add(TPE1(encoding=3, text=list(meta.authors)))
    if narrator:
        tags.add(TCOM(encoding=3, text=narrator))
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
    t = translator(meta.language)  # every word a player shows, in the publication's language
    tags.add(APIC(encoding=3, mime=cover.media_type, type=3, desc=t.gettext("Cover"), data=cover.data))
    authors = join_names(meta.authors, meta.language)
    lyrics = t.gettext("{title} by {authors}", title=meta.title, authors=authors) if meta.authors else meta.title
    tags.add(USLT(encoding=3, lang=lang, desc=lyrics, text=text))
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
        for frame in tables_of_contents(ids, t.gettext("Chapters")):
            tags.add(frame)
    tags.save(path, v2_version=4)


#: a CTOC frame counts its children in one byte (ID3v2 Chapter Frame Addendum 1.0, §4)
CTOC_MAX_CHILDREN = 255


def tables_of_contents(ids: Sequence[str], title: str, element_id: str = "toc", top: bool = True) -> list[CTOC]:
    """CTOC frames (titled `title`) listing the CHAP frames `ids` in order: one, or, past 255 (a one-byte count), a
    top-level CTOC whose children are ordered CTOCs of at most 255 each, nested as deep as needed
    (a 381-chapter book failed with "bytes must be in range(0, 256)")."""
    flags = (CTOCFlags.TOP_LEVEL if top else 0) | CTOCFlags.ORDERED
    if len(ids) <= CTOC_MAX_CHILDREN:
        return [CTOC(element_id=element_id, flags=flags, child_element_ids=list(ids),
                     sub_frames=[TIT2(encoding=3, text=title)])]  # fmt: skip
    size = CTOC_MAX_CHILDREN
    while -(-len(ids) // size) > CTOC_MAX_CHILDREN:
        size *= CTOC_MAX_CHILDREN
    groups = [ids[at : at + size] for at in range(0, len(ids), size)]
    children = [f"{element_id}-{n}" for n in range(len(groups))]
    frames = [CTOC(element_id=element_id, flags=flags, child_element_ids=children,
                   sub_frames=[TIT2(encoding=3, text=title)])]  # fmt: skip
    for child, group in zip(children, groups, strict=True):
        frames += tables_of_contents(group, title, child, top=False)
    return frames
