"""Input bounds at the edge (hardening issue, item 3): the probe corpus of editor input.

Before the fix each payload below gave a 500 on PostgreSQL (and several on SQLite): a NUL byte
in any text field or login name, text longer than its column (actielijn, thema, organisatie,
bron, filename, link, a 301-character title), budget 1e13 (NUMERIC(14, 2) overflow), NaN,
``"title": 123``, ``target_value`` 10**400, duplicate milestone years, deeply nested JSON, ids
above 2^31 and names of 301+ characters. Every one must now be a Dutch 4xx that names the
field, with nothing written: every table's row count, the audit log and the stored rows are
compared before and after.
"""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa

from wijkmonitor.local import accounts, interventions, targets
from wijkmonitor.local.errors import ValidationFailed
from wijkmonitor.local.models import (AuditEntry, Intervention, InterventionArea,
                                      InterventionIndicator, InterventionLink, LocalUpload,
                                      LocalValue, Milestone, Target, User)

from test_web_security import PASSWORD, app, client, logged_in  # noqa: F401  (fixture + helpers)

MODELS = (User, Target, Milestone, Intervention, InterventionArea, InterventionIndicator,
          InterventionLink, LocalUpload, LocalValue, AuditEntry)
NUL = "a\x00b"


def state(Session) -> tuple:
    """Row count of every table plus the full content of targets and interventions."""
    with Session() as s:
        counts = tuple(s.scalar(sa.select(sa.func.count()).select_from(m)) for m in MODELS)
        tgts = [t.to_dict() for t in s.scalars(sa.select(Target).order_by(Target.id))]
        items = [i.to_dict() for i in s.scalars(sa.select(Intervention)
                                                .order_by(Intervention.id))]
        names = [(u.name, u.active) for u in s.scalars(sa.select(User).order_by(User.id))]
    for t in tgts:
        t.pop("updated_at")
    for i in items:
        i.pop("updated_at")
    return counts, tgts, items, names


@pytest.fixture
def stored(Session, users) -> dict:
    """One target (with a 2026 milestone) and one intervention, both in Overvecht (GM0344)."""
    with Session.begin() as s:
        who = accounts.get_user(s, "programma")
        t = targets.set_target(s, who, "utrecht-overvecht", "eenzaam_pct", target_value=45.0,
                               target_year=2030, milestones={2026: 48.0})
        i = interventions.save_intervention(s, who, title="Buurtteam",
                                            areas=["utrecht-overvecht"])
        return {"target": t.id, "intervention": i.id}


def editor(app):
    """A logged-in programme-team client that sends its CSRF token on every request (cookie
    sessions: one password check, not one per request as with HTTP Basic)."""
    c = logged_in(app, "programma")
    c.headers["X-CSRF-Token"] = c.get("/api/v1/session").json()["csrf_token"]
    return c


def raw_json(c, method: str, path: str, text: str):
    return c.request(method, path, content=text.encode("utf-8"),
                     headers={"Content-Type": "application/json"})


def assert_refused(r, field: str | None, *, status=(400, 404, 413, 422)):
    assert r.status_code in status, (r.status_code, r.text[:300])
    detail = r.json()["detail"]
    if field is not None:
        assert field in detail, (field, detail)
    # Dutch: no raw exception text, no English validation message
    for english in ("Input should", "String should", "value is not", "Traceback",
                    "IntegrityError", "DataError", "out of range"):
        assert english not in detail, detail


# --- JSON API: interventions ----------------------------------------------------------------

