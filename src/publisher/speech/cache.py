"""The narration cache: one file of 16-bit PCM per sentence, addressed by what makes its sound.

The key covers the engine and voice (for Piper, the model file's hash), every setting that changes
the sound, and the spoken text; so an edited sentence misses and everything else hits. Files are
written to a temporary name and renamed, so a killed run never leaves a torn clip behind, and the
next run picks up every clip already made.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CACHE_VERSION = "2"


@dataclass(frozen=True)
class CacheInfo:
    """What the cache holds."""

    root: Path
    clips: int
    bytes: int
    models: int
    model_bytes: int
    segments: int = 0  # encoded audio segments (render/segments.py), files
    segment_bytes: int = 0
    other: int = 0  # files in OTHER_FOLDERS: transcripts, the joined recogniser model, notes
    other_bytes: int = 0


#: what else the publisher keeps in a cache folder, by the module that writes it: `info`, `prune`
#: and `clear` cover these too (and nothing else a user may have put in the folder)
OTHER_FOLDERS = (
    "align",  # align/transcribe.py: what was heard in each recording file
    "whisper",  # proof/asr.py: the multilingual recogniser, joined once from its two packages
    "sources",  # pipeline/memo.py: each source's last publish (its fingerprint and what made it)
    "catalogue",  # pipeline/memo.py: what each output folder's catalogue was made from
)


class ClipCache:
    """Sentence clips under `root/clips/ab/abcdef….pcm` (timeline format: 22,050 Hz mono s16le)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.clips = root / "clips"
        self.segments = root / "segments"  # encoded audio, kept by render/segments.py

    @staticmethod
    def key(engine_key: str, spoken: str) -> str:
        """The content address of one sentence's audio."""
        digest = hashlib.sha256(f"{CACHE_VERSION}\x1f{engine_key}\x1f{spoken}".encode())
        return digest.hexdigest()

    def path(self, key: str) -> Path:
        """Where the clip for `key` lives (whether or not it exists yet)."""
        return self.clips / key[:2] / f"{key}.pcm"

    def has(self, key: str) -> bool:
        """Is the clip there?"""
        return self.path(key).is_file()

    def get(self, key: str) -> bytes:
        """The clip's PCM (it must exist)."""
        path = self.path(key)
        data = path.read_bytes()
        os.utime(path)  # recently used: `cache prune` keeps it
        return data

    def put(self, key: str, pcm: bytes) -> None:
        """Store a clip atomically."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pcm)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _files(self, folder: Path) -> Iterator[Path]:
        if folder.is_dir():
            yield from (p for p in folder.rglob("*") if p.is_file())

    def info(self) -> CacheInfo:
        """Counts and sizes."""
        clips = list(self._files(self.clips))
        models = list(self._files(self.root / "models"))
        segments = list(self._files(self.segments))
        others = list(self._others())
        return CacheInfo(
            self.root,
            len(clips),
            sum(p.stat().st_size for p in clips),
            sum(1 for p in models if p.suffix == ".onnx"),  # beside them: small notes of model digests
            sum(p.stat().st_size for p in models),
            len(segments),
            sum(p.stat().st_size for p in segments),
            len(others),
            sum(p.stat().st_size for p in others),
        )

    def _others(self) -> Iterator[Path]:
        for name in OTHER_FOLDERS:
            yield from self._files(self.root / name)

    def prune(self, older_than_days: float) -> tuple[int, int]:
        """Delete clips, encoded segments, derived voice models, transcripts, the joined recogniser
        model and notes not used for `older_than_days` (a model left by an older patch or a voice no
        longer used; each is made again when needed); return (files, bytes) removed."""
        limit = time.time() - older_than_days * 86400
        removed = freed = 0
        models = [p for p in self._files(self.root / "models") if p.suffix in (".onnx", ".data")]
        for path in [*self._files(self.clips), *self._files(self.segments), *models, *self._others()]:
            stat = path.stat()
            if stat.st_mtime < limit or path.name.startswith(".tmp-") or ".tmp." in path.name:
                freed += stat.st_size
                path.unlink(missing_ok=True)
                removed += 1
        return removed, freed

    def clear(self) -> tuple[int, int]:
        """Delete every clip, encoded segment, derived model, transcript, joined recogniser model
        and note; return (files, bytes) removed."""
        removed = freed = 0
        for folder in (self.clips, self.segments, self.root / "models", *(self.root / n for n in OTHER_FOLDERS)):
            for path in list(self._files(folder)):
                freed += path.stat().st_size
                path.unlink(missing_ok=True)
                removed += 1
        return removed, freed
