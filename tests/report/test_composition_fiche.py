"""The table "Leeftijd meegerekend" of an area fiche (real store): crude and standardised gap
change per 50090NED health indicator, exactly those of ``wijkmonitor standardise --format json``."""

from __future__ import annotations

import html as htmlmod
import json
import re

import pytest
from typer.testing import CliRunner

from wijkmonitor.nlformat import nl_difference
from wijkmonitor.report import area as area_mod
from wijkmonitor.report.data import load
from wijkmonitor.report.render import render_html, render_typst


@pytest.fixture(scope="module")
def data(real_store):
    return load(real_store)


@pytest.fixture(scope="module")
def ctx(data):
    return area_mod.build(data, "utrecht-overvecht", 2012, 2016, draw_map=False)


def _cli_rows(store, indicator: str) -> dict:
    from wijkmonitor.cli import app

    out = CliRunner().invoke(app, ["standardise", "--area", "Utrecht Overvecht", "--indicator", indicator,
                                   "--baseline", "2012", "--latest", "2016", "--format", "json", "--store", str(store)])
    assert out.exit_code == 0, out.output
    return {r["measure"]: r for r in json.loads(out.output)["rows"]}


def test_fiche_table_has_the_cli_numbers_for_overvecht(ctx, real_store):
    q = ctx["leeftijd"]
    rows = {r["name"]: r for r in q["rows"]}
    cli = _cli_rows(real_store, "ervaren_gezondheid_pct")
    r = rows["Ervaren gezondheid goed of zeer goed"]
    assert r["years"] == "2012–2016"
    assert r["crude"] == nl_difference(cli["ruw (18+)"]["gap_change"], 1) == "−1,0"
    assert r["standardised"] == nl_difference(cli["leeftijdsgestandaardiseerd"]["gap_change"], 1) == "−1,5"
    assert q["reference_name"] == "Utrecht"
    html = htmlmod.unescape(render_html("area.html", ctx))
    assert "Verandering van de afstand van Utrecht Overvecht tot Utrecht, ruw en leeftijdsgestandaardiseerd" in html
    assert re.search(r"Ervaren gezondheid goed of zeer goed</th><td class=\"n\">2012–2016</td>"
                     r"<td class=\"n\">−1,0</td><td class=\"n\">−1,5</td>", html)
    assert "Nederland, 1 januari 2019 (18 tot 65 jaar 73,3 %, 65 jaar of ouder 26,7 %)" in html.replace("\xa0", " ")


def test_fiche_table_says_not_computable_and_why(ctx, real_store):
    r = {r["name"]: r for r in ctx["leeftijd"]["rows"]}["Beperkt vanwege gezondheid"]
    cli = _cli_rows(real_store, "beperkt_gezondheid_pct")
    assert cli["leeftijdsgestandaardiseerd"]["gap_change"] is None and cli["ruw (18+)"]["gap_change"] is None
    assert r["crude"] is None and r["standardised"] is None and r["years"] == "2020"
    assert r["standardised_reason"] == "50090NED heeft deze maat alleen voor 2020: geen verandering te berekenen"
    html = render_html("area.html", ctx)
    assert "Beperkt vanwege gezondheid *</th><td class=\"n\">2020</td><td class=\"s\">niet te berekenen</td>" in html
    assert "beperkt vanwege gezondheid: 50090NED heeft deze maat alleen voor 2020" in html


def test_fiche_table_is_in_the_typst_source(ctx):
    src = render_typst("area.typ.j2", ctx)
    assert "=== Leeftijd meegerekend" in src
    assert '"Verandering ruw", "Verandering gestandaardiseerd"' in src
    assert "[−1,0], [−1,5]," in src
