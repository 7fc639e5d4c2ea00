"""``wijkmonitor serve --workers 2``: gunicorn forks two workers from a master that warmed the
caches once (web/server.py). The workers answer pages, the API and the beheer forms; the master
keeps no DuckDB connection or editable-store connection across the fork."""

from __future__ import annotations

from pathlib import Path

import httpx

from wijkmonitor.local import db
from wijkmonitor.web import server
from wijkmonitor.web.app import create_app

from .conftest import _serve


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
    serving = _serve(real_store, tmp_path / "serve.log", "--workers", "2", wait_s=180, with_process=True,
                     WIJKMONITOR_DATABASE_URL=f"sqlite:///{tmp_path / 'edit.sqlite'}")
    base, proc = next(serving)
    try:
        assert len(_children(proc.pid)) == 2
        for path in ["/gebied/utrecht-overvecht", "/api/v1/value/GM0344/inwoners/2024",
                     "/beheer/inloggen", "/zoeken?q=Overvecht"] * 3:
            r = httpx.get(base + path, timeout=60)
            assert r.status_code == 200, (path, r.status_code)
            assert "server" not in {k.lower() for k in r.headers}
        r = httpx.get(base + "/api/v1/value/GM0344/inwoners/2024", timeout=60).json()
        assert r["unit"] == "GM0344" and r["value"] > 300_000
    finally:
        serving.close()  # terminates the server
    assert proc.returncode == 0
