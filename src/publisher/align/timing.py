"""From paired words to each sentence's start and end: found sentences take the times of their
heard words, moved to the pauses around them; sentences not found are given the time between
their found neighbours, shared by length; what was heard but not written is listed."""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from publisher.align.match import Pair, by_group, pair_words
from publisher.align.pieces import FRAME
from publisher.align.result import Alignment, FileInfo, SentenceTime, Stretch, Written
from publisher.align.transcribe import FileTranscript, Transcript
from publisher.align.words import tokens

log = logging.getLogger(__name__)

FOUND = 0.5  # share of a sentence's words that must be heard for it to count as found
CLUSTER_GAP = 2.0  # seconds between heard words that split a sentence's words into separate places
MIN_PAUSE = 0.06  # seconds below the quiet level that make a pause
SEARCH = 0.35  # seconds around the heard words' edges searched for the pause
BACK = 2.0  # seconds before a sentence's first heard word (after its last) searched for its pause
START_PAD = 0.03  # seconds a sentence starts before the sound after its pause (soft onsets; BENCHMARKS.md)
END_PAD = 0.08  # seconds a sentence ends after the sound before its pause (fading ends)
SHORTEST = 0.05  # seconds every sentence lasts at least (interpolated ones too)
STRETCH_WORDS = 3  # heard words in a row not in the text that make a stretch worth reporting
STRETCH_SECONDS = 1.5  # … or that long
RESCUE_SCORE = 70.0  # how alike (0–100) a sentence's letters and the heard letters must be to find it
RESCUE_LETTERS = 8  # shorter sentences are never found by their letters alone ("Who are they?" ~ "whereas the")
RESCUE_CHARS = 20_000  # heard letters searched at most between two found sentences
SILENT_GAP = 4.0  # seconds with sound but no word heard that make a stretch too (music, noise)


@dataclass(frozen=True)
class HeardToken:
    """One compared word heard, on the joined timeline."""

    word: str
    start: float
    end: float
    file: int
    source: int  # index of the Whisper word it came from


class Levels:
    """The recording's level every 10 ms, per file, and each file's quiet threshold."""

    def __init__(self, transcript: Transcript, offsets: Sequence[float]) -> None:
        import numpy as np

        self.files = transcript.files
        self.offsets = list(offsets)
        self.quiet: list[float] = []
        for heard in self.files:
            levels = heard.levels[heard.levels > -119.0] if len(heard.levels) else heard.levels
            if len(levels) == 0:
                self.quiet.append(-119.0)
                continue
            floor, loud = float(np.percentile(levels, 5)), float(np.percentile(levels, 95))
            self.quiet.append(max(floor + 0.3 * (loud - floor), floor + 3.0))

    def file_of(self, seconds: float) -> int:
        """The file playing at `seconds` (joined timeline)."""
        return max(0, bisect_right(self.offsets, seconds + 1e-9) - 1)

    def pauses(self, file: int, lo: float, hi: float, reach: float = 5.0) -> list[tuple[float, float]]:
        """Quiet runs of at least MIN_PAUSE in `file` that touch [`lo`, `hi`] (joined timeline), each
        whole (followed up to `reach` seconds beyond the window)."""
        heard: FileTranscript = self.files[file]
        offset = self.offsets[file]
        first = max(0, int((lo - reach - offset) / FRAME))
        last = min(len(heard.levels), int((hi + reach - offset) / FRAME) + 1)
        if last <= first:
            return []
        quiet = (heard.levels[first:last] < self.quiet[file]).tolist()
        runs = []
        at = first
        for is_quiet, group in itertools.groupby(quiet):
            n = len(list(group))
            start, end = offset + at * FRAME, offset + (at + n) * FRAME
            if is_quiet and n * FRAME >= MIN_PAUSE and end >= lo and start <= hi:
                runs.append((start, end))
            at += n
        return runs

    def sound(self, file: int, lo: float, hi: float) -> float:
        """Share of the frames between `lo` and `hi` above the quiet level."""
        heard = self.files[file]
        offset = self.offsets[file]
        first, last = max(0, int((lo - offset) / FRAME)), min(len(heard.levels), int((hi - offset) / FRAME))
        if last <= first:
            return 0.0
        return float((heard.levels[first:last] >= self.quiet[file]).mean())


