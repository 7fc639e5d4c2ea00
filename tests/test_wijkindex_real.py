"""The Wijkindex on the store built from the real data (issue 16).

Expected orderings are checked against the raw indicator values the store holds
(``indicator_values``), read here independently of :mod:`wijkmonitor.wijkindex`.
"""

from __future__ import annotations

import hashlib
import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from wijkmonitor import api
from wijkmonitor.areas import load_areas
from wijkmonitor.cli import app
from wijkmonitor.wijkindex.model import DEFAULT_FILE, load_index


@pytest.fixture(scope="module")
def con(real_store):
    c = duckdb.connect(str(real_store), read_only=True)
    yield c
    c.close()


def _raw(con, indicator: str, period: int, prefix: str = "BU") -> pd.Series:
    """Shown values per code: the division of that year, else the most recent one."""
    df = con.execute("""
        SELECT region_code, value FROM (
            SELECT region_code, value, status, row_number() OVER (PARTITION BY region_code
                ORDER BY (geo_year = period) DESC, geo_year DESC) rn
            FROM indicator_values WHERE indicator = ? AND period = ? AND left(region_code, 2) = ?)
        WHERE rn = 1 AND status = 'ok'""", [indicator, period, prefix]).df()
    return df.set_index("region_code")["value"]


def test_stored_with_version_hash_and_references(con):
    version = hashlib.sha256(DEFAULT_FILE.read_bytes()).hexdigest()[:12]
    meta = con.execute("SELECT index_version, draws, base_year FROM wijkindex_meta WHERE index_id = 'wijkindex'").fetchall()
    assert meta == [(version, 1000, 2020)]
    versions = con.execute("SELECT DISTINCT index_version FROM wijkindex_values").fetchall()
    assert versions == [(version,)]
    n = con.execute("""SELECT count(*) FROM wijkindex_values WHERE component = 'wijkindex'
                       AND unit_kind = 'buurt' AND period = 2024 AND status = 'ok'""").fetchone()[0]
    assert n > 5000  # a national buurt index for 2024
    ref = con.execute("SELECT id, reference_year, n FROM wijkindex_reference WHERE kind = 'indicator'").df()
    assert set(ref["id"]) == {i.id for _, i in load_index().indicators()}
    assert (ref["n"] > 1000).all()


def test_every_index_row_says_which_domains_it_had(con):
    df = con.execute("""SELECT status, domains_available, reason FROM wijkindex_values
                        WHERE component = 'wijkindex'""").df()
    all5 = ",".join(d.id for d in load_index().domeinen)
    assert (df.loc[df["status"] == "ok", "domains_available"] == all5).all()
    missing = df[df["status"] != "ok"]
    assert missing["reason"].str.startswith("geen score voor domein").all()


def test_veiligheid_domain_orders_buurten_as_their_raw_crime_rate(con):
    x = con.execute("""SELECT unit_id, value FROM wijkindex_values WHERE component = 'wijkindex_veiligheid'
                       AND unit_kind = 'buurt' AND period = 2024 AND status = 'ok'""").df().set_index("unit_id")["value"]
    raw = _raw(con, "misdrijven_per_1000", 2024)
    both = pd.concat([x.rename("x"), raw.rename("raw")], axis=1, join="inner").sort_values(["raw", "x"])
    assert len(both) > 5000
    assert (np.diff(both["x"].to_numpy()) >= -1e-9).all()  # more crime never scores better


