"""`publisher check`: find the outputs in files and folders and run the checks that fit each one."""

from __future__ import annotations

from pathlib import Path

from publisher.validate.audio import check_mp3_tags
from publisher.validate.audiobook import check_audiobook
from publisher.validate.catalogue import check_catalogue, is_output_folder
from publisher.validate.daisy import check_daisy
from publisher.validate.enhanced import check_enhanced_ace, is_enhanced
from publisher.validate.feed_rules import is_feed_page
from publisher.validate.feeds import check_feed
from publisher.validate.opds import check_opds, is_opds_file
from publisher.validate.overlays import check_overlays
from publisher.validate.proof import check_proof, is_proof_report
from publisher.validate.report import Report
from publisher.validate.tools import run_ace, run_epubcheck


def _wanted(path: Path) -> bool:
    if path.parent.name == "daisy":  # the DAISY book's MP3s are the chapter MP3s (hard links)
        return path.name == "ncc.html"
    if path.suffix in (".epub", ".mp3", ".audiobook", ".lpf"):
        return True
    return is_feed_page(path) or is_opds_file(path) or is_proof_report(path)


def find_outputs(paths: list[Path]) -> list[Path]:
    """The files `check_paths` checks: `paths` that are files, and what folders hold (recursively)."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(p for p in path.rglob("*") if _wanted(p)) if path.is_dir() else [path])
    return files


def check_file(
    file: Path, ace: bool = True, max_wer: float | None = None, sources: list[Path] | None = None
) -> list[Report]:
    """The checks for one output, by its name: DAISY NCC, feed, MP3, audiobook package, proof-listening
    report (its word error rate against `max_wer`), else EPUB (EPUBCheck, Ace unless `ace` is False,
    and the overlay checks for a read-aloud edition; on an enhanced edition, the findings its source
    EPUB in `sources` has too do not fail)."""
    if file.name == "ncc.html":
        return [check_daisy(file)]
    if is_feed_page(file):
        return [check_feed(file)]
    if is_opds_file(file):
        return [check_opds(file)]
    if is_proof_report(file):
        return [check_proof(file, max_wer)]
    if file.suffix == ".mp3":
        return [check_mp3_tags(file)]
    if file.suffix in (".audiobook", ".lpf"):
        return [check_audiobook(file)]
    reports = [run_epubcheck(file)]
    if ace:
        reports.append(check_enhanced_ace(file, sources or []) if is_enhanced(file) else run_ace(file))
    if file.stem.endswith("-read-aloud"):
        reports.append(check_overlays(file))
    return reports


def check_paths(
    paths: list[Path], ace: bool = True, max_wer: float | None = None, sources: list[Path] | None = None
) -> list[Report]:
    """Check every EPUB, MP3, DAISY book (daisy/ncc.html), audiobook package (.audiobook, .lpf),
    podcast feed (feed.xml), OPDS feed and proof-listening report (proof.json) in `paths` (files or
    folders, searched recursively); and for an output folder, whether its catalogue was written whole
    from the publications it holds now."""
    reports = [report for file in find_outputs(paths) for report in check_file(file, ace, max_wer, sources)]
    return reports + [check_catalogue(path) for path in paths if is_output_folder(path)]
