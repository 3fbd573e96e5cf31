"""`api.watch` and `publisher publish --watch`: publish again on every change, the voice kept loaded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.helpers import ctrl_c_works

from publisher import api
from publisher.cli import cli
from publisher.pipeline.results import BatchResult
from publisher.pipeline.watch import watched
from publisher.settings import Settings

HEAD = "A Small Test\nBy Someone\n2026-12-06\n\n"


def _vtt(output: Path, slug: str) -> str:
    return (output / slug / f"{slug}.vtt").read_text(encoding="utf-8")


def test_watch_publishes_every_change_and_goes_on_after_bad_input(workdir: Path) -> None:
    tmp_path = workdir  # the working folder: where the lexicon is looked for
    sources, output = tmp_path / "sources", tmp_path / "output"  # sources/ is made by the fixture
    (sources / "small.txt").write_text(HEAD + "The first sentence is here. The second one follows.\n", encoding="utf-8")
    settings = Settings(engine="silent", output=output, cache=tmp_path / "cache")
    cancel = api.CancelToken()
    heard: list[list[str]] = []
    rounds = api.watch([sources], settings, cancel=cancel, on_change=lambda f: heard.append([p.name for p in f]))

    first = next(rounds)
    assert isinstance(first, BatchResult) and [r.state for r in first.results] == ["published"]
    assert "The second one follows." in _vtt(output, "small")

    (sources / "small.txt").write_text(HEAD + "The first sentence is here. A new one follows.\n", encoding="utf-8")
    edit = next(rounds)
    assert isinstance(edit, BatchResult) and edit.results[0].synthesized == 1 and edit.results[0].reused == 4
    assert "A new one follows." in _vtt(output, "small") and "second one" not in _vtt(output, "small")

    (sources / "small.txt").write_text("", encoding="utf-8")  # bad input: reported, the watch goes on
    bad = next(rounds)
    assert isinstance(bad, BatchResult) and bad.results[0].state == "failed" and "empty" in str(bad.results[0].error)
    assert "A new one follows." in _vtt(output, "small")  # the earlier outputs stay

    (sources / "small.txt").write_text(HEAD + "Back again.\n", encoding="utf-8")
    (sources / "other.md").write_text("# Another\n\nA second source joins the folder.\n", encoding="utf-8")
    both = next(rounds)
    assert isinstance(both, BatchResult) and sorted(r.slug for r in both.published) == ["other", "small"]

    (tmp_path / "lexicon.txt").write_text("Houthis: HOO-theez\n", encoding="utf-8")  # the lexicon is watched too
    lexicon = next(rounds)
    assert isinstance(lexicon, BatchResult)
    assert heard == [["small.txt"], ["small.txt"], ["other.md", "small.txt"], ["lexicon.txt"]]

    cancel.cancel()
    with pytest.raises(StopIteration):
        next(rounds)


def test_a_named_source_that_is_removed_is_reported_and_watched_for(tmp_path: Path) -> None:
    source = tmp_path / "essay.md"
    source.write_text("# Essay\n\nIt has one sentence.\n", encoding="utf-8")
    settings = Settings(engine="silent", output=tmp_path / "out", cache=tmp_path / "cache")
    rounds = api.watch([source], settings, cancel=api.CancelToken())
    assert isinstance(next(rounds), BatchResult)
    source.unlink()
    gone = next(rounds)
    assert isinstance(gone, api.SourceError) and "no such file" in str(gone)
    assert watched([source], settings)[source] is None
    more = tmp_path / "more"  # another named folder is still watched meanwhile
    more.mkdir()
    (more / "note.txt").write_text("A note\n", encoding="utf-8")
    assert more / "note.txt" in watched([source, more], settings)
    source.write_text("# Essay\n\nIt is back, with two sentences.\n", encoding="utf-8")
    back = next(rounds)
    assert isinstance(back, BatchResult) and back.published


def test_proof_and_watch_together_are_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["publish", str(tmp_path), "--watch", "--proof"])
    assert result.exit_code == 2 and "--proof and --watch" in result.output


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(c) for c in (task / "children").read_text().split())
    return found


def _wait_for(predicate: object, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_command_keeps_the_real_voice_loaded_between_edits_and_ctrl_c_ends_it(tmp_path: Path) -> None:
    """`publisher publish --watch` as a person runs it, with the default Piper voice: after the first
    publish a voice process waits (its libraries imported), and both edits are spoken by it, its
    voice kept loaded; Ctrl-C while it waits ends the command (exit 0) and that process with it."""
    (tmp_path / "sources").mkdir()
    source = tmp_path / "sources" / "note.txt"
    source.write_text(HEAD + "The weather is mild today. Nothing else happened.\n", encoding="utf-8")
    log = tmp_path / "stderr.txt"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "publisher", "-v", "publish", "sources", "-o", "out", "--cache-dir", "cache",
             "--no-daisy", "--no-audiobooks", "--watch"],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=ctrl_c_works,
            env=dict(os.environ, SOURCE_DATE_EPOCH="1719532800"),
        )  # fmt: skip
    try:
        text = lambda: log.read_text(encoding="utf-8")  # noqa: E731
        _wait_for(lambda: "watching sources" in text(), "the first publish")
        _wait_for(lambda: _children(proc.pid), "a spare process, waiting for the first edit", 10)
        spare = _children(proc.pid)
        voices: list[set[int]] = []
        for n, wording in enumerate(("Nothing much happened.", "Nothing at all happened.")):
            source.write_text(HEAD + f"The weather is mild today. {wording}\n", encoding="utf-8")
            _wait_for(lambda n=n: text().count("watching sources") == n + 2, f"edit {n + 1}")
            assert wording in _vtt(tmp_path / "out", "note")
            voices.append(_children(proc.pid))
        assert text().count("1 of 1 sentences spoken by the voice loaded ahead") == 2
        assert voices[0] == voices[1] == spare, "the spare started after the first publish spoke both edits"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, text()
        assert "stopped watching" in text() and "interrupted" not in text()
        for pid in voices[0]:
            assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
