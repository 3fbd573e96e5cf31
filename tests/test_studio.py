"""The studio's JSON API against a real `publisher studio` process (uvicorn and its worker processes):
the first-admin link, authentication (session cookie, Bearer tokens), roles, CSRF, the sign-in rate
limit, uploads good and bad (the CLI's own messages), jobs (progress, cancel, restart after a kill),
files with byte ranges, lexicon entries, checks, deletion, and the database's migrations."""

from __future__ import annotations

import html
import io
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from tests.conftest import SEED
from tests.helpers import Epub
from tests.studio_helpers import (
    PASSWORD,
    PUBLISHER,
    Running,
    add_user,
    create_admin,
    csrf_of,
    start,
    stop,
    studio_process,
    wait_job,
)

from publisher import api
from publisher.cli import cli

pytestmark = pytest.mark.slow
JSON = {"accept": "application/json"}


@dataclass
class Session:
    running: Running
    admin: httpx.Client  # a browser-like client, signed in with a session cookie
    editor: httpx.Client  # Bearer tokens
    viewer: httpx.Client
    anonymous: httpx.Client
    slug: str


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    data = tmp_path_factory.mktemp("studio") / "data"
    with studio_process(data, "--max-upload", "1") as running:
        admin = create_admin(running)
        editor = running.client(authorization=f"Bearer {add_user(data, 'ed', 'editor')}", **JSON)
        viewer = running.client(authorization=f"Bearer {add_user(data, 'vi', 'viewer')}", **JSON)
        with SEED.open("rb") as source:
            answer = editor.post("/api/publications", data={"engine": "espeak"}, files={"source": source})
        assert answer.status_code == 202, answer.text
        job = answer.json()
        assert set(job) == {"job", "slug"} and job["slug"] == "putin-today"
        state = wait_job(editor, job["job"])
        assert state["state"] == "done", state
        yield Session(running, admin, editor, viewer, running.client(**JSON), job["slug"])


# --- authentication and roles ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/publications"), ("GET", "/api/publications/putin-today"), ("POST", "/api/publications"),
     ("GET", "/api/jobs/1"), ("POST", "/api/jobs/1/cancel"), ("GET", "/api/publications/putin-today/files/a.epub"),
     ("POST", "/api/publications/putin-today/lexicon"), ("POST", "/api/publications/putin-today/republish"),
     ("DELETE", "/api/publications/putin-today"), ("GET", "/api/openapi.json"), ("GET", "/site/index.html")],
)  # fmt: skip
def test_every_endpoint_answers_401_without_a_session_or_token(studio: Session, method: str, path: str) -> None:
    answer = studio.anonymous.request(method, path)
    assert answer.status_code == 401
    assert "error" in answer.json() and answer.headers["www-authenticate"].startswith("Bearer")


def test_pages_send_a_browser_to_sign_in(studio: Session) -> None:
    answer = studio.running.client(accept="text/html").get("/publications/putin-today")
    assert answer.status_code == 303 and answer.headers["location"] == "/signin?next=%2Fpublications%2Fputin-today"


def test_a_wrong_token_is_401(studio: Session) -> None:
    client = studio.running.client(authorization="Bearer pst_not-a-token", **JSON)
    assert client.get("/api/publications").status_code == 401
    assert studio.running.client(authorization="Basic YTpi", **JSON).get("/api/publications").status_code == 401


def test_roles(studio: Session) -> None:
    assert studio.viewer.get("/api/publications").status_code == 200
    assert studio.viewer.get(f"/api/publications/{studio.slug}/files/{studio.slug}.mp3").status_code == 200
    with SEED.open("rb") as source:
        assert studio.viewer.post("/api/publications", files={"source": source}).status_code == 403
    assert studio.viewer.post(f"/api/publications/{studio.slug}/republish").status_code == 403
    assert studio.viewer.post(f"/api/publications/{studio.slug}/lexicon", json={"word": "a", "pronunciation": "b"}
                              ).status_code == 403  # fmt: skip
    assert studio.viewer.delete(f"/api/publications/{studio.slug}").status_code == 403
    assert studio.editor.delete(f"/api/publications/{studio.slug}").status_code == 403  # deleting is for admins
    answer = studio.editor.post(f"/api/publications/{studio.slug}/lexicon",
                                json={"word": "Kremlin", "pronunciation": "Kremlin", "scope": "catalogue"})  # fmt: skip
    assert answer.status_code == 403 and "editor" in answer.json()["error"]
    assert studio.viewer.get("/users", headers={"accept": "text/html"}).status_code == 403


