"""Google Translate TTS through gTTS: needs the internet; offline it says which engines work."""

from __future__ import annotations

import io
from pathlib import Path

from publisher.errors import EngineError, RenderError
from publisher.ffmpeg import decode_to_pcm
from publisher.i18n import translator
from publisher.speech.engines import OFFLINE_ENGINES, Audio, EngineOptions

INSTALL_HINT = "install it with: pip install gTTS"
SAMPLE_RATE = 24000  # what Google sends


def probe() -> str | None:
    """gTTS is installed; whether Google is reachable is only known when it is used."""
    try:
        import gtts  # noqa: F401
    except ImportError:
        return f"gTTS is not installed; {INSTALL_HINT}"
    return None


def voices(voices_dir: Path | None = None) -> list[str]:
    """gTTS voices are languages (and accents through the Google domain)."""
    return ["any gTTS language code (en, fr, de, es, …)"]


class GttsEngine:
    """Sends each sentence to Google; decodes the MP3 answer (24 kHz) to 16-bit mono PCM."""

    name = "gtts"
    phonemes = False
    parallel = False

    def __init__(self, options: EngineOptions) -> None:
        try:
            import gtts  # noqa: F401
        except ImportError as exc:
            raise EngineError(f"gTTS is not installed; {INSTALL_HINT}") from exc
        self.lang = (options.voice or options.language).split("-")[0].lower()
        self.slow = options.speed < 0.8
        self.language = self.lang
        self._language = options.language  # the language of the credits
        self.cache_key = f"gtts:{self.lang}:{self.slow}"

    @property
    def narrator(self) -> str:
        """e.g. "the Google Translate voice, a synthetic voice"."""
        return translator(self._language).gettext("the Google Translate voice, a synthetic voice")

    def synthesize(self, text: str) -> Audio:
        """One sentence → one clip, over the network."""
        from gtts import gTTS
        from gtts.tts import gTTSError

        buf = io.BytesIO()
        try:
            gTTS(text, lang=self.lang, slow=self.slow, lang_check=False).write_to_fp(buf)
        except gTTSError as exc:
            raise EngineError(
                f"gtts could not reach Google's text-to-speech service ({exc}); it needs the "
                f"internet. Use an offline engine instead: --engine {OFFLINE_ENGINES.split(',')[0]} "
                f"(offline engines: {OFFLINE_ENGINES})"
            ) from exc
        except Exception as exc:  # requests' connection errors and the like
            raise EngineError(f"gtts failed: {exc}. It needs the internet; offline engines: {OFFLINE_ENGINES}") from exc
        try:
            pcm = decode_to_pcm(buf.getvalue(), SAMPLE_RATE, "the audio gtts returned")
        except RenderError as exc:
            raise EngineError(exc.message) from exc
        return Audio(pcm=pcm, sample_rate=SAMPLE_RATE)


def create(options: EngineOptions) -> GttsEngine:
    """The engine, as the registry builds it."""
    return GttsEngine(options)
