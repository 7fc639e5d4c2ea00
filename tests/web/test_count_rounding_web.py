"""Counts rounded by their publisher carry the rounding interval on the web API too (issue 15,
deliverable 1), as `wijkmonitor value` gives it (tests/test_count_rounding.py)."""

from __future__ import annotations

from wijkmonitor import api


def test_wijk_population_has_the_rounding_interval_in_value_and_level_table(client, real_store):
    # Overvecht (WK034403), KWB 2024: 35 255, rounded at random to 5 at wijk level: +/- 4
    web = client.get("/api/v1/value/WK034403/inwoners/2024").json()
    cli = api.value("WK034403", "inwoners", 2024, path=real_store)
    assert web["value"] == cli["value"] == 35255.0
    assert (web["lower"], web["upper"]) == (cli["lower"], cli["upper"]) == (35251.0, 35259.0)
    assert web["interval_method"] == cli["interval_method"] == "afronding_aantal"
    rows = client.get("/api/v1/region-values", params=dict(indicator="inwoners", period=2024, level="wijk",
                                                           gemeente="GM0344")).json()
    row = next(r for r in rows if r["code"] == "WK034403")
    assert (row["lower"], row["upper"], row["interval_method"]) == (35251.0, 35259.0, "afronding_aantal")


def test_gemeente_population_published_unrounded_has_no_interval(client):
    rows = client.get("/api/v1/region-values", params=dict(indicator="inwoners", period=2024,
                                                           level="gemeente")).json()
    row = next(r for r in rows if r["code"] == "GM0344")
    assert row["value"] == 374238.0 and row["lower"] is None and row["interval_method"] is None


def test_area_summed_from_buurten_has_the_interval_of_the_sum_on_the_web(client):
    # Groningen-Noord 2024: 13 buurten of KWB 2024, each rounded at random to 5:
    # half = 1.959964 x 5 x sqrt(13/6) = 14.4248
    half = 1.959964 * 5 * (13 / 6) ** 0.5
    v = client.get("/api/v1/value/groningen-noord/inwoners/2024").json()
    assert v["interval_method"] == "afronding_aantal"
    assert abs(v["upper"] - v["value"] - half) < 1e-3 and abs(v["value"] - v["lower"] - half) < 1e-3
    rows = client.get("/api/v1/values", params=dict(unit="groningen-noord", indicator="inwoners",
                                                    period=2024)).json()
    assert len(rows) == 1
    assert (rows[0]["lower"], rows[0]["upper"], rows[0]["interval_method"]) == (v["lower"], v["upper"],
                                                                               "afronding_aantal")


def test_area_page_shows_the_count_interval_and_none_for_the_unrounded_gemeente(client):
    # Overvecht 2024 on its own page: 35.255 (35.251–35.259); Utrecht 374.238 without interval
    html = client.get("/gebied/utrecht-overvecht").text
    assert '35.255 <span class="wm-interval" title="95%-interval">(35.251–35.259)</span>' in html
    assert 'data-label="Eigen gemeente (Utrecht)">374.238</td>' in html