def test_csrf_is_required_of_cookie_sessions(studio: Session) -> None:
    admin = studio.admin
    for headers in ({}, {"x-csrf-token": "forged"}):
        answer = admin.post(f"/api/publications/{studio.slug}/lexicon", json={"word": "x", "pronunciation": "y"},
                            headers={**JSON, **headers})  # fmt: skip
        assert answer.status_code == 403 and "security token" in answer.json()["error"]
    token = csrf_of(admin.get("/").text)
    answer = admin.post(f"/api/publications/{studio.slug}/lexicon", json={"word": "Xyz", "pronunciation": "ex why zed"},
                        headers={**JSON, "x-csrf-token": token})  # fmt: skip
    assert answer.status_code == 200 and answer.json()["lexicon"]["Xyz"] == "ex why zed"
    # a form posted from another site has the cookie but not the token
    assert admin.post("/signout", data={}).status_code == 403
    # the sign-in form has its own token too
    assert (
        studio.running.client(**JSON).post("/signin", data={"name": "admin", "password": PASSWORD}).status_code == 403
    )


def test_session_cookie_is_httponly_samesite_and_expires(studio: Session) -> None:
    client = studio.running.client(accept="text/html")
    form = client.get("/signin")
    answer = client.post("/signin", data={"csrf": csrf_of(form.text), "name": "admin", "password": PASSWORD})
    cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith("studio_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    # signing out ends the session on the server, not only in the browser
    stolen = dict(client.cookies)
    client.post("/signout", data={"csrf": csrf_of(client.get("/").text)})
    replay = studio.running.client(**JSON)
    replay.cookies.update(stolen)
    assert replay.get("/api/publications").status_code == 401


def test_sign_in_is_rate_limited(studio: Session) -> None:
    subprocess.run([str(PUBLISHER), "user", "add", "target", "--role", "viewer", "--data", str(studio.running.data)],
                   input=PASSWORD + "\n", text=True, check=True, capture_output=True)  # fmt: skip
    client = studio.running.client(accept="text/html")
    for _ in range(5):
        token = csrf_of(client.get("/signin").text)
        assert client.post("/signin", data={"csrf": token, "name": "target", "password": "wrong"}).status_code == 401
    token = csrf_of(client.get("/signin").text)
    answer = client.post("/signin", data={"csrf": token, "name": "target", "password": PASSWORD})
    assert answer.status_code == 429 and "too many failed sign-ins" in answer.text


def test_the_first_admin_link_works_once(studio: Session) -> None:
    link = studio.running.setup_link
    assert link is not None
    assert studio.running.client(accept="text/html").get(link).status_code == 404


def test_user_commands(tmp_path: Path) -> None:
    runner = CliRunner(mix_stderr=False)
    data = tmp_path / "data"
    added = runner.invoke(cli, ["user", "add", "alice", "--role", "editor", "--data", str(data)], input="s3cret-pass\n")
    assert added.exit_code == 0, added.stderr
    assert added.stdout == "added alice (editor)\n"
    again = runner.invoke(cli, ["user", "add", "alice", "--role", "viewer", "--data", str(data)], input="s3cret-pass\n")
    assert again.exit_code == 5 and "an account named 'alice' already exists" in again.stderr
    short = runner.invoke(cli, ["user", "add", "bob", "--role", "viewer", "--data", str(data)], input="short\n")
    assert short.exit_code == 5 and "at least 8 characters" in short.stderr
    token = runner.invoke(cli, ["user", "token", "alice", "--data", str(data)])
    assert token.exit_code == 0 and token.stdout.startswith("pst_") and len(token.stdout.strip()) > 40
    nobody = runner.invoke(cli, ["user", "token", "nobody", "--data", str(data)])
    assert nobody.exit_code == 5 and "no account named 'nobody'" in nobody.stderr
    row = sqlite3.connect(data / "studio.db").execute("SELECT password FROM users WHERE name = 'alice'").fetchone()
    assert row[0].startswith("$argon2id$")


# --- uploads -----------------------------------------------------------------------------------


def cli_error(tmp_path: Path, name: str, content: bytes, *flags: str) -> str:
    """What `publisher publish` says about a source, after "error: " (run in the source's folder)."""
    (tmp_path / name).write_bytes(content)
    proc = subprocess.run([str(PUBLISHER), "publish", name, "-o", "out", "--engine", "silent", *flags],
                          cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode != 0
    return proc.stderr.splitlines()[0].removeprefix("error: ")


@pytest.mark.parametrize(
    ("name", "content"),
    [("binary.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8), ("empty.md", b""),
     ("title-only.txt", b"Just a title\n"), ("deep.html", b"<html><body>" + b"<div>" * 3000 + b"text</body></html>"),
     ("sheet.xlsx", b"PK\x03\x04 not a source")],
)  # fmt: skip
def test_a_source_the_cli_refuses_is_refused_with_the_same_message(
    studio: Session, tmp_path: Path, name: str, content: bytes
) -> None:
    expected = cli_error(tmp_path, name, content)
    before = set((studio.running.data / "uploads").iterdir())
    answer = studio.editor.post("/api/publications", data={"engine": "silent"}, files={"source": (name, content)})
    assert answer.status_code == 422
    assert answer.json()["error"] == expected
    assert set((studio.running.data / "uploads").iterdir()) == before, "a refused upload leaves nothing behind"


def test_a_setting_the_cli_refuses_is_refused_the_same_way(studio: Session, tmp_path: Path) -> None:
    expected = cli_error(tmp_path, "fine.txt", SEED.read_bytes(), "--speed", "9", "--language", "zz")
    with SEED.open("rb") as source:
        answer = studio.editor.post("/api/publications", data={"speed": "9", "language": "zz"},
                                    files={"source": source})  # fmt: skip
    assert answer.status_code == 422
    assert answer.json()["error"].removeprefix("settings: ") == expected.removeprefix("command line: ")
    answer = studio.editor.post("/api/publications", data={"engine": "bogus"}, files={"source": ("a.txt", b"x")})
    assert answer.status_code == 422 and "unknown engine 'bogus'" in answer.json()["error"]


def test_uploads_over_the_limit_are_refused(studio: Session) -> None:
    answer = studio.editor.post("/api/publications", files={"source": ("big.txt", b"word " * 300_000)})
    assert answer.status_code == 413 and "limit of 1 MB" in answer.json()["error"]
    assert studio.editor.post("/api/publications", data={"engine": "silent"}).status_code == 422  # no source at all


def test_file_names_are_sanitised_and_uploads_kept_outside_the_served_tree(studio: Session) -> None:
    hostile = "../../etc/<Bad>|name?.txt"
    text = b"<script>alert(1)</script>\n\nIts text is fine. It has two sentences.\n"
    answer = studio.editor.post("/api/publications", data={"engine": "silent"}, files={"source": (hostile, text)})
    assert answer.status_code == 202, answer.text
    slug = answer.json()["slug"]
    assert slug == "badname"
    stored = [p for p in (studio.running.data / "uploads").rglob("*.txt") if "name" in p.name]
    assert len(stored) == 1 and stored[0].name == "Badname.txt"
    assert stored[0].resolve().is_relative_to((studio.running.data / "uploads").resolve())
    assert wait_job(studio.editor, answer.json()["job"])["state"] == "done"
    page = studio.admin.get(f"/publications/{slug}", headers={"accept": "text/html"}).text
    assert "<script>alert" not in page
    for probe in ("../studio.db", "..%2Fstudio.db", f"{slug}/.publisher.json", "%2e%2e/secret.key"):
        assert studio.viewer.get(f"/site/{probe}").status_code == 404
    assert studio.viewer.get(f"/api/publications/{slug}/files/..%2F..%2Fstudio.db").status_code == 404


def test_simultaneous_uploads_of_the_same_name_get_their_own_slugs(studio: Session) -> None:
    import concurrent.futures

    def upload(n: int) -> httpx.Response:
        text = f"Twin\n\nThis is twin number {n}. It is short.\n".encode()
        with studio.running.client(authorization=studio.editor.headers["authorization"], **JSON) as client:
            return client.post("/api/publications", data={"engine": "silent"}, files={"source": ("twin.txt", text)})

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(upload, range(3)))
    assert [a.status_code for a in answers] == [202, 202, 202]
    slugs = sorted(a.json()["slug"] for a in answers)
    assert slugs == ["twin", "twin-2", "twin-3"]
    for answer in answers:
        assert wait_job(studio.editor, answer.json()["job"])["state"] == "done"
    for slug in slugs:
        cues = studio.viewer.get(f"/api/publications/{slug}").json()["cues"]
        assert any("twin number" in c["text"] for c in cues)
    heard = {c["text"] for s in slugs for c in studio.viewer.get(f"/api/publications/{s}").json()["cues"]}
    assert {f"This is twin number {n}." for n in range(3)} <= heard


# --- a publication and its files ------------------------------------------------------------------


def test_publication_summary_lists_every_file_with_its_size(studio: Session) -> None:
    data = studio.viewer.get(f"/api/publications/{studio.slug}").json()
    folder = studio.running.data / "output" / studio.slug
    assert data["title"] == "Putin today" and data["language"] == "en" and data["published"]
    files = {f["name"]: f["size"] for f in data["files"]}
    assert f"{studio.slug}.epub" in files and f"{studio.slug}.mp3" in files and f"{studio.slug}.m4b" in files
    for name, size in files.items():
        assert (folder / name).stat().st_size == size
    assert data["sentences"] == len(data["cues"]) and data["jobs"][-1]["kind"] == "publish"
    listed = studio.viewer.get("/api/publications", params={"q": "putin"}).json()["publications"]
    assert [p["slug"] for p in listed] == [studio.slug] and listed[0]["state"] == "published"
    assert studio.viewer.get("/api/publications", params={"language": "fr"}).json()["publications"] == []


def test_files_are_served_whole_and_in_ranges(studio: Session) -> None:
    folder = studio.running.data / "output" / studio.slug
    epub = studio.viewer.get(f"/api/publications/{studio.slug}/files/{studio.slug}.epub")
    assert epub.status_code == 200 and epub.headers["content-type"] == "application/epub+zip"
    assert epub.content == (folder / f"{studio.slug}.epub").read_bytes()
    part = studio.viewer.get(
        f"/api/publications/{studio.slug}/files/{studio.slug}.mp3", headers={"range": "bytes=100-199"}
    )
    assert part.status_code == 206 and part.content == (folder / f"{studio.slug}.mp3").read_bytes()[100:200]
    chapter = next(f["name"] for f in studio.viewer.get(f"/api/publications/{studio.slug}").json()["files"]
                   if f["name"].startswith("audio/"))  # fmt: skip
    assert studio.viewer.get(f"/api/publications/{studio.slug}/files/{chapter}").status_code == 200
    assert studio.viewer.get(f"/api/publications/{studio.slug}/files/.publisher.json").status_code == 404
    assert studio.viewer.get("/api/publications/nope/files/x.epub").status_code == 404
    feed = studio.viewer.get("/site/feed.xml")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/rss+xml")
    assert f"{studio.running.url}/site/{studio.slug}/{studio.slug}.mp3".encode() in feed.content


def test_lexicon_entries_are_checked(studio: Session) -> None:
    for word, pronunciation in (("a:b", "x"), ("ok", ""), ("line\nbreak", "x"), ("ok", "# comment"),
                                ("ok", "[[ unclosed")):  # fmt: skip
        answer = studio.editor.post(f"/api/publications/{studio.slug}/lexicon",
                                    json={"word": word, "pronunciation": pronunciation})  # fmt: skip
        assert answer.status_code == 422, (word, pronunciation)
        assert answer.json()["error"].startswith("lexicon entry")
    assert studio.editor.post("/api/publications/nope/lexicon", json={"word": "a", "pronunciation": "b"}
                              ).status_code == 404  # fmt: skip


def test_hear_a_sentence_with_a_fix(studio: Session) -> None:
    cue = next(c for c in studio.viewer.get(f"/api/publications/{studio.slug}").json()["cues"] if "Putin" in c["text"])
    plain = studio.editor.post(f"/api/publications/{studio.slug}/hear", json={"sentence": cue["id"]})
    fixed = studio.editor.post(f"/api/publications/{studio.slug}/hear",
                               json={"sentence": cue["id"], "word": "Putin",
                                     "pronunciation": "Pootin Vladimirovich"})  # fmt: skip
    assert plain.status_code == fixed.status_code == 200 and plain.headers["content-type"] == "audio/wav"
    assert plain.content[:4] == fixed.content[:4] == b"RIFF"
    assert len(fixed.content) > len(plain.content) + 8000, "the fix's longer reading is what is heard"
    sample = studio.editor.post("/api/speak", data={"engine": "espeak", "sample": "Hello there."})
    assert sample.status_code == 200 and sample.content[:4] == b"RIFF"
    assert studio.viewer.post("/api/speak", data={"engine": "espeak"}).status_code == 403


def test_a_check_job_stores_the_reports(studio: Session) -> None:
    small = {"engine": "silent", "read_aloud": "off", "daisy": "off", "audiobooks": "off", "check": "on"}
    text = b"---\ntitle: Small\nauthor: Ann Writer\n---\n\nOne sentence here. Another one there.\n"
    answer = studio.editor.post("/api/publications", data=small, files={"source": ("small.md", text)})
    slug = answer.json()["slug"]
    assert wait_job(studio.editor, answer.json()["job"])["state"] == "done"  # published, then checked
    check = studio.viewer.get(f"/api/publications/{slug}").json()["check"]
    names = {r["check"] for r in check["reports"]}
    assert {"EPUBCheck", "MP3 tags"} <= names and check["failed"] == 0 and check["passed"] == len(check["reports"])
    assert "DAISY 2.02" not in names  # not made, so not checked
    again = studio.editor.post(f"/api/publications/{slug}/check")  # the page's button queues a check of its own
    assert again.status_code == 202
    job = studio.editor.get(f"/api/jobs/{again.json()['job']}").json()
    assert job["kind"] == "check" and job["slug"] == slug
    studio.editor.post(f"/api/jobs/{job['id']}/cancel")
    page = studio.admin.get(f"/publications/{slug}", headers={"accept": "text/html"}).text
    assert f"{check['passed']} passed, 0 failed" in page


def test_openapi_describes_the_api(studio: Session) -> None:
    schema = studio.viewer.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/publications", "/api/publications/{slug}", "/api/jobs/{job}", "/api/jobs/{job}/cancel",
            "/api/publications/{slug}/files/{name}", "/api/publications/{slug}/lexicon",
            "/api/publications/{slug}/republish"} <= set(schema["paths"])  # fmt: skip
    assert "202" in {str(k) for k in schema["paths"]["/api/publications"]["post"]["responses"]}


# --- jobs -----------------------------------------------------------------------------------------


def long_source(sentences: int) -> bytes:
    lines = [
        f"Sentence number {n} of this long text is here to keep a worker busy for a while." for n in range(sentences)
    ]
    return ("A Long Text\n\n" + "\n\n".join(" ".join(lines[i : i + 5]) for i in range(0, sentences, 5))).encode()


def test_cancel_a_queued_and_a_running_job(studio: Session) -> None:
    first = studio.editor.post("/api/publications", data={"engine": "piper"},
                               files={"source": ("long.txt", long_source(200))}).json()  # fmt: skip
    second = studio.editor.post("/api/publications", data={"engine": "silent"},
                                files={"source": ("queued.txt", long_source(5))}).json()  # fmt: skip
    cancelled = studio.editor.post(f"/api/jobs/{second['job']}/cancel").json()
    assert cancelled["state"] == "cancelled"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = studio.editor.get(f"/api/jobs/{first['job']}").json()
        if state["stage"] == "synthesize" and state["done"] > 0:
            break
        time.sleep(0.1)
    assert state["stage"] == "synthesize" and 0 < state["done"] < state["total"], state
    assert studio.viewer.post(f"/api/jobs/{first['job']}/cancel").status_code == 403
    asked = time.monotonic()
    assert studio.editor.post(f"/api/jobs/{first['job']}/cancel").json()["cancel_requested"]
    final = wait_job(studio.editor, first["job"], timeout=60)
    assert final["state"] == "cancelled" and time.monotonic() - asked < 30
    assert api.publication(studio.running.data / "output", first["slug"]) is None, "nothing half-made is kept"
    assert studio.editor.post(f"/api/jobs/{first['job']}/cancel").status_code == 409


def test_a_failed_job_shows_the_one_line_error_and_the_studio_stays_up(studio: Session) -> None:
    answer = studio.editor.post("/api/publications", data={"engine": "piper", "voice": "missing-voice.onnx"},
                                files={"source": ("voice.txt", long_source(5))})  # fmt: skip
    assert answer.status_code == 202
    final = wait_job(studio.editor, answer.json()["job"])
    assert final["state"] == "failed"
    assert "missing-voice.onnx" in final["error"] and "\n" not in final["error"]
    assert str(studio.running.data) not in final["error"], "the error names the upload, not where it is kept"
    assert studio.viewer.get("/api/publications").status_code == 200


def test_delete(studio: Session) -> None:
    answer = studio.editor.post("/api/publications", data={"engine": "silent"},
                                files={"source": ("doomed.txt", long_source(5))})  # fmt: skip
    slug = answer.json()["slug"]
    assert wait_job(studio.editor, answer.json()["job"])["state"] == "done"
    output = studio.running.data / "output"
    assert (output / slug).is_dir() and slug in (output / "feed.xml").read_text(encoding="utf-8")
    token = csrf_of(studio.admin.get("/").text)
    deleted = studio.admin.delete(f"/api/publications/{slug}", headers={**JSON, "x-csrf-token": token})
    assert deleted.status_code == 200 and deleted.json() == {"deleted": slug}
    assert not (output / slug).exists()
    assert slug not in (output / "feed.xml").read_text(encoding="utf-8")
    assert slug not in {e.slug for e in api.catalogue(output)}
    assert studio.viewer.get(f"/api/publications/{slug}").status_code == 404
    assert studio.admin.delete(f"/api/publications/{slug}", headers={**JSON, "x-csrf-token": token}).status_code == 404


def test_a_job_killed_with_the_studio_runs_again_at_the_next_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    running = start(data)
    try:
        create_admin(running)
        token = add_user(data, "ed", "editor")
        client = running.client(authorization=f"Bearer {token}", **JSON)
        first = client.post("/api/publications", data={"engine": "piper"},
                            files={"source": ("long.txt", long_source(15))}).json()  # fmt: skip
        second = client.post("/api/publications", data={"engine": "espeak"},
                             files={"source": ("next.txt", long_source(10))}).json()  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = client.get(f"/api/jobs/{first['job']}").json()
            if state["stage"] == "synthesize" and state["done"] >= 2:
                break
            time.sleep(0.05)
        assert state["state"] == "running" and state["done"] < state["total"], state
    finally:
        running.kill()  # the studio and its workers, at once
    rows = dict(sqlite3.connect(data / "studio.db").execute("SELECT id, state FROM jobs").fetchall())
    assert rows == {first["job"]: "running", second["job"]: "queued"}
    running = start(data)
    try:
        assert running.setup_link is None, "an admin exists: no set-up link"
        client = running.client(authorization=f"Bearer {token}", **JSON)
        again = wait_job(client, first["job"])
        assert again["state"] == "done" and again["attempts"] == 2
        assert again["result"]["synthesized"] < again["result"]["sentences"], (
            "the clips made before the kill were reused"
        )
        assert wait_job(client, second["job"])["state"] == "done"
    finally:
        stop(running)


def test_the_database_is_migrated_and_a_newer_one_refused(tmp_path: Path) -> None:
    from publisher.studio.db import SCHEMA, migrate

    path = tmp_path / "studio.db"
    assert migrate(path) == 0
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA
    assert migrate(path) == SCHEMA  # nothing to do the second time
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA + 1}")
    connection.close()
    with pytest.raises(api.ConfigError, match="newer than this publisher's"):
        migrate(path)


