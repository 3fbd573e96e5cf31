"""Narration: speak every sentence on its own and lay the clips out on one timeline per chapter.

Each chapter becomes one WAV file streamed to disk clip by clip, and every sentence's exact
position in it is recorded (a Cue), so captions and read-aloud sync need no forced alignment.
"""

from __future__ import annotations

import logging
import math
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from publisher.errors import EngineError
from publisher.ffmpeg import configure_pydub
from publisher.model.publication import Block, Publication, Sentence
from publisher.model.timeline import Cue, Narration, Track
from publisher.progress import CancelToken, check
from publisher.settings import Settings
from publisher.speech.cache import ClipCache
from publisher.speech.engines import Audio, Engine, EngineOptions, EngineSpec, get_engine
from publisher.wavfile import WavWriter

log = logging.getLogger(__name__)

#: Sample rate of the narration timeline (Piper's and eSpeak's own); MP3s are resampled later.
TIMELINE_RATE = 22050

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Clip:
    """One sentence to synthesize: its content address in the clip cache, its id and spoken text."""

    key: str
    sentence_id: str
    text: str


@dataclass(frozen=True)
class Voice:
    """What a narration records of its engine: name, narrator label and the clips' cache key; and
    the cache key of the voice reading each other language (sentences with `language` set)."""

    name: str
    narrator: str
    cache_key: str
    others: tuple[tuple[str, str], ...] = ()  # (language, cache key)

    def key_for(self, sentence: Sentence) -> str:
        """The cache key of the voice that reads `sentence`."""
        return dict(self.others).get(sentence.language, self.cache_key) if sentence.language else self.cache_key


def _pause_after(block: Block, last_in_block: bool, settings: Settings) -> float:
    if not last_in_block:
        return settings.pause_sentence
    if block.kind in ("heading", "byline"):
        return settings.pause_heading if block.kind == "heading" else settings.pause_sentence * 1.5
    return settings.pause_paragraph


def script(pub: Publication, chapter_index: int, settings: Settings) -> Iterator[tuple[Sentence, float]]:
    """The sentences of one chapter's audio, each with the pause that follows it."""
    blocks: list[Block] = []
    first, last = chapter_index == 1, chapter_index == len(pub.chapters)
    if first and pub.has_title_page:
        blocks.extend(pub.front)
    blocks.extend(pub.chapters[chapter_index - 1].blocks)
    for block in blocks:
        for i, sentence in enumerate(block.sentences):
            yield sentence, _pause_after(block, i == len(block.sentences) - 1, settings)
    if last:
        for sentence in pub.closing:
            yield sentence, settings.pause_sentence


def count_sentences(pub: Publication) -> int:
    """How many clips a narration of `pub` synthesizes."""
    return sum(1 for _ in pub.sentences())


class _TrackWriter:
    """Streams 16-bit mono PCM into a WAV file (RF64 past 4 GiB, wavfile.py) and keeps the sample count."""

    def __init__(self, path: Path, rate: int) -> None:
        self.rate = rate
        self.samples = 0
        self.energy = 0.0  # sum of squared samples
        self._wav = WavWriter(path, rate)

    @property
    def seconds(self) -> float:
        return self.samples / self.rate

    def silence(self, seconds: float) -> None:
        n = round(seconds * self.rate)
        self._wav.writeframes(bytes(2 * n))
        self.samples += n

    @property
    def rms(self) -> float:
        """RMS level of everything written, dBFS (-inf for silence)."""
        if not self.energy:
            return -math.inf
        return 10 * math.log10(self.energy / self.samples) - 20 * math.log10(32768)

    def clip(self, pcm: bytes) -> None:
        import numpy as np

        self._wav.writeframes(pcm)
        self.samples += len(pcm) // 2
        # summed as integers: exact, so the same float as the float64 dot product it replaces (every
        # partial sum of a clip is below 2**53), without going through BLAS, whose threads cost
        # 0.3-0.5 s per narration on a busy 2-core machine (measured: 25 clips, 0.34 s vs 0.007 s)
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.int64)
        self.energy += float(np.dot(samples, samples))

    def close(self) -> None:
        self._wav.close()


def to_timeline(audio: Audio) -> bytes:
    """Bring a clip to the timeline's format (pydub resamples clips from other engines)."""
    if audio.sample_rate == TIMELINE_RATE:
        return audio.pcm
    configure_pydub()
    from pydub import AudioSegment

    segment = AudioSegment(data=audio.pcm, sample_width=2, frame_rate=audio.sample_rate, channels=1)
    return bytes(segment.set_frame_rate(TIMELINE_RATE).raw_data)


_WORKER: tuple[Engine, ClipCache] | None = None  # a synthesis process's engine and the cache it fills


