"""Opening zip packages (EPUB, and the documents pandoc reads) safely: size limits, DRM, paths, XML without entities."""

from __future__ import annotations

import hashlib
import os
import posixpath
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from publisher.errors import SourceError
from publisher.tempdirs import private_dir
from publisher.xmlns import XMLENC
from publisher.zipfiles import unsafe_member_name

#: refuse packages that unpack to more than this (a 1,000-page illustrated book is about 100 MB)
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
#: refuse a member that expands more than this many times (text deflates about 3–5 times)
MAX_RATIO = 200
#: refuse a package of more members than this
MAX_MEMBERS = 10_000
#: font obfuscation (IDPF and Adobe) hides fonts only: the text is readable, so it is not DRM
FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}


class Package:
    """A zip package opened for reading, with every member checked before it is read."""

    def __init__(self, path: Path, kind: str = "EPUB") -> None:
        self.path = path
        self.kind = kind
        try:
            if path.stat().st_size == 0:
                raise SourceError(f"is empty (0 bytes): not a {kind}", path=path)
            self.zip = zipfile.ZipFile(path)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
            raise SourceError(f"is not a valid {kind} (a broken or truncated zip file: {exc})", path=path) from exc
        except OSError as exc:
            raise SourceError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc
        if len(infos) > MAX_MEMBERS:
            raise SourceError(f"has {len(infos):,} files inside; the limit is {MAX_MEMBERS:,}", path=path)
        total = sum(i.file_size for i in infos)
        if total > MAX_UNPACKED_BYTES:
            raise SourceError(
                f"unpacks to {total / 1e6:,.0f} MB; the limit is {MAX_UNPACKED_BYTES / 1e6:.0f} MB (a zip bomb?)",
                path=path,
            )
        for info in infos:
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 1_000_000:
                raise SourceError(f"member {info.filename!r} expands {MAX_RATIO}+ times (a zip bomb?)", path=path)
            unsafe = unsafe_member_name(info.filename)
            if unsafe:
                raise SourceError(
                    f"member {info.filename[:100]!r} {unsafe}: an unsafe {kind} (refused, nothing is copied)", path=path
                )
        self.names = {i.filename: i for i in infos}
        if len(self.names) != len(infos):
            twice = next(n for n in self.names if sum(i.filename == n for i in infos) > 1)
            raise SourceError(f"holds two members named {twice[:100]!r}: a damaged or forged {kind}", path=path)

    def read(self, name: str) -> bytes:
        """A member's bytes (never more than it declares), or a one-line error."""
        info = self.names.get(name)
        if info is None:
            raise SourceError(f"{self.kind} lists {name!r}, which is not in the package", path=self.path)
        try:
            with self.zip.open(info) as member:
                data = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise SourceError(f"cannot unpack {name!r} (the zip file is damaged: {exc})", path=self.path) from exc
        if len(data) > info.file_size:
            raise SourceError(f"member {name!r} is larger than it declares (a zip bomb?)", path=self.path)
        return data

    def xml(self, name: str) -> etree._Element:
        """A member parsed as XML: no entities expanded, no DTD or network fetched."""
        return parse_xml(self.read(name), name, self.path)

    def resolve(self, base: str, href: str) -> str:
        """The member name `href` points to, relative to member `base`; refuses paths outside the package."""
        target = unquote(href.split("#", 1)[0])
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(base), target)) if target else base
        if joined.startswith(("../", "/")) or joined == ".." or "://" in href:
            raise SourceError(f"{base} points outside the package ({href!r})", path=self.path)
        return joined

    def check_drm(self) -> None:
        """Refuse encrypted (DRM) content with one line; font obfuscation is fine."""
        if "META-INF/encryption.xml" not in self.names:
            return
        root = self.xml("META-INF/encryption.xml")
        for data in root.iter(f"{{{XMLENC}}}EncryptedData"):
            method = data.find(f"{{{XMLENC}}}EncryptionMethod")
            algorithm = method.get("Algorithm") if method is not None else ""
            if algorithm not in FONT_OBFUSCATION:
                raise SourceError(
                    "is encrypted (DRM): its text cannot be read; use a DRM-free copy of the book", path=self.path
                )

    def extract(self, name: str, folder: Path) -> Path:
        """Copy a member into `folder` (the reader's private media folder) under a safe name: a new
        file made exclusively (never through a link planted there), then renamed into place."""
        data = self.read(name)
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        dest = folder / f"{digest}-{Path(name).name}"
        if dest.is_file() and not dest.is_symlink() and dest.read_bytes() == data:
            return dest  # this run unpacked it already
        fd, tmp = tempfile.mkstemp(prefix=".part-", dir=folder)  # O_CREAT | O_EXCL: no link followed
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, dest)  # replaces a link itself, never what it points to
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return dest


def parse_xml(data: bytes, name: str, source: Path) -> etree._Element:
    """Parse XML safely (no entity expansion, no network, no DTD); entity declarations are refused."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        if "Entity" in str(exc) and b"<!ENTITY" not in data[:4096]:
            return _html_entities(data, name, source)
        raise SourceError(f"{name} is not well-formed XML: {exc}", path=source) from exc
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and list(dtd.iterentities()):
        raise SourceError(f"{name} declares XML entities (refused: entity expansion can hang a reader)", path=source)
    return root


def _html_entities(data: bytes, name: str, source: Path) -> etree._Element:
    """XHTML that uses HTML's named entities (&nbsp;, common in EPUB 2): read with the HTML parser."""
    import lxml.html

    try:
        doc = lxml.html.document_fromstring(data, parser=lxml.html.HTMLParser(no_network=True))
    except (etree.ParserError, ValueError) as exc:
        raise SourceError(f"{name} is neither XML nor readable HTML: {exc}", path=source) from exc
    return doc


def media_folder(source: Path) -> Path:
    """A new private folder (0700, an unguessable name) for the images a package holds, removed when
    the run ends (tempdirs.run_scope); never next to the source, never a fixed folder others could
    have prepared. Fingerprints name its files by their place inside it (tempdirs.stable_name), so
    an unchanged book stays unchanged."""
    return private_dir("publisher-media-")
