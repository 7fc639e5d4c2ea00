"""Property-based tests of the upload parsers and the beheer forms and API (hardening issue,
item 4, second bullet), with hypothesis, on SQLite and PostgreSQL.

Properties: whatever bytes, table or form fields come in, the answer is a Dutch
:class:`ValidationFailed` or a 4xx, never another exception or a 500; and a change lands
whole (its rows and exactly one audit row) or not at all. Example counts are kept modest
(``database=None``: no example database is written into the checkout) so the suite stays
within the CI budget.
"""

from __future__ import annotations

import io
import json
import string

import openpyxl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wijkmonitor.local import accounts, uploads
from wijkmonitor.local.errors import ValidationFailed
from wijkmonitor.local.models import (AuditEntry, Intervention, InterventionArea,
                                      InterventionLink, LocalUpload, LocalValue, Milestone,
                                      Target)
from wijkmonitor.local.tabular import parse_year, read_table

from test_web_security import app, logged_in  # noqa: F401  (fixture + helper)

FAST = settings(max_examples=150, deadline=None, database=None)
DB = settings(max_examples=30, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow, HealthCheck.data_too_large])
CODES = {"WK034403", "BU03440001", "GM0344"}
INDICATORS = {"eenzaam_pct", "woz_waarde"}
TABLES = (Target, Milestone, Intervention, InterventionArea, InterventionLink, LocalUpload,
          LocalValue, AuditEntry)

# text with everything a user can type or paste: NUL, control characters, RTL marks, emoji;
# no lone surrogates (they cannot be encoded in a form or a file)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
CELL = st.one_of(TEXT, st.sampled_from(["WK034403", "GM0344", "eenzaam_pct", "2022", "12,5",
                                        "12.5", ".", "x", "1e400", "NaN", "-0", "=1+1",
                                        "2100", "1899", "", " "]))
HEADERS = st.lists(st.sampled_from(["region", "indicator", "year", "value", "waarde", "jaar",
                                    "gebied", "", "Region ", "x"]), min_size=1, max_size=6)


def counts(Session) -> tuple:
    with Session() as s:
        return tuple(s.scalar(sa.select(sa.func.count()).select_from(m)) for m in TABLES)


# --- parsers, no database ----------------------------------------------------------------------

@FAST
@given(data=st.binary(max_size=3000), name=st.sampled_from(["a.csv", "a.xlsx", "a", "a.txt"]))
def test_any_bytes_are_a_table_or_a_dutch_refusal(data, name):
    try:
        table = read_table(data, name)
    except ValidationFailed as exc:
        assert exc.file == name and exc.summary
    else:
        assert list(table.index) == sorted(table.index) and all(i >= 2 for i in table.index)


@FAST
@given(header=HEADERS, rows=st.lists(st.lists(CELL, max_size=6), max_size=8),
       sep=st.sampled_from([";", ",", "\t"]))
def test_csv_upload_validation_never_crashes(header, rows, sep):
    def line(cells):
        return sep.join('"' + c.replace('"', '""') + '"' if any(ch in c for ch in f'{sep}"\n\r')
                        else c for c in cells)
    data = "\n".join([line(header)] + [line(r) for r in rows]).encode("utf-8", "surrogatepass")
    try:
        checked = uploads.validate_upload(data, "eigen.csv", "GM0344", valid_codes=CODES,
                                          indicators=INDICATORS)
    except ValidationFailed as exc:
        assert exc.summary and all(e.reason for e in exc.errors)
    else:  # accepted: every value is a known code, indicator, year and a finite number
        frame = checked.values
        assert set(frame["region"]) <= CODES and set(frame["indicator_id"]) <= INDICATORS
        assert frame["year"].between(1900, 2100).all()
        ok = frame[frame["status"] == "ok"]["value"]
        assert ok.abs().le(1.8e308).all()


@settings(max_examples=40, deadline=None, database=None)
@given(header=HEADERS, rows=st.lists(st.lists(st.one_of(CELL, st.integers(-10**6, 10**6),
                                                         st.floats(allow_nan=True)),
                                              max_size=5), max_size=5))