INTERVENTION = {"title": "Nieuw", "areas": ["utrecht-overvecht"]}
INTERVENTION_PROBES = [
    ({"title": NUL}, "title"),
    ({"title": "t" * 301}, "title"),
    ({"title": 123}, "title"),
    ({"title": None, "description": NUL}, "description"),
    ({"actielijn": "a" * 201}, "actielijn"),
    ({"actielijn": NUL}, "actielijn"),
    ({"theme": "t" * 201}, "theme"),
    ({"organisation": "o" * 301}, "organisation"),
    ({"organisation": NUL}, "organisation"),
    ({"organisation_type": "x" * 51}, "organisation_type"),
    ({"status": NUL}, "status"),
    ({"budget_eur": 1e13}, "budget_eur"),
    ({"budget_eur": "10000000000000"}, "budget_eur"),
    ({"budget_eur": "NaN"}, "budget_eur"),
    ({"budget_eur": "Infinity"}, "budget_eur"),
    ({"budget_eur": True}, "budget_eur"),
    ({"start_date": NUL}, "start_date"),
    ({"start_date": "2025-01-01" * 100}, "start_date"),
    ({"areas": [NUL]}, "areas"),
    ({"areas": ["a" * 201]}, "areas"),
    ({"areas": "utrecht-overvecht"}, "areas"),
    ({"indicators": [NUL]}, "indicators"),
    ({"indicators": ["i" * 101]}, "indicators"),
    ({"evaluation_links": ["https://example.org/" + "x" * 1000]}, "evaluation_links"),
    ({"evaluation_links": [{"url": "https://example.org", "label": "l" * 301}]},
     "evaluation_links"),
    ({"evaluation_links": [{"url": NUL}]}, "evaluation_links"),
    ({"evaluation_links": [{"url": "https://example.org", "extra": 1}]}, "evaluation_links"),
    ({"onbekend": 1}, "onbekend"),
]


def test_intervention_api_probes_are_dutch_4xx_and_write_nothing(app, Session, stored):
    c = editor(app)
    before = state(Session)
    for change, field in INTERVENTION_PROBES:
        for method, path, body in (
                ("POST", "/api/v1/interventions", dict(INTERVENTION, **change)),
                ("PUT", f"/api/v1/interventions/{stored['intervention']}", change)):
            if body.get("title", "") is None:
                body.pop("title")
            r = c.request(method, path, json=body)
            assert_refused(r, field)
            assert r.status_code == 422, (change, r.text)
    # NaN and Infinity as JSON literals (Python's json reads them)
    for literal in ("NaN", "Infinity", "-Infinity", "1e400"):
        r = raw_json(c, "POST", "/api/v1/interventions",
                     '{"title": "x", "areas": ["utrecht-overvecht"], "budget_eur": '
                     + literal + '}')
        assert_refused(r, "budget_eur")
    assert state(Session) == before

    # the boundaries themselves are accepted: 300 characters, the largest budget
    r = c.post("/api/v1/interventions", json=dict(
        INTERVENTION, title="t" * 300, actielijn="a" * 200, theme="t" * 200,
        organisation="o" * 300, budget_eur="999999999999.99",
        evaluation_links=[{"url": "https://e.org/" + "x" * 986, "label": "l" * 300}]))
    assert r.status_code == 201, r.text
    assert r.json()["budget_eur"] == 999999999999.99 and len(r.json()["title"]) == 300
    r = c.put(f"/api/v1/interventions/{stored['intervention']}",
              json={"budget_eur": "1000000000000"})
    assert_refused(r, "budget_eur")
    assert "999.999.999.999" in r.json()["detail"]


# --- JSON API: targets ----------------------------------------------------------------------

TARGET = {"area": "utrecht-overvecht", "indicator": "eenzaam_pct", "target_value": 40,
          "target_year": 2030}
