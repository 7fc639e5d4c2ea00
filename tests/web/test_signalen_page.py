"""The signalen page and endpoint: the disclaimer and the test figures are always there, the
national list holds only the flagged units, a gemeente list all its units, and bad parameters
are Dutch 4xx."""

from __future__ import annotations

from wijkmonitor import signalen


def test_api_signalen_national_and_per_gemeente(client):
    r = client.get("/api/v1/signalen", params={"niveau": "wijk"})
    assert r.status_code == 200
    doc = r.json()
    assert doc["disclaimer"] == signalen.DISCLAIMER
    assert doc["evaluation"]["tested_on"] == "2016->2020"
    n = doc["evaluation"]["n_units"]
    flagged = doc["signals"]
    # the national list: exactly the top 5 % (rounded), all flagged, ranks 1..k
    assert len(flagged) == round(0.05 * n) and all(s["signal"] for s in flagged)
    assert sorted(s["rank"] for s in flagged) == list(range(1, len(flagged) + 1))
    utrecht = client.get("/api/v1/signalen", params={"niveau": "wijk", "gemeente": "gm0344"}).json()
    codes = [s["code"] for s in utrecht["signals"]]
    assert codes and all(c.startswith("WK0344") for c in codes)
    assert any(not s["signal"] for s in utrecht["signals"])  # every wijk, not only the flagged
    assert all(s["name"] for s in utrecht["signals"])


def test_signalen_page_says_it_is_no_verdict(client):
    r = client.get("/signalen", params={"niveau": "wijk", "gemeente": "GM0344"})
    assert r.status_code == 200
    assert "geen oordeel" in r.text and "AUC" in r.text and "Overvecht" in r.text
    assert "<script>" not in r.text.split("</header>")[-1]


def test_signalen_bad_parameters_are_dutch_4xx(client):
    for params in ({"niveau": "land"}, {"gemeente": "GM12"}, {"gemeente": "<script>"}):
        r = client.get("/signalen", params=params)
        assert 400 <= r.status_code < 500 and "<script>" not in r.text
        a = client.get("/api/v1/signalen", params=params)
        assert a.status_code == 422
