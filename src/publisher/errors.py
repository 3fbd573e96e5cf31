"""The one exception hierarchy: each kind owns its exit code and a message that says what to do."""

from __future__ import annotations

from pathlib import Path


class PublisherError(Exception):
    """Base for every error the tool reports to a user (never shown with a traceback)."""

    exit_code = 3  # 1 and 2 are left to the shell and to click's usage errors

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path is not None else self.message


class SourceError(PublisherError):
    """The source file cannot be read or makes no publication (empty, binary, malformed)."""

    exit_code = 4


class ConfigError(PublisherError):
    """A setting (flag, publisher.toml, front matter) is invalid."""

    exit_code = 5


class EngineError(PublisherError):
    """A speech engine is missing, unusable here, or failed on a sentence."""

    exit_code = 6


class RenderError(PublisherError):
    """An output could not be written (audio encoding, EPUB packaging, disk)."""

    exit_code = 7


class ValidationError(PublisherError):
    """A validator found problems in an output."""

    exit_code = 8


class BatchError(PublisherError):
    """Some sources of a batch failed; the others were published."""

    exit_code = 9


class Cancelled(PublisherError):
    """The caller cancelled the run (a CancelToken, or Ctrl-C); what was finished is kept, nothing half-made."""

    exit_code = 130
