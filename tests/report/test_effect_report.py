"""The chapter "Vergeleken met vergelijkbare wijken" of the national report and the fiche section,
on the real store: the numbers are those of wijkmonitor.effect, worded as the chapter says."""

from __future__ import annotations

import pytest

from wijkmonitor import effect
from wijkmonitor.nlformat import nl_difference
from wijkmonitor.report import area as area_mod
from wijkmonitor.report import national
from wijkmonitor.report.data import load
from wijkmonitor.report.render import render_html


@pytest.fixture(scope="module")
def data(real_store):
    return load(real_store)


def test_national_chapter_has_every_area_and_indicator_with_the_effect_numbers(data, real_store):
    ctx = national.build(data, "nplv", 2012, 2024)
    ch = ctx["effect"]
    assert [it["id"] for it in ch["indicators"]] == list(effect.INDICATORS)
    # latest 2024 asked: the nearest year the RIVM series is published per region is 2020
    rows = {(r["area"], r["indicator"]): r
            for r in effect.effects_all(effect.load(path=real_store), "nplv", 2012, 2020)}
    for it in ch["indicators"]:
        assert it["n"] == 20 == len(it["rows"])
        for row in it["rows"]:
            r = rows[(row["area"], it["id"])]
            if r["status"] == "ok":
                assert row["estimate"] == nl_difference(r["estimate"], 1)
                assert row["interval"] == f"{nl_difference(r['lower'], 1)} tot {nl_difference(r['upper'], 1)}"
                assert row["n_comparison"] == 10
            else:
                assert row["outcome"] == f"geen schatting: {r['reason']}"
    html = render_html("national.html", ctx)
    n = len(ctx["sections"]) + 3  # after the chapter "Signalen"
    assert f'<a href="#vergeleken">{n} Vergeleken met vergelijkbare wijken</a>' in html
    assert f"{n + 1} Verantwoording" in html
    assert "geen causaal bewijs op zichzelf" in html and "naaste-buren-matching" in html


def test_fiche_has_the_section_with_the_pre_trend_note(data):
    ctx = area_mod.build(data, "utrecht-overvecht-2007", 2012, 2020, draw_map=False)
    e = ctx["effect"]
    assert [r["name"] for r in e["rows"]][0] == "Ervaren gezondheid goed of zeer goed"
    assert e["pre_note"].startswith("Gematcht op de ontwikkeling vóór het basisjaar: leefbaarometer-klasse 2002→2012")
    html = render_html("area.html", ctx)
    assert 'id="vergeleken"' in html
    assert "Utrecht Overvecht tegen 10 vergelijkbare gebieden: verschil-in-verschillen" in html
