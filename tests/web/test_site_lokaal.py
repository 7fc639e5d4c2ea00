"""The editable store inside the real site (``create_app``) on the real built store: /beheer is
served, the area page shows streefwaarden with their progress status and rule, interventions,
and local values labelled with their source and kept apart from the CBS values; the JSON API
exposes the same."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from wijkmonitor import api as wm
from wijkmonitor.local import accounts, db, interventions, targets, uploads
from wijkmonitor.local.permissions import SystemActor

PASSWORD = "correct horse battery"
AREA = "utrecht-overvecht"


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@pytest.fixture(scope="module")
def site(real_store, tmp_path_factory):
    """The site on the real store with its own SQLite editable store holding targets (one per
    progress status, judged on the real CBS values), an intervention and a local upload."""
    url = f"sqlite:///{tmp_path_factory.mktemp('lokaal') / 'edit.sqlite'}"
    from wijkmonitor.web.app import create_app

    app = create_app(real_store, database_url=url)  # migrates the embedded SQLite store
    assert db.current_revision(url) == db.head_revision()
    beweeg = wm.series(AREA, "beweegrichtlijn_pct", path=real_store)
    with db.session_scope(url) as s:
        accounts.create_user(s, SystemActor(), "utrecht", "gemeente-editor", PASSWORD,
                             gemeente="GM0344")
    with db.session_scope(url) as s:
        ed = accounts.get_user(s, "utrecht")
        # Overvecht, real CBS/RIVM values: good health 65,8 % (2012) -> 69,9 % (2020);
        # loneliness 53,4 % (2012) -> 58,2 % (2020)
        targets.set_target(s, ed, AREA, "ervaren_gezondheid_pct", target_value=75,
                           target_year=2030, baseline_year=2012, reason="NPLV-doel gezondheid")
        targets.set_target(s, ed, AREA, "eenzaam_pct", target_value=40, target_year=2030,
                           baseline_year=2012, reason="minder eenzaamheid")
        targets.set_target(s, ed, AREA, "beweegrichtlijn_pct",
                           target_value=float(beweeg.iloc[-1]) - 1, target_year=2030,
                           baseline_year=int(beweeg.index[0]))
        # health figures exist for 2012, 2016 and 2020 only: nothing after a 2020 baseline
        targets.set_target(s, ed, AREA, "ervaren_gezondheid_65plus_pct", target_value=60,
                           target_year=2030, baseline_year=2020)
        interventions.save_intervention(
            s, ed, title="Buurtteam Overvecht", description="Integraal wijkteam",
            actielijn="Gezondheid", organisation_type="gemeente", organisation="Gemeente Utrecht",
            status="lopend", budget_eur="250000.00", areas=[AREA],
            indicators=["eenzaam_pct"], evaluation_links=["https://example.org/evaluatie"])
        uploads.upload(s, ed, b"region;indicator;year;value\n"
                              b"utrecht-overvecht;eenzaam_pct;2020;12,3\n"
                              b"utrecht-overvecht;eenzaam_pct;2023;11,1\n"
                              b"WK034403;inwoners;2024;35000\n", "eigen.csv", "GM0344",
                       source="Gemeente Utrecht, Volksgezondheidsmonitor 2023")
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def test_site_serves_beheer(site):
    r = site.get("/beheer/inloggen")
    assert r.status_code == 200 and '<html lang="nl"' in r.text
    assert 'name="csrf_token"' in r.text and "Inloggen" in r.text
    r = site.get("/beheer/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/beheer/inloggen")
    assert site.get("/api/v1/session").json()["user"] is None
    paths = site.get("/api/openapi.json").json()["paths"]
    assert {"/api/v1/targets", "/api/v1/interventions", "/api/v1/local-values",
            "/api/v1/values"} <= set(paths)
    assert {"get", "post"} <= set(paths["/api/v1/targets"])
    assert {"put", "delete"} <= set(paths["/api/v1/targets/{target_id}"])


def test_area_page_shows_targets_with_progress_status_and_rule(site):
    page = site.get(f"/gebied/{AREA}").text
    section = page[page.index('id="lokaal"'):]
    section = section[:section.index("</section>")]
    table = section[section.index('id="cap-streefwaarden"'):section.index("</table>")]
    rows = {}
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]:
        head = _text(re.search(r"<th[^>]*>(.*?)</th>", tr, re.S)[1])
        rows[head] = _text(tr)
    assert set(rows) == {"Ervaren gezondheid goed of zeer goed", "Eenzaamheid",
                         "Voldoet aan de beweegrichtlijn",
                         "Ervaren gezondheid goed of zeer goed (65+)"}
    health = rows["Ervaren gezondheid goed of zeer goed"]
    assert "65,8 % (2012)" in health and "69,9 % (2020)" in health and "75,0 % in 2030" in health
    # issue 15 changed this: the straight-line rule said "op koers" by 0,011 (69,9 against an
    # expected 69,89). The default rule fits a line through 2012, 2016 and 2020 (65,8; 63,5;
    # 69,9; with equal weights 68,45 in 2020, weighted by the values' errors about 68,6 +/- 0,7):
    # its whole interval lies below 69,89 -> achter
    assert "Achter Achter: de trend blijft (met zijn hele interval) achter bij de verwachte waarde" in health
    assert "de trendlijn door alle metingen (2012, 2016, 2020) geeft in 2020 68,5" in health
    assert "is 69,89" in health and "landelijk veranderde de waarde tussen 2012 en 2020" in health
    assert "NPLV-doel gezondheid" in health
    lonely = rows["Eenzaamheid"]
    assert "53,4 % (2012)" in lonely and "58,2 % (2020)" in lonely
    assert "Achter Achter: de trend blijft" in lonely and "lager is beter" in lonely
    assert "Behaald Behaald:" in rows["Voldoet aan de beweegrichtlijn"]
    assert "Geen gegevens Geen gegevens: er is geen meting na de nulmeting (2020)" in \
        rows["Ervaren gezondheid goed of zeer goed (65+)"]
    # the rule is stated once in general, with the four statuses
    rule = _text(section)
    for word in ("Regel:", "Behaald:", "Op koers:", "Achter:", "Niet te zeggen:", "Geen gegevens:"):
        assert word in rule
    # the same in the public JSON API
    listed = site.get("/api/v1/targets", params={"area": AREA}).json()
    status = {t["indicator_id"]: (t["progress"]["status"], t["progress"]["label"])
              for t in listed}
    assert status == {"ervaren_gezondheid_pct": ("behind", "achter"),
                      "eenzaam_pct": ("behind", "achter"),
                      "beweegrichtlijn_pct": ("achieved", "behaald"),
                      "ervaren_gezondheid_65plus_pct": ("no_data", "geen gegevens")}
    assert all(t["progress"]["rule"] for t in listed)


def test_area_page_and_api_show_interventions(site):
    page = _text(site.get(f"/gebied/{AREA}").text)
    assert "Buurtteam Overvecht — lopend" in page
    assert "Actielijn: Gezondheid." in page and "Gemeente Utrecht (gemeente)" in page
    assert "Budget: € 250.000." in page
    items = site.get("/api/v1/interventions", params={"area": AREA}).json()
    assert [(i["title"], i["status"], i["budget_eur"]) for i in items] == [
        ("Buurtteam Overvecht", "lopend", 250000.0)]
    csv = site.get("/api/v1/interventions", params={"area": AREA, "format": "csv"})
    assert csv.status_code == 200 and "Buurtteam Overvecht" in csv.text
    # another area has none and says so
    other = _text(site.get("/gebied/rotterdam-zuid").text)
    assert "Er zijn (nog) geen interventies in Rotterdam-Zuid geregistreerd." in other
    assert "Voor Rotterdam-Zuid zijn (nog) geen streefwaarden vastgelegd." in other


def test_local_values_shown_apart_from_cbs_with_their_source(site):
    """The gemeente uploaded 12,3 % loneliness for 2020; CBS/RIVM says 58,2 %. The page keeps
    both, each with its source; the CBS tables, the CBS API and the progress use only CBS."""
    page = site.get(f"/gebied/{AREA}").text
    local = page[page.index('id="cap-lokale-cijfers"'):]
    local = local[:local.index("</table>")]
    text = _text(local)
    assert "lokale cijfers (aangeleverd door de gemeente, niet van het CBS)" in text
    assert "Eenzaamheid Utrecht Overvecht 2020 12,3 % Gemeente Utrecht, " \
           "Volksgezondheidsmonitor 2023 (upload 1," in text
    assert "Eenzaamheid Utrecht Overvecht 2023 11,1 %" in text
    assert "Inwoners WK034403 2024 35.000" in text
    # the CBS block of the same indicator still shows only the CBS value
    block = page[page.index('id="cap-eenzaam_pct"'):]
    block = _text(block[:block.index("</table>")])
    assert "2020 58,2" in block and "12,3" not in block and "11,1" not in block
    cbs = site.get("/api/v1/value/utrecht-overvecht/eenzaam_pct/2020").json()
    assert cbs["value"] == pytest.approx(58.2, abs=0.05)
    # progress is judged on CBS, not on the (better) local figure
    (lonely,) = [t for t in site.get("/api/v1/targets", params={"area": AREA}).json()
                 if t["indicator_id"] == "eenzaam_pct"]
    assert lonely["progress"]["latest_year"] == 2020
    assert lonely["progress"]["latest_value"] == pytest.approx(58.2, abs=0.05)
    assert lonely["progress"]["observed_source"].startswith("CBS")
    # the API labels local values as local, with the source
    values = site.get("/api/v1/local-values", params={"area": AREA}).json()
    assert {v["origin"] for v in values} == {"lokaal"}
    assert {v["source"] for v in values} == {"Gemeente Utrecht, Volksgezondheidsmonitor 2023"}
    assert [(v["region"], v["year"], v["value"]) for v in values] == [
        (AREA, 2020, 12.3), (AREA, 2023, 11.1), ("WK034403", 2024, 35000.0)]


def test_pages_without_local_data_say_so(site):
    page = _text(site.get("/gebied/BU03440343").text)
    assert "Streefwaarden, interventies en lokale cijfers" in page
    assert "(nog) geen eigen cijfers aangeleverd" in page
    # groups have no section at all
    assert "Streefwaarden, interventies en lokale cijfers" not in site.get("/gebied/G4").text
