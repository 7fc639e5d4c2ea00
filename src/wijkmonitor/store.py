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
    Long format: ``region_code, geo_year, period, variable, value, status, source_id``. A view
    over ``observation_data``, which holds integer codes (``rid, geo_year, period, vid, value,
    sid, stid``) resolved by four small dictionary tables (``obs_regions``, ``obs_variables``,
    ``obs_sources``, ``obs_statuses``). Integers are about twice as cheap to write as strings
    or ENUMs and let :mod:`wijkmonitor.compute` read observations without any string work.
    Write with :func:`append_observations`; read the view (or the codes, in compute).
``regions``
    ``code, year, level, name, gemeente_code, wijk_code, change_code, population, source_id,
    name_year`` (``year`` is the year of the regional division; ``name_year`` the year the
    name is from: ``year`` itself, or the nearest year with a name where the sources give
    none for this one).
``indicator_values``
    A view over ``indicator_data`` (integer codes: ``iid`` from ``iv_indicators``, ``rid`` and
    ``sid``/``bsid`` from ``obs_regions`` and ``obs_sources``, ``stid`` from ``iv_statuses``),
    all written by :mod:`wijkmonitor.compute`; the view gives plain strings and the catalogue
    version from ``meta`` on every row.
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
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import config

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    source_id VARCHAR PRIMARY KEY, table_id VARCHAR, title VARCHAR, publisher VARCHAR,
    licence VARCHAR, location VARCHAR, retrieved VARCHAR, adapter VARCHAR, note VARCHAR,
    rank INTEGER);
