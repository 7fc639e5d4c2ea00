"""Issue 18.8 'no server banner' on the real server: the TestClient never adds a ``server``
header, so the header test of every page type cannot see uvicorn's banner. Here
``wijkmonitor serve`` itself answers (one worker), and the arguments of the two-worker
supervisor (a fresh ``python -m uvicorn``) switch the banner off too."""

from __future__ import annotations

import httpx

from wijkmonitor.web.cli import uvicorn_args


def test_real_server_sends_no_banner_on_any_answer(server):
    for path, status in (("/over", 200), ("/gebied/XX0000", 404), ("/api/v1/regions?limit=0", 422),
                         ("/beheer", 308)):
        r = httpx.get(server + path, timeout=60, follow_redirects=False)
        assert r.status_code == status, (path, r.status_code)
        assert "server" not in r.headers, (path, r.headers.get("server"))
        assert r.headers["x-content-type-options"] == "nosniff"


def test_two_worker_supervisor_switches_the_banner_off():
    args = uvicorn_args(dict(host="127.0.0.1", port=8000, workers=2, server_header=False))
    assert "--no-server-header" in args and "--server-header" not in args
