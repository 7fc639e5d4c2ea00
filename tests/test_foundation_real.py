"""The foundation on the real open data in ../shared/data: sources -> store -> compute."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from wijkmonitor import api, store
from wijkmonitor.catalogue import load_catalogue


@pytest.fixture(scope="module")
def con(real_store):
    c = store.connect(real_store)
    yield c
    c.close()


def test_regions_2024_all_levels(con):
    counts = dict(con.execute("SELECT level, count(*) FROM regions WHERE year = 2024 GROUP BY level").fetchall())
    assert counts == {"land": 1, "gemeente": 342, "wijk": 3393, "buurt": 14574}
    # parents are consistent: every buurt's wijk and gemeente exist in the same year
    orphans = con.execute("""
        SELECT count(*) FROM regions b WHERE b.year = 2024 AND b.level = 'buurt' AND (
            b.wijk_code NOT IN (SELECT code FROM regions WHERE year = 2024 AND level = 'wijk') OR
            b.gemeente_code NOT IN (SELECT code FROM regions WHERE year = 2024 AND level = 'gemeente'))
    """).fetchone()[0]
    assert orphans == 0


def test_unnamed_regions_take_the_name_of_the_nearest_year_and_say_so(con):
    """50090NED lists the 2020 buurten by code only: the name comes from the same code in the
    nearest year that names it (mostly 2024), with ``name_year`` saying so; published names keep
    their own year, and codes no year names stay without a name."""
    rows = con.execute("""
        SELECT count(*), count(name), count(*) FILTER (WHERE name_year <> year),
               count(*) FILTER (WHERE name IS NULL AND name_year IS NOT NULL)
        FROM regions WHERE year = 2020 AND level = 'buurt'""").fetchone()
    total, named, borrowed, inconsistent = rows
    assert total > 13_000 and named > 0.9 * total and borrowed > 0.9 * total and inconsistent == 0
    # the borrowed name is exactly the name of the same code in the year it is from, and that
    # year is the nearest one that names the code
    far = con.execute("""
        SELECT count(*) FROM regions a WHERE a.year = 2020 AND a.name_year <> a.year AND EXISTS (
            SELECT 1 FROM regions b WHERE b.code = a.code AND b.name_year = b.year
              AND abs(b.year - a.year) < abs(a.name_year - a.year))""").fetchone()[0]
    assert far == 0
    differs = con.execute("""
        SELECT count(*) FROM regions a JOIN regions b ON b.code = a.code AND b.year = a.name_year
        WHERE a.year = 2020 AND a.name_year <> a.year AND a.name IS DISTINCT FROM b.name""").fetchone()[0]
    assert differs == 0
    # a name that a source publishes for the year itself is never replaced
    assert con.execute("SELECT count(*) FROM regions WHERE year = 2024 AND name_year <> 2024").fetchone()[0] == 0
    unnamed = con.execute("""
        SELECT count(*) FROM regions a WHERE a.year = 2020 AND a.name IS NULL
          AND EXISTS (SELECT 1 FROM regions b WHERE b.code = a.code AND b.name IS NOT NULL)""").fetchone()[0]
    assert unnamed == 0


def test_national_total_matches_nl_row(con):
    nl, gm = con.execute("""
        SELECT max(value) FILTER (WHERE region_code = 'NL00'),
               sum(value) FILTER (WHERE region_code LIKE 'GM%')
        FROM indicator_values WHERE indicator = 'inwoners' AND period = 2024 AND geo_year = 2024""").fetchone()
    assert nl == 17_942_942 and gm == nl


def test_gemeente_population_equals_sum_of_buurten_up_to_cbs_rounding(con):
    """CBS rounds buurt counts to multiples of 5, so sums differ by a few; report the exceptions."""
    df = con.execute("""
        WITH b AS (SELECT r.gemeente_code, sum(v.value) AS buurten, count(*) AS n
                   FROM indicator_values v JOIN regions r ON r.code = v.region_code AND r.year = v.geo_year
                   WHERE v.indicator = 'inwoners' AND v.period = 2024 AND v.geo_year = 2024 AND r.level = 'buurt'
                   GROUP BY 1)
        SELECT g.region_code, g.value AS gemeente, b.buurten, b.n
        FROM indicator_values g JOIN b ON b.gemeente_code = g.region_code
        WHERE g.indicator = 'inwoners' AND g.period = 2024 AND g.geo_year = 2024""").df()
    assert len(df) == 342
    diff = (df["gemeente"] - df["buurten"]).abs()
    exact = int((diff == 0).sum())
    # rounding to 5 per buurt bounds the difference by 2.5 per buurt
    beyond = df[diff > 2.5 * df["n"]]
    assert beyond.empty, f"differences beyond CBS rounding: {beyond.to_dict('records')[:5]}"
    assert exact > 0
    print(f"gemeenten equal to the sum of their buurten: {exact} of 342; "
          f"largest difference {int(diff.max())} inhabitants (rounding of small counts)")


def test_secret_never_becomes_a_number(con):
    # in the observations
    bad = con.execute("SELECT count(*) FROM observations WHERE status <> 'ok' AND value IS NOT NULL").fetchone()[0]
    assert bad == 0
    n_secret = con.execute("SELECT count(*) FROM observations WHERE status = 'geheim'").fetchone()[0]
    assert n_secret > 1000  # the mirror holds thousands of '.' cells (Utrecht xlsx, RIVM)
    # and in the computed values: nothing not ok carries a value or a numerator
    bad = con.execute("SELECT count(*) FROM indicator_values WHERE status <> 'ok' AND "
                      "(value IS NOT NULL OR numerator IS NOT NULL)").fetchone()[0]
    assert bad == 0


def test_a_dot_in_the_source_stays_secret_through_compute(con):
    """Every indicator value computed from a secret published value is 'geheim' (RIVM '.')."""
    secret_cells = con.execute("""
        SELECT region_code, period FROM observations
        WHERE variable = 'gez_eenzaam_18plus' AND status = 'geheim'""").df()
    assert len(secret_cells) > 500
    statuses = con.execute("""
        SELECT v.status, count(*) FROM indicator_values v
        JOIN observations o ON o.region_code = v.region_code AND o.period = v.period
             AND o.geo_year = v.geo_year AND o.variable = 'gez_eenzaam_18plus'
        WHERE v.indicator = 'eenzaam_pct' AND o.status = 'geheim' GROUP BY 1""").fetchall()
    assert dict(statuses) == {"geheim": len(secret_cells)}


def test_every_indicator_has_values_where_its_source_covers(con):
    cat = load_catalogue()
    rows = dict(con.execute("SELECT indicator, count(*) FILTER (WHERE status = 'ok') FROM indicator_values "
                            "GROUP BY 1").fetchall())
    # every variable the catalogue uses that is in the store yields values for its indicator
    present = {r[0] for r in con.execute("SELECT DISTINCT variable FROM observations WHERE status = 'ok'").fetchall()}
    for ind in cat.values():
        f = ind.formulas[0]
        needed = set(f.value or f.numerator or ())
        if needed and needed <= present:
            assert rows.get(ind.id, 0) > 0, f"{ind.id}: source variables present but no values"


def _nearest_population(con, code: str, period: int, window: int = 5) -> tuple[float, int]:
    """a_inw of ``code`` in the period nearest ``period`` within ``window`` years (ties: later),
    read from the observations by hand."""
    rows = con.execute("SELECT period, value FROM observations WHERE region_code = ? AND variable = 'a_inw' "
                       "AND status = 'ok'", [code]).fetchall()
    rows = [(abs(p - period), -p, v) for p, v in rows if abs(p - period) <= window]
    d, neg_p, v = min(rows)
    return v, -neg_p


def test_crime_rate_per_buurt_and_wijk_takes_the_population_of_the_nearest_year(con):
    """Registered crime per buurt exists for 2021-2025 (woonikveilig), the buurt population for
    few years: the rate uses the population of the nearest year within five years and says
    which (``base_period``). Schiermonnikoog (README spot check): BU00880000 had 21, 27, 19,
    13, 17 crimes; its wijk WK008800 33, 35, 38, 20, 33 (the sum of its two buurten)."""
    for code, counts in (("BU00880000", (21, 27, 19, 13, 17)), ("WK008800", (33, 35, 38, 20, 33))):
        for period, count in zip(range(2021, 2026), counts):
            row = con.execute("""SELECT value, numerator, denominator, status, base_period, source_id
                                 FROM indicator_values WHERE indicator = 'misdrijven_per_1000'
                                   AND region_code = ? AND period = ?""", [code, period]).fetchone()
            pop, pop_period = _nearest_population(con, code, period)
            assert row[3] == "ok", (code, period, row)
            assert row[1] == count and row[2] == pop and row[4] == pop_period
            assert row[0] == pytest.approx(1000 * count / pop, rel=1e-12)
            assert row[5] == ("woonikveilig-misdrijven" if code.startswith("BU") else "woonikveilig-misdrijven-wijk")
    # no population within five years: no rate (a synthetic check of the window is in
    # tests/test_compute.py); Zoetermeer's buurten have no usable counts at all
    assert con.execute("""SELECT count(*) FROM indicator_values WHERE indicator = 'misdrijven_per_1000'
                          AND region_code LIKE 'BU0637%' AND status = 'ok'""").fetchone()[0] == 0


def test_published_region_value_is_kept(con):
    """Utrecht Overvecht (WK034403): the published RIVM value is the wijk's value."""
    obs = con.execute("SELECT value FROM observations WHERE region_code = 'WK034403' AND period = 2020 "
                      "AND variable = 'gez_ervaren_goed_18plus'").fetchone()[0]
    val = api.value("WK034403", "ervaren_gezondheid_pct", 2020)
    assert val["value"] == obs and val["status"] == "ok"
    assert val["source"]["table_id"] == "50090NED"


