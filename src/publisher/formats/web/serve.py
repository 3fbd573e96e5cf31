"""`publisher serve`: a local preview server for the output folder.

Correct media types for every format (EPUB, MP3, M4B, WebVTT, RSS, OPDS, audiobook packages) and
the HTTP that podcast apps, browsers and e-reader apps rely on (RFC 9110): GET and HEAD; a strong
`ETag` next to `Last-Modified`; `If-None-Match` and `If-Modified-Since` answered with 304;
byte ranges on every file (206 Partial Content, several ranges as one multipart/byteranges 206),
honoured only while `If-Range` still names the current file. Hidden files (the manifests and the
lock) are not served. Loopback only unless told otherwise.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import re
import shutil
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from publisher.model.layout import file_type

#: media types served with "; charset=utf-8" (every text the publisher writes is UTF-8)
_TEXTUAL = ("text/", "+xml", "+json", "application/xml", "application/json", "application/smil", "+chapters")


#: more ranges than this in one request get the whole file (RFC 9110 §14.2 lets a server ignore Range)
MAX_RANGES = 16

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_SPEC = re.compile(r"^(\d*)-(\d*)$")


def content_type(name: str) -> str:
    """The Content-Type to serve a file under (`name` may be a path: catalogue pages go by where they are)."""
    kind = file_type(name.replace(os.sep, "/"))
    base = kind.split(";")[0]
    textual = not base.startswith("image/") and any(base.startswith(t) or base.endswith(t) for t in _TEXTUAL)
    return f"{kind}; charset=utf-8" if textual else kind


def _span(first: str, last: str, size: int) -> tuple[int, int] | None:
    if not first:  # the last N bytes
        length = int(last)
        return (max(0, size - length), size - 1) if length and size else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start < size and (not last or int(last) >= start) else None


def parse_ranges(header: str, size: int) -> list[tuple[int, int]] | None:
    """The satisfiable (first, last) spans of a `bytes=` Range header, sorted and merged where they
    overlap or touch; None when the header is not a byte-range set at all (then it is ignored)."""
    unit, _, specs = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or not specs.strip():
        return None
    spans = []
    for spec in specs.split(","):
        match = _SPEC.match(spec.strip())
        if match is None or not any(match.groups()):
            return None
        first, last = match.groups()
        if first and last and int(last) < int(first):
            return None  # RFC 9110 §14.1.1: an invalid range-spec makes the whole set invalid
        span = _span(first, last, size)
        if span is not None:
            spans.append(span)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `bytes=` range, or None when it cannot be satisfied as one."""
    match = _RANGE.match(header.strip())
    if match is None or size == 0 or not any(match.groups()):
        return None
    spans = parse_ranges(header, size)
    return spans[0] if spans and len(spans) == 1 else None


