"""Online adapters (CBS StatLine OData via cbsodata, PDOK WFS via httpx) against recorded
responses shaped like the real APIs (tests/fixtures/online/, built from real mirror rows by
make_fixtures.py). Round trip: fetch -> mirror layout -> offline adapter -> same observations
as reading the real mirror file directly."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import numpy as np
import pandas as pd
import pytest
import requests

from wijkmonitor.config import data_dir
from wijkmonitor.sources import base, pdok_online, rivm_gezondheid, statline_online
from wijkmonitor.sources.base import SourceError

FIXTURES = Path(__file__).parent / "fixtures" / "online"
DATA = data_dir()
TODAY = dt.date(2025, 1, 15)
needs_mirror = pytest.mark.skipif(not (DATA / "rivm-gezondheid-wijk-buurt").is_dir(),
                                  reason="offline mirror not available")


class FakeCbs:
    """Stands in for ``requests.Session`` inside cbsodata: serves recorded OData pages."""

    def __init__(self, recorded: dict):
        self.recorded = recorded
        self.urls: list[str] = []

    def __call__(self):  # cbsodata calls Session()
        return self

    def send(self, prepared, **kwargs):
        self.urls.append(prepared.url)
        url = urlparse(prepared.url)
        parts = url.path.strip("/").split("/")  # ODataFeed/odata/<table>/<entity>
        assert parts[:2] == ["ODataFeed", "odata"], prepared.url
        table, entity = parts[2], parts[3]
        query = parse_qs(url.query)
        assert query.get("$format") == ["json"], prepared.url
        response = requests.models.Response()
        response.url = prepared.url
        pages = self.recorded.get(table, {}).get(entity)
        if pages is None:
            response.status_code = 404
            response._content = b'{"odata.error": {"code": "", "message": {"lang": "nl", "value": "not found"}}}'
            return response
        skip = int(query.get("$skip", ["0"])[0])
        offsets, start = {}, 0
        for i, page in enumerate(pages):
            offsets[start] = i
            start += len(page["value"])
        response.status_code = 200
        response._content = json.dumps(pages[offsets[skip]]).encode("utf-8")
        return response


@pytest.fixture
def fake_cbs(monkeypatch):
    import cbsodata.cbsodata3 as cbs3
    fake = FakeCbs(json.loads((FIXTURES / "cbs_odata.json").read_text(encoding="utf-8")))
    monkeypatch.setattr(cbs3, "Session", fake)
    return fake


@needs_mirror
def test_statline_50090ned_round_trip(tmp_path, fake_cbs):
    written = statline_online.fetch_statline("50090NED", tmp_path, today=TODAY)
    # three pages followed through odata.nextLink
    assert len([u for u in fake_cbs.urls if "UntypedDataSet" in u]) == 3
    names = sorted(p.name for p in written)
    assert names == ["50090NED_2020_18plus.csv", "50090NED_2020_18plus.json",
                     "50090NED_2020_65plus.csv", "50090NED_2020_65plus.json"]
    for age, real_file, n in (("18plus", "RIVM_gezondheid2020_18+.xlsx", 40),
                              ("65plus", "RIVM_gezondheid2020_65+.xlsx", 10)):
        fetched = rivm_gezondheid.read_file(tmp_path / "rivm-gezondheid-wijk-buurt" /
                                            f"50090NED_2020_{age}.csv", period=2020, age=age,
                                            data_dir=tmp_path)
        assert fetched.info.retrieved == "2025-01-15"
        assert fetched.info.location == f"rivm-gezondheid-wijk-buurt/50090NED_2020_{age}.csv"
        real = rivm_gezondheid.read_file(DATA / "rivm-gezondheid-wijk-buurt" / real_file,
                                         period=2020, age=age, data_dir=DATA)
        codes = set(fetched.observations.region_code)
        assert len(codes) == n
        cols = ["region_code", "geo_year", "period", "variable", "value", "status"]
        got = fetched.observations[cols].sort_values(cols[:4]).reset_index(drop=True)
        want = (real.observations[real.observations.region_code.isin(codes)][cols]
                .sort_values(cols[:4]).reset_index(drop=True))
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
        assert (got.status == "geheim").any()  # suppressed rows made the trip as geheim
    nl = rivm_gezondheid.read_file(
        tmp_path / "rivm-gezondheid-wijk-buurt/50090NED_2020_18plus.csv", period=2020, age="18plus")
    row = nl.observations[(nl.observations.region_code == "NL00") &
                          (nl.observations.variable == "gez_ervaren_goed_18plus")].iloc[0]
    assert row.value == 78.4 and row.status == "ok"


@needs_mirror
def test_rivm_reads_fetched_file_when_mirror_lacks_it(tmp_path, fake_cbs):
    statline_online.fetch_statline("50090NED", tmp_path, today=TODAY)
    results = rivm_gezondheid.read(tmp_path)
    assert sorted(r.info.source_id for r in results) == ["rivm-50090ned-2020-18plus",
                                                          "rivm-50090ned-2020-65plus"]
    assert any("niet in de mirror" in w for w in results[0].warnings)


@needs_mirror
def test_statline_kwb_round_trip(tmp_path, fake_cbs):
    written = statline_online.fetch_statline("85984NED", tmp_path, today=TODAY)
    folder = tmp_path / "cbs-statline-online" / "85984NED"
    assert {p.name for p in written} == {"UntypedDataSet.csv", "DataProperties.json",
                                         "TableInfos.json", "WijkenEnBuurten.json", "fetch.json"}
    recorded = json.loads((FIXTURES / "cbs_odata.json").read_text(encoding="utf-8"))
    pages = recorded["85984NED"]["UntypedDataSet"]
    assert len(pages) == 2  # paged through odata.nextLink
    assert json.loads((folder / "fetch.json").read_text())["rows"] == sum(len(p["value"]) for p in pages) == 22
    [result] = statline_online.read(tmp_path)
    obs, regions = result.observations, result.regions
    assert result.info.table_id == "85984NED" and result.info.retrieved == "2025-01-15"
    assert (obs.geo_year == 2024).all() and (obs.status == "ok").all()
    # same numbers as the real StatLine CSV export of the same table
    csv = pd.read_csv(DATA / "cbs-kwb/Kerncijfers_wijken_en_buurten_2024_geslachten.csv", sep=";",
                      dtype=str, encoding="utf-8-sig")
    csv["code"] = csv["Regioaanduiding/Codering (code)"].str.strip()
    csv = csv.set_index("code")
    for code in set(obs.region_code):
        a_inw = obs[(obs.region_code == code) & (obs.variable == "a_inw")].value.iloc[0]
        assert a_inw == float(csv.loc[code, "Bevolking/Aantal inwoners (aantal)"])
        a_65 = obs[(obs.region_code == code) & (obs.variable == "a_65_oo")].value.iloc[0]
        assert a_65 == float(csv.loc[code, "Bevolking/Leeftijdsgroepen/65 jaar of ouder (aantal)"])
    assert obs[(obs.region_code == "NL00") & (obs.variable == "a_inw")].value.iloc[0] == 17942942
    # region names come from the WijkenEnBuurten dimension
    wk = regions.set_index("code").loc["WK034403"]
    assert wk["name"] == csv.loc["WK034403", "Wijken en buurten"].strip() and wk["level"] == "wijk"


def test_statline_missing_stem_is_an_error(tmp_path):
    folder = tmp_path / "cbs-statline-online" / "84799NED"
    folder.mkdir(parents=True)
    pd.DataFrame({"ID": [0], "WijkenEnBuurten": ["NL00      "], "SoortRegio_2": ["Land"],
                  "AantalInwoners_5": ["  17407585"]}).to_csv(folder / "UntypedDataSet.csv", index=False)
    (folder / "fetch.json").write_text(json.dumps({"retrieved": "2025-01-15", "url": "x"}))
    with pytest.raises(SourceError) as err:
        statline_online.read(tmp_path)
    assert err.value.year == 2020 and err.value.field == "Mannen"
    assert "84799NED/UntypedDataSet.csv" in str(err.value)


def test_statline_unknown_table_404(tmp_path, fake_cbs):
    with pytest.raises(requests.HTTPError):
        statline_online.fetch_statline("99999NED", tmp_path)


# ----------------------------------------------------------------------------------- PDOK

def pdok_transport(pages: list[dict], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.url.host == "service.pdok.nl"
        assert request.url.path == "/cbs/wijkenbuurten/2024/wfs/v1_0"
        q = request.url.params
        assert q["request"] == "GetFeature" and q["typeNames"] == "gemeenten"
        assert q["outputFormat"] == "application/json"
        start, count = int(q["startIndex"]), int(q["count"])
        offset = 0
        for page in pages:
            if offset == start:
                return httpx.Response(200, json=page)
            offset += page["numberReturned"]
        return httpx.Response(200, json={**pages[-1], "features": [], "numberReturned": 0})
    return httpx.MockTransport(handler)


@needs_mirror
def test_pdok_round_trip(tmp_path):
    pages = json.loads((FIXTURES / "pdok_wfs_gemeenten_2024.json").read_text(encoding="utf-8"))
    seen: list[httpx.Request] = []
    with httpx.Client(transport=pdok_transport(pages, seen)) as client:
        path = pdok_online.fetch_pdok(2024, "gemeente", tmp_path, client=client, page_size=20,
                                      today=TODAY)
    assert [int(r.url.params["startIndex"]) for r in seen] == [0, 20]  # stops at numberMatched
    assert path == tmp_path / "cbs-pdok-wijkenbuurten" / "gemeente_2024.geojson"
    [result] = pdok_online.read(tmp_path)
    obs = result.observations
    assert result.info.retrieved == "2025-01-15"
    assert obs.region_code.nunique() == 30 and (obs.geo_year == 2024).all()
    real = json.loads((DATA / "cbs-geometries/gemeenten_2024.geojson").read_text(encoding="utf-8"))
    real = {f["properties"]["gemeentecode"]: f["properties"] for f in real["features"]}
    for var, key in (("a_inw", "aantal_inwoners"), ("p_65_oo", "65plus"), ("a_pau", "personenautos"),
                     ("g_hhgro", "gem_huishouden_grootte")):
        sub = obs[obs.variable == var]
        for code, value in zip(sub.region_code, sub.value):
            assert value == pytest.approx(real[code][key])
    names = result.regions.set_index("code")["name"]
    assert all(names[c] == real[c]["gemeentenaam"] for c in names.index)


def test_pdok_special_values_and_missing_property(tmp_path):
    props = {"gemeentecode": "GM9001", "gemeentenaam": "Testgemeente", "aantalInwoners": -99997,
             "mannen": -99995, "vrouwen": 510, "percentagePersonen0Tot15Jaar": 12.5,
             "percentagePersonen15Tot25Jaar": 10, "percentagePersonen25Tot45Jaar": 20,
             "percentagePersonen45Tot65Jaar": 30, "percentagePersonen65JaarEnOuder": 27.5,
             "aantalHuishoudens": None, "gemiddeldeHuishoudsgrootte": 2.1,
             "bevolkingsdichtheidInwonersPerKm2": 100, "personenautosTotaal": 400}
    page = {"type": "FeatureCollection", "numberMatched": 1, "numberReturned": 1,
            "features": [{"type": "Feature", "id": "gemeenten.1", "properties": props,
                          "geometry": {"type": "Point", "coordinates": [5.0, 52.0]}}]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=page))
    with httpx.Client(transport=transport) as client:
        pdok_online.fetch_pdok(2024, "gemeente", tmp_path, client=client, today=TODAY)
    obs = pdok_online.read(tmp_path)[0].observations.set_index("variable")
    assert obs.loc["a_inw", "status"] == "geheim" and np.isnan(obs.loc["a_inw", "value"])
    assert obs.loc["a_man", "status"] == "ontbreekt" and np.isnan(obs.loc["a_man", "value"])
    assert obs.loc["a_hh", "status"] == "ontbreekt"
    assert obs.loc["a_vrouw", "value"] == 510
    # a declared property absent from every feature: error naming file, year and property
    del props["personenautosTotaal"]
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=page))) as client:
        pdok_online.fetch_pdok(2024, "gemeente", tmp_path, client=client, today=TODAY)
    with pytest.raises(SourceError) as err:
        pdok_online.read(tmp_path)
    assert err.value.field == "personenautosTotaal" and err.value.year == 2024
    assert "gemeente_2024.geojson" in str(err.value)


def test_pdok_short_read_is_an_error(tmp_path):
    page = {"type": "FeatureCollection", "numberMatched": 5, "numberReturned": 1,
            "features": [{"type": "Feature", "properties": {}, "geometry": None}]}
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json=page))
    with httpx.Client(transport=transport) as client, pytest.raises(SourceError):
        pdok_online.fetch_pdok(2024, "gemeente", tmp_path, client=client, page_size=1000)
