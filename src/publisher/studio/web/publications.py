"""The studio's publication routes: the list, the new-publication form and its upload, a
publication's page and JSON, its files and the served output tree, and deleting it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from publisher import api
from publisher.studio import jobs
from publisher.studio import publications as pubs
from publisher.studio.layout import Studio
from publisher.studio.web.base import (
    DB,
    Problem,
    check_csrf,
    done,
    page,
    publication_summary,
    read_form,
    require,
    state_of,
    usable_engines,
    wants_html,
)
from publisher.studio.web.lexicon import SAMPLE_TEXT

# --- publications -------------------------------------------------------------------------------


async def home(request: Request) -> Response:
    await require(request)
    state = state_of(request)
    query = request.query_params
    items = await state.call(pubs.listing, state.studio, DB, query.get("q", ""),
                                    query.get("language", ""), query.get("state", ""))  # fmt: skip
    everything = await state.call(pubs.listing, state.studio, DB)
    languages = sorted({i["language"] for i in everything if i["language"]})
    return page(request, "publications.html", {
        "items": items, "q": query.get("q", ""), "language": query.get("language", ""),
        "state": query.get("state", ""), "languages": languages, "total": len(everything),
        "states": ["published", "queued", "running", "failed", "cancelled"],
    })  # fmt: skip


async def api_publications(request: Request) -> Response:
    """List publications.
    ---
    summary: Every publication (published, or with a job), newest first
    parameters:
      - {name: q, in: query, schema: {type: string}, description: search title, authors and slug}
      - {name: language, in: query, schema: {type: string}}
      - {name: state, in: query, schema: {type: string, enum: [published, queued, running, failed, cancelled]}}
    responses:
      200: {description: '{"publications": [{"slug", "title", "authors", "language", "duration", "state", "job"}]}'}
      401: {description: not signed in}
    """
    await require(request)
    state = state_of(request)
    query = request.query_params
    items = await state.call(pubs.listing, state.studio, DB, query.get("q", ""),
                                    query.get("language", ""), query.get("state", ""))  # fmt: skip
    return JSONResponse({"publications": items})


async def new_page(request: Request) -> Response:
    await require(request, "publish")
    return await _new_form(request, {}, {})


async def _new_form(request: Request, values: dict[str, str], context: dict[str, Any], status: int = 200) -> Response:
    state = state_of(request)
    settings = state.studio.base_settings()
    engines = await run_in_threadpool(usable_engines)
    espeak = await run_in_threadpool(api.voices, "espeak") if any(e.name == "espeak" for e in engines) else []
    return page(request, "new.html", {
        "values": values, "settings": settings, "engines": engines, "voices": espeak, "sample": SAMPLE_TEXT,
        "recordings": pubs.recordings_supported(),
        "max_upload_mb": state.studio.max_upload // (1024 * 1024), **context,
    }, status)  # fmt: skip


async def create_publication(request: Request) -> Response:
    """Upload a source and queue its publish.
    ---
    summary: Upload a source (multipart) and queue its publish
    requestBody:
      content:
        multipart/form-data:
          schema:
            type: object
            required: [source]
            properties:
              source: {type: string, format: binary, description: any source the CLI reads}
              narration: {type: array, items: {type: string, format: binary}, description: recordings in reading order}
              narrator: {type: string, description: who reads the recording}
              cover: {type: string, format: binary}
              engine: {type: string}
              voice: {type: string}
              speed: {type: number}
              pause_sentence: {type: number}
              pause_paragraph: {type: number}
              pause_heading: {type: number}
              profile: {type: string, enum: [podcast, acx]}
              language: {type: string}
              read_aloud: {type: boolean}
              daisy: {type: boolean}
              audiobooks: {type: boolean}
              check: {type: boolean, description: run publisher check after publishing}
              proof: {type: boolean, description: proof-listen after publishing}
    responses:
      202: {description: '{"job": ID, "slug": SLUG}'}
      401: {description: not signed in}
      403: {description: the role may not publish, or no CSRF token}
      413: {description: larger than --max-upload}
      422: {description: '{"error": the same one-line message the CLI gives}'}
    """
    state = state_of(request)
    user = await require(request, "publish", csrf=False)  # before reading a large body
    form = await read_form(request)
    check_csrf(request, form)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("source")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _refuse(request, values, "choose a source file to upload (field 'source')")
    chosen, options = pubs.form_settings(values)
    draft = pubs.new_draft(state.studio, upload.filename)
    try:
        await run_in_threadpool(_store_draft, form, upload, draft)
        slug, _ = await state.call(pubs.create, state.studio, DB, draft, chosen, options, user.id)
    except api.PublisherError as exc:
        shutil.rmtree(draft.folder, ignore_errors=True)
        return await _refuse(request, values, pubs.display_error(exc, draft.source, draft.source_name))
    except BaseException:
        shutil.rmtree(draft.folder, ignore_errors=True)
        raise
    job = jobs.enqueue(state.db, slug, "publish", user.id)
    return done(request, {"job": job, "slug": slug}, 202, f"/jobs/{job}")


async def _refuse(request: Request, values: dict[str, str], message: str) -> Response:
    """An upload refused (422): the form again with the message, or the API's JSON error."""
    if wants_html(request):
        return await _new_form(request, values, {"error": message}, 422)
    raise Problem(422, message)


