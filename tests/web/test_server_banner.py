"""Issue 18.8 'no server banner' on the real server: the TestClient never adds a ``server``
header, so the header test of every page type cannot see uvicorn's banner. Here
``wijkmonitor serve`` itself answers (one worker); the two-worker server (gunicorn's forked
uvicorn workers) is checked live in ``test_serve_workers.py``."""

from __future__ import annotations

import httpx


def test_real_server_sends_no_banner_on_any_answer(server):
    for path, status in (("/over", 200), ("/gebied/XX0000", 404), ("/api/v1/regions?limit=0", 422),
                         ("/beheer", 308)):
        r = httpx.get(server + path, timeout=60, follow_redirects=False)
        assert r.status_code == status, (path, r.status_code)
        assert "server" not in r.headers, (path, r.headers.get("server"))
        assert r.headers["x-content-type-options"] == "nosniff"

