"""Markdown reader: YAML front matter, then CommonMark through markdown-it-py."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from publisher.model.publication import Block, Metadata, Publication, Run, Style
from publisher.readers.common import assemble, metadata_from_front_matter, split_front_matter

log = logging.getLogger(__name__)


def inline_runs(children: list[Token]) -> tuple[list[Run], list[tuple[str, str]]]:
    """Inline tokens → runs with marks, plus the (src, alt) of any images met on the way."""
    runs: list[Run] = []
    images: list[tuple[str, str]] = []
    marks: list[Style] = []
    for tok in children:
        if tok.type == "text":
            runs.append(Run(tok.content, tuple(marks)))
        elif tok.type in ("softbreak", "hardbreak"):
            runs.append(Run(" ", tuple(marks)))
        elif tok.type == "code_inline":
            runs.append(Run(tok.content, (*marks, Style("code"))))
        elif tok.type == "em_open":
            marks.append(Style("em"))
        elif tok.type == "strong_open":
            marks.append(Style("strong"))
        elif tok.type == "link_open":
            marks.append(Style("link", str(tok.attrGet("href") or "")))
        elif tok.type in ("em_close", "strong_close", "link_close"):
            if marks:
                marks.pop()
        elif tok.type == "image":
            alt = "".join(c.content for c in tok.children or [])
            images.append((str(tok.attrGet("src") or ""), alt))
        elif tok.type == "html_inline":
            continue  # raw HTML is never copied through: it could carry scripts
    return runs, images


def blocks_from_tokens(tokens: list[Token]) -> list[Block]:
    """Block tokens → Blocks (headings, paragraphs, quotes, list items, code, images)."""
    blocks: list[Block] = []
    quote_depth = 0
    lists: list[bool] = []  # stack of "ordered?" for open lists
    pending_heading: int | None = None
    for tok in tokens:
        kind = tok.type
        if kind == "blockquote_open":
            quote_depth += 1
        elif kind == "blockquote_close":
            quote_depth -= 1
        elif kind in ("bullet_list_open", "ordered_list_open"):
            lists.append(kind == "ordered_list_open")
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "heading_open":
            pending_heading = int(tok.tag[1])
        elif kind == "inline":
            runs, images = inline_runs(tok.children or [])
            if pending_heading is not None:
                blocks.append(Block(kind="heading", runs=runs, level=pending_heading))
                pending_heading = None
            elif lists:
                blocks.append(Block(kind="list_item", runs=runs, level=len(lists), ordered=lists[-1]))
            elif quote_depth:
                blocks.append(Block(kind="quote", runs=runs, level=quote_depth))
            else:
                blocks.append(Block(kind="paragraph", runs=runs))
            for src, alt in images:
                blocks.append(Block(kind="image", src=src, alt=alt))
        elif kind in ("fence", "code_block"):
            blocks.append(Block(kind="code", runs=[Run(tok.content.rstrip("\n"), (Style("code"),))]))
        elif kind == "html_block":
            log.info("raw HTML block left out of the publication")
    return blocks


def read(text: str, path: Path, defaults: Metadata) -> Publication:
    """Read Markdown with optional YAML front matter into a Publication."""
    front, body = split_front_matter(text, path)
    meta = metadata_from_front_matter(front, path, replace(defaults, title=""))
    parser: Any = MarkdownIt("commonmark")
    blocks = blocks_from_tokens(parser.parse(body))
    return assemble(meta, blocks, path)
