"""The DAISY 2.02 talking book: its files, timings against the real MP3s, escaping, the zip,
reproducibility, the checker (on good and on broken books), and Debian's daisy-player reading it."""

from __future__ import annotations

import itertools
import json
import math
import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree
from mutagen.mp3 import MP3
from tests.conftest import SEED, copy_fixture
from tests.helpers import publish

from publisher.clock import parse_clock
from publisher.pipeline.results import SourceResult
from publisher.settings import source_date_epoch
from publisher.validate.daisy import check_daisy
from publisher.validate.run import check_paths
from publisher.xmlns import XHTML
from publisher.zipfiles import zip_time

NS = {"x": XHTML}
TOLERANCE = 0.05  # seconds: one MP3 frame is 26 ms
HOSTILE_TITLE = '<script>alert("x")</script> & ]]> “quoted” مرحبا بالعالم 🎧📚'
VTT_CUE = re.compile(r"^(\S+)\n(\d\d):(\d\d):(\d\d\.\d{3}) --> ", re.MULTILINE)


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> SourceResult:
    return publish(SEED, tmp_path_factory.mktemp("daisy-seed") / "out")


@pytest.fixture(scope="module")
def chapters(tmp_path_factory: pytest.TempPathFactory) -> SourceResult:
    folder = tmp_path_factory.mktemp("daisy-chapters")
    return publish(copy_fixture("chapters.txt", folder), folder / "out")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> SourceResult:
    folder = tmp_path_factory.mktemp("daisy-book")
    return publish(copy_fixture("book.md", folder), folder / "out")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> SourceResult:
    folder = tmp_path_factory.mktemp("daisy-hostile")
    source = folder / "hostile.txt"
    body = 'It says <b>bold</b> & "quotes" ]]> too. قال مرحبا 👋.\n\nChapter Two\n\nThe end & done.\n'
    source.write_text(f"{HOSTILE_TITLE}\n\nBy Zoë <i>Q</i> O'Brien\n\nChapter One\n\n{body}", encoding="utf-8")
    return publish(source, folder / "out")


ALL_BOOKS = ["seed", "chapters", "book", "hostile"]


def daisy(result: SourceResult) -> Path:
    return result.folder / "daisy"


def xml(path: Path) -> etree._Element:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()


def meta(root: etree._Element, name: str) -> str:
    values = root.xpath(f"//*[local-name()='meta'][@name='{name}']/@content")
    assert len(values) == 1, f"{name}: {values}"
    return str(values[0])


def ncc_headings(result: SourceResult) -> list[tuple[str, str, str]]:
    """(tag, label, href) of every NCC heading, in order."""
    ncc = xml(daisy(result) / "ncc.html")
    out = []
    for h in ncc.xpath("//x:body/*[self::x:h1 or self::x:h2 or self::x:h3 or self::x:h4]", namespaces=NS):
        (a,) = h.xpath("x:a", namespaces=NS)
        out.append((etree.QName(h).localname, "".join(a.itertext()), a.get("href")))
    return out


def smil_files(result: SourceResult) -> list[Path]:
    return sorted(daisy(result).glob("*.smil"))


def clips(smil: Path) -> list[tuple[str, str, float, float]]:
    """(sentence id, audio file, begin, end) of every par."""
    out = []
    for par in xml(smil).iter("par"):
        text, audio = par.find("text"), par.find("audio")
        assert text is not None and audio is not None
        out.append(
            (
                text.get("src", "").split("#")[1],
                audio.get("src", ""),
                parse_clock(audio.get("clip-begin", "")),
                parse_clock(audio.get("clip-end", "")),
            )
        )
    return out


def vtt_starts(vtt: Path) -> list[tuple[str, float]]:
    text = vtt.read_text(encoding="utf-8")
    return [(m[1], int(m[2]) * 3600 + int(m[3]) * 60 + float(m[4])) for m in VTT_CUE.finditer(text)]


# --- what is written -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_BOOKS)
def test_every_book_passes_the_daisy_checker(name: str, request: pytest.FixtureRequest) -> None:
    result: SourceResult = request.getfixturevalue(name)
    report = check_daisy(daisy(result) / "ncc.html")
    assert report.ok, "\n".join(report.messages)
    assert report.summary.endswith("0 problems")