def test_studio_without_its_extra_says_how_to_install_it(tmp_path: Path) -> None:
    hide = ("import sys; sys.modules['uvicorn'] = None; from publisher.cli import main; "
            "sys.argv[1:] = ['studio', '--data', 'd']; main()")  # fmt: skip
    proc = subprocess.run([str(PUBLISHER.parent / "python"), "-c", hide], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 3
    assert (
        proc.stderr.strip() == "error: the studio needs its extra: pip install 'publisher[studio]' "
        "(make test installs it) (uvicorn is missing)"
    )


def test_recording_files_are_kept_with_the_publication(studio: Session) -> None:
    from publisher.studio.publications import recordings_supported

    recording = [("narration", ("../part 1.mp3", b"ID3 not really audio")), ("narration", ("part2.mp3", b"ID3 more"))]
    answer = studio.editor.post("/api/publications", data={"engine": "silent"},
                                files=[("source", ("recorded.txt", long_source(3))), *recording])  # fmt: skip
    assert answer.status_code == 202, answer.text
    slug = answer.json()["slug"]
    final = wait_job(studio.editor, answer.json()["job"])
    data = studio.viewer.get(f"/api/publications/{slug}").json()
    assert data["narration"] == ["part 1.mp3", "part2.mp3"]
    kept = sorted((studio.running.data / "uploads").glob("*/narration/*.mp3"))
    assert [p.name for p in kept] == ["part 1.mp3", "part2.mp3"]
    assert kept[0].read_bytes() == b"ID3 not really audio"
    if recordings_supported():  # the recording is what is published: these bytes are no recording
        assert final["state"] == "failed" and str(studio.running.data) not in final["error"]
    else:  # kept until this publisher reads recordings; narrated by the voice meanwhile
        assert final["state"] == "done"


def test_a_proof_job_flags_a_word_said_wrong_and_the_page_plays_it(studio: Session) -> None:
    text = b"Proof\n\nThe talks were held in Moscow last week. The dog ran in the park all day.\n"
    form = {"engine": "espeak", "daisy": "off", "audiobooks": "off"}
    answer = studio.editor.post("/api/publications", data=form, files={"source": ("proof.txt", text)})
    slug = answer.json()["slug"]
    assert wait_job(studio.editor, answer.json()["job"])["state"] == "done"
    entry = {"word": "Moscow", "pronunciation": "Boston"}  # a wrong entry: the narration now says another city
    assert studio.editor.post(f"/api/publications/{slug}/lexicon", json=entry).status_code == 200
    again = studio.editor.post(f"/api/publications/{slug}/republish").json()
    assert wait_job(studio.editor, again["job"])["result"]["synthesized"] == 1
    job = studio.editor.post(f"/api/publications/{slug}/proof").json()
    final = wait_job(studio.editor, job["job"], timeout=400)
    assert final["state"] == "done", final
    proof = studio.viewer.get(f"/api/publications/{slug}").json()["proof"]
    assert proof["current"] and proof["metric"] == "wer" and proof["sentences"] >= 2
    flagged = [f for f in proof["flagged"] if "Moscow" in f["text"]]
    assert flagged, proof["flagged"]
    page = studio.admin.get(f"/publications/{slug}", headers={"accept": "text/html"}).text
    assert f"WER {proof['score']:.3f}" in page
    start, end = flagged[0]["start"], flagged[0]["end"]
    assert f'data-start="{start}" data-end="{end}"' in page  # playable from its cue
    report = studio.viewer.get(f"/api/publications/{slug}/files/proof.html")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")


def test_the_uploaded_cover_is_the_published_cover(studio: Session, tmp_path: Path) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (300, 450), (180, 40, 90)).save(buffer, "PNG")
    png = buffer.getvalue()
    text = b"Covered\n\nA short book with a cover of its own. It has two sentences.\n"
    form = {"engine": "silent", "daisy": "off", "audiobooks": "off"}
    files = [("source", ("covered.txt", text)), ("cover", ("my cover.png", png))]
    answer = studio.editor.post("/api/publications", data=form, files=files)
    assert answer.status_code == 202, answer.text
    slug = answer.json()["slug"]
    assert wait_job(studio.editor, answer.json()["job"])["state"] == "done"
    assert studio.viewer.get(f"/api/publications/{slug}").json()["cover_upload"] == "my cover.png"
    (tmp_path / "book.epub").write_bytes(studio.viewer.get(f"/api/publications/{slug}/files/{slug}.epub").content)
    epub = Epub(tmp_path / "book.epub")
    (cover,) = [i for i in epub.manifest().values() if "cover-image" in (i.get("properties") or "")]
    assert cover.get("media-type") == "image/png"
    assert epub.zip.read(epub.base + cover.get("href")) == png  # the uploaded image, byte for byte
    # a file that cannot be a cover is refused at once, with the message `publish --cover` gives
    (tmp_path / "notes.png").write_bytes(b"these are notes, not an image")
    expected = cli_error(tmp_path, "covered.txt", text, "--cover", "notes.png")
    before = set((studio.running.data / "uploads").iterdir())
    files = [("source", ("covered.txt", text)), ("cover", ("notes.png", b"these are notes, not an image"))]
    answer = studio.editor.post("/api/publications", data=form, files=files)
    assert answer.status_code == 422 and answer.json()["error"] == expected, (answer.text, expected)
    assert set((studio.running.data / "uploads").iterdir()) == before


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A reading of test_recorded's Lighthouse (a preamble not in the text, then one file per chapter,
    both named part.mp3 as if from two folders), and a reading of another text."""
    from tests.recordings import speak
    from tests.test_recorded import READ

    folder = tmp_path_factory.mktemp("recording")
    made: dict[str, Path] = {}
    for n, parts in enumerate(READ, 1):
        (folder / str(n)).mkdir()
        made[f"part{n}"] = speak(parts, folder / str(n) / "part.mp3").path
    other = [("Whereas recognition of the inherent dignity of all members of the human family.", 0.5),
             ("Everyone has the right to life, liberty and security of person.", 0.5),
             ("No one shall be held in slavery or servitude, in any of its forms.", 0.5),
             ("All are equal before the law and are entitled to equal protection.", 0.5)]  # fmt: skip
    made["other"] = speak(other, folder / "other.mp3").path
    return made


def test_a_recording_is_published_and_its_alignment_shown(studio: Session, recording: dict[str, Path]) -> None:
    from tests.test_recorded import SOURCE

    files = [("source", ("lighthouse.md", SOURCE.encode())),
             ("narration", ("take one/part.mp3", recording["part1"].read_bytes())),
             ("narration", ("take two/part.mp3", recording["part2"].read_bytes()))]  # fmt: skip
    form = {"narrator": "Ann Reader", "daisy": "off", "audiobooks": "off"}
    answer = studio.editor.post("/api/publications", data=form, files=files)
    assert answer.status_code == 202, answer.text
    slug = answer.json()["slug"]
    final = wait_job(studio.editor, answer.json()["job"], timeout=400)
    assert final["state"] == "done", final
    assert final["result"]["synthesized"] == 0  # nothing narrated by a voice: the recording is the narration
    data = studio.viewer.get(f"/api/publications/{slug}").json()
    assert data["narration"] == ["part.mp3", "part-2.mp3"] and data["narrator"] == "Ann Reader"
    alignment = data["alignment"]
    assert alignment["files"] == ["part.mp3", "part-2.mp3"]  # the two files, in the order sent
    assert alignment["aligned"] >= alignment["sentences"] - 1 and alignment["coverage"] >= 0.9, alignment
    assert alignment["not_heard_count"] == alignment["sentences"] - alignment["aligned"]
    assert alignment["not_in_text_count"] >= 1  # the preamble
    assert alignment["not_in_text"][0]["file"] == "part.mp3" and alignment["not_in_text"][0]["at"] < 2
    page = studio.admin.get(f"/publications/{slug}", headers={"accept": "text/html"}).text
    assert f"Coverage {100 * alignment['coverage']:.1f} %" in page
    assert f"{alignment['aligned']} of {alignment['sentences']} sentences found" in page
    assert 'id="not-in-text"' in page and "part.mp3 at 0:0" in page
    for missing in alignment["not_heard"]:
        assert f'data-start="{missing["start"]}" data-end="{missing["end"]}"' in page  # playable near its place
    assert 'class="fix"' not in page and "/lexicon" not in page  # a person's reading: no lexicon fixes
    hear = studio.editor.post(f"/api/publications/{slug}/hear", json={"sentence": data["cues"][3]["id"]})
    assert hear.status_code == 409 and "read from a recording" in hear.json()["error"]
    report = studio.viewer.get(f"/api/publications/{slug}/files/alignment.html")
    assert report.status_code == 200 and "alignment.html" in page
    epub = studio.viewer.get(f"/api/publications/{slug}/files/{slug}-read-aloud.epub")
    assert epub.status_code == 200


def test_a_recording_of_another_text_fails_its_job_with_one_line(studio: Session, recording: dict[str, Path]) -> None:
    from tests.test_recorded import SOURCE

    files = [
        ("source", ("lighthouse.md", SOURCE.encode())),
        ("narration", ("other.mp3", recording["other"].read_bytes())),
    ]
    answer = studio.editor.post("/api/publications", data={"daisy": "off", "audiobooks": "off"}, files=files)
    assert answer.status_code == 202, answer.text
    final = wait_job(studio.editor, answer.json()["job"], timeout=400)
    assert final["state"] == "failed", final
    error = final["error"]
    assert "\n" not in error and error.startswith("lighthouse.md: other.mp3 does not match lighthouse.md"), error
    assert "% of its sentences" in error and str(studio.running.data) not in error
    page = studio.admin.get(f"/jobs/{final['id']}", headers={"accept": "text/html"}).text
    assert html.escape(error, quote=False) in page
    assert studio.viewer.get("/api/jobs/1").status_code == 200  # the studio stays up


def test_the_fixed_sentence_is_proof_listened_again(studio: Session) -> None:
    text = b"Verdict\n\nThe talks were held in Moscow last week. The dog ran in the park all day.\n"
    answer = studio.editor.post("/api/publications", data={"engine": "espeak", "daisy": "off", "audiobooks": "off"},
                                files={"source": ("verdict.txt", text)})  # fmt: skip
    slug = answer.json()["slug"]
    assert wait_job(studio.editor, answer.json()["job"])["state"] == "done"
    cue = next(c for c in studio.viewer.get(f"/api/publications/{slug}").json()["cues"] if "dog" in c["text"])
    url = f"/api/publications/{slug}/verdict"
    plain = studio.editor.post(url, json={"sentence": cue["id"]})
    assert plain.status_code == 200, plain.text
    verdict = plain.json()
    assert verdict["sentence"] == cue["id"] and verdict["text"] == cue["text"] and verdict["fix"] == {}
    assert not verdict["flagged"] and "dog" in verdict["heard"].lower(), verdict
    assert [w["word"] for w in verdict["words"]][:3] == ["The", "dog", "ran"]
    wrong = studio.editor.post(url, json={"sentence": cue["id"], "word": "dog", "pronunciation": "cat"}).json()
    assert wrong["flagged"] and wrong["fix"] == {"dog": "cat"}, wrong  # a "fix" that says another animal
    assert "cat" in wrong["heard"].lower() and wrong["confidence"] > verdict["confidence"]
    assert "“dog” heard as “cat”" in wrong["reason"]
    assert studio.viewer.post(url, json={"sentence": cue["id"]}).status_code == 403
    assert studio.editor.post(url, json={"sentence": "nope"}).status_code == 422
    # without JavaScript the form's "Proof-listen to it" button shows the verdict in the editor
    editor_page = studio.admin.get(f"/publications/{slug}/lexicon", headers={"accept": "text/html"}).text
    form = {"csrf": csrf_of(editor_page), "sentence": cue["id"], "word": "dog", "pronunciation": "cat"}
    shown = studio.admin.post(url, data=form, headers={"accept": "text/html"})
    assert shown.status_code == 200 and "Still flagged" in shown.text and "dog: cat" in shown.text


def test_a_studio_job_runs_on_a_dask_cluster(tmp_path: Path) -> None:
    """`publisher studio --cluster ADDRESS`: a real `dask scheduler` and `dask worker` (as
    tests/test_cluster.py starts them) make the clips and render; with the scheduler gone a job
    fails with the CLI's one line naming it, and the studio stays up."""
    from tests.test_cluster import DaskCluster

    dask = DaskCluster(tmp_path)
    try:
        dask.add_worker()
        with studio_process(tmp_path / "data", "--cluster", dask.address) as running:
            editor = running.client(authorization=f"Bearer {add_user(running.data, 'ed', 'editor')}", **JSON)
            form = {"engine": "espeak", "daisy": "off", "audiobooks": "off"}
            answer = editor.post("/api/publications", data=form, files={"source": ("dask.txt", long_source(4))})
            final = wait_job(editor, answer.json()["job"])
            assert final["state"] == "done", final
            assert final["result"]["synthesized"] == final["result"]["sentences"] > 4
            with dask.client() as client:  # type: ignore[attr-defined]
                ran = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
            slug = answer.json()["slug"]
            assert ran == ["clips", f"render-{slug}"], ran  # the clips and the render were the cluster's tasks
            data = editor.get(f"/api/publications/{slug}").json()
            assert data["sentences"] == final["result"]["sentences"] and data["duration"] > 1
            dask.close()
            answer = editor.post("/api/publications", data=form, files={"source": ("gone.txt", long_source(2))})
            final = wait_job(editor, answer.json()["job"])
            assert final["state"] == "failed", final
            assert final["error"].startswith(f"cannot reach the Dask scheduler at {dask.address}"), final["error"]
            assert "\n" not in final["error"] and editor.get("/api/publications").status_code == 200
    finally:
        dask.close()