def test_focusgebied_buurten_rank_in_the_worse_half_of_their_gemeente_where_they_lag(con):
    """For the buurten of the NPLV focusgebieden: where a buurt's raw values of every indicator
    of a domain are in the worst third of its gemeente's buurten (read from indicator_values,
    the years the index used), its domain score ranks in the worse half of its gemeente."""
    spec = load_index()
    wijken = {c for a in load_areas().values() if a.programme == "nplv" and a.level == "wijk" for c in a.codes}
    buurten = set(con.execute("SELECT code FROM regions WHERE level = 'buurt' AND year = 2024 "
                              "AND wijk_code IN (SELECT unnest(?))", [sorted(wijken)]).df()["code"])
    rows = con.execute("""SELECT unit_id, gemeente, domain, rank_gemeente, n_gemeente, indicators_used
                          FROM wijkindex_values WHERE unit_kind = 'buurt' AND period = 2024
                          AND domain IS NOT NULL AND status = 'ok'""").df()
    rows = rows[rows["unit_id"].isin(buurten)]
    gem_of = con.execute("SELECT code, gemeente_code FROM regions WHERE level = 'buurt' AND year = 2024").df() \
        .set_index("code")["gemeente_code"]
    raw_cache: dict = {}
    checked = 0
    for r in rows.itertuples(index=False):
        used = dict(p.split(":") for p in r.indicators_used.split(";"))
        dom = next(d for d in spec.domeinen if d.id == r.domain)
        lags = []
        for ind in dom.indicatoren:
            if ind.id not in used:
                continue
            key = (ind.id, int(used[ind.id]))
            if key not in raw_cache:
                raw_cache[key] = _raw(con, *key)
            raw = raw_cache[key]
            peers = raw[raw.index.isin(gem_of[gem_of == r.gemeente].index)]
            if r.unit_id not in raw.index or len(peers) < 6:
                lags.append(False)
                continue
            v = raw[r.unit_id]
            lags.append(v >= peers.quantile(2 / 3) if ind.worse_is_higher else v <= peers.quantile(1 / 3))
        if lags and all(lags):
            assert r.rank_gemeente <= r.n_gemeente / 2, r
            checked += 1
    assert checked >= 50


def test_wijk_without_published_value_takes_its_buurten_added_up(con):
    from wijkmonitor.catalogue import load_catalogue
    from wijkmonitor.wijkindex.build import read_inputs

    inp = read_inputs(con, ["misdrijven_per_1000"], load_catalogue())
    wk = inp[(inp["unit_kind"] == "wijk") & (inp["period"] == 2024)].set_index("unit_id")["value"]
    assert len(wk) > 1000
    # a wijk whose every 2024 buurt has a shown rate: 1000 x sum of crimes / sum of inhabitants
    parts = con.execute("""
        SELECT r.wijk_code, count(*) AS n, count(*) FILTER (WHERE v.status = 'ok') AS n_ok,
               sum(v.numerator) AS num, sum(v.denominator) AS den
        FROM regions r LEFT JOIN indicator_values v ON v.region_code = r.code
             AND v.indicator = 'misdrijven_per_1000' AND v.period = 2024 AND v.geo_year = 2024
        WHERE r.level = 'buurt' AND r.year = 2024 GROUP BY r.wijk_code""").df()
    # since the woonikveilig wijk crime counts (the sum of the wijk's buurten over the wijk's own
    # KWB population) most wijken have a value of their own: that value is used as it is
    own = con.execute("""SELECT region_code, value FROM indicator_values WHERE indicator = 'misdrijven_per_1000'
                         AND period = 2024 AND geo_year = 2024 AND status = 'ok'
                         AND left(region_code, 2) = 'WK'""").df().set_index("region_code")["value"]
    mine = wk[wk.index.isin(own.index)]
    assert len(mine) > 1000
    assert (mine - own[mine.index]).abs().max() < 1e-9
    # a wijk without a value of its own takes its buurten added up
    full = parts[(parts["n"] == parts["n_ok"]) & parts["wijk_code"].isin(wk.index)
                 & ~parts["wijk_code"].isin(own.index)]
    for r in full.itertuples(index=False):
        assert wk[r.wijk_code] == pytest.approx(1000 * r.num / r.den, rel=1e-9)


def _cli(*args):
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.stdout, res.stderr if hasattr(res, "stderr") else ""


