"""``wijkmonitor serve --workers 2``: gunicorn forks two workers from a master that warmed the
caches once (web/server.py). The workers answer pages, the API and the beheer forms; the master
keeps no DuckDB connection or editable-store connection across the fork."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from wijkmonitor.local import db
from wijkmonitor.web import server
from wijkmonitor.web.app import create_app


def test_preload_warms_the_caches_and_keeps_no_connection_open(real_store, tmp_path):
    url = f"sqlite:///{tmp_path / 'edit.sqlite'}"
    app = create_app(real_store, database_url=url)
    ws = app.state.ws
    engine = db.get_engine(url)
    with engine.connect():
        pass
    assert engine.pool.checkedin() == 1          # a pooled connection before the fork ...
    server.preload(app)
    assert engine.pool.checkedin() == 0          # ... is gone after it
    assert ws._roots == []                        # no DuckDB database open in the master
    assert ws.peek("value_index") is not None     # the warmed caches stay
    assert ws.peek("area_values") is not None
    # and the store is still readable: a new database on the next query
    assert ws.con().execute("SELECT count(*) FROM regions").fetchone()[0] > 18_000
    with engine.connect():                        # the engine still works after dispose()
        pass


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(x) for x in (task / "children").read_text().split()]
    return out


def test_two_forked_workers_answer(real_store, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, WIJKMONITOR_STORE=str(real_store),
               WIJKMONITOR_DATABASE_URL=f"sqlite:///{tmp_path / 'edit.sqlite'}")
    log = tmp_path / "serve.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "wijkmonitor", "serve", "--host", "127.0.0.1",
                                 "--port", str(port), "--workers", "2"],
                                stdout=fh, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(900):
            try:
                if httpx.get(base + "/over", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"server stopped: {log.read_text()}")
            time.sleep(0.2)
        else:
            pytest.fail(f"server did not start: {log.read_text()}")
        assert len(_children(proc.pid)) == 2
        for path in ["/gebied/utrecht-overvecht", "/api/v1/value/GM0344/inwoners/2024",
                     "/beheer/inloggen", "/zoeken?q=Overvecht"] * 3:
            r = httpx.get(base + path, timeout=60)
            assert r.status_code == 200, (path, r.status_code)
            assert "server" not in {k.lower() for k in r.headers}
        r = httpx.get(base + "/api/v1/value/GM0344/inwoners/2024", timeout=60).json()
        assert r["unit"] == "GM0344" and r["value"] > 300_000
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert proc.returncode == 0, log.read_text()
