"""The store's coded observations: appending, errors, dictionaries, old stores, ``ingest --only``."""

from __future__ import annotations

import math
import shutil

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from wijkmonitor import pipeline, store
from wijkmonitor.sources import OBS_COLUMNS

ROWS = [
    ("GM0344", 2024, 2024, "a_inw", 374_238.0, "ok", "kwb-2024"),
    ("WK034401", 2024, 2024, "a_inw", math.nan, "geheim", "kwb-2024"),
    ("BU03440101", 2023, 2024, "p_koopw", 41.5, "ok", "city"),
    ("BU03440101", 2023, 2024, "p_koopw", math.nan, "ontbreekt", "kwb-2024"),
]


def frame(rows=ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=OBS_COLUMNS)


def view_rows(path) -> list[tuple]:
    with store.connect(path) as con:
        return sorted(con.execute("SELECT * FROM observations").fetchall(), key=repr)


def expected(rows=ROWS) -> list[tuple]:
    return sorted((tuple(None if isinstance(x, float) and math.isnan(x) else x for x in r) for r in rows), key=repr)


@pytest.mark.parametrize("kind", ["strings", "categoricals", "arrow", "arrow-dictionary", "batches"])
def test_append_gives_the_same_rows_through_the_view(tmp_path, kind):
    df = frame()
    keys = ["region_code", "variable", "status", "source_id"]
    data = {
        "strings": df,
        "categoricals": df.astype({k: "category" for k in keys}),
        "arrow": pa.Table.from_pandas(df, preserve_index=False),
        "arrow-dictionary": pa.Table.from_pandas(df.astype({k: "category" for k in keys}), preserve_index=False),
        "batches": (pa.RecordBatch.from_pandas(df.iloc[i:i + 1], preserve_index=False) for i in range(len(df))),
    }[kind]
    path = tmp_path / "s.duckdb"
    with store.writing(path) as con:
        assert store.append_observations(con, data) == len(ROWS)
    # NaN is NULL, never a number; the view gives the old column types
    assert view_rows(path) == expected()
    with store.connect(path) as con:
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'observations'").fetchall())
    assert types == {"region_code": "VARCHAR", "geo_year": "INTEGER", "period": "INTEGER",
                     "variable": "VARCHAR", "value": "DOUBLE", "status": "VARCHAR", "source_id": "VARCHAR"}


def test_empty_parts_write_nothing(tmp_path):
    path = tmp_path / "s.duckdb"
    with store.writing(path) as con:
        assert store.append_observations(con, frame([])) == 0
        assert store.append_observations(con, [frame([]), frame(ROWS[:1]), frame([])]) == 1
        assert store.append_observations(con, []) == 0
    assert view_rows(path) == expected(ROWS[:1])


def test_dictionaries_grow_and_keep_their_ids(tmp_path):
    path = tmp_path / "s.duckdb"
    with store.writing(path) as con:
        store.append_observations(con, frame(ROWS[:2]))
        first = dict(con.execute("SELECT region_code, rid FROM obs_regions").fetchall())
        store.append_observations(con, frame(ROWS[2:]))
        store.append_observations(con, frame(ROWS[:1]))  # known strings only
        after = dict(con.execute("SELECT region_code, rid FROM obs_regions").fetchall())
    assert {k: after[k] for k in first} == first
    assert len(after) == 3 and len(set(after.values())) == 3
    assert view_rows(path) == expected(ROWS + ROWS[:1])


@pytest.mark.parametrize("row, column, message", [
    (("", 2024, 2024, "a_inw", 1.0, "ok", "s"), "region_code", "rij 3"),
    (("GM0344", 2024, 2024, "a_inw", 1.0, " ", "s"), "status", "rij 3"),
    ((None, 2024, 2024, "a_inw", 1.0, "ok", "s"), "region_code", "rij 3"),
    (("GM0344", 2024, 20245, "a_inw", 1.0, "ok", "s"), "period", "rij 3"),
    (("GM0344", None, 2024, "a_inw", 1.0, "ok", "s"), "geo_year", "rij 3"),
    (("GM0344", "twintig", 2024, "a_inw", 1.0, "ok", "s"), "geo_year", "rij 3: twintig"),
    (("GM0344", 2024, 2024, None, 1.0, "ok", "s"), "variable", "rij 3"),
])
def test_bad_rows_are_refused_and_nothing_is_written(tmp_path, row, column, message):
    path = tmp_path / "s.duckdb"
    with store.writing(path) as con:
        store.append_observations(con, frame(ROWS[:1]))
    before = view_rows(path)
    rows = [ROWS[0], ROWS[2], row]
    with pytest.raises(ValueError) as err:
        with store.writing(path, start_from_current=True) as con:
            # batches: the error comes from inside the streamed INSERT, after a first batch
            store.append_observations(con, (frame([r]) for r in rows))
    assert column in str(err.value) and message in str(err.value)
    assert view_rows(path) == before


