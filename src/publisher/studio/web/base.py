"""The studio's request helpers: who is asking (session cookie or Bearer token), the one
permission check every view uses (`require`), CSRF tokens, the per-thread database connection, and
the answers (a page, JSON, or a redirect for a browser's form).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from publisher import __version__, api
from publisher.studio import accounts
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


def publication_summary(request: Request, slug: str) -> dict[str, Any]:
    """What the API says about `slug` (404 when the studio and the output tree have no such publication)."""
    state = state_of(request)
    data = pubs.summary(state.studio, state.db, slug)
    if data is None:
        raise Problem(404, f"no publication {slug!r}")
    return data


def usable_engines() -> list[api.Engine]:
    """The speech engines that work on this machine."""
    return [e for e in api.engines() if e.problem is None]
