"""Killing the process in the middle of an upload leaves no partial rows (one transaction):
a script calling the service, and the real web server (``uvicorn`` serving ``create_app``)
killed while it writes an upload posted through the /beheer form."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import httpx
import pandas as pd

from wijkmonitor.local import accounts, uploads
from wijkmonitor.local.models import AuditEntry, LocalUpload, LocalValue
from wijkmonitor.local.resolvers import default_codes_provider

SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from sqlalchemy import event
    from wijkmonitor.local import accounts, db, uploads

    url, csv_path, marker = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    engine = db.get_engine(url)
    chunks = []

    @event.listens_for(engine, "after_cursor_execute")
    def pause(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO LOCAL_VALUES"):
            chunks.append(1)
            if len(chunks) == 2:       # two chunks are in the database, uncommitted
                marker.write_text("inserting")
                time.sleep(120)        # the test kills us here

    with db.session_scope(url) as s:
        uploads.upload(s, accounts.get_user(s, "utrecht"), Path(csv_path), None, "GM0344",
                       source="kill test")
    print("committed")
""")


def _big_upload(tmp_path) -> tuple:
    codes = sorted(default_codes_provider("GM0344"))
    frame = pd.DataFrame([(c, "inwoners", y, 100 + i) for i, c in enumerate(codes)
                          for y in range(1950, 2000)],
                         columns=["region", "indicator", "year", "value"])
    path = tmp_path / "groot.csv"
    frame.to_csv(path, index=False, sep=";")
    return path, len(frame)


def test_sigkill_during_upload_leaves_nothing(db_url, Session, users, rows, tmp_path):
    path, n = _big_upload(tmp_path)
    assert n > 3 * uploads.INSERT_CHUNK
    script, marker = tmp_path / "upload.py", tmp_path / "marker"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), db_url, str(path), str(marker)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "upload never reached the insert"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert b"committed" not in proc.stdout.read()
    assert rows(LocalValue) == 0 and rows(LocalUpload) == 0
    assert rows(AuditEntry) == 5  # only the user accounts of the fixture

    # the database is intact: the same file uploads fine afterwards
    with Session.begin() as s:
        uploads.upload(s, accounts.get_user(s, "utrecht"), path, None, "GM0344",
                       source="tweede poging")
    assert rows(LocalValue) == n and rows(LocalUpload) == 1


SERVER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import uvicorn
    from sqlalchemy import event
    from wijkmonitor.local import db
    from wijkmonitor.web.app import create_app

    url, store, port, marker = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if marker:                         # pause inside the upload's transaction
        chunks = []

        @event.listens_for(db.get_engine(url), "after_cursor_execute")
        def pause(conn, cursor, statement, params, context, executemany):
            if statement.lstrip().upper().startswith("INSERT INTO LOCAL_VALUES"):
                chunks.append(1)
                if len(chunks) == 2:   # two chunks are in the database, uncommitted
                    Path(marker).write_text("inserting")
                    time.sleep(300)    # the test kills the server here

    uvicorn.run(create_app(store, database_url=url), host="127.0.0.1", port=port,
                log_level="warning")
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(tmp_path, db_url, store, marker: str) -> tuple[subprocess.Popen, str]:
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    port = _free_port()
    env = dict(os.environ, WIJKMONITOR_SECRET_KEY="kill-test-" + "s" * 40)
    log = open(tmp_path / f"server-{port}.log", "wb")
    proc = subprocess.Popen([sys.executable, str(script), db_url, str(store), str(port), marker],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, (tmp_path / f"server-{port}.log").read_text()
        assert time.monotonic() < deadline, "server did not start"
        try:
            if httpx.get(base + "/beheer/inloggen", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


def _login(base: str) -> tuple[httpx.Client, str]:
    c = httpx.Client(base_url=base, timeout=httpx.Timeout(10, read=600))
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/beheer/inloggen").text)[1]
    r = c.post("/beheer/inloggen", data={"gebruikersnaam": "utrecht",
                                         "wachtwoord": "correct horse battery",
                                         "csrf_token": token})
    assert r.status_code == 303, r.text
    return c, c.get("/api/v1/session").json()["csrf_token"]


def _post_upload(c: httpx.Client, token: str, path) -> httpx.Response:
    with open(path, "rb") as fh:
        return c.post("/beheer/lokale-gegevens",
                      data={"csrf_token": token, "gemeente": "GM0344", "bron": "kill test"},
                      files={"bestand": (path.name, fh, "text/csv")})


def test_sigkill_of_the_web_server_during_an_upload_leaves_nothing(db_url, users, rows,
                                                                   tmp_path, real_store):
    path, n = _big_upload(tmp_path)
    assert n > 3 * uploads.INSERT_CHUNK
    marker = tmp_path / "marker"
    proc, base = _start_server(tmp_path, db_url, real_store, str(marker))
    outcome: list = []
    try:
        c, token = _login(base)

        def upload():
            try:
                outcome.append(_post_upload(c, token, path))
            except httpx.HTTPError as exc:  # the server died under the request
                outcome.append(exc)

        thread = threading.Thread(target=upload, daemon=True)
        thread.start()
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "server stopped before the insert"
            assert thread.is_alive(), f"upload finished without reaching the pause: {outcome}"
            assert time.monotonic() < deadline, "upload never reached the insert"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        thread.join(timeout=60)
        assert len(outcome) == 1 and isinstance(outcome[0], httpx.HTTPError), outcome
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rows(LocalValue) == 0 and rows(LocalUpload) == 0
    assert rows(AuditEntry) == 5  # only the user accounts of the fixture

    # a restarted server takes the same upload whole
    proc, base = _start_server(tmp_path, db_url, real_store, "")
    try:
        c, token = _login(base)
        r = _post_upload(c, token, path)
        assert r.status_code == 303, r.text[:2000]
        assert re.search(rf"Upload \d+ opgeslagen: {n} waarden\.",
                         c.get("/beheer/lokale-gegevens").text)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert rows(LocalValue) == n and rows(LocalUpload) == 1 and rows(AuditEntry) == 5 + 1
