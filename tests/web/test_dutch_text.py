"""Issue 17.4: what a user reads is Dutch. Every page type is rendered and its running text
(tags, scripts and attribute values removed) is scanned for English words from a list and for
developer identifiers: area ids such as ``rotterdam-zuid``, indicator ids such as
``ervaren_gezondheid_pct``, and words from the YAML notes ('seed', 'translate_codes',
'ind_wbi')."""

from __future__ import annotations

import html as htmllib
import re

import pytest

PAGES = {
    "start": "/",
    "start-aandachtswijken": "/?programma=aandachtswijken",
    "gebied-nplv": "/gebied/rotterdam-zuid",
    "gebied-amsterdam": "/gebied/amsterdam-zuidoost",
    "gebied-aandachtswijk": "/gebied/amersfoort-kruiskamp",
    "gebied-rest": "/gebied/utrecht-overvecht~rest",
    "gebied-groep": "/gebied/G4",
    "gebied-gemeente": "/gebied/GM0599",
    "gebied-wijk": "/gebied/WK034403",
    "gebied-buurt": "/gebied/BU03440343",
    "vergelijken-leeg": "/vergelijken",
    "vergelijken": "/vergelijken?gebied=rotterdam-zuid&gebied=utrecht-overvecht&jaar=2016&jaar=2020",
    "vergelijken-thema": "/vergelijken?vergelijkbaar=GM0599&jaar=2020&thema=gezondheid",
    "vergelijkbaar": "/vergelijkbare-gemeenten?gemeente=GM0599",
    "vergelijkbaar-fout": "/vergelijkbare-gemeenten?gemeente=Xyzzy",
    "indicatoren": "/indicatoren",
    "indicator": "/indicator/ervaren_gezondheid_pct",
    "indicator-buurt": "/indicator/angst_depressie_pct?niveau=buurt&gemeente=GM0599&jaar=2020",
    "zoeken": "/zoeken?q=Rotterdam",
    "zoeken-postcode": "/zoeken?q=3533+AB",
    "bronnen": "/bronnen",
    "over": "/over",
    "toegankelijkheid": "/toegankelijkheid",
    "fout-404": "/gebied/XX0000",
    "fout-parameter": "/gebied/utrecht-overvecht?basisjaar=abc",
    "fout-jaar": "/vergelijken?jaar=twee",
    "signalen": "/signalen?niveau=wijk&gemeente=GM0344",
    "wijkindex": "/wijkindex?niveau=buurt&jaar=2024&gemeente=GM0344",
    "zoeken-geschiedenis": "/zoeken?q=Bijlmer",
    "gebied-reeksen": "/gebied/utrecht-overvecht?tabel=reeksen",
}

#: English words that have no place in the Dutch text (whole words, case-insensitive).
ENGLISH = ["the", "and", "with", "should", "which", "closest", "boundary", "boundaries",
           "included", "excluded", "still", "exist", "exists", "check", "confirmed", "missing",
           "error", "found", "required", "input", "field", "value", "values", "not", "area",
           "areas", "neighbourhood", "use", "see", "valid", "integer", "unable", "parse", "string",
           "detail", "none", "null", "true", "false", "nan", "unprocessable", "entity"]
DEVELOPER = ["seed", "translate_codes", "ind_wbi", "KWB 2024 as wijk", "r.285"]


@pytest.fixture(scope="module")
def area_ids(client):
    return [a["area_id"] for a in client.get("/api/v1/areas").json()]


@pytest.fixture(scope="module")
def indicator_ids(client):
    # ids like 'inwoners' are ordinary Dutch words; those with an underscore are not
    return [i["id"] for i in client.get("/api/v1/indicators").json() if "_" in i["id"]]


def running_text(html: str) -> str:
    """What a reader sees: the body without scripts, styles, ``<code>`` (API paths), tags and
    attribute values (URLs may hold ids; that is fine)."""
    body = html.split("<body", 1)[-1]
    body = re.sub(r"<(script|style|code)\b.*?</\1>", " ", body, flags=re.S | re.I)
    body = re.sub(r"<[^>]+>", " ", body)
    return " ".join(htmllib.unescape(body).split())


@pytest.mark.parametrize("name", sorted(PAGES))
def test_running_text_is_dutch_without_ids(client, name, area_ids, indicator_ids):
    r = client.get(PAGES[name])
    assert r.status_code in (200, 400, 404, 422), (name, r.status_code)
    assert r.headers["content-type"].startswith("text/html"), name
    text = running_text(r.text)
    english = sorted({w for w in ENGLISH if re.search(rf"(?<![\w-]){w}(?![\w-])", text, re.I)})
    assert not english, (name, english, [m.group(0) for w in english for m in
                                         re.finditer(rf".{{0,40}}(?<![\w-]){w}(?![\w-]).{{0,40}}", text, re.I)][:5])
    dev = [w for w in DEVELOPER if w.lower() in text.lower()]
    assert not dev, (name, dev)
    ids = [a for a in area_ids if re.search(rf"(?<![\w/-]){re.escape(a)}(?![\w-])", text)]
    assert not ids, (name, ids, [m.group(0) for a in ids for m in re.finditer(rf".{{0,50}}{re.escape(a)}.{{0,30}}", text)][:5])
    inds = [i for i in indicator_ids if re.search(rf"(?<![\w/]){re.escape(i)}(?!\w)", text)]
    assert not inds, (name, inds, [m.group(0) for i in inds for m in re.finditer(rf".{{0,50}}{re.escape(i)}.{{0,30}}", text)][:5])
    assert "tussen ? en ?" not in text and "hoogstens ?" not in text


def test_the_scan_would_catch_what_the_issue_reported():
    """The checks above fail on the texts the issue quoted (the other side of the boundary)."""
    bad = running_text("<body><p>The three former deelgemeenten (seed 000 r.285); check ind_wbi</p>"
                       "<p>zowel rotterdam-zuid als rotterdam</p></body>")
    assert re.search(r"(?<![\w-])the(?![\w-])", bad, re.I) and "seed" in bad
    assert re.search(r"(?<![\w/-])rotterdam-zuid(?![\w-])", bad)
    ok = running_text('<body><a href="/gebied/rotterdam-zuid">Rotterdam-Zuid</a></body>')
    assert not re.search(r"(?<![\w/-])rotterdam-zuid(?![\w-])", ok)


def test_error_pages_are_friendly_html_and_api_keeps_json(client):
    r = client.get("/gebied/utrecht-overvecht", params={"basisjaar": "abc"})
    # one status for a parameter outside its declared bounds, page or API (hardening issue)
    assert r.status_code == 422 and "text/html" in r.headers["content-type"]
    assert "De waarde ‘abc’ bij basisjaar klopt niet: verwacht is een geheel getal" in r.text
    api = client.get("/api/v1/gaps", params={"areas": "nplv", "baseline": "abc"})
    assert api.status_code == 422 and "application/json" in api.headers["content-type"]
    assert [e["parameter"] for e in api.json()["errors"]] == ["baseline"]
    assert "baseline" in api.json()["detail"]
