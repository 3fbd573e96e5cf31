"""Helpers that read real outputs back: EPUB members, ID3 frames, MP3 stream facts."""

from __future__ import annotations

import contextlib
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from publisher import api
from publisher.formats.web.serve import make_server
from publisher.pipeline.results import SourceResult
from publisher.settings import Settings
from publisher.xmlns import NS as NS  # re-exported: the tests' XPath prefixes


class Epub:
    """An EPUB opened for assertions: the OPF, and each member parsed as XML."""

    def __init__(self, path: Path) -> None:
        self.zip = zipfile.ZipFile(path)
        container = etree.fromstring(self.zip.read("META-INF/container.xml"))
        self.opf_path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
        self.base = self.opf_path.rsplit("/", 1)[0] + "/" if "/" in self.opf_path else ""
        self.opf = etree.fromstring(self.zip.read(self.opf_path))

    def xml(self, href: str) -> etree._Element:
        return etree.fromstring(self.zip.read(self.base + href))

    def meta(self, prop: str) -> list[str]:
        return [m.text for m in self.opf.xpath(f"//opf:meta[@property='{prop}']", namespaces=NS)]

    def dc(self, name: str) -> list[str]:
        return [e.text for e in self.opf.xpath(f"//dc:{name}", namespaces=NS)]

    def manifest(self) -> dict[str, etree._Element]:
        return {i.get("id"): i for i in self.opf.xpath("//opf:manifest/opf:item", namespaces=NS)}

    def spine(self) -> list[str]:
        return self.opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=NS)

    def xhtml_hrefs(self) -> list[str]:
        return [i.get("href") for i in self.manifest().values() if i.get("media-type") == "application/xhtml+xml"]


def publish_one(source: Path, settings: Settings) -> SourceResult:
    """Publish one source through the library API; its error raised if it failed."""
    (result,) = api.publish([source], settings).results
    if result.error is not None:
        raise result.error
    return result


def publish(
    source: Path, output: Path, engine: str = "silent", epoch: str | None = None, **settings: object
) -> SourceResult:
    """Publish one source into `output` (the silent engine unless told otherwise; with `epoch`,
    SOURCE_DATE_EPOCH is set to it for this publish only)."""
    with pytest.MonkeyPatch.context() as mp:
        if epoch is not None:
            mp.setenv("SOURCE_DATE_EPOCH", epoch)
        return publish_one(source, Settings(engine=engine, output=output, **settings))  # type: ignore[arg-type]


def frame_kbps(path: Path) -> list[int]:
    """The bitrate each MPEG-1 layer III frame header of an ID3-tagged file declares, frame by frame."""
    data = path.read_bytes()
    pos = 0
    if data[:3] == b"ID3":
        b = data[6:10]
        pos = 10 + (b[0] << 21 | b[1] << 14 | b[2] << 7 | b[3])
    table = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
    kbps = []
    while pos < len(data):
        assert data[pos] == 0xFF and data[pos + 1] in (0xFA, 0xFB), f"no frame at byte {pos}"
        rate = [44100, 48000, 32000][(data[pos + 2] >> 2) & 3]
        kbps.append(table[data[pos + 2] >> 4])
        pos += 144 * kbps[-1] * 1000 // rate + ((data[pos + 2] >> 1) & 1)
    return kbps


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[int]:
    """`publisher serve`'s server on a free loopback port, in a thread: yields the port."""
    httpd = make_server(folder, port=0, quiet=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