def test_layout_and_manifest(book: SourceResult) -> None:
    names = sorted(p.relative_to(daisy(book)).as_posix() for p in daisy(book).rglob("*") if p.is_file())
    assert names == ["01.mp3", "01.smil", "02.mp3", "02.smil", "content.html", "images/img-001.png", "ncc.html"]
    manifest = json.loads((book.folder / ".publisher.json").read_text(encoding="utf-8"))
    assert manifest["formats"]["daisy"] == "daisy/ncc.html"
    assert manifest["formats"]["daisy_zip"] == "book-daisy.zip"
    ncc = xml(daisy(book) / "ncc.html")
    assert meta(ncc, "ncc:files") == str(len(names))
    assert meta(ncc, "dc:format") == "Daisy 2.02"
    assert meta(ncc, "ncc:multimediaType") == "audioFullText"
    assert meta(ncc, "ncc:setInfo") == "1 of 1"
    assert meta(ncc, "ncc:depth") == "2"
    assert meta(ncc, "dc:publisher") == "Test Press"
    assert ncc.xpath("//*[local-name()='meta'][@name='dc:creator']/@content") == ["Ada Lovelace", "Charles Babbage"]
    for smil in smil_files(book):
        head = xml(smil)
        assert meta(head, "dc:format") == "Daisy 2.02"
        assert head.xpath("/smil/head/layout/region/@id") == ["txtView"]
        assert all(par.get("endsync") == "last" for par in head.iter("par"))


def test_chapter_mp3s_are_linked_not_copied(chapters: SourceResult) -> None:
    for n, audio in enumerate(chapters.audio, start=1):
        inside = daisy(chapters) / f"{n:02d}.mp3"
        assert inside.read_bytes() == audio.path.read_bytes()
        assert os.path.samefile(inside, audio.path)  # a hard link: no extra disk


@pytest.mark.parametrize("name", ["seed", "chapters", "book"])
def test_timings_agree_with_the_mp3s(name: str, request: pytest.FixtureRequest) -> None:
    result: SourceResult = request.getfixturevalue(name)
    folder = daisy(result)
    lengths = {p.name: float(MP3(p).info.length) for p in sorted(folder.glob("*.mp3"))}
    ncc = xml(folder / "ncc.html")
    total = parse_clock(meta(ncc, "ncc:totalTime"))
    assert abs(total - sum(lengths.values())) <= TOLERANCE
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", meta(ncc, "ncc:totalTime"))
    elapsed = 0.0
    for smil, audio in zip(smil_files(result), result.audio, strict=True):
        root = xml(smil)
        pars = clips(smil)
        mp3 = pars[0][1]
        assert {p[1] for p in pars} == {mp3}
        assert pars[0][2] == 0.0  # the lead-in belongs to the first sentence
        for (_, _, _, end), (_, _, begin, _) in itertools.pairwise(pars):
            assert end == begin  # clips tile the file: nothing heard twice, nothing skipped
        for _, _, begin, end in pars:
            assert begin < end <= lengths[mp3] + TOLERANCE
        assert abs(pars[-1][3] - lengths[mp3]) <= TOLERANCE
        duration = parse_clock(root.xpath("/smil/body/seq/@dur")[0])
        assert abs(duration - lengths[mp3]) <= TOLERANCE
        assert abs(parse_clock(meta(root, "ncc:timeInThisSmil")) - duration) <= 0.001
        assert abs(parse_clock(meta(root, "ncc:totalElapsedTime")) - elapsed) <= 0.001
        elapsed += duration
        # every sentence where the chapter's captions say it is heard, in the same order
        cues = vtt_starts(audio.path.with_suffix(".vtt"))
        assert [p[0] for p in pars] == [sid for sid, _ in cues]
        for (_, _, begin, _), (_, start) in list(zip(pars, cues, strict=True))[1:]:
            assert abs(begin - start) <= 0.002


def test_every_sentence_of_the_text_is_in_a_smil(book: SourceResult) -> None:
    content = xml(daisy(book) / "content.html")
    spans = content.xpath("//x:span/@id", namespaces=NS)
    narrated = [sid for smil in smil_files(book) for sid, *_ in clips(smil)]
    assert narrated == spans  # the title page, both chapters and the closing words, in reading order
    assert content.xpath("//x:p[@class='closing']/x:span/@id", namespaces=NS) == ["closing-s0001"]
    assert all(h.get("id") for h in content.xpath("//x:h1|//x:h2", namespaces=NS))


