"""proof.html: the proof-listening report as a page next to the read-along page, each flagged sentence playable.

Built with lxml (every piece of text escaped by the serialiser); CSS and script are package data
inlined into the page and pinned by a Content-Security-Policy with their hashes, like the
read-along page. Each flagged sentence links to the full-length MP3 with a media fragment
(`#t=start,end`), which the script turns into playing just that cue in the page's own player.
"""

from __future__ import annotations

from importlib import resources

from lxml import etree

from publisher.clock import tenths_clock as clock
from publisher.csp import csp_hash
from publisher.model import layout
from publisher.proof.compare import metric
from publisher.proof.results import ProofReport

READALONG_PAGE = layout.PAGE


def _static(name: str) -> str:
    return (resources.files("publisher.proof") / "static" / name).read_text(encoding="utf-8")


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    el = etree.SubElement(parent, tag, {k.rstrip("_").replace("_", "-"): v for k, v in attrib.items()})
    el.text = text
    return el


def _head(html: etree._Element, report: ProofReport, css: str, js: str) -> None:
    head = _el(html, "head")
    _el(head, "meta", charset="utf-8")
    _el(head, "meta", name="viewport", content="width=device-width, initial-scale=1")
    policy = f"default-src 'self'; style-src {csp_hash(css)}; script-src {csp_hash(js)}; media-src 'self'"
    _el(head, "meta", http_equiv="Content-Security-Policy", content=policy)
    _el(head, "title", f"Proof-listening: {report.title}")
    _el(head, "style", css)


def _chapters(body: etree._Element, report: ProofReport) -> None:
    table = _el(body, "table")
    scored = metric(report.language)
    _el(table, "caption", f"{scored.rate.capitalize()} per chapter")
    row = _el(_el(table, "thead"), "tr")
    for heading in ("Chapter", "Starts", scored.units.capitalize(), "Errors", scored.name):
        _el(row, "th", heading, scope="col")
    tbody = _el(table, "tbody")
    for chapter in report.chapters:
        row = _el(tbody, "tr")
        _el(row, "th", f"{chapter.number}. {chapter.title}", scope="row")
        for value in (clock(chapter.start), str(chapter.tally.words), str(chapter.tally.errors)):
            _el(row, "td", value, class_="num")
        _el(row, "td", f"{chapter.tally.wer:.3f}", class_="num")


def _flagged(body: etree._Element, report: ProofReport) -> None:
    _el(body, "h2", f"Sentences to listen to ({len(report.flagged)}, worst first)")
    if not report.flagged:
        _el(body, "p", "Every sentence was heard as written.")
        return
    items = _el(body, "ol", class_="flagged")
    for result in report.flagged:
        item = _el(items, "li", id=f"flag-{result.cue.sentence_id}")
        start, end = f"{result.cue.start:.3f}", f"{result.cue.end:.3f}"
        link = _el(item, "a", f"▶ {clock(result.cue.start)}", class_="play", href=f"{report.audio}#t={start},{end}")
        link.set("data-start", start)
        link.set("data-end", end)
        link.set("aria-label", f"Play sentence at {clock(result.cue.start)}")
        link.tail = f" score {result.score:.2f} · "
        read = _el(item, "a", "in the text", href=f"{READALONG_PAGE}#{result.cue.sentence_id}")
        read.tail = None
        _el(item, "p", result.cue.text)
        heard = _el(item, "p", "Heard: ", class_="heard")
        _el(heard, "q", result.heard or "(nothing)")
        missed = sorted({w for w, _ in result.alignment.missed}) if result.alignment else []
        if missed:
            _el(item, "p", "Missed: " + ", ".join(missed), class_="missed")


def render_page(report: ProofReport) -> str:
    """proof.html for `report` (an HTML5 document, deterministic for the same report)."""
    css, js = _static("proof.css"), _static("proof.js")
    html = etree.Element("html", lang=report.language)
    _head(html, report, css, js)
    body = _el(html, "body")
    main = _el(body, "main")
    _el(main, "h1", f"Proof-listening: {report.title}")
    t = report.tally
    scored = metric(report.language)
    _el(
        main,
        "p",
        f"Whisper {report.decoding.model} heard {t.words - t.substitutions - t.deletions} of {t.words} "
        f"{scored.units} as written: {scored.rate} {t.wer:.3f} ({t.substitutions} substituted, {t.deletions} missing, "
        f"{t.insertions} extra). {len(report.flagged)} of {report.sentences} sentences differ.",
    )
    back = _el(main, "p")
    _el(back, "a", "Back to the read-along page", href=READALONG_PAGE)
    _el(main, "audio", None, id="narration", controls="controls", preload="metadata", src=report.audio)
    _chapters(main, report)
    _flagged(main, report)
    _el(main, "h2", "Lexicon suggestions")
    if report.suggestions:
        _el(main, "p", "Words heard as something else in two or more places, with the phonemes the voice used. "
            "Correct the phonemes and add the lines to lexicon.txt.")  # fmt: skip
        _el(main, "pre", "\n".join(f"{s.line}    # heard: {', '.join(s.heard[:3])}" for s in report.suggestions))
    else:
        _el(main, "p", "None: no word was misheard in two or more places.")
    _el(body, "script", js)
    data = etree.tostring(html, method="html", encoding="unicode", doctype="<!DOCTYPE html>")
    return str(data) + "\n"
