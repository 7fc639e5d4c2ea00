"""Web security of the beheer router: login, session cookie, CSRF, and who may change what
through the forms and the API (on SQLite and PostgreSQL, with the real area files).
"""

from __future__ import annotations

import os
import re
import stat

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wijkmonitor.local import accounts, targets, web
from wijkmonitor.local.models import AuditEntry, Target
from wijkmonitor.local.permissions import SystemActor

PASSWORD = "correct horse battery"  # the password of the accounts in conftest.users
TARGET = {"gebied": "rotterdam-zuid", "indicator": "eenzaam_pct", "streefwaarde": "40",
          "streefjaar": "2030", "richting": "catalogus", "reden": "poging"}


@pytest.fixture
def app(db_url, monkeypatch):
    monkeypatch.setenv("WIJKMONITOR_SECRET_KEY", "test-" + "k" * 40)
    monkeypatch.delenv("WIJKMONITOR_SECURE_COOKIES", raising=False)
    app = FastAPI()
    app.include_router(web.create_router(db_url))
    return app


def client(app, base_url="http://127.0.0.1") -> TestClient:
    return TestClient(app, base_url=base_url)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def login(c: TestClient, name: str, password: str = PASSWORD):
    token = csrf_of(c.get("/beheer/inloggen").text)
    return c.post("/beheer/inloggen", data={"gebruikersnaam": name, "wachtwoord": password,
                                            "csrf_token": token}, follow_redirects=False)


def logged_in(app, name: str) -> TestClient:
    c = client(app)
    assert login(c, name).status_code == 303
    return c


@pytest.fixture
def rotterdam_target(Session, users) -> int:
    """A target of Rotterdam-Zuid (real NPLV area, GM0599) set by Rotterdam's editor."""
    with Session.begin() as s:
        t = targets.set_target(s, accounts.get_user(s, "rotterdam"), "rotterdam-zuid",
                               "eenzaam_pct", target_value=45.0, target_year=2030,
                               reason="NPLV-doel Zuid", milestones={2026: 48.0})
        return t.id


def snapshot(Session, target_id):
    with Session() as s:
        t = s.get(Target, target_id)
        state = None if t is None else t.to_dict()
        n_targets = s.scalar(sa.select(sa.func.count()).select_from(Target))
        n_audit = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    return state, n_targets, n_audit


# --- login ---------------------------------------------------------------------------------

