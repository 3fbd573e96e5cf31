"""Proof-listening one publication folder: transcribe its full-length MP3, score every sentence, write proof.json.

Reads only what publishing left in the folder: the manifest's cues (every sentence and where it
is heard in `<slug>.mp3`) and the MP3 itself. Nothing is synthesized again.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from publisher.clock import tenths_clock as clock
from publisher.errors import PublisherError
from publisher.manifest import Manifest, read_manifest
from publisher.model import layout
from publisher.model.layout import MANIFEST
from publisher.prepare.lexicon import Lexicon
from publisher.proof.asr import Decoding, HeardWord, decoding_for, load_model, transcribe_window
from publisher.proof.compare import metric
from publisher.proof.page import render_page
from publisher.proof.results import ChapterScore, ProofReport
from publisher.proof.score import (
    SentenceCue,
    SentenceResult,
    assign,
    chapters_of,
    refine,
    tally,
    window_span,
    windows,
)
from publisher.proof.suggest import suggest

log = logging.getLogger(__name__)

REPORT_JSON = layout.PROOF_JSON
REPORT_HTML = layout.PROOF_HTML

RETRY_BELOW = 0.85  # of a window's written words heard: decode it again (a dropped ending)
MIN_HEARD = 0.2  # of the written words: below that, there is no narration to judge

Progress = Callable[[float], None]  # seconds of audio transcribed so far


def publication_folders(paths: list[Path]) -> list[Path]:
    """Publication folders named by `paths`: a folder with a manifest, or every such folder inside one."""
    found: list[Path] = []
    for path in paths:
        if (path / MANIFEST).is_file():
            found.append(path)
        elif path.is_dir():
            found += sorted(p for p in path.iterdir() if (p / MANIFEST).is_file())
        else:
            raise PublisherError("no such folder", path=path)
    return found


def _manifest(folder: Path) -> Manifest:
    manifest = read_manifest(folder)
    if manifest is None:
        raise PublisherError("not a published folder (no readable .publisher.json); publish it first", path=folder)
    return manifest


def _heard(
    model: Any, audio: Path, span: tuple[float, float], group: list[SentenceCue], language: str, decoding: Decoding
) -> list[HeardWord]:
    """The words heard in one window; decoded again without timestamp tokens when far fewer words
    were heard than are written. With timestamp tokens Whisper sometimes ends a 30 s chunk's last
    segment early and drops the window's last sentences (the corpus dictionary's short entries:
    on its worst windows deletions fell from 38 to 4 and the WER from 0.316 to 0.227 without
    them); only the number of words decides, never which words."""
    heard = list(transcribe_window(model, audio, *span, language, decoding))
    written = sum(len(c.text.split()) for c in group)
    if not decoding.without_timestamps and len(heard) < RETRY_BELOW * written:
        again = list(transcribe_window(model, audio, *span, language, replace(decoding, without_timestamps=True)))
        if len(again) > len(heard):
            log.debug("%s: %.0f–%.0f s decoded again without timestamps", audio.name, *span)
            return again
    return heard


def transcribe_publication(
    folder: Path, cache: Path, decoding: Decoding | None = None, progress: Progress | None = None
) -> tuple[Manifest, Decoding, list[SentenceResult]]:
    """Transcribe `folder`'s full-length MP3 window by window and give every heard word to its sentence."""
    data = _manifest(folder)
    language = data.metadata.language
    decoding = decoding or decoding_for(language)
    audio = folder / data.full.path
    if not audio.is_file():
        raise PublisherError("the full-length MP3 is missing; publish again", path=audio)
    cues = chapters_of([(c.sentence_id, c.text, c.start, c.end) for c in data.cues])
    duration = data.full.duration
    model = load_model(decoding.model, cache)
    groups = windows(cues)
    results: list[SentenceResult] = []
    for index, group in enumerate(groups):
        start, end = window_span(groups, index, duration)
        heard = _heard(model, audio, (start, end), group, language, decoding)
        results.extend(assign(group, heard))
        log.info("%s: %.0f of %.0f s transcribed", folder.name, end, duration)
        if progress:
            progress(end)
    got, written = sum(len(r.words) for r in results), sum(len(r.cue.text.split()) for r in results)
    if written and got < MIN_HEARD * written:
        raise PublisherError(
            f"hardly any speech heard ({got} words for {written} written): was it narrated by the silent engine?",
            path=audio,
        )
    refine(results, language)
    return data, decoding, results


