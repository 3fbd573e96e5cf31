"""Settings: defaults < publisher.toml < source front matter < command-line flags."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from publisher.errors import ConfigError
from publisher.text.languages import language_problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_NAME = "publisher.toml"
#: field metadata: settings that change how a run works, or only the catalogue (feeds, OPDS, index
#: page), never a publication; every other setting is part of a publication's fingerprint
RUN = {"scope": "run"}
CATALOGUE = {"scope": "catalogue"}
#: a Dask scheduler address (tcp://host:port, tls://…, host:port), local or local:N, or off
_CLUSTER = re.compile(
    r"(?:(?:tcp|tls|ws|wss|inproc|ucx)://)?[\w.\-\[\]:]+(?::\d+)?(?:/\S*)?|local(?::\d+)?|off|none|", re.I
)
MP3_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)


@dataclass(frozen=True)
class Settings:
    """Everything that changes what is published. Field docs double as the README's table."""

    engine: str = "piper"
    """Speech engine: piper (offline neural, default), espeak (offline, fast), gtts (online)."""
    voice: str | None = None
    """Engine voice: a Piper .onnx path or voice name, an eSpeak voice or language (en-GB), or a gTTS language."""
    voices_dir: Path | None = field(default=None, metadata=RUN)
    """Folder of Piper voices (<name>.onnx + .onnx.json): --voice NAME, and a voice for each source language."""
    language: str = "en"
    """Language of sources that do not say (BCP 47)."""
    speed: float = 1.0
    """Speaking rate: 1.0 is the voice's own; 1.2 is 20 % faster."""
    pause_sentence: float = 0.35
    """Seconds of silence after each sentence."""
    pause_paragraph: float = 0.8
    """Seconds of silence after each paragraph (instead of the sentence pause)."""
    pause_heading: float = 1.0
    """Seconds of silence after each heading."""
    lead_in: float = 0.5
    """Seconds of silence at the start of every audio file."""
    tail: float = 1.5
    """Seconds of silence at the end of every audio file."""
    sample_rate: int = 44100
    """Sample rate of every MP3 (Hz)."""
    bitrate: int = 64
    """Constant MP3 bitrate in kbit/s (mono)."""
    profile: str = "podcast"
    """Loudness profile: podcast (−19 LUFS mono, true peak ≤ −1 dBTP) or acx (Audible's rules)."""
    m4b_bitrate: int = 64
    """AAC bitrate of the M4B audiobook (kbit/s)."""
    lexicon: Path | None = None
    """Pronunciation lexicon (lexicon.txt or .pls); default: lexicon.txt or lexicon.pls here, if any."""
    cover: Path | None = None
    """Cover image (JPEG, PNG, GIF, WebP or a self-contained SVG) instead of the source's own or a generated one."""
    announce: bool = True
    """Speak an opening (title, author, date, voice) and a closing line, as audiobooks do."""
    narration: tuple[Path, ...] = ()
    """A person's recording of the text (audio files or folders, in order), aligned and published instead of a voice."""
    narrator: str | None = None
    """Who reads the recording (credited as the narrator); with a synthetic voice, the voice is credited."""
    typographer: bool = True
    """Markdown: curly quotes, dashes (-- and ---) and ellipses (...) from their typewriter forms."""
    notes: str = "paragraph"
    """Where footnotes are read: paragraph (after the paragraph citing them), chapter (at its end) or none."""
    publisher: str | None = None
    """Publisher name for sources that do not name one (also certifies accessibility)."""
    read_aloud: bool = True
    """Also write <slug>-read-aloud.epub: the narration inside, synchronised sentence by sentence."""
    daisy: bool = True
    """Also write the DAISY 2.02 talking book (daisy/ and <slug>-daisy.zip)."""
    audiobooks: bool = True
    """Also write the Readium (.audiobook) and W3C (.lpf) audiobook packages."""
    read_aloud_bitrate: int = 0
    """MP3 bitrate inside the read-aloud EPUB; 0 embeds the chapter MP3s as they are."""
    slug: str | None = field(default=None, metadata=RUN)
    """Name of the output folder (and files) for the source being published, instead of its file name."""
    cache: Path = field(default_factory=lambda: Path(".cache/publisher"), metadata=RUN)
    """Narration cache and derived voice models (content-addressed; safe to delete)."""
    use_cache: bool = field(default=True, metadata=RUN)
    """Reuse sentence clips from the cache (off: synthesize everything into a temporary folder)."""
    jobs: int = field(default=0, metadata=RUN)
    """Synthesis processes; 0 = one per core."""
    force: bool = field(default=False, metadata=RUN)
    """Render even when nothing changed since the last publish."""
    max_chapters: int = field(default=2000, metadata=RUN)
    """Refuse a source of more chapters than this, before narrating it (War and Peace has 381)."""
    max_sentences: int = field(default=200_000, metadata=RUN)
    """Refuse a source of more sentences than this, before narrating it (War and Peace has 24,893)."""
    max_characters: int = field(default=10_000_000, metadata=RUN)
    """Refuse a source of more characters of text to narrate than this (War and Peace: 3.2 million, ~55 h)."""
    cluster: str | None = field(default=None, metadata=RUN)
    """Dask scheduler to run on (tcp://host:8786), or local:N for N local worker processes; default:
    DASK_SCHEDULER_ADDRESS if set, else this machine's processes (--jobs)."""
    output: Path = field(default_factory=lambda: Path("output"), metadata=RUN)
    """Where publications are written: output/<slug>/."""
    base_url: str = field(default="http://localhost:8000/", metadata=CATALOGUE)
    """Public URL of the output folder: every link in feeds and the OPDS catalogue starts with it."""
    site_title: str = field(default="Publications", metadata=CATALOGUE)
    """Title of the catalogue page, the site-wide podcast feed and the OPDS catalogue."""
    category: str = field(default="News", metadata=CATALOGUE)
    """Apple Podcasts category of the feeds ("News", "Arts/Books", "Education", …)."""
    explicit: bool = field(default=False, metadata=CATALOGUE)
    """Mark podcast episodes as explicit."""
    owner_email: str | None = field(default=None, metadata=CATALOGUE)
    """Contact address for the podcast feeds' itunes:owner (Apple asks for one)."""
    locked: bool = field(default=False, metadata=CATALOGUE)
    """Ask podcast platforms not to import the feeds elsewhere (podcast:locked yes, owner = owner_email)."""
    page_size: int = field(default=100, metadata=CATALOGUE)
    """Entries per page of the site feed, the OPDS catalogue and the index page."""
    pinned: frozenset[str] = field(default=frozenset(), metadata=RUN, repr=False)
    """Settings given by the caller (command-line flags, `override`): a source's front matter does not change them."""

    def output_values(self) -> dict[str, Any]:
        """The settings that change any output, the catalogue's included (not how a run works)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.metadata.get("scope") != "run"}

    def publication_values(self) -> dict[str, Any]:
        """The settings that change what a publication holds (its fingerprint's part)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if "scope" not in f.metadata}

    def override(self, origin: str = "command line", **values: Any) -> Settings:
        """The caller's own settings (flags, a form, a script) over these: checked and converted like
        publisher.toml's (strings are accepted), every problem reported together; a source's front
        matter cannot change them. A value of None leaves a setting as it is.

        >>> Settings().override(engine="espeak", speed="1.2").speed
        1.2
        """
        return self.with_overrides(values, origin, pin=True)

    def for_source(self, front: Mapping[str, Any], title: str) -> Settings:
        """The settings one source is published with: its front matter (`front`) over these, except
        the settings the caller pinned; then what the loudness profile imposes. This is the one
        place the layers meet: defaults < publisher.toml < front matter < the caller's own."""
        free = {key: value for key, value in front.items() if key.replace("-", "_") not in self.pinned}
        return self.with_overrides(free, f"{title}: front matter").for_profile()

    def with_overrides(self, values: Mapping[str, Any], origin: str, pin: bool = False) -> Settings:
        """A copy with `values` applied (pinned when `pin`); every bad key or value is reported together."""
        known = {f.name: f for f in fields(self)}
        problems: list[str] = []
        clean: dict[str, Any] = {}
        for key, value in values.items():
            name = key.replace("-", "_")
            if value is None:
                continue
            if name not in known or name == "pinned":
                problems.append(f"unknown setting {key!r}")
                continue
            default = getattr(self, name)
            try:
                clean[name] = _coerce(value, default, name)
            except (TypeError, ValueError) as exc:
                problems.append(f"{key}: {exc}")
        if problems:
            raise ConfigError(f"{origin}: " + "; ".join(problems))
        if pin:
            clean["pinned"] = self.pinned | clean.keys()
        result = replace(self, **clean)
        result.validate(origin)
        return result

    def validate(self, origin: str) -> None:
        """Raise ConfigError listing every value out of range."""
        problems = []
        if not 0.25 <= self.speed <= 4.0:
            problems.append(f"speed {self.speed} is outside 0.25–4.0")
        for name in ("pause_sentence", "pause_paragraph", "pause_heading", "lead_in", "tail"):
            if not 0 <= getattr(self, name) <= 30:
                problems.append(f"{name} {getattr(self, name)} is outside 0–30 seconds")
        if self.sample_rate not in (22050, 24000, 32000, 44100, 48000):
            problems.append(f"sample_rate {self.sample_rate} is not 22050, 24000, 32000, 44100 or 48000")
        if self.bitrate not in MP3_BITRATES:
            problems.append(f"bitrate {self.bitrate} is not a standard MP3 bitrate")
        if self.read_aloud_bitrate and self.read_aloud_bitrate not in MP3_BITRATES:
            problems.append(f"read_aloud_bitrate {self.read_aloud_bitrate} is not 0 or a standard MP3 bitrate")
        if self.profile not in ("podcast", "acx"):
            problems.append(f"profile {self.profile!r} is not podcast or acx")
        if self.notes not in ("paragraph", "chapter", "none"):
            problems.append(f"notes {self.notes!r} is not paragraph, chapter or none")
        if not 0 <= self.jobs <= 64:
            problems.append(f"jobs {self.jobs} is outside 0–64")
        if self.cluster is not None and not _CLUSTER.fullmatch(self.cluster.strip()):
            problems.append(f"cluster {self.cluster!r} is not a scheduler address (tcp://host:port) or local:N")
        elif self.cluster and self.cluster.startswith("local:") and not 1 <= int(self.cluster[6:]) <= 256:
            problems.append(f"cluster {self.cluster!r}: a local cluster has 1–256 workers")
        for name in ("max_chapters", "max_sentences", "max_characters"):
            if getattr(self, name) < 1:
                problems.append(f"{name} {getattr(self, name)} is not a positive number")
        if not 24 <= self.m4b_bitrate <= 320:
            problems.append(f"m4b_bitrate {self.m4b_bitrate} is outside 24–320")
        if self.narrator is not None and not self.narrator.strip():
            problems.append("narrator is empty")
        if not 1 <= self.page_size <= 10000:
            problems.append(f"page_size {self.page_size} is outside 1–10000")
        if not _known_language(self.language):
            problems.append(f"language {self.language!r} is not a known language code (BCP 47), such as 'fr-CA'")
        if not self.base_url.startswith(("http://", "https://")):
            problems.append(f"base_url {self.base_url!r} is not an http:// or https:// URL")
        if problems:
            raise ConfigError(f"{origin}: " + "; ".join(problems))

    def for_profile(self) -> Settings:
        """The settings a loudness profile imposes (ACX: 44.1 kHz, ≥ 192 kbit/s, room tone)."""
        if self.profile != "acx":
            return self
        return replace(
            self,
            sample_rate=44100,
            bitrate=max(192, self.bitrate),
            lead_in=min(max(self.lead_in, 0.5), 1.0),
            tail=min(max(self.tail, 1.0), 5.0) if self.tail >= 1.0 else 2.0,
        )


def _known_language(tag: str) -> bool:
    return language_problem(tag.replace("_", "-")) is None


def _coerce(value: Any, default: Any, name: str) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if isinstance(default, int) and not isinstance(default, bool):
        return int(value)
    if isinstance(default, float):
        return float(value)
    if name == "narration":
        items = [value] if isinstance(value, (str, Path)) else list(value)
        if not all(isinstance(item, (str, Path)) and str(item).strip() for item in items):
            raise ValueError("expected an audio file or folder, or a list of them")
        return tuple(Path(str(item)).expanduser() for item in items)
    if isinstance(default, Path) or name in ("lexicon", "voices_dir", "cover"):
        return Path(value)
    if name in ("voice", "publisher", "cluster", "narrator"):
        return str(value)
    return str(value)


def load_settings(config: Path | None = None, cwd: Path | None = None) -> Settings:
    """Defaults, then `publisher.toml` (the given file, or one in the working directory)."""
    settings = Settings()
    path = config if config is not None else (cwd or Path.cwd()) / CONFIG_NAME
    if config is None and not path.is_file():
        return settings
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    table = data.get("publisher", data)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [publisher] must be a table")
    return settings.with_overrides(table, str(path))


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH as an int, when set (reproducible builds)."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"SOURCE_DATE_EPOCH={value!r} is not a whole number of seconds") from exc
