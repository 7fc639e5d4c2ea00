"""Fixtures for the website tests: a TestClient on the real built store, and a real uvicorn
server on 127.0.0.1 (free port) for the browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


@pytest.fixture(scope="session")
def client(real_store):
    from fastapi.testclient import TestClient

    from wijkmonitor.web.app import create_app

    with TestClient(create_app(real_store)) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(real_store, log: Path, *args: str, wait_s: float = 60, with_process: bool = False,
           **env_extra):
    """Start ``wijkmonitor serve [ARGS]`` on a free loopback port; yields the base URL (and the
    process, ``with_process``) once ``/over`` answers, and stops the server afterwards."""
    port = _free_port()
    env = dict(os.environ, WIJKMONITOR_STORE=str(real_store), **env_extra)
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "wijkmonitor", "serve", "--host", "127.0.0.1",
                                 "--port", str(port), "--store", str(real_store), *args],
                                stdout=fh, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(int(wait_s / 0.2)):
            try:
                if httpx.get(base + "/over", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"server stopped: {Path(log).read_text()}")
            time.sleep(0.2)
        else:
            pytest.fail(f"server did not start: {Path(log).read_text()}")
        yield (base, proc) if with_process else base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def server(real_store, tmp_path_factory):
    """``http://127.0.0.1:<port>``: ``wijkmonitor serve`` as a subprocess on the real store."""
    yield from _serve(real_store, tmp_path_factory.mktemp("server") / "uvicorn.log")


@pytest.fixture(scope="module")
def themed_server(real_store, tmp_path_factory):
    """The same server with a gemeente's house style (``WIJKMONITOR_THEME_CSS``/``_CLASS``)."""
    d = tmp_path_factory.mktemp("themed")
    css = d / "huisstijl.css"
    css.write_text(".gemeente-theme { --wm-brand: #8a0021; --wm-bg-soft: #fbf3f4; }\n", encoding="utf-8")
    yield from _serve(real_store, d / "uvicorn.log", WIJKMONITOR_THEME_CSS=str(css),
                      WIJKMONITOR_THEME_CLASS="gemeente-theme")
