"""The national report's value table shows each value's 95 % interval under it (issue 15,
deliverable 1: uncertainty "in the report"), by the function of the API and the site."""

from __future__ import annotations

import math
import shutil
import subprocess

import pytest

from wijkmonitor.report import national
from wijkmonitor.report.data import load
from wijkmonitor.report.tables import value_cell

Z = 1.959963984540054


def test_value_cell_shows_the_interval_compactly():
    c = value_cell(69.9, "ok", 1, (69.1232, 70.6768))
    assert (c.text, c.interval) == ("69,9", "(69,1–70,7)")
    assert value_cell(69.9, "ok", 1).interval == ""
    assert value_cell(69.9, "ok", 1, (float("nan"), 70.7)).interval == ""
    # a value not shown has no interval, whatever is passed
    c = value_cell(None, "geheim", 1, (1.0, 2.0))
    assert not c.shown and c.interval == ""


@pytest.fixture(scope="module")
def ctx(real_store):
    return national.build(load(real_store), "aandachtswijken", 2012, 2020)


def _item(ctx, iid):
    return next(it for s in ctx["sections"] for it in s["indicators"] if it["id"] == iid)


def test_model_interval_of_the_40_wijken_by_hand(ctx):
    """Ervaren gezondheid 2020, the 40 wijken together: 71,902 with weight W = 660 465
    (inhabitants 25+ summed, the store's row of alle:aandachtswijken); uncertainty.yaml pins
    a = 0,695, b = 14,55, p0 = 0,787: se = sqrt(a^2/4 + b^2/(2W)) x sqrt(p(1-p)/(p0(1-p0)))
    = 0,34773 x 1,09782 = 0,38175; 71,902 -/+ 0,748 = 71,154 .. 72,650 -> "(71,2–72,7)"."""
    it = _item(ctx, "ervaren_gezondheid_pct")
    row = next(r for r in it["table"] if r["year"] == 2020)
    cell = row["cells"][0]
    assert it["unit_labels"][0] == "40 wijken samen" and cell.text == "71,9"
    p = 0.71902074
    se = math.sqrt(0.695 ** 2 / 4 + 14.55 ** 2 / (2 * 660465)) * math.sqrt(p * (1 - p) / (0.787 * 0.213))
    assert round(71.902074 - Z * se, 2) == 71.15 and round(71.902074 + Z * se, 2) == 72.65
    assert cell.interval == "(71,2–72,7)"
    # every shown model value of the table has one
    assert all(c.interval for r in it["table"] for c in r["cells"] if c.shown)


def test_rounding_gets_no_interval_in_the_table(ctx):
    # koopwoningen: published KWB percentages (method afronding): as on the site, no interval
    it = _item(ctx, "koopwoningen_pct")
    shown = [c for r in it["table"] for c in r["cells"] if c.shown]
    assert shown and not any(c.interval for c in shown)


def test_html_caption_and_cell(ctx):
    from wijkmonitor.report.render import render_html
    html = render_html("national.html", ctx)
    assert '<td class="n">71,9<br><span class="iv">(71,2–72,7)</span></td>' in html
    assert "onder een waarde het 95%-interval (bij modelschattingen van het RIVM een benadering)" in html


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_shows_the_interval(real_store, tmp_path):
    from wijkmonitor import report
    paths = report.national_report("aandachtswijken", 2012, 2020, tmp_path, data=load(real_store))
    pdf = next(p for p in paths if str(p).endswith(".pdf"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "(71,2–72,7)" in text.replace("\u00a0", " ")