TARGET_PROBES = [
    ({"reason": NUL}, "reason"),
    ({"reason": "r" * 10_001}, "reason"),
    ({"area": NUL}, "area"),
    ({"area": "a" * 301}, "area"),
    ({"indicator": NUL}, "indicator"),
    ({"indicator": "i" * 101}, "indicator"),
    ({"polarity": NUL}, "polarity"),
    ({"target_value": "NaN"}, "target_value"),
    ({"target_value": 1e300}, "target_value"),
    ({"target_value": True}, "target_value"),
    ({"target_value": [1]}, "target_value"),
    ({"target_year": 10**20}, "target_year"),
    ({"target_year": "2030\x00"}, "target_year"),
    ({"baseline_year": 2020, "baseline_value": 1e16}, "baseline_value"),
    ({"milestones": [{"year": 2026, "value": 1}, {"year": 2026, "value": 2}]}, "milestones"),
    ({"milestones": [[2027, 1], [2027, 2]]}, "milestones"),
    ({"milestones": {"2026": 10**400}}, "milestones"),
    ({"milestones": {"2026": "NaN"}}, "milestones"),
    ({"milestones": "2026: 1"}, "milestones"),
    ({"title": 123}, "title"),
]


def test_target_api_probes_are_dutch_4xx_and_write_nothing(app, Session, stored):
    c = editor(app)
    before = state(Session)
    tid = stored["target"]
    for change, field in TARGET_PROBES:
        for method, path, body in (("POST", "/api/v1/targets", dict(TARGET, **change)),
                                   ("PUT", f"/api/v1/targets/{tid}",
                                    dict({"target_value": 40, "target_year": 2030}, **change))):
            r = c.request(method, path, json=body)
            assert_refused(r, field)
            assert r.status_code == 422, (change, r.text)
    # 10**400 and NaN as JSON text (json.dumps would write NaN, and 10**400 as digits)
    for text in ('"target_value": 1' + "0" * 400, '"target_value": NaN',
                 '"target_value": -Infinity', '"target_year": 1' + "0" * 400):
        r = raw_json(c, "POST", "/api/v1/targets",
                     '{"area": "utrecht-overvecht", "indicator": "eenzaam_pct", '
                     '"target_year": 2030, "target_value": 40, ' + text + "}")
        assert_refused(r, text.split('"')[1])
    assert state(Session) == before

    # keeping a milestone year on update used to hit the unique constraint (a 500)
    r = c.put(f"/api/v1/targets/{tid}", json={
        "target_value": 44, "target_year": 2030, "milestones": {"2026": 47, "2028": 45}})
    assert r.status_code == 200, r.text
    assert r.json()["milestones"] == [{"year": 2026, "value": 47.0},
                                      {"year": 2028, "value": 45.0}]


def test_json_bodies_too_deep_or_too_large_are_refused_before_parsing(app, Session, stored):
    c = editor(app)
    before = state(Session)
    deep = '{"title": ' + "[" * 100_000 + "]" * 100_000 + ', "areas": ["utrecht-overvecht"]}'
    r = raw_json(c, "POST", "/api/v1/interventions", deep)
    assert_refused(r, None, status=(400,))
    assert "te diep genest" in r.json()["detail"] and "20" in r.json()["detail"]
    # 21 levels is refused, 20 is parsed (and then refused by the model: not a text)
    r = raw_json(c, "POST", "/api/v1/interventions",
                 '{"title": ' + "[" * 20 + "]" * 20 + "}")
    assert r.status_code == 400
    r = raw_json(c, "POST", "/api/v1/interventions",
                 '{"title": ' + "[" * 19 + "]" * 19 + "}")
    assert r.status_code == 422 and "title" in r.json()["detail"]
    # brackets inside strings do not count
    r = c.post("/api/v1/interventions",
               json=dict(INTERVENTION, title="[" * 250, description="{" * 5000))
    assert r.status_code == 201, r.text
    after_ok = state(Session)

    big = json.dumps(dict(INTERVENTION, description="x" * (256 * 1024)))
    r = raw_json(c, "POST", "/api/v1/interventions", big)
    assert_refused(r, None, status=(413,))
    assert "256 kB" in r.json()["detail"]
    # the same body sent chunked (no Content-Length) is cut off too
    r = c.post("/api/v1/interventions", headers={"Content-Type": "application/json"},
               content=iter([big[:100_000].encode(), big[100_000:].encode()]))
    assert r.status_code == 413
    for text in ('{"title": ', "[1, 2", "\xff\xfe", '{"title": "x"} trailing'):
        assert raw_json(c, "POST", "/api/v1/interventions", text).status_code == 400
    r = raw_json(c, "POST", "/api/v1/interventions", "[1, 2]")
    assert_refused(r, "JSON-object")
    assert state(Session) == after_ok
    assert after_ok[0][-1] == before[0][-1] + 1  # one audit row: the accepted create


