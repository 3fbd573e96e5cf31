"""The podcast feed rules, checked offline: RSS 2.0, Apple Podcasts and Podcasting 2.0 rules, each citing its source.

No validator for these feeds runs offline, so the rules are written out here, each with the
document it comes from (`Rule.source`), and every problem names its rule. `feed_problems` checks
the feed itself; `publisher.validate.feeds.check_feed` adds the checks against the files it links.
"""

from __future__ import annotations

import email.utils
import itertools
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

from publisher.xmlns import ATOM, ITUNES, PODCAST

RSS_SPEC = "RSS 2.0 specification (rssboard.org/rss-specification)"
APPLE = "Apple Podcasts RSS feed requirements (podcasters.apple.com/support/823-podcast-requirements)"
APPLE_TAGS = "Apple Podcasts RSS tags (podcast-namespace itunes_reference.md, from Podcasts Connect help)"
PC20 = "Podcasting 2.0 namespace (github.com/Podcastindex-org/podcast-namespace docs/tags/{tag}.md)"
RFC5005 = "RFC 5005 §3 paged feeds"
HOUSE = "publisher: chapters of a serial sort in reading order by date as by number (issue 18)"

TAXONOMY = Path(__file__).resolve().parent / "schemas" / "podcastindex" / "taxonomy.json"


@dataclass(frozen=True)
class Rule:
    """One rule a feed must keep, and where it is written."""

    code: str
    source: str
    text: str

    def broken(self, detail: str) -> str:
        """A problem line naming this rule and its source."""
        return f"[{self.code}] {detail} ({self.text}; {self.source})"


RULES = {
    r.code: r
    for r in (
        Rule("RSS-1", RSS_SPEC, "a channel has title, link and description"),
        Rule("RSS-2", RSS_SPEC, "an item has a title or a description"),
        Rule("RSS-3", RSS_SPEC, "an enclosure has url, length (bytes) and type"),
        Rule("RSS-4", RSS_SPEC, "dates are RFC 822 date-times"),
        Rule("RSS-5", RSS_SPEC, "a guid with isPermaLink true (the default) is a URL"),
        Rule("APPLE-1", APPLE_TAGS, "a channel has itunes:image, itunes:category, itunes:explicit and language"),
        Rule("APPLE-2", APPLE_TAGS, "description and itunes:summary are at most 4000 bytes"),
        Rule("APPLE-3", APPLE, "each episode has a unique enclosure URL"),
        Rule("APPLE-4", APPLE, "each episode has a globally unique guid"),
        Rule("APPLE-5", APPLE_TAGS, "itunes:explicit is true or false"),
        Rule("APPLE-6", APPLE_TAGS, "itunes:type is episodic or serial"),
        Rule("APPLE-7", APPLE_TAGS, "itunes:episode is a non-zero integer, mandatory in serial shows"),
        Rule("APPLE-8", APPLE_TAGS, "itunes:episodeType is full, trailer or bonus"),
        Rule("APPLE-9", APPLE_TAGS, "itunes:duration is seconds, MM:SS or HH:MM:SS"),
        Rule("APPLE-10", APPLE, "audio enclosures are audio/mpeg, audio/x-m4a or audio/mp4"),
        Rule("PC-guid", PC20.format(tag="guid"), "one podcast:guid in channel, a UUIDv5"),
        Rule("PC-medium", PC20.format(tag="medium"), "one podcast:medium in channel, from the list"),
        Rule("PC-locked", PC20.format(tag="locked"), "one podcast:locked in channel, yes or no, owner an email"),
        Rule(
            "PC-person",
            PC20.format(tag="person"),
            "a podcast:person has a name of 1–128 characters and a role and group from the Podcast Taxonomy Project",
        ),
        Rule("PC-transcript", PC20.format(tag="transcript"), "podcast:transcript has url and type; rel only captions"),
        Rule("PC-chapters", PC20.format(tag="chapters"), "one podcast:chapters per item with url and type"),
        Rule("PAGED", RFC5005, "a paged feed links to its first and last pages as well as its neighbours"),
        Rule("ORDER", HOUSE, "pubDate order is itunes:episode order"),
    )
}