def test_select_bottom_decile_and_domains_below(real_store, con):
    code, out, _ = _cli("select", "--level", "buurt", "--year", "2024", "--gemeente", "GM0518",
                        "--format", "json", "--store", str(real_store))
    assert code == 0, out
    body = json.loads(out)
    expected = con.execute("""SELECT unit_id FROM wijkindex_values WHERE component = 'wijkindex'
                              AND unit_kind = 'buurt' AND period = 2024 AND gemeente = 'GM0518'
                              AND decile = 1""").df()["unit_id"]
    assert sorted(a["code"] for a in body["areas"]) == sorted(expected)
    assert len(expected) > 0
    assert all(a["decile"] == 1 and a["rank_nl_interval"][0] <= a["rank_nl"] <= a["rank_nl_interval"][1]
               for a in body["areas"])
    code, out, _ = _cli("select", "--level", "wijk", "--year", "2024", "--rule", "domains-below:3",
                        "--format", "csv", "--store", str(real_store))
    assert code == 0, out
    df = pd.read_csv(pd.io.common.StringIO(out))
    counts = con.execute("""SELECT unit_id, count(*) FILTER (WHERE decile = 1) AS k FROM wijkindex_values
                            WHERE domain IS NOT NULL AND unit_kind = 'wijk' AND period = 2024
                            GROUP BY unit_id""").df().set_index("unit_id")["k"]
    assert set(df["code"]) == set(counts[counts >= 3].index)


@pytest.mark.parametrize("args, text", [
    (["--level", "gemeente", "--year", "2024"], "niveau"),
    (["--level", "buurt", "--year", "2024", "--rule", "top-decile"], "onbekende regel"),
    (["--level", "buurt", "--year", "2024", "--rule", "domains-below:9"], "K moet"),
    (["--level", "buurt", "--year", "2024", "--gemeente", "Utrecht"], "gemeentecode"),
    (["--level", "buurt", "--year", "1999"], "jaren met cijfers"),
])
def test_select_bad_input_is_a_dutch_error(real_store, args, text):
    res = CliRunner().invoke(app, ["select", *args, "--store", str(real_store)])
    assert res.exit_code == 2
    assert text in res.output


def test_value_of_index_and_domain_like_any_indicator(real_store, con):
    row = con.execute("""SELECT unit_id, value FROM wijkindex_values WHERE component = 'wijkindex'
                         AND unit_kind = 'wijk' AND period = 2024 AND status = 'ok' LIMIT 1""").fetchone()
    v = api.value(row[0], "wijkindex", 2024, path=real_store)
    assert v["value"] == row[1] and v["status"] == "ok" and v["polarity"] == "hoger is slechter"
    assert v["source"]["source_id"].startswith("wijkindex:")
    assert v["rank_nl_interval"][0] <= v["rank_nl"] <= v["rank_nl_interval"][1]
    dom = api.value(row[0], "wijkindex_gezondheid", 2024, path=real_store)
    assert dom["status"] == "ok" and 0 <= dom["value"] <= 100
    none = api.value(row[0], "wijkindex", 2017, path=real_store)
    assert none["value"] is None and none["status"] == "niet beschikbaar" and none["reason"]
    with pytest.raises(KeyError):
        api.value(row[0], "wijkindex_bestaat_niet", 2024, path=real_store)
    # the web API's value endpoint
    from wijkmonitor.web.data import WebStore
    ws = WebStore(real_store)
    body = json.loads(ws.value_json(row[0], "wijkindex", 2024))
    assert body["value"] == row[1] and body["indicator_name"] == "Wijkindex"
    # the CLI
    res = CliRunner().invoke(app, ["value", "--region", row[0], "--indicator", "wijkindex", "--year", "2024",
                                   "--format", "json", "--store", str(real_store)])
    assert res.exit_code == 0 and json.loads(res.stdout)["value"] == row[1]


