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
from publisher.proof.asr import (
    SAMPLE_RATE,
    Decoding,
    HeardWord,
    decode_window,
    decoding_for,
    load_model,
    transcribe_samples,
)
from publisher.proof.compare import metric
from publisher.proof.forced import expected_words
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
from publisher.proof.verdict import THRESHOLD

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


CLIP_MARGIN = 0.3  # seconds of the pause around a sentence included in its clip (at most half the pause)
LONGEST_CLIP = 30.0  # what Whisper hears at once; a longer sentence is judged by its transcript alone


def _heard(
    model: Any, samples: Any, start: float, group: list[SentenceCue], language: str, decoding: Decoding
) -> list[HeardWord]:
    """The words heard in one window; decoded again without timestamp tokens when far fewer words
    were heard than are written. With timestamp tokens Whisper sometimes ends a 30 s chunk's last
    segment early and drops the window's last sentences (the corpus dictionary's short entries:
    on its worst windows deletions fell from 38 to 4 and the WER from 0.316 to 0.227 without
    them); only the number of words decides, never which words."""
    heard = list(transcribe_samples(model, samples, start, language, decoding))
    written = sum(len(c.text.split()) for c in group)
    if not decoding.without_timestamps and len(heard) < RETRY_BELOW * written:
        again = list(transcribe_samples(model, samples, start, language, replace(decoding, without_timestamps=True)))
        if len(again) > len(heard):
            log.debug("%.0f s: window decoded again without timestamps", start)
            return again
    return heard


def clip_span(cues: list[SentenceCue], index: int, start: float, end: float) -> tuple[float, float]:
    """The span of sentence `index` of a window (`start`–`end`) scored on its own: its cue and up to
    CLIP_MARGIN of the pauses around it, never more than half the pause to a neighbour."""
    cue = cues[index]
    before = (cues[index - 1].end + cue.start) / 2 if index else start
    after = (cue.end + cues[index + 1].start) / 2 if index + 1 < len(cues) else end
    return max(before, cue.start - CLIP_MARGIN, start), min(after, cue.end + CLIP_MARGIN, end)


def score_sentences(
    model: Any, samples: Any, start: float, end: float, results: list[SentenceResult], language: str
) -> None:
    """Teacher-force each sentence's text on its own clip of the window's `samples` (which start at
    `start` seconds); a sentence longer than LONGEST_CLIP keeps no scores (judged on its transcript)."""
    cues = [r.cue for r in results]
    for index, result in enumerate(results):
        a, b = clip_span(cues, index, start, end)
        if b - a > LONGEST_CLIP:
            log.info("%s is %.0f s long: judged by its transcript alone", result.cue.sentence_id, b - a)
            continue
        clip = samples[int((a - start) * SAMPLE_RATE) : int((b - start) * SAMPLE_RATE)]
        result.expected = expected_words(model, clip, result.cue.text, language, offset=a)


def transcribe_publication(
    folder: Path,
    cache: Path,
    decoding: Decoding | None = None,
    progress: Progress | None = None,
    against_text: bool = True,
) -> tuple[Manifest, Decoding, list[SentenceResult]]:
    """Transcribe `folder`'s full-length MP3 window by window and give every heard word to its sentence;
    with `against_text`, also score each sentence's written words on its clip and judge them (the
    flags; without it only the word error rates mean anything, at 60% of the cost)."""
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
        samples = decode_window(audio, start, end)
        heard = _heard(model, samples, start, group, language, decoding)
        members = assign(group, heard)
        if against_text:
            score_sentences(model, samples, start, end, members, language)
        results.extend(members)
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
    for result in results:
        result.judge(language)
    return data, decoding, results


def proof_publication(
    folder: Path,
    cache: Path,
    lexicon: Lexicon | None = None,
    decoding: Decoding | None = None,
    threshold: float = THRESHOLD,
    progress: Progress | None = None,
) -> ProofReport:
    """Proof-listen one publication folder and return the report (nothing written): the sentences
    whose confidence (verdict) is at least `threshold` are flagged, most confident first."""
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
    flagged = [r for r in results if r.confidence >= threshold]
    flagged.sort(key=lambda r: (-r.confidence, -r.score, r.cue.start))
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
        threshold=threshold,
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
        f"{len(report.flagged)} of {report.sentences} sentences flagged "
        f"(confidence ≥ {report.threshold:g}), {report.seconds:.0f} s"
    ]
    if len(report.chapters) > 1:
        lines += [f"  chapter {c.number:>2} {c.tally.wer:.3f}  {c.title}" for c in report.chapters]
    for rank, r in enumerate(report.flagged[:top], 1):
        lines.append(f"  {rank:>2}. {clock(r.cue.start)} confidence {r.confidence:.2f}  {r.cue.text}")
        lines.append(f"      heard: {r.heard or '(nothing)'}")
        lines.append(f"      why: {r.reason(report.threshold)}")
    if len(report.flagged) > top:
        lines.append(f"  … {len(report.flagged) - top} more in {report.slug}/{REPORT_HTML}")
    if report.suggestions:
        lines.append("  lexicon suggestions (missed in 2+ places; edit the phonemes, add to lexicon.txt):")
        lines += [f"    {s.line}    # heard: {', '.join(s.heard[:3])}" for s in report.suggestions]
    return lines


def proof_folders(
    folders: list[Path], cache: Path, lexicon: Lexicon, decoding: Decoding | None, threshold: float | None = None
) -> Iterator[tuple[Path, ProofReport | PublisherError]]:
    """Proof each publication folder in turn, writing its proof.json and proof.html; a folder that
    cannot be proofed is reported with its error and the others go on."""
    for folder in folders:
        try:
            report = proof_publication(folder, cache, lexicon, decoding, THRESHOLD if threshold is None else threshold)
        except PublisherError as exc:
            yield folder, exc
            continue
        write_report(report, folder)
        yield folder, report
