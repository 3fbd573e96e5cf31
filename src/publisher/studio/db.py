"""The studio's SQLite database: one connection per thread or process, a schema version and its migrations.

The schema version is SQLite's `PRAGMA user_version`; `migrate` applies every migration above it in
order, each in its own transaction, so a studio started on an older data folder brings it up to date
and one started on a newer folder stops with a clear message instead of misreading it. WAL mode lets
the web server read while a worker writes; `BEGIN IMMEDIATE` is used wherever a row is claimed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from publisher.api import ConfigError

#: each migration takes the schema from version n to n + 1 (index n); never edit one that shipped
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
        password TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE TABLE tokens (
        digest TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created REAL NOT NULL
    );
    CREATE TABLE sessions (
        digest TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created REAL NOT NULL,
        expires REAL NOT NULL
    );
    CREATE TABLE setup_links (
        digest TEXT PRIMARY KEY,
        created REAL NOT NULL
    );
    CREATE TABLE signin_failures (
        key TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX signin_failures_key ON signin_failures (key, at);
    CREATE TABLE publications (
        slug TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        language TEXT NOT NULL,
        source TEXT NOT NULL,
        source_name TEXT NOT NULL,
        settings TEXT NOT NULL,
        options TEXT NOT NULL,
        narration TEXT NOT NULL DEFAULT '[]',
        cover TEXT,
        owner INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created REAL NOT NULL,
        checks TEXT,
        checked REAL
    );
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('publish', 'check', 'proof')),
        state TEXT NOT NULL DEFAULT 'queued'
            CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        stage TEXT,
        done INTEGER NOT NULL DEFAULT 0,
        total INTEGER NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        error TEXT,
        cancel INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        worker INTEGER,
        user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created REAL NOT NULL,
        started REAL,
        stage_started REAL,
        finished REAL,
        result TEXT
    );
    CREATE INDEX jobs_state ON jobs (state, id);
    CREATE INDEX jobs_slug ON jobs (slug, id);
    CREATE TABLE lexicon (
        scope TEXT NOT NULL,
        word TEXT NOT NULL,
        pronunciation TEXT NOT NULL,
        updated REAL NOT NULL,
        PRIMARY KEY (scope, word)
    );
    """,
)
SCHEMA = len(MIGRATIONS)


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the database at `path` (rows readable by column name, foreign keys on, a
    generous busy timeout so a worker's write never fails a page's read)."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA busy_timeout = 30000")
    return connection


def migrate(path: Path) -> int:
    """Create the database or bring it up to this version's schema; return the version it had."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = connect(path)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        found = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if found > SCHEMA:
            raise ConfigError(
                f"the studio database has schema version {found}, newer than this publisher's {SCHEMA}; "
                "upgrade publisher",
                path=path,
            )
        for version in range(found, SCHEMA):
            try:  # the migration and its version number together, or neither
                connection.executescript(
                    f"BEGIN IMMEDIATE; {MIGRATIONS[version]}; PRAGMA user_version = {version + 1}; COMMIT;"
                )
            except sqlite3.Error:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        return found
    finally:
        connection.close()


@contextmanager
def transaction(connection: sqlite3.Connection, immediate: bool = False) -> Iterator[sqlite3.Connection]:
    """A transaction (`BEGIN IMMEDIATE` when `immediate`: the write lock at once, for claiming a row);
    committed on success, rolled back on any exception."""
    if not connection.in_transaction:
        connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield connection
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    else:
        if connection.in_transaction:
            connection.execute("COMMIT")
