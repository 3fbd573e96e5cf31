"""The studio's pronunciation routes: the lexicon editor, adding and removing entries, hearing a
sentence with a fix, voice samples and the engines' voices.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from publisher import api
from publisher.studio import publications as pubs
from publisher.studio.accounts import User
from publisher.studio.web.base import (
    DB,
    Problem,
    done,
    page,
    publication_summary,
    read_values,
    require,
    state_of,
    usable_engines,
    wants_html,
)

SAMPLE_TEXT = "This is how your publication will sound."
RECORDED = "this publication is read from a recording: a lexicon entry changes nothing in it"
SAMPLE_LIMIT = 500  # characters a sample or a fixed sentence may have
speaking = threading.Semaphore(1)  # one sample at a time: they share the machine with the workers
judging = threading.Semaphore(1)  # one verdict at a time (Whisper, loaded once in this process)


# --- pronunciation ---------------------------------------------------------------------------------


async def lexicon_page(request: Request) -> Response:
    user = await require(request, "lexicon")
    return await _lexicon(request, user, dict(request.query_params))


async def _lexicon(request: Request, user: User, values: Mapping[str, str], verdict: dict[str, Any] | None = None,
                   status: int = 200) -> Response:  # fmt: skip
    """The pronunciation editor with the fields of `values` (the query, or a posted form) filled in."""
    state = state_of(request)
    slug = request.path_params["slug"]
    data = await run_in_threadpool(publication_summary, request, slug)
    cues = data.get("cues", [])
    chosen = next((c for c in cues if c["id"] == values.get("sentence")), None)
    return page(request, "lexicon.html", {
        "p": data, "cues": cues, "chosen": chosen, "word": values.get("word", ""),
        "pronunciation": values.get("pronunciation", ""), "scope": values.get("scope", "publication"),
        "own": pubs.entries(state.db, slug), "catalogue": pubs.entries(state.db, pubs.CATALOGUE_SCOPE),
        "may_catalogue": user.may("lexicon-catalogue"), "saved": values.get("saved", ""),
        "suggestions": (data.get("proof") or {}).get("suggestions", []),
        "flagged": (data.get("proof") or {}).get("flagged", []), "verdict": verdict,
        "recorded": RECORDED if data.get("narration") else "",
        "error": values.get("error", ""),
    }, status)  # fmt: skip


async def api_lexicon(request: Request) -> Response:
    """Add a lexicon entry.
    ---
    summary: 'Add or replace a lexicon entry: {"word", "pronunciation", "scope": "publication" or "catalogue"}'
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [word, pronunciation]
            properties:
              word: {type: string}
              pronunciation: {type: string, description: '"[[ IPA ]] | respelling", "[[ IPA ]]" or a respelling'}
              scope: {type: string, enum: [publication, catalogue]}
    responses:
      200: {description: '{"word", "pronunciation", "scope", "lexicon": {word: pronunciation}}'}
      403: {description: the catalogue's lexicon is for admins}
      422: {description: '{"error": what is wrong with the entry}'}
    """
    values, form = await read_values(request)
    scope_name = values.get("scope") or "publication"
    if scope_name not in ("publication", "catalogue"):
        raise Problem(422, "scope must be publication or catalogue")
    await require(request, "lexicon-catalogue" if scope_name == "catalogue" else "lexicon", form)
    state = state_of(request)
    slug = request.path_params["slug"]
    if pubs.publication_row(state.db, slug) is None:
        raise Problem(404, f"no publication {slug!r} in the studio")
    scope = pubs.CATALOGUE_SCOPE if scope_name == "catalogue" else slug
    try:
        word, pronunciation = pubs.set_entry(state.db, scope, values.get("word", ""), values.get("pronunciation", ""))
    except api.ConfigError as exc:
        if wants_html(request):
            return RedirectResponse(
                f"/publications/{slug}/lexicon?"
                + urlencode(
                    {"error": str(exc), "word": values.get("word", ""), "sentence": values.get("sentence", "")}
                ),
                303,
            )
        raise Problem(422, str(exc)) from exc
    data = {"word": word, "pronunciation": pronunciation, "scope": scope_name,
            "lexicon": pubs.merged_entries(state.db, slug)}  # fmt: skip
    then = f"/publications/{slug}/lexicon?" + urlencode({"saved": word, "sentence": values.get("sentence", "")})
    return done(request, data, 200, then)


async def api_lexicon_remove(request: Request) -> Response:
    """Remove a lexicon entry.
    ---
    summary: Remove a lexicon entry of the publication (or, with scope=catalogue, of the catalogue)
    responses:
      200: {description: '{"removed": WORD}'}
      404: {description: no such entry}
    """
    values, form = await read_values(request)
    scope_name = values.get("scope") or request.query_params.get("scope") or "publication"
    await require(request, "lexicon-catalogue" if scope_name == "catalogue" else "lexicon", form)
    slug = request.path_params["slug"]
    word = request.path_params.get("word") or values.get("word", "")
    scope = pubs.CATALOGUE_SCOPE if scope_name == "catalogue" else slug
    if not pubs.remove_entry(state_of(request).db, scope, word):
        raise Problem(404, f"no lexicon entry {word!r}")
    return done(request, {"removed": word}, 200, f"/publications/{slug}/lexicon")


def _wav(data: bytes) -> Response:
    return Response(data, media_type="audio/wav", headers={"cache-control": "no-store"})


def _speak(text: str, settings: api.Settings, language: str | None, lexicon: dict[str, str]) -> bytes:
    with speaking:
        return api.speak(text, settings, language=language, lexicon=lexicon)


async def api_hear(request: Request) -> Response:
    """Hear a sentence with a fix.
    ---
    summary: 'A sentence as said with a fix: {"sentence": ID or "text", "word", "pronunciation"} → audio/wav'
    responses:
      200: {description: audio/wav}
      422: {description: '{"error": …}'}
    """
    values, form = await read_values(request)
    await require(request, "lexicon", form)
    fixed = await _fixed_sentence(request, values)
    return _wav(await run_in_threadpool(fixed.speak))


async def api_verdict(request: Request) -> Response:
    """Judge a sentence with a fix.
    ---
    summary: 'Proof-listening of one sentence as said with a fix (the body of …/hear): {"sentence", "text",
      "flagged", "confidence", "reason", "heard", "words": [{"word", "heard", "confidence", "reason"}]}'
    responses:
      200: {description: the verdict}
      422: {description: '{"error": …}', e.g. without the proof extra}
    """
    values, form = await read_values(request)
    user = await require(request, "lexicon", form)
    fixed = await _fixed_sentence(request, values)
    try:
        verdict = await run_in_threadpool(fixed.judge)
    except api.PublisherError as exc:
        if wants_html(request):
            return await _lexicon(request, user, {**values, "error": str(exc)}, None, 422)
        raise Problem(422, str(exc)) from exc
    if wants_html(request):
        return await _lexicon(request, user, values, verdict)
    return JSONResponse(verdict)


@dataclass(frozen=True)
class FixedSentence:
    """A sentence of a publication and a fix to hear it with (the publication's own settings)."""

    sentence: str | None
    text: str
    settings: api.Settings
    language: str | None
    fix: dict[str, str]

    def speak(self) -> bytes:
        """The sentence as said with the fix (WAV; the clip goes into the cache a republish reads)."""
        try:
            return _speak(self.text, self.settings, self.language, self.fix)
        except api.PublisherError as exc:
            raise Problem(422, str(exc)) from exc

    def judge(self) -> dict[str, Any]:
        """What proof-listening now hears in the sentence said with the fix (api.score_clip)."""
        audio = self.speak()
        with judging:
            score = api.score_clip(audio, self.text, self.language or "en", self.settings)
        words = [{"word": w.word, "heard": w.heard, "confidence": round(w.confidence, 3), "reason": w.reason}
                 for w in score.words]  # fmt: skip
        return {"sentence": self.sentence, "text": self.text, "fix": self.fix, "flagged": bool(score.flagged),
                "confidence": round(score.confidence, 3), "reason": score.reason, "heard": score.heard,
                "words": words}  # fmt: skip


async def _fixed_sentence(request: Request, values: Mapping[str, str]) -> FixedSentence:
    """The sentence (by id, or a text) and the fix a hear or verdict request names (422 when unusable)."""
    state = state_of(request)
    slug = request.path_params["slug"]
    data = await run_in_threadpool(publication_summary, request, slug)
    if data.get("narration"):
        raise Problem(409, RECORDED)
    text = values.get("text", "").strip()
    sentence = values.get("sentence") or None
    if not text and sentence:
        text = next((c["text"] for c in data.get("cues", []) if c["id"] == sentence), "")
    if not text:
        raise Problem(422, "choose a sentence to hear")
    if len(text) > SAMPLE_LIMIT * 4:
        raise Problem(422, f"a sentence to hear is at most {SAMPLE_LIMIT * 4} characters")
    fix: dict[str, str] = {}
    if values.get("word", "").strip():
        try:
            word, pronunciation = pubs.check_entry(values.get("word", ""), values.get("pronunciation", ""))
        except api.ConfigError as exc:
            raise Problem(422, str(exc)) from exc
        fix[word] = pronunciation
    try:
        settings = await state.call(pubs.job_settings, state.studio, DB, slug)
    except api.PublisherError as exc:
        raise Problem(422, str(exc)) from exc
    return FixedSentence(sentence, text, settings, data.get("language"), fix)


async def api_speak(request: Request) -> Response:
    """Hear a voice.
    ---
    summary: 'A sample of a voice: {"text", "engine", "voice", "speed", "language"} → audio/wav'
    responses:
      200: {description: audio/wav}
      422: {description: '{"error": …}'}
    """
    values, form = await read_values(request)
    await require(request, "publish", form)
    text = (values.get("sample") or values.get("text") or SAMPLE_TEXT).strip()[:SAMPLE_LIMIT]
    chosen, _ = pubs.form_settings(values)
    voice = {k: v for k, v in chosen.items() if k in ("engine", "voice", "speed", "language")}
    state = state_of(request)
    try:
        settings = await run_in_threadpool(pubs.check_settings, state.studio, voice)
        audio = await run_in_threadpool(_speak, text, settings, None, {})
    except api.PublisherError as exc:
        raise Problem(422, str(exc)) from exc
    return _wav(audio)


async def api_engines(request: Request) -> Response:
    """Engines and voices.
    ---
    summary: 'The speech engines usable here, each with its voices: {"engines": [{"name", "summary", "voices"}]}'
    responses:
      200: {description: the engines}
    """
    await require(request)

    def listing() -> list[dict[str, Any]]:
        return [{"name": e.name, "summary": e.summary, "offline": e.offline, "voices": api.voices(e.name)}
                for e in usable_engines()]  # fmt: skip

    return JSONResponse({"engines": await run_in_threadpool(listing)})
