"""The studio's sign-in, sign-out and first-admin pages, and the admins' accounts page."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from publisher import api
from publisher.studio import accounts
from publisher.studio.accounts import User
from publisher.studio.web.base import (
    DB,
    PRESIGN_COOKIE,
    SESSION_COOKIE,
    Problem,
    check_presign,
    client_of,
    current,
    page,
    presign_token,
    read_form,
    require,
    state_of,
)

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
