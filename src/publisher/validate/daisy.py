"""Validation of a DAISY 2.02 talking book: the NCC's metadata and headings, every SMIL and its
links, the text they point to, and clip times checked against the real MP3s."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from lxml import etree
from mutagen import MutagenError

from publisher.clock import parse_clock
from publisher.validate.audio import CLIP_TOLERANCE, mp3_length
from publisher.validate.report import Report
from publisher.xmlns import XHTML

#: metadata the DAISY 2.02 NCC must carry (the specification's required set, plus what this
#: project promises: narrator, depth, files, maxPageNormal, multimediaType and setInfo)
REQUIRED_META = (
    "dc:title", "dc:creator", "dc:date", "dc:format", "dc:identifier", "dc:language", "dc:publisher",
    "ncc:charset", "ncc:generator", "ncc:narrator", "ncc:pageFront", "ncc:pageNormal", "ncc:pageSpecial",
    "ncc:depth", "ncc:files", "ncc:maxPageNormal", "ncc:tocItems", "ncc:totalTime", "ncc:multimediaType",
    "ncc:setInfo",
)  # fmt: skip
MULTIMEDIA_TYPES = ("audioOnly", "audioNcc", "audioPartText", "audioFullText", "textPartAudio", "textNcc")
NUMERIC_META = ("ncc:pageFront", "ncc:pageNormal", "ncc:pageSpecial", "ncc:depth", "ncc:files", "ncc:maxPageNormal",
                "ncc:tocItems")  # fmt: skip
HEADINGS = tuple(f"h{n}" for n in range(1, 7))
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
#: an NCC's or a SMIL's <meta name="…" content="…"> values, by name
Meta = dict[str, list[str]]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


@dataclass
class _Book:
    """What the checks found so far, and the parsed files they share."""

    folder: Path
    messages: list[str] = field(default_factory=list)
    ids: dict[str, set[str] | None] = field(default_factory=dict)  # file → ids (None: unreadable)
    mp3: dict[str, float | None] = field(default_factory=dict)  # file → seconds (None: missing)

    def parse(self, name: str) -> etree._ElementTree | None:
        path = self.folder / name
        if not path.is_file():
            return None
        try:
            return etree.parse(str(path), _PARSER)
        except etree.XMLSyntaxError as exc:
            self.messages.append(f"{name}: not well-formed XML: {exc}")
            return None

    def ids_in(self, name: str) -> set[str] | None:
        if name not in self.ids:
            tree = self.parse(name)
            self.ids[name] = None if tree is None else {str(v) for v in tree.xpath("//@id")}
        return self.ids[name]

    def mp3_length(self, name: str) -> float | None:
        if name not in self.mp3:
            path = self.folder / name
            length = None
            if path.is_file():
                try:
                    length = mp3_length(path)
                except MutagenError as exc:
                    self.messages.append(f"{name}: not a readable MP3: {exc}")
            self.mp3[name] = length
        return self.mp3[name]


def _split(href: str) -> tuple[str, str]:
    file, _, fragment = href.partition("#")
    return unquote(file), unquote(fragment)


def _meta(root: etree._Element) -> Meta:
    found: dict[str, list[str]] = {}
    for el in root.iter():
        if _local(el) == "meta" and el.get("name"):
            found.setdefault(str(el.get("name")), []).append(str(el.get("content", "")))
    return found


def _check_metadata(book: _Book, meta: Meta) -> None:
    for name in REQUIRED_META:
        if not meta.get(name) or not any(v.strip() for v in meta[name]):
            book.messages.append(f"ncc.html: required metadata {name} is missing or empty")
    first = {name: values[0] for name, values in meta.items()}
    if "dc:format" in first and first["dc:format"] != "Daisy 2.02":
        book.messages.append(f'ncc.html: dc:format is {first["dc:format"]!r}, not "Daisy 2.02"')
    if "ncc:multimediaType" in first and first["ncc:multimediaType"] not in MULTIMEDIA_TYPES:
        book.messages.append(f"ncc.html: ncc:multimediaType {first['ncc:multimediaType']!r} is not a DAISY 2.02 type")
    if "dc:date" in first and not _DATE.match(first["dc:date"]):
        book.messages.append(f"ncc.html: dc:date {first['dc:date']!r} is not yyyy-mm-dd")
    for name in NUMERIC_META:
        if name in first and not first[name].isdigit():
            book.messages.append(f"ncc.html: {name} {first[name]!r} is not a whole number")
    for name, values in meta.items():
        if len(values) > 1 and name not in ("dc:creator", "dc:contributor", "dc:subject", "dc:source"):
            book.messages.append(f"ncc.html: {name} appears {len(values)} times")


def _check_headings(book: _Book, body: etree._Element) -> list[tuple[int, str]]:
    """Heading rules; returns (level, href) for each heading."""
    headings = [el for el in body.iter() if _local(el) in HEADINGS]
    out: list[tuple[int, str]] = []
    if not headings:
        book.messages.append("ncc.html: no headings")
        return out
    first = headings[0]
    if _local(first) != "h1" or "title" not in (first.get("class") or "").split():
        book.messages.append('ncc.html: the first heading must be <h1 class="title">')
    previous = 0
    for el in headings:
        level = int(_local(el)[1])
        label = " ".join("".join(el.itertext()).split())
        if level > previous + 1:
            book.messages.append(f"ncc.html: heading {label!r} jumps from h{previous} to h{level}")
        previous = level
        if not el.get("id"):
            book.messages.append(f"ncc.html: heading {label!r} has no id")
        links = [a for a in el.iter() if _local(a) == "a" and a.get("href")]
        if not links:
            book.messages.append(f"ncc.html: heading {label!r} links nowhere")
            continue
        out.append((level, str(links[0].get("href"))))
    return out


def _check_smil_head(book: _Book, name: str, root: etree._Element, meta: Meta) -> None:
    """The root is <smil>, dc:format says DAISY 2.02, and the layout has the txtView region."""
    if _local(root) != "smil":
        book.messages.append(f"{name}: the root element is <{_local(root)}>, not <smil>")
    if meta.get("dc:format", [""])[0] != "Daisy 2.02":
        book.messages.append(f'{name}: no <meta name="dc:format" content="Daisy 2.02"/>')
    if not root.xpath("//*[local-name()='layout']/*[local-name()='region'][@id='txtView']"):
        book.messages.append(f'{name}: no <layout><region id="txtView"/></layout>')


def _check_par(book: _Book, where: str, par: etree._Element) -> float:
    """One `par`: its text points at an element that exists, its clips lie inside their MP3s;
    returns the length of its clips (seconds)."""
    texts = [el for el in par if _local(el) == "text"]
    audios = [el for el in par if _local(el) == "audio"]
    if not texts or not audios:
        book.messages.append(f"{where} lacks a text or an audio element")
    for text in texts:
        doc, fragment = _split(text.get("src", ""))
        doc_ids = book.ids_in(doc) if doc else None
        if doc_ids is None:
            book.messages.append(f"{where}: text src {text.get('src')!r}: no such content document")
        elif fragment not in doc_ids:
            book.messages.append(f"{where}: text src {text.get('src')!r}: no element with that id")
    clips = 0.0
    for audio in audios:
        src = unquote(audio.get("src", ""))
        try:
            begin = parse_clock(audio.get("clip-begin", ""))
            end = parse_clock(audio.get("clip-end", ""))
        except ValueError:
            book.messages.append(f"{where}: unreadable clip-begin/clip-end")
            continue
        clips += end - begin
        if not begin < end:
            book.messages.append(f"{where}: clip-begin {begin:.3f} s is not before clip-end {end:.3f} s")
        length = book.mp3_length(src)
        if length is None:
            book.messages.append(f"{where}: audio file {src!r} does not exist")
        elif begin < 0 or end > length + CLIP_TOLERANCE:
            book.messages.append(f"{where}: clip {begin:.3f}–{end:.3f} s lies outside {src} ({length:.3f} s)")
    return clips


def _check_smil_times(book: _Book, name: str, seq: etree._Element, meta: Meta, clips: float, elapsed: float) -> float:
    """The main seq's dur is its clips' total, and the ncc:timeInThisSmil / ncc:totalElapsedTime
    metadata agree with it and with `elapsed`; returns the SMIL's duration (seconds)."""
    try:
        duration = parse_clock(seq.get("dur", ""))
    except ValueError:
        book.messages.append(f"{name}: the main seq has no readable dur")
        duration = clips
    if abs(duration - clips) > CLIP_TOLERANCE:
        book.messages.append(f"{name}: seq dur {duration:.3f} s ≠ its clips' {clips:.3f} s")
    for key, expected in (("ncc:timeInThisSmil", duration), ("ncc:totalElapsedTime", elapsed)):
        if key in meta:
            try:
                stated = parse_clock(meta[key][0])
            except ValueError:
                book.messages.append(f"{name}: {key} {meta[key][0]!r} is not a clock value")
                continue
            if abs(stated - expected) > CLIP_TOLERANCE:
                book.messages.append(f"{name}: {key} is {stated:.3f} s, expected {expected:.3f} s")
    return duration


