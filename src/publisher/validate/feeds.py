"""Checks of podcast feeds written by publisher: every item complete, and every file it names there."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from publisher.validate.feed_rules import feed_problems
from publisher.validate.report import Report
from publisher.xmlns import ATOM, ITUNES, PODCAST


def check_feed(feed: Path) -> Report:
    """A feed written by publisher: every item has a guid, a date, a duration, an enclosure whose
    length is the real file's size, and a transcript and chapters that exist (URLs are mapped back
    to files through the feed's own atom:link rel="self")."""
    problems: list[str] = []
    try:
        tree = etree.parse(str(feed))
    except etree.XMLSyntaxError as exc:
        return Report(feed, "feed", False, f"not well-formed XML: {exc}")
    channel = tree.find("channel")
    if channel is None:
        return Report(feed, "feed", False, "no RSS channel")
    self_link = channel.find(f"{{{ATOM}}}link[@rel='self']")
    self_url = self_link.get("href", "") if self_link is not None else ""
    base = self_url[: -len(feed.name)] if self_url.endswith(feed.name) else None
    if base is None:
        problems.append("no atom:link rel=self ending in the feed's name")
    for tag in ("title", "link", "description", "language", f"{{{ITUNES}}}image", f"{{{ITUNES}}}category",
                f"{{{ITUNES}}}explicit", f"{{{ITUNES}}}author"):  # fmt: skip
        if channel.find(tag) is None:
            problems.append(f"channel has no {tag.split('}')[-1]}")

    def local(url: str | None) -> Path | None:
        if not url or base is None or not url.startswith(base):
            problems.append(f"{url!r} is not under {base!r}")
            return None
        return feed.parent / unquote(url[len(base) :])

    items = channel.findall("item")
    for item in items:
        name = item.findtext("title") or "?"
        for tag in ("guid", "pubDate", f"{{{ITUNES}}}duration"):
            if not (item.findtext(tag) or "").strip():
                problems.append(f"{name}: no {tag.split('}')[-1]}")
        enclosure = item.find("enclosure")
        file = local(enclosure.get("url")) if enclosure is not None else None
        if file is None or not file.is_file():
            problems.append(f"{name}: enclosure missing or not found")
        elif enclosure is not None and enclosure.get("length") != str(file.stat().st_size):
            problems.append(f"{name}: enclosure length {enclosure.get('length')} != file size {file.stat().st_size}")
        for tag in ("transcript", "chapters"):
            element = item.find(f"{{{PODCAST}}}{tag}")
            target = local(element.get("url")) if element is not None else None
            if target is None or not target.is_file():
                problems.append(f"{name}: podcast:{tag} missing or not found")
    problems += feed_problems(tree)
    summary = f"{len(items)} episodes" + (f", {len(problems)} problems" if problems else ", all complete")
    return Report(feed, "feed", not problems and bool(items), summary, problems)