def test_xlsx_upload_validation_never_crashes(header, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    clean = [c for c in string.printable if c not in "\x0b\x0c\r"]
    for row in [header] + rows:
        # openpyxl refuses control characters itself; keep what a spreadsheet can hold
        ws.append([("".join(ch for ch in v if ch in clean or ord(ch) > 127)
                    if isinstance(v, str) else v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    try:
        uploads.validate_upload(buf.getvalue(), "eigen.xlsx", "GM0344", valid_codes=CODES,
                                indicators=INDICATORS)
    except ValidationFailed as exc:
        assert exc.file == "eigen.xlsx" and exc.summary


# --- uploads into the database ----------------------------------------------------------------

@DB
@given(rows=st.lists(st.tuples(st.sampled_from(sorted(CODES) + ["WK059910", ""]),
                               st.sampled_from(sorted(INDICATORS) + ["onbekend"]),
                               st.sampled_from(["2020", "2022", "1800", "x"]),
                               st.one_of(CELL, st.floats().map(str))), max_size=6),
       source=TEXT)
def test_upload_lands_whole_or_not_at_all(Session, users, rows, source):
    data = ("region;indicator;year;value\n" + "\n".join(
        ";".join(c.replace(";", ",").replace("\n", " ").replace("\r", " ").replace('"', "'")
                 for c in r) for r in rows)).encode()
    before = counts(Session)
    try:
        with Session.begin() as s:
            rec = uploads.upload(s, accounts.get_user(s, "utrecht"), data, "eigen.csv",
                                 "GM0344", source=source, valid_codes=CODES,
                                 indicators=INDICATORS)
            n = rec.n_values
    except ValidationFailed:
        assert counts(Session) == before
    else:
        after = counts(Session)
        assert after[5:] == (before[5] + 1, before[6] + n, before[7] + 1)


# --- the beheer forms and the JSON API ----------------------------------------------------------

FORM_TEXT = st.one_of(TEXT, st.text(max_size=400), st.sampled_from(
    ["utrecht-overvecht", "rotterdam-zuid", "WK034403", "eenzaam_pct", "2030", "2026: 1; 2027: 2",
     "12,5", "1e13", "NaN", "lopend", "gemeente", "https://example.org/x", "2025-02-30"]))
INTERVENTION_FIELDS = ["titel", "beschrijving", "actielijn", "thema", "organisatietype",
                       "organisatie", "gebieden", "andere_gebieden", "indicatoren", "startdatum",
                       "einddatum", "status", "budget", "evaluatielinks"]
TARGET_FIELDS = ["gebied", "indicator", "streefwaarde", "streefjaar", "beginjaar",
                 "beginwaarde", "tussendoelen", "richting", "reden"]


def _outcome(Session, before, status, created: int):
    after = counts(Session)
    assert status < 500
    if status in (201, 303):
        assert after[-1] == before[-1] + 1          # exactly one audit row
        assert after[created] >= before[created]
    else:
        assert status in (400, 403, 404, 413, 415, 422), status
        assert after == before                       # nothing half-written


@DB
@given(fields=st.dictionaries(st.sampled_from(INTERVENTION_FIELDS), FORM_TEXT, max_size=8),
       edit=st.booleans())
def test_intervention_form_never_500_and_atomic(app, Session, users, fields, edit):
    c = _client(app)
    path = "/beheer/interventies/nieuw"
    if edit:
        path = f"/beheer/interventies/{_own_intervention(c)}/wijzigen"
    before = counts(Session)
    r = c.post(path, data=dict(fields, csrf_token=c.token), follow_redirects=False)
    _outcome(Session, before, r.status_code, TABLES.index(Intervention))


@DB
@given(fields=st.dictionaries(st.sampled_from(TARGET_FIELDS), FORM_TEXT, max_size=9))
def test_target_form_never_500_and_atomic(app, Session, users, fields):
    c = _client(app)
    before = counts(Session)
    r = c.post("/beheer/streefwaarden/nieuw", data=dict(fields, csrf_token=c.token),
               follow_redirects=False)
    _outcome(Session, before, r.status_code, TABLES.index(Target))


@pytest.mark.parametrize("field, text", [("tussendoelen", "²: 5"), ("tussendoelen", "2026: 5\n²"),
                                         ("streefjaar", "²"), ("beginjaar", "2²"), ("streefjaar", "٢٠٢٤")])
def test_target_form_digits_int_refuses_are_a_dutch_4xx(app, Session, users, field, text):
    # found by the property above: str.isdigit() accepts '²', int() does not (a 500 before)
    c = _client(app)
    before = counts(Session)
    fields = {"gebied": "Utrecht Overvecht", "indicator": "eenzaam_pct", "streefwaarde": "40",
              "streefjaar": "2030", "beginjaar": "2020", "richting": "lager", field: text}
    r = c.post("/beheer/streefwaarden/nieuw", data=dict(fields, csrf_token=c.token), follow_redirects=False)
    assert 400 <= r.status_code < 500
    assert counts(Session) == before
    assert parse_year("²") is None and parse_year(" 2024 ") == 2024 and parse_year("٢٠٢٤") is None


@DB
@given(content=st.one_of(st.binary(max_size=2000), TEXT.map(lambda t: t.encode()),
                         st.lists(st.tuples(st.sampled_from(["WK034403", "BU03440001", "x"]),
                                            st.sampled_from(["eenzaam_pct", "?"]),
                                            st.sampled_from(["2022", "20x"]), CELL),
                                  max_size=5).map(
                             lambda rows: ("region;indicator;year;value\n" + "\n".join(
                                 ";".join(c.replace(";", " ").replace("\n", " ")
                                          for c in r) for r in rows)).encode())),
       filename=st.sampled_from(["eigen.csv", "eigen.xlsx", "eigen.txt", "eigen"]),
       fields=st.dictionaries(st.sampled_from(["gemeente", "bron"]), FORM_TEXT, max_size=2))
def test_upload_form_never_500_and_atomic(app, Session, users, content, filename, fields):
    c = _client(app)
    before = counts(Session)
    data = dict({"gemeente": "GM0344", "bron": "OIS"}, **fields, csrf_token=c.token)
    r = c.post("/beheer/lokale-gegevens", data=data,
               files={"bestand": (filename, io.BytesIO(content), "application/octet-stream")},
               follow_redirects=False)
    _outcome(Session, before, r.status_code, TABLES.index(LocalUpload))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)
TARGET_KEYS = ["area", "indicator", "target_value", "target_year", "baseline_year",
               "baseline_value", "milestones", "polarity", "reason"]
INTERVENTION_KEYS = ["title", "description", "actielijn", "theme", "organisation_type",
                     "organisation", "start_date", "end_date", "status", "budget_eur", "areas",
                     "indicators", "evaluation_links"]


@DB
@given(body=st.one_of(
    st.fixed_dictionaries({"area": st.just("utrecht-overvecht"),
                           "indicator": st.just("eenzaam_pct")},
                          optional={k: JSON for k in TARGET_KEYS[2:]}).map(lambda d: ("t", d)),
    st.fixed_dictionaries({"areas": st.just(["utrecht-overvecht"])},
                          optional={k: JSON for k in INTERVENTION_KEYS[:-3]}
                          ).map(lambda d: ("i", d)),
    st.tuples(st.sampled_from("ti"), JSON)))
def test_json_api_never_500_and_atomic(app, Session, users, body):
    kind, payload = body
    c = _client(app)
    path = "/api/v1/targets" if kind == "t" else "/api/v1/interventions"
    before = counts(Session)
    # NaN and Infinity go out as the literals Python's json reads back
    r = c.post(path, content=json.dumps(payload, allow_nan=True).encode(),
               headers={"X-CSRF-Token": c.token, "Content-Type": "application/json"})
    _outcome(Session, before, r.status_code,
             TABLES.index(Target if kind == "t" else Intervention))
    if r.status_code >= 400:
        assert isinstance(r.json()["detail"], str)


_CLIENTS: dict = {}


def _client(app):
    """One logged-in Utrecht editor per app (logging in costs a password hash)."""
    c = _CLIENTS.get(id(app))
    if c is None or c.app is not app:
        _CLIENTS.clear()
        c = logged_in(app, "utrecht")
        c.token = c.get("/api/v1/session").json()["csrf_token"]
        _CLIENTS[id(app)] = c
    return c


def _own_intervention(c) -> int:
    if not hasattr(c, "own"):
        r = c.post("/api/v1/interventions", headers={"X-CSRF-Token": c.token},
                   json={"title": "Eigen", "areas": ["utrecht-overvecht"]})
        assert r.status_code == 201, r.text
        c.own = r.json()["id"]
    return c.own


@pytest.fixture(autouse=True)
def _fresh_clients():
    _CLIENTS.clear()
    yield
    _CLIENTS.clear()
