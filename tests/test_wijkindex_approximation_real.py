"""The Wijkindex says where it was computed from an approximation (an area value added up with
the declared stand-in weight, households, where the woningvoorraad per buurt is missing) on the
store built from the real data: ``wijkindex_values.approximation``, the area page's 'b' mark,
``select``/``value`` JSON and the area fiche.

Which areas used an approximation is read here from ``area_values.method`` with SQL,
independently of :mod:`wijkmonitor.wijkindex` and :mod:`wijkmonitor.uncertainty`.

A store built before the column existed (a local ``real_store`` reused between runs) is copied
and its Wijkindex rebuilt; the copy must then have the same values, ranks and intervals.
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pandas as pd
import pytest

from wijkmonitor.catalogue import load_catalogue

APPROX_AREA = "amsterdam-noord"      # WOZ and koopwoningen 2024 added up with households
EXACT_AREA = "den-haag-schilderswijk"  # both published for the area's wijk
WORDS = "gewogen met huishoudens, woningvoorraad per wijk ontbreekt"


def _has_column(path) -> bool:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return bool(con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = "
                                "'wijkindex_values' AND column_name = 'approximation'").fetchone()[0])
    finally:
        con.close()


@pytest.fixture(scope="module")
def store_path(real_store, tmp_path_factory):
    if _has_column(real_store):
        return real_store
    from wijkmonitor.wijkindex.build import build_wijkindex

    path = tmp_path_factory.mktemp("wiapprox") / "store.duckdb"
    shutil.copy(real_store, path)
    con = duckdb.connect(str(path))
    try:
        build_wijkindex(con)
    finally:
        con.close()
    # rebuilt: nothing but the new column may differ from the store's own build
    cols = ("index_id, component, unit_id, unit_kind, programme, gemeente, period, value, raw, status, reason, "
            "decile, rank_nl, n_nl, rank_nl_low, rank_nl_high, rank_gemeente, n_gemeente, rank_gemeente_low, "
            "rank_gemeente_high, rank_programme, n_programme, rank_programme_low, rank_programme_high, "
            "domains_available, indicators_used")
    frames = []
    for p in (real_store, path):
        c = duckdb.connect(str(p), read_only=True)
        frames.append(c.execute(f"SELECT {cols} FROM wijkindex_values ORDER BY component, unit_id, period").df())
        c.close()
    pd.testing.assert_frame_equal(frames[0], frames[1])
    return path


@pytest.fixture(scope="module")
def con(store_path):
    c = duckdb.connect(str(store_path), read_only=True)
    yield c
    c.close()


def test_index_and_wonen_say_approximation_exactly_where_an_area_input_was_one(con):
    approx = set(con.execute("""SELECT DISTINCT unit_id FROM area_values WHERE unit_kind = 'area'
        AND period = 2024 AND status = 'ok' AND indicator IN ('woz_gemiddeld', 'koopwoningen_pct')
        AND method LIKE '%; benadering:%'""").df()["unit_id"])
    assert APPROX_AREA in approx and EXACT_AREA not in approx
    df = con.execute("""SELECT unit_id, component, approximation FROM wijkindex_values
        WHERE unit_kind = 'area' AND period = 2024 AND status = 'ok'
          AND component IN ('wijkindex', 'wijkindex_wonen')""").df()
    assert len(df) > 50
    marked = df["approximation"].notna()
    assert (marked == df["unit_id"].isin(approx)).all()
    # the other domains never: none of their indicators has a stand-in weight
    others = con.execute("""SELECT count(*) FROM wijkindex_values WHERE component NOT IN
        ('wijkindex', 'wijkindex_wonen') AND approximation IS NOT NULL""").fetchone()[0]
    assert others == 0
    rows = {(u, c): a for u, c, a in con.execute("""SELECT unit_id, component, approximation FROM wijkindex_values
        WHERE period = 2024 AND unit_id IN (?, ?)""", [APPROX_AREA, EXACT_AREA]).fetchall()}
    want = f"benadering: woz_gemiddeld, koopwoningen_pct {WORDS}"
    assert rows[(APPROX_AREA, "wijkindex")] == want and rows[(APPROX_AREA, "wijkindex_wonen")] == want
    assert rows[(APPROX_AREA, "wijkindex_gezondheid")] is None
    assert all(rows[(EXACT_AREA, c)] is None for u, c in rows if u == EXACT_AREA)
    assert (EXACT_AREA, "wijkindex") in rows


def test_value_json_names_the_approximation(store_path):
    from wijkmonitor.web.data import WebStore

    ws = WebStore(store_path)
    body = json.loads(ws.value_json(APPROX_AREA, "wijkindex_wonen", 2024))
    assert body["approximation"] == f"benadering: woz_gemiddeld, koopwoningen_pct {WORDS}"
    assert json.loads(ws.value_json(EXACT_AREA, "wijkindex", 2024))["approximation"] is None


def test_select_json_rows_carry_the_field(store_path):
    from typer.testing import CliRunner

    from wijkmonitor.cli import app

    res = CliRunner().invoke(app, ["select", "--level", "wijk", "--year", "2024", "--gemeente", "GM0599", "--rule", "domains-below:1",
                                   "--format", "json", "--store", str(store_path)])
    assert res.exit_code == 0, res.stdout
    areas = json.loads(res.stdout)["areas"]
    # wijken are published or added up with their own weight: never an approximation
    assert areas and all(a["approximation"] is None for a in areas)
    assert all(d["approximation"] is None for a in areas for d in a["domains"].values())


def test_area_page_and_fiche_mark_the_approximated_scores(store_path):
    from fastapi.testclient import TestClient

    from wijkmonitor import report
    from wijkmonitor.report import data as rdata
    from wijkmonitor.web.app import create_app

    cat = load_catalogue()
    words = f"benadering: {cat['woz_gemiddeld'].name}, {cat['koopwoningen_pct'].name} {WORDS}"
    client = TestClient(create_app(store_path))
    sec = client.get(f"/gebied/{APPROX_AREA}").text.split('id="wijkindex"')[1].split("</section>")[0]
    mark = f'<abbr class="wm-est" title="{words}">b</abbr>'
    # after the index value, after the wonen score, and once in the legend
    assert sec.count(mark) == 3
    assert f"{words}: een benadering" in sec
    exact = client.get(f"/gebied/{EXACT_AREA}").text.split('id="wijkindex"')[1].split("</section>")[0]
    assert "wm-est" not in exact and "benadering" not in exact
    data = rdata.load(store_path)
    fiche = report.area_html(APPROX_AREA, 2016, 2024, data=data)
    assert " b (0-100, hoger is meer achterstand)" in fiche  # the index value's mark
    assert f"b: {words}: een benadering" in fiche
