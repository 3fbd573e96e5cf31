"""The studio's web app (Starlette): the pages and the JSON API they use, authentication, roles,
CSRF, security headers and the upload limit.

Every request is authenticated — by the sign-in session's cookie or `Authorization: Bearer TOKEN` —
except the sign-in and first-admin pages and the static files. One check (`require`) is used by
every view: it answers 401 (or, for a page, sends the browser to sign in), 403 when the role may
not do the action, and 403 when a cookie-authenticated form or request lacks its CSRF token. The
JSON API is described at /api/openapi.json (from the endpoints' docstrings).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from publisher import __version__, api
from publisher.studio import accounts, jobs
from publisher.studio import publications as pubs
from publisher.studio.accounts import User
from publisher.studio.db import connect
from publisher.studio.layout import Studio

log = logging.getLogger(__name__)
SESSION_COOKIE = "studio_session"
PRESIGN_COOKIE = "studio_form"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SAMPLE_TEXT = "This is how your publication will sound."
SAMPLE_LIMIT = 500  # characters a sample or a fixed sentence may have
speaking = threading.Semaphore(1)  # one sample at a time: they share the machine with the workers


class Problem(Exception):
    """An error the client gets as JSON (API) or a page: a status and one line."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


# --- the app's state: the studio, one database connection per thread -----------------------


class State:
    """What every view needs: the studio's folders, a database connection per thread, the cookie signer."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self._local = threading.local()
        self.signer = URLSafeTimedSerializer(studio.secret(), salt="publisher-studio")

    async def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` in a worker thread, with DB in `args` replaced by that thread's own
        connection (a connection is never shared between threads: transactions would interleave)."""

        def run() -> Any:
            return function(*(self.db if a is DB else a for a in args))

        return await run_in_threadpool(run)

    @property
    def db(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "db", None)
        if connection is None:
            connection = self._local.db = connect(self.studio.database)
        return connection


DB = object()  # stands for the calling thread's database connection in State.call's arguments


def state_of(request: Request) -> State:
    state: State = request.app.state.studio
    return state


# --- authentication, roles, CSRF --------------------------------------------------------------


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def wants_html(request: Request) -> bool:
    """A browser's form post or page (not a script calling the API)."""
    return "text/html" in request.headers.get("accept", "") and "authorization" not in request.headers


