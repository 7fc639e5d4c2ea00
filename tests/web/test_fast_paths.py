"""The in-memory paths of the website (issue 6) give exactly what the DataFrame paths gave:
``/api/v1/value`` from :class:`wijkmonitor.web.data.ValueIndex` byte for byte equal to the
former implementation (DuckDB query + pandas per request, kept here as the reference), for a
sample of real units including suppressed and missing values; caches follow the store file
(a replaced store gives a new index and new responses)."""

from __future__ import annotations

import os
import random
import shutil

import duckdb
import pytest
from fastapi.testclient import TestClient

from wijkmonitor.uncertainty import approximation_text, interval_fields, level_of_code, rounding_context
from wijkmonitor.web.app import create_app
from wijkmonitor.web.data import REASONS, WebStore, dumps, records


def legacy_value(ws: WebStore, unit: str, indicator: str, year: int) -> bytes | int:
    """``/api/v1/value`` as it was before the index: the body, or 404."""
    u = ws.unit(unit)
    if u is None or indicator not in ws.catalogue:
        return 404
    df = ws.unit_values(u.id, indicator)
    row = df[df["period"] == year]
    ind = ws.catalogue[indicator]
    base = dict(unit=u.id, unit_name=u.name, indicator=indicator, indicator_name=ind.name,
                unit_of_measure=ind.unit, period=year)
    if row.empty:
        return dumps(base | dict(value=None, status="niet beschikbaar",
                                 reason=REASONS["niet beschikbaar"]))
    rec = records(row)[0]
    # the publication of the value (a count rounded by its publisher gets that interval): an
    # area_values row's source, kind and parts, else the CBS region's own source_id and level
    av = ws.area_values()
    a = av[(av["unit_id"] == u.id) & (av["indicator"] == indicator) & (av["period"] == year)]
    if len(a):
        ctx = rounding_context(a.iloc[:1])
        pub = dict(source=ctx["source"][0], level=ctx["level"][0], n_parts=ctx["n_parts"][0])
    else:
        pub = dict(source=rec["source"], level=level_of_code(u.id), n_parts=1)
    # issue 15: every shown value carries its 95 % interval (the fields of `wijkmonitor value`);
    # an area value added up with a stand-in weight names the approximation, which widens it
    return dumps(base | rec | dict(approximation=approximation_text(rec["source"]))
                 | interval_fields(ind, rec["value"], rec["numerator"], rec["denominator"],
                                   status=rec["status"], method=rec["source"], **pub))


def _sample(path, n: int, where: str = "", table: str = "indicator_values", seed: int = 6) -> list:
    unit = "region_code" if table == "indicator_values" else "unit_id"
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT {unit}, indicator, period FROM {table} {where} "
                           f"USING SAMPLE {n} ROWS (reservoir, {seed})").fetchall()


def test_value_json_is_the_former_json(client, real_store):
    ws = client.app.state.ws
    cases = (_sample(real_store, 150) + _sample(real_store, 100, "WHERE status <> 'ok'")
             + _sample(real_store, 150, table="area_values")
             + _sample(real_store, 50, "WHERE status <> 'ok'", table="area_values"))
    # ids as a user may type them, other years, unknown units and indicators
    cases += [("gm0344", "inwoners", 2020), (" GM0363 ", "inwoners", 2020),
              ("utrecht-overvecht~rest", "inwoners", 2020), ("utrecht-overvecht~x", "inwoners", 2020),
              ("G4", "inwoners", 1999), ("NL", "inwoners", 2020), ("NL00", "inwoners", 2020),
              ("alle:nplv", "inwoners", 2020), ("onbekend", "inwoners", 2020),
              ("GM0344", "geen_indicator", 2020), ("BU03440300", "inwoners", 2100)]
    rng = random.Random(6)
    rng.shuffle(cases)
    seen = set()
    for unit, ind, year in cases:
        r = client.get(f"/api/v1/value/{unit}/{ind}/{year}")
        ref = legacy_value(ws, unit, ind, year)
        if ref == 404:
            assert r.status_code == 404, (unit, ind, year)
            continue
        assert r.status_code == 200 and r.content == ref, (unit, ind, year, r.content, ref)
        seen.add(r.json()["status"])
    # a year outside 1900-2100 is refused at the edge (hardening issue; it was 'niet beschikbaar')
    r = client.get("/api/v1/value/BU03440300/inwoners/99999")
    assert r.status_code == 422 and "hoogstens 2100" in r.json()["detail"]
    # suppressed and missing values are among the compared ones, and never a number
    assert {"ok", "geheim", "niet beschikbaar"} <= seen, seen
    idx = ws.value_index()
    assert idx.nbytes() < 200e6