CREATE TABLE IF NOT EXISTS obs_regions (rid INTEGER PRIMARY KEY, region_code VARCHAR NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS obs_variables (vid INTEGER PRIMARY KEY, variable VARCHAR NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS obs_sources (sid INTEGER PRIMARY KEY, source_id VARCHAR NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS obs_statuses (stid INTEGER PRIMARY KEY, status VARCHAR NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS observation_data (
    rid INTEGER NOT NULL, geo_year SMALLINT NOT NULL, period SMALLINT NOT NULL,
    vid INTEGER NOT NULL, value DOUBLE, sid INTEGER NOT NULL, stid INTEGER NOT NULL);
CREATE VIEW IF NOT EXISTS observations AS
SELECT r.region_code, o.geo_year::INTEGER AS geo_year, o.period::INTEGER AS period, v.variable,
       o.value, st.status, s.source_id
FROM observation_data o
JOIN obs_regions r USING (rid) JOIN obs_variables v USING (vid)
JOIN obs_sources s USING (sid) JOIN obs_statuses st USING (stid);
CREATE TABLE IF NOT EXISTS regions (
    code VARCHAR NOT NULL, year INTEGER NOT NULL, level VARCHAR NOT NULL, name VARCHAR,
    gemeente_code VARCHAR, wijk_code VARCHAR, change_code VARCHAR, population DOUBLE,
    source_id VARCHAR, name_year INTEGER, PRIMARY KEY (code, year));
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""


class StoreMissing(FileNotFoundError):
    """The store has not been built yet."""

    @classmethod
    def at(cls, path: Path | str) -> "StoreMissing":
        return cls(f"De store {path} bestaat nog niet: draai eerst 'wijkmonitor build'.")


def connect(path: Path | str | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the store. Read-only by default (the file as it is now, even if this process still
    has a connection to a version a build has since replaced); raises :class:`StoreMissing`
    if it does not exist."""
    path = Path(path) if path else config.store_path()
    if not read_only:
        return duckdb.connect(str(path))
    if not path.exists():
        raise StoreMissing.at(path)
    # Not ``duckdb.connect(path, read_only=True)``: while any connection to that path is open in
    # this process, DuckDB hands out the same database instance, i.e. the file as it was before
    # a build replaced it. An in-memory database that attaches the file opens it anew.
    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{_sql_path(path)}' AS store (READ_ONLY)")
    con.execute("USE store")
    return con


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
        _migrate_observations(con)
        con.execute(SCHEMA)
        con.execute("ALTER TABLE regions ADD COLUMN IF NOT EXISTS name_year INTEGER")  # older stores
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


#: The dictionary tables of ``observation_data``: column -> (table, id column).
OBS_DIMENSIONS = {
    "region_code": ("obs_regions", "rid"),
    "variable": ("obs_variables", "vid"),
    "source_id": ("obs_sources", "sid"),
    "status": ("obs_statuses", "stid"),
}


def append_observations(con: duckdb.DuckDBPyConnection, data, *, rows_per_part: bool = False) -> int:
    """Append observations to the store being written; returns the number of rows.

    Parameters
    ----------
    data:
        The columns of :data:`wijkmonitor.sources.OBS_COLUMNS` (``region_code, geo_year,
        period, variable, value, status, source_id``), as a pandas DataFrame (strings or
        Categoricals) or an Arrow table or record batch (strings or dictionary-encoded), or an
        iterable of those (for example the batches of a Parquet file), which is streamed into
        one INSERT. ``value`` NaN is stored as NULL.

    The string columns are stored as integer codes: new strings get the next free id in the
    dictionary tables (``obs_regions`` ...), and only each part's distinct strings are looked
    up, never a string per row. Raises :class:`ValueError` naming the column and the row when
    a key column is empty or a year is not a year; nothing is written then. The row counts
    from the start of the stream, or with ``rows_per_part`` from the start of the failing part
    (parts that are files of their own).
    """
    parts = [data] if isinstance(data, (pd.DataFrame, pa.Table, pa.RecordBatch)) else data
    coder = _ObservationCoder(con)
    failure: list[BaseException] = []

    def batches():
        offset = 0
        for part in parts:
            try:
                batch = coder.encode(part, offset)
            except BaseException as exc:  # raised again below, with its own message
                failure.append(exc)
                raise
            offset = 0 if rows_per_part else offset + batch.num_rows
            if batch.num_rows:
                yield batch

    reader = pa.RecordBatchReader.from_batches(_OBS_DATA_SCHEMA, batches())
    con.register("_obs_stream", reader)
    try:
        con.execute("INSERT INTO observation_data SELECT * FROM _obs_stream")
    except Exception:
        if failure:
            raise failure[0] from None
        raise
    finally:
        con.unregister("_obs_stream")
    coder.write_dictionaries()
    return coder.rows


_OBS_DATA_SCHEMA = pa.schema([("rid", pa.int32()), ("geo_year", pa.int16()), ("period", pa.int16()),
                              ("vid", pa.int32()), ("value", pa.float64()), ("sid", pa.int32()),
                              ("stid", pa.int32())])


class _ObservationCoder:
    """Turns observation frames into batches of ``observation_data`` (integer codes), with the
    dictionary tables held in memory and their new rows written at the end."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.ids: dict[str, dict[str, int]] = {}
        self.new: dict[str, list[tuple[int, str]]] = {}
        for name, (table, id_col) in OBS_DIMENSIONS.items():
            self.ids[name] = {v: int(i) for i, v in con.execute(f"SELECT {id_col}, {name} FROM {table}").fetchall()}
            self.new[name] = []
        self.next = {name: max(ids.values(), default=-1) + 1 for name, ids in self.ids.items()}
        self.last: dict[str, tuple] = {}
        self.rows = 0

    def encode(self, data, offset: int) -> pa.RecordBatch:
        n = data.num_rows if isinstance(data, (pa.Table, pa.RecordBatch)) else len(data)
        if n == 0:
            return pa.RecordBatch.from_pylist([], schema=_OBS_DATA_SCHEMA)
        cols: dict[str, pa.Array] = {}
        for name, (_, id_col) in OBS_DIMENSIONS.items():
            codes, values = _factorize(_column(data, name))
            ids, identity = self._ids(name, values)
            if (ids < 0).any() or (codes < 0).any():
                bad = (codes < 0) | ((ids[np.maximum(codes, 0)] < 0) if len(ids) else True)
                raise ValueError(f"waarnemingen: kolom {name!r} is leeg in rij "
                                 f"{offset + int(np.argmax(bad)) + 1}")
            # int32 arrays (giving pa.array the type would cost a copy); where the ids are
            # the dictionary's own positions (a new store), the codes are the ids
            cols[id_col] = pa.array(codes.astype(np.int32, copy=False) if identity else ids[codes])
        for name in ("geo_year", "period"):
            years = np.asarray(_numpy(_column(data, name)))
            if years.dtype.kind not in "iuf" or (years.dtype.kind == "f" and not np.isfinite(years).all()) \
                    or not 1000 <= years.min() <= years.max() <= 9999 \
                    or (years.dtype.kind == "f" and (years != np.round(years)).any()):
                y = pd.to_numeric(pd.Series(years), errors="coerce").to_numpy(np.float64, na_value=np.nan)
                bad = ~np.isfinite(y) | (y != np.round(y)) | (y < 1000) | (y > 9999)
                row = int(np.argmax(bad))
                raise ValueError(f"waarnemingen: kolom {name!r} rij {offset + row + 1}: "
                                 f"{years[row]} is geen jaartal")
            cols[name] = pa.array(years.astype(np.int16))
        value = _column(data, "value")
        if isinstance(value, pa.ChunkedArray):
            value = value.chunk(0) if value.num_chunks == 1 else value.combine_chunks()
        if isinstance(value, pa.Array) and pa.types.is_float64(value.type):
            # Arrow input keeps its nulls; a NaN that is not null becomes one
            if pc.any(pc.is_nan(value)).as_py():
                value = pc.if_else(pc.is_nan(value), pa.scalar(None, pa.float64()), value)
            cols["value"] = value
        else:
            value = np.asarray(_numpy(value), dtype=np.float64)
            cols["value"] = pa.array(value, mask=np.isnan(value))
        self.rows += n
        return pa.RecordBatch.from_arrays([cols[f.name] for f in _OBS_DATA_SCHEMA], schema=_OBS_DATA_SCHEMA)

    def _ids(self, name: str, values) -> tuple[np.ndarray, bool]:
        """The ids of ``values`` (an Arrow array or a list; -1 for a blank one), adding new
        ones, and whether they are simply the values' positions. The parts of one file usually
        share their dictionary: then the previous part's answer is used again without looking
        at a string."""
        cached = self.last.get(name)
        if cached is not None and _same_values(cached[0], values):
            return cached[1], cached[2]
        known, new = self.ids[name], self.new[name]
        out = np.empty(len(values), dtype=np.int32)
        for i, v in enumerate(values.to_pylist() if isinstance(values, pa.Array) else values):
            v = str(v)
            got = known.get(v)
            if got is None:
                if not v.strip():
                    got = -1
                else:
                    got = known[v] = self.next[name]
                    self.next[name] += 1
                    new.append((got, v))
            out[i] = got
        identity = bool(len(out)) and bool((out == np.arange(len(out))).all())
        self.last[name] = (values, out, identity)
        return out, identity

    def write_dictionaries(self) -> None:
        for name, (table, id_col) in OBS_DIMENSIONS.items():
            if self.new[name]:
                frame = pd.DataFrame(self.new[name], columns=[id_col, name])
                self.con.register("_dict_new", frame)
                try:
                    self.con.execute(f"INSERT INTO {table} SELECT {id_col}, {name} FROM _dict_new")
                finally:
                    self.con.unregister("_dict_new")
                self.new[name] = []


def _column(data, name: str):
    try:
        return data[name] if isinstance(data, pd.DataFrame) else data.column(name)
    except KeyError:
        raise ValueError(f"waarnemingen: kolom {name!r} ontbreekt") from None


def _numpy(col) -> np.ndarray:
    if isinstance(col, pd.Series):
        return col.to_numpy()
    if isinstance(col, pa.ChunkedArray):
        col = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
    return col.to_numpy(zero_copy_only=False)  # nulls of a float column become NaN


def _factorize(col) -> tuple[np.ndarray, pa.Array | list]:
    """Codes (-1 for a missing value) and the distinct values of a string column."""
    if isinstance(col, pd.Series):
        if isinstance(col.dtype, pd.CategoricalDtype):
            return np.asarray(col.cat.codes), list(col.cat.categories)
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        return codes, list(uniques)
    if isinstance(col, pa.ChunkedArray):
        col = col.chunk(0) if col.num_chunks == 1 else (
            col.unify_dictionaries().combine_chunks() if pa.types.is_dictionary(col.type) else col.combine_chunks())
    if not pa.types.is_dictionary(col.type):
        col = col.dictionary_encode()
    indices = col.indices.fill_null(-1) if col.indices.null_count else col.indices
    return indices.to_numpy(zero_copy_only=False), col.dictionary


def _same_values(a, b) -> bool:
    if isinstance(a, pa.Array) and isinstance(b, pa.Array):
        return a.type == b.type and a.equals(b)
    return isinstance(a, list) and isinstance(b, list) and a == b


def _migrate_observations(con: duckdb.DuckDBPyConnection) -> None:
    """Stores written before ``observation_data`` had a plain ``observations`` table: move
    its rows to the coded layout (the view then gives the same rows)."""
    kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'observations' "
                       "AND table_schema = current_schema()").fetchone()
    if not kind or kind[0] != "BASE TABLE":
        return
    con.execute("ALTER TABLE observations RENAME TO observations_v1")
    con.execute(SCHEMA)
    for name, (table, id_col) in OBS_DIMENSIONS.items():
        con.execute(f"INSERT INTO {table} SELECT (row_number() OVER (ORDER BY {name}) - 1)::INTEGER, {name} "
                    f"FROM (SELECT DISTINCT {name} FROM observations_v1)")
    con.execute("""
        INSERT INTO observation_data
        SELECT r.rid, o.geo_year, o.period, v.vid, o.value, s.sid, st.stid
        FROM observations_v1 o
        JOIN obs_regions r USING (region_code) JOIN obs_variables v USING (variable)
        JOIN obs_sources s USING (source_id) JOIN obs_statuses st USING (status)""")
    con.execute("DROP TABLE observations_v1")


def _current_db_name(con: duckdb.DuckDBPyConnection) -> str:
    """The open database's name as a quoted SQL identifier (DuckDB names it after the file,
    which may hold a hyphen or a quote)."""
    name = con.execute("SELECT current_database()").fetchone()[0]
    return '"' + name.replace('"', '""') + '"'



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
