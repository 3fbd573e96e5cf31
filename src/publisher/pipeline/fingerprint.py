"""Fingerprints: everything a publication's outputs depend on, hashed, so an unchanged source is
not rendered again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from publisher import __version__
from publisher.manifest import Manifest
from publisher.model.publication import Publication
from publisher.settings import Settings, source_date_epoch
from publisher.tempdirs import stable_name


def fingerprint(path: Path, pub: Publication, settings: Settings, lexicon_files: list[Path]) -> str:
    """Everything an output depends on, hashed: a publication whose fingerprint has not changed
    since its last publish is not rendered again."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}:{len(data)}:".encode())
        digest.update(data)

    add("version", __version__.encode())
    add("source", path.read_bytes())
    add("settings", json.dumps(settings.publication_values(), default=str, sort_keys=True).encode())
    add("epoch", str(source_date_epoch()).encode())
    for extra in extra_files(pub, lexicon_files):
        add(stable_name(extra), extra.read_bytes())  # an EPUB's images: unpacked into a new folder each run
    add("voice", voice_identity(settings).encode())
    return digest.hexdigest()


def extra_files(pub: Publication, lexicon_files: list[Path]) -> list[Path]:
    """The files besides the source a fingerprint hashes: the cover, the images, the lexicon."""
    images = [Path(b.src) for c in pub.chapters for b in c.blocks if b.kind == "image" and b.src]
    return [*([pub.metadata.cover] if pub.metadata.cover else []), *images, *lexicon_files]


def voice_identity(settings: Settings) -> str:
    """The voice's identity without loading it: a Piper model's path, size and modification time,
    and the version of the patch that makes it deterministic (a new patch speaks differently)."""
    if settings.engine != "piper":
        return f"{settings.engine}:{settings.voice}"
    from publisher.speech.engines.determinism import NOISE_SEED, PATCH_VERSION
    from publisher.speech.engines.piper import default_voice

    model = Path(settings.voice).expanduser() if settings.voice else default_voice()
    try:
        stat = model.stat()
    except OSError:
        return f"piper:{model}:missing"
    return f"piper:{model.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{PATCH_VERSION}:{NOISE_SEED}"


def up_to_date(dest: Path, manifest: Manifest, print_: str) -> bool:
    """Whether `dest`, described by its `manifest`, holds a complete publication with this fingerprint."""
    if manifest.fingerprint != print_:
        return False
    for name, size in manifest.files.items():
        file = dest / name
        if not file.is_file() or file.stat().st_size != size:
            return False
    return True