def bisect_right(values: Sequence[float], x: float) -> int:
    """Index after the last value ≤ x (values sorted)."""
    import bisect

    return bisect.bisect_right(list(values), x)


def heard_tokens(transcript: Transcript, offsets: Sequence[float], language: str) -> list[HeardToken]:
    """Every compared word heard, in order, on the joined timeline (a Whisper word that compares as
    several words shares its time among them)."""
    out: list[HeardToken] = []
    source = 0
    for index, (heard, offset) in enumerate(zip(transcript.files, offsets, strict=True)):
        for word in heard.words:
            parts = tokens(word.text, language)
            span = max(word.end - word.start, 0.0) / max(len(parts), 1)
            for n, part in enumerate(parts):
                start = offset + word.start + n * span
                out.append(HeardToken(part, start, start + span, index, source))
            source += 1
    return out


def _place(pairs: list[Pair], heard: list[HeardToken]) -> list[Pair]:
    """The sentence's pairs in its main place: words heard more than CLUSTER_GAP apart split them
    into places; the place with the most likeness wins (a stray common word elsewhere is dropped)."""
    groups: list[list[Pair]] = [[pairs[0]]]
    for pair in pairs[1:]:
        if heard[pair[1]].start - heard[groups[-1][-1][1]].end > CLUSTER_GAP:
            groups.append([])
        groups[-1].append(pair)
    return max(groups, key=lambda g: sum(p[2] for p in g))


@dataclass
class _Span:
    written: Written
    language: str
    count: int  # compared words
    pairs: list[Pair]
    start: float = math.nan  # nan until known
    end: float = math.nan
    first: float = 0.0  # start of its first heard word
    last: float = 0.0  # end of its last heard word
    confidence: float = 0.0
    found: bool = False


def _boundary(levels: Levels, a: _Span, b: _Span) -> None:
    """Set a's end and b's start at the longest pause between them (or halfway, when there is none)."""
    file_a, file_b = levels.file_of(a.last), levels.file_of(b.first)
    if file_a != file_b:
        return  # each file's edge is found on its own (_start_at_pause, _end_at_pause)
    lo, hi = min(a.last, b.first) - SEARCH, max(a.last, b.first) + SEARCH
    runs = [
        (max(start, a.first + SHORTEST), min(end, b.last - SHORTEST))
        for start, end in levels.pauses(file_a, lo, hi)
        if start < b.last - SHORTEST and end > a.first + SHORTEST
    ]
    runs = [r for r in runs if r[1] > r[0]]
    if runs:
        middle = (a.last + b.first) / 2
        start, end = max(runs, key=lambda r: (round(r[1] - r[0], 2), -abs((r[0] + r[1]) / 2 - middle)))
        a.end, b.start = start + END_PAD, max(start + END_PAD, end - START_PAD)
    else:
        a.end = b.start = (a.last + b.first) / 2


def _start_at_pause(levels: Levels, span: _Span, earliest: float) -> None:
    """Start `span` where the sound after the last pause before its first heard word begins (no
    earlier than `earliest`, no later than its end)."""
    file = levels.file_of(span.first)
    cap = (span.last if math.isnan(span.end) else span.end) - SHORTEST
    latest = min(span.first + SEARCH, cap)
    runs = [r for r in levels.pauses(file, max(earliest, span.first - BACK), latest) if r[0] <= latest and r[1] < cap]
    if runs:
        start, end = runs[-1]
        span.start = max(end - START_PAD, start, earliest)
    else:
        span.start = max(min(span.first, cap), earliest)


def _end_at_pause(levels: Levels, span: _Span, latest: float) -> None:
    """End `span` where the sound before the first pause after its last heard word stops (no later
    than `latest`, no earlier than its start)."""
    file = levels.file_of(span.last)
    floor = (span.first if math.isnan(span.start) else span.start) + SHORTEST
    earliest = max(span.last - SEARCH, floor)
    runs = [
        r for r in levels.pauses(file, earliest, min(latest, span.last + BACK)) if r[1] >= earliest and r[0] > floor
    ]
    if runs:
        start, end = runs[0]
        span.end = min(max(start + END_PAD, floor), end, latest)
    else:
        span.end = min(max(span.last, floor), latest)


