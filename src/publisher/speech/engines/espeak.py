"""eSpeak NG through the libespeak-ng shipped in the espeakng-loader wheel (offline, fast)."""

from __future__ import annotations

import ctypes
import functools
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from publisher.errors import EngineError
from publisher.i18n import translator
from publisher.speech.engines import Audio, EngineOptions
from publisher.speech.voices import Offer, match

INSTALL_HINT = "install it with: pip install espeakng-loader"
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE = 1  # espeakRATE parameter
_DEFAULT_WPM = 175
ESPEAK_DATA_VERSION = "espeakng-loader-1.52:fresh"  # each sentence from the same state (espeak_worker.py)
_LOCK = threading.Lock()
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@functools.lru_cache(maxsize=1)
def _library() -> tuple[Any, int]:
    try:
        import espeakng_loader
    except ImportError as exc:
        raise EngineError(f"eSpeak NG is not installed; {INSTALL_HINT}") from exc
    try:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
    except OSError as exc:
        raise EngineError(f"cannot load libespeak-ng: {exc}") from exc
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
        ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
    ]  # fmt: skip
    data = espeakng_loader.get_data_path().encode()
    rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
    if rate <= 0:
        raise EngineError("libespeak-ng failed to initialise (its data folder may be missing)")
    return lib, rate


def probe() -> str | None:
    """None if eSpeak NG loads here, else the reason."""
    try:
        _library()
    except EngineError as exc:
        return exc.message
    return None


@functools.lru_cache(maxsize=1)
def voice_offers() -> tuple[Offer, ...]:
    """Every voice of the bundled espeak-ng-data with the languages (and priorities) it declares."""
    try:
        import espeakng_loader
    except ImportError:
        return ()
    offers = []
    for path in sorted((Path(espeakng_loader.get_data_path()) / "lang").rglob("*")):
        if not path.is_file():
            continue
        languages = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] == "language":
                languages.append((words[1], int(words[2]) if len(words) > 2 and words[2].isdigit() else 5))
        offers.append(Offer(path.name, tuple(languages)))
    return tuple(offers)


def _voice_names() -> dict[str, str]:
    try:
        import espeakng_loader
    except ImportError:
        return {}
    names = {}
    for path in (Path(espeakng_loader.get_data_path()) / "lang").rglob("*"):
        if path.is_file():
            line = next((x for x in path.read_text(errors="replace").splitlines() if x.startswith("name ")), "")
            names[path.name] = line[5:].strip()
    return names


def voices(voices_dir: Path | None = None) -> list[str]:
    """Every language voice in the bundled espeak-ng-data: "de (German): de"."""
    names = _voice_names()
    return [
        f"{o.name} ({names.get(o.name, '?')}): {', '.join(lang for lang, _ in o.languages)}"
        for o in sorted(voice_offers(), key=lambda o: o.name.lower())
    ]


def voice_for_language(language: str) -> str:
    """The eSpeak NG voice for a voice name or BCP 47 tag, matched case-insensitively with fallback
    ("en" → "en-US", "en-GB" → "en" (eSpeak's British English), "pt-br" → "pt-BR", "zh-Hans" → "cmn",
    "sr-Latn" → "sr"); raises EngineError naming the tag when no voice speaks it."""
    if language.replace("_", "-").lower() in ("en", "eng"):
        return "en-us"  # the publisher's English is American, as its default Piper voice is
    voice = match(language, voice_offers())
    if voice is None:
        raise EngineError(f"eSpeak NG has no voice for {language!r}; `publisher voices --engine espeak` lists them")
    return voice


class EspeakEngine:
    """Speaks with eSpeak NG; 16-bit mono at 22,050 Hz."""

    name = "espeak"
    phonemes = False
    parallel = False  # ~700× real time: not worth a process

    def __init__(self, options: EngineOptions) -> None:
        self._lib, self.sample_rate = _library()
        self.voice = voice_for_language(options.voice or options.language)
        self.language = self.voice
        self._language = options.language
        self.wpm = max(80, min(450, round(_DEFAULT_WPM * options.speed)))
        with _LOCK:
            if self._lib.espeak_SetVoiceByName(self.voice.encode()) != 0:
                raise EngineError(f"eSpeak NG has no voice {self.voice!r}")
        self.cache_key = f"espeak:{ESPEAK_DATA_VERSION}:{self.voice}:{self.wpm}"

    @property
    def narrator(self) -> str:
        """e.g. "eSpeak NG, a synthetic voice (en-us)", in the language the voice was chosen for."""
        return translator(self._language).gettext("eSpeak NG, a synthetic voice ({voice})", voice=self.voice)

    def synthesize(self, text: str) -> Audio:
        """One sentence → one clip, spoken from the same state whatever was said before (see
        espeak_worker.py), so the same text always gives the same samples."""
        status, payload = _helper().speak(self.voice, self.wpm, text)
        if status != 0:
            detail = payload.decode("utf-8", "replace") if status < 0 else f"status {status}"
            raise EngineError(f"eSpeak NG failed ({detail}) on {text[:60]!r}")
        return Audio(pcm=payload, sample_rate=self.sample_rate)


class _Helper:
    """The espeak_worker process of this process (a forked process starts its own)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "publisher.speech.engines.espeak_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def speak(self, voice: str, wpm: int, text: str) -> tuple[int, bytes]:
        data = text.encode("utf-8")
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        with _LOCK:
            try:
                stdin.write(f"{voice} {wpm} {len(data)}\n".encode() + data)
                stdin.flush()
                return _read_answer(stdout)
            except (OSError, ValueError) as exc:
                raise EngineError(f"the eSpeak NG helper process stopped ({exc})") from exc


def _read_answer(stdout: IO[bytes]) -> tuple[int, bytes]:
    header = stdout.readline().split()
    if len(header) != 2:
        raise ValueError("no answer")
    status, size = int(header[0]), int(header[1])
    payload = stdout.read(size)
    if len(payload) != size:
        raise ValueError("answer cut short")
    return status, payload


_HELPER: _Helper | None = None


def _helper() -> _Helper:
    global _HELPER
    with _LOCK:
        if _HELPER is None or _HELPER.pid != os.getpid() or _HELPER.process.poll() is not None:
            _HELPER = _Helper()
        return _HELPER


def create(options: EngineOptions) -> EspeakEngine:
    """The engine, as the registry builds it."""
    return EspeakEngine(options)
