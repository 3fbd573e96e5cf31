"""Shared fixtures: paths to the seed and the small fixtures, and a CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings as hypothesis_settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED = ROOT / "sources" / "putin-today.txt"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def seed() -> Path:
    return SEED


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(mix_stderr=False)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (no publisher.toml) with a sources/ folder."""
    (tmp_path / "sources").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def copy_fixture(name: str, dest: Path) -> Path:
    """Copy a fixture (and the image it uses) into `dest`."""
    target = dest / name
    shutil.copy(FIXTURES / name, target)
    if name == "book.md":
        shutil.copy(FIXTURES / "engine.png", dest / "engine.png")
    return target


# Hypothesis checks correctness, not speed: no per-example deadline (a loaded machine is not a bug).
hypothesis_settings.register_profile("publisher", deadline=None)
hypothesis_settings.load_profile("publisher")
