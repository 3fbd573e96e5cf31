"""Shared fixtures: paths to the seed and the small fixtures, a CLI runner, and the browser (Chromium)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by playwright. Missing tools fail the browser tests (never skip
    them): `make test` installs all of them."""
    try:
        from playwright import sync_api
    except ImportError:
        pytest.fail("playwright is not installed: run `make test`, which installs the test extra")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it")
    args = ["--autoplay-policy=no-user-gesture-required", "--mute-audio"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=args)
        yield browser
        browser.close()
