"""Aligning a recording with a publication, start to end: open the recording, hear it (or take what
the cache heard before), pair the words, time every sentence."""

from __future__ import annotations

import logging
from pathlib import Path

from publisher.align.recording import Recording, open_recording
from publisher.align.result import Alignment, FileInfo, Written
from publisher.align.timing import time_sentences
from publisher.align.transcribe import Hearer, Progress, Transcript, transcribe
from publisher.model.publication import Publication
from publisher.proof.asr import Decoding, require_extra
from publisher.settings import Settings
from publisher.speech.narrate import script

log = logging.getLogger(__name__)


def written_sentences(pub: Publication) -> list[Written]:
    """Every sentence of `pub` in the order a narration reads them (title page first, closing line last)."""
    settings = Settings()
    return [
        Written(sentence.id, sentence.text, chapter.index)
        for chapter in pub.chapters
        for sentence, _ in script(pub, chapter.index, settings)
    ]


def file_infos(recording: Recording, transcript: Transcript) -> tuple[FileInfo, ...]:
    """The recording's files as the alignment names them, at their decoded lengths."""
    infos, start = [], 0.0
    for file, heard in zip(recording.files, transcript.files, strict=True):
        duration = heard.duration or file.duration
        infos.append(FileInfo(file.path.name, file.sha256, start, duration))
        start += duration
    return tuple(infos)


def align_recording(
    written: list[Written],
    paths: list[Path],
    language: str,
    cache: Path,
    decoding: Decoding | None = None,
    hearer: Hearer | None = None,
    progress: Progress | None = None,
) -> tuple[Alignment, Recording, Transcript]:
    """Align the recording `paths` name (files, or folders of them) with `written` (reading order)."""
    require_extra()
    recording = open_recording(paths)
    transcript = transcribe(recording, language, cache, decoding, hearer, progress)
    alignment = time_sentences(written, transcript, file_infos(recording, transcript), language)
    log.info(
        "%s: %d of %d sentences found (%.0f %%)",
        recording.name, alignment.aligned, len(alignment.text), 100 * alignment.coverage,
    )  # fmt: skip
    return alignment, recording, transcript