def test_selection_page_lists_the_cli_selection(real_store, con):
    from fastapi.testclient import TestClient

    from wijkmonitor.web.app import create_app

    client = TestClient(create_app(real_store))
    r = client.get("/wijkindex?niveau=buurt&jaar=2024&gemeente=GM0344")
    assert r.status_code == 200
    expected = con.execute("""SELECT unit_id FROM wijkindex_values WHERE component = 'wijkindex'
                              AND unit_kind = 'buurt' AND period = 2024 AND gemeente = 'GM0344'
                              AND decile = 1""").df()["unit_id"]
    assert len(expected) > 0 and all(f"/gebied/{c}" in r.text for c in expected)
    # the machine-readable CSV (the site's default CSV is Dutch: ';' and decimal comma)
    csv = client.get("/wijkindex?niveau=buurt&jaar=2024&gemeente=GM0344&formaat=csv-en")
    assert csv.status_code == 200
    assert set(pd.read_csv(pd.io.common.StringIO(csv.text))["code"]) == set(expected)
    nl = client.get("/wijkindex?niveau=buurt&jaar=2024&gemeente=GM0344&formaat=csv")
    assert nl.status_code == 200 and nl.content.startswith(b"\xef\xbb\xbf")
    assert len(pd.read_csv(pd.io.common.StringIO(nl.content.decode("utf-8-sig")), sep=";")) == len(expected)
    # bad input: a Dutch message on the page, never a 500
    for q in ("regel=top-decile", "niveau=gemeente", "jaar=1999", "gemeente=Utrecht"):
        bad = client.get(f"/wijkindex?{q}")
        assert bad.status_code == 200 and "Geen selectie" in bad.text, q
    assert client.get("/wijkindex?regel=x&formaat=csv").status_code == 400
    # linked from every page (footer)
    assert 'href="/wijkindex"' in client.get("/bronnen").text


def test_api_indicator_list_and_indicator_endpoint_know_the_index(real_store, con):
    from fastapi.testclient import TestClient

    from wijkmonitor.web.app import create_app

    client = TestClient(create_app(real_store))
    ids = [r["id"] for r in client.get("/api/v1/indicators").json()]
    assert "wijkindex" in ids and "wijkindex_veiligheid" in ids
    one = client.get("/api/v1/indicators/wijkindex").json()
    years = [r[0] for r in con.execute("""SELECT DISTINCT period FROM wijkindex_values WHERE component = 'wijkindex'
                                          AND unit_kind = 'buurt' AND status = 'ok' ORDER BY 1""").fetchall()]
    assert one["periods"]["buurt"] == years and 2024 in years
    assert one["unit"] == "score 0-100"
    assert client.get("/api/v1/indicators/wijkindex_bestaat_niet").status_code == 404
    # the value endpoint answers as for any indicator
    row = con.execute("""SELECT unit_id, value FROM wijkindex_values WHERE component = 'wijkindex_wonen'
                         AND unit_kind = 'buurt' AND period = 2024 AND status = 'ok' LIMIT 1""").fetchone()
    body = client.get(f"/api/v1/value/{row[0]}/wijkindex_wonen/2024").json()
    assert body["value"] == row[1] and body["status"] == "ok"


def test_index_map_page_and_geojson_show_the_stored_deciles(real_store, con):
    from fastapi.testclient import TestClient

    from wijkmonitor.web.app import create_app

    client = TestClient(create_app(real_store))
    stored = con.execute("""SELECT unit_id, decile FROM wijkindex_values WHERE component = 'wijkindex'
                            AND unit_kind = 'buurt' AND period = 2024 AND gemeente = 'GM0344'""").df()
    ok = stored.dropna()
    r = client.get("/wijkindex/kaart?niveau=buurt&jaar=2024&gemeente=GM0344")
    assert r.status_code == 200 and 'class="wm-map"' in r.text and 'data-wm-kaart="/api/v1/kaart/wijkindex/' in r.text
    assert all(f'data-code="{c}"' in r.text for c in stored["unit_id"])
    gj = client.get("/api/v1/kaart/wijkindex/wijkindex?jaar=2024&niveau=buurt&gemeente=GM0344").json()
    legend = gj["wijkmonitor"]["legend"]
    assert [x["label"] for x in legend[:10]] == ["1 (meeste achterstand)"] + [str(d) for d in range(2, 10)] + \
        ["10 (minste achterstand)"]
    # the legend counts the units on the map by their stored decile
    on_map = {f["properties"]["code"] for f in gj["features"]}
    for d in range(1, 11):
        assert legend[d - 1]["count"] == int((ok["decile"] == d).sum()), d
    assert on_map <= set(stored["unit_id"])
    # a domain, a gemeente map, and bad input: a Dutch message naming the field, never a 500
    assert client.get("/wijkindex/kaart?component=wijkindex_veiligheid&niveau=wijk&jaar=2024&gemeente=GM0518"
                      ).status_code == 200
    assert client.get("/wijkindex/kaart?niveau=gemeente&jaar=2020").status_code == 200
    for q, field in (("component=bestaat_niet", "component"), ("niveau=land", "niveau")):
        bad = client.get(f"/wijkindex/kaart?{q}")
        assert bad.status_code == 200 and "Geen kaart" in bad.text and f"veld {field}" in bad.text
    assert client.get("/wijkindex/kaart?jaar=1800").status_code == 422
    assert client.get("/api/v1/kaart/wijkindex/bestaat_niet?jaar=2024").status_code == 404
    assert client.get("/api/v1/kaart/wijkindex/wijkindex?jaar=2024&niveau=buurt").status_code == 422
    # the indicator link of the list goes to the map
    red = client.get("/indicator/wijkindex_wonen?niveau=wijk", follow_redirects=False)
    assert red.status_code == 307 and red.headers["location"].startswith("/wijkindex/kaart?component=wijkindex_wonen")


