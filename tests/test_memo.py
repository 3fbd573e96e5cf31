"""The cache's notes (pipeline/memo.py): a rerun that changed nothing knows an unchanged source
without reading it and leaves the catalogue as it is; anything that changed is published again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from publisher import api
from publisher.settings import Settings
from publisher.validate.catalogue import check_catalogue

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "sources").mkdir()
    shutil.copy(FIXTURES / "book.md", tmp_path / "sources")
    shutil.copy(FIXTURES / "engine.png", tmp_path / "sources")
    (tmp_path / "lexicon.txt").write_text("Babbage: Babbidge\n", encoding="utf-8")
    return tmp_path


def publish(project: Path, **values: Any) -> api.SourceResult:
    settings = Settings(engine="silent", output=project / "output", cache=project / "cache")
    settings = settings.override(lexicon=project / "lexicon.txt", **values)
    (result,) = api.publish([project / "sources" / "book.md"], settings).results
    assert result.error is None, result.error
    return result


def catalogue_times(output: Path) -> dict[str, int]:
    return {str(p.relative_to(output)): p.stat().st_mtime_ns for p in output.glob("*.xml")}


def test_an_unchanged_source_is_known_from_its_note_and_every_change_publishes_again(project: Path) -> None:
    assert publish(project).state == "published"
    (note,) = (project / "cache" / "sources").glob("*.json")
    recorded = json.loads(note.read_text(encoding="utf-8"))
    manifest = json.loads((project / "output" / "book" / ".publisher.json").read_text(encoding="utf-8"))
    assert recorded["fingerprint"] == manifest["fingerprint"]
    assert {Path(name).name for name, _ in recorded["extras"]} == {"engine.png", "lexicon.txt"}
    assert publish(project).state == "unchanged"

    image = project / "sources" / "engine.png"  # the image, not the source, changed
    image.write_bytes(image.read_bytes() + b"\0")
    assert publish(project).state == "published"
    assert publish(project).state == "unchanged"

    with (project / "lexicon.txt").open("a", encoding="utf-8") as lexicon:
        lexicon.write("Lovelace: Loveless\n")
    assert publish(project).state == "published"

    assert publish(project, speed=1.1).state == "published"  # a setting of the caller's
    assert publish(project, speed=1.1).state == "unchanged"

    (project / "output" / "book" / "book.epub").unlink()  # an output gone: the manifest's files say so
    assert publish(project, speed=1.1).state == "published"

    note.write_text(note.read_text(encoding="utf-8").replace(recorded["fingerprint"][:12], "0" * 12))
    assert publish(project, speed=1.1).state == "unchanged"  # a wrong note: read as usual, still unchanged
    assert publish(project, speed=1.1, force=True).state == "published"


def test_an_unchanged_catalogue_is_left_alone_and_written_again_when_anything_differs(project: Path) -> None:
    publish(project)
    output = project / "output"
    before = catalogue_times(output)
    assert "feed.xml" in before and "opds.xml" in before
    publish(project)
    assert catalogue_times(output) == before

    (output / "feed.xml").unlink()  # a file it wrote is gone
    publish(project)
    assert (output / "feed.xml").is_file()

    publish(project, base_url="https://books.example.org/")  # a catalogue setting
    assert "https://books.example.org/" in (output / "feed.xml").read_text(encoding="utf-8")
    assert "https://books.example.org/" in (output / "opds.xml").read_text(encoding="utf-8")

    report = check_catalogue(output)  # its record matches the manifests
    assert report.ok, report


def test_without_the_cache_nothing_is_noted(project: Path) -> None:
    publish(project, use_cache=False)
    assert publish(project, use_cache=False).state == "unchanged"
    assert not (project / "cache" / "sources").exists() and not (project / "cache" / "catalogue").exists()


def test_a_prepared_voice_model_is_vouched_for_by_identity_only_while_its_files_are_untouched(tmp_path: Path) -> None:
    from publisher.speech.engines import determinism
    from publisher.speech.engines.piper import default_voice

    model = default_voice()
    target = determinism.prepared_model(model, tmp_path)
    record = target.with_name(target.name + ".sha256")
    tensors = target.with_name(target.name + ".data")
    seen = json.loads(record.read_text(encoding="ascii"))["seen"]  # just made: these very files
    assert [s[1] for s in seen] == [target.stat().st_ino, tensors.stat().st_ino]
    assert determinism.prepared_model(model, tmp_path) == target  # found by identity, nothing rewritten
    assert json.loads(record.read_text(encoding="ascii"))["seen"] == seen

    size = tensors.stat().st_size
    tensors.write_bytes(bytes(size))  # damaged in place: same inode and size, new times
    assert determinism.prepared_model(model, tmp_path) == target
    assert tensors.stat().st_size == size
    with tensors.open("rb") as handle:
        assert handle.read(1 << 20) != bytes(1 << 20)  # made again, not trusted by its old note