def proof_publication(
    folder: Path,
    cache: Path,
    lexicon: Lexicon | None = None,
    decoding: Decoding | None = None,
    min_score: float = 0.0,
    progress: Progress | None = None,
) -> ProofReport:
    """Proof-listen one publication folder and return the report (nothing written)."""
    started = time.perf_counter()
    data, decoding, results = transcribe_publication(folder, cache, decoding, progress)
    language = data.metadata.language
    titles = {a.chapter: a.title for a in data.audio}
    chapters = []
    for number in sorted({r.cue.chapter for r in results}):
        members = [r for r in results if r.cue.chapter == number]
        chapters.append(
            ChapterScore(
                number, titles.get(number, f"Chapter {number}"), members[0].cue.start, members[-1].cue.end,
                tally(members, language),
            )
        )  # fmt: skip
    flagged = [r for r in results if r.alignment and r.alignment.errors and r.score > min_score]
    flagged.sort(key=lambda r: (-r.score, -(r.alignment.errors if r.alignment else 0), r.cue.start))
    report = ProofReport(
        slug=folder.name,
        title=data.metadata.title,
        language=language,
        audio=data.full.path,
        duration=data.duration,
        decoding=decoding,
        tally=tally(results, language),
        chapters=chapters,
        flagged=flagged,
        suggestions=suggest(results, language, lexicon),
        sentences=len(results),
        fingerprint=data.fingerprint,
    )
    report.seconds = time.perf_counter() - started
    return report


def write_report(report: ProofReport, folder: Path) -> list[Path]:
    """Write proof.json and proof.html into the publication folder (each replaced whole, never half-written)."""
    written = []
    for name, text in (
        (REPORT_JSON, json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n"),
        (REPORT_HTML, render_page(report)),
    ):
        target = folder / name
        temporary = target.with_name(f".{name}.{os.getpid()}")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)
        written.append(target)
    return written


def summary(report: ProofReport, top: int = 10) -> list[str]:
    """The report as lines for the terminal: WER, per chapter, the worst sentences, lexicon suggestions."""
    t = report.tally
    scored = metric(report.language)
    lines = [
        f"{report.slug}: {scored.name} {t.wer:.3f} ({t.errors} of {t.words} {scored.units}; "
        f"Whisper {report.decoding.model}), "
        f"{len(report.flagged)} of {report.sentences} sentences flagged, {report.seconds:.0f} s"
    ]
    if len(report.chapters) > 1:
        lines += [f"  chapter {c.number:>2} {c.tally.wer:.3f}  {c.title}" for c in report.chapters]
    for rank, r in enumerate(report.flagged[:top], 1):
        lines.append(f"  {rank:>2}. {clock(r.cue.start)} score {r.score:.2f}  {r.cue.text}")
        lines.append(f"      heard: {r.heard or '(nothing)'}")
    if len(report.flagged) > top:
        lines.append(f"  … {len(report.flagged) - top} more in {report.slug}/{REPORT_HTML}")
    if report.suggestions:
        lines.append("  lexicon suggestions (missed in 2+ places; edit the phonemes, add to lexicon.txt):")
        lines += [f"    {s.line}    # heard: {', '.join(s.heard[:3])}" for s in report.suggestions]
    return lines


def proof_folders(
    folders: list[Path], cache: Path, lexicon: Lexicon, decoding: Decoding | None
) -> Iterator[tuple[Path, ProofReport | PublisherError]]:
    """Proof each publication folder in turn, writing its proof.json and proof.html; a folder that
    cannot be proofed is reported with its error and the others go on."""
    for folder in folders:
        try:
            report = proof_publication(folder, cache, lexicon, decoding)
        except PublisherError as exc:
            yield folder, exc
            continue
        write_report(report, folder)
        yield folder, report