def _interpolate(spans: list[_Span], lo: float, hi: float) -> None:
    """Share [lo, hi] among `spans` by their text's length (each at least SHORTEST)."""
    weights = [max(len(s.written.text), 1) for s in spans]
    total = sum(weights)
    at = lo
    room = max(hi - lo, SHORTEST * len(spans))
    for span, weight in zip(spans, weights, strict=True):
        span.start = at
        at += room * weight / total
        span.end = at


def _stretches(pairs: list[Pair], heard: list[HeardToken], levels: Levels, spans: list[_Span]) -> list[Stretch]:
    """Runs of heard words not in the text, and long stretches of sound with no word heard."""
    paired = {p[1] for p in pairs}
    found = [(s.start, s.end) for s in spans if s.found]
    out: list[Stretch] = []
    run: list[HeardToken] = []

    def inside(start: float, end: float) -> bool:
        middle = (start + end) / 2
        return any(a <= middle <= b for a, b in found)

    def close() -> None:
        long_enough = len(run) >= STRETCH_WORDS or (run and run[-1].end - run[0].start >= STRETCH_SECONDS)
        if run and long_enough and (not inside(run[0].start, run[-1].end) or len(run) >= 2 * STRETCH_WORDS):
            out.append(Stretch(run[0].start, run[-1].end, " ".join(t.word for t in run)))
        run.clear()

    for n, token in enumerate(heard):
        if n not in paired:
            run.append(token)
        else:
            close()
    close()
    edges = [0.0] + [t for h in heard for t in (h.start, h.end)] + [levels.offsets[-1] + levels.files[-1].duration]
    for gap_start, gap_end in zip(edges[::2], edges[1::2]):  # noqa: B905 - pairs of edges
        if gap_end - gap_start >= SILENT_GAP:
            file = levels.file_of(gap_start)
            if levels.sound(file, gap_start, gap_end) >= 0.5:
                out.append(Stretch(gap_start, gap_end, ""))
    return sorted(out, key=lambda s: s.start)


def time_sentences(
    written: Sequence[Written],
    transcript: Transcript,
    files: Sequence[FileInfo],
    language: str,
) -> Alignment:
    """Align the heard words with `written` and give every sentence its time (see the module's docstring)."""
    offsets = [f.start for f in files]
    levels = Levels(transcript, offsets)
    heard = heard_tokens(transcript, offsets, language)
    text: list[str] = []
    groups: list[int] = []
    for n, sentence in enumerate(written):
        words = tokens(sentence.text, language)
        text.extend(words)
        groups.extend([n] * len(words))
    pairs = pair_words(text, [h.word for h in heard])
    grouped = by_group(pairs, groups)
    spans = _spans(written, language, groups, grouped, heard)
    _rescue(spans, heard)
    total = sum(f.duration for f in files)
    _time_found(spans, levels, total)
    _fill_gaps(spans, total)
    sentences = tuple(
        SentenceTime(
            s.written.sentence_id, s.written.chapter, s.written.text, round(s.start, 3), round(s.end, 3),
            round(s.confidence, 3), s.found, " ".join(heard[p[1]].word for p in s.pairs) if s.found else "",
        )
        for s in spans
    )  # fmt: skip
    stretches = _stretches(pairs, heard, levels, spans)
    model = transcript.decoding.model
    paired_words = sum(len(s.pairs) for s in spans if s.found)
    return Alignment(language, model, tuple(files), sentences, tuple(stretches), len(text), paired_words)


def _spans(
    written: Sequence[Written],
    language: str,
    groups: list[int],
    grouped: dict[int, list[Pair]],
    heard: list[HeardToken],
) -> list[_Span]:
    """One span per written sentence, placed where its paired words were heard (found or not)."""
    spans = [_Span(sentence, language, 0, []) for sentence in written]
    for n in groups:
        spans[n].count += 1
    for n, span in enumerate(spans):
        mine = grouped.get(n, [])
        if not mine:
            continue
        mine = _place(mine, heard)
        span.pairs = mine
        span.confidence = min(1.0, sum(p[2] for p in mine) / max(span.count, 1))
        span.found = span.confidence >= FOUND
        span.first = heard[mine[0][1]].start
        span.last = max(heard[mine[-1][1]].end, span.first + SHORTEST)
    return spans


