"""eSpeak NG through the libespeak-ng shipped in the espeakng-loader wheel (offline, fast)."""

from __future__ import annotations

import ctypes
import functools
import threading
from pathlib import Path
from typing import Any

from publisher.errors import EngineError
from publisher.i18n import translator
from publisher.speech.engines import Audio, EngineOptions

INSTALL_HINT = "install it with: pip install espeakng-loader"
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE = 1  # espeakRATE parameter
_DEFAULT_WPM = 175
ESPEAK_DATA_VERSION = "espeakng-loader-1.52"
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


def voices() -> list[str]:
    """Every language voice in the bundled espeak-ng-data."""
    try:
        import espeakng_loader
    except ImportError:
        return []
    lang_dir = Path(espeakng_loader.get_data_path()) / "lang"
    return sorted(p.name for p in lang_dir.rglob("*") if p.is_file())


def voice_for_language(language: str) -> str:
    """The eSpeak NG voice for a BCP 47 tag ("en" → "en-us", "fr-CA" → "fr")."""
    lang = language.lower()
    if lang in ("en", "en-us"):
        return "en-us"
    if lang.startswith("en-"):
        return "en-gb" if lang in ("en-gb", "en-uk", "en-ie") else "en-us"
    return lang.split("-")[0]


class EspeakEngine:
    """Speaks with eSpeak NG; 16-bit mono at 22,050 Hz."""

    name = "espeak"
    phonemes = False
    parallel = False  # ~700× real time: not worth a process

    def __init__(self, options: EngineOptions) -> None:
        self._lib, self.sample_rate = _library()
        self.voice = options.voice or voice_for_language(options.language)
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
        """One sentence → one clip."""
        buf = bytearray()

        @_CALLBACK
        def collect(wav: Any, count: int, _events: Any) -> int:
            if count > 0:
                buf.extend(ctypes.string_at(wav, count * 2))
            return 0

        data = ctypes.create_string_buffer(text.encode("utf-8"))
        with _LOCK:  # libespeak-ng is a process-wide singleton
            self._lib.espeak_SetSynthCallback(collect)
            self._lib.espeak_SetVoiceByName(self.voice.encode())
            self._lib.espeak_SetParameter(_RATE, self.wpm, 0)
            status = self._lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != 0:
            raise EngineError(f"eSpeak NG failed (status {status}) on {text[:60]!r}")
        return Audio(pcm=bytes(buf), sample_rate=self.sample_rate)
