"""Recorded narration end to end: `publisher publish SOURCE --narration FOLDER --narrator NAME` with
a recording the test makes (eSpeak NG reading a made-up preamble, then the book, one chapter per
file), validated like any publication; the wrong-text, too-short and unreadable errors; the cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from tests.helpers import NS, Epub
from tests.recordings import speak

from publisher.cli import cli
from publisher.ffmpeg import ffmpeg_exe
from publisher.validate.tools import run_ace, run_epubcheck

EPOCH = "1700000000"
SOURCE = """---
title: The Lighthouse
author: Ann Example
language: en
---

# The Keeper

The lighthouse keeper climbed the stairs every evening. He carried a lamp, a book and a small loaf of bread.

From the top he could see the whole harbour.

# The Winter

The ships came home slowly when the wind was weak. His daughter counted them from the window of the school.

Nobody in the village ever forgot that winter.
"""
READ = [  # what the reader says, file by file (the title page as LibriVox readers say it)
    [
        ("This recording was made for a test, and anyone may copy it.", 1.2),
        ("The Lighthouse, by Ann Example.", 1.0),
        ("The Keeper.", 0.9),
        ("The lighthouse keeper climbed the stairs every evening.", 0.5),
        ("He carried a lamp, a book and a small loaf of bread.", 0.8),
        ("From the top he could see the whole harbour.", 1.0),
    ],
    [
        ("The Winter.", 0.9),
        ("The ships came home slowly when the wind was weak.", 0.5),
        ("His daughter counted them from the window of the school.", 0.8),
        ("Nobody in the village ever forgot that winter.", 1.0),
    ],
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("recorded")
    (root / "lighthouse.md").write_text(SOURCE, encoding="utf-8")
    folder = root / "recording"
    folder.mkdir()
    made = [speak(parts, folder / f"{n} - part.mp3") for n, parts in enumerate(READ, 1)]
    return {"root": root, "source": root / "lighthouse.md", "recording": folder, "made": made}


def _publish(runner: CliRunner, project: dict[str, Any], *extra: str, output: str = "out") -> Any:
    args = ["-v", "publish", str(project["source"]), "-o", str(project["root"] / output),
            "--cache-dir", str(project["root"] / "cache"), *extra]  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        return runner.invoke(cli, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def published(project: dict[str, Any]) -> dict[str, Any]:
    runner = CliRunner(mix_stderr=False)
    done = _publish(runner, project, "--narration", str(project["recording"]), "--narrator", "Ann Reader")
    assert done.exit_code == 0, done.stderr
    folder = project["root"] / "out" / "lighthouse"
    return {"folder": folder, "stdout": done.stdout, "stderr": done.stderr} | project


def test_every_output_a_synthetic_publish_makes(published: dict[str, Any]) -> None:
    folder = published["folder"]
    for name in ("lighthouse.epub", "lighthouse-read-aloud.epub", "lighthouse.mp3", "lighthouse.m4b",
                 "lighthouse.vtt", "lighthouse-daisy.zip", "lighthouse.audiobook", "lighthouse.lpf", "index.html",
                 "audio/01-the-keeper.mp3", "audio/02-the-winter.mp3", "daisy/ncc.html",
                 "alignment.json", "alignment.html"):  # fmt: skip
        assert (folder / name).is_file(), name
    # the text's 8 sentences, all heard; of the title page the publisher adds, the reader said the title and author
    assert "lighthouse/alignment.html: 8 of 8 sentences found" in published["stdout"]
    assert "The title page the publisher adds was not read in it (1 of its 3 sentences" in published["stdout"]
    assert "not in the text" in published["stdout"] and "recording" in published["stdout"]


def test_read_aloud_epub_passes_epubcheck_and_ace(published: dict[str, Any]) -> None:
    path = published["folder"] / "lighthouse-read-aloud.epub"
    report = run_epubcheck(path)
    assert report.ok and not report.messages, "\n".join(report.messages)
    ace = run_ace(path)
    assert ace.ok, "\n".join(ace.messages)
    assert ace.summary == "Ace 1.4.6: 0 violations"


def test_sentences_are_heard_where_the_reader_says_them(published: dict[str, Any]) -> None:
    """The full-length MP3 is the recording, levelled: each cue starts where the reader said it."""
    made = published["made"]
    truth: dict[str, float] = {}
    offset = 0.0
    for recording in made:
        for text, start, _ in recording.times:
            truth[text.rstrip(".")] = offset + start
        offset += recording.duration
    manifest = json.loads((published["folder"] / ".publisher.json").read_text(encoding="utf-8"))
    assert abs(manifest["full"]["duration"] - offset) < 0.3  # nothing was added: no spoken credits
    body = [c for c in manifest["cues"] if c[0].startswith("c0")]
    assert len(body) == 8
    for sentence_id, text, start, end in body:
        said = truth[text.rstrip(".")]
        assert abs(start - said) < 0.25, (sentence_id, text, start, said)
        assert end > start
    chapter_two = json.loads((published["folder"] / "audio" / "02-the-winter.chapters.json").read_text())
    assert chapter_two  # the chapter file exists and its first chapter mark is its heading
    assert abs(manifest["audio"][1]["duration"] - made[1].duration) < 0.6  # cut at the file boundary


def test_the_narrator_is_credited_and_the_narration_is_human(published: dict[str, Any]) -> None:
    folder = published["folder"]
    epub = Epub(folder / "lighthouse-read-aloud.epub")
    contributors = epub.opf.xpath("//dc:contributor", namespaces=NS)
    assert [c.text for c in contributors] == ["Ann Reader"]
    role = epub.opf.xpath(f"//opf:meta[@refines='#{contributors[0].get('id')}'][@property='role']", namespaces=NS)
    assert role[0].text == "nrt" and role[0].get("scheme") == "marc:relators"
    assert epub.meta("media:narrator") == ["Ann Reader"]
    summary = epub.meta("schema:accessibilitySummary")[0]
    assert "human narrator" in summary and "synthetic" not in summary
    title_page = b"".join(epub.zip.read(n) for n in epub.zip.namelist() if "title" in n and n.endswith(".xhtml"))
    assert b"Narrated by Ann Reader" in title_page
    assert str(ID3(folder / "audio" / "01-the-keeper.mp3")["TCOM"]) == "Ann Reader"
    assert str(ID3(folder / "lighthouse.mp3")["TCOM"]) == "Ann Reader"
    assert MP4(folder / "lighthouse.m4b").tags["\xa9wrt"] == ["Ann Reader"]
    with zipfile.ZipFile(folder / "lighthouse.audiobook") as package:
        assert json.loads(package.read("manifest.json"))["metadata"]["narrator"] == "Ann Reader"
    with zipfile.ZipFile(folder / "lighthouse.lpf") as package:
        assert json.loads(package.read("publication.json"))["readBy"] == "Ann Reader"
    feed = (folder.parent / "feed.xml").read_text(encoding="utf-8")
    assert "Ann Reader" in feed and "synthetic" not in feed
    everything = b"".join(p.read_bytes() for p in folder.rglob("*") if p.suffix in (".html", ".xhtml", ".opf", ".json"))
    assert b"synthetic voice" not in everything


def test_a_rerun_hears_nothing_again_and_gives_the_same_bytes(published: dict[str, Any]) -> None:
    folder = published["folder"]
    assert published["stderr"].count("transcribing") == 2  # the first run heard both files
    runner = CliRunner(mix_stderr=False)
    again = _publish(runner, published, "--narration", str(published["recording"]), "--narrator", "Ann Reader",
                     output="again")  # fmt: skip
    assert again.exit_code == 0, again.stderr
    assert again.stderr.count("transcript from the cache") == 2 and "transcribing" not in again.stderr
    names = ("lighthouse-read-aloud.epub", "lighthouse.mp3", "lighthouse.m4b", "alignment.json", "alignment.html")
    for name in names:
        assert (published["root"] / "again" / "lighthouse" / name).read_bytes() == (folder / name).read_bytes(), name


def test_a_recording_of_another_text_is_refused_and_earlier_outputs_kept(
    published: dict[str, Any], tmp_path: Path
) -> None:
    other = tmp_path / "other.mp3"
    speak([("Whereas recognition of the inherent dignity of all members of the human family.", 0.5),
           ("Everyone has the right to life, liberty and security of person.", 0.5),
           ("No one shall be held in slavery or servitude, in any of its forms.", 0.5),
           ("All are equal before the law and are entitled to equal protection.", 0.5)], other)  # fmt: skip
    folder = published["folder"]
    before = sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir())
    runner = CliRunner(mix_stderr=False)
    done = _publish(runner, published, "--narration", str(other), "--force")
    assert done.exit_code == 10, done.stderr
    line = [x for x in done.stderr.splitlines() if x.startswith("error:")]
    assert len(line) == 1
    assert "other.mp3 does not match lighthouse.md" in line[0] and "% of its sentences" in line[0]
    assert sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir()) == before


def test_a_far_too_short_or_unreadable_recording_is_one_line(published: dict[str, Any], tmp_path: Path) -> None:
    short = tmp_path / "short.wav"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", str(short)], check=True)
    runner = CliRunner(mix_stderr=False)
    long_source = published["root"] / "long.md"
    long_source.write_text(SOURCE + "\n" + " ".join(["Another sentence of the long book."] * 40) + "\n")
    args = ["publish", str(long_source), "-o", str(tmp_path / "out"), "--narration", str(short)]
    done = runner.invoke(cli, args, catch_exceptions=False)
    assert done.exit_code == 10 and "far too short for long.md" in done.stderr, done.stderr
    assert not (tmp_path / "out" / "long").exists()
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"\xff\xfb" + os.urandom(3000))
    done = runner.invoke(cli, ["publish", str(published["source"]), "-o", str(tmp_path / "out2"),
                               "--narration", str(broken)], catch_exceptions=False)  # fmt: skip
    assert done.exit_code == 4, done.stderr
    errors = [x for x in done.stderr.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and "broken.mp3" in errors[0]


def test_front_matter_names_the_recording_beside_the_source(published: dict[str, Any], tmp_path: Path) -> None:
    shutil.copytree(published["recording"], tmp_path / "take")
    source = tmp_path / "lighthouse.md"
    source.write_text(SOURCE.replace("language: en\n", "language: en\nnarration: take\nnarrator: Ann Reader\n"))
    runner = CliRunner(mix_stderr=False)
    args = ["publish", str(source), "-o", str(tmp_path / "out"), "--cache-dir", str(published["root"] / "cache")]
    done = runner.invoke(cli, args, catch_exceptions=False)
    assert done.exit_code == 0, done.stderr
    data = json.loads((tmp_path / "out" / "lighthouse" / "alignment.json").read_text(encoding="utf-8"))
    assert data["files"][0]["name"] == "1 - part.mp3" and data["sentences_aligned"] == 8
    assert Epub(tmp_path / "out" / "lighthouse" / "lighthouse.epub").dc("contributor") == ["Ann Reader"]
    again = runner.invoke(cli, args, catch_exceptions=False)  # nothing changed: left as it is
    assert again.exit_code == 0 and "lighthouse: unchanged since the last publish" in again.stdout
    (tmp_path / "take" / "2 - part.mp3").write_bytes((tmp_path / "take" / "1 - part.mp3").read_bytes())
    retake = runner.invoke(cli, args, catch_exceptions=False)  # a new take of a file: published again
    assert "unchanged" not in retake.stdout


def test_an_epub_source_is_enhanced_with_the_recording(published: dict[str, Any], tmp_path: Path) -> None:
    """The text EPUB published above, used as a source: its enhanced copy carries the reading."""
    source = tmp_path / "lighthouse-book.epub"
    shutil.copy(published["folder"] / "lighthouse.epub", source)
    runner = CliRunner(mix_stderr=False)
    args = ["publish", str(source), "-o", str(tmp_path / "out"), "--cache-dir", str(published["root"] / "cache"),
            "--narration", str(published["recording"]), "--narrator", "Ann Reader"]  # fmt: skip
    done = runner.invoke(cli, args, catch_exceptions=False)
    assert done.exit_code == 0, done.stderr
    folder = tmp_path / "out" / "lighthouse-book"
    enhanced = next(folder.glob("*-enhanced.epub"))
    epub = Epub(enhanced)
    overlays = [i for i in epub.manifest().values() if i.get("media-type") == "application/smil+xml"]
    assert overlays and epub.meta("media:narrator") == ["Ann Reader"]
    assert "Ann Reader" in epub.dc("contributor")
    report = run_epubcheck(enhanced)
    assert report.ok, "\n".join(report.messages)
    data = json.loads((folder / "alignment.json").read_text(encoding="utf-8"))
    assert data["sentences_aligned"] >= data["sentences"] - 2


def test_the_library_api_takes_the_recording_in_its_settings(published: dict[str, Any], tmp_path: Path) -> None:
    from publisher import api

    settings = api.Settings().override(
        narration=[str(published["recording"])], narrator="Ann Reader", output=str(tmp_path / "out"),
        cache=str(published["root"] / "cache"),
    )  # fmt: skip
    events: list[api.Progress] = []
    batch = api.publish([published["source"]], settings, progress=events.append)
    (result,) = batch.results
    assert result.ok and result.synthesized == 0, result.error
    assert result.folder is not None and (result.folder / "alignment.json").is_file()
    assert Epub(result.epub).dc("contributor") == ["Ann Reader"]
    # the alignment is a stage of its own, counted in seconds of the recording heard, before rendering
    heard = [(e.done, e.total) for e in events if e.stage == "align"]
    length = sum(made.duration for made in published["made"])
    assert heard[0][0] == 0 and heard[-1][0] == heard[-1][1] and abs(heard[-1][1] - length) <= 1, (heard, length)
    stages = [e.stage for e in events if e.source is not None]
    assert stages.index("align") < stages.index("render")
    assert "Aligning the recording of lighthouse" in published["stderr"]
    assert "Narrating" not in published["stderr"], "no voice speaks a recorded source: no narration bar"


def test_on_a_cluster_the_pieces_are_heard_as_tasks(published: dict[str, Any], tmp_path: Path) -> None:
    """A LocalCluster of two processes renders the publication; its recording's pieces are heard by
    tasks of their own (a fresh transcript cache: nothing comes from the local run's)."""
    runner = CliRunner(mix_stderr=False)
    args = ["publish", str(published["source"]), "-o", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"),
            "--cluster", "local:2", "--narration", str(published["recording"]), "--narrator", "Ann Reader"]  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        done = runner.invoke(cli, args, catch_exceptions=False)
    assert done.exit_code == 0, done.stderr
    here = json.loads((published["folder"] / "alignment.json").read_text(encoding="utf-8"))
    there = json.loads((tmp_path / "out" / "lighthouse" / "alignment.json").read_text(encoding="utf-8"))
    assert [(s["id"], s["status"]) for s in there["timeline"]] == [(s["id"], s["status"]) for s in here["timeline"]]
    for a, b in zip(here["timeline"], there["timeline"], strict=True):
        assert abs(a["start"] - b["start"]) < 0.05
    heard = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "cache" / "align").rglob("*.json")]
    assert [h["heard"] for h in heard] == ["cluster", "cluster"]  # both files, piece by piece, as tasks


