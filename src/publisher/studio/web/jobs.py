"""The studio's job routes: a job's page and JSON, its progress as Server-Sent Events, cancelling,
and queueing a republish, a check or a proof-listening of a publication.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from publisher import api
from publisher.studio import jobs
from publisher.studio import publications as pubs
from publisher.studio.web.base import (
    Problem,
    done,
    page,
    read_values,
    require,
    state_of,
)

# --- jobs -----------------------------------------------------------------------------------------


def _job(request: Request) -> jobs.Job:
    try:
        job_id = int(request.path_params["job"])
    except ValueError as exc:
        raise Problem(404, "no such job") from exc
    job = jobs.get(state_of(request).db, job_id)
    if job is None:
        raise Problem(404, f"no job {job_id}")
    return job


async def api_job(request: Request) -> Response:
    """A job's state.
    ---
    summary: 'A job: {"state": "queued|running|done|failed|cancelled", "stage", "done", "total", "error", …}'
    responses:
      200: {description: the job}
      404: {description: no such job}
    """
    await require(request)
    return JSONResponse(_job(request).to_json())


async def job_page(request: Request) -> Response:
    user = await require(request)
    job = _job(request)
    row = pubs.publication_row(state_of(request).db, job.slug)
    return page(request, "job.html", {"job": job, "title": row["title"] if row else job.slug,
                                      "may_publish": user.may("publish")})  # fmt: skip


async def jobs_page(request: Request) -> Response:
    await require(request)
    return page(request, "jobs.html", {"jobs": jobs.recent(state_of(request).db)})


async def api_cancel(request: Request) -> Response:
    """Cancel a job.
    ---
    summary: Cancel a queued or running job (a running one stops at its next sentence or renderer)
    responses:
      200: {description: the job}
      409: {description: the job is already over}
    """
    _, form = await read_values(request)
    await require(request, "publish", form)
    job = _job(request)
    if job.final:
        raise Problem(409, f"job {job.id} is already {job.state}")
    job = jobs.request_cancel(state_of(request).db, job.id) or job
    return done(request, job.to_json(), 200, f"/jobs/{job.id}")


async def api_events(request: Request) -> Response:
    """A job's progress as Server-Sent Events.
    ---
    summary: 'Server-Sent Events: one "progress" event (the job as JSON) per change, until it ends'
    responses:
      200: {description: text/event-stream}
    """
    await require(request)
    job = _job(request)
    state = state_of(request)

    async def events() -> AsyncIterator[str]:
        last, quiet = "", time.monotonic()
        yield "retry: 2000\n\n"
        while True:
            current_job = jobs.get(state.db, job.id)
            if current_job is None:
                yield "event: gone\ndata: {}\n\n"
                return
            data = json.dumps(current_job.to_json())
            if data != last:
                last, quiet = data, time.monotonic()
                yield f"event: progress\ndata: {data}\n\n"
            elif time.monotonic() - quiet > 15:
                quiet = time.monotonic()
                yield ": still here\n\n"
            if current_job.final:
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.3)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})  # fmt: skip


async def api_republish(request: Request) -> Response:
    """Publish again.
    ---
    summary: Publish a publication again (after a lexicon fix, only the changed sentences are synthesized)
    responses:
      202: {description: '{"job": ID}'}
      404: {description: no such publication}
    """
    return await _queue(request, "publish")


async def api_check(request: Request) -> Response:
    """Check a publication.
    ---
    summary: Queue publisher check (EPUBCheck, Ace, overlays, ID3, DAISY, packages) of a publication
    responses:
      202: {description: '{"job": ID}'}
    """
    return await _queue(request, "check")


async def api_proof(request: Request) -> Response:
    """Proof-listen a publication.
    ---
    summary: Queue proof-listening (Whisper) of a publication
    responses:
      202: {description: '{"job": ID}'}
    """
    return await _queue(request, "proof")


async def _queue(request: Request, kind: jobs.Kind) -> Response:
    _, form = await read_values(request)
    user = await require(request, "publish", form)
    state = state_of(request)
    slug = request.path_params["slug"]
    if pubs.publication_row(state.db, slug) is None:
        raise Problem(404, f"no publication {slug!r} in the studio")
    if kind != "publish" and api.publication(state.studio.output, slug) is None:
        raise Problem(409, f"{slug} is not published yet")
    job = jobs.enqueue(state.db, slug, kind, user.id)
    return done(request, {"job": job, "slug": slug}, 202, f"/jobs/{job}")
