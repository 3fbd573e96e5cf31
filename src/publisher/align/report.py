"""The alignment report: alignment.json, alignment.html (a page like proof.html) and the terminal summary.

The page is built with lxml (every piece of text escaped by the serialiser); its CSS and script
are package data inlined and pinned by a Content-Security-Policy with their hashes. Each sentence
listed says where it is in the recording (file and time) and, when the page sits in a published
folder, plays from the full-length MP3 (`#t=start,end`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from lxml import etree

from publisher.align.result import Alignment, SentenceTime, Stretch
from publisher.clock import tenths_clock as clock
from publisher.files import write_atomic
from publisher.model import layout
from publisher.proof.page import element, page_head, report_assets

ALIGNMENT_JSON = layout.ALIGNMENT_JSON
ALIGNMENT_HTML = layout.ALIGNMENT_HTML
LOW = 0.75  # found sentences below this confidence are listed for a listen
Cues = Mapping[str, tuple[float, float]]  # sentence id → (start, end) in the full-length MP3


def _static(name: str) -> str:
    return (resources.files("publisher.align") / "static" / name).read_text(encoding="utf-8")


def where(alignment: Alignment, seconds: float) -> str:
    """A place in the recording as people find it: "file.mp3 at 1:02.5" (or just the time, for one file)."""
    index, local = alignment.file_at(seconds)
    if len(alignment.files) == 1:
        return clock(local)
    return f"{alignment.files[index].name} at {clock(local)}"


def _play(parent: etree._Element, sentence: SentenceTime, audio: str | None, cues: Cues) -> None:
    cue = cues.get(sentence.sentence_id)
    if audio is None or cue is None:
        return
    start, end = f"{cue[0]:.3f}", f"{cue[1]:.3f}"
    link = element(parent, "a", f"▶ {clock(cue[0])}", class_="play", href=f"{audio}#t={start},{end}")
    link.set("data-start", start)
    link.set("data-end", end)
    link.set("aria-label", f"Play the sentence at {clock(cue[0])} of the published audio")
    link.tail = " · "


def _sentences(
    body: etree._Element, alignment: Alignment, title: str, chosen: list[SentenceTime], audio: str | None, cues: Cues
) -> None:
    element(body, "h2", f"{title} ({len(chosen)})")
    if not chosen:
        element(body, "p", "None.")
        return
    items = element(body, "ol", class_="sentences")
    for sentence in chosen:
        item = element(items, "li", id=f"s-{sentence.sentence_id}")
        line = element(item, "p", class_="where")
        _play(line, sentence, audio, cues)
        span = element(line, "span", f"{where(alignment, sentence.start)} – {clock(sentence.end)}")
        span.tail = f" · confidence {sentence.confidence:.2f} · chapter {sentence.chapter}"
        element(item, "p", sentence.text)
        if sentence.heard:
            heard = element(item, "p", "Heard: ", class_="heard")
            element(heard, "q", sentence.heard)


def _stretches(body: etree._Element, alignment: Alignment, stretches: tuple[Stretch, ...]) -> None:
    element(body, "h2", f"Audio not in the text ({len(stretches)})")
    if not stretches:
        element(body, "p", "None: every stretch of speech was matched to the text.")
        return
    items = element(body, "ol", class_="stretches")
    for stretch in stretches:
        item = element(items, "li")
        seconds = stretch.end - stretch.start
        span = f"{where(alignment, stretch.start)} – {clock(stretch.end)} ({seconds:.1f} s)"
        element(item, "p", span, class_="where")
        said = "Heard: " if stretch.heard else "No words heard (music, noise or another language)."
        heard = element(item, "p", said, class_="heard")
        if stretch.heard:
            element(heard, "q", stretch.heard)


def render_page(alignment: Alignment, title: str, audio: str | None = None, cues: Cues | None = None) -> str:
    """alignment.html (an HTML5 document, the same for the same alignment); `audio` is the
    full-length MP3 beside it and `cues` where each sentence is in it, when published."""
    css, js = report_assets()  # proof.html's style and player, and this page's own rules
    css += _static("align.css")
    cues = cues or {}
    html = etree.Element("html", lang=alignment.language)
    page_head(html, f"Alignment: {title}", css, js)
    body = element(html, "body")
    main = element(body, "main")
    element(main, "h1", f"Alignment: {title}")
    element(main, "p", headline(alignment.to_json()))
    if audio is not None:
        element(main, "audio", None, id="narration", controls="controls", preload="metadata", src=audio)
    table = element(main, "table")
    element(table, "caption", "The recording")
    row = element(element(table, "thead"), "tr")
    for heading in ("File", "Starts", "Length"):
        element(row, "th", heading, scope="col")
    tbody = element(table, "tbody")
    for f in alignment.files:
        row = element(tbody, "tr")
        element(row, "th", f.name, scope="row")
        element(row, "td", clock(f.start), class_="num")
        element(row, "td", clock(f.duration), class_="num")
    _chapters(main, alignment)
    missing = [s for s in alignment.text if not s.aligned]
    _sentences(main, alignment, "Sentences not heard (times interpolated)", missing, audio, cues)
    low = sorted((s for s in alignment.text if s.aligned and s.confidence < LOW), key=lambda s: s.confidence)
    _sentences(main, alignment, f"Sentences found with confidence below {LOW:.2f}", low, audio, cues)
    unread = [s for s in alignment.on_title_page if not s.aligned]
    if unread:  # the publisher's words, which a reading need not have: listed, not counted
        _sentences(
            main, alignment, "The title page the publisher adds, not read (times interpolated)", unread, audio, cues
        )
    _stretches(main, alignment, alignment.stretches)
    element(body, "script", js)
    data = etree.tostring(html, method="html", encoding="unicode", doctype="<!DOCTYPE html>")
    return str(data) + "\n"


def _chapters(main: etree._Element, alignment: Alignment) -> None:
    table = element(main, "table")
    element(table, "caption", "Sentences found per chapter")
    row = element(element(table, "thead"), "tr")
    for heading in ("Chapter", "Starts", "Sentences", "Found", "Coverage"):
        element(row, "th", heading, scope="col")
    tbody = element(table, "tbody")
    chapters: dict[int, list[SentenceTime]] = {}
    for s in alignment.text:
        chapters.setdefault(s.chapter, []).append(s)
    for number, sentences in chapters.items():
        found = sum(1 for s in sentences if s.aligned)
        row = element(tbody, "tr")
        element(row, "th", str(number), scope="row")
        element(row, "td", where(alignment, sentences[0].start), class_="num")
        element(row, "td", str(len(sentences)), class_="num")
        element(row, "td", str(found), class_="num")
        element(row, "td", f"{100 * found / len(sentences):.0f} %", class_="num")


def headline(data: Mapping[str, Any]) -> str:
    """One sentence saying how well the recording matched the text (from alignment.json's data)."""
    total, found = int(data["sentences"]), int(data["sentences_aligned"])
    line = (
        f"{found} of {total} sentences found in {clock(float(data['duration']))} of recording "
        f"(coverage {100 * float(data['coverage']):.1f} %, Whisper {data['model']}); {total - found} not heard, "
        f"their times interpolated; {len(data['not_in_text'])} stretches of audio not in the text."
    )
    page = data.get("title_page") or {}
    unread = int(page.get("sentences", 0)) - int(page.get("sentences_aligned", 0))
    if unread:  # the publisher's own words: a reading need not have them, and they do not count
        line += (
            f" The title page the publisher adds was not read in it ({unread} of its {page['sentences']} sentences:"
            " times interpolated, not counted above)."
        )
    return line


def _place(entry: Mapping[str, Any], single: bool) -> str:
    at = clock(float(entry["recording"]["at"]))
    return at if single else f"{entry['recording']['file']} at {at}"


def write_report(
    alignment: Alignment, folder: Path, title: str, audio: str | None = None, cues: Cues | None = None
) -> list[Path]:
    """Write alignment.json and alignment.html into `folder` (each replaced whole)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = json.dumps(alignment.to_json(), ensure_ascii=False, indent=1) + "\n"
    written = []
    for name, text in ((ALIGNMENT_JSON, data), (ALIGNMENT_HTML, render_page(alignment, title, audio, cues))):
        write_atomic(folder / name, text.encode("utf-8"))
        written.append(folder / name)
    return written


def summary(data: Mapping[str, Any], name: str, top: int = 5) -> list[str]:
    """alignment.json's data as lines for the terminal: coverage, sentences not heard, audio not in the text."""
    single = len(data["files"]) == 1
    lines = [f"{name}: {headline(data)}"]
    missing = [s for s in data["timeline"] if s["status"] != "aligned" and not s.get("title_page")]
    for s in missing[:top]:
        lines.append(f"  not heard, near {_place(s, single)}: {s['text'][:90]}")
    if len(missing) > top:
        lines.append(f"  … {len(missing) - top} more sentences not heard in {ALIGNMENT_HTML}")
    stretches = data["not_in_text"]
    for x in stretches[:top]:
        what = f"heard “{x['heard'][:70]}”" if x["heard"] else "no words heard"
        lines.append(f"  not in the text, {_place(x, single)} – {clock(float(x['end']))}: {what}")
    if len(stretches) > top:
        lines.append(f"  … {len(stretches) - top} more stretches in {ALIGNMENT_HTML}")
    return lines


def folder_summary(folder: Path) -> list[str]:
    """The summary of the alignment.json in a publication folder (none when it was not made from a recording)."""
    try:
        data = json.loads((folder / ALIGNMENT_JSON).read_text(encoding="utf-8"))
        return summary(data, f"{folder.name}/{ALIGNMENT_HTML}")
    except (OSError, ValueError, KeyError, TypeError):
        return []