def current(request: Request) -> tuple[User | None, accounts.Session | None]:
    """Who is asking: the Bearer token's account, or the session cookie's (with its CSRF token)."""
    state = state_of(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "send Authorization: Bearer TOKEN (publisher user token NAME makes one)",
                          {"WWW-Authenticate": 'Bearer realm="publisher studio"'})  # fmt: skip
        user = accounts.token_user(state.db, token.strip())
        if user is None:
            raise Problem(401, "this API token is not valid", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return user, None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            secret = state.signer.loads(cookie, max_age=accounts.SESSION_SECONDS)
        except BadSignature:
            return None, None
        found = accounts.session(state.db, str(secret))
        if found is not None:
            return found.user, found
    return None, None


async def require(request: Request, action: str = "view", form: FormData | None = None, csrf: bool = True) -> User:
    """The signed-in user, if they may do `action`: 401 when nobody is signed in, 403 when the role
    may not, 403 when a cookie-authenticated change lacks its CSRF token (form field or header;
    `csrf=False` leaves that to a later `check_csrf`, once a large form has been read)."""
    user, _ = current(request)
    if user is None:
        raise Problem(401, "sign in first (or send Authorization: Bearer TOKEN)",
                      {"WWW-Authenticate": 'Bearer realm="publisher studio"'})  # fmt: skip
    if csrf:
        check_csrf(request, form)
    if not user.may(action):
        raise Problem(403, f"your role ({user.role}) may not do this; ask an admin")
    return user


def check_csrf(request: Request, form: FormData | None) -> None:
    """403 unless a change made with the session cookie carries the session's CSRF token."""
    _, session = current(request)
    if session is not None and request.method in UNSAFE:
        sent = request.headers.get(CSRF_HEADER) or (str(form.get(CSRF_FIELD) or "") if form is not None else "")
        if not sent or not _same(sent, session.csrf):
            raise Problem(403, "the form's security token is missing or out of date; reload the page and try again")


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


def presign_token(request: Request) -> tuple[str, str | None]:
    """The CSRF token of the sign-in and set-up forms (no session yet): double-submit, the form
    carries the value the signed cookie holds. Returns (token, cookie to set or None)."""
    state = state_of(request)
    cookie = request.cookies.get(PRESIGN_COOKIE)
    if cookie:
        try:
            return str(state.signer.loads(cookie, max_age=3600, salt="form")), None
        except BadSignature:
            pass
    import secrets

    token = secrets.token_urlsafe(24)
    return token, state.signer.dumps(token, salt="form")


def check_presign(request: Request, form: FormData) -> None:
    state = state_of(request)
    try:
        expected = str(state.signer.loads(request.cookies.get(PRESIGN_COOKIE, ""), max_age=3600, salt="form"))
    except BadSignature:
        expected = ""
    if not expected or not _same(str(form.get(CSRF_FIELD, "")), expected):
        raise Problem(403, "the form's security token is missing or out of date; reload the page and try again")


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- responses --------------------------------------------------------------------------------


def templates_of(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page from its template, with the signed-in user and their CSRF token."""
    try:
        user, session = current(request)
    except Problem:
        user, session = None, None
    context = {"user": user, "csrf": session.csrf if session else context.get("csrf", ""), "version": __version__,
               **context}  # fmt: skip
    return templates_of(request).TemplateResponse(request, name, context, status_code=status)


def done(request: Request, data: dict[str, Any], status: int, then: str) -> Response:
    """The API's JSON answer, or for a browser's form the page to go to next (303)."""
    if wants_html(request):
        return RedirectResponse(then, status_code=303)
    return JSONResponse(data, status_code=status)


async def read_form(request: Request) -> FormData:
    """A form or multipart body (uploads spooled to temporary files; the size limit is the middleware's)."""
    try:
        return await request.form(max_files=1000, max_fields=200, max_part_size=1024 * 1024)
    except HTTPException as exc:
        raise Problem(exc.status_code, str(exc.detail)) from exc


async def read_values(request: Request) -> tuple[dict[str, str], FormData | None]:
    """A JSON object's or a form's fields, as strings."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError as exc:
            raise Problem(400, "the body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise Problem(400, "send a JSON object")
        return {str(k): "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in data.items()}, None  # fmt: skip
    form = await read_form(request)
    return {k: v for k, v in form.items() if isinstance(v, str)}, form


# --- sign-in, sign-out, first admin --------------------------------------------------------------


async def signin_page(request: Request) -> Response:
    user, _ = current(request)
    if user is not None:
        return RedirectResponse(_next(request), status_code=303)
    return _signin_form(request, {})


def _signin_form(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    token, cookie = presign_token(request)
    response = page(request, "signin.html", {"csrf": token, "next": _next(request), **context}, status)
    if cookie:
        response.set_cookie(PRESIGN_COOKIE, cookie, max_age=3600, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")  # fmt: skip
    return response


def _next(request: Request, form: FormData | None = None) -> str:
    target = str((form.get("next") if form else None) or request.query_params.get("next") or "/")
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


async def signin(request: Request) -> Response:
    state = state_of(request)
    form = await read_form(request)
    check_presign(request, form)
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    client = client_of(request)
    wait = accounts.signin_wait(state.db, name, client)
    if wait > 0:
        minutes = max(1, round(wait / 60))
        message = f"too many failed sign-ins; try again in {minutes} minute{'s' * (minutes != 1)}"
        return _signin_form(request, {"error": message, "name": name}, 429)
    user = await state.call(accounts.verify_password, DB, name, password)
    if user is None:
        accounts.signin_failed(state.db, name, client)
        return _signin_form(request, {"error": "wrong name or password", "name": name}, 401)
    accounts.signin_succeeded(state.db, name)
    return _signed_in(request, user, _next(request, form))


def _signed_in(request: Request, user: User, then: str) -> Response:
    state = state_of(request)
    secret, _ = accounts.open_session(state.db, user)
    response = RedirectResponse(then, status_code=303)
    response.set_cookie(SESSION_COOKIE, state.signer.dumps(secret), max_age=accounts.SESSION_SECONDS, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", path="/")  # fmt: skip
    response.delete_cookie(PRESIGN_COOKIE)
    return response


async def signout(request: Request) -> Response:
    form = await read_form(request)
    await require(request, "view", form)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    state = state_of(request)
    with contextlib.suppress(BadSignature):
        accounts.close_session(state.db, str(state.signer.loads(cookie)))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def setup_page(request: Request) -> Response:
    state = state_of(request)
    secret = request.path_params["secret"]
    if not accounts.setup_link_valid(state.db, secret):
        raise Problem(404, "this set-up link has been used or replaced; sign in instead")
    token, cookie = presign_token(request)
    response = page(request, "setup.html", {"csrf": token, "secret": secret})
    if cookie:
        response.set_cookie(PRESIGN_COOKIE, cookie, max_age=3600, httponly=True, samesite="strict")
    return response


async def setup(request: Request) -> Response:
    state = state_of(request)
    secret = request.path_params["secret"]
    form = await read_form(request)
    check_presign(request, form)
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    if password != str(form.get("confirm", "")):
        token, _ = presign_token(request)
        return page(request, "setup.html", {"csrf": token, "secret": secret, "name": name,
                                            "error": "the two passwords differ"}, 422)  # fmt: skip
    try:
        user = await state.call(accounts.use_setup_link, DB, secret, name, password)
    except api.ConfigError as exc:
        if not accounts.setup_link_valid(state.db, secret):
            raise Problem(404, str(exc)) from exc
        token, _ = presign_token(request)
        return page(request, "setup.html", {"csrf": token, "secret": secret, "name": name, "error": str(exc)}, 422)
    return _signed_in(request, user, "/")


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


def _engines() -> list[api.Engine]:
    return [e for e in api.engines() if e.problem is None]


async def new_page(request: Request) -> Response:
    await require(request, "publish")
    return await _new_form(request, {}, {})


async def _new_form(request: Request, values: dict[str, str], context: dict[str, Any], status: int = 200) -> Response:
    state = state_of(request)
    settings = state.studio.base_settings()
    engines = await run_in_threadpool(_engines)
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
              narration: {type: array, items: {type: string, format: binary}, description: recording files}
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
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Problem(422, "choose a source file to upload (field 'source')")
        chosen, options = pubs.form_settings(values)
        draft = pubs.new_draft(state.studio, upload.filename)
    except Problem as problem:
        if wants_html(request):
            return await _new_form(request, values, {"error": problem.message}, problem.status)
        raise
    try:
        await run_in_threadpool(_store, upload, draft.source)
        narration = [f for f in form.getlist("narration") if isinstance(f, UploadFile) and f.filename]
        if narration:
            (draft.folder / "narration").mkdir()
            for item in narration:
                target = draft.folder / "narration" / pubs.safe_name(item.filename or "", "recording")
                await run_in_threadpool(_store, item, target)
                draft.narration.append(target)
        cover = form.get("cover")
        if isinstance(cover, UploadFile) and cover.filename:
            draft.cover = draft.folder / ("cover-" + pubs.safe_name(cover.filename, "cover.jpg"))
            await run_in_threadpool(_store, cover, draft.cover)
        slug, _ = await state.call(pubs.create, state.studio, DB, draft, chosen, options, user.id)
    except api.PublisherError as exc:
        shutil.rmtree(draft.folder, ignore_errors=True)
        message = pubs.display_error(exc, draft.source, draft.source_name)
        if wants_html(request):
            return await _new_form(request, values, {"error": message}, 422)
        raise Problem(422, message) from exc
    except BaseException:
        shutil.rmtree(draft.folder, ignore_errors=True)
        raise
    job = jobs.enqueue(state.db, slug, "publish", user.id)
    return done(request, {"job": job, "slug": slug}, 202, f"/jobs/{job}")


def _store(upload: UploadFile, target: Path) -> None:
    upload.file.seek(0)
    tmp = target.with_name(f".{target.name}.part")
    with open(tmp, "wb") as out:
        shutil.copyfileobj(upload.file, out, 1024 * 1024)
    tmp.rename(target)


def _summary(request: Request, slug: str) -> dict[str, Any]:
    state = state_of(request)
    data = pubs.summary(state.studio, state.db, slug)
    if data is None:
        raise Problem(404, f"no publication {slug!r}")
    return data


async def api_publication(request: Request) -> Response:
    """One publication.
    ---
    summary: A publication's metadata, files with sizes, sentences, check and proof summaries
    responses:
      200: {description: '{"slug", "title", "files": [{"name", "size"}], "check", "proof", "cues", …}'}
      404: {description: no such publication}
    """
    await require(request)
    data = await run_in_threadpool(_summary, request, request.path_params["slug"])
    data["jobs"] = [j.to_json() for j in jobs.for_slug(state_of(request).db, data["slug"])]
    return JSONResponse(data)


async def publication_page(request: Request) -> Response:
    user = await require(request)
    state = state_of(request)
    slug = request.path_params["slug"]
    data = await run_in_threadpool(_summary, request, slug)
    history = jobs.for_slug(state.db, slug)
    running = [j for j in history if not j.final]
    return page(request, "publication.html", {"p": data, "jobs": history, "running": running,
                                              "may_publish": user.may("publish"), "may_delete": user.may("delete"),
                                              "may_lexicon": user.may("lexicon")})  # fmt: skip


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


# --- jobs -----------------------------------------------------------------------------------------


def _job(request: Request) -> jobs.Job:
    try:
        job_id = int(request.path_params["job"])
    except ValueError as exc:
        raise Problem(404, "no such job") from exc
    job = jobs.get(state_of(request).db, job_id)
    if job is None:
        raise Problem(404, f"no job {job_id}")
    return job


async def api_job(request: Request) -> Response:
    """A job's state.
    ---
    summary: 'A job: {"state": "queued|running|done|failed|cancelled", "stage", "done", "total", "error", …}'
    responses:
      200: {description: the job}
      404: {description: no such job}
    """
    await require(request)
    return JSONResponse(_job(request).to_json())


async def job_page(request: Request) -> Response:
    user = await require(request)
    job = _job(request)
    row = pubs.publication_row(state_of(request).db, job.slug)
    return page(request, "job.html", {"job": job, "title": row["title"] if row else job.slug,
                                      "may_publish": user.may("publish")})  # fmt: skip


async def jobs_page(request: Request) -> Response:
    await require(request)
    return page(request, "jobs.html", {"jobs": jobs.recent(state_of(request).db)})


async def api_cancel(request: Request) -> Response:
    """Cancel a job.
    ---
    summary: Cancel a queued or running job (a running one stops at its next sentence or renderer)
    responses:
      200: {description: the job}
      409: {description: the job is already over}
    """
    _, form = await read_values(request)
    await require(request, "publish", form)
    job = _job(request)
    if job.final:
        raise Problem(409, f"job {job.id} is already {job.state}")
    job = jobs.request_cancel(state_of(request).db, job.id) or job
    return done(request, job.to_json(), 200, f"/jobs/{job.id}")


async def api_events(request: Request) -> Response:
    """A job's progress as Server-Sent Events.
    ---
    summary: 'Server-Sent Events: one "progress" event (the job as JSON) per change, until it ends'
    responses:
      200: {description: text/event-stream}
    """
    await require(request)
    job = _job(request)
    state = state_of(request)

    async def events() -> AsyncIterator[str]:
        last, quiet = "", time.monotonic()
        yield "retry: 2000\n\n"
        while True:
            current_job = jobs.get(state.db, job.id)
            if current_job is None:
                yield "event: gone\ndata: {}\n\n"
                return
            data = json.dumps(current_job.to_json())
            if data != last:
                last, quiet = data, time.monotonic()
                yield f"event: progress\ndata: {data}\n\n"
            elif time.monotonic() - quiet > 15:
                quiet = time.monotonic()
                yield ": still here\n\n"
            if current_job.final:
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.3)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})  # fmt: skip


async def api_republish(request: Request) -> Response:
    """Publish again.
    ---
    summary: Publish a publication again (after a lexicon fix, only the changed sentences are synthesized)
    responses:
      202: {description: '{"job": ID}'}
      404: {description: no such publication}
    """
    return await _queue(request, "publish")


async def api_check(request: Request) -> Response:
    """Check a publication.
    ---
    summary: Queue publisher check (EPUBCheck, Ace, overlays, ID3, DAISY, packages) of a publication
    responses:
      202: {description: '{"job": ID}'}
    """
    return await _queue(request, "check")


async def api_proof(request: Request) -> Response:
    """Proof-listen a publication.
    ---
    summary: Queue proof-listening (Whisper) of a publication
    responses:
      202: {description: '{"job": ID}'}
    """
    return await _queue(request, "proof")


async def _queue(request: Request, kind: jobs.Kind) -> Response:
    _, form = await read_values(request)
    user = await require(request, "publish", form)
    state = state_of(request)
    slug = request.path_params["slug"]
    if pubs.publication_row(state.db, slug) is None:
        raise Problem(404, f"no publication {slug!r} in the studio")
    if kind != "publish" and api.publication(state.studio.output, slug) is None:
        raise Problem(409, f"{slug} is not published yet")
    job = jobs.enqueue(state.db, slug, kind, user.id)
    return done(request, {"job": job, "slug": slug}, 202, f"/jobs/{job}")


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
    data = await run_in_threadpool(_summary, request, request.path_params["slug"])
    return page(request, "delete.html", {"p": data})


# --- pronunciation ---------------------------------------------------------------------------------


async def lexicon_page(request: Request) -> Response:
    user = await require(request, "lexicon")
    state = state_of(request)
    slug = request.path_params["slug"]
    data = await run_in_threadpool(_summary, request, slug)
    query = request.query_params
    cues = data.get("cues", [])
    chosen = next((c for c in cues if c["id"] == query.get("sentence")), None)
    return page(request, "lexicon.html", {
        "p": data, "cues": cues, "chosen": chosen, "word": query.get("word", ""),
        "pronunciation": query.get("pronunciation", ""), "scope": query.get("scope", "publication"),
        "own": pubs.entries(state.db, slug), "catalogue": pubs.entries(state.db, pubs.CATALOGUE_SCOPE),
        "may_catalogue": user.may("lexicon-catalogue"), "saved": query.get("saved", ""),
        "suggestions": (data.get("proof") or {}).get("suggestions", []),
        "flagged": (data.get("proof") or {}).get("flagged", []),
    })  # fmt: skip


async def api_lexicon(request: Request) -> Response:
    """Add a lexicon entry.
    ---
    summary: 'Add or replace a lexicon entry: {"word", "pronunciation", "scope": "publication" or "catalogue"}'
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [word, pronunciation]
            properties:
              word: {type: string}
              pronunciation: {type: string, description: '"[[ IPA ]] | respelling", "[[ IPA ]]" or a respelling'}
              scope: {type: string, enum: [publication, catalogue]}
    responses:
      200: {description: '{"word", "pronunciation", "scope", "lexicon": {word: pronunciation}}'}
      403: {description: the catalogue's lexicon is for admins}
      422: {description: '{"error": what is wrong with the entry}'}
    """
    values, form = await read_values(request)
    scope_name = values.get("scope") or "publication"
    if scope_name not in ("publication", "catalogue"):
        raise Problem(422, "scope must be publication or catalogue")
    await require(request, "lexicon-catalogue" if scope_name == "catalogue" else "lexicon", form)
    state = state_of(request)
    slug = request.path_params["slug"]
    if pubs.publication_row(state.db, slug) is None:
        raise Problem(404, f"no publication {slug!r} in the studio")
    scope = pubs.CATALOGUE_SCOPE if scope_name == "catalogue" else slug
    try:
        word, pronunciation = pubs.set_entry(state.db, scope, values.get("word", ""), values.get("pronunciation", ""))
    except api.ConfigError as exc:
        if wants_html(request):
            return RedirectResponse(
                f"/publications/{slug}/lexicon?"
                + urlencode(
                    {"error": str(exc), "word": values.get("word", ""), "sentence": values.get("sentence", "")}
                ),
                303,
            )
        raise Problem(422, str(exc)) from exc
    data = {"word": word, "pronunciation": pronunciation, "scope": scope_name,
            "lexicon": pubs.merged_entries(state.db, slug)}  # fmt: skip
    then = f"/publications/{slug}/lexicon?" + urlencode({"saved": word, "sentence": values.get("sentence", "")})
    return done(request, data, 200, then)


async def api_lexicon_remove(request: Request) -> Response:
    """Remove a lexicon entry.
    ---
    summary: Remove a lexicon entry of the publication (or, with scope=catalogue, of the catalogue)
    responses:
      200: {description: '{"removed": WORD}'}
      404: {description: no such entry}
    """
    values, form = await read_values(request)
    scope_name = values.get("scope") or request.query_params.get("scope") or "publication"
    await require(request, "lexicon-catalogue" if scope_name == "catalogue" else "lexicon", form)
    slug = request.path_params["slug"]
    word = request.path_params.get("word") or values.get("word", "")
    scope = pubs.CATALOGUE_SCOPE if scope_name == "catalogue" else slug
    if not pubs.remove_entry(state_of(request).db, scope, word):
        raise Problem(404, f"no lexicon entry {word!r}")
    return done(request, {"removed": word}, 200, f"/publications/{slug}/lexicon")


def _wav(data: bytes) -> Response:
    return Response(data, media_type="audio/wav", headers={"cache-control": "no-store"})


def _speak(text: str, settings: api.Settings, language: str | None, lexicon: dict[str, str]) -> bytes:
    with speaking:
        return api.speak(text, settings, language=language, lexicon=lexicon)


async def api_hear(request: Request) -> Response:
    """Hear a sentence with a fix.
    ---
    summary: 'A sentence as said with a fix: {"sentence": ID or "text", "word", "pronunciation"} → audio/wav'
    responses:
      200: {description: audio/wav}
      422: {description: '{"error": …}'}
    """
    values, form = await read_values(request)
    await require(request, "lexicon", form)
    state = state_of(request)
    slug = request.path_params["slug"]
    data = await run_in_threadpool(_summary, request, slug)
    text = values.get("text", "").strip()
    if not text and values.get("sentence"):
        text = next((c["text"] for c in data.get("cues", []) if c["id"] == values["sentence"]), "")
    if not text:
        raise Problem(422, "choose a sentence to hear")
    if len(text) > SAMPLE_LIMIT * 4:
        raise Problem(422, f"a sentence to hear is at most {SAMPLE_LIMIT * 4} characters")
    fix: dict[str, str] = {}
    if values.get("word", "").strip():
        try:
            word, pronunciation = pubs.check_entry(values.get("word", ""), values.get("pronunciation", ""))
        except api.ConfigError as exc:
            raise Problem(422, str(exc)) from exc
        fix[word] = pronunciation
    try:
        settings = await state.call(pubs.job_settings, state.studio, DB, slug)
        audio = await run_in_threadpool(_speak, text, settings, data.get("language"), fix)
    except api.PublisherError as exc:
        raise Problem(422, str(exc)) from exc
    return _wav(audio)


async def api_speak(request: Request) -> Response:
    """Hear a voice.
    ---
    summary: 'A sample of a voice: {"text", "engine", "voice", "speed", "language"} → audio/wav'
    responses:
      200: {description: audio/wav}
      422: {description: '{"error": …}'}
    """
    values, form = await read_values(request)
    await require(request, "publish", form)
    text = (values.get("sample") or values.get("text") or SAMPLE_TEXT).strip()[:SAMPLE_LIMIT]
    chosen, _ = pubs.form_settings(values)
    voice = {k: v for k, v in chosen.items() if k in ("engine", "voice", "speed", "language")}
    state = state_of(request)
    try:
        settings = await run_in_threadpool(pubs.check_settings, state.studio, voice)
        audio = await run_in_threadpool(_speak, text, settings, None, {})
    except api.PublisherError as exc:
        raise Problem(422, str(exc)) from exc
    return _wav(audio)


async def api_engines(request: Request) -> Response:
    """Engines and voices.
    ---
    summary: 'The speech engines usable here, each with its voices: {"engines": [{"name", "summary", "voices"}]}'
    responses:
      200: {description: the engines}
    """
    await require(request)

    def listing() -> list[dict[str, Any]]:
        return [{"name": e.name, "summary": e.summary, "offline": e.offline, "voices": api.voices(e.name)}
                for e in _engines()]  # fmt: skip

    return JSONResponse({"engines": await run_in_threadpool(listing)})


# --- accounts (admins) ------------------------------------------------------------------------------


async def users_page(request: Request) -> Response:
    await require(request, "users")
    found = accounts.users(state_of(request).db)
    return page(request, "users.html", {"users": found, "roles": accounts.ROLES,
                                        "error": request.query_params.get("error")})  # fmt: skip


async def add_user(request: Request) -> Response:
    form = await read_form(request)
    await require(request, "users", form)
    try:
        await state_of(request).call(accounts.add_user, DB, str(form.get("name", "")),
                                str(form.get("role", "")), str(form.get("password", "")))  # fmt: skip
    except api.ConfigError as exc:
        return RedirectResponse("/users?" + urlencode({"error": str(exc)}), status_code=303)
    return RedirectResponse("/users", status_code=303)


# --- OpenAPI ------------------------------------------------------------------------------------------

SCHEMAS = SchemaGenerator({
    "openapi": "3.0.0",
    "info": {"title": "publisher studio", "version": __version__,
             "description": "Every request is authenticated by the sign-in session cookie (with its CSRF token "
                            "in X-CSRF-Token for changes) or by Authorization: Bearer TOKEN."},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
})  # fmt: skip


async def openapi(request: Request) -> Response:
    await require(request)
    schema = SCHEMAS.get_schema(routes=request.app.routes)
    schema["paths"] = {path: ops for path, ops in schema.get("paths", {}).items() if path.startswith("/api/")}
    return JSONResponse(schema)


# --- errors, headers, limits ----------------------------------------------------------------------------


async def on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem | HTTPException)
    status = exc.status if isinstance(exc, Problem) else exc.status_code
    message = exc.message if isinstance(exc, Problem) else str(exc.detail)
    headers = exc.headers if isinstance(exc, Problem) else dict(exc.headers or {})
    if is_api(request) or not wants_html(request):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    if status == 401:
        return RedirectResponse("/signin?" + urlencode({"next": request.url.path}), status_code=303)
    return page(request, "error.html", {"status": status, "message": message}, status)


class Guard:
    """Security headers on every response, and the upload limit on every request body (413 before
    the body is read when Content-Length says so, else as soon as it passes the limit)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        path = scope.get("path", "")
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._too_large(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise TooLarge(self.limit)
            return message

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
                         (b"x-frame-options", b"DENY")]  # fmt: skip
                if not path.startswith("/site/"):  # published pages keep their own (hashed) policy
                    extra.append((b"content-security-policy", CSP.encode()))
                if not path.startswith(("/static/", "/site/", "/api/publications/")) or path.endswith("/events"):
                    extra.append((b"cache-control", b"no-store"))
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in names]
            await send(message)

        await self.app(scope, counted, secured)

    async def _too_large(self, send: Send) -> None:
        body = json.dumps({"error": TooLarge(self.limit).message}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close"), (b"content-security-policy", CSP.encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


class TooLarge(Problem):
    """The request body passed the upload limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the upload is larger than the studio's limit of {limit / (1024 * 1024):g} MB "
                              "(publisher studio --max-upload MB)")  # fmt: skip


def create_app(studio: Studio) -> Starlette:
    """The studio's ASGI app for one data folder."""
    package = resources.files("publisher.studio")
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(package / "templates")), autoescape=True)
    templates = Jinja2Templates(env=environment)
    templates.env.filters["size"] = human_size
    templates.env.filters["clock"] = clock
    templates.env.globals["when"] = when
    routes = [
        Route("/", home),
        Route("/signin", signin_page, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/setup/{secret}", setup_page, methods=["GET"]),
        Route("/setup/{secret}", setup, methods=["POST"]),
        Route("/new", new_page),
        Route("/jobs", jobs_page),
        Route("/jobs/{job}", job_page),
        Route("/users", users_page, methods=["GET"]),
        Route("/users", add_user, methods=["POST"]),
        Route("/publications/{slug}", publication_page),
        Route("/publications/{slug}/lexicon", lexicon_page),
        Route("/publications/{slug}/delete", delete_page, methods=["GET"]),
        Route("/publications/{slug}/delete", api_delete, methods=["POST"]),
        Route("/site/{path:path}", site_file),
        Route("/api/openapi.json", openapi, include_in_schema=False),
        Route("/api/engines", api_engines, methods=["GET"]),
        Route("/api/speak", api_speak, methods=["POST"]),
        Route("/api/publications", api_publications, methods=["GET"]),
        Route("/api/publications", create_publication, methods=["POST"]),
        Route("/api/publications/{slug}", api_publication, methods=["GET"]),
        Route("/api/publications/{slug}", api_delete, methods=["DELETE"]),
        Route("/api/publications/{slug}/files/{name:path}", api_file, methods=["GET", "HEAD"]),
        Route("/api/publications/{slug}/lexicon", api_lexicon, methods=["POST"]),
        Route("/api/publications/{slug}/lexicon/remove", api_lexicon_remove, methods=["POST"]),
        Route("/api/publications/{slug}/lexicon/{word}", api_lexicon_remove, methods=["DELETE"]),
        Route("/api/publications/{slug}/hear", api_hear, methods=["POST"]),
        Route("/api/publications/{slug}/republish", api_republish, methods=["POST"]),
        Route("/api/publications/{slug}/check", api_check, methods=["POST"]),
        Route("/api/publications/{slug}/proof", api_proof, methods=["POST"]),
        Route("/api/jobs/{job}", api_job, methods=["GET"]),
        Route("/api/jobs/{job}/cancel", api_cancel, methods=["POST"]),
        Route("/api/jobs/{job}/events", api_events, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(package / "static")), name="static"),
    ]
    loopback = studio.host in ("127.0.0.1", "localhost", "::1")
    middleware = [Middleware(Guard, limit=studio.max_upload)]
    if loopback:  # a page elsewhere cannot reach a loopback studio by a name of its own (DNS rebinding)
        hosts = ["127.0.0.1", "localhost", "[::1]", "::1"]
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=hosts))
    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        Problem: on_problem, HTTPException: on_problem,
    }  # fmt: skip
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
    app.state.studio = State(studio)
    app.state.templates = templates
    return app


# --- template helpers ---------------------------------------------------------------------------------


def human_size(size: int | float | None) -> str:
    """1.4 MB, 830 KB, 512 bytes."""
    if size is None:
        return ""
    if size >= 1e6:
        return f"{size / 1e6:.1f} MB"
    if size >= 1e3:
        return f"{size / 1e3:.0f} KB"
    return f"{int(size)} bytes"


def clock(seconds: float | None) -> str:
    """h:mm:ss or m:ss."""
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def when(stamp: float | None) -> str:
    """A time stamp as the page shows it (UTC)."""
    if not stamp:
        return ""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stamp))
