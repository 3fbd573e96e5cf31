"""The title page and the spoken credits: the same words shown on the page and heard first."""

from __future__ import annotations

from publisher.i18n import join_names, translator
from publisher.model.publication import Block, Publication, Run, Sentence
from publisher.readers.common import number_sentences
from publisher.text import display_date, spoken_text


def title_blocks(pub: Publication, narrator: str | None) -> list[Block]:
    """Title, byline, date and narrator credit, as blocks, in the publication's language."""
    meta = pub.metadata
    _ = translator(meta.language).gettext
    blocks = [Block(kind="heading", runs=[Run(meta.title)], level=1)]
    if meta.subtitle:
        blocks.append(Block(kind="byline", runs=[Run(meta.subtitle)], role="subtitle"))
    if meta.authors:
        byline = _("By {authors}", authors=join_names(meta.authors, meta.language))
        blocks.append(Block(kind="byline", runs=[Run(byline)], role="author"))
    if meta.date:
        when = display_date(meta.date, meta.language)
        blocks.append(Block(kind="byline", runs=[Run(when)], role="date"))
    if narrator:
        blocks.append(Block(kind="byline", runs=[Run(_("Narrated by {narrator}", narrator=narrator))], role="narrator"))
    return blocks


def closing_words(pub: Publication) -> str:
    """The closing line: "This is the end of <title>, by <authors>." in the publication's language."""
    meta = pub.metadata
    _ = translator(meta.language).gettext
    if meta.authors:
        return _(
            "This is the end of {title}, by {authors}.",
            title=meta.title,
            authors=join_names(meta.authors, meta.language),
        )
    return _("This is the end of {title}.", title=meta.title)


def _english_credits(pub: Publication) -> bool:
    """Whether the credits' own words are English in a publication in another language (the
    publisher has no catalogue of that language): those sentences are marked English."""
    meta = pub.metadata
    primary = meta.language.replace("_", "-").split("-")[0].lower()
    return primary != "en" and translator(meta.language).language == "en"


def add_front_matter(pub: Publication, narrator: str | None, closing: bool = True) -> None:
    """Give `pub` its title page (or, for a one-chapter article, a header in that chapter).

    A source without headings is one chapter whose heading is the title; its header becomes the
    title block list itself, so the title is shown and heard once.
    """
    blocks = title_blocks(pub, narrator)
    if pub.has_title_page:
        number_sentences("title", blocks, pub.metadata.language)
    else:
        chapter = pub.chapters[0]
        chapter.blocks = blocks + chapter.blocks[1:]
        number_sentences(chapter.id, chapter.blocks, pub.metadata.language)
    english = "en" if _english_credits(pub) else ""
    for block in blocks:  # "By …", "Narrated by …": the catalogue's words (a date is in the language itself)
        if block.role in ("author", "narrator"):
            for sentence in block.sentences:
                sentence.language = english
    pub.front = blocks
    pub.closing = []
    if closing:
        words = closing_words(pub)
        pub.closing = [Sentence(id="closing-s0001", text=words, spoken=spoken_text(words), language=english)]
