"""Spoken-text normalisation and the pronunciation lexicon."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.errors import ConfigError
from publisher.prepare.credits import add_front_matter
from publisher.prepare.lexicon import Lexicon, load_lexicon, parse_entry
from publisher.prepare.normalise import (
    all_caps_en,
    early_years_en,
    fractions_en,
    heteronyms_en,
    initials_en,
    normalise,
    prepare_spoken,
    ranges_en,
    roman_numerals_en,
    units_en,
)
from publisher.readers import read_source


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


def test_roman_numerals_in_titles_and_names() -> None:
    assert normalise("Chapter IV", "en", heading=True) == "Chapter four"
    assert normalise("IV.", "en", heading=True) == "four"
    assert normalise("V.", "en", heading=True) == "five"
    assert normalise("V", "en", heading=True) == "V"  # a dictionary's letter heading
    assert roman_numerals_en("Read Chapter XII and Part II.") == "Read Chapter 12 and Part 2."
    assert roman_numerals_en("After World War II.") == "After World War 2."
    assert roman_numerals_en("Henry VIII had six wives.") == "Henry the eighth had six wives."
    assert roman_numerals_en("Pope John Paul II came, then George I.") == (
        "Pope John Paul the second came, then George the first."
    )
    # a lone I is the pronoun unless it ends a name; Malcolm X is a name
    assert roman_numerals_en("Then I went, said Malcolm X.") == "Then I went, said Malcolm X."
    assert roman_numerals_en("I went home") == "I went home"
    assert normalise("Henry VIII was king.", "en") == "Henry the eighth was king."


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("The war of 1914–18 ended.", "The war of nineteen fourteen to eighteen ended."),
        ("In 1914-1918 they fought.", "In nineteen fourteen to nineteen eighteen they fought."),
        ("Read pages 10–20.", "Read pages ten to twenty."),
    ],
)
def test_ranges(text: str, spoken: str) -> None:
    assert normalise(text, "en") == spoken


def test_ranges_alone() -> None:
    assert " to " not in normalise("Call 555-1234.", "en")  # a hyphen is a range between years only
    assert ranges_en("From 1939–45 and pages 3–7.") == "From nineteen thirty-nine to forty-five and pages 3 to 7."


def test_early_years() -> None:
    assert early_years_en("In 1066 the Normans came.") == "In ten sixty-six the Normans came."
    assert early_years_en("Rome fell in AD 410, Caesar died in 44 BC.") == (
        "Rome fell in A D four ten, Caesar died in forty-four B C."
    )
    assert early_years_en("It was 410 A.D.") == "It was four ten A D."  # the sentence still ends
    # only where the words around it say it is a year: a sum or a count stays a number
    assert early_years_en("He paid 1066 dollars for 1050 men.") == "He paid 1066 dollars for 1050 men."
    assert normalise("Since 1087, a range 1066–1087.", "en") == (
        "Since ten eighty seven, a range ten sixty six to ten eighty seven."
    )


def test_fractions() -> None:
    assert fractions_en("Add 1/2 cup and 3/4 of a mile, 2/3 of it, 5/8 inch.") == (
        "Add one half cup and three quarters of a mile, two thirds of it, five eighths inch."
    )
    assert fractions_en("It took 1 1/2 hours.") == "It took one and a half hours."
    # dates and ratios are not fractions
    assert fractions_en("On 6/28/2024, open 24/7.") == "On 6/28/2024, open 24/7."


def test_initials() -> None:
    assert initials_en("J. R. R. Tolkien and T. S. Eliot wrote.") == "J R R Tolkien and T S Eliot wrote."
    assert initials_en("The U.S. Army and the U.S. and NATO.") == "The U.S. Army and the U.S. and NATO."


def test_units() -> None:
    assert units_en("5 km at 60 mph, 1 kg, 3 ft, 20 °C, 2.5 GB.") == (
        "5 kilometres at 60 miles per hour, 1 kilogram, 3 feet, 20 degrees Celsius, 2.5 gigabytes."
    )
    assert units_en("Plan m and g, room 5m") == "Plan m and g, room 5 metres"
    assert normalise("It is 5 km away.", "en") == "It is five kilometres away."


def test_all_caps_phrases_are_read_as_words() -> None:
    assert all_caps_en("THE END OF IT ALL") == "the end of it all"
    assert all_caps_en("WARNING: the FBI and NATO met.") == "WARNING: the FBI and NATO met."
    assert all_caps_en("The US UK deal") == "The US UK deal"  # two acronyms: too short to be a phrase


@pytest.mark.parametrize(
    ("text", "ipa", "respelled"),
    [
        ("She read the book.", "She [[ ɹˈɛd ]] the book.", "She red the book."),
        # where eSpeak NG already reads it right, the voice keeps its own reading
        ("It was read by all.", "It was read by all.", "It was read by all."),
        ("I will read it.", "I will read it.", "I will read it."),
        ("Lead the way to the lead mine.", "Lead the way to the [[ lˈɛd ]] mine.", "Lead the way to the led mine."),
        ("Heavy as lead.", "Heavy as [[ lˈɛd ]].", "Heavy as led."),
        ("We live for a live broadcast.", "We live for a [[ lˈaɪv ]] broadcast.", "We live for a lyve broadcast."),
        ("Close the door, close to me.", "[[ klˈoʊz ]] the door, close to me.", "cloze the door, close to me."),
        ("Please close it.", "Please [[ klˈoʊz ]] it.", "Please cloze it."),
        ("Wind the clock in the wind.", "[[ wˈaɪnd ]] the clock in the wind.", "wined the clock in the wind."),
        ("I wind it daily.", "I [[ wˈaɪnd ]] it daily.", "I wined it daily."),
    ],
)
def test_heteronyms_follow_their_context(text: str, ipa: str, respelled: str) -> None:
    assert heteronyms_en(text, phonemes=True) == ipa
    assert heteronyms_en(text, phonemes=False) == respelled


def test_heteronyms_reach_the_voice_as_phonemes(tmp_path: Path) -> None:
    source = tmp_path / "wind.txt"
    source.write_text("Winding\n\nShe read the note and said: wind the clock in the wind.\n", encoding="utf-8")
    pub = read_source(source)
    pub = prepare_spoken(pub, Lexicon(), phonemes=True)
    spoken = [s.spoken for s in pub.sentences()]
    assert "She [[ ɹˈɛd ]] the note and said: wind the clock in the wind." in spoken
    pub = prepare_spoken(pub, Lexicon(), phonemes=False)
    assert "She red the note and said: wind the clock in the wind." in [s.spoken for s in pub.sentences()]


def test_other_languages_get_their_own_numbers() -> None:
    assert normalise("Il a 25 ans.", "fr") == "Il a vingt-cinq ans."
    assert normalise("Er ist 25.", "de") == "Er ist fünfundzwanzig."


def test_display_text_never_changes(fixtures: Path) -> None:
    pub = read_source(fixtures / "book.md")
    pub = add_front_matter(pub, "Someone")
    before = [s.text for s in pub.sentences()]
    pub = prepare_spoken(pub, Lexicon({"Babbage": parse_entry("Babbidge")}), phonemes=False)
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


def test_lexicon_finds_words_in_scripts_without_spaces() -> None:
    """Japanese and Chinese put no spaces between words: an entry matches inside running text."""
    lexicon = Lexicon({"年老いた": parse_entry("としおいた"), "Putin": parse_entry("Pootin")})
    spoken = lexicon.apply("年老いた漁師が来た。彼は年老いた。", phonemes=False)
    assert spoken == "としおいた漁師が来た。彼はとしおいた。"
    assert lexicon.apply("Rasputin met Putin.", phonemes=False) == "Rasputin met Pootin."  # still whole words
    assert normalise(lexicon.apply("年老いた漁師", phonemes=False), "ja") == "としおいたりょうし"


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