def _store_draft(form: FormData, source: UploadFile, draft: pubs.Draft) -> None:
    """Keep the uploaded source, recording files and cover in the draft's folder."""
    _store(source, draft.source)
    narration = [f for f in form.getlist("narration") if isinstance(f, UploadFile) and f.filename]
    if narration:
        (draft.folder / "narration").mkdir()
        for item in narration:  # kept in the order sent: the publish reads them in that order
            target = pubs.unused_name(draft.folder / "narration", pubs.safe_name(item.filename or "", "recording"))
            _store(item, target)
            draft.narration.append(target)
    cover = form.get("cover")
    if isinstance(cover, UploadFile) and cover.filename:
        (draft.folder / "cover").mkdir()
        draft.cover = draft.folder / "cover" / pubs.safe_name(cover.filename, "cover.jpg")
        _store(cover, draft.cover)


def _store(upload: UploadFile, target: Path) -> None:
    upload.file.seek(0)
    tmp = target.with_name(f".{target.name}.part")
    with open(tmp, "wb") as out:
        shutil.copyfileobj(upload.file, out, 1024 * 1024)
    tmp.rename(target)


async def api_publication(request: Request) -> Response:
    """One publication.
    ---
    summary: A publication's metadata, files with sizes, sentences, check and proof summaries
    responses:
      200: {description: '{"slug", "title", "files": [{"name", "size"}], "check", "proof", "cues", …}'}
      404: {description: no such publication}
    """
    await require(request)
    data = await run_in_threadpool(publication_summary, request, request.path_params["slug"])
    data["jobs"] = [j.to_json() for j in jobs.for_slug(state_of(request).db, data["slug"])]
    return JSONResponse(data)


async def publication_page(request: Request) -> Response:
    user = await require(request)
    state = state_of(request)
    slug = request.path_params["slug"]
    data = await run_in_threadpool(publication_summary, request, slug)
    history = jobs.for_slug(state.db, slug)
    running = [j for j in history if not j.final]
    fixable = user.may("lexicon") and not data.get("narration")  # a person's reading takes no lexicon fix
    return page(request, "publication.html", {"p": data, "jobs": history, "running": running,
                                              "may_publish": user.may("publish"), "may_delete": user.may("delete"),
                                              "may_lexicon": fixable})  # fmt: skip


def _file(studio: Studio, relative: str) -> Path:
    """A file of the output tree by its path inside it, never outside it, never a hidden file."""
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." or p.startswith(".") or "\\" in p or "\0" in p for p in parts):
        raise Problem(404, "no such file")
    root = studio.output.resolve()
    path = (root / "/".join(parts)).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise Problem(404, "no such file")
    return path


def _send(request: Request, path: Path, relative: str) -> Response:
    media = api.media_type(relative)
    if media.startswith("text/") or media.endswith(("+xml", "+json", "/json", "/xml")) or "json+" in media:
        media += "; charset=utf-8"
    response = FileResponse(path, media_type=media)
    if request.query_params.get("download"):
        response.headers["content-disposition"] = f"attachment; filename*=UTF-8''{quote(path.name)}"
    return response


async def api_file(request: Request) -> Response:
    """A file of a publication.
    ---
    summary: Download one file of a publication (byte ranges supported)
    responses:
      200: {description: the file}
      206: {description: a byte range}
      404: {description: no such publication or file}
    """
    await require(request)
    slug, name = request.path_params["slug"], request.path_params["name"]
    state = state_of(request)
    manifest = api.publication(state.studio.output, slug)
    if manifest is None or (name not in manifest.files and name not in ("proof.json", "proof.html")):
        raise Problem(404, f"{slug} has no file {name!r}")
    return _send(request, _file(state.studio, f"{slug}/{name}"), f"{slug}/{name}")


async def site_file(request: Request) -> Response:
    """The output tree as `publisher serve` shows it (catalogue page, feeds, OPDS, read-along pages),
    to signed-in users; hidden files never."""
    await require(request)
    relative = request.path_params.get("path") or "index.html"
    state = state_of(request)
    path = state.studio.output / relative
    if relative.endswith("/") or path.is_dir():
        relative = relative.rstrip("/") + "/index.html"
    return _send(request, _file(state.studio, relative), relative)


async def api_delete(request: Request) -> Response:
    """Delete a publication.
    ---
    summary: Delete a publication (its files, catalogue entries, uploads, lexicon and jobs)
    responses:
      200: {description: '{"deleted": SLUG}'}
      404: {description: no such publication}
      409: {description: a job of it is queued or running}
    """
    form = await read_form(request) if request.method == "POST" else None
    await require(request, "delete", form)
    state = state_of(request)
    slug = request.path_params["slug"]
    if jobs.active(state.db, slug):
        raise Problem(409, f"{slug} has a job queued or running; cancel it first")
    try:
        deleted = await state.call(pubs.delete, state.studio, DB, slug)
    except api.PublisherError as exc:
        raise Problem(409, str(exc)) from exc
    if not deleted:
        raise Problem(404, f"no publication {slug!r} in the studio")
    return done(request, {"deleted": slug}, 200, "/")


async def delete_page(request: Request) -> Response:
    await require(request, "delete")
    data = await run_in_threadpool(publication_summary, request, request.path_params["slug"])
    return page(request, "delete.html", {"p": data})