def test_ncc_headings_are_the_title_and_the_chapter_titles(
    seed: SourceResult, chapters: SourceResult, book: SourceResult
) -> None:
    assert [(t, label) for t, label, _ in ncc_headings(seed)] == [("h1", "Putin today")]
    assert [a.title for a in seed.audio] == ["Putin today"]
    assert [(t, label) for t, label, _ in ncc_headings(chapters)] == [
        ("h1", "The Long Walk"), ("h1", "Chapter One"), ("h1", "Chapter Two"),
    ]  # fmt: skip
    assert [label for _, label, _ in ncc_headings(chapters)][1:] == [a.title for a in chapters.audio]
    assert [(t, label) for t, label, _ in ncc_headings(book)] == [
        ("h1", "A Small Book of Tests"), ("h1", "The First Chapter"), ("h2", "A Section"), ("h1", "The Second Chapter"),
    ]  # fmt: skip
    ncc = xml(daisy(book) / "ncc.html")
    first = ncc.xpath("//x:body/*", namespaces=NS)[0]
    assert (etree.QName(first).localname, first.get("class")) == ("h1", "title")
    assert meta(ncc, "ncc:tocItems") == "4"
    # each heading starts the par whose text is that heading in content.html
    content = xml(daisy(book) / "content.html")
    for _, label, href in ncc_headings(book):
        smil, par_id = href.split("#")
        (par,) = xml(daisy(book) / smil).xpath(f"//par[@id='{par_id}']")
        target = par.find("text").get("src").split("#")[1]
        (span,) = content.xpath(f"//*[@id='{target}']")
        assert "".join(span.itertext()) == label
        assert etree.QName(span.getparent()).localname in ("h1", "h2")


def test_a_hostile_title_is_escaped_everywhere(hostile: SourceResult) -> None:
    folder = daisy(hostile)
    for path in folder.glob("*.*"):
        if path.suffix in (".html", ".smil"):
            data = path.read_bytes()
            xml(path)  # well-formed
            assert b"<script>" not in data and b"<b>" not in data and b"<i>" not in data
    ncc = xml(folder / "ncc.html")
    assert meta(ncc, "dc:title") == HOSTILE_TITLE
    assert ncc.findtext(f"{{{XHTML}}}head/{{{XHTML}}}title") == HOSTILE_TITLE
    assert meta(ncc, "dc:creator") == "Zoë <i>Q</i> O'Brien"
    assert ncc_headings(hostile)[0][:2] == ("h1", HOSTILE_TITLE)
    assert [label for _, label, _ in ncc_headings(hostile)][1:] == ["Chapter One", "Chapter Two"]
    for smil in smil_files(hostile):
        assert meta(xml(smil), "dc:title") == HOSTILE_TITLE
    content = xml(folder / "content.html")
    assert HOSTILE_TITLE in "".join(content.itertext())
    assert 'It says <b>bold</b> & "quotes" ]]> too.' in "".join(content.itertext())


