"""The message catalogues: complete for every language, compiled files current, BCP 47 fallback."""

from __future__ import annotations

import gettext
import io
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from publisher import i18n
from publisher.i18n import LANGUAGES, candidates, join_names, locale_dir, translator

ROOT = Path(__file__).resolve().parents[1]
FIELDS = re.compile(r"\{(\w+)\}")


def _po(language: str):  # type: ignore[no-untyped-def]
    with locale_dir().joinpath(language, "LC_MESSAGES", "publisher.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _template_ids() -> set[str | tuple[str, ...]]:
    with locale_dir().joinpath("publisher.pot").open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_its_fields(language: str) -> None:
    catalogue = _po(language)
    ids = {m.id for m in catalogue if m.id}
    assert ids == _template_ids()
    for message in catalogue:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        source = message.id if isinstance(message.id, str) else message.id[1]
        forms = [message.string] if isinstance(message.string, str) else list(message.string)
        assert len(forms) == (1 if isinstance(message.id, str) else catalogue.num_plurals), message.id
        for form in forms:
            assert form, f"{language}: {message.id!r} is untranslated"
            assert set(FIELDS.findall(form)) <= set(FIELDS.findall(source)) | {"count"}, (message.id, form)
            if isinstance(message.id, str):
                assert set(FIELDS.findall(form)) == set(FIELDS.findall(source)), (message.id, form)


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogues_are_those_of_the_po_files(language: str) -> None:
    buffer = io.BytesIO()
    write_mo(buffer, _po(language))
    fresh = gettext.GNUTranslations(io.BytesIO(buffer.getvalue()))
    with locale_dir().joinpath(language, "LC_MESSAGES", "publisher.mo").open("rb") as handle:
        shipped = gettext.GNUTranslations(handle)
    for message_id in _template_ids():
        if isinstance(message_id, str):
            assert shipped.gettext(message_id) == fresh.gettext(message_id), message_id
        else:
            for n in (0, 1, 2, 3, 5, 11, 21, 101):
                assert shipped.ngettext(*message_id[:2], n) == fresh.ngettext(*message_id[:2], n)


def test_the_template_holds_every_message_of_the_source(tmp_path: Path) -> None:
    pot = tmp_path / "publisher.pot"
    command = [
        str(Path(sys.executable).with_name("pybabel")), "extract", "-F", "src/publisher/i18n/babel.cfg",
        "-k", "_", "-k", "gettext", "-k", "ngettext:1,2", "-k", "N_", "--no-location", "--sort-output",
        "--omit-header", "-o", str(pot), "src",
    ]  # fmt: skip
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    assert extracted == _template_ids(), "run `make i18n` and translate the new messages"


def test_bcp47_fallback_and_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    assert candidates("pt-br") == ["pt_BR", "pt"]
    assert candidates("zh-hans-cn") == ["zh_Hans_CN", "zh_Hans", "zh"]
    assert translator("pt-BR").language == "pt_BR" and translator("pt-PT").language == "pt"
    assert translator("pt-br").gettext("Download the MP3") == "Baixar o MP3"
    assert translator("pt-AO").gettext("Download the MP3") == "Descarregar o MP3"
    assert translator("de-AT").gettext("Contents") == "Inhalt"
    assert translator("en-GB").language == "en" and translator("zh-Hans").language == "zh"
    i18n._warned.clear()
    with caplog.at_level(logging.WARNING, logger="publisher.i18n"):
        for _ in range(3):
            assert translator("fi").gettext("By {authors}", authors="A") == "By A"
        translator("fi-FI")
    warnings = [r for r in caplog.records if "'fi" in r.getMessage()]
    assert len(warnings) == 1 and "English" in warnings[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="publisher.i18n"):
        translator("en-GB")
        translator("en")
    assert not caplog.records  # English is the source language, never a fallback


def test_plural_forms_follow_each_language() -> None:
    files = ("{count} MP3 file in reading order", "{count} MP3 files in reading order")
    ru = translator("ru")
    assert [ru.ngettext(*files, n) for n in (1, 3, 5, 21)] == [
        "1 файл MP3 в порядке чтения", "3 файла MP3 в порядке чтения",
        "5 файлов MP3 в порядке чтения", "21 файл MP3 в порядке чтения",
    ]  # fmt: skip
    assert translator("pl").ngettext(*files, 22) == "22 pliki MP3 w kolejności czytania"
    assert translator("de").ngettext(*files, 1) == "1 MP3-Datei in Lesereihenfolge"


def test_names_are_joined_as_each_language_joins_them() -> None:
    names = ["Ada", "Charles", "Mary"]
    assert join_names(names) == "Ada, Charles and Mary"  # the house style: no serial comma
    assert join_names(names, "de") == "Ada, Charles und Mary"
    assert join_names(names, "fr") == "Ada, Charles et Mary"
    assert join_names(names, "ja") == "Ada、Charles、Mary"
    assert join_names(["A", "B"], "ru") == "A и B"
    assert join_names([], "de") == ""


def test_markup_escapes_the_translation_and_the_fields_but_not_markup() -> None:
    from markupsafe import Markup

    tr = translator("de")
    assert tr.markup("Downloads of {title}", title="<b>&") == "Downloads von &lt;b&gt;&amp;"
    assert tr.markup("Updated {date}.", date=Markup("<time>x</time>")) == "Aktualisiert <time>x</time>."


def test_feed_and_opds_texts_for_the_lead_to_wire_in(tmp_path: Path) -> None:
    from publisher.formats.web.feedtext import (
        chapter_description,
        episode_description,
        opds_summary,
        opds_title,
        site_description,
    )
    from publisher.model.catalogue import CatalogueEntry

    entry = CatalogueEntry(
        slug="reise", folder=tmp_path, title="Die Reise", authors=["Jörg Müller", "Eva Roth"], language="de",
        identifier="urn:x", duration=1.0, published="2024-03-05T00:00:00Z", modified="2024-03-05T00:00:00Z",
        narrator="eSpeak NG, eine synthetische Stimme (de)",
    )  # fmt: skip
    assert episode_description(entry) == (
        "Die Reise, von Jörg Müller und Eva Roth, gelesen von eSpeak NG, eine synthetische Stimme (de)."
    )
    assert chapter_description(entry, "Erstes Kapitel") == "Die Reise: Erstes Kapitel"
    assert opds_summary(entry) == "Gelesen von eSpeak NG, eine synthetische Stimme (de)."
    assert opds_title("page", "fr") == "Lire en écoutant dans le navigateur"
    assert opds_title("m4b", "en") == "M4B audiobook"
    assert site_description("Bibliothek", "de") == (
        "Bibliothek: jede Veröffentlichung, vorgelesen, mit Transkripten und Kapiteln."
    )


def test_a_language_setting_must_be_a_known_tag() -> None:
    from publisher.errors import ConfigError
    from publisher.settings import Settings

    assert Settings().with_overrides({"language": "pt-BR"}, "test").language == "pt-BR"
    with pytest.raises(ConfigError, match="language 'zz' is not a known language code"):
        Settings().with_overrides({"language": "zz"}, "test")


def test_generated_covers_draw_other_scripts() -> None:
    from publisher.formats.cover import _covers, cover_font

    assert cover_font("A Small Book of Tests" + "Ada Lovelace", "en") is None  # Pillow's own font, as before
    for text, language in (("Война и мир" + "Лев Толстой", "ru"), ("الحرب والسلام" + "نجيب محفوظ", "ar")):
        path = cover_font(text, language)
        assert path is not None and _covers(path, text), language
        assert not _covers(None, text)  # the default font would have drawn boxes


def test_feeds_and_opds_speak_the_publications_language(tmp_path: Path) -> None:
    """The serial feed's and OPDS's sentences come from the catalogues (a German book: German words)."""
    from lxml import etree
    from tests.helpers import publish

    from publisher.formats.web.feedtext import opds_title
    from publisher.pipeline.publish import write_catalogue
    from publisher.settings import Settings

    source = tmp_path / "buch.md"
    source.write_text("---\ntitle: Ein Buch\nauthor: Jörg Müller\nlanguage: de\n---\n\nEin Satz.\n", encoding="utf-8")
    output = tmp_path / "out"
    result = publish(source, output)
    write_catalogue(output, Settings(engine="silent", output=output))
    channel = etree.parse(str(result.folder / "feed.xml")).find("channel")
    assert channel is not None
    _ = translator("de").gettext
    narrator = channel.findtext("item/description")
    assert narrator == _("{title}: {chapter}", title="Ein Buch", chapter="Ein Buch") and narrator is not None
    voice = channel.findtext("{https://podcastindex.org/namespace/1.0}person[@role='narrator']")
    expected = _(
        "{title}, by {authors}, narrated by {narrator}.", title="Ein Buch", authors="Jörg Müller", narrator=voice
    )
    assert channel.findtext("description") == expected != "Ein Buch, by Jörg Müller, narrated by"
    titles = etree.parse(str(output / "opds.xml")).xpath("//*[local-name()='link']/@title")
    assert (opds_title("epub", "de") in titles and "Im Browser mitlesen" in titles) or opds_title(
        "page", "de"
    ) in titles


def test_tables_notes_code_and_tasks_are_announced_in_the_publications_language(tmp_path: Path) -> None:
    """What the publisher adds when it reads structure aloud comes from the catalogues too."""
    from publisher.readers import read_source

    source = tmp_path / "bericht.md"
    source.write_text(
        "---\ntitle: Bericht\nlanguage: de\n---\n\n"
        "Die Zählung.[^1]\n\n[^1]: Im Mai gezählt.\n\n"
        "| Ort | Vögel |\n| --- | --- |\n| A | 12 |\n| B | 3 |\n\nTable: Vogelzählung\n\n"
        "```python\nprint(1)\nprint(2)\n```\n\n- [ ] Karten drucken\n- [x] Zählen\n",
        encoding="utf-8",
    )
    said = [s.text for c in read_source(source).chapters for b in c.blocks for s in b.sentences]
    assert "Tabelle: Vogelzählung. 2 Zeilen, 2 Spalten." in said
    assert "Spalten: Ort, Vögel." in said and "Ort A: Vögel, 12." in said
    assert "Anmerkung 1: Im Mai gezählt." in said
    assert "Code, python, 2 Zeilen, im Text abgebildet." in said
    assert "Zu erledigen: Karten drucken" in said and "Erledigt: Zählen" in said
