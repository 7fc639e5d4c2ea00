"""`/api/v1/value` carries the value's 95 % interval (issue 15, deliverable 1): the same
``lower``, ``upper``, ``interval_method`` as `wijkmonitor value` and the gap output."""

from __future__ import annotations

import math

import pytest

from wijkmonitor import analysis, api

Z = 1.959963984540054


def test_area_value_has_the_model_interval_by_hand(client):
    # Overvecht 2020, ervaren gezondheid 69,9 with weight W = 24 020 (inhabitants 25+);
    # uncertainty.yaml pins a = 0.695, b = 14.55, p0 = 0.787:
    # se = sqrt(a^2/4 + b^2/(2W)) x sqrt(0.699 x 0.301 / (0.787 x 0.213)) = 0.353784 x 1.120326 = 0.396354
    # 69.9 -/+ 1.959964 x 0.396354 = 69.1232 .. 70.6768
    r = client.get("/api/v1/value/utrecht-overvecht/ervaren_gezondheid_pct/2020")
    assert r.status_code == 200
    j = r.json()
    assert j["value"] == 69.9 and j["denominator"] == 24020
    se = math.sqrt(0.695 ** 2 / 4 + 14.55 ** 2 / (2 * 24020)) * math.sqrt(0.699 * 0.301 / (0.787 * 0.213))
    assert j["lower"] == pytest.approx(69.9 - Z * se, abs=1e-6)
    assert j["upper"] == pytest.approx(69.9 + Z * se, abs=1e-6)
    assert j["interval_method"] == "model" and "benadering" in j["interval_note"]


def test_same_interval_in_api_cli_and_gap(client, real_store):
    """The gemeente Amsterdam 2020 (eenzaamheid, published 53,2): one figure and one interval in
    the web API, `wijkmonitor value` and the stedelijk gemiddelde of the gap."""
    web = client.get("/api/v1/value/GM0363/eenzaam_pct/2020").json()
    cli = api.value("GM0363", "eenzaam_pct", 2020, path=real_store)
    g = analysis.gaps(areas="amsterdam-nieuw-west", indicators=["eenzaam_pct"], baseline=2012, latest=2020,
                      path=real_store).iloc[0]
    assert web["value"] == cli["value"] == g["reference_latest"] == 53.2
    assert web["lower"] < 53.2 < web["upper"]
    assert web["lower"] == pytest.approx(cli["lower"], abs=1e-9) == pytest.approx(g["reference_lower_latest"], abs=1e-9)
    assert web["upper"] == pytest.approx(cli["upper"], abs=1e-9) == pytest.approx(g["reference_upper_latest"], abs=1e-9)
    assert web["interval_method"] == cli["interval_method"] == "model"


def test_no_interval_where_none_is_known(client):
    # a count (inwoners): method "geen" -> no bounds; a suppressed value: no bounds either
    j = client.get("/api/v1/value/GM0344/inwoners/2020").json()
    assert j["lower"] is None and j["upper"] is None and j["interval_method"] is None
