"""The title page and the spoken credits: the same words shown on the page and heard first."""

from __future__ import annotations

from dataclasses import replace

from publisher.i18n import join_names, translator
from publisher.model.publication import Block, Publication, Run, Sentence
from publisher.structure import number_sentences
from publisher.text.clean import spoken_text
from publisher.text.dates import display_date


def title_blocks(pub: Publication, narrator: str | None) -> list[Block]:
    """Title, byline, date and narrator credit, as blocks, in the publication's language."""
    meta = pub.metadata
    _ = translator(meta.language).gettext
    blocks = [Block(kind="heading", runs=[Run(meta.title)], level=1)]
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


def add_front_matter(pub: Publication, narrator: str | None, closing: bool = True) -> Publication:
    """`pub` with its title page (or, for a one-chapter article, a header in that chapter) and,
    with `closing`, its closing line.

    A source without headings is one chapter whose heading is the title; its header becomes the
    title block list itself, so the title is shown and heard once.
    """
    blocks = title_blocks(pub, narrator)
    language = pub.metadata.language
    chapters = list(pub.chapters)
    if pub.has_title_page:
        front = number_sentences("title", blocks, language)
    else:
        first = chapters[0]
        numbered = number_sentences(first.id, [*blocks, *first.blocks[1:]], language)
        front = numbered[: len(blocks)]
        chapters[0] = replace(first, blocks=numbered)
    words = closing_words(pub) if closing else ""
    ending = [Sentence(id="closing-s0001", text=words, spoken=spoken_text(words))] if closing else []
    return replace(pub, chapters=chapters, front=front, closing=ending)
