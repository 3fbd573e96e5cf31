"""Pairing heard words with written ones, in order, for a whole book.

Anchors first: runs of words (5, then 3, 2, 1) that occur exactly once in the written range and
once in the heard range, kept where they agree in order (a longest increasing subsequence);
then the same inside every gap between anchors, down to gaps small enough for an exact dynamic
programme that also pairs misheard words (similar spelling). Words heard that are not written
(a preamble, credits, a repeated sentence) and words written that are not heard (a skipped
sentence) simply stay unpaired; a gap with no anchor at all and too large to search whole is
left unpaired too, so a recording of another text costs little and pairs little.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Sequence

DP_CELLS = 60_000  # largest gap (written × heard words) searched whole
MIN_SIMILAR = 0.66  # two different words pair only if this alike (normalised Levenshtein)
SHORT = 3  # words this short pair only when equal
GRAMS = (5, 3, 2, 1)

Pair = tuple[int, int, float]  # (written index, heard index, how alike: 1 for the same word)


def _unique_grams(words: Sequence[str], lo: int, hi: int, k: int) -> dict[tuple[str, ...], int]:
    seen: dict[tuple[str, ...], int] = {}
    repeated: set[tuple[str, ...]] = set()
    for i in range(lo, hi - k + 1):
        gram = tuple(words[i : i + k])
        if gram in seen:
            repeated.add(gram)
        else:
            seen[gram] = i
    return {g: i for g, i in seen.items() if g not in repeated}


def _increasing(candidates: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest chain of (i, j) with both increasing (candidates sorted by i, each i once)."""
    tails: list[int] = []  # smallest j ending a chain of each length
    ends: list[int] = []  # index into candidates of that chain's end
    back: list[int] = []
    for n, (_, j) in enumerate(candidates):
        at = bisect.bisect_left(tails, j)
        if at == len(tails):
            tails.append(j)
            ends.append(n)
        else:
            tails[at] = j
            ends[at] = n
        back.append(ends[at - 1] if at else -1)
    chain = []
    n = ends[-1] if ends else -1
    while n >= 0:
        chain.append(candidates[n])
        n = back[n]
    return chain[::-1]


def _anchors(written: Sequence[str], heard: Sequence[str], box: tuple[int, int, int, int], k: int) -> list[Pair]:
    """Word pairs from the k-word runs unique on both sides of `box`, in agreeing order."""
    a, b, c, d = box
    mine = _unique_grams(written, a, b, k)
    theirs = _unique_grams(heard, c, d, k)
    candidates = sorted((i, theirs[g]) for g, i in mine.items() if g in theirs)
    pairs: list[Pair] = []
    last_i = last_j = -1
    for i, j in _increasing(candidates):
        for t in range(k):  # overlapping runs give the same pairs once
            if i + t > last_i and j + t > last_j:
                pairs.append((i + t, j + t, 1.0))
                last_i, last_j = i + t, j + t
    return pairs


def _weights(written: Sequence[str], heard: Sequence[str], box: tuple[int, int, int, int]) -> list[list[float]]:
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cdist

    a, b, c, d = box
    rows, cols = list(written[a:b]), list(heard[c:d])
    similar = cdist(rows, cols, scorer=Levenshtein.normalized_similarity)
    out = []
    for r, word in enumerate(rows):
        short = len(word) <= SHORT
        row = []
        for s, other in enumerate(cols):
            if word == other:
                row.append(1.0)
            elif short or len(other) <= SHORT or similar[r][s] < MIN_SIMILAR:
                row.append(0.0)
            else:
                row.append(float(similar[r][s]) * 0.9)
        out.append(row)
    return out


def _programme(written: Sequence[str], heard: Sequence[str], box: tuple[int, int, int, int]) -> list[Pair]:
    """The pairing of greatest total likeness in `box` (a longest common subsequence where misheard
    words count by how alike they are)."""
    a, b, c, d = box
    n, m = b - a, d - c
    w = _weights(written, heard, box)
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        row, above, wi = score[i], score[i - 1], w[i - 1]
        for j in range(1, m + 1):
            best = above[j] if above[j] >= row[j - 1] else row[j - 1]
            if wi[j - 1] > 0.0:
                diagonal = above[j - 1] + wi[j - 1]
                if diagonal > best:
                    best = diagonal
            row[j] = best
    pairs: list[Pair] = []
    i, j = n, m
    while i > 0 and j > 0:
        if w[i - 1][j - 1] > 0.0 and score[i][j] == score[i - 1][j - 1] + w[i - 1][j - 1]:
            pairs.append((a + i - 1, c + j - 1, min(1.0, w[i - 1][j - 1] / 0.9) if w[i - 1][j - 1] < 1 else 1.0))
            i, j = i - 1, j - 1
        elif score[i][j] == score[i - 1][j]:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def pair_words(written: Sequence[str], heard: Sequence[str]) -> list[Pair]:
    """Heard words paired with written words, both in order (see the module's docstring)."""
    pairs: list[Pair] = []
    todo = [(0, len(written), 0, len(heard))]
    while todo:
        a, b, c, d = box = todo.pop()
        if a >= b or c >= d:
            continue
        if (b - a) * (d - c) <= DP_CELLS:
            pairs.extend(_programme(written, heard, box))
            continue
        found: list[Pair] = []
        for k in GRAMS:
            if b - a >= k and d - c >= k:
                found = _anchors(written, heard, box, k)
                if found:
                    break
        if not found:
            continue  # nothing in common to go by, and too large to search whole: left unpaired
        pairs.extend(found)
        corners = [(a - 1, c - 1), *[(i, j) for i, j, _ in found], (b, d)]
        for (i0, j0), (i1, j1) in itertools.pairwise(corners):
            todo.append((i0 + 1, i1, j0 + 1, j1))
    pairs.sort()
    return pairs


def by_group(pairs: list[Pair], groups: Sequence[int]) -> dict[int, list[Pair]]:
    """The pairs of each group (sentence) of written words; `groups[i]` is written word i's group."""
    out: dict[int, list[Pair]] = defaultdict(list)
    for pair in pairs:
        out[groups[pair[0]]].append(pair)
    return out
