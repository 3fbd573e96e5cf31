"""Each language's spoken-text rules: numbers, dates, years, times, money, percentages, ordinals,
abbreviations (speech/languages/), through normalise() as the narration calls it."""

from __future__ import annotations

import pytest

from publisher.prepare.languages.chinese import cardinal
from publisher.prepare.languages.japanese import kanji_as_kana, kanji_number, numbers_as_kana
from publisher.prepare.normalise import normalise

# fmt: off
CASES = {
    "de": [
        ("5. März 2024", "fünfter März zweitausendvierundzwanzig"),
        ("Am 5. März kamen 1.250 Menschen.", "Am fünften März kamen eintausendzweihundertfünfzig Menschen."),
        ("Es kostet 12,50 € oder 3 €.", "Es kostet zwölf Euro und fünfzig Cent oder drei Euro."),
        ("Um 14:30 Uhr, also 25 % später, z. B. Nr. 7.",
         "Um vierzehn Uhr dreißig, also fünfundzwanzig Prozent später, zum Beispiel Nummer sieben."),
        ("Der 3. Platz.", "Der dritte Platz."),
        ("Er ist 25.", "Er ist fünfundzwanzig."),
        ("Das sind 1,5 Liter.", "Das sind eins Komma fünf Liter."),
    ],
    "fr": [
        ("5 mars 2024", "cinq mars deux mille vingt-quatre"),
        ("1 mars 2024", "premier mars deux mille vingt-quatre"),
        ("Il y avait 1 250 personnes et 3,5 %.",
         "Il y avait mille deux cent cinquante personnes et trois virgule cinq pour cent."),
        ("Le 1er mai à 14:30, M. Dupont paie 12,50 €.",
         "Le premier mai à quatorze heures trente, Monsieur Dupont paie douze euros et cinquante centimes."),
        ("la 2e fois, etc.", "la deuxième fois, et cetera"),
    ],
    "es": [
        ("5 de marzo de 2024", "cinco de marzo de dos mil veinticuatro"),
        ("Había 1.250 personas; el 1.º y la 2.ª; 25 %.",
         "Había mil doscientos cincuenta personas; el primero y la segunda; veinticinco por ciento."),
        ("A las 14:30 el Sr. Pérez pagó 12,50 €.",
         "A las catorce y treinta el señor Pérez pagó doce euros con cincuenta céntimos."),
    ],
    "it": [
        ("1 marzo 2024", "primo marzo duemilaventiquattro"),
        ("1.250 persone, il Sig. Rossi, 25 %, ecc.",
         "milleduecentocinquanta persone, il signor Rossi, venticinque per cento, eccetera"),
    ],
    "nl": [
        ("5 maart 2024", "vijf maart tweeduizendvierentwintig"),
        ("1.250 mensen, bijv. 25 %, om 14:30 uur, de 3e.",
         "duizendtweehonderdvijftig mensen, bijvoorbeeld vijfentwintig procent, om veertien uur dertig, de derde."),
    ],
    "pt": [
        ("5 de março de 2024", "cinco de março de dois mil e vinte e quatro"),
        ("1.250 pessoas; o Sr. Silva pagou 12,50 €.",
         "mil duzentos e cinquenta pessoas; o senhor Silva pagou doze euros e cinquenta cêntimos."),
    ],
    "pl": [
        ("5 marca 2024 r.", "piątego marca dwa tysiące dwadzieścia cztery roku"),
        ("Było 1 250 osób, np. 25 %.", "Było tysiąc dwieście pięćdziesiąt osób, na przykład dwadzieścia pięć procent."),
        ("Kosztuje 12 zł.", "Kosztuje dwanaście złotych."),
    ],
    "sv": [
        ("5 mars 2024", "femte mars tvåtusentjugofyra"),
        ("Det kom 1 250 personer, t.ex. 25 %, kl. 14:30.",
         "Det kom ettusen tvåhundrafemtio personer, till exempel tjugofem procent, klockan fjorton och trettio."),
    ],
    "cs": [
        ("5. března 2024", "pátého března dva tisíce dvacet čtyři"),
        ("Přišlo 1 250 lidí, např. 25 %.", "Přišlo tisíc dvěstě padesát lidí, například dvacet pět procent."),
        ("Stojí 100 Kč.", "Stojí sto korun."),
    ],
    "ru": [
        ("5 марта 2024 г.", "пятое марта две тысячи двадцать четвёртого года"),
        ("Было 1 250 человек, 25 %, 21 %.",
         "Было одна тысяча двести пятьдесят человек, двадцать пять процентов, двадцать один процент."),
        ("В 14:30 он заплатил 100 ₽, т. е. 5-й раз.",
         "В четырнадцать тридцать он заплатил сто рублей, то есть пятый раз."),
    ],
    "ar": [
        ("5 مارس 2024", "خمسة مارس ألفان و أربعة و عشرون"),
        ("حضر ١٢٥٠ شخصًا بنسبة 25 %.", "حضر ألف و مئتان و خمسون شخصًا بنسبة خمسة و عشرون بالمئة."),
    ],
    "ja": [  # in kana: the voices say "Chinese letter" for a kanji (speech/languages/japanese.py)
        ("2024年3月5日", "にせんにじゅうよねんさんがついつか"),
        ("1,250人が来ました。", "せんにひゃくごじゅうにんがきました。"),
        ("14:30に25%。", "じゅうよじさんじゅっぷんににじゅうごパーセント。"),
    ],
    "zh": [
        ("2024年3月5日", "二零二四年三月五日"),
        ("有1,250人，3.5%的人。", "有一千二百五十人，百分之三点五的人。"),
        ("14:30", "十四点三十分"),
    ],
    "en-GB": [("1 September 1843", "the first of September, eighteen forty three")],
}
# fmt: on