def test_store_with_the_old_observations_table_is_migrated(tmp_path):
    """A store written before the coded layout had a plain ``observations`` table."""
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE observations (region_code VARCHAR NOT NULL, geo_year INTEGER NOT NULL, "
                    "period INTEGER NOT NULL, variable VARCHAR NOT NULL, value DOUBLE, "
                    "status VARCHAR NOT NULL, source_id VARCHAR NOT NULL)")
        con.register("df", frame())
        con.execute("INSERT INTO observations SELECT * FROM df")
    with store.writing(path, start_from_current=True) as con:
        kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())
    assert kinds["observations"] == "VIEW" and kinds["observation_data"] == "BASE TABLE"
    assert view_rows(path) == expected()


def test_ingest_only_one_source_keeps_the_others(real_store, tmp_path, data_dir):
    """``ingest --source politie`` on a copy of the real store: the politie rows are read again,
    every other source's rows stay exactly as they were, and compute still runs."""
    path = tmp_path / "s.duckdb"
    shutil.copy(real_store, path)
    with store.connect(path) as con:
        before = con.execute("SELECT count(*), sum(hash(region_code, geo_year, period, variable, value, status, source_id)) FROM observations").fetchone()
        politie = con.execute("SELECT count(*) FROM observations JOIN sources USING (source_id) "
                              "WHERE adapter = 'politie'").fetchone()[0]
        n_values = con.execute("SELECT count(*) FROM indicator_values").fetchone()[0]
    assert politie > 0
    summary = pipeline.ingest(data_dir, path, only=["politie"], then_build=True)
    with store.connect(path) as con:
        after = con.execute("SELECT count(*), sum(hash(region_code, geo_year, period, variable, value, status, source_id)) FROM observations").fetchone()
        ids = con.execute("SELECT count(*), count(DISTINCT sid) FROM obs_sources").fetchone()
        n_after = con.execute("SELECT count(*) FROM indicator_values").fetchone()[0]
    assert summary["observations"] == before[0]
    assert after == before  # the same rows (a hash over every column of every row)
    assert ids[0] == ids[1]
    assert n_after == n_values


def test_compute_reads_only_the_codes(tmp_path):
    """Observations of a source missing from ``sources`` are ignored, as before the coded layout."""
    from wijkmonitor.catalogue import load_catalogue
    from wijkmonitor.compute import compute

    path = tmp_path / "s.duckdb"
    with store.writing(path) as con:
        con.execute("INSERT INTO sources VALUES ('kwb-2024','T','t','p','l','loc','2024-01-01','kwb',NULL,0)")
        store.append_observations(con, frame([
            ("GM0344", 2024, 2024, "a_inw", 1000.0, "ok", "kwb-2024"),
            ("GM0344", 2024, 2024, "a_65_oo", 250.0, "ok", "kwb-2024"),
            ("GM0363", 2024, 2024, "a_inw", 2000.0, "ok", "unknown"),
        ]))
        compute(con, load_catalogue())
    with store.connect(path) as con:
        got = con.execute("SELECT region_code, value, source_id FROM indicator_values "
                          "WHERE indicator = 'inwoners_65plus_pct'").fetchall()
        regions = {r[0] for r in con.execute("SELECT DISTINCT region_code FROM indicator_values").fetchall()}
    assert got == [("GM0344", pytest.approx(25.0), "kwb-2024")]
    assert regions == {"GM0344"}
    assert np.isfinite(got[0][1])


def test_ingest_names_the_file_of_a_bad_observation(tmp_path, monkeypatch, real_store):
    """An adapter that hands over a row without a region code: the ingest names the file and the
    row, and the store keeps its previous state."""
    from wijkmonitor import sources
    from wijkmonitor.sources import politie

    path = tmp_path / "s.duckdb"
    shutil.copy(real_store, path)
    before = path.read_bytes()
    real_read = politie.read

    def broken(data_dir):
        results = real_read(data_dir)
        obs = results[0].observations.copy()
        obs.loc[obs.index[4], "region_code"] = None
        results[0].observations = obs
        return results

    monkeypatch.setattr(politie, "read", broken)
    monkeypatch.setattr(sources, "adapters", lambda: {"politie": politie})
    monkeypatch.setattr(pipeline, "adapters", lambda: {"politie": politie})
    with pytest.raises(ValueError) as err:
        pipeline.ingest(None, path, only=["politie"])
    assert "politie" in str(err.value) and "region_code" in str(err.value) and "rij 5" in str(err.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize("name", ["mi-after2.duckdb", "it's.duckdb", 'q"uote.duckdb'])
def test_writing_from_the_current_store_with_any_file_name(tmp_path, name):
    """``start_from_current`` copies the current store into the new version by the database's
    name, which DuckDB takes from the file name: a hyphen or quote must not break it (it made
    ``build --no-ingest`` fail for a store named ``mi-after2.duckdb``)."""
    path = tmp_path / name
    with store.writing(path) as con:
        con.execute("CREATE TABLE t AS SELECT 42 AS x")
    with store.writing(path, start_from_current=True) as con:
        assert con.execute("SELECT x FROM t").fetchone() == (42,)
        con.execute("INSERT INTO t VALUES (43)")
    with store.connect(path) as con:
        assert sorted(con.execute("SELECT x FROM t").fetchall()) == [(42,), (43,)]