def _time_found(spans: list[_Span], levels: Levels, total: float) -> None:
    """Start and end times of the found spans: at the pause between found neighbours, else at the
    nearest pause within the sentence's file and its neighbours' times."""
    found = [s for s in spans if s.found]
    places = [n for n, s in enumerate(spans) if s.found]
    for (i, a), (j, b) in itertools.pairwise(zip(places, found, strict=True)):
        if j - i == 1:
            _boundary(levels, a, b)
    for k, span in enumerate(found):  # the edges no neighbour's pause gave
        if math.isnan(span.start):
            before = found[k - 1] if k else None
            earliest = 0.0 if before is None else (before.last if math.isnan(before.end) else before.end)
            _start_at_pause(levels, span, max(earliest, levels.offsets[levels.file_of(span.first)]))
    for k, span in enumerate(found):
        if math.isnan(span.end):
            after = found[k + 1] if k + 1 < len(found) else None
            file = levels.file_of(span.last)
            file_end = levels.offsets[file] + levels.files[file].duration
            latest = min(total if after is None else after.start, file_end)
            _end_at_pause(levels, span, latest)
    for span in found:
        span.end = max(span.end, span.start + SHORTEST)


def _unfound_runs(spans: list[_Span]) -> Iterator[tuple[int, int]]:
    """Each run of sentences not found, as (first, end) indexes: spans[first:end], between found
    ones. A run is measured when it is reached, after the caller handled the run before it."""
    n = 0
    while n < len(spans):
        if spans[n].found:
            n += 1
            continue
        m = n
        while m < len(spans) and not spans[m].found:
            m += 1
        yield n, m
        n = m


def _rescue(spans: list[_Span], heard: list[HeardToken]) -> None:
    """Find sentences the word pairing missed by their letters among the heard words between their
    found neighbours: words heard joined or split differently ("forholdmelegnationerne" for
    "forhold mellem nationerne") pair no word, yet spell nearly the same."""
    from rapidfuzz import fuzz

    for n, m in _unfound_runs(spans):
        lo = max(p[1] for p in spans[n - 1].pairs) + 1 if n > 0 else 0
        hi = min(p[1] for p in spans[m].pairs) if m < len(spans) else len(heard)
        for span in spans[n:m]:
            target = "".join(tokens(span.written.text, span.language))
            if len(target) < RESCUE_LETTERS or hi <= lo:
                continue
            owner: list[int] = []
            for t in range(lo, hi):
                owner.extend([t] * len(heard[t].word))
            if len(owner) > RESCUE_CHARS:
                break
            haystack = "".join(heard[t].word for t in range(lo, hi))
            match = fuzz.partial_ratio_alignment(target, haystack)
            if match is None or match.score < RESCUE_SCORE or match.dest_end <= match.dest_start:
                continue
            first, last = owner[match.dest_start], owner[match.dest_end - 1]
            span.pairs = [(-1, t, match.score / 100) for t in range(first, last + 1)]
            span.confidence = round(match.score / 100 * min(1.0, (match.dest_end - match.dest_start) / len(target)), 3)
            span.found = span.confidence >= FOUND
            span.first = heard[first].start
            span.last = max(heard[last].end, span.first + SHORTEST)
            if span.found:
                lo = last + 1
            else:
                span.pairs = []


def _fill_gaps(spans: list[_Span], total: float) -> None:
    """Interpolate every run of sentences not found between the found ones around it; keep every
    sentence after the one before it."""
    for n, m in _unfound_runs(spans):
        lo = spans[n - 1].end if n > 0 else 0.0
        hi = spans[m].start if m < len(spans) else total
        if hi - lo < SHORTEST * (m - n):  # no room: borrow from the found neighbours
            need = SHORTEST * (m - n) - (hi - lo)
            if n > 0:
                spans[n - 1].end = max(spans[n - 1].start + SHORTEST, spans[n - 1].end - need / 2)
                lo = spans[n - 1].end
            if m < len(spans):
                spans[m].start = min(spans[m].end - SHORTEST, spans[m].start + need / 2)
                hi = spans[m].start
        _interpolate(spans[n:m], lo, hi)
    for a, b in itertools.pairwise(spans):
        if b.start < a.end:
            b.start = a.end
        if b.end < b.start + SHORTEST:
            b.end = b.start + SHORTEST
