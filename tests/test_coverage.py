"""``wijkmonitor coverage``: shown regions per indicator x level x year, and the no-loss check."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from wijkmonitor import coverage
from wijkmonitor.cli import app


def _store(path, rows, sources):
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sources (source_id VARCHAR, table_id VARCHAR, title VARCHAR, "
                "publisher VARCHAR, licence VARCHAR, location VARCHAR, retrieved VARCHAR, "
                "adapter VARCHAR, note VARCHAR, rank INTEGER)")
    for sid, adapter, location, rank in sources:
        con.execute("INSERT INTO sources VALUES (?, '', '', '', '', ?, '', ?, '', ?)",
                    [sid, location, adapter, rank])
    con.execute("CREATE TABLE indicator_values (indicator VARCHAR, region_code VARCHAR, "
                "geo_year INTEGER, period INTEGER, status VARCHAR, source_id VARCHAR)")
    con.executemany("INSERT INTO indicator_values VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.close()
    return path


@pytest.fixture()
def small_store(tmp_path):
    rows = [
        # inwoners 2024: 2 gemeenten shown (one from the mirror, one fetched), 1 suppressed
        ("inwoners", "GM0001", 2024, 2024, "ok", "mirror-a"),
        ("inwoners", "GM0002", 2024, 2024, "ok", "online-b"),
        ("inwoners", "GM0003", 2024, 2024, "geheim", "mirror-a"),
        # a buurt shown on two divisions of the same period counts once
        ("inwoners", "BU00010001", 2020, 2020, "ok", "mirror-a"),
        ("inwoners", "BU00010001", 2024, 2020, "ok", "mirror-a"),
        # only 'te weinig waarnemingen': no row at all
        ("woz_gemiddeld", "WK000101", 2024, 2024, "te weinig waarnemingen", "mirror-a"),
        ("woz_gemiddeld", "NL00", 2024, 2024, "ok", "mirror-a"),
    ]
    sources = [("mirror-a", "kwb_statline_csv", "cbs-kwb/x.csv", 0),
               ("online-b", "some_adapter", "https://opendata.cbs.nl/x", 1000)]
    return _store(tmp_path / "s.duckdb", rows, sources)


def test_counts_shown_regions_per_indicator_level_year(small_store):
    cov = coverage.coverage(small_store)
    rows = {(r.indicator, r.level, r.year): r for r in cov.itertuples(index=False)}
    assert set(rows) == {("inwoners", "gemeente", 2024), ("inwoners", "buurt", 2020),
                         ("woz_gemiddeld", "land", 2024)}
    gm = rows[("inwoners", "gemeente", 2024)]
    assert (gm.regions, gm.regions_mirror, gm.regions_online) == (2, 1, 1)
    assert {(s["source_id"], s["origin"], s["regions"]) for s in gm.sources} == {
        ("mirror-a", "spiegel", 1), ("online-b", "online", 1)}
    assert rows[("inwoners", "buurt", 2020)].regions == 1  # two divisions, one region
    # order: indicator, then land < gemeente < wijk < buurt
    assert list(cov["level"][cov["indicator"] == "inwoners"]) == ["gemeente", "buurt"]


def test_origin_rule():
    assert coverage.origin_of("statline-online", "cbs-statline-online/x", {"statline-online"}) == "online"
    assert coverage.origin_of("kwb_xlsx", "https://example.org/x.xlsx", set()) == "online"
    assert coverage.origin_of("kwb_xlsx", "cbs-kwb-steden/utrecht/x.xlsx", set()) == "spiegel"


def test_compare_reports_every_decrease_and_nothing_else():
    before = pd.DataFrame({"indicator": ["a", "a", "b"], "level": ["buurt", "wijk", "buurt"],
                           "year": [2020, 2020, 2024], "regions": [10, 5, 3]})
    after = pd.DataFrame({"indicator": ["a", "a", "c"], "level": ["buurt", "wijk", "buurt"],
                          "year": [2020, 2020, 2024], "regions": [10, 4, 7]})
    lost = coverage.compare(before, after)
    assert [(r.indicator, r.level, r.before, r.after) for r in lost.itertuples()] == [
        ("a", "wijk", 5, 4), ("b", "buurt", 3, 0)]  # one less, and a row that vanished
    same = coverage.compare(before, before)
    assert same.empty
    gained = coverage.gains(before, after)
    assert [(r.indicator, r.change) for r in gained.itertuples()] == [("c", 7)]


def test_cli_formats_and_against(small_store, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["coverage", "--store", str(small_store), "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {"indicator", "level", "year", "regions", "sources"} <= set(data[0])
    res = runner.invoke(app, ["coverage", "--store", str(small_store), "--format", "csv"])
    assert res.exit_code == 0 and "mirror-a (spiegel, 1)" in res.stdout
    res = runner.invoke(app, ["coverage", "--store", str(small_store)])
    assert res.exit_code == 0 and "inwoners" in res.stdout
    # against itself: nothing lost, exit 0; against a larger baseline: exit 1
    base = tmp_path / "before.json"
    base.write_text(json.dumps(data), encoding="utf-8")
    assert runner.invoke(app, ["coverage", "--store", str(small_store), "--against", str(base)]).exit_code == 0
    data[0]["regions"] += 1
    base.write_text(json.dumps(data), encoding="utf-8")
    res = runner.invoke(app, ["coverage", "--store", str(small_store), "--against", str(base)])
    assert res.exit_code == 1 and "Minder" in res.stdout
    res = runner.invoke(app, ["coverage", "--store", str(small_store), "--format", "xml"])
    assert res.exit_code == 1
