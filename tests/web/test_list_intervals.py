"""The list endpoints (`/api/v1/values`, `/api/v1/region-values`), their downloads and the
indicator page's ranking table carry each value's 95 % interval (issue 15, deliverable 1):
the same ``lower``, ``upper``, ``interval_method``, ``interval_note`` as `/api/v1/value`."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest
from scipy import stats

Z = 1.959963984540054
FIELDS = ("value", "lower", "upper", "interval_method", "interval_note")
REGION_COLUMNS = ["code", "name", "name_year", "gemeente", "geo_year", "period", "value", "status",
                  "estimate", "source", "reason", "lower", "upper", "interval_method", "interval_note"]


def _wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson score interval in %, written out from Wilson (1927)."""
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return 100 * (centre - half), 100 * (centre + half)


def test_region_values_wilson_by_hand(client):
    # Utrecht 2024, inwoners van 65+: 40 261 of 374 238 (the published counts, as
    # /api/v1/value gives them); Wilson: 10,659 .. 10,858 %
    rows = client.get("/api/v1/region-values", params=dict(indicator="inwoners_65plus_pct", period=2024,
                                                          level="gemeente")).json()
    one = next(r for r in rows if r["code"] == "GM0344")
    v = client.get("/api/v1/value/GM0344/inwoners_65plus_pct/2024").json()
    assert (v["numerator"], v["denominator"]) == (40261, 374238)
    lo, hi = _wilson(40261, 374238)
    assert (round(lo, 3), round(hi, 3)) == (10.659, 10.858)
    assert one["lower"] == pytest.approx(lo, abs=1e-9) and one["upper"] == pytest.approx(hi, abs=1e-9)
    assert one["interval_method"] == "wilson" and "Wilson" in one["interval_note"]
    assert {k: one[k] for k in FIELDS} == {k: v[k] for k in FIELDS}
    # the existing fields first and in their order, the interval last
    assert list(one) == REGION_COLUMNS


def test_region_values_poisson_by_hand(client):
    # Utrecht 2023, WW per 1 000: 2 990 of 367 947 inhabitants; the exact (Garwood) interval of
    # the count, chi2(0.025; 2k)/2 .. chi2(0.975; 2k+2)/2, per 1 000: 7,837 .. 8,423
    # (normal check: 2 990 -/+ 1,96 x sqrt(2 990) = 2 883 .. 3 097 -> 7,83 .. 8,42)
    rows = client.get("/api/v1/region-values", params=dict(indicator="ww_per_1000", period=2023,
                                                          level="gemeente")).json()
    one = next(r for r in rows if r["code"] == "GM0344")
    lo = stats.chi2.ppf(0.025, 2 * 2990) / 2 * 1000 / 367947
    hi = stats.chi2.ppf(0.975, 2 * 2991) / 2 * 1000 / 367947
    assert (round(lo, 2), round(hi, 2)) == (7.84, 8.42)
    # the WW count is published rounded to tens (uncertainty.yaml count_rounding, measured):
    # the Poisson interval is widened by the rounding of one count, z x 10 / sqrt(6) = 8,0016
    # persons -> 8,0016 x 1000 / 367 947 = 0,02175 per 1 000 each side (the gemeente population
    # is not rounded): 7,816 .. 8,445
    extra = 1.959964 * 10 / math.sqrt(6) * 1000 / 367947
    assert round(extra, 5) == 0.02175
    assert one["lower"] == pytest.approx(lo - extra, abs=1e-6) and one["upper"] == pytest.approx(hi + extra, abs=1e-6)
    assert one["interval_method"] == "poisson_afronding"


def test_region_values_equal_the_single_value_endpoint(client):
    """Every wijk of Utrecht 2020 (ervaren gezondheid, RIVM model): the row of the list and
    `/api/v1/value` give the same value and interval; one by hand: Leidsche Rijn 82,8 with
    weight 31 105 -> se = sqrt(0,695^2/4 + 14,55^2/(2 x 31 105)) x sqrt(0,828 x 0,172 / (0,787 x 0,213))."""
    rows = client.get("/api/v1/region-values", params=dict(indicator="ervaren_gezondheid_pct", period=2020,
                                                          level="wijk", gemeente="GM0344")).json()
    assert len(rows) == 10
    for r in rows:
        v = client.get(f"/api/v1/value/{r['code']}/ervaren_gezondheid_pct/2020").json()
        assert {k: r[k] for k in FIELDS} == {k: v[k] for k in FIELDS}, r["code"]
    lr = next(r for r in rows if r["code"] == "WK034409")
    se = math.sqrt(0.695 ** 2 / 4 + 14.55 ** 2 / (2 * 31105)) * math.sqrt(0.828 * 0.172 / (0.787 * 0.213))
    assert lr["value"] == 82.8
    assert lr["lower"] == pytest.approx(82.8 - Z * se, abs=1e-6) and lr["upper"] == pytest.approx(82.8 + Z * se, abs=1e-6)
    assert lr["interval_method"] == "model"


