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
