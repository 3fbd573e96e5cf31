"""Catalogue at library scale: a synthetic output folder of N publications (manifests only), timed.

Measures, for feeds + OPDS (and the index page, when the site renderer copes with manifests only):
writing the whole catalogue into an empty folder, rewriting it after one publication changes
(its modification time and one chapter's audio), the size of the largest file written, and the
time to write the catalogue of one publication alone (the ratio's unit). Results are printed as a
BENCHMARKS.md section; `--record` appends it.

    PYTHONPATH=src python benchmarks/catalogue.py            # 5,000 publications
    PYTHONPATH=src python benchmarks/catalogue.py -n 500 --record
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from publisher.formats.context import CatalogueContext
from publisher.formats.registry import catalogue_files, catalogue_kinds
from publisher.formats.web.feed import write_feeds
from publisher.formats.web.opds import write_opds
from publisher.manifest import load_entries
from publisher.model.layout import MANIFEST
from publisher.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ["en", "en", "en", "fr", "de", "es", "it", "nl"]


def manifest(index: int, rng: random.Random) -> dict[str, object]:
    """A plausible manifest for publication `index`: 1–12 chapters, every format, one of 1,500 authors."""
    slug = f"title-{index:05d}"
    chapters = rng.randint(1, 12)
    year = rng.randint(1850, 2026)
    dated = rng.random() < 0.7
    published = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    audio = [
        {
            "path": f"audio/{c:02d}-chapter-{c}.mp3",
            "chapter": c,
            "title": f"Chapter {c}",
            "duration": 600.0 + c,
            "digest": f"{index:08x}{c:056x}",
            "updated": None,
        }
        for c in range(1, chapters + 1)
    ]
    formats = {
        "epub": f"{slug}.epub",
        "read_aloud_epub": f"{slug}-read-aloud.epub",
        "mp3": f"{slug}.mp3",
        "m4b": f"{slug}.m4b",
        "audiobook": f"{slug}.audiobook",
        "lpf": f"{slug}.lpf",
        "daisy_zip": f"{slug}-daisy.zip",
        "page": "index.html",
        "cover": "cover.jpg",
        "chapters": f"{slug}.chapters.json",
        "vtt": f"{slug}.vtt",
    }
    files = {path: rng.randint(10_000, 90_000_000) for path in formats.values()} | {"thumbnail.jpg": 4000}
    for record in audio:
        stem = str(record["path"])[: -len(".mp3")]
        files |= {f"{stem}.mp3": rng.randint(1_000_000, 9_000_000), f"{stem}.vtt": 4000, f"{stem}.chapters.json": 300}
    return {
        "fingerprint": f"bench-{index}",  # what the typed manifest (publisher/manifest.py) requires
        "sentences": 40 * chapters,
        "chapters": chapters,
        "version": "bench",
        "metadata": {
            "title": f"Title {index} of the library",
            "authors": [f"Author {rng.randint(1, 1500)}"],
            "language": rng.choice(LANGUAGES),
            "identifier": f"urn:uuid:00000000-0000-5000-8000-{index:012d}",
            "date": published if dated else None,
            "description": f"Publication {index}, synthetic.",
            "publisher": "Bench Press",
            "rights": None,
            "subjects": ["Fiction"],
            "narrator": "silence (test engine)",
            "cover": "cover.jpg",
            "published": f"{published}T00:00:00Z" if dated else "2026-01-01T00:00:00Z",
            "modified": "2026-06-01T00:00:00Z",
        },
        "duration": 600.0 * chapters,
        "audio": audio,
        "full": {"path": f"{slug}.mp3", "chapter": 0, "title": f"Title {index}", "duration": 600.0 * chapters},
        "marks": [],
        "formats": formats,
        "files": files,
    }


def synthesise(output: Path, count: int) -> None:
    rng = random.Random(18)
    for index in range(count):
        folder = output / f"title-{index:05d}"
        folder.mkdir(parents=True)
        (folder / MANIFEST).write_text(json.dumps(manifest(index, rng)), encoding="utf-8")


def timed(action: Callable[[], list[Path]]) -> tuple[float, float, list[Path]]:
    """(wall seconds, CPU seconds of this process, what the action returned)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def best(action: Callable[[], list[Path]], runs: int = 3) -> tuple[float, float, list[Path]]:
    """The fastest of `runs` timings (other processes on a shared machine only ever add time)."""
    results = [timed(action) for _ in range(runs)]
    return min(results, key=lambda r: r[0])


