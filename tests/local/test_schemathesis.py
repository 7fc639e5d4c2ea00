"""schemathesis against the OpenAPI schema of the whole site (``/api/openapi.json``): every
operation, the public ones and those that need a login, on SQLite and on PostgreSQL for the
editable store, with data that fits the schema (positive) and data that does not (negative).
Not one answer may be a server error (5xx).

The calls are made as a logged-in administrator (session cookie plus the ``X-CSRF-Token``
header read from ``/api/v1/session``), so the write operations reach their handlers instead of
stopping at the login. The example counts are kept small (:data:`EXAMPLES` per operation and
mode; ~1 minute per backend on this machine); the generation is derandomised, so a run is
repeatable.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

from wijkmonitor.local import interventions, targets
from wijkmonitor.web.app import create_app

from conftest import PASSWORD

#: examples per operation and generation mode
EXAMPLES = 10


@pytest.fixture
def site(real_store, db_url, users, Session, monkeypatch):
    """The whole site on the real store, with a target and an intervention in the editable
    store; yields ``(app, headers, cookies)`` of a logged-in administrator."""
    monkeypatch.setenv("WIJKMONITOR_SECRET_KEY", "schemathesis-" + "k" * 40)
    with Session.begin() as s:
        ed = users["utrecht"]
        targets.set_target(s, ed, "utrecht-overvecht", "eenzaam_pct", target_value=40,
                           target_year=2030, baseline_year=2012, reason="proef")
        interventions.save_intervention(s, ed, title="Buurtteam", actielijn="Gezondheid",
                                        status="lopend", areas=["utrecht-overvecht"])
    app = create_app(real_store, db_url)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        page = c.get("/beheer/inloggen")
        token = c.get("/api/v1/session").json()["csrf_token"]
        r = c.post("/beheer/inloggen", data={"gebruikersnaam": "beheer", "wachtwoord": PASSWORD,
                                             "csrf_token": token}, follow_redirects=False)
        assert page.status_code == 200 and r.status_code == 303, r.text[:300]
        session = c.get("/api/v1/session").json()
        assert session["user"]["role"] == "admin"
        yield app, {"X-CSRF-Token": session["csrf_token"]}, dict(c.cookies)


@pytest.mark.slow
def test_no_server_error_on_any_operation(site):
    app, headers, cookies = site
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {(op.method.upper(), op.path) for op in operations}
    # the public and the authenticated operations are all in the run
    assert {("GET", "/api/v1/value/{unit}/{indicator}/{year}"), ("GET", "/api/v1/regions"),
            ("GET", "/api/v1/local-values"), ("POST", "/api/v1/targets"),
            ("PUT", "/api/v1/interventions/{item_id}"),
            ("DELETE", "/api/v1/targets/{target_id}")} <= paths
    errors, calls = [], 0
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=op.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                nonlocal calls
                r = case.call(headers=headers, cookies=cookies, timeout=300)
                calls += 1
                if r.status_code >= 500:
                    errors.append((case.method, case.formatted_path, case.query, case.body,
                                   r.status_code, r.text[:300]))
            try:
                run()
            except Exception as exc:  # a strategy that cannot be built for this mode
                if "Unsatisfiable" not in type(exc).__name__:
                    raise
    assert calls >= len(operations) * 2
    assert errors == [], errors[:10]
