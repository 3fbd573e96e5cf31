"""Each stage of the pipeline by itself, on its own inputs: read → prepare → synthesize → narrate →
audio → render → catalogue, the executor, staging and the manifest; and the library API's progress
events and cancellation. (test_publish.py and the others go through the whole pipeline.)"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from tests.conftest import FIXTURES, SEED, copy_fixture

from publisher import api
from publisher.audio.master import make_masters
from publisher.audio.place import place_audio
from publisher.errors import Cancelled, PublisherError
from publisher.formats import registry
from publisher.formats.context import RenderContext
from publisher.formats.cover import load_cover
from publisher.manifest import SCHEMA, Manifest, read_manifest
from publisher.model.publication import Publication
from publisher.pipeline.engines import EngineCache
from publisher.pipeline.executor import LocalExecutor
from publisher.pipeline.plan import plan_source
from publisher.pipeline.publish import work_for, write_catalogue
from publisher.pipeline.render import render
from publisher.pipeline.results import SourceResult
from publisher.pipeline.staging import commit, output_lock, remove_leftovers, staged
from publisher.prepare import prepare
from publisher.prepare.lexicon import Lexicon, parse_entry
from publisher.progress import CancelToken, Progress
from publisher.readers import ReadOptions, read_source
from publisher.settings import Settings
from publisher.speech.cache import ClipCache
from publisher.speech.engines import EngineOptions, get_engine
from publisher.speech.narrate import Voice, assemble, missing_clips, synthesize_clips

SILENT = get_engine("silent", EngineOptions())


def prepared(source: Path = SEED, **settings: object) -> Publication:
    pub = read_source(source)
    return prepare(pub, Settings(**settings), Lexicon(), narrator=SILENT.narrator, phonemes=False)  # type: ignore[arg-type]


# --- read and prepare -----------------------------------------------------------------------------


def test_read_gives_frozen_data() -> None:
    pub = read_source(SEED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pub.slug = "other"  # type: ignore[misc]
    block = pub.chapters[0].blocks[1]
    with pytest.raises(dataclasses.FrozenInstanceError):
        block.kind = "quote"  # type: ignore[misc]
    assert isinstance(pub.chapters, tuple) and isinstance(block.runs, tuple) and isinstance(block.sentences, tuple)
    assert isinstance(pub.metadata.authors, tuple)


def test_prepare_returns_new_data_and_leaves_the_read_one_alone() -> None:
    pub = read_source(SEED)
    before = [(s.id, s.text, s.spoken) for s in pub.sentences()]
    lexicon = Lexicon({"Putin": parse_entry("Pootin")})
    ready = prepare(pub, Settings(), lexicon, narrator="Test Voice", phonemes=False)
    assert ready is not pub
    assert [(s.id, s.text, s.spoken) for s in pub.sentences()] == before, "the read publication is unchanged"
    assert pub.metadata.identifier is None and ready.metadata.identifier
    assert ready.metadata.identifier.startswith("urn:uuid:")
    texts = [s.text for s in ready.sentences()]
    assert texts[:4] == ["Putin today", "By Ava Cai", "June 28, 2024", "Narrated by Test Voice"]
    assert texts[-1] == "This is the end of Putin today, by Ava Cai."
    spoken = {s.text: s.spoken for s in ready.sentences()}
    assert spoken["Putin today"] == "Pootin today"
    assert spoken["June 28, 2024"] == "June twenty-eighth, twenty twenty-four", "numbers are said as words"


def test_prepare_without_announcements_and_with_notes_at_the_chapter_end(tmp_path: Path) -> None:
    source = tmp_path / "notes.md"
    source.write_text("# One\n\nA claim.[^1] Another sentence.\n\n[^1]: The source of it.\n", encoding="utf-8")
    pub = read_source(source)
    assert [b.kind for b in pub.chapters[0].blocks] == ["heading", "paragraph", "note"]
    ready = prepare(pub, Settings(notes="chapter", announce=False), Lexicon(), narrator=None, phonemes=False)
    assert not ready.closing and not any(s.text.startswith("Narrated by") for s in ready.sentences())
    note = ready.chapters[0].blocks[-1]
    assert note.kind == "note" and note.endnote
    assert [s.id for s in ready.chapters[0].sentences()] == [f"c01-s{n:04d}" for n in range(1, 5)]
    unread = prepare(pub, Settings(notes="none"), Lexicon(), narrator=None, phonemes=False)
    assert not unread.chapters[0].blocks[-1].sentences


def test_markdown_typography_is_a_reading_option(tmp_path: Path) -> None:
    source = tmp_path / "quotes.md"
    source.write_text('# Q\n\nShe said "yes" -- twice...\n', encoding="utf-8")
    curly = read_source(source, ReadOptions(typographer=True)).chapters[0].blocks[1].text
    plain = read_source(source, ReadOptions(typographer=False)).chapters[0].blocks[1].text
    assert curly == "She said “yes” – twice…" and plain == 'She said "yes" -- twice...'
    source.write_text('---\ntypographer: false\n---\n# Q\n\nShe said "yes".\n', encoding="utf-8")
    assert read_source(source).chapters[0].blocks[1].text == 'She said "yes".'
    pinned = read_source(source, ReadOptions(typographer=True, typographer_pinned=True))
    assert pinned.chapters[0].blocks[1].text == "She said “yes”."


def test_settings_are_layered_once_and_the_caller_pins_what_it_sets() -> None:
    base = Settings(speed=1.1, pause_sentence=0.5)
    front = {"speed": 1.3, "pause_sentence": 0.2, "profile": "acx"}
    layered = base.for_source(front, "A title")
    assert (layered.speed, layered.pause_sentence, layered.profile) == (1.3, 0.2, "acx")
    assert layered.bitrate == 192, "the ACX profile's rules are applied after the layers"
    pinned = base.override(speed="1.5").for_source(front, "A title")
    assert (pinned.speed, pinned.pause_sentence) == (1.5, 0.2), "front matter cannot change what the caller set"
    with pytest.raises(PublisherError, match=r"^command line: speed: .*fast.*; unknown setting 'nope'$"):
        base.override(speed="fast", nope=1)
    with pytest.raises(PublisherError, match=r"^command line: speed 9.0 is outside 0.25–4.0$"):
        base.override(speed=9)


# --- synthesize and narrate -------------------------------------------------------------------------


def test_synthesis_fills_the_cache_and_stops_between_clips_when_cancelled(tmp_path: Path) -> None:
    pub = prepared()
    cache = ClipCache(tmp_path / "cache")
    clips, cached = missing_clips(pub, SILENT.cache_key, cache)
    assert cached == 0 and len(clips) == len({s.spoken for s in pub.sentences()})
    token = CancelToken()
    made: list[int] = []

    def tick(n: int) -> None:
        made.append(n)
        if len(made) == 5:
            token.cancel()

    with pytest.raises(Cancelled):
        synthesize_clips(clips, SILENT, cache, progress=tick, cancel=token)
    assert len(made) == 5 and len(missing_clips(pub, SILENT.cache_key, cache)[0]) == len(clips) - 5
    synthesize_clips(clips, SILENT, cache)
    assert missing_clips(pub, SILENT.cache_key, cache) == ([], len(list(pub.sentences())))


def test_narration_and_audio_stages_by_themselves(tmp_path: Path) -> None:
    pub = prepared(FIXTURES / "chapters.txt")
    cache = ClipCache(tmp_path / "cache")
    synthesize_clips(missing_clips(pub, SILENT.cache_key, cache)[0], SILENT, cache)
    settings = Settings()
    voice = Voice(SILENT.name, SILENT.narrator, SILENT.cache_key)
    (tmp_path / "work").mkdir()
    narration = assemble(pub, voice, settings, tmp_path / "work", cache)
    assert [t.index for t in narration.tracks] == [1, 2]
    assert [c.sentence_id for t in narration.tracks for c in t.cues] == [s.id for s in pub.sentences()]
    masters = make_masters(narration, settings, {})
    (tmp_path / "out").mkdir()
    placed, encoded = place_audio(pub, narration, masters, tmp_path / "out", settings, cache.segments)
    assert [a.chapter for a in placed.chapters] == [1, 2] and placed.full.chapter == 0
    assert placed.timeline.duration == pytest.approx(sum(t.duration for t in placed.timeline.tracks), abs=0.1)
    assert [m.title for m in placed.timeline.marks] == [c.title for c in pub.chapters]
    assert set(encoded.segments) == {1, 2} and not list((tmp_path / "out").iterdir()), "nothing joined yet"


# --- render, catalogue, staging and the manifest --------------------------------------------------------


def test_render_runs_every_renderer_in_order_and_stops_when_cancelled(tmp_path: Path) -> None:
    source = copy_fixture("chapters.txt", tmp_path)
    settings = Settings(engine="silent", output=tmp_path / "out", cache=tmp_path / "cache")
    engines = EngineCache()
    plan = plan_source(source, settings, engines, tmp_path / "scratch")
    assert not isinstance(plan, SourceResult)
    work = work_for(plan, engines)
    synthesize_clips(list(work.clips), SILENT, plan.clips)
    with staged(settings.output, plan.pub.slug) as (staging, scratch):
        narration = assemble(plan.pub, plan.voice, settings, scratch, plan.clips)
        placed, encoded = place_audio(
            plan.pub, narration, make_masters(narration, settings, {}), staging, settings, plan.clips.segments
        )
        ctx = RenderContext(
            pub=plan.pub, placed=placed, encoded=encoded, settings=settings, cover=load_cover(plan.pub.metadata),
            folder=staging, work=scratch, epoch=1700000000, modified="2023-11-14T22:13:20Z",
        )  # fmt: skip
        steps: list[tuple[int, int]] = []
        written = render(ctx, lambda done, total, stage: steps.append((done, total)) if stage == "render" else None)
        assert steps == [(n, len(registry.RENDERERS)) for n in range(1, len(registry.RENDERERS) + 1)]
        declared = {kind for r in registry.RENDERERS for kind in r.kinds}
        assert set(written) <= declared and {"epub", "read_aloud_epub", "mp3", "m4b", "page"} <= set(written)
        assert all(path.is_relative_to(staging) and path.exists() for path in written.values())
        token = CancelToken()
        token.cancel()
        with pytest.raises(Cancelled):
            render(ctx, cancel=token)
    assert not (settings.output / plan.pub.slug).exists(), "a staging folder is never moved into place half-made"


def test_catalogue_stage_by_itself(tmp_path: Path) -> None:
    output = tmp_path / "out"
    api.publish([copy_fixture("chapters.txt", tmp_path)], Settings(engine="silent", output=output))
    (output / "feed.xml").unlink()
    events: list[Progress] = []
    written = write_catalogue(output, Settings(output=output), events.append)
    assert output / "feed.xml" in written and (output / "feed.xml").is_file()
    assert [e.done for e in events] == list(range(1, len(registry.CATALOGUE_RENDERERS) + 1))
    assert {e.stage for e in events} == {"catalogue"}


def test_staging_moves_a_folder_into_place_whole(tmp_path: Path) -> None:
    output = tmp_path / "out"
    (output / "book").mkdir(parents=True)
    (output / "book" / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), staged(output, "book") as (staging, _):
        (staging / "half.txt").write_text("half")
        raise RuntimeError("killed")
    assert [p.name for p in (output / "book").iterdir()] == ["old.txt"]
    assert not list(output.glob(".*tmp-*")), "the staging folder went with the failure"
    with staged(output, "book") as (staging, _):
        (staging / "new.txt").write_text("new")
        commit(staging, output / "book")
    assert [p.name for p in (output / "book").iterdir()] == ["new.txt"]
    (output / ".book.tmp-x").mkdir()
    remove_leftovers(output)
    assert not (output / ".book.tmp-x").exists()
    with output_lock(output), pytest.raises(PublisherError, match="another publisher run"), output_lock(output):
        pass


def test_the_manifest_reads_back_what_it_wrote(tmp_path: Path) -> None:
    result = api.publish([copy_fixture("chapters.txt", tmp_path)], Settings(engine="silent", output=tmp_path / "o"))
    folder = result.results[0].folder
    assert folder is not None
    manifest = read_manifest(folder)
    assert manifest is not None and manifest.schema == SCHEMA
    raw = json.loads((folder / ".publisher.json").read_text())
    assert Manifest.from_json(raw) == manifest
    assert json.loads(manifest.to_json()) == raw, "the writer and the reader agree field for field"
    assert [c.sentence_id for c in manifest.cues] == [c.sentence_id for c in result.results[0].cues]
    raw["schema"] = SCHEMA + 1
    (folder / ".publisher.json").write_text(json.dumps(raw))
    assert read_manifest(folder) is None, "a manifest this version cannot read counts as absent"


# --- the executor and the library API ---------------------------------------------------------------


def test_local_executor_reports_progress_and_results(tmp_path: Path) -> None:
    source = copy_fixture("chapters.txt", tmp_path)
    settings = Settings(engine="silent", output=tmp_path / "out", cache=tmp_path / "cache")
    engines = EngineCache()
    plan = plan_source(source, settings, engines, tmp_path / "scratch")
    assert not isinstance(plan, SourceResult)
    events: list[Progress] = []
    (outcome,) = list(LocalExecutor(1).run([work_for(plan, engines)], events.append))
    assert isinstance(outcome.result, SourceResult) and outcome.result.state == "published"
    assert set(outcome.timings) == {"read", "synthesize", "render", "total"}
    narrated = [e.done for e in events if e.stage == "synthesize"]
    assert narrated == list(range(0, 13)), "a sentence at a time, from none to all 12"
    rendered = [(e.done, e.total) for e in events if e.stage == "render"]
    assert rendered[-1][0] == rendered[-1][1] == len(registry.RENDERERS) + 1


def test_api_publish_reports_each_stage_and_a_typed_result(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    copy_fixture("chapters.txt", sources)
    (sources / "broken.md").write_text("---\ntitle: [unclosed\n---\ntext\n")
    events: list[Progress] = []
    settings = api.load_settings(cwd=tmp_path).override(engine="silent", output=tmp_path / "out")
    batch = api.publish([sources], settings.override(cache=tmp_path / "cache"), progress=events.append)
    assert [r.state for r in batch.results] == ["failed", "published"]
    failed, published = batch.results
    assert failed.source.name == "broken.md" and "malformed YAML front matter" in str(failed.error)
    assert published.slug == "chapters" and published.synthesized == 12 and published.reused == 0
    assert published.folder and {p.name for p in published.files} >= {"chapters.epub", "chapters.mp3"}
    assert all(p.is_file() for p in published.files)
    assert [e.stage for e in events if e.stage != "synthesize"][:2] == ["read", "read"]
    assert events[-1].stage == "catalogue" and batch.catalogue and not batch.ok
    again = api.publish([sources / "chapters.txt"], settings.override(cache=tmp_path / "cache"))
    assert again.results[0].state == "unchanged" and again.results[0].reused == 0


def test_api_cancel_stops_the_run_and_keeps_what_was_finished(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("a", "b", "c"):
        (sources / f"{name}.txt").write_text((FIXTURES / "chapters.txt").read_text(), encoding="utf-8")
    token = CancelToken()

    def finished(result: SourceResult) -> None:
        if result.slug == "a":
            token.cancel()

    settings = Settings(engine="silent", output=tmp_path / "out", cache=tmp_path / "cache")
    batch = api.publish([sources], settings, cancel=token, on_result=finished)
    assert batch.cancelled and [r.state for r in batch.results] == ["published", "cancelled", "cancelled"]
    assert (tmp_path / "out" / "a" / "a.epub").is_file() and not (tmp_path / "out" / "b").exists()
    assert not list((tmp_path / "out").glob(".*tmp-*")), "nothing half-made is left"
    assert "a/" in (tmp_path / "out" / "index.html").read_text(), "the catalogue lists what was finished"


def test_a_token_can_be_cancelled_from_another_thread_through_its_poll(tmp_path: Path) -> None:
    flag = threading.Event()
    token = CancelToken(poll=flag.is_set)
    assert not token.cancelled
    flag.set()
    assert token.cancelled
    with pytest.raises(Cancelled):
        token.check()


def test_speak_says_one_sentence_as_the_publication_would(tmp_path: Path) -> None:
    settings = Settings(engine="silent", cache=tmp_path / "cache")
    plain = api.speak("Putin spoke.", settings)
    fixed = api.speak("Putin spoke.", settings, lexicon={"Putin": "Pootin Vladimirovich"})
    assert plain[:4] == b"RIFF" and fixed[:4] == b"RIFF"
    assert len(fixed) > len(plain), "the lexicon's longer reading is what is spoken"


def test_engines_and_voices_are_listed_through_the_api() -> None:
    found = {engine.name: engine for engine in api.engines()}
    assert list(found) == ["piper", "espeak", "gtts", "silent"]
    assert found["espeak"].offline and found["espeak"].problem is None and not found["gtts"].offline
    espeak = api.voices("espeak")
    assert len(espeak) > 100 and any(v.startswith("en") for v in espeak)
    with pytest.raises(api.EngineError, match="unknown engine 'bogus'"):
        api.voices("bogus")


def test_media_types_of_published_files_through_the_api() -> None:
    assert api.media_type("putin-today/putin-today.epub") == "application/epub+zip"
    assert api.media_type("putin-today/audio/01-putin-today.mp3") == "audio/mpeg"
    assert api.media_type("feed.xml") == "application/rss+xml"
    assert api.media_type("opds.xml").startswith("application/atom+xml;profile=opds-catalog")


def test_a_cancelled_process_pool_ends_whatever_signal_handlers_the_caller_has(tmp_path: Path) -> None:
    """A front end with its own SIGTERM handler (the studio's worker has one) cancels a synthesis
    spread over processes: the forked processes do not keep that handler, so the pool ends."""
    script = f"""
import signal, sys
from pathlib import Path
from publisher.errors import Cancelled
from publisher.progress import CancelToken
from publisher.speech.cache import ClipCache
from publisher.speech.engines import EngineOptions, EngineSpec, get_engine
from publisher.speech.engines import silent
from publisher.speech.narrate import Clip, synthesize_clips

signal.signal(signal.SIGTERM, lambda *_: None)  # a handler that does not end the process
silent.SilentEngine.parallel = True
engine = get_engine("silent", EngineOptions())
clips = [Clip(f"{{i:064x}}", f"s{{i}}", "A sentence of some length. " * 20) for i in range(200)]
token = CancelToken()
done = []
def tick(n):
    done.append(n)
    if len(done) == 3:
        token.cancel()
try:
    synthesize_clips(clips, engine, ClipCache(Path({str(tmp_path)!r})), 2, EngineSpec("silent", EngineOptions()),
                     tick, token)
except Cancelled:
    print("cancelled after", len(done))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("cancelled after 3"), proc.stdout


def test_xml_lang_is_quoted_as_xml_sax_quotes_it() -> None:
    """The EPUB's package language, quoted without importing xml.sax (and urllib, http, ssl with it)."""
    from xml.sax.saxutils import quoteattr

    from publisher.formats.book.epub import _quoteattr

    for value in ("en", "pt-BR", 'a"b', "a'b", "a\"'b<&>\n\r\t", ""):
        assert _quoteattr(value) == quoteattr(value)


def test_a_text_publish_loads_only_what_it_needs(tmp_path: Path) -> None:
    """A plain-text source without front matter, published with the silent voice, never loads YAML,
    xml.sax (with urllib, http and ssl), Piper, or anything of recorded narration."""
    (tmp_path / "story.txt").write_text("A Story\nAn Author\n\nIt was short. It ended.\n", encoding="utf-8")
    command = ["publish", "story.txt", "--engine", "silent", "-o", "out", "--cache-dir", "cache"]
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "publisher", *command], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "out" / "story" / "story.epub").is_file()
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "publisher.formats.book.epub" in modules
    unneeded = ("yaml", "xml.sax", "urllib.request", "ssl", "piper", "onnxruntime", "publisher.align", "faster_whisper")
    assert not [m for m in modules if m.startswith(unneeded)]
