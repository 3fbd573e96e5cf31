"""The studio's data folder: where the database, uploads, lexicons, cache and output tree live, and
the settings every job starts from.

```
DIR/
  studio.db          accounts, publications, jobs, lexicon entries (SQLite, schema-versioned)
  secret.key         signs session and CSRF cookies (made on first start, mode 0600)
  publisher.toml     optional: the catalogue's own settings (base_url, site_title, publisher…)
  uploads/<id>/      one folder per upload: the source, narration/ and cover (never served)
  lexicons/<slug>.txt  the merged lexicon each publish of <slug> reads (catalogue + its own)
  cache/             the clip cache (content-addressed; safe to delete)
  output/            an ordinary publisher output tree: `publisher serve DIR/output` serves it
```
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from publisher.api import Settings, load_settings

DEFAULT_DIR = Path("studio-data")
DEFAULT_PORT = 8400
DEFAULT_MAX_UPLOAD_MB = 512


@dataclass(frozen=True)
class Studio:
    """One studio's data folder and how it is served."""

    root: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    cluster: str | None = None
    max_upload: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024  # bytes

    @property
    def database(self) -> Path:
        return self.root / "studio.db"

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def lexicons(self) -> Path:
        return self.root / "lexicons"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def config(self) -> Path:
        return self.root / "publisher.toml"

    @property
    def url(self) -> str:
        """Where the studio is reached from this machine."""
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        shown = f"[{shown}]" if ":" in shown else shown
        return f"http://{shown}:{self.port}/"

    def lexicon_file(self, slug: str) -> Path:
        """The merged lexicon a publish of `slug` reads."""
        return self.lexicons / f"{slug}.txt"

    def secret(self) -> bytes:
        """The key that signs cookies: made once, kept in the data folder, readable by its owner only."""
        path = self.root / "secret.key"
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return path.read_text(encoding="ascii").strip().encode()

    def base_settings(self) -> Settings:
        """What every job starts from: the defaults, DIR/publisher.toml, then the folders of this
        data folder and the cluster (which a form cannot change). The feeds and OPDS links point at
        the studio's /site/ unless publisher.toml sets base_url."""
        settings = load_settings(self.config if self.config.is_file() else None, cwd=self.root)
        values: dict[str, object] = {"output": self.output, "cache": self.cache, "cluster": self.cluster}
        if "base_url" not in _toml_keys(self.config):
            values["base_url"] = self.url + "site/"
        return settings.override("studio", **values)


def _toml_keys(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return set()
    table = data.get("publisher", data)
    return set(table) if isinstance(table, dict) else set()