def test_value_index_follows_the_store_file(real_store, tmp_path):
    """Replacing the store file (as a build does, with os.replace) gives a new index and the
    new values, without restarting."""
    path = tmp_path / "store.duckdb"
    shutil.copy(real_store, path)
    with duckdb.connect(str(path), read_only=True) as con:
        code, ind, year, value = con.execute(
            "SELECT region_code, indicator, period, value FROM indicator_values WHERE status = 'ok' "
            "AND region_code LIKE 'GM%' AND geo_year = period ORDER BY ALL LIMIT 1").fetchone()
    with TestClient(create_app(path)) as c:
        ws = c.app.state.ws
        url = f"/api/v1/value/{code}/{ind}/{year}"
        assert c.get(url).json()["value"] == pytest.approx(value)
        gaps = c.get("/api/v1/gaps", params=dict(areas="utrecht-overvecht")).content
        first = ws.value_index()
        assert ws.value_index() is first and len(ws.lru("gaps")) == 1
        new = tmp_path / "new.duckdb"
        shutil.copy(path, new)
        with duckdb.connect(str(new)) as con:
            con.execute("UPDATE indicator_data SET value = value + 1000 "
                        "WHERE rid = (SELECT rid FROM obs_regions WHERE region_code = ?) "
                        "AND iid = (SELECT iid FROM iv_indicators WHERE indicator = ?) AND period = ?",
                        [code, ind, year])
            con.execute("CHECKPOINT")  # into the file itself (no WAL left beside it)
        os.replace(new, path)
        assert c.get(url).json()["value"] == pytest.approx(value + 1000)
        assert ws.value_index() is not first
        assert len(ws.lru("gaps")) == 0
        assert c.get("/api/v1/gaps", params=dict(areas="utrecht-overvecht")).content == gaps


def test_gap_json_is_cached_per_query_and_equal_to_the_frame(client):
    ws = client.app.state.ws
    for params in (dict(areas="rotterdam-zuid"), dict(areas="rotterdam-zuid", indicator="eenzaam_pct"),
                   dict(areas="nplv", baseline=2016, latest=2020, reference="G4")):
        a = client.get("/api/v1/gaps", params=params)
        b = client.get("/api/v1/gaps", params=params)
        assert a.status_code == 200 and a.content == b.content
        df = ws.gaps(params["areas"] if params["areas"] == "nplv" else [params["areas"]],
                     params.get("baseline", 2012), params.get("latest", 2024),
                     params.get("reference", "gemeente"))
        if "indicator" in params:
            df = df[df["indicator"] == params["indicator"]]
        assert a.json() == records(df.reset_index(drop=True))
    assert client.get("/api/v1/gaps", params=dict(areas="bestaat-niet")).status_code == 404
    csv = client.get("/api/v1/gaps", params=dict(areas="rotterdam-zuid", format="csv"))
    assert csv.status_code == 200 and csv.text.startswith("area")


def test_area_page_is_cached_but_shows_an_edit_at_once(real_store, tmp_path):
    """The parts of the area page from the analytical store come from a cache; the editable
    store's section (streefwaarden) follows the editable store: a target set after the page
    was cached shows on the next request."""
    from wijkmonitor.local import accounts, db, targets
    from wijkmonitor.local.permissions import SystemActor

    url = f"sqlite:///{tmp_path / 'edit.sqlite'}"
    area = "utrecht-overvecht"
    with TestClient(create_app(real_store, database_url=url), base_url="http://127.0.0.1") as c:
        ws = c.app.state.ws
        before = c.get(f"/gebied/{area}").text
        assert "NPLV-doel eenzaamheid" not in before
        assert len(ws.lru("gebied_pages")) == 1
        with db.session_scope(url) as s:
            accounts.create_user(s, SystemActor(), "utrecht", "gemeente-editor",
                                 "correct horse battery", gemeente="GM0344")
        with db.session_scope(url) as s:
            targets.set_target(s, accounts.get_user(s, "utrecht"), area, "eenzaam_pct",
                               target_value=40, target_year=2030, baseline_year=2012,
                               reason="NPLV-doel eenzaamheid")
        after = c.get(f"/gebied/{area}").text
        assert len(ws.lru("gebied_pages")) == 1  # served from the cache ...
        assert "NPLV-doel eenzaamheid" in after  # ... with the new target
        section = after[after.index('id="lokaal"'):]
        assert "Eenzaamheid" in section[:section.index("</section>")]
        # everything else is the same page
        assert before[:before.index('id="lokaal"')] == after[:after.index('id="lokaal"')]
        assert before[before.index('id="per-indicator"'):] == after[after.index('id="per-indicator"'):]