def test_value_cli_json(real_store):
    out = subprocess.run([sys.executable, "-m", "wijkmonitor", "value", "--region", "NL00", "--indicator",
                          "ervaren_gezondheid_pct", "--year", "2020", "--format", "json"],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "WIJKMONITOR_STORE": str(real_store)})
    data = json.loads(out.stdout)
    assert data["value"] == pytest.approx(78.4)
    for key in ("value", "status", "numerator", "denominator", "source"):
        assert key in data
    assert data["source"]["table_id"] == "50090NED" and data["source"]["retrieved"]


def test_export_parquet_and_csv(real_store, tmp_path):
    for ext in ("csv", "parquet"):
        out = tmp_path / f"x.{ext}"
        subprocess.run([sys.executable, "-m", "wijkmonitor", "export", "--out", str(out), "--indicator",
                        "inwoners"], check=True, env={**os.environ, "WIJKMONITOR_STORE": str(real_store)},
                       capture_output=True)
        import pandas as pd
        df = pd.read_csv(out) if ext == "csv" else pd.read_parquet(out)
        assert (df["indicator"] == "inwoners").all()
        assert df.loc[(df["region_code"] == "NL00") & (df["period"] == 2024), "value"].iloc[0] == 17_942_942


def test_killed_build_leaves_previous_store(real_store, tmp_path, data_dir):
    """Kill a real 'wijkmonitor build' process while it writes: the store keeps its previous state."""
    target = tmp_path / "store.duckdb"
    target.write_bytes(Path(real_store).read_bytes())
    before = duckdb.connect(str(target), read_only=True)
    written_at = before.execute("SELECT value FROM meta WHERE key = 'written_at'").fetchone()[0]
    n_before = before.execute("SELECT count(*) FROM indicator_values").fetchone()[0]
    before.close()
    proc = subprocess.Popen([sys.executable, "-m", "wijkmonitor", "build", "--quiet", "--store", str(target)],
                            env={**os.environ, "WIJKMONITOR_DATA": str(data_dir)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmp_file = Path(f"{target}.tmp-{proc.pid}")
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if tmp_file.exists() and tmp_file.stat().st_size > 1_000_000:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "build finished before it could be killed"
    assert tmp_file.exists(), "the build never started writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = duckdb.connect(str(target), read_only=True)
    assert after.execute("SELECT value FROM meta WHERE key = 'written_at'").fetchone()[0] == written_at
    assert after.execute("SELECT count(*) FROM indicator_values").fetchone()[0] == n_before
    after.close()
    # the next writer cleans up the dead process's temporary file
    with store.writing(tmp_path / "other.duckdb"):
        pass
    with store.writing(target, start_from_current=True):
        pass
    assert not tmp_file.exists()
