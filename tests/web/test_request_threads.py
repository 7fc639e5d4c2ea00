"""The synchronous endpoints run on a bounded number of threads per process (8 unless
WIJKMONITOR_THREADS says otherwise), set when the app starts."""

from __future__ import annotations

import anyio
import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from wijkmonitor.web import app as webapp


def _tokens_after(n=None):
    async def main():
        webapp.limit_request_threads(n)
        return anyio.to_thread.current_default_thread_limiter().total_tokens
    return anyio.run(main)


def test_default_is_eight_threads(monkeypatch):
    monkeypatch.delenv("WIJKMONITOR_THREADS", raising=False)
    assert webapp.request_threads() == 8
    assert _tokens_after() == 8


@pytest.mark.parametrize("raw, n", [("1", 1), ("256", 256), (" 12 ", 12)])
def test_the_setting_within_bounds(monkeypatch, raw, n):
    monkeypatch.setenv("WIJKMONITOR_THREADS", raw)
    assert webapp.request_threads() == n
    assert _tokens_after() == n


@pytest.mark.parametrize("raw", ["0", "257", "-3", "acht", "1.5"])
def test_a_setting_out_of_bounds_stops_with_a_dutch_message(monkeypatch, raw):
    monkeypatch.setenv("WIJKMONITOR_THREADS", raw)
    with pytest.raises(SystemExit, match="WIJKMONITOR_THREADS.*geheel getal van 1 tot en met 256"):
        webapp.request_threads()


def test_the_app_sets_it_when_it_starts(monkeypatch, tmp_path):
    monkeypatch.setenv("WIJKMONITOR_THREADS", "3")
    monkeypatch.setenv("WIJKMONITOR_STORE", str(tmp_path / "none.duckdb"))
    app = webapp.create_app()

    @app.get("/_test/threads")
    def threads():  # runs on a request thread of the app's event loop
        return {"tokens": anyio.from_thread.run_sync(
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)}

    with TestClient(app) as client:
        assert client.get("/_test/threads").json() == {"tokens": 3}