def test_values_carry_the_interval_of_the_value_endpoint(client):
    # Overvecht 2020, ervaren gezondheid 69,9, W = 24 020: 69,123 .. 70,677 (as test_value_interval)
    rows = client.get("/api/v1/values", params=dict(unit="utrecht-overvecht", indicator="ervaren_gezondheid_pct",
                                                    period=2020)).json()
    assert len(rows) == 1
    r = rows[0]
    assert list(r) == ["unit", "indicator", "period", "value", "status", "reason", "estimate", "numerator",
                       "denominator", "source", "lower", "upper", "interval_method", "interval_note"]
    se = math.sqrt(0.695 ** 2 / 4 + 14.55 ** 2 / (2 * 24020)) * math.sqrt(0.699 * 0.301 / (0.787 * 0.213))
    assert r["lower"] == pytest.approx(69.9 - Z * se, abs=1e-6) and r["upper"] == pytest.approx(69.9 + Z * se, abs=1e-6)
    v = client.get("/api/v1/value/utrecht-overvecht/ervaren_gezondheid_pct/2020").json()
    assert {k: r[k] for k in FIELDS} == {k: v[k] for k in FIELDS}


def test_values_without_an_interval_stay_null(client):
    # a count (inwoners: no interval known) and a value not shown (Utrecht has no published
    # 65+ share in 2020): all four interval fields null
    rows = client.get("/api/v1/values", params=dict(unit="GM0344", indicator="inwoners", period=2020)).json()
    assert rows and all(r["lower"] is None and r["interval_method"] is None for r in rows)
    rows = client.get("/api/v1/region-values", params=dict(indicator="inwoners_65plus_pct", period=2020,
                                                          level="gemeente")).json()
    one = next(r for r in rows if r["code"] == "GM0344")
    assert one["value"] is None and one["status"] != "ok"
    assert (one["lower"], one["upper"], one["interval_method"], one["interval_note"]) == (None,) * 4


def test_dutch_downloads_have_the_interval_columns(client):
    params = dict(jaar=2020, niveau="wijk", gemeente="GM0344", formaat="csv")
    body = client.get("/indicator/ervaren_gezondheid_pct", params=params).content
    df = pd.read_csv(io.BytesIO(body), sep=";", decimal=",", encoding="utf-8-sig")
    assert {"ondergrens", "bovengrens", "intervalmethode", "toelichting interval"} <= set(df.columns)
    lr = df[df["CBS-code"] == "WK034409"].iloc[0]
    assert lr["ondergrens"] < lr["waarde"] == 82.8 < lr["bovengrens"]
    en = pd.read_csv(io.BytesIO(client.get("/api/v1/values", params=dict(
        unit="utrecht-overvecht", indicator="ervaren_gezondheid_pct", format="csv")).content))
    assert list(en.columns)[-4:] == ["lower", "upper", "interval_method", "interval_note"]


def test_indicator_page_shows_the_interval_next_to_the_value(client):
    # Leidsche Rijn 2020: 82,8 with 82,16 .. 83,44 -> "(82,2–83,4)" in the catalogue's 1 decimal
    html = client.get("/indicator/ervaren_gezondheid_pct",
                      params=dict(jaar=2020, niveau="wijk", gemeente="GM0344")).text
    row = html[html.index('href="/gebied/WK034409"'):]
    row = row[:row.index("</tr>")]
    assert "82,8" in row and '<span class="wm-interval" title="95%-interval">(82,2–83,4)</span>' in row
    assert "Waarde <span class=\"wm-small\">(95%-interval)</span>" in html
    assert "Tussen haakjes het 95%-interval: benadering van de modelonzekerheid" in html


def test_indicator_page_leaves_out_the_rounding_interval(client):
    # published KWB percentages get +/- half a unit in the API (method afronding); the page
    # shows no interval for them, as the area page: the rounding is in the shown decimals
    html = client.get("/indicator/koopwoningen_pct", params=dict(jaar=2020, niveau="gemeente")).text
    assert 'class="wm-interval"' not in html and "Tussen haakjes het 95%-interval" not in html
    rows = client.get("/api/v1/region-values", params=dict(indicator="koopwoningen_pct", period=2020,
                                                          level="gemeente")).json()
    ok = [r for r in rows if r["status"] == "ok"]
    assert ok and all(r["interval_method"] == "afronding" and r["upper"] - r["lower"] == pytest.approx(1.0)
                      for r in ok[:20])
