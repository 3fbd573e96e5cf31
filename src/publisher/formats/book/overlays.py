"""EPUB 3 Media Overlays: one SMIL 3.0 document per narrated XHTML document, a `par` per sentence."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from publisher.clock import full_clock
from publisher.model.timeline import Timeline
from publisher.xmlns import EPUB, SMIL


@dataclass(frozen=True)
class OverlayClip:
    """Where one sentence of a document is heard."""

    sentence_id: str
    audio_href: str  # relative to the SMIL file
    begin: float
    end: float


@dataclass(frozen=True)
class Overlay:
    """The SMIL for one XHTML document, and the total length of the audio it plays."""

    smil: bytes
    duration: float
    clips: list[OverlayClip]


def clips_for(sentence_ids: list[str], narration: Timeline, audio_hrefs: dict[int, str]) -> list[OverlayClip]:
    """Clips for `sentence_ids` in order, from the narration timeline (exact, no alignment)."""
    where = {cue.sentence_id: (track.index, cue) for track in narration.tracks for cue in track.cues}
    clips = []
    for sid in sentence_ids:
        if sid not in where:
            raise KeyError(f"sentence {sid} was not narrated")
        track_index, cue = where[sid]
        clips.append(OverlayClip(sid, audio_hrefs[track_index], cue.start, cue.end))
    return clips


def smil_document(
    text_href: str, clips: list[OverlayClip], epub_type: str, roles: dict[str, tuple[str, str, str]] | None = None
) -> Overlay:
    """The SMIL 3.0 document for one XHTML document (`text_href` relative to the SMIL).

    Sentences of a table, figure or note (`roles`: sentence id → element id, its epub:type, the
    sentence's own epub:type) are grouped in a `seq` marked with the element's epub:type, so a
    reading system can skip notes or escape a table.
    """
    nsmap = {None: SMIL, "epub": EPUB}
    root = etree.Element(f"{{{SMIL}}}smil", nsmap=nsmap, version="3.0")
    body = etree.SubElement(root, f"{{{SMIL}}}body")
    seq = etree.SubElement(
        body, f"{{{SMIL}}}seq", {"id": "seq1", f"{{{EPUB}}}textref": text_href, f"{{{EPUB}}}type": epub_type}
    )
    roles = roles or {}
    group: tuple[str, etree._Element] | None = None
    for n, clip in enumerate(clips, start=1):
        parent = seq
        role = roles.get(clip.sentence_id)
        if role is not None:
            if group is None or group[0] != role[0]:
                attrib = {f"{{{EPUB}}}textref": f"{text_href}#{role[0]}", f"{{{EPUB}}}type": role[1]}
                group = (role[0], etree.SubElement(seq, f"{{{SMIL}}}seq", attrib))
            parent = group[1]
        else:
            group = None
        par = etree.SubElement(parent, f"{{{SMIL}}}par", {"id": f"par{n}"})
        if role is not None and role[2]:
            par.set(f"{{{EPUB}}}type", role[2])
        etree.SubElement(par, f"{{{SMIL}}}text", {"src": f"{text_href}#{clip.sentence_id}"})
        etree.SubElement(
            par,
            f"{{{SMIL}}}audio",
            {
                "src": clip.audio_href,
                "clipBegin": full_clock(clip.begin, pad_hours=False),
                "clipEnd": full_clock(clip.end, pad_hours=False),
            },
        )
    data = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    duration = sum(round(c.end * 1000) - round(c.begin * 1000) for c in clips) / 1000
    return Overlay(data, duration, clips)
