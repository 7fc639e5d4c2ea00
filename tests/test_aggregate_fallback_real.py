"""The stand-in weight (households for the woningvoorraad, ``weight_fallback``) on the store
built from the real mirror: an area's 2024 WOZ value and share of koopwoningen, derived by hand
from the raw woonikveilig JSON; the calibration in ``uncertainty.yaml`` reproduced; the
approximation named in the gap output.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from wijkmonitor import store, uncertainty
from wijkmonitor.areas import load_areas

WOONIKVEILIG = "cbs-kwb-steden/woonikveilig-kwb2024-misdrijven/data/gemeente"
APPROX_WIJK = "benadering: gewogen met huishoudens, woningvoorraad per wijk ontbreekt"


@pytest.fixture(scope="module")
def con(real_store):
    c = store.connect(real_store)
    yield c
    c.close()


def raw_parts(data_dir, area_id):
    """The area's parts as the raw JSON of its gemeente gives them (KWB 2024: wozWaarde,
    koopwoningen, huishoudens), read without the adapter."""
    area = load_areas()[area_id]
    doc = json.loads((data_dir / WOONIKVEILIG / f"{area.gemeente}.json").read_text(encoding="utf-8"))
    records = doc["wijken"] if area.level == "wijk" else doc["buurten"]
    found = {r["code"]: r["demografie"] for r in records if r["code"] in set(area.codes)}
    assert set(found) == set(area.codes)  # every part exists in 2024 with the same code
    return found


@pytest.mark.parametrize("indicator, field", [("woz_gemiddeld", "wozWaarde"), ("koopwoningen_pct", "koopwoningen")])
def test_rotterdam_zuid_2024_is_the_household_weighted_mean_of_its_wijken(con, data_dir, indicator, field):
    parts = raw_parts(data_dir, "rotterdam-zuid")
    # Feijenoord, IJsselmonde, Charlois: published values, no woningvoorraad in the file
    assert all(p[field] is not None and p["huishoudens"] > 0 for p in parts.values())
    expected = (sum(p[field] * p["huishoudens"] for p in parts.values())
                / sum(p["huishoudens"] for p in parts.values()))
    row = con.execute("SELECT value, status, method, coverage, denominator, publication FROM area_values "
                      "WHERE unit_id = 'rotterdam-zuid' AND indicator = ? AND period = 2024",
                      [indicator]).fetchone()
    assert row[1] == "ok" and row[0] == pytest.approx(expected, rel=1e-12)
    assert row[2] == f"opgeteld; {APPROX_WIJK}" and row[3] == 1.0
    assert row[4] == sum(p["huishoudens"] for p in parts.values())
    assert row[5] == "85984NED, indeling 2024"


def test_the_gap_output_names_the_approximation_and_widens_the_interval(real_store, con):
    out = subprocess.run([sys.executable, "-m", "wijkmonitor", "gap", "--area", "rotterdam-zuid",
                          "--indicator", "woz_gemiddeld", "--format", "json", "--store", str(real_store)],
                         capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)[0]
    assert r["latest_year"] == 2024 and r["status_latest"] == "ok"
    assert r["approximation_latest"] == APPROX_WIJK and r["reference_approximation_latest"] is None
    assert r["interval_method"] == "vervangend_gewicht"
    p95 = uncertainty.fallback_parameters()["woz_gemiddeld"]["p95"]
    half = 0.5 + p95 * r["value_latest"]
    assert r["lower_latest"] == pytest.approx(r["value_latest"] - half)
    assert r["upper_latest"] == pytest.approx(r["value_latest"] + half)
    # the gemeente is published: its own rounding only
    assert r["reference_upper_latest"] - r["reference_lower_latest"] == pytest.approx(1.0)


def test_the_stand_in_is_used_only_where_the_own_weight_is_missing(con):
    """Every approximated area value is one whose parts lack the woningvoorraad in that period
    (2024 on the mirror); where the woningvoorraad is published (Utrecht 2022/2023, Amsterdam
    2017/2019, Heerlen 2016-2019) the areas keep it."""
    rows = con.execute("SELECT DISTINCT period FROM area_values WHERE method LIKE '%benadering:%'").fetchall()
    assert [r[0] for r in rows] == [2024]
    n = con.execute("SELECT count(*) FROM area_values WHERE unit_kind = 'area' AND method LIKE 'opgeteld' "
                    "AND indicator = 'koopwoningen_pct' AND status = 'ok' AND period < 2024").fetchone()[0]
    assert n > 0


def test_the_calibration_is_reproducible(con):
    """``uncertainty.yaml`` ``weight_fallback`` is what ``scripts/calibrate-weight-fallback``
    computes from the store."""
    got = uncertainty.calibrate_weight_fallback(con)
    declared = yaml.safe_load(open(uncertainty._PARAMS, encoding="utf-8"))["weight_fallback"]
    assert set(got) == set(declared)
    for ind_id, d in declared.items():
        g = got[ind_id]
        assert g["weight"] == d["weight"] and g["scale"] == d["scale"]
        assert (g["n"], g["n_wijken"]) == (d["n"], d["n_wijken"])
        for k in ("p95", "rms", "mean", "max"):
            assert g[k] == pytest.approx(d[k], abs=5e-5), (ind_id, k)
    # households approximate dwellings closely: the WOZ value within a few per cent for 95 %
    assert declared["woz_gemiddeld"]["p95"] < 0.05 and declared["koopwoningen_pct"]["p95"] < 3


def test_the_script_prints_the_yaml_block(real_store):
    script = Path(__file__).resolve().parents[1] / "scripts" / "calibrate-weight-fallback"
    out = subprocess.run([sys.executable, str(script), str(real_store)],
                         capture_output=True, text=True, check=True).stdout
    declared = yaml.safe_load(open(uncertainty._PARAMS, encoding="utf-8"))["weight_fallback"]
    printed = yaml.safe_load(out)["weight_fallback"]
    for ind_id, d in declared.items():
        assert printed[ind_id]["p95"] == pytest.approx(d["p95"], abs=5e-5)
        assert np.isclose(printed[ind_id]["mean"], d["mean"], atol=5e-5)


def test_the_area_page_marks_the_approximation_and_shows_its_interval(real_store, con):
    from fastapi.testclient import TestClient

    from wijkmonitor.nlformat import nl_number
    from wijkmonitor.web.app import create_app

    row = con.execute("SELECT value FROM area_values WHERE unit_id = 'rotterdam-zuid' "
                      "AND indicator = 'woz_gemiddeld' AND period = 2024").fetchone()
    p95 = uncertainty.fallback_parameters()["woz_gemiddeld"]["p95"]
    half = 0.5 + p95 * row[0]
    page = TestClient(create_app(real_store)).get("/gebied/rotterdam-zuid").text
    assert f'title="{APPROX_WIJK}">b</abbr>' in page
    assert f"{APPROX_WIJK}: een benadering, het interval bevat de gemeten fout ervan" in page
    # the value with its widened interval (a plain rounding interval is not shown)
    assert f"({nl_number(row[0] - half, 0)}–{nl_number(row[0] + half, 0)})" in page


def test_the_api_names_the_approximation_and_its_interval(real_store):
    from fastapi.testclient import TestClient

    from wijkmonitor.web.app import create_app

    client = TestClient(create_app(real_store))
    r = client.get("/api/v1/value/rotterdam-zuid/koopwoningen_pct/2024").json()
    assert r["approximation"] == APPROX_WIJK and r["interval_method"] == "vervangend_gewicht"
    p95 = uncertainty.fallback_parameters()["koopwoningen_pct"]["p95"]
    assert r["upper"] - r["lower"] == pytest.approx(2 * (0.5 + p95))
    # a published value: no approximation, the rounding only
    g = client.get("/api/v1/value/GM0599/koopwoningen_pct/2024").json()
    assert g["approximation"] is None and g["interval_method"] == "afronding"
    rows = client.get("/api/v1/values?unit=rotterdam-zuid&indicator=koopwoningen_pct&period=2024").json()
    rows = rows["data"] if isinstance(rows, dict) else rows
    assert [x["interval_method"] for x in rows] == ["vervangend_gewicht"]


def test_readme_counts_of_areas_with_housing_figures_and_an_index_in_2024(con):
    """README, Wijkindex, "What the data allow per year": with the stand-in weight 54 of the 60
    areas (19 of the 20 focusgebieden) have WOZ and koopwoningen for 2024, and 58 (all 20
    focusgebieden) a 2024 index; the rest are named with their reason there."""
    both = dict(con.execute("""
        SELECT i.programme, count(*) FROM (
            SELECT unit_id FROM area_values WHERE unit_kind = 'area' AND period = 2024 AND status = 'ok'
              AND indicator IN ('woz_gemiddeld', 'koopwoningen_pct') GROUP BY 1 HAVING count(*) = 2) v
        JOIN area_index i ON i.area_id = v.unit_id GROUP BY 1""").fetchall())
    assert both == {"nplv": 19, "aandachtswijken": 35}
    index = dict(con.execute("""
        SELECT programme, count(*) FILTER (WHERE status = 'ok') FROM wijkindex_values
        WHERE unit_kind = 'area' AND period = 2024 AND component = 'wijkindex' GROUP BY 1""").fetchall())
    assert index == {"nplv": 20, "aandachtswijken": 38}
    missing = sorted(r[0] for r in con.execute("""
        SELECT unit_id FROM wijkindex_values WHERE unit_kind = 'area' AND period = 2024
          AND component = 'wijkindex' AND status <> 'ok'""").fetchall())
    assert missing == ["amsterdam-bos-en-lommer", "groningen-de-hoogte-korrewegwijk"]
    wonen = con.execute("""SELECT count(*) FILTER (WHERE status = 'ok') FROM wijkindex_values
        WHERE unit_kind = 'area' AND period = 2024 AND component = 'wijkindex_wonen'""").fetchone()[0]
    assert wonen == 59


def test_readme_the_approximated_areas_and_the_calibration_table(con):
    """README: 32 of the 54 areas with 2024 WOZ figures are weighted with households; the
    calibration table's rounded figures are those of uncertainty.yaml."""
    n = con.execute("""SELECT count(*) FROM area_values WHERE unit_kind = 'area' AND period = 2024
        AND indicator = 'woz_gemiddeld' AND status = 'ok' AND method LIKE '%benadering: gewogen met huishoudens%'""").fetchone()[0]
    assert n == 32
    prm = uncertainty.fallback_parameters()
    assert (round(100 * prm["woz_gemiddeld"]["p95"], 2), round(100 * prm["woz_gemiddeld"]["mean"], 2)) == (1.42, 0.30)
    assert (round(prm["koopwoningen_pct"]["p95"], 2), round(prm["koopwoningen_pct"]["mean"], 2)) == (1.33, 0.10)
    assert (prm["woz_gemiddeld"]["n"], prm["woz_gemiddeld"]["n_wijken"]) == (249, 114)


def test_the_outcomemonitor_table_counts_the_approximations(real_store, con):
    out = subprocess.run([sys.executable, "-m", "wijkmonitor", "gap", "--areas", "nplv", "--format", "markdown",
                          "--store", str(real_store)], capture_output=True, text=True, check=True).stdout
    n = con.execute("""SELECT count(*) FROM area_values v JOIN area_index i ON i.area_id = v.unit_id
        WHERE i.programme = 'nplv' AND v.period = 2024 AND v.indicator = 'woz_gemiddeld' AND v.status = 'ok'
          AND v.method LIKE '%benadering:%'""").fetchone()[0]
    assert n > 10 and f"Gemiddelde WOZ-waarde 2024: {n} gebieden" in out
    one = subprocess.run([sys.executable, "-m", "wijkmonitor", "gap", "--area", "rotterdam-zuid", "--indicator",
                          "woz_gemiddeld", "--store", str(real_store)], capture_output=True, text=True, check=True).stdout
    one = " ".join(one.split())  # the console wraps long lines
    assert one.count(f"Gemiddelde WOZ-waarde 2024: {APPROX_WIJK}.") == 1
