"""Accounts: users and their roles, argon2 password hashes, API tokens, sign-in sessions, the
one-time link that creates the first admin, and the sign-in rate limit.

Secrets (tokens, session ids, setup links) are random and stored only as SHA-256 digests, so a
copy of the database lets no one in. Passwords are hashed with argon2id (argon2-cffi's defaults).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Literal

from publisher.api import ConfigError
from publisher.studio.db import transaction

Role = Literal["admin", "editor", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "editor", "viewer")
#: what each role may do; every endpoint asks `allowed(user, action)`
PERMISSIONS: dict[str, frozenset[Role]] = {
    "view": frozenset(ROLES),  # pages, listings, downloads, listening, job progress
    "publish": frozenset({"admin", "editor"}),  # upload, republish, cancel, hear samples, check, proof
    "lexicon": frozenset({"admin", "editor"}),  # a publication's own lexicon entries
    "lexicon-catalogue": frozenset({"admin"}),  # entries for the whole catalogue
    "delete": frozenset({"admin"}),  # delete a publication
    "users": frozenset({"admin"}),  # see and add accounts
}
SESSION_SECONDS = 8 * 3600  # a session cookie expires after a working day
SIGNIN_WINDOW = 15 * 60  # failures counted over this many seconds…
SIGNIN_MAX_PER_NAME = 5  # …at most this many for one account name…
SIGNIN_MAX_PER_CLIENT = 20  # …and this many from one address, then sign-in waits
NAME_LIMIT = 64
PASSWORD_MIN = 8


@dataclass(frozen=True)
class User:
    """A signed-in account."""

    id: int
    name: str
    role: Role

    def may(self, action: str) -> bool:
        """Whether this user's role allows `action` (a key of PERMISSIONS)."""
        return self.role in PERMISSIONS[action]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _hasher():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    return PasswordHasher()


def check_name(name: str) -> str:
    """An account name as stored: trimmed; letters, digits, '.', '_', '-', '@' only (ConfigError otherwise)."""
    name = name.strip()
    if not name or len(name) > NAME_LIMIT or not all(c.isalnum() or c in "._-@" for c in name):
        raise ConfigError(f"account name {name[:80]!r}: use 1–{NAME_LIMIT} letters, digits, '.', '_', '-' or '@'")
    return name


def check_password(password: str) -> str:
    """A password long enough to keep (ConfigError otherwise)."""
    if len(password) < PASSWORD_MIN:
        raise ConfigError(f"the password must be at least {PASSWORD_MIN} characters long")
    if len(password) > 1024:
        raise ConfigError("the password must be at most 1024 characters long")
    return password


def add_user(db: sqlite3.Connection, name: str, role: str, password: str) -> User:
    """Create an account (ConfigError when the name is taken or anything is invalid)."""
    name = check_name(name)
    if role not in ROLES:
        raise ConfigError(f"role {role!r} is not admin, editor or viewer")
    hashed = _hasher().hash(check_password(password))
    try:
        with transaction(db):
            cursor = db.execute(
                "INSERT INTO users (name, role, password, created) VALUES (?, ?, ?, ?)",
                (name, role, hashed, time.time()),
            )
    except sqlite3.IntegrityError as exc:
        raise ConfigError(f"an account named {name!r} already exists") from exc
    return User(int(cursor.lastrowid or 0), name, role)


def users(db: sqlite3.Connection) -> list[User]:
    """Every account, by name."""
    return [User(r["id"], r["name"], r["role"]) for r in db.execute("SELECT * FROM users ORDER BY name")]


def count_users(db: sqlite3.Connection) -> int:
    """How many accounts there are."""
    return int(db.execute("SELECT count(*) FROM users").fetchone()[0])


def find_user(db: sqlite3.Connection, name: str) -> User | None:
    """The account named `name`, if any."""
    row = db.execute("SELECT * FROM users WHERE name = ?", (name.strip(),)).fetchone()
    return User(row["id"], row["name"], row["role"]) if row else None


