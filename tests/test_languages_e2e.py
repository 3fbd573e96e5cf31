"""A source in each of de, fr, es, ru, ar, ja published end to end with eSpeak NG: EPUBCheck 0/0
(and DAISY Ace 0 on the Arabic and Japanese books), WebVTT, DAISY 2.02, podcast feed; the credits,
date and numbers checked in the text and in the spoken script, in that language."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from tests.helpers import publish_one

from publisher.pipeline.engines import EngineCache
from publisher.pipeline.publish import write_catalogue
from publisher.prepare.credits import add_front_matter
from publisher.prepare.lexicon import Lexicon
from publisher.prepare.normalise import prepare_spoken
from publisher.readers import read_source
from publisher.settings import Settings
from publisher.validate.daisy import check_daisy
from publisher.validate.feeds import check_feed
from publisher.validate.tools import run_ace, run_epubcheck

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Case:
    """A source in one language and what its outputs must say."""

    title: str
    author: str
    body: str  # two chapters; the first sentence of chapter one holds the numbers
    shown: list[str]  # on the title page, in this order: byline, date, narrator credit
    closing: str
    spoken: dict[str, str]  # display text → the words the engine is given
    nav: str  # the nav document's heading


# fmt: off
CASES = {
    "de": Case(
        "Die Reise", "Jörg Müller",
        "# Erstes Kapitel\n\nAm 5. März 2024 kamen 1.250 Menschen. Der Eintritt kostete 12,50 €.\n\n"
        "# Zweites Kapitel\n\nUm 14:30 Uhr waren es 25 % mehr, z. B. Nr. 7.\n",
        ["Von Jörg Müller", "5. März 2024", "Gelesen von eSpeak NG, eine synthetische Stimme (de)"],
        "Dies ist das Ende von Die Reise, von Jörg Müller.",
        {"5. März 2024": "fünfter März zweitausendvierundzwanzig",
         "Am 5. März 2024 kamen 1.250 Menschen.":
             "Am fünften März zweitausendvierundzwanzig kamen eintausendzweihundertfünfzig Menschen.",
         "Der Eintritt kostete 12,50 €.": "Der Eintritt kostete zwölf Euro und fünfzig Cent.",
         "Um 14:30 Uhr waren es 25 % mehr, z. B. Nr. 7.":
             "Um vierzehn Uhr dreißig waren es fünfundzwanzig Prozent mehr, zum Beispiel Nummer sieben."},
        "Inhalt",
    ),
    "fr": Case(
        "Le voyage", "Amélie Dupont",
        "# Premier chapitre\n\nLe 1er mai, 1 250 personnes sont venues. L’entrée coûtait 12,50 €.\n\n"
        "# Deuxième chapitre\n\nÀ 14:30, il y en avait 25 % de plus.\n",
        ["Par Amélie Dupont", "5 mars 2024", "Lu par eSpeak NG, une voix de synthèse (fr)"],
        "Ceci est la fin de Le voyage, par Amélie Dupont.",
        {"5 mars 2024": "cinq mars deux mille vingt-quatre",
         "Le 1er mai, 1 250 personnes sont venues.": "Le premier mai, mille deux cent cinquante personnes sont venues.",
         "L’entrée coûtait 12,50 €.": "L’entrée coûtait douze euros et cinquante centimes.",
         "À 14:30, il y en avait 25 % de plus.":
             "À quatorze heures trente, il y en avait vingt-cinq pour cent de plus."},
        "Table des matières",
    ),
    "es": Case(
        "El viaje", "Lucía Pérez",
        "# Primer capítulo\n\nLlegaron 1.250 personas. La entrada costó 12,50 €.\n\n"
        "# Segundo capítulo\n\nA las 14:30 había un 25 % más.\n",
        ["Por Lucía Pérez", "5 de marzo de 2024", "Narrado por eSpeak NG, una voz sintética (es)"],
        "Este es el final de El viaje, de Lucía Pérez.",
        {"5 de marzo de 2024": "cinco de marzo de dos mil veinticuatro",
         "Llegaron 1.250 personas.": "Llegaron mil doscientos cincuenta personas.",
         "A las 14:30 había un 25 % más.": "A las catorce y treinta había un veinticinco por ciento más."},
        "Índice",
    ),
    "ru": Case(
        "Путешествие", "Лев Толстой",
        "# Глава первая\n\nПришли 1 250 человек. Билет стоил 100 ₽.\n\n"
        "# Глава вторая\n\nВ 14:30 их стало на 25 % больше.\n",
        ["Автор: Лев Толстой", "5 марта 2024\u202fг.", "Читает eSpeak NG, синтезированный голос (ru)"],
        "Это конец произведения «Путешествие», автор: Лев Толстой.",
        {"5 марта 2024\u202fг.": "пятое марта две тысячи двадцать четвёртого года",
         "Пришли 1 250 человек.": "Пришли одна тысяча двести пятьдесят человек.",
         "Билет стоил 100 ₽.": "Билет стоил сто рублей.",
         "В 14:30 их стало на 25 % больше.": "В четырнадцать тридцать их стало на двадцать пять процентов больше."},
        "Содержание",
    ),
    "ar": Case(
        "الرحلة", "نجيب محفوظ",
        "# الفصل الأول\n\nحضر ١٢٥٠ شخصًا. كان ذلك في الساعة 14:30.\n\n# الفصل الثاني\n\nزاد العدد بنسبة 25 %.\n",
        ["تأليف نجيب محفوظ", "5 مارس 2024", "بصوت eSpeak NG، صوت اصطناعي (ar)"],
        "هذه نهاية الرحلة، تأليف نجيب محفوظ.",
        {"5 مارس 2024": "خمسة مارس ألفان و أربعة و عشرون",
         "حضر ١٢٥٠ شخصًا.": "حضر ألف و مئتان و خمسون شخصًا.",
         "زاد العدد بنسبة 25 %.": "زاد العدد بنسبة خمسة و عشرون بالمئة."},
        "المحتويات",
    ),
    "ja": Case(
        "旅", "夏目漱石",
        "# 第一章\n\n1,250人が来ました。入場料は500円でした。\n\n# 第二章\n\n14:30に25%増えました。\n",
        ["著者：夏目漱石", "2024年3月5日", "朗読：eSpeak NG、合成音声（ja）"],
        "これで『旅』は終わりです。著者：夏目漱石。",
        {"2024年3月5日": "にせんにじゅうよねんさんがついつか",  # in kana: see speech/languages/japanese.py
         "1,250人が来ました。": "せんにひゃくごじゅうにんがきました。",
         "入場料は500円でした。": "にゅうじょうりょうはごひゃくえんでした。",
         "14:30に25%増えました。": "じゅうよじさんじゅっぷんににじゅうごパーセントふえました。"},
        "目次",
    ),
}
# fmt: on
ACE_LANGUAGES = ("ar", "ja")


def _source(folder: Path, language: str, case: Case) -> Path:
    path = folder / f"{language}.md"
    front = f"---\ntitle: {case.title}\nauthor: {case.author}\nlanguage: {language}\ndate: 2024-03-05\n---\n\n"
    path.write_text(front + case.body, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("languages")
    output = root / "output"
    settings = Settings(engine="espeak", output=output, cache=root / "cache")
    folders = {}
    for language, case in CASES.items():
        result = publish_one(_source(root, language, case), settings)
        folders[language] = result.folder
    write_catalogue(output, settings)
    return folders


def _xhtml(epub: Path, name: str) -> etree._Element:
    with zipfile.ZipFile(epub) as book:
        member = next(n for n in book.namelist() if n.endswith(name))
        return etree.fromstring(book.read(member))


@pytest.mark.parametrize("language", CASES)
def test_credits_date_and_numbers_in_the_text(published: dict[str, Path], language: str) -> None:
    case, folder = CASES[language], published[language]
    epub = folder / f"{folder.name}.epub"
    title = _xhtml(epub, "titlepage.xhtml")
    lines = [re.sub(r"[ \t\n]+", " ", "".join(p.itertext())).strip() for p in title.iter("{*}p")]
    assert lines == case.shown
    assert title.get("lang") == language and title.get("{http://www.w3.org/XML/1998/namespace}lang") == language
    assert title.get("dir") == ("rtl" if language == "ar" else None)
    nav = _xhtml(epub, "nav.xhtml")
    assert nav.findtext(".//{*}h1") == case.nav
    text = "".join(_xhtml(epub, "c01.xhtml").itertext())
    first = next(iter(k for k in case.spoken if k not in case.shown))
    assert first in text  # the text shows the numbers as written; only the voice hears them in words
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert case.closing in page


@pytest.mark.parametrize("language", CASES)
def test_credits_date_and_numbers_in_the_spoken_script(published: dict[str, Path], language: str) -> None:
    case = CASES[language]
    pub = read_source(published[language].parent.parent / f"{language}.md")
    engine = EngineCache().get(Settings(engine="espeak"), language)
    pub = add_front_matter(pub, engine.narrator)
    pub = prepare_spoken(pub, Lexicon({}), phonemes=False)
    spoken = {s.text: s.spoken for s in pub.sentences()}
    for shown, words in case.spoken.items():
        assert spoken[shown] == words, shown
    assert [s.text for s in pub.closing] == [case.closing]
    assert not [s.spoken for s in pub.sentences() if re.search(r"\d", s.spoken)]  # no digit left for the voice


@pytest.mark.parametrize("language", CASES)
def test_validators_pass(published: dict[str, Path], language: str) -> None:
    folder = published[language]
    slug = folder.name
    # the read-aloud edition holds everything the text edition does; both are checked where Ace runs
    editions = [f"{slug}.epub", f"{slug}-read-aloud.epub"] if language in ACE_LANGUAGES else [f"{slug}-read-aloud.epub"]
    for name in editions:
        report = run_epubcheck(folder / name)
        print(f"{language} {name}: {report.summary}")
        assert report.ok and ": 0 errors, 0 warnings" in report.summary, report.messages
    if language in ACE_LANGUAGES:
        ace = run_ace(folder / f"{slug}-read-aloud.epub")
        print(f"{language} {slug}-read-aloud.epub: {ace.summary}")
        assert ace.ok, ace.messages
    daisy = check_daisy(folder / "daisy" / "ncc.html")
    assert daisy.ok, daisy.messages
    feed = check_feed(folder / "feed.xml")
    assert feed.ok, feed.messages
    vtt = (folder / f"{slug}.vtt").read_text(encoding="utf-8")
    assert vtt.startswith(f"WEBVTT\nLanguage: {language}\n")
    cues = re.findall(r"^\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}$", vtt, flags=re.MULTILINE)
    sentences = len(re.findall(r'<span id="[^"]*-s\d{4}"', (folder / "index.html").read_text(encoding="utf-8")))
    assert len(cues) == sentences > 5