@pytest.mark.parametrize(("language", "text", "spoken"), [(lang, t, s) for lang, cs in CASES.items() for t, s in cs])
def test_each_language_reads_its_own_numbers_dates_and_abbreviations(language: str, text: str, spoken: str) -> None:
    assert normalise(text, language) == spoken


def test_regional_tags_use_their_language_rules() -> None:
    assert normalise("5. März 2024", "de-AT") == "fünfter März zweitausendvierundzwanzig"
    assert normalise("25 %", "pt-BR") == "vinte e cinco por cento"


def test_japanese_kanji_are_given_as_kana() -> None:
    assert kanji_number("二千二十四") == 2024 and kanji_number("二〇二四") == 2024 and kanji_number("十四") == 14
    assert kanji_number("一万二千") == 12000 and kanji_number("百") == 100
    # counters change how the number before them is said
    assert (
        numbers_as_kana("二人で四時十分、三月一日と十四日") == "ふたりでよじじゅっぷん、さんがつついたちとじゅうよっか"
    )
    assert numbers_as_kana("三千円、十九時") == "さんぜんえん、じゅうくじ"
    # the rest from pykakasi's dictionary; kana, Latin letters and punctuation stay
    assert kanji_as_kana("朝、マリアは港まで歩きました。") == "あさ、マリアはみなとまであるきました。"
    assert kanji_as_kana("ベンチ and OK!") == "ベンチ and OK!"
    assert normalise("空は晴れていました。", "ja") == "そらははれていました。"


def test_chinese_numerals() -> None:
    assert [cardinal(n) for n in (0, 10, 15, 105, 1005, 10000, 10010, 120000000)] == [
        "零", "十", "十五", "一百零五", "一千零五", "一万", "一万零一十", "一亿二千万",
    ]  # fmt: skip


def test_languages_without_rules_are_left_to_num2words() -> None:
    assert normalise("Hän on 25.", "fi") == "Hän on kaksikymmentäviisi."
    assert normalise("Text 25", "xx") == "Text 25"