def _etag_list(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


class PreviewHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler with media types, validators, conditional requests and byte ranges."""

    server_version = "publisher-serve"
    _parts: list[tuple[bytes, int, int]] | None = None  # (preamble, first, last) to send; None: the whole file
    _epilogue = b""

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return content_type(os.fspath(path))

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Access-Control-Allow-Origin", "*")  # podcast web players, OPDS web readers
        super().end_headers()

    def send_head(self) -> Any:
        self._parts, self._epilogue = None, b""
        if any(part.startswith(".") for part in Path(unquote(urlsplit(self.path).path)).parts):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            candidates = [os.path.join(path, name) for name in ("index.html", "index.htm")]
            index = next((c for c in candidates if os.path.isfile(c)), None)
            if index is None or not urlsplit(self.path).path.endswith("/"):
                return super().send_head()  # the redirect to "folder/", or a listing
            path = index
        try:
            handle: BinaryIO = open(path, "rb")  # noqa: SIM115 - returned to the caller, which closes it
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        try:
            return self._respond(handle, path)
        except BaseException:
            handle.close()
            raise

    def _validators(self, handle: BinaryIO) -> tuple[int, str, str, float]:
        stat = os.fstat(handle.fileno())
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        return stat.st_size, etag, email.utils.formatdate(stat.st_mtime, usegmt=True), stat.st_mtime

    def _not_modified(self, etag: str, mtime: float) -> bool:
        """RFC 9110 §13.1.2 (If-None-Match, weak comparison) and §13.1.3 (If-Modified-Since, only without it)."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = _etag_list(if_none_match)
            return "*" in tags or etag in [t.removeprefix("W/") for t in tags]
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            when = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        return when.tzinfo is not None and int(mtime) <= when.timestamp()

    def _range_applies(self, etag: str, last_modified: str) -> bool:
        """RFC 9110 §13.1.5: with If-Range, ranges only while it names this very file (strong match)."""
        if_range = self.headers.get("If-Range")
        if if_range is None:
            return True
        if_range = if_range.strip()
        if if_range.startswith(('"', "W/")):
            return if_range == etag
        return if_range == last_modified

    def _respond(self, handle: BinaryIO, path: str) -> Any:
        size, etag, last_modified, mtime = self._validators(handle)
        kind = self.guess_type(path)
        if self._not_modified(etag, mtime):
            handle.close()
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            return None
        header = self.headers.get("Range")
        spans = parse_ranges(header, size) if header and self._range_applies(etag, last_modified) else None
        if spans is not None and len(spans) > MAX_RANGES:
            spans = None
        if spans == []:
            handle.close()
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        self.send_response(HTTPStatus.OK if spans is None else HTTPStatus.PARTIAL_CONTENT)
        length = size if spans is None else self._plan(spans, size, kind, etag)
        if spans is not None and len(spans) == 1:
            self.send_header("Content-Range", f"bytes {spans[0][0]}-{spans[0][1]}/{size}")
        if spans is None or len(spans) == 1:
            self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.send_header("Cache-Control", "no-cache")  # a preview: always revalidate (cheap, with the ETag)
        self.end_headers()
        return handle

    def _plan(self, spans: list[tuple[int, int]], size: int, kind: str, etag: str) -> int:
        """Queue the parts of a 206 response; its Content-Length (RFC 9110 §14.6 multipart/byteranges)."""
        if len(spans) == 1:
            self._parts = [(b"", *spans[0])]
            return spans[0][1] - spans[0][0] + 1
        boundary = "publisher-" + hashlib.sha256(etag.encode()).hexdigest()[:24]
        self.send_header("Content-Type", f"multipart/byteranges; boundary={boundary}")
        self._parts = []
        for index, (start, end) in enumerate(spans):
            lead = "\r\n" if index else ""
            head = f"{lead}--{boundary}\r\nContent-Type: {kind}\r\nContent-Range: bytes {start}-{end}/{size}\r\n\r\n"
            self._parts.append((head.encode("latin-1"), start, end))
        self._epilogue = f"\r\n--{boundary}--\r\n".encode("latin-1")
        return sum(len(head) + end - start + 1 for head, start, end in self._parts) + len(self._epilogue)

    def copyfile(self, source: Any, outputfile: Any) -> None:
        if self._parts is None:
            shutil.copyfileobj(source, outputfile)
            return
        for preamble, start, end in self._parts:
            outputfile.write(preamble)
            source.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = source.read(min(64 * 1024, remaining))
                if not chunk:
                    break
                outputfile.write(chunk)
                remaining -= len(chunk)
        outputfile.write(self._epilogue)

    def log_message(self, format: str, *args: Any) -> None:
        if not getattr(self.server, "quiet", False):
            super().log_message(format, *args)


def make_server(folder: Path, host: str = "127.0.0.1", port: int = 8000, quiet: bool = False) -> ThreadingHTTPServer:
    """A server for `folder` (not started); port 0 picks a free one."""
    handler = partial(PreviewHandler, directory=str(folder))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.quiet = quiet  # type: ignore[attr-defined]
    return server
