"""`publisher serve`: a local preview server for the output folder.

Correct media types for every format (EPUB, MP3, M4B, WebVTT, RSS, OPDS, audiobook packages) and
HTTP byte ranges (206 Partial Content), which browsers and podcast apps need to seek in audio.
Hidden files (the manifests and the lock) are not served. Loopback only unless told otherwise.
"""

from __future__ import annotations

import email.utils
import os
import re
import shutil
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from publisher.model.layout import media_type

#: Content-Type by file name ending (longest ending wins): the manifest's media types, with charsets
MEDIA_TYPES = {
    "feed.xml": "application/rss+xml; charset=utf-8",
    "opds.xml": "application/atom+xml;profile=opds-catalog;kind=acquisition; charset=utf-8",
    "opds.json": "application/opds+json; charset=utf-8",
    ".chapters.json": "application/json+chapters; charset=utf-8",
    "manifest.json": "application/audiobook+json; charset=utf-8",
    "publication.json": "application/audiobook+json; charset=utf-8",
    ".epub": "application/epub+zip",
    ".mp3": "audio/mpeg",
    ".m4b": "audio/mp4",
    ".m4a": "audio/mp4",
    ".vtt": "text/vtt; charset=utf-8",
    ".smil": "application/smil; charset=utf-8",
    ".audiobook": "application/audiobook+zip",
    ".lpf": "application/lpf+zip",
    ".zip": "application/zip",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def content_type(name: str) -> str:
    """The Content-Type to serve a file under."""
    return media_type(name, MEDIA_TYPES)


class PreviewHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler with media types, single byte ranges and hidden files refused."""

    server_version = "publisher-serve"
    _remaining: int | None = None

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return content_type(os.fspath(path))

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Access-Control-Allow-Origin", "*")  # podcast web players, OPDS web readers
        super().end_headers()

    def send_head(self) -> Any:
        self._remaining = None
        path = self.translate_path(self.path)
        if any(part.startswith(".") for part in Path(unquote(urlsplit(self.path).path)).parts):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        header = self.headers.get("Range")
        if header is None or os.path.isdir(path):
            return super().send_head()
        try:
            handle: BinaryIO = open(path, "rb")  # noqa: SIM115 - returned to the caller, which closes it
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        size = os.fstat(handle.fileno()).st_size
        span = parse_range(header, size)
        if span is None:
            handle.close()
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        start, end = span
        handle.seek(start)
        self._remaining = end - start + 1
        self.send_response(HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(self._remaining))
        mtime = os.fstat(handle.fileno()).st_mtime
        self.send_header("Last-Modified", email.utils.formatdate(mtime, usegmt=True))
        self.end_headers()
        return handle

    def copyfile(self, source: Any, outputfile: Any) -> None:
        if self._remaining is None:
            shutil.copyfileobj(source, outputfile)
            return
        remaining = self._remaining
        while remaining > 0:
            chunk = source.read(min(64 * 1024, remaining))
            if not chunk:
                break
            outputfile.write(chunk)
            remaining -= len(chunk)

    def log_message(self, format: str, *args: Any) -> None:
        if not getattr(self.server, "quiet", False):
            super().log_message(format, *args)


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `bytes=` range, or None when it cannot be satisfied."""
    match = _RANGE.match(header.strip())
    if match is None or size == 0:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            return None
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return None
    return start, end


def make_server(folder: Path, host: str = "127.0.0.1", port: int = 8000, quiet: bool = False) -> ThreadingHTTPServer:
    """A server for `folder` (not started); port 0 picks a free one."""
    handler = partial(PreviewHandler, directory=str(folder))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.quiet = quiet  # type: ignore[attr-defined]
    return server
