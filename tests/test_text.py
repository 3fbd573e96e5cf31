"""Sentence splitting, dates, slugs."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from publisher.text.dates import display_date, parse_date
from publisher.text.sentences import split_sentences
from publisher.text.slugs import slugify


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


def test_dates_are_shown_as_each_language_writes_them() -> None:
    from publisher.text.dates import display_date

    expected = {
        "en": "March 5, 2024", "en-GB": "5 March 2024", "de": "5. März 2024", "fr": "5 mars 2024",
        "es": "5 de marzo de 2024", "ru": "5 марта 2024\u202fг.", "ja": "2024年3月5日", "zh": "2024年3月5日",
        "ar": "5 مارس 2024", "pl": "5 marca 2024", "cs": "5. března 2024", "xx-unknown": "March 5, 2024",
    }  # fmt: skip
    assert {lang: display_date("2024-03-05", lang) for lang in expected} == expected


def test_direction_follows_the_script() -> None:
    from publisher.text.languages import text_direction

    rtl = ["ar", "he", "fa", "ur", "yi", "ckb", "pa-Arab", "az-Arab", "ar-EG", "ar_SA", "ug"]
    ltr = ["en", "pa", "pa-Guru", "ks-Deva", "az", "ja", "zh-Hans", "sr-Cyrl", "de-AT"]
    assert [text_direction(t) for t in rtl] == ["rtl"] * len(rtl)
    assert [text_direction(t) for t in ltr] == ["ltr"] * len(ltr)


def test_slugs_are_transliterated() -> None:
    assert slugify("Война и мир") == "voina-i-mir"
    assert slugify("Straße der Ärzte") == "strasse-der-arzte"
    assert slugify("東京物語") == "dong-jing-wu-yu"
    assert slugify("الحرب والسلام") == "lhrb-wlslm"
    assert slugify("!!!") == "untitled"


def test_sentences_split_in_other_scripts() -> None:
    def cut(text: str, language: str) -> list[str]:
        return [text[s:e] for s, e in split_sentences(text, language)]

    assert cut("مرحبا بكم. كيف حالك؟ أنا بخير!", "ar") == ["مرحبا بكم.", "كيف حالك؟", "أنا بخير!"]
    assert cut("שלום לכם. מה שלומך? טוב!", "he") == ["שלום לכם.", "מה שלומך?", "טוב!"]
    assert cut("東京は大きい。人が多いです！本当？", "ja") == ["東京は大きい。", "人が多いです！", "本当？"]
    assert cut("今天很好。我们走吧！", "zh-Hant") == ["今天很好。", "我们走吧！"]
    assert cut("「行こう。」と彼は言った。", "ja") == ["「行こう。」と彼は言った。"]
    assert cut("Dr. Müller kam um 3.5 Uhr. Dann ging er.", "de") == ["Dr. Müller kam um 3.5 Uhr.", "Dann ging er."]


def test_language_tags_are_checked_against_the_registry() -> None:
    from publisher.text.languages import language_problem

    for good in ("en", "en-GB", "de-AT", "pt-BR", "sr-Latn", "zh-Hans", "deu", "fil", "pa-Arab", "en-GB-x-rp"):
        assert language_problem(good) is None, good
    for bad in ("zz", "xyz", "xx-YY", "en-", "english", "und"):
        assert language_problem(bad) is not None, bad
