"""The section "Leeftijd meegerekend" on the area pages (real store): the crude and the
age-standardised gap change are exactly those of ``wijkmonitor standardise --format json``."""

from __future__ import annotations

import html as htmlmod
import json
import re

from typer.testing import CliRunner

from wijkmonitor.nlformat import nl_difference


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", htmlmod.unescape(re.sub(r"<[^>]+>", " ", fragment))).replace("\xa0", " ")


def _section(page: str) -> str:
    start = page.index('<section aria-labelledby="leeftijd">')
    return page[start:page.index("</section>", start)]


def _row(section: str, indicator: str) -> str:
    start = section.index(">", section.index(f'id="leeftijd-{indicator}"')) + 1
    return _text(section[start:section.index("</tr>", start)]).strip()


def _cli_json(store, area: str, indicator: str, baseline: int, latest: int) -> dict:
    from wijkmonitor.cli import app

    out = CliRunner().invoke(app, ["standardise", "--area", area, "--indicator", indicator, "--baseline",
                                   str(baseline), "--latest", str(latest), "--format", "json", "--store", str(store)])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_overvecht_2012_2016_shows_the_cli_numbers(client, real_store):
    resp = client.get("/gebied/utrecht-overvecht?basisjaar=2012&laatstejaar=2016")
    assert resp.status_code == 200
    sec = _section(resp.text)
    text = _text(sec)
    # the standard population and the rule, in plain Dutch
    assert "Nederland, 1 januari 2019 (18 tot 65 jaar 73,3 %, 65 jaar of ouder 26,7 %)" in text
    assert "Directe leeftijdsstandaardisatie" in text
    cli = _cli_json(real_store, "Utrecht Overvecht", "ervaren_gezondheid_pct", 2012, 2016)
    rows = {r["measure"]: r for r in cli["rows"]}
    crude, std = rows["ruw (18+)"], rows["leeftijdsgestandaardiseerd"]
    # README worked example: crude -1,0 (-12,5 -> -13,5), standardised -1,53 (-10,3 -> -11,8)
    assert round(crude["gap_change"], 2) == -1.0 and round(std["gap_change"], 2) == -1.53
    row = _row(sec, "ervaren_gezondheid_pct")
    assert row.startswith("Ervaren gezondheid goed of zeer goed 2012–2016")
    expected = (f"{nl_difference(crude['gap_baseline'], 1)} → {nl_difference(crude['gap_latest'], 1)} "
                f"{nl_difference(crude['gap_change'], 1)} "
                f"{nl_difference(std['gap_baseline'], 1)} → {nl_difference(std['gap_latest'], 1)} "
                f"{nl_difference(std['gap_change'], 1)}")
    assert expected == "−12,5 → −13,5 −1,0 −10,3 → −11,8 −1,5"
    assert expected in row
    assert "*" not in row  # 2012 and 2016: 18-65 published, nothing derived


def test_a_measure_of_one_year_is_not_computable_with_the_reason(client, real_store):
    # beperkt vanwege gezondheid: 50090NED has it for 2020 only
    cli = _cli_json(real_store, "Utrecht Overvecht", "beperkt_gezondheid_pct", 2012, 2016)
    assert cli["baseline_year"] == cli["latest_year"] == 2020
    assert all(r["gap_change"] is None for r in cli["rows"])
    sec = _section(client.get("/gebied/utrecht-overvecht?basisjaar=2012&laatstejaar=2016").text)
    row = _row(sec, "beperkt_gezondheid_pct")
    rows = {r["measure"]: r for r in cli["rows"]}
    crude, std = rows["ruw (18+)"], rows["leeftijdsgestandaardiseerd"]
    why = "(50090NED heeft deze maat alleen voor 2020: geen verandering te berekenen)"
    # one year: the gap of 2020 is shown, its change is not computable, for crude and standardised
    assert row == (f"Beperkt vanwege gezondheid * 2020 {nl_difference(crude['gap_latest'], 1)} niet te berekenen "
                   f"{why} {nl_difference(std['gap_latest'], 1)} niet te berekenen {why}")


def test_default_years_use_the_nearest_50090ned_years_and_mark_the_derived_rate(client, real_store):
    sec = _section(client.get("/gebied/utrecht-overvecht").text)
    cli = _cli_json(real_store, "Utrecht Overvecht", "ervaren_gezondheid_pct", 2012, 2024)
    assert (cli["baseline_year"], cli["latest_year"]) == (2012, 2020)
    std = {r["measure"]: r for r in cli["rows"]}["leeftijdsgestandaardiseerd"]
    row = _row(sec, "ervaren_gezondheid_pct")
    assert row.startswith("Ervaren gezondheid goed of zeer goed * 2012–2020")  # 2020: 18-65 derived
    assert f"{nl_difference(std['gap_change'], 1)}" == "+0,5" and row.endswith("+0,5")
    assert "18-65 afgeleid" in _text(sec)


def test_only_50090ned_indicators_are_in_the_section(client):
    sec = _section(client.get("/gebied/utrecht-overvecht").text)
    ids = re.findall(r'id="leeftijd-([a-z0-9_]+)"', sec)
    assert "ervaren_gezondheid_pct" in ids and "eenzaam_pct" in ids
    assert "ervaren_gezondheid_65plus_pct" not in ids and "koopwoningen_pct" not in ids


def test_a_region_outside_the_2020_division_says_why(client):
    from wijkmonitor.web import composition_section
    from wijkmonitor.web.data import Unit

    out = composition_section.section(client.app.state.ws, Unit(id="WK099999", kind="wijk", name="Nergens"), 2012, 2020)
    assert out["rows"] == []
    assert out["error"] == "regio WK099999 bestaat niet in de indeling 2020 (50090NED is op die indeling gepubliceerd)"


def test_gemeente_page_compares_with_the_country(client, real_store):
    sec = _section(client.get("/gebied/GM0344?basisjaar=2012&laatstejaar=2016").text)
    text = _text(sec)
    assert "afstand tot Nederland ook de afstand na leeftijdsstandaardisatie" in text
    assert "Utrecht tegenover Nederland" in text
    cli = _cli_json(real_store, "GM0344", "ervaren_gezondheid_pct", 2012, 2016)
    assert cli["reference"] == "NL00"
    std = {r["measure"]: r for r in cli["rows"]}["leeftijdsgestandaardiseerd"]
    assert _row(sec, "ervaren_gezondheid_pct").endswith(nl_difference(std["gap_change"], 1))
