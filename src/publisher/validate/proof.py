"""`publisher check` on a proof-listening report: its summary, and whether it still describes the
narration that is published (publishing again replaces the folder, and a copied-in old report would
describe other audio). A word error rate above `max_wer`, when one is given, is a finding too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from publisher.manifest import read_manifest
from publisher.model import layout
from publisher.model.scores import METRICS
from publisher.validate.report import Report

CHECK = "proof-listening"


def is_proof_report(path: Path) -> bool:
    """A publication's proof.json (beside the manifest that says what was published)."""
    return path.name == layout.PROOF_JSON and (path.parent / layout.MANIFEST).is_file()


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("wer"), int | float):
        return None
    return data


def check_proof(path: Path, max_wer: float | None = None) -> Report:
    """Summarise proof.json: word error rate, flagged sentences, the worst ones. Fails when it
    cannot be read, when it was made from other audio than the folder now holds, or when the
    word error rate is above `max_wer`."""
    data = _load(path)
    if data is None:
        return Report(path, CHECK, False, "not a readable proof-listening report; run publisher proof again")
    flagged = data.get("flagged") or []
    scored = METRICS.get(str(data.get("metric", "wer")), METRICS["wer"])
    summary = (
        f"{scored.name} {data['wer']:.3f} ({data.get('words', 0)} {scored.units}, Whisper {data.get('model', '?')}), "
        f"{len(flagged)} of {data.get('sentences', 0)} sentences flagged"
    )
    messages = []
    manifest = read_manifest(path.parent)
    if manifest is None or data.get("fingerprint") != manifest.fingerprint:
        messages.append("made from an earlier narration than the one published here; run publisher proof again")
    if max_wer is not None and data["wer"] > max_wer:
        messages.append(f"{scored.name} {data['wer']:.3f} is above --max-wer {max_wer:g}")
    for entry in flagged[:3] if messages else []:
        messages.append(f"worst: {entry.get('text', '')!r} heard {entry.get('heard', '')!r}")
    return Report(path, CHECK, not messages, summary, messages)