def test_a_short_text_read_without_the_title_page_is_published_whole(tmp_path: Path) -> None:
    """A one-sentence note read by a person who did not read the title page the publisher adds
    (title, author, "Narrated by …"): those words are not the reader's, so they do not count
    against the recording (it was refused at 1 of 3 sentences, 33 %); the report lists them apart."""
    (tmp_path / "note.txt").write_text(
        "A Short Note\nAnna Writer\n\nThe river rose in the night, and by morning the road was gone.\n",
        encoding="utf-8",
    )
    speak([("The river rose in the night, and by morning the road was gone.", 0.6)], tmp_path / "note.mp3")
    runner = CliRunner(mix_stderr=False)
    args = ["publish", str(tmp_path / "note.txt"), "--narration", str(tmp_path / "note.mp3"),
            "-o", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    done = runner.invoke(cli, args, catch_exceptions=False)
    assert done.exit_code == 0, done.stderr
    folder = tmp_path / "out" / "note"
    report = json.loads((folder / "alignment.json").read_text(encoding="utf-8"))
    assert (report["coverage"], report["sentences_aligned"], report["sentences"]) == (1.0, 1, 1)
    assert report["title_page"] == {"sentences": 2, "sentences_aligned": 0}
    assert [s["text"] for s in report["timeline"] if s.get("title_page")] == [
        "A Short Note Anna Writer", "Narrated by a human narrator"
    ]  # fmt: skip
    assert "1 of 1 sentences found" in done.stdout + done.stderr
    assert "The title page the publisher adds was not read in it (2 of its 2 sentences" in done.stdout + done.stderr
    page = (folder / "alignment.html").read_text(encoding="utf-8")
    assert "The title page the publisher adds, not read (times interpolated) (2)" in page
    assert "Sentences not heard (times interpolated) (0)" in page
