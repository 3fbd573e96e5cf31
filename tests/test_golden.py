"""Golden files for the seed: a refactor that changes an output shows up here as a diff.

The seed is published with the silent engine (its timings follow from the text alone, the same on
every machine) under SOURCE_DATE_EPOCH; version strings are normalised. After an intended change,
regenerate with `PUBLISHER_REGEN_GOLDEN=1 make test PYTEST_ARGS=tests/test_golden.py` and review
the diff of tests/golden/ like any other change.
"""

from __future__ import annotations

import difflib
import os
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from tests.conftest import SEED
from tests.helpers import publish

from publisher import __version__

GOLDEN = Path(__file__).resolve().parent / "golden" / "seed"
EPOCH = "1700000000"


def _normalise(text: str) -> str:
    text = text.replace(f"publisher {__version__}", "publisher VERSION")
    return re.sub(r'content="Ebook-lib [^"]+"', 'content="Ebook-lib VERSION"', text)


@pytest.fixture(scope="module")
def seed_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    output = tmp_path_factory.mktemp("golden") / "output"
    result = publish(SEED, output, epoch=EPOCH)
    from publisher.pipeline.publish import write_catalogue
    from publisher.settings import Settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        write_catalogue(output, Settings(engine="silent", output=output))
    with zipfile.ZipFile(result.folder / "putin-today-read-aloud.epub") as epub:
        members = {
            "content.opf": epub.read("EPUB/content.opf"),
            "nav.xhtml": epub.read("EPUB/text/nav.xhtml"),
            "c01.xhtml": epub.read("EPUB/text/c01.xhtml"),
            "c01.smil": epub.read("EPUB/smil/c01.smil"),
        }
    feed = etree.parse(str(result.folder / "feed.xml"))
    item = feed.find("channel/item")
    assert item is not None
    members["feed-item.xml"] = etree.tostring(item, encoding="utf-8")
    members["putin-today.vtt"] = (result.folder / "putin-today.vtt").read_bytes()
    return {name: _normalise(data.decode("utf-8")) for name, data in members.items()}


@pytest.mark.parametrize(
    "name", ["content.opf", "nav.xhtml", "c01.xhtml", "c01.smil", "putin-today.vtt", "feed-item.xml"]
)
def test_seed_output_matches_golden(seed_outputs: dict[str, str], name: str) -> None:
    golden = GOLDEN / name
    actual = seed_outputs[name]
    if os.environ.get("PUBLISHER_REGEN_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    expected = golden.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), str(golden), "now"))
    assert actual == expected, f"{name} differs from its golden file:\n{diff[:4000]}"
