"""The words of the podcast feeds and the OPDS catalogue, in each publication's language.

feed.py and opds.py call these for every sentence they write: a channel or item description, a
chapter's revision note, an OPDS link title or summary.
"""

from __future__ import annotations

from publisher.i18n import N_, join_names, translator
from publisher.model.catalogue import CatalogueEntry
from publisher.sanitise import plain_text
from publisher.text.dates import display_date

#: OPDS link titles by kind (English message ids; `opds_title` translates them)
OPDS_TITLES = {
    "epub": N_("EPUB"),
    "read_aloud_epub": N_("EPUB with narration (read-aloud)"),
    "enhanced_epub": N_("The original EPUB with narration (read-aloud)"),
    "mp3": N_("MP3 (full length, with chapters)"),
    "m4b": N_("M4B audiobook"),
    "audiobook": N_("Readium audiobook"),
    "lpf": N_("W3C audiobook (LPF)"),
    "daisy_zip": N_("DAISY 2.02 talking book"),
    "page": N_("Read along in the browser"),
}


def episode_description(entry: CatalogueEntry) -> str:
    """An episode's description when the source has none: "<title>, by <authors>, narrated by <voice>."."""
    if entry.description:
        return plain_text(entry.description)  # apps render it as HTML: no markup from a source gets there
    _ = translator(entry.language).gettext
    narrator = entry.narrator or _("a synthetic voice")
    if entry.authors:
        by = join_names(entry.authors, entry.language)
        return _("{title}, by {authors}, narrated by {narrator}.", title=entry.title, authors=by, narrator=narrator)
    return _("{title}, narrated by {narrator}.", title=entry.title, narrator=narrator)


def site_description(site_title: str, language: str) -> str:
    """The site-wide feed's description."""
    return translator(language).gettext(
        "{site}: every publication, narrated, with transcripts and chapters.", site=site_title
    )


def chapter_description(entry: CatalogueEntry, chapter_title: str) -> str:
    """A serial feed item's description: "<publication>: <chapter>"."""
    return translator(entry.language).gettext("{title}: {chapter}", title=entry.title, chapter=chapter_title)


def opds_title(kind: str, language: str) -> str:
    """The title of an OPDS acquisition or alternate link of `kind`."""
    return translator(language).gettext(OPDS_TITLES[kind])


def opds_summary(entry: CatalogueEntry) -> str | None:
    """An OPDS entry's summary: the description, else "Narrated by <voice>."."""
    if entry.description:
        return plain_text(entry.description)
    if not entry.narrator:
        return None
    return translator(entry.language).gettext("Narrated by {narrator}.", narrator=entry.narrator)


def revised_note(entry: CatalogueEntry, updated: str) -> str:
    """ "Revised 5 March 2024.": a serial feed's note on a chapter whose audio changed after its first publish."""
    when = display_date(updated[:10], entry.language)
    return translator(entry.language).gettext("Revised {date}.", date=when)
