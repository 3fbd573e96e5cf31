"""Spoken-text normalisation and the pronunciation lexicon."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.errors import ConfigError
from publisher.readers import read_source
from publisher.speech.credits import add_front_matter
from publisher.speech.lexicon import Lexicon, load_lexicon, parse_entry
from publisher.speech.normalise import normalise, prepare_spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Mr. Smith paid $3.50.", "Mister Smith paid three dollars and fifty cents."),
        ("It costs $5 million.", "It costs five million dollars."),
        ("It was June 28, 2024.", "It was June twenty-eighth, twenty twenty-four."),
        ("In 2022 he warned.", "In twenty twenty-two he warned."),
        ("It rose 5% to 1,250 units.", "It rose five percent to one thousand, two hundred and fifty units."),
        ("Meet at 10:30 am or 9:05.", "Meet at ten thirty A M or nine oh five."),
        ("The 21st century.", "The twenty-first century."),
        ("The 1990s were loud.", "The nineteen nineties were loud."),
        ("Pi is 3.14.", "Pi is three point one four."),
        ("St. Paul lives on Main St. near Dr. Who & co.", "Saint Paul lives on Main Street near Doctor Who and co."),
        ("See www.example.org/page now.", "See example dot org slash page now."),
        ("Mail ada@example.com today.", "Mail ada at example dot com today."),
        ("Tea, e.g. green, etc.", "Tea, for example green, et cetera"),
        ("He can hurt the U.S. and NATO.", "He can hurt the U.S. and NATO."),
        ("“Quotes” and — dashes — stay.", "“Quotes” and — dashes — stay."),
    ],
)
def test_english_rules(text: str, spoken: str) -> None:
    assert normalise(text, "en-US") == spoken


def test_roman_numerals_only_in_headings() -> None:
    assert normalise("Chapter IV", "en", heading=True) == "Chapter four"
    assert normalise("Henry IV was king.", "en") == "Henry IV was king."


def test_other_languages_get_their_own_numbers() -> None:
    assert normalise("Il a 25 ans.", "fr") == "Il a vingt-cinq ans."
    assert normalise("Er ist 25.", "de") == "Er ist fünfundzwanzig."


def test_display_text_never_changes(fixtures: Path) -> None:
    pub = read_source(fixtures / "book.md")
    add_front_matter(pub, "Someone")
    before = [s.text for s in pub.sentences()]
    prepare_spoken(pub, Lexicon({"Babbage": parse_entry("Babbidge")}), phonemes=False)
    assert [s.text for s in pub.sentences()] == before
    spoken = {s.text: s.spoken for s in pub.sentences()}
    assert spoken["Mr. Babbage paid $3.50 for the U.S. edition."] == (
        "Mister Babbidge paid three dollars and fifty cents for the U.S. edition."
    )
    # the source is en-GB: its date is shown day first, and read so
    assert spoken["1 September 1843"] == "the first of September, eighteen forty three"


def test_lexicon_is_whole_word_and_case_aware() -> None:
    lexicon = Lexicon(
        {
            "Putin": parse_entry("[[ pˈuːtɪn ]] | Pootin"),
            "nginx": parse_entry("engine x"),
            "Cai": parse_entry("[[ tsaɪ ]]"),
        }
    )
    text = "Putin and Putin’s aide ran NGINX near Rasputin; putin stays."
    assert lexicon.apply(text, phonemes=True) == (
        "[[ pˈuːtɪn ]] and [[ pˈuːtɪnz ]] aide ran engine x near Rasputin; putin stays."
    )
    assert lexicon.apply(text, phonemes=False) == "Pootin and Pootin’s aide ran engine x near Rasputin; putin stays."
    assert lexicon.apply("By Ava Cai.", phonemes=False) == "By Ava Cai."  # no respelling: left alone


def test_lexicon_files(tmp_path: Path) -> None:
    txt = tmp_path / "lexicon.txt"
    txt.write_text("# comment\nPutin: [[ pˈuːtɪn ]] | Pootin  # the president\nnginx: engine x\n", encoding="utf-8")
    lexicon = load_lexicon(txt)
    assert lexicon.entries["Putin"].phonemes == "pˈuːtɪn"
    assert lexicon.entries["Putin"].respelling == "Pootin"
    assert lexicon.entries["nginx"].respelling == "engine x"
    pls = tmp_path / "lexicon.pls"
    pls.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" xml:lang="en">'
        "<lexeme><grapheme>Houthis</grapheme><phoneme>hˈuːθiz</phoneme><alias>Hoothees</alias></lexeme>"
        "</lexicon>",
        encoding="utf-8",
    )
    assert load_lexicon(pls).entries["Houthis"] == parse_entry("[[ hˈuːθiz ]] | Hoothees")
    bad = tmp_path / "bad.txt"
    bad.write_text("Putin\n: nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1: expected 'word: pronunciation'; line 2"):
        load_lexicon(bad)


def test_front_matter_lexicon_overrides_the_project(tmp_path: Path) -> None:
    source = tmp_path / "essay.md"
    source.write_text("---\ntitle: Essay\nlexicon:\n  Babbage: Babbidge\n---\n\nBabbage spoke.\n", encoding="utf-8")
    pub = read_source(source)
    assert pub.metadata.lexicon == {"Babbage": "Babbidge"}
