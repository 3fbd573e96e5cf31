"""What the read-along page shows: one publication's text, chapters, downloads and timeline, as template data.

The page (`templates/readalong.html`) has the text with every sentence in a `<span id=…>`,
highlighted while the full-length MP3 plays; sentence timings embedded as JSON; chapter list,
keyboard shortcuts, captions track, downloads. The text's markup comes from `xhtml.render_blocks`
and is serialised by lxml (every piece of user text escaped by the serialiser).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree
from markupsafe import Markup

from publisher.formats.book.xhtml import EPUB_TYPE, render_blocks
from publisher.formats.context import RenderContext
from publisher.formats.images import ImageCopies, by_content
from publisher.formats.web.downloads import PAGE_NAME, folder_downloads
from publisher.formats.web.images import cover_picture
from publisher.i18n import translator
from publisher.model.publication import Block


@dataclass(frozen=True)
class ChapterLink:
    """A chapter in the page's chapter list: it seeks to `start` and moves focus to sentence `target`."""

    title: str
    target: str
    start: float


@dataclass(frozen=True)
class Section:
    """A chapter of the text: its id and its markup."""

    id: str
    html: Markup


@dataclass(frozen=True)
class ChapterAudio:
    """A chapter's MP3 in the downloads: title, address in the folder, duration (s), size (bytes)."""

    title: str
    href: str
    duration: float
    size: int


def _strip_namespaces(elements: Iterable[etree._Element]) -> list[etree._Element]:
    """XHTML elements from xhtml.render_blocks → plain HTML elements (an EPUB `epub:type`, on notes
    and note references, becomes `data-epub-type`: HTML has no namespaced attributes)."""
    out = []
    for root in elements:
        for el in root.iter():
            if isinstance(el.tag, str) and el.tag.startswith("{"):
                el.tag = etree.QName(el).localname
            if isinstance(el.tag, str) and EPUB_TYPE in el.attrib:
                el.set("data-epub-type", el.attrib.pop(EPUB_TYPE))
        etree.cleanup_namespaces(root)
        out.append(root)
    return out


def _shift_headings(elements: list[etree._Element], by: int) -> None:
    for root in elements:
        for el in root.iter("h1", "h2", "h3", "h4", "h5", "h6"):
            el.tag = f"h{max(2, min(6, int(el.tag[1]) + by))}"


def _html(blocks: Sequence[Block], images: ImageCopies, shift: int | None = None) -> Markup:
    """Blocks as HTML, each block element followed by a line break; headings shifted when asked."""
    elements = _strip_namespaces(render_blocks(blocks, images.href))
    if shift is not None:
        _shift_headings(elements, shift)
    for el in elements:
        el.tail = "\n"
    return Markup("".join(etree.tostring(el, method="html", encoding="unicode") for el in elements))


def _chapter_targets(ctx: RenderContext) -> list[str | None]:
    """For each chapter mark, the id of the sentence its link points to."""
    cues = ctx.timeline.full_cues()
    if len(ctx.timeline.tracks) > 1 and len(ctx.marks) == len(ctx.pub.chapters):
        targets: list[str | None] = []
        for chapter in ctx.pub.chapters:
            first = next(chapter.sentences(), None)
            targets.append(first.id if first else None)
        return targets
    out: list[str | None] = []
    for mark in ctx.marks:
        cue = next((c for c in cues if c.start >= mark.start - 1e-3), None)
        out.append(cue.sentence_id if cue else None)
    return out


def _sections(ctx: RenderContext, images: ImageCopies) -> list[Section]:
    """The chapters' markup; the title is the h1, so chapter headings start at h2 (an article's
    headings too: its title is the h1, its sections h2 and below)."""
    pub = ctx.pub
    shift = 1 if pub.has_title_page else 0
    sections = []
    for chapter in pub.chapters:
        blocks = [b for b in chapter.blocks if not any(b is f for f in pub.front)]
        sections.append(Section(chapter.id, _html(blocks, images, shift)))
    return sections


def _timeline(ctx: RenderContext) -> dict[str, Any]:
    """What the page's script plays from: duration, chapters and every sentence's cue (seconds)."""
    return {
        "title": ctx.pub.metadata.title,
        "duration": round(ctx.timeline.duration, 3),
        "chapters": [{"title": m.title, "start": round(m.start, 3), "end": round(m.end, 3)} for m in ctx.marks],
        "cues": [[c.sentence_id, round(c.start, 3), round(c.end, 3)] for c in ctx.timeline.full_cues()],
        "messages": script_messages(ctx.pub.metadata.language),
    }


def script_messages(language: str) -> dict[str, str]:
    """What the page's script announces (live region), in the page's language; `{time}` and
    `{title}` are filled in by the script."""
    _ = translator(language).gettext
    return {
        "blocked": _("Use the player's Play button to start the audio."),
        "from": _("Playing from {time}"),
        "chapter": _("Playing {title}, from {time}"),
        "paused": _("Paused at {time}"),
        "back": _("Back 10 seconds, at {time}"),
        "forward": _("Forward 10 seconds, at {time}"),
    }


def _chapter_audio(ctx: RenderContext) -> list[ChapterAudio]:
    """The chapter MP3s, when there are more than one."""
    if len(ctx.audio) <= 1:
        return []
    return [
        ChapterAudio(mp3.title, mp3.path.relative_to(ctx.folder).as_posix(), mp3.duration, mp3.path.stat().st_size)
        for mp3 in ctx.audio
    ]


def readalong_data(ctx: RenderContext) -> dict[str, Any]:
    """Everything `templates/readalong.html` shows of the publication in `ctx` (copies its images)."""
    meta = ctx.pub.metadata
    images = ImageCopies(ctx.folder, by_content)
    front = _html(ctx.pub.front, images)
    targets = _chapter_targets(ctx)
    return {
        "catalogue_page": PAGE_NAME,
        "audio": ctx.full.path.name,
        "captions": f"{ctx.slug}.vtt",
        "now": ctx.marks[0].title if ctx.marks else meta.title,
        "chapters": [ChapterLink(m.title, t or "text", m.start) for m, t in zip(ctx.marks, targets, strict=True)],
        "cover": cover_picture(ctx.folder, ctx.cover_name, ctx.cover.alt),
        "front": front,
        "sections": _sections(ctx, images),
        "closing": ctx.pub.closing,
        "downloads": folder_downloads(ctx),
        "chapter_audio": _chapter_audio(ctx),
        "narrator": ctx.timeline.narrator,
        "modified": ctx.modified,
        "timeline": _timeline(ctx),
    }