def verify_password(db: sqlite3.Connection, name: str, password: str) -> User | None:
    """The account if `password` is its password; None otherwise (the same work either way, so the
    time taken does not tell whether the name exists)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    row = db.execute("SELECT * FROM users WHERE name = ?", (name.strip(),)).fetchone()
    hasher = _hasher()
    stored = row["password"] if row else hasher.hash("not a password of anyone's")
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return User(row["id"], row["name"], row["role"]) if row else None


def new_token(db: sqlite3.Connection, name: str) -> str:
    """A new API token for the account `name` (shown once; only its digest is kept)."""
    user = find_user(db, name)
    if user is None:
        raise ConfigError(f"no account named {name!r}")
    token = "pst_" + secrets.token_urlsafe(32)
    with transaction(db):
        db.execute("INSERT INTO tokens VALUES (?, ?, ?)", (_digest(token), user.id, time.time()))
    return token


def token_user(db: sqlite3.Connection, token: str) -> User | None:
    """The account an API token belongs to."""
    row = db.execute(
        "SELECT users.* FROM tokens JOIN users ON users.id = tokens.user_id WHERE tokens.digest = ?", (_digest(token),)
    ).fetchone()
    return User(row["id"], row["name"], row["role"]) if row else None


@dataclass(frozen=True)
class Session:
    """A signed-in browser: its account and the CSRF token its forms carry."""

    user: User
    csrf: str


def open_session(db: sqlite3.Connection, user: User) -> tuple[str, Session]:
    """A new session for `user`: (its secret id for the cookie, the session)."""
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = time.time()
    with transaction(db):
        db.execute("DELETE FROM sessions WHERE expires < ?", (now,))
        db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", (_digest(secret), user.id, csrf, now,
                                                                   now + SESSION_SECONDS))  # fmt: skip
    return secret, Session(user, csrf)


def session(db: sqlite3.Connection, secret: str) -> Session | None:
    """The live session whose id is `secret` (None when unknown or expired)."""
    row = db.execute(
        "SELECT users.id, users.name, users.role, sessions.csrf FROM sessions JOIN users ON users.id = "
        "sessions.user_id WHERE sessions.digest = ? AND sessions.expires > ?",
        (_digest(secret), time.time()),
    ).fetchone()
    return Session(User(row["id"], row["name"], row["role"]), row["csrf"]) if row else None


def close_session(db: sqlite3.Connection, secret: str) -> None:
    """Sign out: the session id stops working at once."""
    with transaction(db):
        db.execute("DELETE FROM sessions WHERE digest = ?", (_digest(secret),))


def new_setup_link(db: sqlite3.Connection) -> str:
    """A one-time secret that creates the first admin (earlier ones stop working)."""
    secret = secrets.token_urlsafe(32)
    with transaction(db):
        db.execute("DELETE FROM setup_links")
        db.execute("INSERT INTO setup_links VALUES (?, ?)", (_digest(secret), time.time()))
    return secret


def setup_link_valid(db: sqlite3.Connection, secret: str) -> bool:
    """Whether `secret` is the current first-admin link and no account exists yet."""
    if count_users(db):
        return False
    return db.execute("SELECT 1 FROM setup_links WHERE digest = ?", (_digest(secret),)).fetchone() is not None


def use_setup_link(db: sqlite3.Connection, secret: str, name: str, password: str) -> User:
    """Create the first admin with the one-time link (ConfigError when it is not valid any more)."""
    with transaction(db, immediate=True):
        if not setup_link_valid(db, secret):
            raise ConfigError("this set-up link has been used or replaced; sign in instead")
        db.execute("DELETE FROM setup_links")
    return add_user(db, name, "admin", password)


def signin_wait(db: sqlite3.Connection, name: str, client: str) -> float:
    """Seconds until sign-in is allowed again for this name or client (0: now)."""
    since = time.time() - SIGNIN_WINDOW
    waits = []
    for key, limit in (
        (f"name:{name.strip().lower()}", SIGNIN_MAX_PER_NAME),
        (f"client:{client}", SIGNIN_MAX_PER_CLIENT),
    ):
        rows = db.execute(
            "SELECT at FROM signin_failures WHERE key = ? AND at > ? ORDER BY at", (key, since)
        ).fetchall()
        if len(rows) >= limit:
            waits.append(rows[len(rows) - limit]["at"] + SIGNIN_WINDOW - time.time())
    return max(waits, default=0.0)


def signin_failed(db: sqlite3.Connection, name: str, client: str) -> None:
    """Count a failed sign-in against the name and the client."""
    now = time.time()
    with transaction(db):
        db.execute("DELETE FROM signin_failures WHERE at < ?", (now - SIGNIN_WINDOW,))
        db.executemany("INSERT INTO signin_failures VALUES (?, ?)",
                       [(f"name:{name.strip().lower()}", now), (f"client:{client}", now)])  # fmt: skip


def signin_succeeded(db: sqlite3.Connection, name: str) -> None:
    """Forget the name's failures after a good sign-in."""
    with transaction(db):
        db.execute("DELETE FROM signin_failures WHERE key = ?", (f"name:{name.strip().lower()}",))