MEDIUMS = {"podcast", "music", "video", "film", "audiobook", "newsletter", "blog", "publisher", "course"}
MEDIUMS |= {m + "L" for m in MEDIUMS} | {"mixed"}
AUDIO_TYPES = {"audio/mpeg", "audio/x-m4a", "audio/mp4", "audio/aac"}
_UUID5 = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-5[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$")
_DURATION = re.compile(r"^(\d+|\d{1,2}:[0-5]\d|\d+:[0-5]\d:[0-5]\d)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@lru_cache(maxsize=1)
def taxonomy() -> dict[str, set[str]]:
    """The Podcast Taxonomy Project's roles by group, lower case (vendored taxonomy.json)."""
    groups: dict[str, set[str]] = {}
    for row in json.loads(TAXONOMY.read_text(encoding="utf-8")):
        groups.setdefault(row["group"].lower(), set()).add(row["role"].lower())
    return groups


def _date(text: str | None) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(text or "").timestamp()
    except (TypeError, ValueError):
        return None


def _channel_problems(channel: etree._Element) -> list[str]:
    problems = []
    for tag in ("title", "link", "description"):
        if not (channel.findtext(tag) or "").strip():
            problems.append(RULES["RSS-1"].broken(f"channel has no {tag}"))
    for tag in (f"{{{ITUNES}}}image", f"{{{ITUNES}}}category", f"{{{ITUNES}}}explicit", "language"):
        if channel.find(tag) is None:
            problems.append(RULES["APPLE-1"].broken(f"channel has no {tag.split('}')[-1]}"))
    for tag in ("lastBuildDate", "pubDate"):
        if channel.find(tag) is not None and _date(channel.findtext(tag)) is None:
            problems.append(RULES["RSS-4"].broken(f"channel {tag} {channel.findtext(tag)!r}"))
    for element in (channel, *channel.findall("item")):
        for tag in ("description", f"{{{ITUNES}}}summary"):
            if len((element.findtext(tag) or "").encode()) > 4000:
                problems.append(RULES["APPLE-2"].broken(f"{tag.split('}')[-1]} is over 4000 bytes"))
    explicit = channel.findtext(f"{{{ITUNES}}}explicit")
    if explicit is not None and explicit not in ("true", "false"):
        problems.append(RULES["APPLE-5"].broken(f"itunes:explicit {explicit!r}"))
    kind = channel.findtext(f"{{{ITUNES}}}type")
    if kind is not None and kind not in ("episodic", "serial"):
        problems.append(RULES["APPLE-6"].broken(f"itunes:type {kind!r}"))
    return problems + _podcast_channel_problems(channel)


def _single(channel: etree._Element, tag: str, rule: str) -> tuple[str | None, list[str]]:
    found = channel.findall(f"{{{PODCAST}}}{tag}")
    misplaced = [e for e in channel.iter(f"{{{PODCAST}}}{tag}") if e.getparent() is not channel]
    problems = [RULES[rule].broken(f"podcast:{tag} inside <{e.getparent().tag}>, not the channel") for e in misplaced]
    if len(found) > 1:
        problems.append(RULES[rule].broken(f"{len(found)} podcast:{tag} elements"))
    return (found[0].text or "").strip() if found else None, problems


def _podcast_channel_problems(channel: etree._Element) -> list[str]:
    guid, problems = _single(channel, "guid", "PC-guid")
    if guid is not None and not _UUID5.match(guid):
        problems.append(RULES["PC-guid"].broken(f"podcast:guid {guid!r} is not a UUIDv5"))
    medium, more = _single(channel, "medium", "PC-medium")
    problems += more
    if medium is not None and medium not in MEDIUMS:
        problems.append(RULES["PC-medium"].broken(f"podcast:medium {medium!r}"))
    locked, more = _single(channel, "locked", "PC-locked")
    problems += more
    if locked is not None:
        owner = channel.find(f"{{{PODCAST}}}locked").get("owner")
        if locked not in ("yes", "no"):
            problems.append(RULES["PC-locked"].broken(f"podcast:locked {locked!r}"))
        if owner is not None and not _EMAIL.match(owner):
            problems.append(RULES["PC-locked"].broken(f"podcast:locked owner {owner!r} is not an email address"))
    groups = taxonomy()
    for person in channel.iter(f"{{{PODCAST}}}person"):
        name = (person.text or "").strip()
        group, role = person.get("group", "cast").lower(), person.get("role", "host").lower()
        if not 1 <= len(name) <= 128:
            problems.append(RULES["PC-person"].broken(f"podcast:person name {name!r}"))
        if group not in groups or role not in groups[group]:
            problems.append(RULES["PC-person"].broken(f"podcast:person {name!r}: role {role!r} in group {group!r}"))
    return problems


def _item_problems(item: etree._Element, serial: bool) -> list[str]:
    name = item.findtext("title") or item.findtext("guid") or "?"
    problems = []
    if not (item.findtext("title") or item.findtext("description") or "").strip():
        problems.append(RULES["RSS-2"].broken("an item has neither title nor description"))
    enclosure = item.find("enclosure")
    if enclosure is not None:
        missing = [a for a in ("url", "length", "type") if not enclosure.get(a)]
        if missing or not (enclosure.get("length") or "").isdigit():
            problems.append(RULES["RSS-3"].broken(f"{name}: enclosure {dict(enclosure.attrib)}"))
        if enclosure.get("type", "").startswith("audio/") and enclosure.get("type") not in AUDIO_TYPES:
            problems.append(RULES["APPLE-10"].broken(f"{name}: enclosure type {enclosure.get('type')!r}"))
    if item.find("pubDate") is not None and _date(item.findtext("pubDate")) is None:
        problems.append(RULES["RSS-4"].broken(f"{name}: pubDate {item.findtext('pubDate')!r}"))
    guid = item.find("guid")
    if guid is not None and guid.get("isPermaLink", "true") == "true" and "://" not in (guid.text or ""):
        problems.append(RULES["RSS-5"].broken(f"{name}: guid {guid.text!r} is a permalink but not a URL"))
    episode = item.findtext(f"{{{ITUNES}}}episode")
    if episode is not None and not (episode.isdigit() and int(episode) > 0):
        problems.append(RULES["APPLE-7"].broken(f"{name}: itunes:episode {episode!r}"))
    if serial and episode is None:
        problems.append(RULES["APPLE-7"].broken(f"{name}: no itunes:episode in a serial show"))
    kind = item.findtext(f"{{{ITUNES}}}episodeType")
    if kind is not None and kind not in ("full", "trailer", "bonus"):
        problems.append(RULES["APPLE-8"].broken(f"{name}: itunes:episodeType {kind!r}"))
    duration = item.findtext(f"{{{ITUNES}}}duration")
    if duration is not None and not _DURATION.match(duration.strip()):
        problems.append(RULES["APPLE-9"].broken(f"{name}: itunes:duration {duration!r}"))
    for transcript in item.findall(f"{{{PODCAST}}}transcript"):
        if not transcript.get("url") or not transcript.get("type") or transcript.get("rel", "captions") != "captions":
            problems.append(RULES["PC-transcript"].broken(f"{name}: {dict(transcript.attrib)}"))
    chapters = item.findall(f"{{{PODCAST}}}chapters")
    if len(chapters) > 1 or any(not c.get("url") or not c.get("type") for c in chapters):
        problems.append(RULES["PC-chapters"].broken(f"{name}: {[dict(c.attrib) for c in chapters]}"))
    return problems


def _feed_wide_problems(channel: etree._Element, items: list[etree._Element]) -> list[str]:
    problems = []
    urls = [e.get("url") for e in channel.findall("item/enclosure")]
    for url in sorted({u for u in urls if urls.count(u) > 1 and u}):
        problems.append(RULES["APPLE-3"].broken(f"enclosure {url} is used by {urls.count(url)} episodes"))
    guids = [item.findtext("guid") for item in items]
    for guid in sorted({g for g in guids if guids.count(g) > 1 and g}):
        problems.append(RULES["APPLE-4"].broken(f"guid {guid} is used by {guids.count(guid)} episodes"))
    rels = {link.get("rel") for link in channel.findall(f"{{{ATOM}}}link")}
    if rels & {"next", "prev", "previous"} and not {"first", "last"} <= rels:
        problems.append(RULES["PAGED"].broken(f"links {sorted(r for r in rels if r)}"))
    numbered = [(int(i.findtext(f"{{{ITUNES}}}episode") or 0), _date(i.findtext("pubDate"))) for i in items]
    if all(n and d is not None for n, d in numbered):
        by_number = [d for _, d in sorted(numbered)]
        if any(b is not None and a is not None and b <= a for a, b in itertools.pairwise(by_number)):
            problems.append(RULES["ORDER"].broken("episodes sorted by pubDate are not in itunes:episode order"))
    return problems


def feed_problems(tree: etree._ElementTree) -> list[str]:
    """Every rule the feed breaks, one line each naming the rule and its source (empty: valid)."""
    root = tree.getroot()
    if root.tag != "rss" or root.get("version") != "2.0":
        return [
            RULES["RSS-1"].broken(f"the root is <{root.tag} version={root.get('version')!r}>, not <rss version='2.0'>")
        ]
    channel = root.find("channel")
    if channel is None:
        return [RULES["RSS-1"].broken("no channel")]
    items = channel.findall("item")
    serial = channel.findtext(f"{{{ITUNES}}}type") == "serial"
    problems = _channel_problems(channel)
    for item in items:
        problems += _item_problems(item, serial)
    return problems + _feed_wide_problems(channel, items)


def is_feed_page(path: Path) -> bool:
    """Whether `path` is a podcast feed publisher writes: feed.xml or a further page (feed-2.xml…)."""
    return path.name == "feed.xml" or re.fullmatch(r"feed-\d+\.xml", path.name) is not None