# --- ids in paths -------------------------------------------------------------------------------

def test_ids_above_2_31_are_dutch_404s(app, Session, stored):
    c = logged_in(app, "programma")
    token = c.get("/api/v1/session").json()["csrf_token"]
    before = state(Session)
    for big in ("2147483648", "99999999999999999999", "0", "-1"):
        for method, path in (("GET", f"/api/v1/interventions/{big}"),
                             ("PUT", f"/api/v1/interventions/{big}"),
                             ("DELETE", f"/api/v1/interventions/{big}"),
                             ("GET", f"/api/v1/targets/{big}"),
                             ("PUT", f"/api/v1/targets/{big}"),
                             ("DELETE", f"/api/v1/targets/{big}")):
            r = c.request(method, path, headers={"X-CSRF-Token": token},
                          json={"title": "x"} if method == "PUT" else None)
            assert r.status_code == 404, (method, path, r.status_code, r.text)
            assert "bestaat niet" in r.json()["detail"]
        for path in (f"/beheer/interventies/{big}/wijzigen",
                     f"/beheer/interventies/{big}/verwijderen",
                     f"/beheer/streefwaarden/{big}/wijzigen",
                     f"/beheer/streefwaarden/{big}/verwijderen"):
            r = c.get(path)
            assert r.status_code == 404 and "bestaat niet" in r.text, (path, r.status_code)
            r = c.post(path, data={"csrf_token": token, "titel": "x"})
            assert r.status_code == 404, (path, r.status_code)
    # the largest id is an ordinary "not found"
    r = c.get("/api/v1/interventions/2147483647")
    assert r.status_code == 404 and "2147483647 bestaat niet" in r.json()["detail"]
    assert c.get("/api/v1/interventions/abc").status_code == 404
    assert state(Session) == before


# --- forms ------------------------------------------------------------------------------------

FORM = {"titel": "Nieuw", "gebieden": "utrecht-overvecht", "status": "gepland"}
FORM_PROBES = [
    ({"titel": NUL}, "titel", "NUL-teken"),
    ({"titel": "t" * 301}, "titel", "te lang: 301 tekens, maximaal 300"),
    ({"actielijn": "a" * 201}, "actielijn", "maximaal 200"),
    ({"thema": "t" * 201}, "thema", "maximaal 200"),
    ({"organisatie": "o" * 301}, "organisatie", "maximaal 300"),
    ({"organisatie": NUL}, "organisatie", "NUL-teken"),
    ({"beschrijving": NUL}, "beschrijving", "NUL-teken"),
    ({"budget": "10000000000000"}, "budget", "te groot"),
    ({"budget": "1e13"}, "budget", "te groot"),
    ({"budget": "NaN"}, "budget", "positief bedrag"),
    ({"startdatum": NUL}, "startdatum", "NUL-teken"),
    ({"gebieden": NUL}, "gebieden", "NUL-teken"),
    ({"gebieden": "g" * 201}, "gebieden", "te lang"),
    ({"andere_gebieden": "g" * 201}, "gebieden", "te lange"),
    ({"evaluatielinks": "https://e.org/" + "x" * 1000}, "evaluatielinks", "te lang"),
    ({"evaluatielinks": NUL}, "evaluatielinks", "NUL-teken"),
]
TARGET_FORM = {"gebied": "utrecht-overvecht", "indicator": "eenzaam_pct",
               "streefwaarde": "40", "streefjaar": "2030", "richting": "catalogus"}