def test_the_zip_holds_the_same_files(chapters: SourceResult) -> None:
    folder = daisy(chapters)
    archive = chapters.folder / "chapters-daisy.zip"
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    with zipfile.ZipFile(archive) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == files  # at the root, sorted
        for info in zf.infolist():
            assert zf.read(info) == (folder / info.filename).read_bytes()
            stored = info.filename.endswith(".mp3")
            assert info.compress_type == (zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
            assert info.date_time == zip_time(source_date_epoch())


def test_same_input_and_source_date_epoch_give_identical_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    source = copy_fixture("book.md", tmp_path)
    first, second = publish(source, tmp_path / "one"), publish(source, tmp_path / "two")

    def contents(result: SourceResult) -> dict[str, bytes]:
        files = sorted(p for p in daisy(result).rglob("*") if p.is_file())
        return {p.relative_to(daisy(result)).as_posix(): p.read_bytes() for p in files}

    assert contents(first) == contents(second)
    one, two = (r.folder / "book-daisy.zip" for r in (first, second))
    assert one.read_bytes() == two.read_bytes()
    with zipfile.ZipFile(one) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    assert meta(xml(daisy(first) / "ncc.html"), "ncc:producedDate") == "2023-11-14"


# --- the checker -------------------------------------------------------------------------------


def _edit(name: str, old: str, new: str, count: int = 1) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    return edit


def _last_clip_end(folder: Path) -> None:
    path = folder / "02.smil"
    text = path.read_text(encoding="utf-8")
    ends = re.findall(r'clip-end="npt=[0-9.]+s"', text)
    path.write_text(text.replace(ends[-1], 'clip-end="npt=99.000s"'), encoding="utf-8")


def _skip_a_level(folder: Path) -> None:
    path = folder / "ncc.html"
    tree = etree.parse(str(path))
    (heading,) = tree.xpath("//*[@id='nav2']")
    heading.tag = f"{{{XHTML}}}h3"
    tree.write(str(path), xml_declaration=True, encoding="utf-8")


def _backwards_clip(folder: Path) -> None:
    path = folder / "01.smil"
    text = path.read_text(encoding="utf-8")
    begin = re.search(r'clip-begin="(npt=[0-9.]+s)" clip-end="(npt=[0-9.]+s)"', text)
    assert begin is not None
    swapped = f'clip-begin="{begin[2]}" clip-end="{begin[1]}"'
    path.write_text(text.replace(begin[0], swapped, 1), encoding="utf-8")


BREAKAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "a SMIL deleted": (lambda f: (f / "02.smil").unlink(), "links to 02.smil, which does not exist"),
    "an MP3 deleted": (lambda f: (f / "01.mp3").unlink(), "audio file '01.mp3' does not exist"),
    "a clip past the end of its MP3": (_last_clip_end, "lies outside 02.mp3"),
    "a clip ending before it begins": (_backwards_clip, "is not before clip-end"),
    "a wrong total time": (_edit("ncc.html", 'name="ncc:totalTime" content="00', 'name="ncc:totalTime" content="01'),
                           "ncc:totalTime"),
    "a missing narrator": (_edit("ncc.html", 'name="ncc:narrator"', 'name="x-narrator"'),
                           "required metadata ncc:narrator is missing"),
    "a wrong dc:format": (_edit("ncc.html", 'content="Daisy 2.02"', 'content="Daisy 3"'), "not \"Daisy 2.02\""),
    "a heading level skipped": (_skip_a_level, "jumps from h1 to h3"),
    "no title heading": (_edit("ncc.html", '<h1 class="title" id="nav1">', '<h1 id="nav1">'),
                         'first heading must be <h1 class="title">'),
    "a link to a missing par": (_edit("ncc.html", "01.smil#p-c01-s0001", "01.smil#nowhere"),
                                "01.smil has no element with that id"),
    "a text src to a missing id": (_edit("01.smil", "content.html#c01-s0002", "content.html#gone"),
                                   "no element with that id"),
    "an unreferenced SMIL": (lambda f: shutil.copy(f / "02.smil", f / "03.smil"), "03.smil is not referenced"),
    "a wrong file count": (lambda f: (f / "extra.txt").write_text("x"), "ncc:files is 7, the book has 8 files"),
    "a wrong tocItems": (_edit("ncc.html", 'name="ncc:tocItems" content="4"', 'name="ncc:tocItems" content="5"'),
                         "ncc:tocItems is 5, the NCC has 4 items"),
    "a malformed NCC": (_edit("ncc.html", "</body>", "</bdy>"), "ncc.html: not well-formed XML"),
    "a seq dur that is not its clips'": (_edit("01.smil", '<seq dur="', '<seq dur="1'), "seq dur"),
}  # fmt: skip


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_the_checker_catches_a_broken_book(breakage: str, book: SourceResult, tmp_path: Path) -> None:
    folder = tmp_path / "daisy"
    shutil.copytree(daisy(book), folder)
    assert check_daisy(folder / "ncc.html").ok  # the copy is good before it is broken
    damage, expected = BREAKAGES[breakage]
    damage(folder)
    report = check_daisy(folder / "ncc.html")
    assert not report.ok
    assert any(expected in message for message in report.messages), report.messages


def test_publisher_check_finds_the_daisy_book(book: SourceResult) -> None:
    reports = check_paths([daisy(book)], ace=False)
    (found,) = [r for r in reports if r.check == "DAISY 2.02"]
    assert found.ok and found.path == daisy(book) / "ncc.html"
    assert found.summary == "DAISY 2.02: 4 NCC items, 2 SMIL files, 2 MP3s, 0 problems"


# --- a real player -------------------------------------------------------------------------------

