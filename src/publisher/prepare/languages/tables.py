"""What each language's normaliser knows that no library does: separators, words for percent and
time, abbreviations, how a date's day and year are read."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Polish and Czech days of the month as a date reads them (genitive ordinals: "piątego marca",
#: "pátého března"); num2words has no Czech ordinals and no Polish cases
_PL_DAYS = [
    "pierwszego",
    "drugiego",
    "trzeciego",
    "czwartego",
    "piątego",
    "szóstego",
    "siódmego",
    "ósmego",
    "dziewiątego",
    "dziesiątego",
    "jedenastego",
    "dwunastego",
    "trzynastego",
    "czternastego",
    "piętnastego",
    "szesnastego",
    "siedemnastego",
    "osiemnastego",
    "dziewiętnastego",
    "dwudziestego",
]
_CS_DAYS = [
    "prvního",
    "druhého",
    "třetího",
    "čtvrtého",
    "pátého",
    "šestého",
    "sedmého",
    "osmého",
    "devátého",
    "desátého",
    "jedenáctého",
    "dvanáctého",
    "třináctého",
    "čtrnáctého",
    "patnáctého",
    "šestnáctého",
    "sedmnáctého",
    "osmnáctého",
    "devatenáctého",
    "dvacátého",
]


def polish_day(day: int) -> str:
    """1–31 as "pierwszego" … "trzydziestego pierwszego"."""
    if day <= 20:
        return _PL_DAYS[day - 1]
    tens = "dwudziestego" if day < 30 else "trzydziestego"
    return tens if day % 10 == 0 else f"{tens} {_PL_DAYS[day % 10 - 1]}"


def czech_day(day: int) -> str:
    """1–31 as "prvního" … "třicátého prvního"."""
    if day <= 20:
        return _CS_DAYS[day - 1]
    tens = "dvacátého" if day < 30 else "třicátého"
    return tens if day % 10 == 0 else f"{tens} {_CS_DAYS[day % 10 - 1]}"


@dataclass(frozen=True)
class Language:
    """One language's conventions for the spoken text.

    `day` names how the day of a written date is read: "cardinal", "ordinal" (num2words),
    "ordinal-r" (German: "fünfter"), "first" (cardinal, but 1 is `first_word`), "ordinal-n"
    (Russian neuter: "пятое"), "genitive-pl", "genitive-cs".
    """

    code: str
    group: str  # thousands separators, as a regex character class body
    decimal: str  # the decimal mark
    percent: str  # "{n} Prozent"
    time: str  # "{h} Uhr {m}"
    hour: str  # "{h} Uhr" (minutes 0)
    day: str = "cardinal"
    first_word: str = ""
    year: str = "year"  # num2words' `to` for a date's year ("cardinal" where "year" is wrong)
    date_words: tuple[str, ...] = ()  # words allowed between day, month and year ("de")
    year_suffix: tuple[str, str] = ("", "")  # a year abbreviation and its words ("г.", "года")
    abbreviations: tuple[tuple[str, str], ...] = field(default_factory=tuple)


_NB = "\u00a0\u202f"  # no-break and narrow no-break spaces (French, Swedish, Russian thousands)

# fmt: off
LANGUAGES: dict[str, Language] = {
    "de": Language(
        "de",
        r".'" + _NB,
        ",",
        "{n} Prozent",
        "{h} Uhr {m}",
        "{h} Uhr",
        day="ordinal-r",
        abbreviations=(
            (r"\bz\.\s?B\.", "zum Beispiel"),
            (r"\bd\.\s?h\.", "das heißt"),
            (r"\bu\.\s?a\.", "unter anderem"),
            (r"\busw\.", "und so weiter"),
            (r"\bbzw\.", "beziehungsweise"),
            (r"\bca\.", "circa"),
            (r"\bDr\.(?=\s)", "Doktor"),
            (r"\bProf\.(?=\s)", "Professor"),
            (r"\bNr\.(?=\s?\d)", "Nummer"),
            (r"\bHr\.(?=\s)", "Herr"),
            (r"\bFr\.(?=\s+[A-ZÄÖÜ])", "Frau"),
            (r"\bStr\.", "Straße"),
            (r"\bvgl\.", "vergleiche"),
            (r"\bggf\.", "gegebenenfalls"),
            (r"\bsog\.", "sogenannte"),
            (r"\bz\.\s?T\.", "zum Teil"),
            (r"\bJh\.", "Jahrhundert"),
            (r"\bMio\.", "Millionen"),
            (r"\bMrd\.", "Milliarden"),
        ),
    ),
    "fr": Language(
        "fr",
        " " + _NB + ".",
        ",",
        "{n} pour cent",
        "{h} heures {m}",
        "{h} heures",
        day="first",
        first_word="premier",
        abbreviations=(
            (r"\bM\.(?=\s+[A-ZÉ])", "Monsieur"),
            (r"\bMM\.(?=\s)", "Messieurs"),
            (r"\bMme\b", "Madame"),
            (r"\bMlle\b", "Mademoiselle"),
            (r"\bDr\b\.?", "Docteur"),
            (r"\bp\.\s?ex\.", "par exemple"),
            (r"\betc\.", "et cetera"),
            (r"\bn[°o]\s?(?=\d)", "numéro "),
            (r"\bav\.\s?J\.-C\.", "avant Jésus-Christ"),
            (r"\bapr\.\s?J\.-C\.", "après Jésus-Christ"),
            (r"\bcf\.", "confer"),
            (r"\bSte\b", "Sainte"),
            (r"\bSt\b(?=[\s-])", "Saint"),
        ),
    ),
    "es": Language(
        "es",
        "." + _NB,
        ",",
        "{n} por ciento",
        "{h} y {m}",
        "{h} en punto",
        date_words=("de",),
        abbreviations=(
            (r"\bSr\.", "señor"),
            (r"\bSra\.", "señora"),
            (r"\bSrta\.", "señorita"),
            (r"\bDr\.", "doctor"),
            (r"\bDra\.", "doctora"),
            (r"\bUd\.", "usted"),
            (r"\bUds\.", "ustedes"),
            (r"\betc\.", "etcétera"),
            (r"\bp\.\s?ej\.", "por ejemplo"),
            (r"\bnúm\.", "número"),
            (r"\bpág\.", "página"),
            (r"\bEE\.\s?UU\.", "Estados Unidos"),
            (r"\ba\.\s?C\.", "antes de Cristo"),
            (r"\bd\.\s?C\.", "después de Cristo"),
        ),
    ),
    "it": Language(
        "it",
        ".'" + _NB,
        ",",
        "{n} per cento",
        "{h} e {m}",
        "{h} in punto",
        day="first",
        first_word="primo",
        abbreviations=(
            (r"\bSig\.ra\b", "signora"),
            (r"\bSig\.na\b", "signorina"),
            (r"\bSig\.", "signor"),
            (r"\bDott\.ssa\b", "dottoressa"),
            (r"\bDott\.", "dottor"),
            (r"\bProf\.ssa\b", "professoressa"),
            (r"\bProf\.", "professor"),
            (r"\becc\.", "eccetera"),
            (r"\bp\.\s?es\.", "per esempio"),
            (r"\bn\.(?=\s?\d)", "numero"),
            (r"\bpag\.", "pagina"),
            (r"\ba\.\s?C\.", "avanti Cristo"),
            (r"\bd\.\s?C\.", "dopo Cristo"),
        ),
    ),
    "nl": Language(
        "nl",
        "." + _NB,
        ",",
        "{n} procent",
        "{h} uur {m}",
        "{h} uur",
        abbreviations=(
            (r"\bbijv\.", "bijvoorbeeld"),
            (r"\bbv\.", "bijvoorbeeld"),
            (r"\benz\.", "enzovoort"),
            (r"\bdhr\.", "de heer"),
            (r"\bmevr\.", "mevrouw"),
            (r"\bdr\.", "dokter"),
            (r"\bnr\.(?=\s?\d)", "nummer"),
            (r"\bo\.a\.", "onder andere"),
            (r"\bd\.w\.z\.", "dat wil zeggen"),
            (r"\bm\.b\.t\.", "met betrekking tot"),
            (r"\bca\.", "circa"),
        ),
    ),
    "pt": Language(
        "pt",
        "." + _NB,
        ",",
        "{n} por cento",
        "{h} e {m}",
        "{h} horas",
        date_words=("de",),
        abbreviations=(
            (r"\bSr\.", "senhor"),
            (r"\bSra\.", "senhora"),
            (r"\bDr\.", "doutor"),
            (r"\bDra\.", "doutora"),
            (r"\betc\.", "et cetera"),
            (r"\bp\.\s?ex\.", "por exemplo"),
            (r"\bn\.º\s?", "número "),
            (r"\bpág\.", "página"),
            (r"\ba\.\s?C\.", "antes de Cristo"),
            (r"\bd\.\s?C\.", "depois de Cristo"),
        ),
    ),
    "pl": Language(
        "pl",
        " " + _NB + ".",
        ",",
        "{n} procent",
        "{h} {m}",
        "{h}",
        day="genitive-pl",
        year="cardinal",
        year_suffix=("r.", "roku"),
        abbreviations=(
            (r"\bnp\.", "na przykład"),
            (r"\bitd\.", "i tak dalej"),
            (r"\bitp\.", "i tym podobne"),
            (r"\btzn\.", "to znaczy"),
            (r"\btj\.", "to jest"),
            (r"\bdr\b\.?(?=\s)", "doktor"),
            (r"\bprof\.", "profesor"),
            (r"\bul\.", "ulica"),
            (r"\bnr\b\.?(?=\s?\d)", "numer"),
            (r"\bok\.(?=\s?\d)", "około"),
            (r"\bw\.(?=\s*$)", "wieku"),
            (r"\bwg\b", "według"),
        ),
    ),
    "sv": Language(
        "sv",
        " " + _NB,
        ",",
        "{n} procent",
        "{h} och {m}",
        "klockan {h}",
        day="ordinal",
        year="cardinal",
        abbreviations=(
            (r"\bt\.\s?ex\.", "till exempel"),
            (r"\bbl\.\s?a\.", "bland annat"),
            (r"\bosv\.", "och så vidare"),
            (r"\bdvs\.", "det vill säga"),
            (r"\bnr\b\.?(?=\s?\d)", "nummer"),
            (r"\bca\.?(?=\s?\d)", "cirka"),
            (r"\bs\.k\.", "så kallad"),
            (r"\bkl\.(?=\s?\d)", "klockan"),
            (r"\bf\.\s?Kr\.", "före Kristus"),
            (r"\be\.\s?Kr\.", "efter Kristus"),
        ),
    ),
    "cs": Language(
        "cs",
        " " + _NB,
        ",",
        "{n} procent",
        "{h} {m}",
        "{h} hodin",
        day="genitive-cs",
        year="cardinal",
        abbreviations=(
            (r"\bnapř\.", "například"),
            (r"\btj\.", "to jest"),
            (r"\batd\.", "a tak dále"),
            (r"\bapod\.", "a podobně"),
            (r"\bč\.(?=\s?\d)", "číslo"),
            (r"\bul\.", "ulice"),
            (r"\bstr\.", "strana"),
            (r"\bMUDr\.", "doktor"),
            (r"\bIng\.", "inženýr"),
            (r"\bmj\.", "mimo jiné"),
            (r"\bpř\.\s?n\.\s?l\.", "před naším letopočtem"),
        ),
    ),
    "ru": Language(
        "ru",
        " " + _NB,
        ",",
        "{n} процентов",
        "{h} {m}",
        "{h} часов",
        day="ordinal-n",
        year="genitive",
        year_suffix=("г.", "года"),
        abbreviations=(
            (r"(?<!\w)т\.\s?е\.", "то есть"),
            (r"(?<!\w)и\s?т\.\s?д\.", "и так далее"),
            (r"(?<!\w)и\s?т\.\s?п\.", "и тому подобное"),
            (r"(?<!\w)и\s?др\.", "и другие"),
            (r"(?<!\w)см\.", "смотри"),
            (r"(?<!\w)ул\.", "улица"),
            (r"(?<!\w)руб\.", "рублей"),
            (r"(?<!\w)тыс\.", "тысяч"),
            (r"(?<!\w)млн\b\.?", "миллионов"),
            (r"(?<!\w)млрд\b\.?", "миллиардов"),
            (r"(?<!\w)в\s?т\.\s?ч\.", "в том числе"),
            (r"(?<!\w)стр\.", "страница"),
            (r"(?<!\w)№\s?(?=\d)", "номер "),
            (r"(?<!\w)гг\.", "годов"),
            (r"(?<!\w)вв\.", "веков"),
        ),
    ),
    "ar": Language(
        "ar",
        "٬," + _NB,
        "٫.",
        "{n} بالمئة",
        "{h} و{m} دقيقة",
        "الساعة {h}",
        year="cardinal",
        abbreviations=(
            (r"(?<!\w)د\.(?=\s)", "الدكتور"),
            (r"(?<!\w)م\.(?=\s|$)", "ميلادي"),
            (r"(?<!\w)هـ(?=\s|$|\.)", "هجري"),
        ),
    ),
    "ja": Language("ja", ",，", ".", "{n}パーセント", "{h}時{m}分", "{h}時", year="cardinal"),
    "zh": Language("zh", ",，", ".", "百分之{n}", "{h}点{m}分", "{h}点", year="digits"),
}
# fmt: on
