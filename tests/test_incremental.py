"""Incremental publishing: the narration cache, unchanged sources skipped, one edit → one clip,
interrupted runs resumed, and reproducible bytes with SOURCE_DATE_EPOCH."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.helpers import ctrl_c_works, publish_one

from publisher.cli import cli
from publisher.settings import Settings
from publisher.speech.cache import CacheInfo, ClipCache


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(tmp_path: Path, seed: Path) -> Path:
    (tmp_path / "sources").mkdir()
    shutil.copy(seed, tmp_path / "sources")
    return tmp_path


def run(project: Path, engine: str = "silent", **extra: object) -> object:
    settings = Settings(engine=engine, output=project / "output", cache=project / "cache", **extra)  # type: ignore[arg-type]
    return publish_one(project / "sources" / "putin-today.txt", settings)


def test_second_run_is_skipped_and_force_uses_the_cache(project: Path) -> None:
    first = run(project)
    assert first.synthesized == first.sentences == 25 and not first.skipped
    again = run(project)
    assert again.skipped and again.synthesized == 0
    assert again.cues == first.cues and again.audio == tuple(
        a.__class__(a.path, a.chapter, a.title, a.duration) for a in first.audio
    )
    forced = run(project, force=True)
    assert not forced.skipped and forced.synthesized == 0
    info = ClipCache(project / "cache").info()
    assert info.clips == 25


def test_cache_prune_and_clear_cover_clips_and_encoded_segments(project: Path) -> None:
    run(project)
    cache = ClipCache(project / "cache")
    info = cache.info()
    assert info.clips == 25 and info.segments >= 3 and info.segment_bytes > 0
    assert len(list(cache.segments.rglob("*.json"))) * 3 == info.segments  # MP3 + AAC + facts each
    stale = cache.root / "models" / "en_US-joe-medium.0123456789abcdef.onnx"  # e.g. from an older patch
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"old model")
    os.utime(stale, (time.time() - 40 * 86400,) * 2)
    assert cache.prune(older_than_days=30) == (1, len(b"old model"))  # the rest was used just now
    removed, _ = cache.prune(older_than_days=0)
    assert removed == 25 + info.segments + info.other  # the notes of this publish too
    assert cache.info().clips == cache.info().segments == 0
    forced = run(project, force=True)  # everything is made again, and the outputs are whole
    assert forced.synthesized == 25 and forced.full.path.stat().st_size > 0


def test_cache_info_prune_and_clear_cover_everything_the_publisher_keeps_there(project: Path) -> None:
    """Transcripts of recordings, the joined recogniser model and the notes of earlier publishes
    are in the cache too: `cache info` counts them, `prune` drops those unused for a while and
    `clear` all of them, but nothing of the user's own in that folder."""
    run(project)
    root = project / "cache"
    notes = [p for name in ("sources", "catalogue") for p in (root / name).rglob("*") if p.is_file()]
    assert len(notes) >= 2, "a publish leaves a note of its source and of its catalogue"
    transcript = root / "align" / "ab" / "abcdef.json"
    model = root / "whisper" / "base-0123456789abcdef" / "model.bin"
    for path, data in ((transcript, b"{}"), (model, b"model" * 1000)):
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
    os.utime(model, (time.time() - 40 * 86400,) * 2)
    mine = root / "my-notes.txt"
    mine.write_text("the user's own", encoding="utf-8")
    cache = ClipCache(root)
    info = cache.info()
    assert info.other == len(notes) + 2 and info.other_bytes >= 5000
    runner = CliRunner()
    shown = runner.invoke(cli, ["cache", "info", "--cache-dir", str(root)])
    assert f"transcripts, recogniser model and notes: {info.other} files" in shown.output, shown.output
    assert cache.prune(older_than_days=30) == (1, 5000)  # the recogniser model nobody used for 40 days
    cleared = runner.invoke(cli, ["cache", "clear", "--cache-dir", str(root)])
    assert cleared.exit_code == 0, cleared.output
    assert [p for p in root.rglob("*") if p.is_file()] == [mine]
    assert cache.info() == CacheInfo(root, 0, 0, 0, 0)


def test_one_edited_sentence_is_the_only_one_synthesized(project: Path) -> None:
    run(project)
    source = project / "sources" / "putin-today.txt"
    source.write_text(source.read_text(encoding="utf-8").replace("another level", "a new level"), encoding="utf-8")
    edited = run(project)
    assert edited.synthesized == 1 and not edited.skipped
    assert any("a new level" in c.text for c in edited.cues)


