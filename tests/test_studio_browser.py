"""A whole studio session in Chromium against a real `publisher studio` process: create the first
admin with the one-time link, sign in, upload the seed with eSpeak (dropped on the form), hear a
sample, watch the job reach done (live region), play the read-along, fix a pronunciation, hear it
and see proof-listening's verdict on it, republish (only the sentences holding the word are
synthesized), download the EPUB and validate it with EPUBCheck; axe-core on every page (signed
out, signed in, with a publication, during a job); every action by keyboard where it matters.

With PUBLISHER_STUDIO_SCREENSHOTS=DIR set, a PNG of each page is written into DIR (the README's
screenshots under docs/studio/ are made this way).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import SEED
from tests.studio_helpers import PASSWORD, Running, studio_process
from tests.test_site import axe_violations, watched

from publisher.validate.tools import run_epubcheck

pytestmark = pytest.mark.slow
SHOTS = os.environ.get("PUBLISHER_STUDIO_SCREENSHOTS")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with studio_process(tmp_path_factory.mktemp("studio") / "data") as studio:
        yield studio


def check_page(page: Any, name: str, problems: list[str]) -> None:
    """axe-core finds nothing on the page as it is now; a screenshot when asked for."""
    violations = axe_violations(page)
    assert violations == [], f"{name}: {violations}"
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)
    # the job page closes its event stream when the job ends (or the page is left), and a download ends
    # its navigation: aborts, not faults
    problems[:] = [p for p in problems if not re.search(r"(/events|\?download=1) net::ERR_ABORTED$", p)]
    assert problems == [], f"{name}: {problems}"


def putin_sentences(cues: list[dict[str, Any]]) -> int:
    """The clips a lexicon entry for "Putin" (capitalised: that case only) changes: one per distinct
    sentence holding the word (the cache is keyed by content, so a sentence said twice is made once)."""
    return len({c["text"] for c in cues if re.search(r"(?<![\w\[])Putin(?![\w\]])", c["text"])})


def test_a_whole_session(running: Running, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    watch = watched(page)

    # the one-time link makes the first admin, who is then signed in
    assert running.setup_link
    page.goto(running.setup_link)
    check_page(page, "setup", watch.problems)
    page.fill("#name", "admin")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(running.url + "/")
    assert page.locator("h1").inner_text() == "Publications"
    check_page(page, "publications-empty", watch.problems)

    # sign out, and in again: by keyboard
    page.click(".signout button")
    page.wait_for_url(re.compile(r".*/signin$"))
    check_page(page, "signin", watch.problems)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.focus("#name")
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(running.url + "/")

    # a new publication: the seed dropped on the form, eSpeak, a sample heard first
    page.click("text=New publication")
    page.wait_for_url(running.url + "/new")
    check_page(page, "new", watch.problems)
    page.evaluate(
        """text => { const data = new DataTransfer();
                     data.items.add(new File([text], 'putin-today.txt', {type: 'text/plain'}));
                     const zone = document.getElementById('drop');
                     const drop = new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true});
                     zone.dispatchEvent(drop); }""",
        SEED.read_text(encoding="utf-8"),
    )
    assert page.evaluate("document.getElementById('source').files[0].name") == "putin-today.txt"
    assert page.inner_text("#drop-hint") == "Chosen: putin-today.txt"
    page.select_option("#engine", "espeak")
    page.fill("#voice", "en-us")
    page.click("#hear-sample")
    page.wait_for_function(
        "() => { const a = document.getElementById('sample-player'); return !a.hidden && a.duration > 0.5; }"
    )
    assert page.inner_text("#sample-status") == "Playing the sample."
    # Enter in a field publishes (the form's default button is Publish, not "Hear a sample")
    page.focus("#voice")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    job_url = page.url
    check_page(page, "job", watch.problems)  # during the job (or just after it: eSpeak is quick)
    page.wait_for_function("() => document.getElementById('job-state').textContent === 'done'", timeout=240_000)
    assert page.inner_text("#announce") == "Job done."
    assert page.get_attribute("#job-progress", "value") == page.get_attribute("#job-progress", "max")
    first = page.inner_text("#job-result")
    synthesized, sentences = map(int, re.match(r"(\d+) of (\d+) sentences synthesized", first).groups())
    assert synthesized == sentences > 20

    # the publication page: read along
    page.click("#job-publication")
    page.wait_for_url(running.url + "/publications/putin-today")
    page.wait_for_function("() => document.getElementById('player').readyState >= 1", timeout=15_000)
    check_page(page, "publication", watch.problems)
    cues = page.evaluate(
        "() => [...document.querySelectorAll('a.s')].map("
        "a => ({id: a.id, text: a.textContent, start: +a.dataset.start}))"
    )
    assert len(cues) == sentences
    target = cues[5]
    page.click(f"[id='{target['id']}']")
    page.wait_for_function(
        """([id, start]) => { const a = document.getElementById('player');
            return !a.paused && a.currentTime >= start - 0.05
                && document.getElementById(id).getAttribute('aria-current') === 'true'; }""",
        arg=[target["id"], target["start"]],
    )
    page.evaluate("document.getElementById('player').pause()")
    assert page.inner_text("#player-status").startswith("Playing from:")
    sizes = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('#downloads tbody tr')].map("
        "r => [r.querySelector('a').textContent, r.querySelector('td').textContent]))"
    )
    assert {"putin-today.epub", "putin-today.mp3", "putin-today.m4b", "putin-today-read-aloud.epub"} <= set(sizes)
    assert all(re.fullmatch(r"[\d.]+ (MB|KB|bytes)", size) for size in sizes.values())
    assert page.get_attribute("a[href='/site/putin-today/feed.xml']", "href")
    assert page.get_attribute(".actions a[href='/site/opds.xml']", "href")

    # fix a pronunciation: the editor from a sentence's "Fix" link, hear it, save it, republish
    holding = next(c for c in cues if re.search(r"\bPutin\b", c["text"]))
    page.click(f"a.fix[href$='sentence={holding['id'].removeprefix('s-')}']")
    page.wait_for_url(re.compile(r".*/publications/putin-today/lexicon\?sentence=.*"))
    check_page(page, "lexicon", watch.problems)
    assert page.input_value("#sentence") == holding["id"].removeprefix("s-")
    page.fill("#word", "Putin")
    page.fill("#pronunciation", "Pootin")
    page.click("#hear")
    page.wait_for_function(
        "() => { const a = document.getElementById('hear-player'); return !a.hidden && a.duration > 0.5; }"
    )
    page.wait_for_selector("#verdict-line", timeout=120_000)  # then proof-listened alone (api.score_clip)
    verdict = page.inner_text("#verdict-line")
    assert re.fullmatch(r"(Still|Not) flagged \(confidence \d\.\d\d\)\. Proof-listening heard: “.+”.*", verdict), (
        verdict
    )
    check_page(page, "lexicon", watch.problems)  # with the verdict in its live region
    page.click("#save")
    page.wait_for_url(re.compile(r".*/lexicon\?saved=Putin.*"))
    assert "Saved the entry for “Putin”" in page.inner_text("main")
    assert page.inner_text("table.list tbody th") == "Putin"
    page.click("#republish")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    assert page.url != job_url
    page.wait_for_function("() => document.getElementById('job-state').textContent === 'done'", timeout=240_000)
    again = page.inner_text("#job-result")
    changed, total = map(int, re.match(r"(\d+) of (\d+) sentences synthesized", again).groups())
    assert total == sentences
    # only the sentences holding the word, less the one heard with the fix: hearing it put its clip in the cache
    assert changed == putin_sentences(cues) - 1 and 0 < changed < total, "only the sentences holding the word"

    # download the EPUB and validate it
    page.click("#job-publication")
    page.wait_for_url(running.url + "/publications/putin-today")
    with page.expect_download() as download:
        page.click("#downloads a[href$='/putin-today.epub?download=1']")
    epub = tmp_path / "putin-today.epub"
    download.value.save_as(epub)
    assert download.value.suggested_filename == "putin-today.epub"
    report = run_epubcheck(epub)
    assert report.ok, report.messages
    assert epub.read_bytes() == (running.data / "output" / "putin-today" / "putin-today.epub").read_bytes()

    # the other pages
    page.goto(running.url + "/")
    assert page.locator("table.list tbody tr").count() == 1
    check_page(page, "publications", watch.problems)
    page.fill("#q", "nothing like it")
    page.click(".filters button")
    assert page.inner_text("#count") == "0 of 1 publication."
    for path, name in (("/jobs", "jobs"), ("/users", "accounts"), ("/publications/putin-today/delete", "delete")):
        page.goto(running.url + path)
        check_page(page, name, watch.problems)
    page.goto(running.url + "/publications/no-such-thing")
    assert page.locator("h1").inner_text() == "Not found"
    watch.problems.clear()  # the 404 itself
    check_page(page, "not-found", watch.problems)

    # delete it
    page.goto(running.url + "/publications/putin-today/delete")
    page.click("button.danger")
    page.wait_for_url(running.url + "/")
    assert page.locator("table.list").count() == 0
    assert not (running.data / "output" / "putin-today").exists()
    context.close()
