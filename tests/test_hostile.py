"""Reliability: hostile sources, concurrent runs, killed runs, reproducible bytes, and property-based
tests of the readers (no word lost or duplicated; every XML output well-formed for any text)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree, html
from mutagen.id3 import ID3
from tests.conftest import SEED

from publisher.formats.book.epub import write_epub
from publisher.model.publication import Metadata
from publisher.prepare import prepare
from publisher.prepare.lexicon import Lexicon
from publisher.readers import ReadOptions, read_source
from publisher.settings import Settings
from publisher.validate.tools import run_epubcheck

SCRIPT = "<script>alert(1)</script>"
HOSTILE_TITLE = f"{SCRIPT} & ]]> \"quotes\" 'apostrophes' <!-- --> &amp;"

#: name → bytes; each must end in a valid publication or exactly one clear error line
HOSTILE: dict[str, bytes] = {
    "empty.txt": b"",
    "whitespace.txt": b"  \n\n\t \n",
    "binary.txt": bytes(range(256)) * 20,
    "nul.html": b"<html><body><p>a\x00b</p></body></html>",
    "bom.txt": "\ufeffBOM title\n\nBy Someone\n\nA paragraph after a byte order mark.\n".encode(),
    "utf16.txt": "UTF-16 title\n\nSome text in UTF-16. Café.\n".encode("utf-16"),
    "latin1.txt": "Latin-1 title\n\nCaf\xe9 cr\xe8me, na\xefve.\n".encode("latin-1"),
    "control.txt": b"Control\x07 title\x1b[31m\n\nText with \x0bcontrol\x0c characters\x1b[0m and a bell\x07.\n",
    "emoji.txt": "Emoji 🎉 title\n\nParty time 🎉🎉! Family: 👨‍👩‍👧. Flags 🇺🇦.\n".encode(),
    "rtl.md": "---\ntitle: مرحبا بالعالم\nlanguage: ar\n---\n\nهذه جملة عربية. وهذه جملة أخرى.\n".encode(),
    "hebrew.md": "---\ntitle: שלום עולם\nlanguage: he\n---\n\nזה משפט בעברית.\n".encode(),
    "markup.md": (
        "---\n"
        f"title: {json.dumps(HOSTILE_TITLE)}\n"
        f"author: {json.dumps('O&apos;Brien & <Sons> ]]>')}\n"
        f"description: {json.dumps('<img src=x onerror=alert(1)> & ]]>')}\n"
        f"subjects: [{json.dumps('a&b')}, {json.dumps('<c>')}]\n"
        f"publisher: {json.dumps('P & <q> ]]>')}\n"
        "---\n\n"
        "# Chapter <i>one</i> & ]]> -->\n\n"
        f"Text with &amp; entities &lt;script&gt; and {SCRIPT} inline. Then ]]> and --> too.\n\n"
        "# Chapter \"two\" & 'three'\n\nMore text -- with dashes.\n"
    ).encode(),
    "script.html": (
        f"<html><head><title>{HOSTILE_TITLE.replace('&', '&amp;').replace('<', '&lt;')}</title>"
        f"<script>alert(1)</script><style>p {{color: red}}</style></head>"
        "<body><h1>Heading &amp; more</h1><p onclick='alert(1)'>Para <b>bold</b> ]]&gt;.</p>"
        "<p><a href='javascript:alert(1)'>link</a> text.</p></body></html>"
    ).encode(),
    "traversal.md": b"---\ntitle: ../../../../etc/passwd\n---\n\nEscaping text.\n",
    "absolute.md": b"---\ntitle: /etc/passwd\n---\n\nAbsolute text.\n",
    "cover-outside.md": b"---\ntitle: Cover escape\ncover: ../../../../etc/hostname\n---\n\nCover text.\n",
    "cover-absolute.md": b"---\ntitle: Cover absolute\ncover: /etc/passwd\n---\n\nCover text.\n",
    "image-outside.md": b"---\ntitle: Image escape\n---\n\n![secret](../../../../etc/passwd)\n\nText.\n",
    "CON.txt": b"Reserved name\n\nWindows cannot have a folder called CON.\n",
    ("x" * 200 + ".txt"): b"A very long file name\n\nText of a long-named file.\n",
    "malformed.md": b'---\ntitle: [unclosed\nauthor: "x\n---\n\nBody.\n',
    "unclosed.md": b"---\ntitle: No close\n\nBody.\n",
    "notmapping.md": b"---\n- a\n- b\n---\n\nBody.\n",
    "yamlbomb.md": (  # "billion laughs": 9 levels of 9 aliases (387 million strings if expanded)
        "---\na0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
        + "title: Bomb\n---\n\nBody.\n"
    ).encode(),
    "nolang.md": b"---\ntitle: No language\nlanguage:\n---\n\nPlain text.\n",
    "badlang.md": b"---\ntitle: Bad language\nlanguage: zz\n---\n\nPlain text.\n",
    "wronglang.md": b"---\ntitle: Wrong language\nlanguage: english please\n---\n\nPlain text.\n",
    "baddate.md": b"---\ntitle: Bad date\ndate: not a date\n---\n\nPlain text.\n",
    "listtitle.md": b"---\ntitle: [1, 2]\nauthor: {a: b}\n---\n\nPlain text.\n",
    "onlyfront.md": b"---\ntitle: Only front matter\n---\n",
    "headings.md": b"# One\n\n# Two\n",
    "longline.txt": b"Long line\n\n" + b"word " * 20_000 + b"\n",
    "longtitle.txt": b"T" * 2000 + b"\n\nBody.\n",
    "deeper.html": b"<html><body>" + b"<div>" * 1500 + b"<p>Deep text.</p>" + b"</div>" * 1500 + b"</body></html>",
    "deep.html": b"<html><body>" + b"<div>" * 3000 + b"<p>Deep text.</p>" + b"</div>" * 3000 + b"</body></html>",
    "entities.html": (
        b"<html><body><h1>&lt;b&gt;Entity&lt;/b&gt; &amp;amp;</h1><p>&#0; &#xD800; &#65; &bogus; ok.</p></body></html>"
    ),
}


def snapshot(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime for p in root.rglob("*") if p.is_file()}


def cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publisher", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str], dict]:
    root = tmp_path_factory.mktemp("hostile")
    project = root / "project"
    (project / "sources").mkdir(parents=True)
    for name, data in HOSTILE.items():
        (project / "sources" / name).write_bytes(data)
    before = snapshot(root)
    result = cli(project, "publish", "sources", "--engine", "silent", "--cache-dir", "cache")
    after = snapshot(root)
    return project, result, {"before": before, "after": after, "root": root}


def test_no_tracebacks_and_one_clear_line_per_failure(hostile_run: tuple) -> None:
    project, result, _ = hostile_run
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 9  # a batch with failures
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    failed = {re.match(r"error: sources/([^:]+):", line).group(1) for line in errors}  # type: ignore[union-attr]
    assert len(failed) == len(errors), "one line per failed source"
    published = {p.name for p in (project / "output").iterdir() if (p / ".publisher.json").is_file()}
    assert len(published) + len(failed) == len(HOSTILE), (sorted(published), sorted(failed))
    expected_failures = {
        "empty.txt", "whitespace.txt", "binary.txt", "nul.html", "cover-outside.md", "cover-absolute.md",
        "malformed.md", "unclosed.md", "notmapping.md", "badlang.md", "wronglang.md", "baddate.md",
        "onlyfront.md", "longline.txt", "longtitle.txt", "deep.html", "deeper.html",
    }  # fmt: skip
    assert failed == expected_failures
    messages = "\n".join(errors)
    for fragment in ("is empty", "binary", "outside the source's folder", "malformed YAML", "no closing '---'",
                     "not a known language code", "not a BCP 47 tag", "is not a date", "no text to publish",
                     "the limit is 50,000 per paragraph", "the limit is 500", "nested too deeply"):  # fmt: skip
        assert fragment in messages


def test_nothing_written_outside_the_output_and_cache(hostile_run: tuple) -> None:
    _, _, snaps = hostile_run
    new = set(snaps["after"]) - set(snaps["before"])
    outside = [p for p in new if not p.startswith(("project/output/", "project/cache/"))]
    assert outside == []
    assert not Path("/etc/passwd.epub").exists()


def test_no_partial_outputs_and_safe_names(hostile_run: tuple) -> None:
    project, _, _ = hostile_run
    output = project / "output"
    assert not list(output.glob(".*.tmp-*"))
    for folder in (p for p in output.iterdir() if p.is_dir() and p.name != "_opds"):  # _opds: the OPDS facets
        manifest = json.loads((folder / ".publisher.json").read_text(encoding="utf-8"))
        for name, size in manifest["files"].items():
            assert (folder / name).stat().st_size == size
        assert re.fullmatch(r"[a-z0-9-]{1,60}", folder.name)
        for file in folder.rglob("*"):
            assert re.fullmatch(r"[A-Za-z0-9._-]+", file.name), file
    assert (output / "con-text").is_dir()
    assert (output / "traversal" / "traversal.epub").is_file()


def _xml_members(epub: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(epub) as zf:
        return [(n, zf.read(n)) for n in zf.namelist() if n.endswith((".xhtml", ".opf", ".ncx", ".smil", ".xml"))]


def test_every_output_is_well_formed_and_markup_stays_text(hostile_run: tuple) -> None:
    project, _, _ = hostile_run
    output = project / "output"
    checked = 0
    for file in sorted(output.rglob("*")):
        if file.suffix == ".epub":
            for name, data in _xml_members(file):
                doc = etree.fromstring(data)
                checked += 1
                assert not doc.xpath("//*[local-name()='script']"), (file, name)
                assert not doc.xpath("//@*[starts-with(name(), 'on')]"), (file, name)
        elif file.suffix in (".xml", ".smil", ".opf", ".ncx"):
            etree.parse(str(file))
            checked += 1
        elif file.suffix == ".html" and file.parent.name == "daisy":
            etree.parse(str(file))  # XHTML 1.0
            checked += 1
        elif file.suffix == ".html":
            page = html.parse(str(file)).getroot()
            checked += 1
            for script in page.iter("script"):
                assert "alert(1)" not in (script.text or "") or script.get("type") == "application/json", file
        elif file.suffix == ".json":
            json.loads(file.read_text(encoding="utf-8"))
            checked += 1
    assert checked > 100
    epub = output / "markup" / "markup.epub"
    with zipfile.ZipFile(epub) as zf:
        opf = etree.fromstring(zf.read(next(n for n in zf.namelist() if n.endswith(".opf"))))
    titles = opf.xpath("//*[local-name()='title']/text()")
    assert titles == [HOSTILE_TITLE]
    assert ID3(output / "markup" / "markup.mp3")["TIT2"].text == [HOSTILE_TITLE]
    feed = etree.parse(str(output / "markup" / "feed.xml"))
    assert feed.findtext("channel/title") == HOSTILE_TITLE


def test_right_to_left_sources_say_so(hostile_run: tuple) -> None:
    project, _, _ = hostile_run
    with zipfile.ZipFile(project / "output" / "rtl" / "rtl.epub") as zf:
        opf = etree.fromstring(zf.read(next(n for n in zf.namelist() if n.endswith(".opf"))))
        chapter = next(n for n in zf.namelist() if n.endswith("c01.xhtml"))
        doc = etree.fromstring(zf.read(chapter))
    assert opf.xpath("//*[local-name()='spine']/@page-progression-direction") == ["rtl"]
    assert doc.get("dir") == "rtl" and doc.get("{http://www.w3.org/XML/1998/namespace}lang") == "ar"
    page = html.parse(str(project / "output" / "rtl" / "index.html")).getroot()
    assert page.get("dir") == "rtl"


def test_a_second_run_on_the_same_output_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "a.txt").write_text("A\n\nText.\n", encoding="utf-8")
    (tmp_path / "output").mkdir()
    with open(tmp_path / "output" / ".publisher.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running publisher holds it
        result = cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache")
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        "error: another publisher run is writing to output; wait for it to finish"
    ]
    assert not (tmp_path / "output" / "a").exists()
    assert cli(tmp_path, "publish", "--engine", "silent", "--cache-dir", "cache").returncode == 0


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".publisher.lock"
    }


def test_a_killed_run_leaves_nothing_behind_and_the_next_run_matches_a_clean_one(tmp_path: Path) -> None:
    env = dict(os.environ, SOURCE_DATE_EPOCH="1719532800")
    for name in ("killed", "clean"):
        (tmp_path / name / "sources").mkdir(parents=True)
        (tmp_path / name / "sources" / SEED.name).write_bytes(SEED.read_bytes())
    killed = tmp_path / "killed"
    args = [sys.executable, "-m", "publisher", "publish", "--engine", "espeak", "--cache-dir", "cache", "--jobs", "1"]
    proc = subprocess.Popen(args, cwd=killed, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list((killed / "output").glob(".putin-today.tmp-*/putin-today/*")):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)  # no chance to clean up
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "output" / "putin-today").exists()
    assert list((killed / "output").glob(".putin-today.tmp-*")), "the kill left a staging folder"
    resumed = cli(killed, *args[3:], env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert not list((killed / "output").glob(".*tmp-*")), "the next run removed the leftovers"
    clean = cli(tmp_path / "clean", *args[3:], env=env)
    assert clean.returncode == 0, clean.stderr
    assert digests(killed / "output") == digests(tmp_path / "clean" / "output")


def test_same_source_date_epoch_gives_byte_identical_files(tmp_path: Path) -> None:
    """EPUBs, MP3s, M4B, DAISY, audiobook packages, pages and feeds: the same bytes, run after run."""
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    runs = []
    for name in ("one", "two"):
        (tmp_path / name / "sources").mkdir(parents=True)
        (tmp_path / name / "sources" / SEED.name).write_bytes(SEED.read_bytes())
        result = cli(tmp_path / name, "publish", "--engine", "espeak", "--cache-dir", "cache", env=env)
        assert result.returncode == 0, result.stderr
        runs.append(digests(tmp_path / name / "output"))
    assert runs[0] == runs[1]
    kinds = {Path(name).suffix for name in runs[0]}
    assert {".epub", ".mp3", ".m4b", ".zip", ".audiobook", ".lpf", ".html", ".xml", ".vtt", ".smil"} <= kinds


# --- property-based tests of the readers ------------------------------------------------------

WORD = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éßøΩжحא", min_size=1, max_size=12
)
PUNCT = st.sampled_from(["", "", "", ",", ".", ";", ":", "!", "?", "'s"])
SENTENCE = st.lists(st.tuples(WORD, PUNCT), min_size=1, max_size=15).map(
    lambda ws: " ".join(w + p for w, p in ws).rstrip(",;:") + "."
)
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=5).map(" ".join)
PARAGRAPHS = st.lists(PARAGRAPH, min_size=1, max_size=6)


def _words(text: str) -> list[str]:
    return text.split()


def _read(path: Path) -> list[str]:
    pub = read_source(path, ReadOptions(Metadata(title="", language="en")))
    return [w for c in pub.chapters for b in c.blocks if b.kind != "heading" for w in _words(b.text)]


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _as_txt(paragraphs: list[str]) -> str:
    return "A title\n\n" + "\n\n".join(paragraphs) + "\n"


def _as_markdown(paragraphs: list[str]) -> str:
    # typographer off: ".." → "…" and "--" → "–" are typography, not words lost (tests/test_gfm.py checks them)
    return "---\ntitle: T\ntypographer: false\n---\n\n" + "\n\n".join(paragraphs) + "\n"


def _as_html(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><head><title>T</title></head><body>{body}</body></html>"


@pytest.mark.parametrize(("suffix", "render"), [(".txt", _as_txt), (".md", _as_markdown), (".html", _as_html)])
@FAST
@given(paragraphs=PARAGRAPHS)
def test_reader_loses_and_duplicates_no_word(
    tmp_path: Path, suffix: str, render: Callable[[list[str]], str], paragraphs: list[str]
) -> None:
    if suffix == ".md":  # "3." or "3)" opening a paragraph is Markdown syntax (an ordered list), not words
        paragraphs = [f"Text {p}" if re.match(r"\d+[.)]", p) else p for p in paragraphs]
    source = tmp_path / f"prop{suffix}"
    source.write_text(render(paragraphs), encoding="utf-8")
    assert _read(source) == [w for p in paragraphs for w in _words(p)]


ANY_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), min_size=1, max_size=80
).filter(lambda t: t.strip())


def _epub_from(tmp_path: Path, title: str, body: str) -> Path:
    source = tmp_path / "any.md"
    source.write_text(
        f"---\ntitle: {json.dumps(title)}\nauthor: {json.dumps(title)}\n---\n\n{body}\n", encoding="utf-8"
    )
    pub = read_source(source, ReadOptions(Metadata(title="", language="en")))
    pub = prepare(pub, Settings(), Lexicon(), narrator="a test voice", phonemes=False)
    from publisher.formats.cover import generate_cover

    out = tmp_path / "any.epub"
    write_epub(pub, generate_cover(pub.metadata), out, 1700000000, certifier=None)
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=ANY_TEXT, body=ANY_TEXT)
def test_every_epub_xml_document_is_well_formed_for_any_text(tmp_path: Path, title: str, body: str) -> None:
    try:
        epub = _epub_from(tmp_path, title, "Fixed words. " + body)
    except Exception as exc:  # a refusal must be a clear SourceError, never a crash
        from publisher.errors import SourceError

        assert isinstance(exc, SourceError), repr(exc)
        return
    for _, data in _xml_members(epub):
        etree.fromstring(data)


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=ANY_TEXT, paragraphs=PARAGRAPHS)
def test_generated_sources_pass_epubcheck(tmp_path: Path, title: str, paragraphs: list[str]) -> None:
    epub = _epub_from(tmp_path, title, "\n\n".join(["Opening words.", *paragraphs]))
    report = run_epubcheck(epub)
    assert report.ok, report.messages


@pytest.mark.parametrize("parallel", [False, True])
def test_an_engine_failure_names_the_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool) -> None:
    """The failing sentence is named, in one process and from a worker process (fork)."""
    from tests.conftest import FIXTURES

    from publisher import api
    from publisher.errors import EngineError
    from publisher.settings import Settings
    from publisher.speech.engines import silent

    original = silent.SilentEngine.synthesize

    def synthesize(self: silent.SilentEngine, text: str) -> object:
        if "Jo set out" in text:
            raise EngineError("the voice broke")
        return original(self, text)

    monkeypatch.setattr(silent.SilentEngine, "synthesize", synthesize)
    monkeypatch.setattr(silent.SilentEngine, "parallel", parallel)
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "walk.txt").write_bytes((FIXTURES / "chapters.txt").read_bytes())
    settings = Settings(engine="silent", cache=tmp_path / "cache", jobs=2)
    result = api.publish([tmp_path / "sources"], settings.override(output=tmp_path / "out"))
    ((failed),) = result.failed
    source, error = failed.source, failed.error
    assert source.name == "walk.txt" and error.exit_code == 6
    assert re.fullmatch(r".*walk\.txt: sentence c01-s\d{4} \('Jo set out at dawn\.'\): the voice broke", str(error))
    assert not (tmp_path / "out" / "walk").exists()