TARGET_FORM_PROBES = [
    ({"reden": NUL}, "reden", "NUL-teken"),
    ({"reden": "r" * 10_001}, "reden", "te lang"),
    ({"gebied": NUL}, "gebied", "NUL-teken"),
    ({"indicator": "i" * 101}, "indicator", "te lang"),
    ({"streefwaarde": "1" + "0" * 400}, "streefwaarde", "te lang"),
    ({"streefwaarde": "1e300"}, "streefwaarde", "als getal"),
    ({"streefwaarde": "NaN"}, "streefwaarde", "als getal"),
    ({"tussendoelen": "2026: 1; 2026: 2"}, "tussendoelen", "2026 staat twee keer"),
    ({"tussendoelen": "2026: 1e400"}, "tussendoelen", "jaar: waarde"),
    ({"streefjaar": "2030\x00"}, "streefjaar", "NUL-teken"),
]


def _error_for(html: str, field: str) -> str:
    """The inline error text of ``field`` in a rendered form (the summary links to it)."""
    assert f'href="#{field}"' in html, (field, html[html.find("alert"):][:600])
    return html


def test_form_probes_are_dutch_422_and_write_nothing(app, Session, stored):
    c = logged_in(app, "programma")
    token = c.get("/api/v1/session").json()["csrf_token"]
    before = state(Session)
    for change, field, text in FORM_PROBES:
        for path in ("/beheer/interventies/nieuw",
                     f"/beheer/interventies/{stored['intervention']}/wijzigen"):
            r = c.post(path, data=dict(FORM, **change, csrf_token=token))
            assert r.status_code == 422, (change, r.status_code)
            assert text in _error_for(r.text, field), (change, text)
            assert "\x00" not in r.text
    for change, field, text in TARGET_FORM_PROBES:
        for path in ("/beheer/streefwaarden/nieuw",
                     f"/beheer/streefwaarden/{stored['target']}/wijzigen"):
            r = c.post(path, data=dict(TARGET_FORM, **change, csrf_token=token))
            if path.endswith("wijzigen") and field in ("gebied", "indicator"):
                assert r.status_code in (303, 422)  # fixed on an existing target: ignored
                continue
            assert r.status_code == 422, (change, path, r.status_code)
            assert text in _error_for(r.text, field), (change, text)
    # more than 200 fields, or more than 2 files: a Dutch 400, not Starlette's English one
    r = c.post("/beheer/interventies/nieuw",
               data=dict({f"veld{i}": "1" for i in range(201)}, csrf_token=token))
    assert r.status_code == 400 and "te veel velden of bestanden" in r.text
    r = c.post("/beheer/lokale-gegevens", data={"csrf_token": token},
               files=[("bestand", (f"{i}.csv", b"x", "text/csv")) for i in range(3)])
    assert r.status_code == 400 and "te veel velden of bestanden" in r.text
    assert state(Session) == before