#: daisy-player needs /proc/asound/cards (absent without a sound card) and keeps its settings and
#: bookmarks in the passwd home: give it both in a private mount namespace, touching nothing outside.
SANDBOX = """
set -e
home=$1; fake_home=$2; shift 2
real_proc=$(mktemp -d)
mount --rbind /proc "$real_proc"
mount -t tmpfs -o size=1m tmpfs /proc
for entry in "$real_proc"/*; do ln -s "$entry" "/proc/${entry##*/}"; done
rm -f /proc/asound
mkdir /proc/asound
: > /proc/asound/cards
mount --bind "$fake_home" "$home"
exec "$@"
"""


def daisy_player_screen(book: Path, tmp: Path, expected: list[str], timeout: float = 30.0) -> tuple[str, str]:
    """Open `book` in daisy-player under tmux; the screen once it shows `expected`, then after 'q'."""
    for tool in ("daisy-player", "tmux", "unshare"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: `make test` installs Debian's daisy-player and tmux")
    home = tmp / "player-home"
    home.mkdir()
    unshare = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "--mount", "--map-root-user"]
    # -i: no bookmark, so it does not start playing; -d: no sound-card menu (it would wait for a key)
    player = ["daisy-player", "-i", "-d", "default:alsa", str(book)]
    command = [*unshare, "sh", "-c", SANDBOX, "sandbox", pwd.getpwuid(0).pw_dir, str(home), *player]
    sockets = tempfile.TemporaryDirectory(prefix="publisher-tmux-")  # short: socket paths are limited
    tmux = ["tmux", "-S", f"{sockets.name}/s"]  # a server of our own, whatever else runs
    env = {k: v for k, v in os.environ.items() if k != "TMUX"}

    def capture() -> str:
        done = subprocess.run([*tmux, "capture-pane", "-p", "-t", "player"], capture_output=True, text=True,
                              timeout=10, env=env, check=False)  # fmt: skip
        return done.stdout

    try:
        subprocess.run(
            [*tmux, "new-session", "-d", "-s", "player", "-x", "120", "-y", "40",
             shlex.join(command) + '; echo "daisy-player exited with $?"; sleep 30'],
            check=True, timeout=10, env=env,
        )  # fmt: skip
        screen = ""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = capture()
            if all(text in screen for text in expected):
                break
            time.sleep(0.2)
        subprocess.run([*tmux, "send-keys", "-t", "player", "q"], timeout=10, env=env, check=False)
        after = screen
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            after = capture()
            if "daisy-player exited with" in after:
                break
            time.sleep(0.2)
        return screen, after
    finally:
        subprocess.run([*tmux, "kill-session", "-t", "player"], capture_output=True, timeout=10, env=env, check=False)
        subprocess.run([*tmux, "kill-server"], capture_output=True, timeout=10, env=env, check=False)
        sockets.cleanup()


@pytest.mark.parametrize("packaging", ["folder", "zip"])
def test_daisy_player_reads_the_book(packaging: str, book: SourceResult, tmp_path: Path) -> None:
    target = daisy(book) if packaging == "folder" else book.folder / "book-daisy.zip"
    titles = ["A Small Book of Tests", "The First Chapter", "A Section", "The Second Chapter"]
    total = parse_clock(meta(xml(daisy(book) / "ncc.html"), "ncc:totalTime"))
    length = time.strftime("%H:%M:%S", time.gmtime(math.floor(total)))
    screen, after = daisy_player_screen(target, tmp_path, [*titles, "total length"])
    lines = screen.splitlines()
    assert lines and lines[0].startswith("Daisy-player - Version"), screen
    assert lines[0].rstrip().endswith("A Small Book of Tests"), screen  # the book's title, top right
    assert f"total length: {length}" in screen, screen  # its own sum of our SMIL clips
    assert "level: 1 of 2" in screen, screen  # ncc:depth as it counts it
    items = [line.strip().split(" . ")[0].strip() for line in lines[2:] if " . " in line]
    assert items == titles, screen  # every NCC heading, in order
    indent = {line.strip().split(" . ")[0].strip(): len(line) - len(line.lstrip()) for line in lines[2:]}
    assert indent["A Section"] > indent["The First Chapter"] == indent["The Second Chapter"], screen  # h2 is nested
    assert "daisy-player exited with 0" in after, after  # 'q' quit it cleanly


def test_daisy_player_reads_a_hostile_title(hostile: SourceResult, tmp_path: Path) -> None:
    screen, _ = daisy_player_screen(daisy(hostile), tmp_path, ["Chapter One", "Chapter Two"])
    assert '<script>alert("x")</script> & ]]>' in screen, screen
    assert "Chapter One" in screen and "Chapter Two" in screen