def test_area_page_and_fiche_show_the_stored_index_and_domain_profile(real_store, con):
    from fastapi.testclient import TestClient

    from wijkmonitor import report
    from wijkmonitor.nlformat import nl_number
    from wijkmonitor.report import data as rdata
    from wijkmonitor.web.app import create_app

    row = con.execute("""SELECT value, rank_nl, rank_nl_low, rank_nl_high FROM wijkindex_values
                         WHERE component = 'wijkindex' AND unit_id = 'WK034403' AND period = 2024""").fetchone()
    doms = con.execute("""SELECT domain, value FROM wijkindex_values WHERE unit_id = 'WK034403' AND period = 2024
                          AND domain IS NOT NULL AND status = 'ok'""").fetchall()
    client = TestClient(create_app(real_store))
    page = client.get("/gebied/WK034403").text
    sec = page.split('id="wijkindex"')[1].split("</section>")[0]
    assert nl_number(row[0], 1) in sec and f"rang {row[1]} ({row[2]}-{row[3]})" in sec
    assert sec.count("<rect") == len(doms) == 5 and 'role="img"' in sec
    for _, v in doms:
        assert nl_number(v, 1) in sec  # the table beside the chart
    # the national report lists the focusgebieden by index with the stored rank intervals
    # the year in which most focusgebieden have an index (ties: the later year); 2024 on the
    # mirror until the Amsterdam recoding gave Amsterdam's areas an index in 2021-2023
    year = con.execute("""SELECT period FROM wijkindex_values
                          WHERE component = 'wijkindex' AND programme = 'nplv' AND status = 'ok'
                          GROUP BY period ORDER BY count(*) DESC, period DESC LIMIT 1""").fetchone()[0]
    ranked = con.execute("""SELECT i.name, v.rank_programme, v.rank_programme_low, v.rank_programme_high
                            FROM wijkindex_values v JOIN area_index i ON i.area_id = v.unit_id
                            WHERE v.component = 'wijkindex' AND v.programme = 'nplv' AND v.status = 'ok'
                              AND v.period = ? ORDER BY v.rank_programme""", [year]).fetchall()
    data = rdata.load(real_store)
    html = report.national_html("nplv", 2016, 2024, data=data)
    part = html.split('id="wijkindex"')[1].split("</section>")[0]
    assert f"naar wijkindex {year}" in part
    pos = [part.index(f"rang {r} ({lo}-{hi})") for _, r, lo, hi in ranked]
    assert len(ranked) >= 2 and pos == sorted(pos)
    assert "verschillen niet echt" in part
    fiche = report.area_html("utrecht-overvecht", 2016, 2024, data=data)
    assert "Wijkindex" in fiche and "Tabel 1.2 – Domeinen van de wijkindex" in fiche