def _check_smil(book: _Book, name: str, elapsed: float) -> float:
    """One SMIL file (its ids recorded in `book.ids`); returns its duration (seconds)."""
    tree = book.parse(name)
    if tree is None:
        return 0.0
    root = tree.getroot()
    book.ids[name] = {str(v) for v in root.xpath("//@id")}
    meta = _meta(root)
    _check_smil_head(book, name, root, meta)
    seqs = root.xpath("/*[local-name()='smil']/*[local-name()='body']/*[local-name()='seq']")
    if len(seqs) != 1:
        book.messages.append(f"{name}: the body must hold exactly one <seq>, found {len(seqs)}")
        return 0.0
    clips = 0.0
    for par in seqs[0].iter():
        if _local(par) == "par":
            clips += _check_par(book, f"{name}: par {par.get('id') or '?'}", par)
    return _check_smil_times(book, name, seqs[0], meta, clips, elapsed)


def _check_smils(book: _Book, headings: list[tuple[int, str]]) -> dict[str, float]:
    """Every SMIL the NCC links to, in order, and every link's target; returns each one's duration."""
    smil_order: list[str] = []
    for _level, href in headings:
        smil, _ = _split(href)
        if smil and smil not in smil_order:
            smil_order.append(smil)
    durations: dict[str, float] = {}
    elapsed = 0.0
    for smil in smil_order:
        if not (book.folder / smil).is_file():
            book.messages.append(f"ncc.html: links to {smil}, which does not exist")
            continue
        durations[smil] = _check_smil(book, smil, elapsed)
        elapsed += durations[smil]
    for _level, href in headings:
        smil, fragment = _split(href)
        if smil in durations and fragment not in (book.ids.get(smil) or set()):
            book.messages.append(f"ncc.html: link {href!r}: {smil} has no element with that id")
    for path in sorted(book.folder.rglob("*.smil")):
        name = path.relative_to(book.folder).as_posix()
        if name not in smil_order:
            book.messages.append(f"{name} is not referenced from ncc.html")
    return durations


