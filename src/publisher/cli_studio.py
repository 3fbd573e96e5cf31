"""`publisher studio` (the web app) and `publisher user add|token` (its accounts): click commands only."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from publisher.errors import PublisherError

STUDIO_EXTRA = "the studio needs its extra: pip install 'publisher[studio]' (make test installs it)"

_data_option = click.option(
    "--data",
    "data",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("studio-data"),
    show_default=True,
    help="The studio's data folder (database, uploads, cache, output tree).",
)


def _require_extra() -> None:
    try:
        import argon2  # noqa: F401
        import itsdangerous  # noqa: F401
        import python_multipart  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise PublisherError(f"{STUDIO_EXTRA} ({exc.name} is missing)") from exc


@click.command()
@_data_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every network).")
@click.option("--port", type=click.IntRange(1, 65535), default=8400, show_default=True, help="Port to listen on.")
@click.option(
    "--cluster", metavar="ADDRESS", help="Run jobs on a Dask cluster (tcp://host:8786) [$DASK_SCHEDULER_ADDRESS]."
)
@click.option(
    "--max-upload", type=click.FloatRange(0.001, 100_000), default=512, show_default=True, help="Upload limit, MB."
)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Job worker processes.")
def studio(data: Path, host: str, port: int, cluster: str | None, max_upload: float, workers: int) -> None:
    """Run the studio: a web app where staff upload sources, follow their narration, proof-listen,
    fix pronunciations, republish and download every format.

    Everything stays in DATA: an SQLite database, the uploads, the clip cache and an ordinary output
    tree (DATA/output, which `publisher serve` can serve as it is). With no account yet, a one-time
    link to create the first admin is printed. Loopback only unless --host says otherwise.

    \b
    Example:
      publisher studio --data studio-data/ --port 8400
    """
    _require_extra()
    from publisher.studio.layout import Studio
    from publisher.studio.server import serve

    if cluster is not None:
        from publisher.api import Settings

        Settings().override("--cluster", cluster=cluster)  # the same check as publish's
    where = Studio(data.resolve(), host=host, port=port, cluster=cluster, max_upload=int(max_upload * 1024 * 1024))
    try:
        serve(where, workers, announce=click.echo)
    except KeyboardInterrupt:  # Ctrl-C or SIGINT: the workers have put their jobs back in the queue
        click.echo("publisher studio stopped; queued jobs run at its next start", err=True)


@click.group()
def user() -> None:
    """Manage the studio's accounts.

    \b
    Example:
      publisher user add alice --role editor --data studio-data/
    """


def _database(data: Path):  # type: ignore[no-untyped-def]
    _require_extra()
    from publisher.studio.db import connect, migrate
    from publisher.studio.layout import Studio

    where = Studio(data.resolve())
    migrate(where.database)
    return connect(where.database)


@user.command("add")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(["admin", "editor", "viewer"]), required=True, help="What the account may do."
)
@_data_option
def user_add(name: str, role: str, data: Path) -> None:
    """Add an account. The password is read from standard input (one line) or asked for.

    \b
    Examples:
      publisher user add alice --role editor --data studio-data/
      printf '%s\\n' "$PASSWORD" | publisher user add bot --role viewer
    """
    from publisher.studio import accounts

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    db = _database(data)
    try:
        created = accounts.add_user(db, name, role, password)
    finally:
        db.close()
    click.echo(f"added {created.name} ({created.role})")


@user.command("token")
@click.argument("name")
@_data_option
def user_token(name: str, data: Path) -> None:
    """Print a new API token for an account (send it as `Authorization: Bearer TOKEN`).

    \b
    Example:
      publisher user token alice --data studio-data/
    """
    from publisher.studio import accounts

    db = _database(data)
    try:
        click.echo(accounts.new_token(db, name))
    finally:
        db.close()