def renderers(output: Path, settings: Settings, force: bool = False) -> list[Path]:
    """The feeds and the OPDS catalogue (the index page is timed on its own: it belongs to the site renderer)."""
    settings = replace(settings, force=force)
    entries = load_entries(output)
    cat = CatalogueContext(tuple(entries), output, settings, catalogue_files(), catalogue_kinds())
    return write_feeds(cat) + write_opds(cat)


def index_page(output: Path, settings: Settings) -> str:
    """Time and size of the index page over the whole catalogue, when its renderer copes with manifests only."""
    try:
        from publisher.formats.web.site import write_index

        entries = load_entries(output)
        started = time.perf_counter()
        write_index(entries, output, settings)
        seconds = time.perf_counter() - started
    except Exception as exc:  # another module's failure only narrows what is measured
        return f"not measured ({type(exc).__name__}: {exc})"
    return f"{seconds:.2f} s, {(output / 'index.html').stat().st_size / 1e6:.1f} MB (one page: not paginated yet)"


def change_one(output: Path, index: int, when: str) -> None:
    """Publication `index` re-published at `when` with its first chapter's audio changed."""
    path = output / f"title-{index:05d}" / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data["metadata"]["modified"] = when
    data["audio"][0]["digest"] = f"changed at {when}"
    data["audio"][0]["updated"] = when
    path.write_text(json.dumps(data), encoding="utf-8")


def _clock(wall: float, cpu: float) -> str:
    return f"{wall:.2f} s wall, {cpu:.2f} s CPU"


def run(count: int, page_size: int) -> list[tuple[str, str]]:
    settings = Settings(base_url="https://library.example.org/", page_size=page_size, site_title="Library")
    with tempfile.TemporaryDirectory(prefix="catalogue-bench-") as tmp:
        one, full = Path(tmp) / "one", Path(tmp) / "full"
        synthesise(one, 1)
        synthesise(full, count)
        single, single_cpu, _ = best(lambda: renderers(one, settings, force=True))
        loading, loading_cpu, _ = best(lambda: load_entries(full))  # type: ignore[arg-type,return-value]
        cold, cold_cpu, written = timed(lambda: renderers(full, settings))
        largest = max(written, key=lambda p: p.stat().st_size)
        biggest = f"{largest.relative_to(full)}: {largest.stat().st_size / 1e3:.0f} kB"
        total = sum(p.stat().st_size for p in written)
        same, same_cpu, unchanged = best(lambda: renderers(full, settings))
        times = iter(f"2026-11-28T12:00:0{n}Z" for n in range(10))

        def edit_and_rebuild() -> list[Path]:
            change_one(full, count // 2, next(times))
            return renderers(full, settings)

        warm, warm_cpu, rewritten = best(edit_and_rebuild)
        names = ", ".join(sorted(p.relative_to(full).as_posix() for p in rewritten))
        index = index_page(full, settings)
    return [
        (
            "catalogue",
            f"{count:,} publications (manifests only, 1–12 chapters, 1,500 authors, 8 languages), {page_size} per "
            "page: site feed, serial feeds, OPDS 1.2 + 2.0 with language and author facets, search index",
        ),
        (
            "one publication's catalogue, rendered and written (the unit; best of 3)",
            f"{single * 1000:.0f} ms wall, {single_cpu * 1000:.0f} ms CPU",
        ),
        (f"reading {count:,} manifests (best of 3)", _clock(loading, loading_cpu)),
        (
            "write the whole catalogue into an empty folder",
            f"{_clock(cold, cold_cpu)} = {cold / single:.0f} × the unit; {len(written):,} files, {total / 1e6:.1f} MB",
        ),
        ("largest file written", biggest),
        (
            "rebuild, nothing changed (best of 3)",
            f"{_clock(same, same_cpu)} = {same / single:.0f} × the unit; {len(unchanged)} files written",
        ),
        (
            "rebuild after one publication changed (best of 3)",
            f"{_clock(warm, warm_cpu)} = {warm / single:.0f} × "
            f"the unit, {warm / cold:.1%} of the whole; {len(rewritten)} files written: {names}",
        ),
        ("index page (site renderer), whole catalogue", index),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--count", type=int, default=5000, help="publications [5000]")
    parser.add_argument("--page-size", type=int, default=100, help="entries per page [100]")
    parser.add_argument("--record", action="store_true", help="append the section to BENCHMARKS.md")
    args = parser.parse_args()
    rows = run(args.count, args.page_size)
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [f"## {when} — catalogue at library scale ({platform.node()}, {platform.machine()}, "
             f"Python {platform.python_version()})", "", "| measure | result |", "| --- | --- |"]  # fmt: skip
    lines += [f"| {name} | {value} |" for name, value in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.record:
        with (ROOT / "BENCHMARKS.md").open("a", encoding="utf-8") as handle:
            handle.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