def _check_counts(book: _Book, root: etree._Element, meta: Meta, headings: list[tuple[int, str]]) -> None:
    """Every MP3 is played; ncc:files, ncc:tocItems and ncc:depth say what the book holds."""
    for path in sorted(book.folder.rglob("*.mp3")):
        name = path.relative_to(book.folder).as_posix()
        if name not in book.mp3:
            book.messages.append(f"{name} is not played by any SMIL")
    files = [p for p in book.folder.rglob("*") if p.is_file()]
    stated = meta.get("ncc:files", [""])[0]
    if stated.isdigit() and int(stated) != len(files):
        book.messages.append(f"ncc.html: ncc:files is {stated}, the book has {len(files)} files")
    toc = meta.get("ncc:tocItems", [""])[0]
    items = len(headings) + len(root.xpath("//*[contains(concat(' ', @class, ' '), ' page-')]"))
    if toc.isdigit() and int(toc) != items:
        book.messages.append(f"ncc.html: ncc:tocItems is {toc}, the NCC has {items} items")
    depth = meta.get("ncc:depth", [""])[0]
    deepest = max((level for level, _ in headings), default=0)
    if depth.isdigit() and int(depth) != deepest:
        book.messages.append(f"ncc.html: ncc:depth is {depth}, the deepest heading is h{deepest}")


PAGE_CLASSES = ("page-normal", "page-front", "page-special")


