"""DAISY Ace on an enhanced EPUB (the reader's own EPUB, narrated): the source book's own findings
told apart from the ones the publisher would have added.

The enhanced edition keeps the source's markup, so Ace finds in it whatever it finds in the source
(Standard Ebooks' Jekyll and Hyde: 13 moderate findings). Those are the book's, not the narration's:
when the source is found (by the name and SHA-256 the manifest records, in the --sources folders),
Ace runs on it too and its findings are listed as inherited; only findings the source does not have
fail the check. Without the source every finding counts, as for any other EPUB.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

from publisher.manifest import read_manifest
from publisher.model import layout
from publisher.validate.report import Report
from publisher.validate.tools import ACE_VERSION, run_ace


def is_enhanced(epub: Path) -> bool:
    """An enhanced edition: <slug>-enhanced.epub in its publication folder."""
    return epub.name == layout.file_name("enhanced_epub", epub.parent.name)


def find_source(epub: Path, sources: list[Path]) -> Path | None:
    """The source EPUB the manifest names, with the same SHA-256, in one of the `sources` folders."""
    manifest = read_manifest(epub.parent)
    if manifest is None or not manifest.source or manifest.source_sha256 is None:
        return None
    name, digest = manifest.source, manifest.source_sha256
    for folder in sources:
        candidate = folder / name
        if candidate.is_file() and hashlib.sha256(candidate.read_bytes()).hexdigest() == digest:
            return candidate
    return None


def _finding(message: str) -> tuple[str, str]:
    """What identifies a finding across the two books: the rule and description, and the document
    (the sentence spans added inside paragraphs can move a CSS pointer, not the document)."""
    what, _, where = message.rpartition(" (")
    return what or message, Path(where.split(" ", 1)[0]).name


def split_inherited(messages: list[str], source_messages: list[str]) -> tuple[list[str], list[str]]:
    """(new, inherited): each finding of the enhanced book is inherited while the source has as many
    of the same rule in the same document, else new."""
    own = Counter(_finding(m) for m in source_messages)
    new, inherited = [], []
    for message in messages:
        key = _finding(message)
        if own[key] > 0:
            own[key] -= 1
            inherited.append(message)
        else:
            new.append(message)
    return new, inherited


def check_enhanced_ace(epub: Path, sources: list[Path]) -> Report:
    """Ace on `epub`, with the findings its source EPUB has too listed as inherited and not failing."""
    report = run_ace(epub)
    if report.ok:
        return report
    source = find_source(epub, sources)
    if source is None:
        places = ", ".join(str(s) for s in sources) or "no folder"
        report.messages.append(
            f"the source EPUB was not found in {places} (by the name and SHA-256 in .publisher.json): "
            "its own findings cannot be told apart; give its folder with --sources"
        )
        return report
    new, inherited = split_inherited(report.messages, run_ace(source).messages)
    inherited = [f"inherited from {source.name}: {message}" for message in inherited]
    summary = f"Ace {ACE_VERSION}: {len(new)} new violations, {len(inherited)} inherited from the source EPUB"
    return Report(epub, "Ace", not new, summary, new + inherited)
