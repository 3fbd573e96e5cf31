"""The command line through click's CliRunner: help, exit codes, one-line errors, batches."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from publisher import __version__
from publisher.cli import cli


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"publisher, version {__version__}"


def test_every_command_has_help_with_an_example(runner: CliRunner) -> None:
    assert isinstance(cli, click.Group)
    for name, command in cli.commands.items():
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help and "Example" in command.help, f"{name} has no example in its help"


def test_engines_lists_every_engine(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["engines"])
    assert result.exit_code == 0
    for name in ("piper (default)", "espeak", "gtts", "silent"):
        assert name in result.stdout
    assert "piper (default): Piper neural voices (offline; default) [offline] — ready" in result.stdout
    assert "en_US-joe-medium (default)" in result.stdout


def test_publish_folder_with_silent_engine(runner: CliRunner, workdir: Path, seed: Path) -> None:
    shutil.copy(seed, workdir / "sources")
    result = runner.invoke(cli, ["publish", "--engine", "silent"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("putin-today: 1 chapter, ")
    assert (workdir / "output/putin-today/putin-today.epub").is_file()
    assert (workdir / "output/putin-today/audio/01-putin-today.mp3").is_file()


@pytest.mark.parametrize(
    ("name", "content", "code", "message"),
    [
        ("empty.txt", b"", 4, "is empty"),
        ("bad.md", b"---\ntitle: [x\n---\nText.\n", 4, "malformed YAML front matter"),
    ],
)
def test_bad_source_is_one_line_with_exit_code(
    runner: CliRunner, workdir: Path, name: str, content: bytes, code: int, message: str
) -> None:
    (workdir / "sources" / name).write_bytes(content)
    result = runner.invoke(cli, ["publish", "--engine", "silent", f"sources/{name}"])
    assert result.exit_code == code
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert lines == [f"error: sources/{name}: {lines[0].split(': ', 2)[2]}"]
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not (workdir / "output" / Path(name).stem).exists()


def test_one_bad_source_does_not_stop_the_batch(runner: CliRunner, workdir: Path, seed: Path) -> None:
    shutil.copy(seed, workdir / "sources")
    (workdir / "sources" / "broken.md").write_bytes(b"---\ndate: nonsense\n---\nText.\n")
    result = runner.invoke(cli, ["publish", "--engine", "silent"])
    assert result.exit_code == 4
    assert (workdir / "output/putin-today/putin-today.epub").is_file()
    assert "error: sources/broken.md: date 'nonsense' is not a date" in result.stderr
    assert "1 of 2 sources failed" in result.stderr


def test_failure_keeps_the_previous_good_output(runner: CliRunner, workdir: Path, seed: Path) -> None:
    source = workdir / "sources" / "putin-today.txt"
    shutil.copy(seed, source)
    assert runner.invoke(cli, ["publish", "--engine", "silent"]).exit_code == 0
    epub = workdir / "output/putin-today/putin-today.epub"
    before = epub.read_bytes()
    result = runner.invoke(cli, ["publish", "--engine", "piper", "--voice", "/nonexistent/voice.onnx"])
    assert result.exit_code == 6
    assert "Piper voice file '/nonexistent/voice.onnx' not found" in result.stderr
    assert epub.read_bytes() == before
    assert sorted(p.name for p in (workdir / "output").iterdir()) == [
        ".publisher-catalogue.json", ".publisher-feeds.json", ".publisher-index.json", ".publisher-opds.json",
        ".publisher.lock", "_opds",
        "feed.xml", "index.html", "opds.json", "opds.xml", "opensearch.xml", "putin-today", "search.json",
    ]  # fmt: skip


def test_bad_setting_is_a_config_error(runner: CliRunner, workdir: Path, seed: Path) -> None:
    shutil.copy(seed, workdir / "sources")
    result = runner.invoke(cli, ["publish", "--engine", "silent", "--speed", "9"])
    assert result.exit_code == 5
    assert "speed 9.0 is outside 0.25–4.0" in result.stderr


def test_publisher_toml_is_read(runner: CliRunner, workdir: Path, seed: Path) -> None:
    shutil.copy(seed, workdir / "sources")
    (workdir / "publisher.toml").write_text('[publisher]\nengine = "silent"\nbitrate = 96\n', encoding="utf-8")
    result = runner.invoke(cli, ["publish"])
    assert result.exit_code == 0, result.stderr
    from mutagen.mp3 import MP3

    assert MP3(workdir / "output/putin-today/audio/01-putin-today.mp3").info.bitrate == 96000


def test_unknown_toml_key_is_reported(runner: CliRunner, workdir: Path, seed: Path) -> None:
    shutil.copy(seed, workdir / "sources")
    (workdir / "publisher.toml").write_text('[publisher]\nengin = "silent"\n', encoding="utf-8")
    result = runner.invoke(cli, ["publish"])
    assert result.exit_code == 5
    assert "unknown setting 'engin'" in result.stderr


def test_nothing_to_publish(runner: CliRunner, workdir: Path) -> None:
    result = runner.invoke(cli, ["publish"])
    assert result.exit_code == 9
    assert "nothing to publish" in result.stderr


def test_missing_path(runner: CliRunner, workdir: Path) -> None:
    result = runner.invoke(cli, ["publish", "nope.txt"])
    assert result.exit_code == 4
    assert result.stderr.strip() == "error: nope.txt: no such file or folder"


def test_voices_lists_piper_and_espeak(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["voices"])
    assert result.exit_code == 0
    assert "    en_US-joe-medium (default)" in result.stdout
    espeak = [ln for ln in result.stdout.splitlines() if ln.startswith("espeak: ")]
    assert espeak and int(espeak[0].split()[1]) > 100


def test_front_matter_settings_apply(runner: CliRunner, workdir: Path) -> None:
    (workdir / "sources" / "slow.md").write_text(
        "---\ntitle: Slow\nspeed: 0.5\npause-paragraph: 2.0\n---\n\nOne.\n\nTwo.\n", encoding="utf-8"
    )
    (workdir / "sources" / "fast.md").write_text("---\ntitle: Fast\n---\n\nOne.\n\nTwo.\n", encoding="utf-8")
    assert runner.invoke(cli, ["publish", "--engine", "silent"]).exit_code == 0
    from mutagen.mp3 import MP3

    slow = MP3(workdir / "output/slow/slow.mp3").info.length
    fast = MP3(workdir / "output/fast/fast.mp3").info.length
    assert slow > fast + 1.2  # half speed and a 2 s paragraph pause


def test_bad_front_matter_setting_names_the_source(runner: CliRunner, workdir: Path) -> None:
    (workdir / "sources" / "bad.md").write_text("---\ntitle: Bad\nspeed: 99\n---\n\nText.\n", encoding="utf-8")
    result = runner.invoke(cli, ["publish", "--engine", "silent"])
    assert result.exit_code == 5
    assert "Bad: front matter: speed 99.0 is outside 0.25–4.0" in result.stderr


def test_console_script_exit_codes_and_output_survive_the_quick_exit(workdir: Path, seed: Path) -> None:
    """The real entry point (`python -m publisher`, which ends without the interpreter's
    teardown) keeps click's exit codes and flushes what it printed, to a pipe too."""
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "publisher", *args]
        return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=300, check=False)

    version = run("--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"publisher, version {__version__}")
    assert run("no-such-command").returncode == 2  # click's usage error
    missing = run("publish", "nowhere.txt")
    assert missing.returncode == 4
    assert missing.stderr.strip().splitlines() == ["error: nowhere.txt: no such file or folder"]
    shutil.copy(seed, workdir / "sources")
    published = run("publish", "--engine", "silent", "--cache-dir", "cache")
    assert published.returncode == 0, published.stderr
    assert published.stdout.startswith("putin-today: 1 chapter, ")
    manifest = workdir / "output" / "putin-today" / ".publisher.json"
    assert manifest.is_file() and manifest.read_text(encoding="utf-8").endswith("}")
