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


def element(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    """A child element of `parent` with `text`; keyword attributes spelled as Python names
    (`class_` → class, `http_equiv` → http-equiv)."""
    el = etree.SubElement(parent, tag, {k.rstrip("_").replace("_", "-"): v for k, v in attrib.items()})
    el.text = text
    return el


def report_assets() -> tuple[str, str]:
    """The CSS and the player script of the report pages (proof.html, and alignment.html, which adds
    its own rules to the CSS)."""
    return _static("proof.css"), _static("proof.js")


def page_head(html: etree._Element, title: str, css: str, js: str) -> None:
    """A report page's head: its title, `css` inlined, and a Content-Security-Policy that allows only
    that style, the script `js` (inlined at the end of the body) and media from the same folder."""
    head = element(html, "head")
    element(head, "meta", charset="utf-8")
    element(head, "meta", name="viewport", content="width=device-width, initial-scale=1")
    policy = f"default-src 'self'; style-src {csp_hash(css)}; script-src {csp_hash(js)}; media-src 'self'"
    element(head, "meta", http_equiv="Content-Security-Policy", content=policy)
    element(head, "title", title)
    element(head, "style", css)


def _chapters(body: etree._Element, report: ProofReport) -> None:
    table = element(body, "table")
    scored = metric(report.language)
    element(table, "caption", f"{scored.rate.capitalize()} per chapter")
    row = element(element(table, "thead"), "tr")
    for heading in ("Chapter", "Starts", scored.units.capitalize(), "Errors", scored.name):
        element(row, "th", heading, scope="col")
    tbody = element(table, "tbody")
    for chapter in report.chapters:
        row = element(tbody, "tr")
        element(row, "th", f"{chapter.number}. {chapter.title}", scope="row")
        for value in (clock(chapter.start), str(chapter.tally.words), str(chapter.tally.errors)):
            element(row, "td", value, class_="num")
        element(row, "td", f"{chapter.tally.wer:.3f}", class_="num")


def _flagged(body: etree._Element, report: ProofReport) -> None:
    element(body, "h2", f"Sentences to listen to ({len(report.flagged)}, surest first)")
    if not report.flagged:
        element(body, "p", "No sentence was flagged: every word was heard as written, or close enough.")
        return
    items = element(body, "ol", class_="flagged")
    for result in report.flagged:
        item = element(items, "li", id=f"flag-{result.cue.sentence_id}")
        start, end = f"{result.cue.start:.3f}", f"{result.cue.end:.3f}"
        link = element(item, "a", f"▶ {clock(result.cue.start)}", class_="play", href=f"{report.audio}#t={start},{end}")
        link.set("data-start", start)
        link.set("data-end", end)
        link.set("aria-label", f"Play sentence at {clock(result.cue.start)}")
        link.tail = f" confidence {result.confidence:.2f} · "
        read = element(item, "a", "in the text", href=f"{READALONG_PAGE}#{result.cue.sentence_id}")
        read.tail = None
        element(item, "p", result.cue.text)
        heard = element(item, "p", "Heard: ", class_="heard")
        element(heard, "q", result.heard or "(nothing)")
        element(item, "p", "Why: " + result.reason(report.threshold), class_="why")
        missed = sorted({w for w, _ in result.alignment.missed}) if result.alignment else []
        if missed:
            element(item, "p", "Missed: " + ", ".join(missed), class_="missed")


def render_page(report: ProofReport) -> str:
    """proof.html for `report` (an HTML5 document, deterministic for the same report)."""
    css, js = report_assets()
    html = etree.Element("html", lang=report.language)
    page_head(html, f"Proof-listening: {report.title}", css, js)
    body = element(html, "body")
    main = element(body, "main")
    element(main, "h1", f"Proof-listening: {report.title}")
    t = report.tally
    scored = metric(report.language)
    element(
        main,
        "p",
        f"Whisper {report.decoding.model} heard {t.words - t.substitutions - t.deletions} of {t.words} "
        f"{scored.units} as written: {scored.rate} {t.wer:.3f} ({t.substitutions} substituted, {t.deletions} missing, "
        f"{t.insertions} extra). {len(report.flagged)} of {report.sentences} sentences flagged "
        f"(confidence ≥ {report.threshold:g}).",
    )
    back = element(main, "p")
    element(back, "a", "Back to the read-along page", href=READALONG_PAGE)
    element(main, "audio", None, id="narration", controls="controls", preload="metadata", src=report.audio)
    _chapters(main, report)
    _flagged(main, report)
    element(main, "h2", "Lexicon suggestions")
    if report.suggestions:
        element(main, "p", "Words heard as something else in two or more places, with the phonemes the voice used. "
            "Correct the phonemes and add the lines to lexicon.txt.")  # fmt: skip
        element(main, "pre", "\n".join(f"{s.line}    # heard: {', '.join(s.heard[:3])}" for s in report.suggestions))
    else:
        element(main, "p", "None: no word was misheard in two or more places.")
    element(body, "script", js)
    data = etree.tostring(html, method="html", encoding="unicode", doctype="<!DOCTYPE html>")
    return str(data) + "\n"
