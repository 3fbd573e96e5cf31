"""The render stage of one source, after synthesis: the chapter WAVs, mastering, placed audio, every
renderer of the registry and the manifest, in a staging folder moved into `<output>/<slug>/` only
once complete."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from publisher import __version__
from publisher.audio.master import make_masters
from publisher.audio.place import EncodedAudio, place_audio
from publisher.clock import iso_utc, modified_time
from publisher.errors import RenderError
from publisher.formats import registry
from publisher.formats.context import RenderContext
from publisher.formats.cover import load_cover
from publisher.manifest import CatalogueMetadata, Levels, Manifest, ManifestAudio, write_manifest
from publisher.model import layout
from publisher.model.publication import Publication
from publisher.model.timeline import AudioFile, PlacedAudio
from publisher.pipeline.executor import RenderStep
from publisher.pipeline.plan import Plan
from publisher.pipeline.results import SourceResult
from publisher.pipeline.staging import commit, staged
from publisher.progress import CancelToken, check
from publisher.speech.narrate import assemble, count_sentences

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Renderer:
    """Everything after synthesis for one source, as a picklable callable (an executor runs it here
    or on a cluster worker); its clips must be in the cache."""

    plan: Plan
    synthesized: int = 0  # clips made for it in this run (what its result reports)

    def __call__(self, step: RenderStep | None = None, cancel: CancelToken | None = None) -> SourceResult:
        """Render the plan; report each renderer to `step`; stop at a cancelled token (the staging
        folder goes, the previous publication stays)."""
        return render_plan(self.plan, self.synthesized, step, cancel)

    def ahead(self) -> None:
        """What rendering needs that no audio changes, done while its clips are spoken elsewhere:
        the renderers' modules imported (and numpy, which laying the narration out needs), a
        generated cover drawn and its thumbnail made (both kept for the render, in this process)."""
        import numpy  # noqa: F401

        from publisher.ffmpeg import ffmpeg_exe
        from publisher.formats.web.feed import thumbnail

        registry.load_renderers()
        ffmpeg_exe()
        if self.plan.pub.metadata.cover is None and not self.plan.settings.narration:
            thumbnail(load_cover(self.plan.pub.metadata).data)


def render_plan(
    plan: Plan, synthesized: int = 0, step: RenderStep | None = None, cancel: CancelToken | None = None
) -> SourceResult:
    """Narration, audio and every format of `plan`, moved into `<output>/<slug>/` once complete."""
    pub, settings = plan.pub, plan.settings
    dest = settings.output / pub.slug
    steps = len(registry.RENDERERS) + 1  # the audio stage, then each renderer
    with staged(settings.output, pub.slug) as (staging, work):
        recorded = None
        if settings.narration:  # a person's recording, aligned with the text (align/, loaded only for it)
            from publisher.align.narration import recorded_narration

            def heard(seconds: float, length: float) -> None:
                check(cancel)  # a long recording's transcription stops between its pieces
                if step:
                    step(round(seconds), round(length), "align")

            recorded = recorded_narration(
                pub, list(settings.narration), plan.voice.narrator, plan.path, plan.clips.root, work, heard=heard
            )
            narration = recorded.narration
        else:
            narration = assemble(pub, plan.voice, settings, work, plan.clips)
        previous = plan.previous.levels if plan.previous else None
        gains = dict(previous.gains) if previous and previous.profile == settings.profile else {}
        masters = make_masters(narration, settings, gains)
        placed, encoded = place_audio(pub, narration, masters, staging, settings, plan.clips.segments)
        if step:
            step(1, steps, "render")
        modified = iso_utc(modified_time(plan.epoch))
        ctx = RenderContext(
            pub=pub, placed=placed, encoded=encoded, settings=settings, cover=load_cover(pub.metadata),
            folder=staging, work=work, epoch=plan.epoch, modified=modified,
        )  # fmt: skip
        formats = render(ctx, step, cancel, first=1, steps=steps)
        check(cancel)
        if recorded is not None:  # the alignment report beside the outputs, each sentence playable
            from publisher.align.report import write_report

            cues = {c.sentence_id: (c.start, c.end) for c in placed.timeline.full_cues()}
            write_report(recorded.alignment, staging, pub.metadata.title, placed.full.path.name, cues)
        manifest = _manifest(plan, ctx, placed, encoded, formats)
        write_manifest(staging, manifest)
        files = tuple(dest / name for name in manifest.files)
        commit(staging, dest)
    return _result(plan, dest, staging, placed, files, synthesized)


def render(
    ctx: RenderContext,
    step: RenderStep | None = None,
    cancel: CancelToken | None = None,
    first: int = 0,
    steps: int | None = None,
) -> dict[str, Path]:
    """Every renderer of the registry in turn, each seeing what those before it wrote; returns every
    output by kind. A renderer that returns a kind it did not declare is a bug, reported as one."""
    written: dict[str, Path] = {}
    later = registry.catalogue_kinds()
    total = steps or len(registry.RENDERERS)
    for n, renderer in enumerate(registry.RENDERERS, start=first + 1):
        check(cancel)
        log.debug("%s: rendering %s", ctx.slug, renderer.name)
        made = renderer.render(replace(ctx, written=dict(written), later=later))
        undeclared = set(made) - set(renderer.kinds)
        if undeclared:
            raise RenderError(
                f"renderer {renderer.name!r} wrote undeclared kinds {sorted(undeclared)}", path=ctx.folder
            )
        written.update(made)
        if step:
            step(n, total, "render")
    return written


def _manifest(
    plan: Plan, ctx: RenderContext, placed: PlacedAudio, encoded: EncodedAudio, formats: dict[str, Path]
) -> Manifest:
    """What the publication in `ctx.folder` holds and was made from."""
    staging = ctx.folder
    source = plan.path
    previous = plan.previous
    audio = tuple(_record(a, staging) for a in placed.chapters)
    return Manifest(
        fingerprint=plan.fingerprint,
        source=source.name,
        source_sha256=hashlib.sha256(source.read_bytes()).hexdigest() if source.is_file() else None,
        version=__version__,
        metadata=catalogue_metadata(plan.pub, plan.voice.narrator, ctx.modified, previous, ctx.cover_name),
        duration=placed.timeline.duration,
        sentences=count_sentences(plan.pub),
        chapters=len(plan.pub.chapters),
        audio=chapter_history(audio, staging, previous, ctx.modified),
        full=_record(placed.full, staging),
        marks=placed.timeline.marks,
        formats={kind: str(path.relative_to(staging)) for kind, path in sorted(formats.items())},
        cues=tuple(placed.timeline.full_cues()),
        levels=Levels(plan.settings.profile, {i: m.gain for i, m in encoded.masters.items()}),
        files={str(p.relative_to(staging)): p.stat().st_size for p in sorted(staging.rglob("*")) if p.is_file()},
    )


def _record(audio: AudioFile, folder: Path) -> ManifestAudio:
    return ManifestAudio(str(audio.path.relative_to(folder)), audio.chapter, audio.title, audio.duration)


def catalogue_metadata(
    pub: Publication, narrator: str, modified: str, previous: Manifest | None, cover_name: str
) -> CatalogueMetadata:
    """What the catalogue needs to know about a publication (kept in its manifest)."""
    meta = pub.metadata
    if meta.date:
        published = f"{meta.date}T00:00:00Z"
    elif previous is not None:
        published = previous.metadata.published  # first publish: an episode's date never moves
    else:
        published = modified
    assert meta.identifier is not None, "the prepare stage gives every publication its identifier"
    return CatalogueMetadata(
        title=meta.title,
        authors=tuple(meta.authors),
        language=meta.language,
        identifier=meta.identifier,
        published=published,
        modified=modified,
        date=meta.date,
        description=meta.description,
        publisher=meta.publisher,
        rights=meta.rights,
        subjects=tuple(meta.subjects),
        narrator=narrator,
        cover=cover_name,
    )


def chapter_history(
    records: tuple[ManifestAudio, ...], folder: Path, previous: Manifest | None, modified: str
) -> tuple[ManifestAudio, ...]:
    """The chapter MP3s' records with each file's SHA-256 `digest` and `updated`: when its audio
    last changed after its first publish (None while it never has), from the `previous` manifest.

    A manifest written before digests were kept says nothing about changes: its chapters count as unchanged.
    """
    before = {a.chapter: a for a in previous.audio} if previous else {}
    history = []
    for record in records:
        digest = hashlib.sha256((folder / record.path).read_bytes()).hexdigest()
        old = before.get(record.chapter)
        changed = old is not None and bool(old.digest) and old.digest != digest
        history.append(replace(record, digest=digest, updated=modified if changed else old.updated if old else None))
    return tuple(history)


def _result(
    plan: Plan, dest: Path, staging: Path, placed: PlacedAudio, files: tuple[Path, ...], synthesized: int
) -> SourceResult:
    """What `plan` became, once moved from `staging` to `dest` (timings are the executor's to add)."""

    def moved(a: AudioFile) -> AudioFile:
        return replace(a, path=dest / a.path.relative_to(staging))

    return SourceResult(
        source=plan.path,
        slug=plan.pub.slug,
        state="published",
        folder=dest,
        files=files,
        epub=dest / layout.file_name("epub", plan.pub.slug),
        audio=tuple(moved(a) for a in placed.chapters),
        full=moved(placed.full),
        cues=tuple(placed.timeline.full_cues()),
        duration=placed.timeline.duration,
        chapters=len(plan.pub.chapters),
        sentences=count_sentences(plan.pub),
        synthesized=synthesized,
    )
