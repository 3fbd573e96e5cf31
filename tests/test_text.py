"""Sentence splitting, dates, slugs."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from publisher.text import display_date, parse_date, slugify, split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_keeps_abbreviations_decimals_and_quotes_intact() -> None:
    text = "He can hurt the U.S. and NATO. Mr. Smith paid $3.50 for it. He said “Stop. Now.” and left."
    assert sentences(text) == [
        "He can hurt the U.S. and NATO.",
        "Mr. Smith paid $3.50 for it.",
        "He said “Stop. Now.” and left.",
    ]


def test_splits_questions_and_exclamations() -> None:
    assert sentences("Is it? Yes! It is.") == ["Is it?", "Yes!", "It is."]


def test_text_without_final_punctuation_is_one_sentence() -> None:
    assert sentences("  no full stop here  ") == ["no full stop here"]


def test_empty_text_has_no_sentences() -> None:
    assert split_sentences("   ") == []


words = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=8)
punct = st.sampled_from(["", "", ".", "!", "?", ",", ";", " U.S.", " Mr.", " 3.5", "…", "”", "“"])
token = st.builds(lambda w, p: w + p, words, punct)


@given(st.lists(token, min_size=1, max_size=60))
def test_no_character_is_lost_or_repeated(tokens: list[str]) -> None:
    text = " ".join(tokens)
    spans = split_sentences(text)
    # spans are in order, do not overlap, and together hold every non-space character once
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    joined = "".join(text[s:e] for s, e in spans)
    assert joined.replace(" ", "") == text.replace(" ", "")


def test_parse_date_accepts_real_dates_only() -> None:
    assert parse_date("June 28, 2024") == "2024-06-28"
    assert parse_date("28 June 2024") == "2024-06-28"
    assert parse_date("2024-06-28") == "2024-06-28"
    assert parse_date("Jun. 28, 2024") == "2024-06-28"
    assert parse_date("Ava Cai") is None
    assert parse_date("By June 2024 the war had changed.") is None
    assert parse_date("Chapter 1999") is None


def test_display_date() -> None:
    assert display_date("2024-06-28") == "June 28, 2024"


def test_slugify_is_safe_for_paths() -> None:
    assert slugify("Putin today") == "putin-today"
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("Ça va? Ünïcode") == "ca-va-unicode"
    assert slugify("   ") == "untitled"
    assert len(slugify("x" * 500)) <= 60
