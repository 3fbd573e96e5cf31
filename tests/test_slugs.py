"""Slugs: transliterated file names, and an output folder is never taken over by another source."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from publisher.cli import cli

SILENT = ["publish", "--engine", "silent", "--no-daisy", "--no-audiobooks", "--no-read-aloud"]


def test_a_later_source_never_overwrites_another_sources_slug(runner: CliRunner, workdir: Path) -> None:
    tolstoy = workdir / "sources" / "Война и мир.md"
    tolstoy.write_text("---\ntitle: Война и мир\nlanguage: ru\n---\n\nЕщё в начале июля.\n", encoding="utf-8")
    first = runner.invoke(cli, [*SILENT, str(tolstoy)])
    assert first.exit_code == 0, first.stderr
    manifest = workdir / "output" / "voina-i-mir" / ".publisher.json"
    recorded = json.loads(manifest.read_text(encoding="utf-8"))
    assert recorded["source"] == "Война и мир.md"

    other = workdir / "voina-i-mir.txt"
    other.write_text("Another book\n\nWith the same slug.\n", encoding="utf-8")
    clash = runner.invoke(cli, [*SILENT, str(other)])
    assert clash.exit_code == 4
    assert clash.stderr.splitlines()[0] == (
        f"error: {other}: its slug 'voina-i-mir' is already published in output/voina-i-mir from "
        "'Война и мир.md'; rename one of them, or publish this one under another name with --slug NAME"
    )
    assert manifest.read_bytes() == json.dumps(recorded, ensure_ascii=False, indent=1).encode()  # untouched

    chosen = runner.invoke(cli, [*SILENT, "--slug", "Another book", str(other)])
    assert chosen.exit_code == 0, chosen.stderr
    assert json.loads((workdir / "output" / "another-book" / ".publisher.json").read_text())["source"] == (
        "voina-i-mir.txt"
    )
    again = runner.invoke(cli, [*SILENT, str(tolstoy)])  # the owner itself may always publish again
    assert again.exit_code == 0 and "unchanged" in again.stdout