def test_area_page_section_is_kept_per_content_revision(real_store, tmp_path, monkeypatch):
    """The editable store's section is read once per area and content revision (the database
    raises it on every write, migration 0003), so that a cached page costs one row, not three
    tables: requests without a write in between read nothing; a write through the application
    or by plain SQL shows on the next request; without the revision (a schema from before
    0003) the section is read per request, as before."""
    import sqlalchemy as sa

    from wijkmonitor.local import accounts, db, public, targets
    from wijkmonitor.local.permissions import SystemActor

    calls = []
    real_section = public.area_section

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real_section(*args, **kwargs)

    monkeypatch.setattr(public, "area_section", counting)
    url = f"sqlite:///{tmp_path / 'edit.sqlite'}"
    area = "utrecht-overvecht"
    with TestClient(create_app(real_store, database_url=url), base_url="http://127.0.0.1") as c:
        def page() -> str:
            r = c.get(f"/gebied/{area}")
            assert r.status_code == 200
            return r.text

        page(), page()
        assert calls == [area]  # the second request read nothing
        with db.session_scope(url) as s:  # an account is not public content
            accounts.create_user(s, SystemActor(), "utrecht", "gemeente-editor",
                                 "correct horse battery", gemeente="GM0344")
        page()
        assert len(calls) == 1
        with db.session_scope(url) as s:
            targets.set_target(s, accounts.get_user(s, "utrecht"), area, "eenzaam_pct",
                               target_value=40, target_year=2030, baseline_year=2012,
                               reason="NPLV-doel eenzaamheid")
        assert "NPLV-doel eenzaamheid" in page() and len(calls) == 2
        with db.get_engine(url).begin() as conn:  # past the application
            conn.execute(sa.text("UPDATE targets SET reason = 'Bijgesteld doel'"))
        text = page()
        assert "Bijgesteld doel" in text and "NPLV-doel eenzaamheid" not in text and len(calls) == 3
        # compressed, the same section from the same cache entry
        gz = c.get(f"/gebied/{area}", headers={"accept-encoding": "gzip"})
        assert gz.headers["content-encoding"] == "gzip" and "Bijgesteld doel" in gz.text
        assert len(calls) == 3
        # an editable store without the revision: read per request
        with db.get_engine(url).begin() as conn:
            conn.execute(sa.text("DROP TABLE content_revision"))
        page(), page()
        assert len(calls) == 5


def test_serve_warms_the_value_index_at_start(real_store, monkeypatch):
    """With WIJKMONITOR_WARM=1 (set by ``wijkmonitor serve``) a worker builds the value index
    when it starts, so the first visitor of /api/v1/value does not wait for it; without it
    (tests, notebooks) nothing is read before the first request."""
    import time

    monkeypatch.setenv("WIJKMONITOR_WARM", "1")
    with TestClient(create_app(real_store)) as c:
        ws = c.app.state.ws
        deadline = time.monotonic() + 120
        while ws.peek("value_index") is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ws.peek("value_index") is not None
        r = c.get("/api/v1/value/GM0344/inwoners/2024")
        assert r.status_code == 200 and r.json()["status"] == "ok"
    monkeypatch.delenv("WIJKMONITOR_WARM")
    with TestClient(create_app(real_store)) as c:
        time.sleep(0.5)
        assert c.app.state.ws.peek("value_index") is None


def test_api_json_writes_the_stored_doubles(client, real_store):
    """Numbers in the API are the stored doubles in their shortest form (a notebook reads back
    exactly what the store holds), never pandas.to_json's 15-decimal artefacts such as
    ``10298366.199999999254942``."""
    import json as jsonlib
    import re

    with duckdb.connect(str(real_store), read_only=True) as con:
        unit, ind = con.execute(
            "SELECT unit_id, indicator FROM area_values WHERE status = 'ok' AND numerator <> round(numerator) "
            "ORDER BY unit_id, indicator LIMIT 1").fetchone()
        stored = con.execute("SELECT period, value, numerator, denominator FROM area_values "
                             "WHERE unit_id = ? AND indicator = ?", [unit, ind]).fetchall()
    r = client.get("/api/v1/values", params={"unit": unit, "indicator": ind})
    assert r.status_code == 200
    for number in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", r.text):
        assert repr(float(number)) == number, number
    got = {rec["period"]: rec for rec in jsonlib.loads(r.text)}
    for period, value, num, den in stored:
        assert got[period]["value"] == value and got[period]["numerator"] == num
        assert got[period]["denominator"] == den