def test_login_and_upload_probes(app, Session, stored):
    before = state(Session)
    anon = client(app)
    for name in (NUL, "utrecht\x00", "n" * 301, "n" * 10_000):
        token = anon.get("/api/v1/session").json()["csrf_token"]
        r = anon.post("/beheer/inloggen", data={"gebruikersnaam": name,
                                                "wachtwoord": PASSWORD, "csrf_token": token})
        assert r.status_code == 401, (name[:20], r.status_code)
        assert "De gebruikersnaam of het wachtwoord klopt niet." in r.text
        r = anon.get("/api/v1/session", auth=(name, PASSWORD))
        assert r.status_code == 200
        r = anon.post("/api/v1/interventions", auth=(name, PASSWORD), json=INTERVENTION)
        assert r.status_code == 401, r.text
        assert r.json()["detail"] == "onjuiste gebruikersnaam of wachtwoord"
    r = anon.post("/api/v1/interventions", auth=("utrecht", "p" * 100_000), json=INTERVENTION)
    assert r.status_code == 401

    c = logged_in(app, "utrecht")
    token = c.get("/api/v1/session").json()["csrf_token"]
    csv = b"region;indicator;year;value\nWK034403;eenzaam_pct;2022;40\n"
    for data, filename, field, text in (
            ({"bron": "b" * 301}, "ok.csv", "bron", "maximaal 300"),
            ({"bron": NUL}, "ok.csv", "bron", "NUL-teken"),
            ({"bron": "OIS"}, "f" * 297 + ".csv", "bestand", "te lang: 301 tekens"),
            ({"gemeente": "GM0344" * 50, "bron": "OIS"}, "ok.csv", "gemeente", "te lang")):
        r = c.post("/beheer/lokale-gegevens",
                   data=dict({"gemeente": "GM0344", "csrf_token": token}, **data),
                   files={"bestand": (filename, io.BytesIO(csv), "text/csv")})
        assert r.status_code == 422, (field, r.status_code)
        assert text in _error_for(r.text, field)
    assert state(Session) == before


# --- the same bounds on the import paths (CLI: interventions import, targets import) -------------

def test_imports_refuse_the_probe_values_per_row(Session, stored):
    before = state(Session)
    csv = ("title;areas;actielijn;budget_eur\n"
           f"{'t' * 301};utrecht-overvecht;;\n"
           f"ok;utrecht-overvecht;{'a' * 201};\n"
           "ok;utrecht-overvecht;;10000000000000\n"
           "ok;utrecht-overvecht;;NaN\n"
           "goed;utrecht-overvecht;;12\n").encode()
    with Session.begin() as s:
        who = accounts.get_user(s, "programma")
        with pytest.raises(ValidationFailed) as err:
            interventions.import_interventions(s, who, csv, "iv.csv")
    rows = {e.row: e.reason for e in err.value.errors}
    assert sorted(rows) == [2, 3, 4, 5]                       # row 6 is fine
    assert rows[2].startswith("title: te lang: 301 tekens, maximaal 300")
    assert rows[3].startswith("actielijn: te lang: 201 tekens, maximaal 200")
    assert "te groot" in rows[4] and "geen bedrag" in rows[5]
    targets_csv = ("area;indicator;target_year;target_value;reason\n"
                   f"utrecht-overvecht;eenzaam_pct;2030;40;{'r' * 10_001}\n").encode()
    with Session.begin() as s:
        who = accounts.get_user(s, "programma")
        with pytest.raises(ValidationFailed) as err:
            targets.import_targets(s, who, targets_csv, "t.csv")
    assert "reden: te lang: 10.001 tekens, maximaal 10.000" in str(err.value)
    assert state(Session) == before


def test_a_json_key_given_twice_is_refused_and_nothing_is_written(app, Session, stored):
    c = editor(app)
    before = state(Session)
    # a milestone year twice in one object: json.loads would keep the last value silently
    body = ('{"area": "utrecht-overvecht", "indicator": "eenzaam_pct", "target_year": 2030, '
            '"target_value": 40, "milestones": {"2026": 1, "2026": 2}}')
    r = raw_json(c, "POST", "/api/v1/targets", body)
    assert_refused(r, "2026", status=(400,))
    assert "twee keer" in r.json()["detail"]
    # a field twice at the top level too
    ok_body = body.replace('"2026": 2', '"2028": 2')
    r = raw_json(c, "POST", "/api/v1/targets",
                 ok_body.replace('"target_value": 40,', '"target_value": 40, "target_value": 41,'))
    assert_refused(r, "target_value", status=(400,))
    assert state(Session) == before
    # distinct keys: stored
    r = raw_json(c, "POST", "/api/v1/targets", ok_body)
    assert r.status_code == 201, r.text
    assert r.json()["milestones"] == [{"year": 2026, "value": 1.0}, {"year": 2028, "value": 2.0}]
