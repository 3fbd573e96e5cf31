"""The studio's ASGI app: its routes, the error pages and JSON errors, the security headers and
upload limit (middleware), the OpenAPI description and the templates' helpers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from publisher import __version__
from publisher.studio.layout import Studio
from publisher.studio.web.base import (
    Problem,
    State,
    is_api,
    page,
    require,
    wants_html,
)
from publisher.studio.web.jobs import (
    api_cancel,
    api_check,
    api_events,
    api_job,
    api_proof,
    api_republish,
    job_page,
    jobs_page,
)
from publisher.studio.web.lexicon import (
    api_engines,
    api_hear,
    api_lexicon,
    api_lexicon_remove,
    api_speak,
    api_verdict,
    lexicon_page,
)
from publisher.studio.web.publications import (
    api_delete,
    api_file,
    api_publication,
    api_publications,
    create_publication,
    delete_page,
    home,
    new_page,
    publication_page,
    site_file,
)
from publisher.studio.web.signin import add_user, setup, setup_page, signin, signin_page, signout, users_page

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


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
        Route("/api/publications/{slug}/verdict", api_verdict, methods=["POST"]),
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
