"""The prepare stage, between reading and speaking: a read Publication becomes the one every later
stage uses, with its notes placed, its identifier, its title page and spoken credits, and every
sentence's spoken text (normalised per language, the lexicon applied). It returns new data;
nothing after it changes the publication."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

from publisher.model.publication import Publication

if TYPE_CHECKING:
    from publisher.prepare.lexicon import Lexicon
    from publisher.settings import Settings


def prepare(
    pub: Publication, settings: Settings, lexicon: Lexicon, *, narrator: str | None, phonemes: bool
) -> Publication:
    """`pub` ready to be spoken and rendered: notes placed as `settings.notes` says, an identifier,
    the title page (with `narrator` credited, when the credits are announced), the closing line
    (when announced), and each sentence's spoken text for a voice that does (not) read inline
    phonemes."""
    # imported here: the normaliser's tables and num2words are for a source that changed, not for
    # every module that reaches publisher.prepare.lexicon (a no-change rerun never prepares)
    from publisher.prepare.credits import add_front_matter
    from publisher.prepare.normalise import prepare_spoken
    from publisher.prepare.notes import place_notes

    pub = place_notes(pub, settings.notes)
    if not pub.metadata.identifier:
        pub = replace(pub, metadata=replace(pub.metadata, identifier=f"urn:uuid:{publication_uuid(pub)}"))
    pub = add_front_matter(pub, narrator, closing=settings.announce)
    return prepare_spoken(pub, lexicon, phonemes)


def publication_uuid(pub: Publication) -> str:
    """A deterministic UUID for the publication: the same source identity gives the same UUID.

    It is derived from the slug, title and authors (not the text), so fixing a typo keeps the
    book's identity; set `identifier` in front matter to pin it explicitly.
    """
    identity = "\x1f".join([pub.slug, pub.metadata.title.casefold(), *map(str.casefold, pub.metadata.authors)])
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"publisher:{identity}"))