def test_a_changed_setting_renders_again(project: Path) -> None:
    run(project)
    assert not run(project, bitrate=96).skipped


def test_changed_voice_setting_misses_the_cache(project: Path) -> None:
    run(project)
    assert run(project, speed=1.25).synthesized == 25


def test_no_cache_leaves_the_cache_alone(project: Path) -> None:
    result = run(project, use_cache=False)
    assert result.synthesized == 25
    assert not (project / "cache" / "clips").exists()


def test_piper_is_deterministic_and_cached(tmp_path: Path) -> None:
    from publisher.speech.engines import EngineOptions, get_engine

    engine = get_engine("piper", EngineOptions(cache_dir=tmp_path))
    a = engine.synthesize("The same words, twice.")
    engine.synthesize("Something else in between.")
    b = engine.synthesize("The same words, twice.")
    other = get_engine("piper", EngineOptions(cache_dir=tmp_path))  # a new session: same bytes
    assert a.pcm == b.pcm == other.synthesize("The same words, twice.").pcm


def test_deterministic_model_patch_matches_the_onnx_library() -> None:
    """The patch, written on the protobuf encoding directly, is the model the ONNX library builds
    with its own helpers: every RandomNormalLike replaced in place by Shape → Add → Div → Tile →
    Slice over one fixed noise tensor, nothing else changed; and it passes ONNX's checker."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    from publisher.speech.engines import determinism
    from publisher.speech.engines.piper import default_voice

    model = default_voice()
    expected = onnx.load(str(model))
    graph = expected.graph
    assert sum(n.op_type == "RandomNormalLike" for n in graph.node) == 2  # the joe voice's two draws
    shape = np.array(determinism.NOISE_SHAPE, dtype=np.int64)
    noise = np.random.default_rng(determinism.NOISE_SEED).standard_normal(determinism.NOISE_SHAPE, dtype=np.float32)
    graph.initializer.extend([
        numpy_helper.from_array(noise, "publisher_fixed_noise"),
        numpy_helper.from_array(shape, "publisher_noise_shape"),
        numpy_helper.from_array(shape - 1, "publisher_noise_shape_less_1"),
        numpy_helper.from_array(np.zeros(3, dtype=np.int64), "publisher_noise_starts"),
    ])  # fmt: skip
    for position, node in [(i, n) for i, n in enumerate(graph.node) if n.op_type == "RandomNormalLike"][::-1]:
        name = f"{node.name}_publisher"
        steps = [
            ("Shape", [node.input[0]], f"{name}_shape"),
            ("Add", [f"{name}_shape", "publisher_noise_shape_less_1"], f"{name}_up"),
            ("Div", [f"{name}_up", "publisher_noise_shape"], f"{name}_repeats"),
            ("Tile", ["publisher_fixed_noise", f"{name}_repeats"], f"{name}_tiled"),
            ("Slice", [f"{name}_tiled", "publisher_noise_starts", f"{name}_shape"], node.output[0]),
        ]
        graph.node.remove(node)
        for offset, (op, inputs, output) in enumerate(steps):
            graph.node.insert(position + offset, helper.make_node(op, inputs, [output], name=f"{name}_{op}"))

    patched = onnx.load_from_string(determinism.patched_graph(model))
    assert patched == expected
    onnx.checker.check_model(patched)


def test_deterministic_model_is_kept_in_the_cache_and_tiles_its_noise(tmp_path: Path, monkeypatch) -> None:
    """The patched model is written once into the cache (a small graph and its tensors beside it,
    which speak exactly like the model in one piece) and found after; an input longer than the
    fixed noise tensor gets the tensor repeated (here a tensor of 16 frames, 0.19 s, against a
    sentence of about 3 s), and still speaks the same samples every time."""
    import onnxruntime
    from piper import PiperVoice, SynthesisConfig
    from piper.config import PiperConfig

    from publisher.speech.engines import determinism
    from publisher.speech.engines.piper import default_voice

    model = default_voice()
    kept = determinism.prepared_model(model, tmp_path)
    tensors = kept.with_name(kept.name + ".data")
    assert kept.parent == tmp_path / "models" and tensors.is_file()
    assert kept.stat().st_size < 1_000_000 < 60_000_000 < tensors.stat().st_size  # the graph; its weights beside
    made = kept.stat().st_ino
    assert determinism.prepared_model(model, tmp_path) == kept and kept.stat().st_ino == made  # found, not made again
    config = PiperConfig.from_dict(json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8")))
    text = "Ninety-nine sentences, and this one is the hundredth."

    def speak(graph: Path | bytes) -> bytes:
        source = graph if isinstance(graph, bytes) else str(graph)
        session = onnxruntime.InferenceSession(source, determinism.load_options(), providers=["CPUExecutionProvider"])
        voice = PiperVoice(config=config, session=session)
        return b"".join(c.audio_int16_bytes for c in voice.synthesize(text, syn_config=SynthesisConfig()))

    assert speak(kept) == speak(determinism.patched_graph(model))  # the same model, in two files
    tensors.unlink()  # half a pair is made again
    assert determinism.prepared_model(model, tmp_path) == kept and tensors.is_file() and kept.stat().st_ino != made

    monkeypatch.setattr(determinism, "NOISE_SHAPE", (1, 192, 16))
    short = determinism.prepared_model(model, tmp_path)
    assert short != kept  # the noise's shape is part of the key
    first = speak(short)
    assert len(first) / 2 / config.sample_rate > 2.0  # far longer than the noise tensor
    assert speak(short) == first


def _gains(project: Path) -> dict[str, float]:
    manifest = json.loads((project / "output" / "putin-today" / ".publisher.json").read_text(encoding="utf-8"))
    assert manifest["levels"]["profile"] == "podcast"
    return manifest["levels"]["gains"]  # type: ignore[no-any-return]


def test_a_republish_starts_from_the_last_gain_and_still_lands_on_target(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The chapter's gain is kept in the manifest; the next publish encodes with it straight away
    (no loudness passes), checks what it encoded, and corrects a gain that no longer fits."""
    from publisher.audio.loudness import measure

    source = project / "sources" / "putin-today.txt"
    run(project, engine="espeak")
    first = _gains(project)
    source.write_text(source.read_text(encoding="utf-8").replace("another level", "a new level"), encoding="utf-8")
    with caplog.at_level("INFO", logger="publisher.audio.place"):
        edited = run(project, engine="espeak")
    assert not [r for r in caplog.records if "encoding it again" in r.message]
    assert _gains(project) == first  # the hint was right: used as it was
    assert -20.0 <= measure(edited.full.path).integrated <= -18.0  # type: ignore[attr-defined]

    manifest_path = project / "output" / "putin-today" / ".publisher.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["levels"]["gains"]["1"] = first["1"] + 5.0  # a hint 5 dB too loud
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    source.write_text(source.read_text(encoding="utf-8").replace("a new level", "another level"), encoding="utf-8")
    with caplog.at_level("INFO", logger="publisher.audio.place"):
        corrected = run(project, engine="espeak")
    assert [r for r in caplog.records if "encoding it again" in r.message]
    assert abs(_gains(project)["1"] - first["1"]) < 0.5
    for path in (corrected.full.path, corrected.folder / "putin-today.m4b"):  # type: ignore[attr-defined]
        assert -20.0 <= measure(path).integrated <= -18.0, path