def forked_engine(name: str, options: EngineOptions) -> Engine:
    """The engine of a forked synthesis process (a pool's worker, a voice loaded ahead). Such a
    process keeps its parent's signal handlers: a front end's own SIGTERM handler (the studio's)
    would stop its parent from ending it, so it gets the default back."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return get_engine(name, options)


def _init_worker(name: str, options: EngineOptions, root: Path) -> None:
    global _WORKER
    _WORKER = (forked_engine(name, options), ClipCache(root))


def _work(clip: Clip) -> str:
    assert _WORKER is not None
    engine, cache = _WORKER
    cache.put(clip.key, speak(engine, clip))
    return clip.key


def default_jobs() -> int:
    """Synthesis processes to use: one per core (measured fastest for Piper; see BENCHMARKS.md)."""
    return max(1, os.cpu_count() or 1)


def missing_clips(
    pub: Publication, cache_key: str, cache: ClipCache, others: tuple[tuple[str, str], ...] = ()
) -> tuple[list[Clip], int]:
    """The clips `pub` needs that `cache` lacks (each once, longest text first, so no worker is
    left with the tail), and how many of its sentences the cache already holds. Sentences read by
    another language's voice (`others`, made by speak_other_languages) count as held."""
    todo: dict[str, Clip] = {}
    cached = 0
    other = dict(others)
    for sentence in pub.sentences():
        if sentence.language in other:
            cached += 1
            continue
        key = cache.key(cache_key, sentence.spoken)
        if key in todo or cache.has(key):
            cached += 1
        else:
            todo[key] = Clip(key, sentence.id, sentence.spoken)
    return sorted(todo.values(), key=lambda c: -len(c.text)), cached


def speak_other_languages(pub: Publication, engines: dict[str, Engine], cache: ClipCache) -> None:
    """Make the clips of the sentences in another language than the publication (`engines`: the
    voice of each), in this process: they are few (the credits), and the main voice's workers
    know nothing of these voices."""
    for sentence in pub.sentences():
        engine = engines.get(sentence.language) if sentence.language else None
        if engine is None:
            continue
        key = cache.key(engine.cache_key, sentence.spoken)
        if not cache.has(key):
            cache.put(key, speak(engine, Clip(key, sentence.id, sentence.spoken)))


def speak(engine: Engine, clip: Clip) -> bytes:
    """One clip in the timeline's format; an engine failure names the sentence."""
    try:
        return to_timeline(engine.synthesize(clip.text))
    except EngineError as exc:
        raise EngineError(f"sentence {clip.sentence_id} ({clip.text[:50]!r}): {exc.message}") from exc


def synthesize_clips(
    clips: list[Clip],
    engine: Engine,
    cache: ClipCache,
    jobs: int = 1,
    spec: EngineSpec | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> None:
    """Make `clips` into `cache`. With `jobs` > 1 and an engine worth it, they are spread over that
    many processes (each engine with cores ÷ jobs threads). A cancelled token stops it between
    clips (each clip in the cache is whole: the cache only ever gains complete clips)."""
    if not clips:
        return
    check(cancel)
    prepare = getattr(engine, "prepare", None)
    if prepare is not None:  # one-time model preparation, before workers fork (not once per worker)
        prepare()
    if jobs > 1 and engine.parallel and spec is not None and len(clips) > 1:
        name, options = spec
        threads = max(1, (os.cpu_count() or 1) // jobs)
        options = replace(options, threads=threads)
        import multiprocessing  # only for a pool (7 ms of a run that synthesizes in this process)

        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        with context.Pool(
            min(jobs, len(clips)), initializer=_init_worker, initargs=(name, options, cache.root)
        ) as pool:
            try:
                for _ in pool.imap_unordered(_work, clips, chunksize=1):
                    if progress is not None:
                        progress(1)
                    check(cancel)
            except BaseException:
                pool.terminate()
                raise
    else:
        for clip in clips:
            check(cancel)
            cache.put(clip.key, speak(engine, clip))
            if progress is not None:
                progress(1)


def narrate(pub: Publication, engine: Engine, settings: Settings, workdir: Path, cache: ClipCache) -> Narration:
    """Speak `pub` with `engine` (in this process) into one WAV per chapter under `workdir`: the
    synthesize and narrate stages at once, for a script or a test (the pipeline runs them apart,
    synthesis where the executor says).

    Clips come from `cache` (made first where missing), so a re-run only synthesizes what changed,
    and an interrupted run loses nothing it had finished.
    """
    clips, _ = missing_clips(pub, engine.cache_key, cache)
    synthesize_clips(clips, engine, cache)
    return assemble(pub, Voice(engine.name, engine.narrator, engine.cache_key), settings, workdir, cache, len(clips))


def assemble(
    pub: Publication, voice: Voice, settings: Settings, workdir: Path, cache: ClipCache, made: int = 0
) -> Narration:
    """Lay the cached clips of `pub` (every one must be there) out as one WAV per chapter under
    `workdir`, with each sentence's cue; `made` is how many were synthesized for it in this run."""
    tracks = []
    for chapter in pub.chapters:
        wav = workdir / f"{chapter.index:02d}.wav"
        writer = _TrackWriter(wav, TIMELINE_RATE)
        cues = []
        try:
            writer.silence(settings.lead_in)
            for sentence, pause in script(pub, chapter.index, settings):
                start = writer.seconds
                writer.clip(cache.get(cache.key(voice.key_for(sentence), sentence.spoken)))
                cues.append(Cue(sentence.id, sentence.text, start, writer.seconds))
                writer.silence(pause)
            writer.silence(settings.tail)
        finally:
            writer.close()
        tracks.append(Track(chapter.index, chapter.title, wav, writer.seconds, tuple(cues), writer.rms))
    return Narration(voice.name, voice.narrator, TIMELINE_RATE, tuple(tracks), made)
