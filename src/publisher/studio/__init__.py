"""The studio: a web app (pages and a JSON API) over the library API, with accounts and a job queue in SQLite.

`publisher studio` runs it (`server.py`): uvicorn serves the Starlette app of `web/`, and worker
processes (`worker.py`) run the queued jobs through `publisher.api`. Everything lives in one data
folder (`layout.py`): the database, uploads, lexicons, the clip cache and an ordinary output tree.
The studio reaches the pipeline only through `publisher.api`.
"""