def _cli(project: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "publisher", "-q", "publish", "sources", "-o", "output", "--cache-dir", "cache", *args],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=ctrl_c_works,
    )  # fmt: skip


@pytest.mark.slow
def test_interrupted_run_resumes_to_identical_outputs(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Kill a real-voice publish half-way; the next run finishes from the cache with the same bytes
    as an uninterrupted run (SOURCE_DATE_EPOCH fixes the only clock in the outputs)."""
    env = dict(os.environ, SOURCE_DATE_EPOCH="1719532800")
    proc = _cli(project, "--jobs", "1", env=env)
    clips = project / "cache" / "clips"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(clips.rglob("*.pcm"))) < 8:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    made = len(list(clips.rglob("*.pcm")))
    assert 8 <= made < 25, "the run was stopped half-way"
    assert not (project / "output" / "putin-today").exists(), "no partial output"
    assert not list((project / "output").glob(".putin-today.tmp-*")), "no staging left behind"
    resumed = _cli(project, env=env)
    assert resumed.wait(timeout=300) == 0, resumed.communicate()[1]

    clean = tmp_path_factory.mktemp("clean")
    (clean / "sources").mkdir()
    shutil.copy(project / "sources" / "putin-today.txt", clean / "sources")
    fresh = _cli(clean, env=env)
    assert fresh.wait(timeout=300) == 0, fresh.communicate()[1]
    assert digests(project / "output" / "putin-today") == digests(clean / "output" / "putin-today")


def test_a_new_voice_patch_makes_publications_render_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A publication made with an older deterministic patch is not "unchanged": the patch decides
    the noise, so the audio would come out different."""
    from publisher.pipeline.fingerprint import voice_identity
    from publisher.speech.engines import determinism

    before = voice_identity(Settings(engine="piper"))
    monkeypatch.setattr(determinism, "PATCH_VERSION", "next")
    assert voice_identity(Settings(engine="piper")) != before
    assert voice_identity(Settings(engine="espeak")) == "espeak:None"  # other engines: name and voice


#: publish `sources/` of the project named on the command line with the real voice, once per text
#: given after it (each written to sources/story.txt first); say of each publish what was synthesized,
#: whether this process loaded the voice ("here": no process loads it ahead) and how many processes
#: were started ahead so far (a spare, started before the source is read, is then given the voice)
_PUBLISH_AND_TELL = """
import json, sys
from pathlib import Path
from publisher import api
from publisher.pipeline import engines
from publisher.speech import ahead
project, where, texts = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
if where == "here":
    engines.EngineCache.start_ahead = lambda *args: None
    engines.start_spare = lambda *args: None
started = []
init = ahead.Speaker.__init__
def counted(self, *args):
    started.append("spare" if isinstance(args[0], str) else "voice")  # a spare is given only the engine's name
    init(self, *args)
ahead.Speaker.__init__ = counted
settings = api.Settings(engine="piper", output=project / "output", cache=project / "cache")
for text in texts:
    (project / "sources" / "story.txt").write_text(text, encoding="utf-8")
    result = api.publish([project / "sources"], settings).results[0]
    print(json.dumps({"state": result.state, "synthesized": result.synthesized, "voice_here": "piper" in sys.modules,
                      "started": started}))
"""


def _publish_and_tell(project: Path, *texts: str, where: str = "ahead") -> list[dict[str, object]]:
    env = dict(os.environ, SOURCE_DATE_EPOCH="1719532800")
    (project / "sources").mkdir(parents=True, exist_ok=True)
    script = [sys.executable, "-c", _PUBLISH_AND_TELL, str(project), where, *texts]
    proc = subprocess.run(script, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.strip().splitlines()]


def test_an_edit_is_spoken_by_the_voice_loaded_ahead_with_the_same_bytes(tmp_path: Path) -> None:
    """After an edit, the voice loads in a process started while the source is read and prepared
    (speech/ahead.py), and speaks the edited sentence there: the publishing process never loads
    Piper, and every file is byte for byte what the same edit makes with the voice loaded here.
    A process that publishes again keeps that process, its voice loaded, for its next edit."""
    text = "A Short Story\nAn Author\n\nThe first sentence stays as it is. The second one is edited.\n"
    edits = text.replace("is edited", "was changed"), text.replace("is edited", "changed again")
    projects = tmp_path / "ahead", tmp_path / "here"
    [first] = _publish_and_tell(projects[0], text)
    assert first["state"] == "published" and first["synthesized"] >= 4  # credits and both sentences
    assert first["started"] == []  # a first publish: no edit to expect
    shutil.copytree(projects[0], projects[1])
    ahead = _publish_and_tell(projects[0], *edits)
    # the first edit's process was started before the source was read (a spare), and is kept
    assert ahead == [{"state": "published", "synthesized": 1, "voice_here": False, "started": ["spare"]}] * 2
    here = _publish_and_tell(projects[1], *edits, where="here")
    assert [(r["synthesized"], r["voice_here"], r["started"]) for r in here] == [(1, True, [])] * 2
    outputs, clips = ([digests(p / folder) for p in projects] for folder in ("output", "cache/clips"))
    assert outputs[0] == outputs[1] and len(outputs[0]) > 20
    assert clips[0] == clips[1]
    # the command line ends its voice process before it exits: none holds its output open after it
    (projects[0] / "sources" / "story.txt").write_text(text.replace("is edited", "is edited at last"), encoding="utf-8")
    command = [sys.executable, "-m", "publisher", "-v", "publish", "sources", "-o", "output", "--cache-dir", "cache"]
    cli = subprocess.run(command, cwd=projects[0], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert "1 of 1 sentences spoken by the voice loaded ahead" in cli.stderr
