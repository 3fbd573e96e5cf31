"""Captions and chapter files: WebVTT (one cue per sentence) and Podcasting 2.0 chapters JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from publisher.clock import full_clock
from publisher.formats.context import RenderContext
from publisher.model import layout
from publisher.model.timeline import ChapterMark, Cue


def _escape(text: str) -> str:
    # WebVTT cue text: &, < and > must be escaped; a blank line would end the cue
    return " ".join(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").split())


def webvtt(cues: Sequence[Cue], language: str) -> str:
    """A WebVTT file with one cue per sentence, identified by the sentence id."""
    lines = ["WEBVTT", f"Language: {language}", ""]
    for cue in cues:
        lines += [cue.sentence_id, f"{full_clock(cue.start)} --> {full_clock(cue.end)}", _escape(cue.text), ""]
    return "\n".join(lines)


def write_vtt(cues: Sequence[Cue], language: str, path: Path) -> None:
    """Write `cues` as WebVTT (UTF-8)."""
    path.write_text(webvtt(cues, language), encoding="utf-8")


def chapters_json(marks: Sequence[ChapterMark], title: str) -> str:
    """Podcasting 2.0 JSON chapters (version 1.2.0)."""
    data = {
        "version": "1.2.0",
        "title": title,
        "chapters": [{"startTime": round(m.start, 3), "endTime": round(m.end, 3), "title": m.title} for m in marks],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_captions(ctx: RenderContext) -> dict[str, Path]:
    """WebVTT captions for every chapter MP3 and the full-length MP3, and the full-length file's
    Podcasting 2.0 chapters."""
    language = ctx.pub.metadata.language
    for track, mp3 in zip(ctx.timeline.tracks, ctx.audio, strict=True):
        write_vtt(track.cues, language, mp3.path.with_suffix(".vtt"))
    vtt = ctx.folder / layout.file_name("vtt", ctx.slug)
    write_vtt(ctx.timeline.full_cues(), language, vtt)
    chapters = ctx.folder / layout.file_name("chapters", ctx.slug)
    chapters.write_text(chapters_json(ctx.marks, ctx.pub.metadata.title), encoding="utf-8")
    return {"vtt": vtt, "chapters": chapters}