def _check_pages(book: _Book, body: etree._Element, meta: Meta) -> int:
    """Page numbers (DAISY 2.02 §2.3): each a <span class="page-normal|page-front|page-special"> with an
    id, linking to a par of a SMIL file; counted by ncc:pageNormal, ncc:pageFront and
    ncc:pageSpecial; ncc:maxPageNormal the highest normal page. Returns how many there are."""
    spans = [
        el for el in body.iter() if _local(el) == "span" and set((el.get("class") or "").split()) & set(PAGE_CLASSES)
    ]
    counts = dict.fromkeys(PAGE_CLASSES, 0)
    highest = 0
    for span in spans:
        kind = next(c for c in PAGE_CLASSES if c in (span.get("class") or "").split())
        counts[kind] += 1
        label = " ".join("".join(span.itertext()).split())
        if kind == "page-normal" and label.isdigit():
            highest = max(highest, int(label))
        if not span.get("id"):
            book.messages.append(f"ncc.html: page {label!r} has no id")
        links = [a for a in span.iter() if _local(a) == "a" and a.get("href")]
        if not links:
            book.messages.append(f"ncc.html: page {label!r} links nowhere")
            continue
        smil, fragment = _split(str(links[0].get("href")))
        if fragment not in (book.ids_in(smil) or set()):
            book.messages.append(f"ncc.html: page {label!r} links to {links[0].get('href')!r}, which is not in {smil}")
    for name, kind in (("ncc:pageNormal", "page-normal"), ("ncc:pageFront", "page-front"),
                       ("ncc:pageSpecial", "page-special")):  # fmt: skip
        stated = meta.get(name, ["0"])[0]
        if stated.isdigit() and int(stated) != counts[kind]:
            book.messages.append(f"ncc.html: {name} is {stated}, the NCC has {counts[kind]} {kind} pages")
    stated = meta.get("ncc:maxPageNormal", ["0"])[0]
    if stated.isdigit() and int(stated) != highest:
        book.messages.append(f"ncc.html: ncc:maxPageNormal is {stated}, the highest normal page is {highest}")
    return len(spans)


def _check_total_time(book: _Book, meta: Meta, smil_total: float) -> None:
    """ncc:totalTime is the SMIL durations' sum and the MP3s' playing time."""
    mp3_total = sum(v for v in book.mp3.values() if v is not None)
    total_text = meta.get("ncc:totalTime", [""])[0]
    try:
        total = parse_clock(total_text) if total_text else None
    except ValueError:
        book.messages.append(f"ncc.html: ncc:totalTime {total_text!r} is not hh:mm:ss")
        total = None
    if total is not None:
        if abs(total - smil_total) > CLIP_TOLERANCE:
            book.messages.append(f"ncc.html: ncc:totalTime {total:.3f} s ≠ the SMIL durations' {smil_total:.3f} s")
        if abs(total - mp3_total) > CLIP_TOLERANCE:
            book.messages.append(f"ncc.html: ncc:totalTime {total:.3f} s ≠ the MP3s' {mp3_total:.3f} s")


def check_daisy(ncc: Path) -> Report:
    """Check the DAISY 2.02 book whose NCC is `ncc` (the folder holding it is the book)."""
    book = _Book(ncc.parent)
    try:
        tree = etree.parse(str(ncc), _PARSER)
    except etree.XMLSyntaxError as exc:
        problem = f"ncc.html: not well-formed XML: {exc}"
        return Report(ncc, "DAISY 2.02", False, "DAISY 2.02: ncc.html is broken", [problem])
    except OSError as exc:
        return Report(ncc, "DAISY 2.02", False, "DAISY 2.02: no ncc.html", [f"ncc.html cannot be read: {exc}"])
    root = tree.getroot()
    if root.tag != f"{{{XHTML}}}html":
        book.messages.append("ncc.html: the root element is not XHTML <html>")
    meta = _meta(root)
    _check_metadata(book, meta)
    bodies = [el for el in root if _local(el) == "body"]
    headings = _check_headings(book, bodies[0]) if bodies else []
    durations = _check_smils(book, headings)
    _check_counts(book, root, meta, headings)
    pages = _check_pages(book, bodies[0], meta) if bodies else 0
    _check_total_time(book, meta, sum(durations.values()))
    paged = f", {pages} pages" if pages else ""
    summary = (
        f"DAISY 2.02: {len(headings)} NCC items{paged}, {len(durations)} SMIL files, {len(book.mp3)} MP3s, "
        f"{len(book.messages)} problems"
    )
    return Report(ncc, "DAISY 2.02", not book.messages, summary, book.messages)
