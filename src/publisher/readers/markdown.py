"""Markdown reader: YAML front matter, then GFM (tables, footnotes, task lists, strikethrough,
autolinks), definition lists and typographic quotes through markdown-it-py and its plugins."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from publisher.model.publication import Block, Cell, Metadata, Publication, Run, Style
from publisher.readers.common import assemble, metadata_from_front_matter, split_front_matter
from publisher.structure import row_block

log = logging.getLogger(__name__)

_STYLES = {"em_open": "em", "strong_open": "strong", "s_open": "del"}
_CLOSES = ("em_close", "strong_close", "link_close", "s_close")


def parser(typographer: bool = True) -> MarkdownIt:
    """The Markdown parser: CommonMark plus GFM and definition lists; smart punctuation if asked."""
    md = MarkdownIt("commonmark", {"typographer": typographer, "linkify": True})
    md.enable(["table", "strikethrough", "linkify"])
    if typographer:
        md.enable(["replacements", "smartquotes"])
    return md.use(footnote_plugin).use(deflist_plugin).use(tasklists_plugin)


def inline_runs(children: list[Token]) -> tuple[list[Run], list[tuple[str, str, str]]]:
    """Inline tokens → runs with marks, plus the (src, alt, title) of any images met on the way."""
    runs: list[Run] = []
    images: list[tuple[str, str, str]] = []
    marks: list[Style] = []
    for tok in children:
        if tok.type == "text":
            runs.append(Run(tok.content, tuple(marks)))
        elif tok.type in ("softbreak", "hardbreak"):
            runs.append(Run(" ", tuple(marks)))
        elif tok.type == "code_inline":
            runs.append(Run(tok.content, (*marks, Style("code"))))
        elif tok.type in _STYLES:
            marks.append(Style(_STYLES[tok.type]))  # type: ignore[arg-type]
        elif tok.type == "link_open":
            marks.append(Style("link", str(tok.attrGet("href") or "")))
        elif tok.type in _CLOSES:
            if marks:
                marks.pop()
        elif tok.type == "footnote_ref":
            runs.append(Run(str(tok.meta["id"] + 1), (*marks, Style("noteref", f"fn-{tok.meta['label']}"))))
        elif tok.type == "image":
            alt = "".join(c.content for c in tok.children or [])
            images.append((str(tok.attrGet("src") or ""), alt, str(tok.attrGet("title") or "")))
        elif tok.type == "html_inline" and "task-list-item-checkbox" in tok.content:
            runs.append(Run("☑ " if "checked" in tok.content else "☐ "))
        elif tok.type == "html_inline":
            continue  # raw HTML is never copied through: it could carry scripts
    return runs, images


@dataclass
class _State:
    """Where the walk is: open quotes, lists, tables, definition lists and footnotes."""

    quote_depth: int = 0
    lists: list[bool] = field(default_factory=list)  # stack of "ordered?" for open lists
    heading: int | None = None
    cells: list[Cell] | None = None  # the row being read
    cell_header: bool = False
    in_head: bool = False
    dl: str = ""  # "dt" or "dd" inside a definition list
    note: str = ""  # the label of the footnote being read


def _inline_block(tok: Token, state: _State, blocks: list[Block]) -> None:
    runs, images = inline_runs(tok.children or [])
    if state.cells is not None:
        state.cells.append(Cell(runs, header=state.cell_header))
        return
    if state.heading is not None:
        blocks.append(Block(kind="heading", runs=runs, level=state.heading))
        state.heading = None
        return
    if len(images) == 1 and images[0][2] and not "".join(r.text for r in runs).strip():
        src, alt, title = images[0]  # an image alone with a title: a figure, the title its caption
        blocks.append(Block(kind="figure", runs=[Run(title)], src=src, alt=alt))
        return
    if state.note:
        blocks.append(Block(kind="note", runs=runs, label=state.note))
    elif state.dl:
        blocks.append(Block(kind="term" if state.dl == "dt" else "definition", runs=runs))
    elif state.lists:
        blocks.append(Block(kind="list_item", runs=runs, level=len(state.lists), ordered=state.lists[-1]))
    elif state.quote_depth:
        blocks.append(Block(kind="quote", runs=runs, level=state.quote_depth))
    else:
        blocks.append(Block(kind="paragraph", runs=runs))
    for src, alt, _title in images:
        blocks.append(Block(kind="image", src=src, alt=alt))


def _structure(tok: Token, state: _State, blocks: list[Block]) -> bool:
    """Open and close tables, definition lists and footnotes; False if `tok` is none of those."""
    kind = tok.type
    if kind == "table_open":
        blocks.append(Block(kind="table"))
    elif kind in ("thead_open", "thead_close"):
        state.in_head = kind == "thead_open"
    elif kind == "tr_open":
        state.cells = []
    elif kind == "tr_close" and state.cells is not None:
        blocks.append(row_block(state.cells, header=state.in_head))
        state.cells = None
    elif kind in ("th_open", "td_open"):
        state.cell_header = kind == "th_open"
    elif kind in ("dt_open", "dd_open"):
        state.dl = tok.tag
    elif kind in ("dt_close", "dd_close"):
        state.dl = ""
    elif kind == "footnote_open":
        state.note = f"fn-{tok.meta['label']}"
    elif kind == "footnote_close":
        state.note = ""
    else:
        return False
    return True


def blocks_from_tokens(tokens: list[Token]) -> list[Block]:
    """Block tokens → Blocks (headings, paragraphs, quotes, list items, code, images, tables…)."""
    blocks: list[Block] = []
    state = _State()
    for tok in tokens:
        kind = tok.type
        if _structure(tok, state, blocks):
            continue
        if kind == "blockquote_open":
            state.quote_depth += 1
        elif kind == "blockquote_close":
            state.quote_depth -= 1
        elif kind in ("bullet_list_open", "ordered_list_open"):
            state.lists.append(kind == "ordered_list_open")
        elif kind in ("bullet_list_close", "ordered_list_close"):
            state.lists.pop()
        elif kind == "heading_open":
            state.heading = int(tok.tag[1])
        elif kind == "inline":
            _inline_block(tok, state, blocks)
        elif kind in ("fence", "code_block"):
            language = tok.info.split()[0] if tok.info.strip() else ""
            code = Block(kind="code", runs=[Run(tok.content.rstrip("\n"), (Style("code"),))], role=language)
            blocks.append(code)
        elif kind == "html_block":
            log.info("raw HTML block left out of the publication")
    return _table_captions(blocks)


def _table_captions(blocks: list[Block]) -> list[Block]:
    """A paragraph "Table: …" right before or after a table is its caption (pandoc's convention)."""
    todo = list(blocks)
    out: list[Block] = []
    for n, block in enumerate(todo):
        caption = block.kind == "paragraph" and block.text.startswith(("Table:", ": "))
        if caption and n + 1 < len(todo) and todo[n + 1].kind == "table" and not todo[n + 1].runs:
            todo[n + 1] = replace(todo[n + 1], runs=_strip_label(block.runs))
            continue
        if caption and out and out[-1].kind == "row":
            at = max(i for i, b in enumerate(out) if b.kind == "table")
            if not out[at].runs:
                out[at] = replace(out[at], runs=_strip_label(block.runs))
                continue
        out.append(block)
    return out


def _strip_label(runs: Sequence[Run]) -> list[Run]:
    first = runs[0]
    text = first.text.removeprefix("Table:").removeprefix(": ").lstrip()
    return [Run(text, first.marks), *runs[1:]]


def read(
    text: str, path: Path, defaults: Metadata, typographer: bool = True, typographer_pinned: bool = False
) -> Publication:
    """Read Markdown with optional YAML front matter into a Publication. Typewriter punctuation
    becomes typographic with `typographer`, unless the front matter says otherwise (and the caller
    did not pin it)."""
    front, body = split_front_matter(text, path)
    meta = metadata_from_front_matter(front, path, replace(defaults, title=""))
    chosen = meta.settings.get("typographer", typographer) if not typographer_pinned else typographer
    md: Any = parser(chosen not in (False, "false", "no", "off", 0))
    blocks = blocks_from_tokens(md.parse(body))
    return assemble(meta, blocks, path)
