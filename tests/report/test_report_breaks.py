"""Issue 17.6 in the reports: a gap across a change of source gets no class ('bron veranderd',
with both sources named) and the trend chart marks the change; the PDF says so too.

Real case: Rotterdam Oude Westen (one CBS buurt), ervaren gezondheid 2012 (RIVM 50090NED, 63,3)
and 2024 (Gezondheidsmonitor 50150NED via woonikveilig, 62,5); its gemeente 70,5 and 67,0.
"""

from __future__ import annotations

import base64
import html as htmlmod
import re
import shutil
import subprocess

import pytest

from wijkmonitor.report import area as area_mod
from wijkmonitor.report import charts, national, render
from wijkmonitor.report.data import load

AREA, IND = "rotterdam-oude-westen", "ervaren_gezondheid_pct"


@pytest.fixture(scope="module")
def data(real_store):
    return load(real_store)


@pytest.fixture(scope="module")
def fiche(data):
    return area_mod.build(data, AREA, 2012, 2024, draw_map=False)


def _row(ctx, ind_id):
    return next(x for t in ctx["themes"] for x in t["rows"] if x["id"] == ind_id)


def _figure(ctx, name):
    return next(f for t in ctx["themes"] for f in t["figures"] if f["name"] == name)


def test_fiche_gives_no_class_across_the_change_of_source(data, fiche):
    x = _row(fiche, IND)
    assert x["years"] == "2012–2024"
    assert (x["value_b"].text, x["ref_b"].text, x["value_l"].text, x["ref_l"].text) == \
        ("63,3", "70,5", "62,5", "67,0")
    assert x["cls"] == "bron veranderd"
    assert "50090NED" in x["reason"] and "50150NED" in x["reason"] and "tussen 2020 en 2022" in x["reason"]
    theme = next(t for t in fiche["themes"] if any(r["id"] == IND for r in t["rows"]))
    assert "Ervaren gezondheid goed of zeer goed’ is er geen oordeel over de ontwikkeling (bron veranderd)" \
        in theme["text"]
    assert dict(fiche["counts"])["bron veranderd"] >= 1
    assert any(t == "Bron veranderd" for t, _ in fiche["rules"])


def test_fiche_chart_marks_the_change(data, fiche):
    f = _figure(fiche, data.catalogue[IND].name)
    raw = base64.b64decode(f["uri"].split(";base64,", 1)[1]).decode("utf-8")
    assert 'stroke-dasharray="2 1.5"' in raw and ">bron</text>" in raw
    assert "Tussen 2020 en 2022 verandert de bron van de cijfers" in f["alt"]
    assert "gestippelde lijn: tussen 2020 en 2022" in f["caption"]
    # synthetic: no mark without a break, a mark with one, none for a break outside the years
    plain, _ = charts.trend_chart(data.catalogue[IND], {"a": [(2012, 60.0), (2020, 62.0)]})
    assert ">bron</text>" not in plain
    marked, alt = charts.trend_chart(data.catalogue[IND], {"a": [(2012, 60.0), (2020, 62.0), (2022, 55.0)]},
                                     breaks=[(2020, 2022, "x", "y")])
    assert ">bron</text>" in marked and "Tussen 2020 en 2022" in alt
    # a break outside the charted years is not drawn
    outside, _ = charts.trend_chart(data.catalogue[IND], {"a": [(2012, 60.0), (2016, 62.0)]},
                                    breaks=[(2020, 2022, "x", "y")])
    assert ">bron</text>" not in outside


def test_fiche_within_one_publication_keeps_its_class(data):
    ctx = area_mod.build(data, AREA, 2012, 2020, draw_map=False)
    x = _row(ctx, IND)
    assert x["cls"] in ("kleiner", "groter", "gelijk", "onzeker", "beter dan referentie")
    assert x["reason"] is None


def test_fiche_html_and_pdf_show_the_mark(data, fiche, tmp_path):
    page = render.render_html("area.html", fiche)
    text = htmlmod.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "bron veranderd" in text and "50150NED" in text
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    pdf = tmp_path / "fiche.pdf"
    render.write_pdf("area.typ.j2", fiche, pdf)
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", out)
    assert "bron veranderd" in flat and "50150NED" in flat


def test_national_report_counts_the_class_only_where_it_occurs(data):
    ctx = national.build(data, "nplv", 2012, 2020)
    assert "bron veranderd" not in ctx["classes"]  # 2012-2020: one publication everywhere
    assert all(len(it["counts"]) == len(ctx["classes"]) for s in ctx["sections"] for it in s["indicators"])


def test_narrative_gives_no_g18_class_across_a_change_of_source():
    from tests.report.test_report import _fixture
    from wijkmonitor.report import narrative

    words = narrative.Words("wijk", "wijken", "de 3 wijken samen")
    ind, out, gaps = _fixture([50.0, 60.0, 55.0], [60.0, 70.0, 65.0], [40.0] * 3, [40.0] * 3)
    plain = " ".join(narrative.indicator_story(ind, out, gaps, words=words).paragraphs)
    assert "afstand van de 3 wijken samen tot de G18 is groter geworden" in plain
    why = "de bron van de cijfers veranderde tussen 2018 en 2019 (A → B)"
    text = " ".join(narrative.indicator_story(ind, out, gaps, words=words, g18_break=why).paragraphs)
    assert "tot de G18 is groter geworden" not in text
    assert f"of de afstand van de 3 wijken samen tot de G18 veranderde is niet te zeggen: {why}." in text


def test_national_narrative_names_the_class():
    from wijkmonitor.report import narrative
    from tests.report.test_report import _fixture

    words = narrative.Words("wijk", "wijken", "de 3 wijken samen")
    ind, out, gaps = _fixture([50.0, 60.0, 55.0], [60.0, 70.0, 65.0], [40.0] * 3, [40.0] * 3)
    gaps.loc[0, "class"] = "bron veranderd"
    out = {**out, "groter": out["groter"] - 1, "bron veranderd": 1}
    text = " ".join(narrative.indicator_story(ind, out, gaps, words=words).paragraphs)
    assert ("Voor één wijk (Wijk A) is er geen oordeel: de cijfers van het gebied of de gemeente komen in "
            "2016 en 2020 uit verschillende bronnen (bron veranderd).") in text
