"""The web layer's connections: one DuckDB database per store version, a cursor per thread, and
a rebuilt store (a new file moved into place) seen by every thread on its next query."""

from __future__ import annotations

import os
import shutil
import threading

import duckdb

from wijkmonitor.web.data import WebStore


def _set_meta(path, value: str) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE OR REPLACE TABLE probe (v VARCHAR)")
    con.execute("INSERT INTO probe VALUES (?)", [value])
    con.close()


def _read(ws: WebStore, out: list, i: int) -> None:
    out[i] = (ws.con().execute("SELECT v FROM probe").fetchone()[0], id(ws.con()))


def test_threads_share_one_database_and_see_a_rebuilt_store(real_store, tmp_path):
    path = tmp_path / "store.duckdb"
    shutil.copy(real_store, path)
    _set_meta(path, "eerste")
    ws = WebStore(path)
    out: list = [None] * 8
    threads = [threading.Thread(target=_read, args=(ws, out, i)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {v for v, _ in out} == {"eerste"}
    assert len({c for _, c in out}) == 8          # a connection (cursor) per thread
    assert len(ws._roots) == 1                      # ... of one database

    # a build writes a new file and moves it into place (store.writing does the same)
    new = tmp_path / "new.duckdb"
    shutil.copy(path, new)
    _set_meta(new, "tweede")
    os.replace(new, path)
    threads = [threading.Thread(target=_read, args=(ws, out, i)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {v for v, _ in out} == {"tweede"}
    assert len(ws._roots) == 2                      # the old version stays open for stragglers

    # versions beyond the kept ones are closed
    for k in range(3):
        new = tmp_path / f"v{k}.duckdb"
        shutil.copy(path, new)
        _set_meta(new, f"v{k}")
        os.replace(new, path)
        assert ws.con().execute("SELECT v FROM probe").fetchone()[0] == f"v{k}"
    assert len(ws._roots) == 3