def test_login_with_wrong_password_fails(app, users):
    c = client(app)
    for name, password in (("utrecht", "wrong password!!"), ("niemand", PASSWORD)):
        r = login(c, name, password)
        assert r.status_code == 401
        assert "De gebruikersnaam of het wachtwoord klopt niet." in r.text
        assert 'role="alert"' in r.text and 'href="#gebruikersnaam"' in r.text
        assert PASSWORD not in r.text and "wrong password" not in r.text
        # still anonymous: the pages send you to the login form
        page = c.get("/beheer/streefwaarden", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"] == "/beheer/inloggen?volgende=/beheer/streefwaarden"
        assert c.get("/api/v1/session").json()["user"] is None

    r = login(c, "utrecht")
    assert r.status_code == 303 and r.headers["location"] == "/beheer/"
    assert c.get("/api/v1/session").json()["user"] == {"name": "utrecht",
                                                       "role": "gemeente-editor",
                                                       "gemeente": "GM0344"}
    assert "Ingelogd als <strong>utrecht</strong>" in c.get("/beheer/").text


def test_login_redirect_stays_on_this_site(app, users):
    c = client(app)
    token = csrf_of(c.get("/beheer/inloggen").text)
    for target, expected in (("https://evil.example/", "/beheer/"),
                             ("//evil.example/x", "/beheer/"),
                             ("/beheer/interventies", "/beheer/interventies")):
        r = c.post("/beheer/inloggen", follow_redirects=False,
                   data={"gebruikersnaam": "utrecht", "wachtwoord": PASSWORD,
                         "csrf_token": token, "volgende": target})
        assert r.headers["location"] == expected
        token = c.get("/api/v1/session").json()["csrf_token"]  # rotated at login


def test_logout_ends_the_session_and_password_change_invalidates_it(app, users, Session):
    c = logged_in(app, "utrecht")
    token = c.get("/api/v1/session").json()["csrf_token"]
    r = c.post("/beheer/uitloggen", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/api/v1/session").json()["user"] is None

    c = logged_in(app, "utrecht")
    with Session.begin() as s:
        accounts.set_password(s, SystemActor(), "utrecht", "a brand new password")
    assert c.get("/api/v1/session").json()["user"] is None
    assert c.get("/beheer/", follow_redirects=False).status_code == 303


# --- cookie ---------------------------------------------------------------------------------

def _cookie_header(response) -> str:
    headers = [v for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]
    assert len(headers) == 1, headers
    return headers[0]


def test_session_cookie_is_signed_httponly_lax_and_secure_outside_localhost(app, users,
                                                                           monkeypatch):
    header = _cookie_header(client(app).get("/beheer/inloggen"))
    assert header.startswith(f"{web.COOKIE}=")
    assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header
    assert "Secure" not in header  # plain http on 127.0.0.1: development and tests

    assert "Secure" in _cookie_header(client(app, "https://wijkmonitor.example")
                                      .get("/beheer/inloggen"))
    assert "Secure" in _cookie_header(client(app, "http://wijkmonitor.example")
                                      .get("/beheer/inloggen"))  # behind a TLS proxy
    monkeypatch.setenv("WIJKMONITOR_SECURE_COOKIES", "1")
    assert "Secure" in _cookie_header(client(app).get("/beheer/inloggen"))
    monkeypatch.setenv("WIJKMONITOR_SECURE_COOKIES", "0")
    assert "Secure" not in _cookie_header(client(app, "https://wijkmonitor.example")
                                          .get("/beheer/inloggen"))


def test_forged_or_foreign_cookie_is_not_a_login(app, users, monkeypatch):
    c = logged_in(app, "utrecht")
    value = c.cookies.get(web.COOKIE)
    payload, _, signature = value.rpartition(".")
    forged = client(app)
    forged.cookies.set(web.COOKIE, payload + "." + signature[::-1])
    assert forged.get("/api/v1/session").json()["user"] is None
    # the same cookie under another secret key is worthless too
    monkeypatch.setenv("WIJKMONITOR_SECRET_KEY", "other-" + "x" * 40)
    assert c.get("/api/v1/session").json()["user"] is None


def test_secret_key_is_generated_once_and_kept_private(monkeypatch, tmp_path):
    monkeypatch.delenv("WIJKMONITOR_SECRET_KEY", raising=False)
    monkeypatch.setenv("WIJKMONITOR_VAR", str(tmp_path))
    key = web.secret_key()
    path = tmp_path / "secret_key"
    assert path.read_text().strip() == key and len(key) >= 48
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    web._file_secret.cache_clear()
    assert web.secret_key() == key  # read back, not regenerated
    monkeypatch.setenv("WIJKMONITOR_SECRET_KEY", "too short")
    with pytest.raises(RuntimeError, match="te kort"):
        web.secret_key()


# --- CSRF -----------------------------------------------------------------------------------

def test_post_without_or_with_wrong_csrf_token_is_refused(app, users, Session):
    c = logged_in(app, "utrecht")
    own = dict(TARGET, gebied="utrecht-overvecht")
    before = snapshot(Session, 0)
    for data in (own, dict(own, csrf_token="x" * 43),
                 dict(own, csrf_token=csrf_of(client(app).get("/beheer/inloggen").text))):
        r = c.post("/beheer/streefwaarden/nieuw", data=data, follow_redirects=False)
        assert r.status_code == 403
        assert "beveiligingscode (CSRF-token) ontbreekt of klopt niet" in r.text
        assert '<html lang="nl"' in r.text
    assert snapshot(Session, 0) == before

    # the login form and logout are protected too
    anon = client(app)
    anon.get("/beheer/inloggen")
    r = anon.post("/beheer/inloggen", data={"gebruikersnaam": "utrecht",
                                            "wachtwoord": PASSWORD})
    assert r.status_code == 403 and anon.get("/api/v1/session").json()["user"] is None
    assert c.post("/beheer/uitloggen", data={}).status_code == 403
    assert c.get("/api/v1/session").json()["user"]["name"] == "utrecht"

    # cookie-based API calls need the X-CSRF-Token header
    body = {"area": "utrecht-overvecht", "indicator": "eenzaam_pct", "target_value": 50,
            "target_year": 2030}
    r = c.post("/api/v1/targets", json=body)
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = c.post("/api/v1/targets", json=body, headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 403
    assert snapshot(Session, 0) == before

    # with the right token the same requests work
    token = c.get("/api/v1/session").json()["csrf_token"]
    assert c.post("/beheer/streefwaarden/nieuw", data=dict(own, csrf_token=token),
                  follow_redirects=False).status_code == 303
    r = c.post("/api/v1/targets", json=dict(body, target_value=49),
               headers={"X-CSRF-Token": token})
    assert r.status_code == 201 and r.json()["target_value"] == 49
    assert snapshot(Session, 0)[1:] == (1, before[2] + 2)


# --- Utrecht may not change Rotterdam -------------------------------------------------------

def test_utrecht_editor_cannot_change_rotterdam_targets_through_the_form(
        app, users, Session, rotterdam_target):
    before = snapshot(Session, rotterdam_target)
    c = logged_in(app, "utrecht")
    token = c.get("/api/v1/session").json()["csrf_token"]

    # the create form does not even offer Rotterdam's areas
    form = c.get("/beheer/streefwaarden/nieuw").text
    assert 'value="utrecht-overvecht"' in form and 'value="rotterdam-zuid"' not in form

    attempts = [
        ("/beheer/streefwaarden/nieuw", dict(TARGET, csrf_token=token)),
        ("/beheer/streefwaarden/nieuw", dict(TARGET, gebied="WK059910", csrf_token=token)),
        (f"/beheer/streefwaarden/{rotterdam_target}/wijzigen",
         dict(TARGET, streefwaarde="1", csrf_token=token)),
        (f"/beheer/streefwaarden/{rotterdam_target}/wijzigen",  # invalid input: still 403
         dict(TARGET, streefwaarde="veel", csrf_token=token)),
        (f"/beheer/streefwaarden/{rotterdam_target}/verwijderen", {"csrf_token": token}),
    ]
    for path, data in attempts:
        r = c.post(path, data=data, follow_redirects=False)
        assert r.status_code == 403, (path, r.status_code)
        assert "GM0599" in r.text and "niet wijzigen" in r.text
    for path in (f"/beheer/streefwaarden/{rotterdam_target}/wijzigen",
                 f"/beheer/streefwaarden/{rotterdam_target}/verwijderen"):
        assert c.get(path).status_code == 403
    assert snapshot(Session, rotterdam_target) == before

    # the list shows Rotterdam's target to Utrecht without edit links
    page = c.get("/beheer/streefwaarden").text
    assert "Rotterdam-Zuid" in page
    assert f"/beheer/streefwaarden/{rotterdam_target}/wijzigen" not in page
    # ... and Rotterdam's own editor does get them
    assert f"/beheer/streefwaarden/{rotterdam_target}/wijzigen" in \
        logged_in(app, "rotterdam").get("/beheer/streefwaarden").text


def test_utrecht_editor_cannot_change_rotterdam_targets_through_the_api(
        app, users, Session, rotterdam_target):
    before = snapshot(Session, rotterdam_target)
    body = {"area": "rotterdam-zuid", "indicator": "eenzaam_pct", "target_value": 1,
            "target_year": 2030}
    update = {"target_value": 1, "target_year": 2031}

    cookie = logged_in(app, "utrecht")
    token = {"X-CSRF-Token": cookie.get("/api/v1/session").json()["csrf_token"]}
    basic = client(app)
    auth = ("utrecht", PASSWORD)
    calls = [
        lambda: cookie.post("/api/v1/targets", json=body, headers=token),
        lambda: cookie.put(f"/api/v1/targets/{rotterdam_target}", json=update, headers=token),
        lambda: cookie.delete(f"/api/v1/targets/{rotterdam_target}", headers=token),
        lambda: basic.post("/api/v1/targets", json=body, auth=auth),
        lambda: basic.post("/api/v1/targets", json=dict(body, area="WK059910"), auth=auth),
        lambda: basic.put(f"/api/v1/targets/{rotterdam_target}", json=update, auth=auth),
        lambda: basic.put(f"/api/v1/targets/{rotterdam_target}",
                          json={"target_value": "x"}, auth=auth),
        lambda: basic.delete(f"/api/v1/targets/{rotterdam_target}", auth=auth),
    ]
    for call in calls:
        r = call()
        assert r.status_code == 403, r.text
        assert "GM0599" in r.json()["detail"]
    assert snapshot(Session, rotterdam_target) == before

    # without credentials, with a wrong password, or as a form post: refused before anything
    anon = client(app)
    assert anon.put(f"/api/v1/targets/{rotterdam_target}", json=update).status_code == 403
    r = basic.delete(f"/api/v1/targets/{rotterdam_target}", auth=("rotterdam", "wrong!"))
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    r = basic.post("/api/v1/targets", data={"area": "rotterdam-zuid"},
                   auth=("rotterdam", PASSWORD))
    assert r.status_code == 415
    assert snapshot(Session, rotterdam_target) == before

    # the public API shows the target to anyone, with its progress rule
    listed = anon.get("/api/v1/targets", params={"area": "rotterdam-zuid"}).json()
    assert [t["id"] for t in listed] == [rotterdam_target]
    assert listed[0]["progress"]["status"] in ("achieved", "on_track", "behind", "no_data")
    assert listed[0]["progress"]["rule"]
    assert anon.get("/api/v1/targets", params={"area": "nergens-bestaand"}).status_code == 404

    # Rotterdam's editor, by HTTP Basic (scripts), can change and delete it
    r = basic.put(f"/api/v1/targets/{rotterdam_target}", auth=("rotterdam", PASSWORD),
                  json={"target_value": 44, "target_year": 2030, "reason": "bijgesteld",
                        "milestones": [{"year": 2027, "value": 47}]})
    assert r.status_code == 200 and r.json()["milestones"] == [{"year": 2027, "value": 47.0}]
    assert basic.delete(f"/api/v1/targets/{rotterdam_target}",
                        auth=("rotterdam", PASSWORD)).status_code == 204
    state, n_targets, n_audit = snapshot(Session, rotterdam_target)
    assert state is None and n_targets == 0 and n_audit == before[2] + 2


def test_public_account_reads_but_changes_nothing(app, users, Session, rotterdam_target):
    c = logged_in(app, "publiek")
    assert c.get("/beheer/streefwaarden").status_code == 200
    assert c.get("/beheer/streefwaarden/nieuw").status_code == 403
    assert c.get("/beheer/interventies/nieuw").status_code == 403
    assert c.get("/beheer/auditlog").status_code == 403
    token = c.get("/api/v1/session").json()["csrf_token"]
    r = c.post("/beheer/streefwaarden/nieuw", data=dict(TARGET, csrf_token=token))
    assert r.status_code == 403
    assert snapshot(Session, rotterdam_target)[1] == 1


# --- the audit log ----------------------------------------------------------------------------

def test_audit_log_cannot_be_altered_through_the_web(app, users, Session, rotterdam_target):
    """No route changes audit rows: every method but GET is refused, with or without a valid
    CSRF token; deleting a target adds a row instead of removing one; an editor reads only
    its own gemeente's rows, a public account none."""
    def log_rows():
        with Session() as s:
            return [(e.id, e.action, e.entity, e.user_name, e.before, e.after)
                    for e in s.query(AuditEntry).order_by(AuditEntry.id)]

    before = log_rows()
    c = logged_in(app, "rotterdam")
    token = c.get("/api/v1/session").json()["csrf_token"]
    first = before[0][0]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in ("/beheer/auditlog", f"/beheer/auditlog/{first}", "/api/v1/audit",
                     f"/api/v1/audit/{first}"):
            r = c.request(method, path, data={"csrf_token": token} if method == "POST" else None,
                          headers={"X-CSRF-Token": token})
            assert r.status_code in (404, 405), (method, path, r.status_code)
    assert log_rows() == before

    # a delete is itself logged; the old rows stay exactly as they were
    r = c.post(f"/beheer/streefwaarden/{rotterdam_target}/verwijderen",
               data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    after = log_rows()
    assert after[:len(before)] == before and len(after) == len(before) + 1
    assert after[-1][1:4] == ("delete", "target", "rotterdam") and after[-1][5] is None

    mine = c.get("/beheer/auditlog", params={"formaat": "json"}).json()
    assert mine and all("GM0599" in ((e["before"] or {}).get("gemeente"),
                                     (e["after"] or {}).get("gemeente")) for e in mine
                        if e["entity"] == "target")
    assert not any((e["after"] or {}).get("gemeente") == "GM0344" for e in mine)
    assert logged_in(app, "publiek").get("/beheer/auditlog").status_code == 403


def test_database_without_tables_gives_a_dutch_503_not_a_crash(empty_url, monkeypatch):
    """Before ``wijkmonitor db upgrade``: pages that need the database say what to do."""
    monkeypatch.setenv("WIJKMONITOR_SECRET_KEY", "test-" + "k" * 40)
    app = FastAPI()
    app.include_router(web.create_router(empty_url))
    c = client(app)
    token = csrf_of(c.get("/beheer/inloggen").text)
    r = c.post("/beheer/inloggen", data={"gebruikersnaam": "utrecht", "wachtwoord": PASSWORD,
                                         "csrf_token": token})
    assert r.status_code == 503 and "wijkmonitor db upgrade" in r.text
    assert '<html lang="nl"' in r.text
    r = c.get("/api/v1/targets")
    assert r.status_code == 503 and "wijkmonitor db upgrade" in r.json()["detail"]


# --- interventions: the same rules through the form and the API --------------------------------

def test_utrecht_editor_cannot_change_rotterdam_interventions(app, users, Session):
    from wijkmonitor.local import interventions
    from wijkmonitor.local.models import Intervention

    with Session.begin() as s:
        item_id = interventions.save_intervention(
            s, accounts.get_user(s, "rotterdam"), title="Wijkaanpak Zuid",
            areas=["rotterdam-zuid"], status="lopend").id

    def state():
        with Session() as s:
            item = s.get(Intervention, item_id)
            return (None if item is None else item.to_dict(),
                    s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)))

    before = state()
    c = logged_in(app, "utrecht")
    token = c.get("/api/v1/session").json()["csrf_token"]
    form = {"titel": "Overgenomen", "gebieden": "rotterdam-zuid", "status": "gestopt",
            "csrf_token": token}
    for path, data in ((f"/beheer/interventies/{item_id}/wijzigen", form),
                       (f"/beheer/interventies/{item_id}/verwijderen", {"csrf_token": token}),
                       ("/beheer/interventies/nieuw", form)):
        r = c.post(path, data=data, follow_redirects=False)
        assert r.status_code == 403, (path, r.status_code)
    auth = ("utrecht", PASSWORD)
    basic = client(app)
    for r in (basic.put(f"/api/v1/interventions/{item_id}", json={"status": "gestopt"}, auth=auth),
              basic.put(f"/api/v1/interventions/{item_id}", json={"status": "??"}, auth=auth),
              basic.put(f"/api/v1/interventions/{item_id}", json={"areas": ["utrecht-overvecht"]},
                        auth=auth),
              basic.delete(f"/api/v1/interventions/{item_id}", auth=auth),
              basic.post("/api/v1/interventions", json={"title": "x", "areas": ["rotterdam-zuid"]},
                         auth=auth),
              c.put(f"/api/v1/interventions/{item_id}", json={"status": "gestopt"},
                    headers={"X-CSRF-Token": token})):
        assert r.status_code == 403, r.text
    # cookie without the CSRF header: refused before anything
    r = c.post("/api/v1/interventions", json={"title": "Eigen", "areas": ["utrecht-overvecht"]})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert state() == before

    # own interventions: create, change and delete through the API (Basic and cookie + token)
    r = basic.post("/api/v1/interventions", auth=auth, json={
        "title": "Buurtteam Overvecht", "areas": ["utrecht-overvecht"], "status": "lopend",
        "budget_eur": "250000", "indicators": ["eenzaam_pct"],
        "evaluation_links": [{"url": "https://example.org/eval", "label": "Evaluatie"}]})
    assert r.status_code == 201, r.text
    own = r.json()
    assert own["gemeente"] == "GM0344" and own["budget_eur"] == 250000.0
    assert own["evaluation_links"] == [{"url": "https://example.org/eval", "label": "Evaluatie"}]
    r = c.put(f"/api/v1/interventions/{own['id']}", json={"status": "afgerond"},
              headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["status"] == "afgerond"
    r = c.put(f"/api/v1/interventions/{own['id']}", json={"start_date": "gisteren"},
              headers={"X-CSRF-Token": token})
    assert r.status_code == 422
    listed = client(app).get("/api/v1/interventions", params={"area": "utrecht-overvecht"}).json()
    assert [(i["title"], i["status"]) for i in listed] == [("Buurtteam Overvecht", "afgerond")]
    assert c.delete(f"/api/v1/interventions/{own['id']}",
                    headers={"X-CSRF-Token": token}).status_code == 204
    assert state()[0] == before[0] and state()[1] == before[1] + 3
