"""Chapter MP3s: encode each narrated chapter (CBR) and tag it with ID3v2.4 frames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mutagen.id3 import APIC, ID3, TALB, TCON, TCOP, TDRC, TIT2, TLAN, TPE1, TPUB, TRCK, TSSE, USLT

from publisher.ffmpeg import run_ffmpeg
from publisher.front import join_names
from publisher.model import Publication
from publisher.render.cover import Cover
from publisher.settings import Settings
from publisher.speech.narrate import Narration, Track
from publisher.text import slugify

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


@dataclass(frozen=True)
class AudioFile:
    """A written MP3 and what it holds."""

    path: Path
    chapter: int
    title: str
    duration: float


def chapter_file_name(index: int, title: str) -> str:
    """NN-<chapter-slug>.mp3"""
    return f"{index:02d}-{slugify(title, max_length=40)}.mp3"


def encode_mp3(wav: Path, mp3: Path, settings: Settings, bitrate: int | None = None) -> None:
    """WAV → constant-bitrate mono MP3 at the publication's sample rate (gapless LAME header)."""
    kbps = bitrate or settings.bitrate
    rate = settings.sample_rate if kbps >= 48 else min(settings.sample_rate, 22050)  # LAME's sweet spot
    run_ffmpeg(
        [
            "-y", "-i", str(wav), "-map_metadata", "-1", "-vn",
            "-ac", "1", "-ar", str(rate),
            "-c:a", "libmp3lame", "-b:a", f"{kbps}k", "-write_xing", "1",
            "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3", str(mp3),
        ],
        what="encoding MP3",
        path=mp3,
    )  # fmt: skip


def chapter_text(pub: Publication, track: Track) -> str:
    """The words heard in a track, for the USLT frame (players and screen readers show it)."""
    return "\n".join(cue.text for cue in track.cues)


def tag_mp3(path: Path, pub: Publication, track: Track, total: int, cover: Cover, genre: str = "Audiobook") -> None:
    """Write the ID3v2.4 frames listeners' players read."""
    meta = pub.metadata
    lang = iso639_2(meta.language)
    tags = ID3()  # ffmpeg wrote no tags (-id3v2_version 0): start from none
    tags.add(TIT2(encoding=3, text=track.title))
    if meta.authors:
        tags.add(TPE1(encoding=3, text=meta.authors))
    tags.add(TALB(encoding=3, text=meta.title))
    tags.add(TRCK(encoding=3, text=f"{track.index}/{total}"))
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
    tags.add(USLT(encoding=3, lang=lang, desc=f"{meta.title}{by}", text=chapter_text(pub, track)))
    tags.save(path, v2_version=4)


def write_chapter_mp3s(
    pub: Publication, narration: Narration, cover: Cover, folder: Path, settings: Settings
) -> list[AudioFile]:
    """One tagged MP3 per chapter under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    total = len(narration.tracks)
    for track in narration.tracks:
        mp3 = folder / chapter_file_name(track.index, track.title)
        encode_mp3(track.wav, mp3, settings)
        tag_mp3(mp3, pub, track, total, cover)
        files.append(AudioFile(mp3, track.index, track.title, track.duration))
    return files


def encode_embedded_audio(narration: Narration, folder: Path, settings: Settings) -> dict[int, Path]:
    """Smaller MP3s for the read-aloud EPUB (settings.read_aloud_bitrate), untagged."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for track in narration.tracks:
        mp3 = folder / chapter_file_name(track.index, track.title)
        encode_mp3(track.wav, mp3, settings, bitrate=settings.read_aloud_bitrate)
        files[track.index] = mp3
    return files
