"""The analytical store: one DuckDB file with observations, regions and computed tables.

Writes are all-or-nothing: a writer works on a private copy next to the store
(``<store>.tmp-<pid>``) and moves it over the store with an atomic ``os.replace`` only when
everything succeeded. A process killed half-way leaves the previous complete store untouched
(and a stale temporary file that the next writer removes). Readers open the store read-only.

Tables
------
``sources``
    One row per source table read: ``source_id, table_id, title, publisher, licence, location,
    retrieved, adapter, note, rank`` (``rank``: precedence when two sources give the same
    variable for the same region and period; lower wins).
``observations``
    Long format: ``region_code, geo_year, period, variable, value, status, source_id``.
``regions``
    ``code, year, level, name, gemeente_code, wijk_code, change_code, population``
    (``year`` is the year of the regional division).
``indicator_values``
    A view over ``indicator_data`` (ENUM columns for indicator, region, status and source ids),
    both written by :mod:`wijkmonitor.compute`; the view gives plain strings and the
    catalogue version from ``meta`` on every row.
``meta``
    ``key, value``: build time, catalogue version, data directory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import os
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from . import config

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    source_id VARCHAR PRIMARY KEY, table_id VARCHAR, title VARCHAR, publisher VARCHAR,
    licence VARCHAR, location VARCHAR, retrieved VARCHAR, adapter VARCHAR, note VARCHAR,
    rank INTEGER);
CREATE TABLE IF NOT EXISTS observations (
    region_code VARCHAR NOT NULL, geo_year INTEGER NOT NULL, period INTEGER NOT NULL,
    variable VARCHAR NOT NULL, value DOUBLE, status VARCHAR NOT NULL, source_id VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS regions (
    code VARCHAR NOT NULL, year INTEGER NOT NULL, level VARCHAR NOT NULL, name VARCHAR,
    gemeente_code VARCHAR, wijk_code VARCHAR, change_code VARCHAR, population DOUBLE,
    source_id VARCHAR, PRIMARY KEY (code, year));
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""


class StoreMissing(FileNotFoundError):
    """The store has not been built yet."""


def connect(path: Path | str | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the store. Read-only by default; raises :class:`StoreMissing` if it does not exist."""
    path = Path(path) if path else config.store_path()
    if read_only and not path.exists():
        raise StoreMissing(f"De store {path} bestaat nog niet: draai eerst 'wijkmonitor build'.")
    return duckdb.connect(str(path), read_only=read_only)


@contextlib.contextmanager
def writing(path: Path | str | None = None, *, start_from_current: bool = False
            ) -> Iterator[duckdb.DuckDBPyConnection]:
    """Write a new version of the store atomically.

    Parameters
    ----------
    start_from_current:
        Start from a copy of the current store (to add tables) instead of an empty one.

    The new version replaces the store only if the ``with`` block finishes without error.
    """
    path = Path(path) if path else config.store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in glob.glob(f"{path}.tmp-*"):
        pid = stale.rsplit("-", 1)[-1].split(".")[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                os.remove(stale)
    tmp = Path(f"{path}.tmp-{os.getpid()}")
    for leftover in (tmp, Path(f"{tmp}.wal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    if start_from_current and path.exists():
        con = duckdb.connect(str(tmp))
        con.execute(f"ATTACH '{_sql_path(path)}' AS cur (READ_ONLY)")
        con.execute("COPY FROM DATABASE cur TO " + _current_db_name(con))
        con.execute("DETACH cur")
    else:
        con = duckdb.connect(str(tmp))
    try:
        con.execute(SCHEMA)
        yield con
        con.execute("INSERT OR REPLACE INTO meta VALUES ('written_at', ?)",
                    [dt.datetime.now().isoformat(timespec="seconds")])
        con.execute("CHECKPOINT")
        con.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(Exception):
            con.close()
        for leftover in (tmp, Path(f"{tmp}.wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        raise


def _current_db_name(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_database()").fetchone()[0]


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM meta").fetchall())


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0])


def query_df(sql: str, params: list | None = None, *, path: Path | str | None = None) -> pd.DataFrame:
    """Run one read-only query against the store and return a DataFrame."""
    with contextlib.closing(connect(path)) as con:
        return con.execute(sql, params or []).df()
