"""Server side of the map's first view (issue 17, benchmarks/bench_map.py): indicator pages are
rendered once per query, house style and store version; /static sends text files
gzip-compressed from a per-process cache instead of compressing them again per request."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount

from wijkmonitor.web import static_files
from wijkmonitor.web.app import create_app
from wijkmonitor.web.static_files import CompressedStaticFiles

PAGE = "/indicator/eengezinswoningen_pct?niveau=buurt&gemeente=GM0363&jaar=2024"
STATIC = Path(static_files.__file__).parent / "static"


def _raw(client, url: str, **headers) -> tuple[int, dict, bytes]:
    """Status, headers and the body as sent (not decompressed)."""
    with client.stream("GET", url, headers=headers) as r:
        return r.status_code, dict(r.headers), b"".join(r.iter_raw())


def test_indicator_page_is_rendered_once_per_query(client):
    ws = client.app.state.ws
    cache = ws.lru("indicator_pages")
    page = "/indicator/eengezinswoningen_pct?niveau=wijk&gemeente=GM0153&jaar=2024"  # Enschede: no other test
    n0 = len(cache)
    a = client.get(page)
    assert a.status_code == 200 and "Eengezinswoningen" in a.text
    assert len(cache) == n0 + 1
    b = client.get(page)
    assert b.content == a.content and len(cache) == n0 + 1      # the same page, from the cache
    other = client.get(page.replace("jaar=2024", "jaar=2020"))
    assert other.status_code == 200 and other.content != a.content and len(cache) == n0 + 2
    # downloads, unknown indicators and bad parameters are answered as before, never cached
    csv = client.get(page + "&formaat=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert client.get("/indicator/bestaat_niet").status_code == 404
    assert client.get("/indicator/eengezinswoningen_pct?niveau=land").status_code == 404
    assert client.get("/indicator/eengezinswoningen_pct?jaar=99999").status_code == 422
    assert len(cache) == n0 + 2


def test_cached_indicator_page_follows_the_house_style(client, tmp_path, monkeypatch):
    plain = client.get(PAGE).text
    assert "/huisstijl.css" not in plain
    css = tmp_path / "huisstijl.css"
    css.write_text(".wm-header { background: #123456; }")
    monkeypatch.setenv("WIJKMONITOR_THEME_CSS", str(css))
    monkeypatch.setenv("WIJKMONITOR_THEME_CLASS", "gemeente-x")
    styled = client.get(PAGE).text
    assert "/huisstijl.css" in styled and "gemeente-x" in styled
    monkeypatch.delenv("WIJKMONITOR_THEME_CSS")
    monkeypatch.delenv("WIJKMONITOR_THEME_CLASS")
    assert client.get(PAGE).text == plain


def test_cached_indicator_page_follows_the_store_file(real_store, tmp_path):
    """A new store file (a build replaces it) gives a newly rendered page with the new value."""
    path = tmp_path / "store.duckdb"
    shutil.copy(real_store, path)
    with duckdb.connect(str(path), read_only=True) as con:
        code, value = con.execute(
            "SELECT region_code, value FROM indicator_values WHERE indicator = 'eengezinswoningen_pct' "
            "AND period = 2024 AND region_code LIKE 'BU0363%' AND status = 'ok' ORDER BY value DESC "
            "LIMIT 1").fetchone()
    with TestClient(create_app(path)) as c:
        before = c.get(PAGE).text
        assert f'href="/gebied/{code}"' in before and "999\u00a0%" not in before
        new = tmp_path / "new.duckdb"
        shutil.copy(path, new)
        with duckdb.connect(str(new)) as con:
            con.execute("UPDATE indicator_data SET value = 999 "
                        "WHERE rid = (SELECT rid FROM obs_regions WHERE region_code = ?) "
                        "AND iid = (SELECT iid FROM iv_indicators WHERE indicator = 'eengezinswoningen_pct') "
                        "AND period = 2024", [code])
            con.execute("CHECKPOINT")
        os.replace(new, path)
        after = c.get(PAGE).text
        assert "999\u00a0%" in after  # the changed buurt, now first in the ranking


@pytest.mark.parametrize("path", ["/static/vendor/maplibre-gl/maplibre-gl.js", "/static/kaart.js",
                                  "/static/vendor/utrecht/component-library.css"])
def test_static_text_files_are_sent_compressed(client, path):
    plain = (STATIC / path.removeprefix("/static/")).read_bytes()
    status, headers, raw = _raw(client, path, **{"accept-encoding": "gzip, deflate, br"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert "accept-encoding" in headers["vary"].lower()
    assert gzip.decompress(raw) == plain and len(raw) < len(plain) / 2
    assert headers["content-type"].startswith("text/css" if path.endswith(".css") else "text/javascript")
    # not compressed for a client that does not ask for it
    status, headers, raw = _raw(client, path, **{"accept-encoding": "identity"})
    assert status == 200 and "content-encoding" not in headers and raw == plain
    # revalidation with the ETag still answers 304
    etag = client.get(path).headers["etag"]
    assert client.get(path, headers={"if-none-match": etag, "accept-encoding": "gzip"}).status_code == 304


def _static_app(directory: Path) -> TestClient:
    app = Starlette(routes=[Mount("/static", CompressedStaticFiles(directory=str(directory)))])
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    return TestClient(app)


def test_static_files_compressed_once_per_file_version(tmp_path):
    f = tmp_path / "a.js"
    f.write_text("var a = 1;\n" * 500)
    static_files._gzipped.cache_clear()
    c = _static_app(tmp_path)
    first = _raw(c, "/static/a.js", **{"accept-encoding": "gzip"})
    second = _raw(c, "/static/a.js", **{"accept-encoding": "gzip"})
    assert first[2] == second[2] and gzip.decompress(first[2]) == f.read_bytes()
    info = static_files._gzipped.cache_info()
    assert (info.misses, info.hits) == (1, 1)          # compressed once, then from memory
    # a changed file (other size and time) is compressed anew
    f.write_text("var b = 2;\n" * 600)
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    third = _raw(c, "/static/a.js", **{"accept-encoding": "gzip"})
    assert gzip.decompress(third[2]) == f.read_bytes()
    assert static_files._gzipped.cache_info().misses == 2


def test_static_files_left_plain_where_compression_does_not_apply(tmp_path):
    (tmp_path / "klein.css").write_text("a{}")                  # below 1 KB
    (tmp_path / "beeld.png").write_bytes(b"\x89PNG" + bytes(4000))  # not a text file
    (tmp_path / "groot.js").write_text("var x = 0;\n" * 400)
    c = _static_app(tmp_path)
    for name in ("klein.css", "beeld.png"):
        status, headers, raw = _raw(c, f"/static/{name}", **{"accept-encoding": "gzip"})
        assert status == 200 and "content-encoding" not in headers
        assert raw == (tmp_path / name).read_bytes()
    # a range request gets the plain bytes it asked for
    status, headers, raw = _raw(c, "/static/groot.js", **{"accept-encoding": "gzip", "range": "bytes=0-9"})
    assert status == 206 and raw == b"var x = 0;" and "content-encoding" not in headers
    # HEAD: headers only, as StaticFiles answers it
    h = c.head("/static/groot.js", headers={"accept-encoding": "gzip"})
    assert h.status_code == 200 and h.content == b""
