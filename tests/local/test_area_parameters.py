"""Area parameters are identifiers, never file paths (hardening issue, item 1).

Before the fix ``areas.find_area`` opened any existing file, or any value ending in ``.yaml``, as
an area file: ``GET /api/v1/targets?area=/etc/passwd`` answered with a YAML parse message, a
missing path said "No such file or directory", and a YAML file with an ``id:`` had it echoed.
These tests send paths, ``../``, absolute paths, ``.yaml`` names and 10 kB strings to every
endpoint and beheer form that takes an area, anonymously and logged in, on SQLite and
PostgreSQL, and check that

* no file outside the package's area folders and the configured custom folder is read,
* the answer is a 4xx (or an empty list / form error), never a 500,
* nothing of the file (its ``id``, a parse message, "No such file") comes back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import wijkmonitor.areas.model as area_model
from wijkmonitor.areas import AreaError, find_area, load_area_file

from test_web_security import PASSWORD, app, csrf_of  # noqa: F401  (shared helpers and fixture)

SECRET_ID = "geheim-gebied-uit-een-bestand"


@pytest.fixture
def planted(tmp_path) -> dict[str, Path]:
    """Files an attacker would like the server to read: a valid-looking area YAML with a
    distinctive id, a non-YAML file, and a path that does not exist."""
    area = tmp_path / "aanval" / "area.yaml"
    area.parent.mkdir()
    area.write_text(f"id: {SECRET_ID}\nname: Geheim\n", encoding="utf-8")
    text = tmp_path / "aanval" / "passwd"
    text.write_text("root:x:0:0:root:/root:/bin/bash\n: [ onleesbaar\n", encoding="utf-8")
    return {"yaml": area, "text": text, "missing": tmp_path / "bestaat-niet.yaml"}


def hostile_values(planted: dict[str, Path]) -> list[str]:
    return [
        str(planted["yaml"]), str(planted["text"]), str(planted["missing"]),
        "/etc/passwd", "/etc/hostname", "../../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd",
        "nplv/rotterdam-zuid.yaml", "rotterdam-zuid.yaml", "x.yml",
        str(Path(area_model.__file__).parent / "nplv" / "rotterdam-zuid.yaml"),
        "a" * 10_000, "/" + "b/" * 5_000,
    ]


@pytest.fixture
def reads(monkeypatch) -> list[Path]:
    """Every file the area module parses, recorded."""
    seen: list[Path] = []
    original = area_model._read_yaml

    def spy(path):
        seen.append(Path(path).resolve())
        return original(path)

    monkeypatch.setattr(area_model, "_read_yaml", spy)
    return seen


def assert_only_declared_files(seen: list[Path]) -> None:
    package = Path(area_model.__file__).resolve().parent
    for path in seen:
        assert path.is_relative_to(package), f"read a file outside the area folders: {path}"


# --- the module ------------------------------------------------------------------------------

def test_find_area_never_opens_a_path(planted, reads):
    for value in hostile_values(planted):
        with pytest.raises(KeyError) as err:
            find_area(value)
        message = str(err.value)
        assert SECRET_ID not in message and "No such file" not in message
        assert "root:x" not in message and len(message) < 600
    assert_only_declared_files(reads)
    # a name and an id still resolve
    assert find_area("Rotterdam-Zuid").id == "rotterdam-zuid"
    assert find_area("rotterdam-zuid").id == "rotterdam-zuid"


def test_name_length_bound_is_200_characters(reads):
    # 200 characters is looked up (and not found); 201 is refused before any file is read
    with pytest.raises(KeyError, match="geen gebied 'xxxx"):
        find_area("x" * 200)
    n_reads = len(reads)
    assert n_reads > 0
    with pytest.raises(KeyError, match="hoogstens 200 tekens"):
        find_area("x" * 201)
    assert len(reads) == n_reads
    with pytest.raises(KeyError, match="NUL"):
        find_area("rotterdam-zuid\x00.yaml")


def test_an_area_file_is_read_only_on_purpose(planted):
    # the explicit loader still reads a file (CLI and analysts), and validates it
    with pytest.raises(AreaError) as err:
        load_area_file(planted["yaml"])
    assert str(planted["yaml"]) in str(err.value)


def test_custom_folder_is_the_only_other_place(tmp_path, monkeypatch, planted, reads):
    custom = tmp_path / "eigen"
    custom.mkdir()
    monkeypatch.setenv("WIJKMONITOR_AREAS_DIR", str(custom))
    with pytest.raises(KeyError):
        find_area(str(planted["yaml"]))
    allowed = (Path(area_model.__file__).resolve().parent, custom.resolve())
    assert reads and all(any(p.is_relative_to(a) for a in allowed) for p in reads)


# --- every endpoint and form that takes an area -----------------------------------------------

def _check(response, planted) -> None:
    assert response.status_code < 500, (response.request.url, response.status_code, response.text[:300])
    body = response.text
    for leak in (SECRET_ID, "No such file", "root:x", "YAMLError", "mapping values",
                 "niet leesbaar"):
        assert leak not in body, (response.request.url, leak)
    if response.headers.get("content-type", "").startswith("application/json"):
        assert len(body) < 2_000  # a 10 kB name is not echoed back in full (forms redisplay it)


def test_public_endpoints_refuse_paths(app, users, planted, reads):
    c = TestClient(app, base_url="http://127.0.0.1")
    for value in hostile_values(planted):
        for url in ("/api/v1/targets", "/api/v1/interventions", "/api/v1/local-values"):
            r = c.get(url, params={"area": value})
            _check(r, planted)
            assert r.status_code in (200, 400, 404, 422)
            if r.status_code == 200:
                assert r.json() in ([], {"items": []}) or not r.json()
    assert_only_declared_files(reads)


def test_beheer_forms_and_api_refuse_paths(app, users, planted, reads):
    c = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(c.get("/beheer/inloggen").text)
    assert c.post("/beheer/inloggen", data={"gebruikersnaam": "beheer", "wachtwoord": PASSWORD,
                                           "csrf_token": token},
                  follow_redirects=False).status_code == 303
    token = c.get("/api/v1/session").json()["csrf_token"]
    header = {"X-CSRF-Token": token}
    for value in hostile_values(planted):
        for url in ("/beheer/streefwaarden", "/beheer/interventies"):
            _check(c.get(url, params={"gebied": value}), planted)
        _check(c.post("/beheer/streefwaarden/nieuw", follow_redirects=False,
                      data={"gebied": value, "indicator": "eenzaam_pct", "streefwaarde": "40",
                            "streefjaar": "2030", "richting": "catalogus", "reden": "x",
                            "csrf_token": token}), planted)
        _check(c.post("/beheer/interventies/nieuw", follow_redirects=False,
                      data={"titel": "Proef", "actielijn": "veiligheid", "status": "lopend",
                            "andere_gebieden": value, "csrf_token": token}), planted)
        r = c.post("/api/v1/targets", headers=header,
                   json={"area": value, "indicator": "eenzaam_pct", "target_value": 40,
                         "target_year": 2030})
        _check(r, planted)
        assert 400 <= r.status_code < 500
        r = c.post("/api/v1/interventions", headers=header,
                   json={"title": "Proef", "actielijn": "veiligheid", "areas": [value]})
        _check(r, planted)
        assert 400 <= r.status_code < 500
    assert_only_declared_files(reads)
