"""Issue 15.4 in the national report: a chapter with, per programme area, the buurten and wijken
the early-warning model flags and their reasons, and the model's test figures read from the
model (never fixed numbers); always as a signal to look closer, never as a verdict."""

from __future__ import annotations

import contextlib
import html as htmlmod
import re
from types import SimpleNamespace

import pandas as pd
import pytest

from wijkmonitor import signalen, store
from wijkmonitor.catalogue import load_catalogue
from wijkmonitor.report import national, render, signals
from wijkmonitor.report.data import load


def _fake(level, codes_flagged, codes_other, auc, prec, n_units):
    spec = signalen.Spec(division=2020, waves=(2012, 2016, 2020), indicators=("a", "b"),
                         growth_threshold=0.25, top_share=0.05, n_reasons=3, regularisation_c=1.0,
                         version="x")
    ev = {"trained_on": "2012->2016", "tested_on": "2016->2020", "n_units": n_units,
          "share_growing_train": 0.1, "share_growing_test": 0.0949, "top_share": 0.05,
          "scores": {"model": {"auc": auc, "precision_top": prec},
                     "slechtste_niveau": {"auc": 0.3, "precision_top": 0.02},
                     "grootste_recente_achteruitgang": {"auc": 0.35, "precision_top": 0.09}}}
    codes = codes_flagged + codes_other
    sig = pd.DataFrame({"code": codes, "gemeente": ["GM" + c[2:6] for c in codes],
                        "score": [0.9] * len(codes_flagged) + [0.1] * len(codes_other),
                        "rank": list(range(1, len(codes) + 1)),
                        "signal": [True] * len(codes_flagged) + [False] * len(codes_other),
                        "achterstand": 1.0,
                        "reasons": [[{"input": "eenzaam_pct", "contribution": 0.5},
                                     {"input": "log_inwoners", "contribution": 0.2}]] * len(codes)})
    return signalen.Result(level=level, spec=spec, evaluation=ev, signals=sig)


def test_section_from_a_given_model(real_store):
    areas = pd.DataFrame({
        "name": ["Wijkgebied", "Buurtgebied", "Stil"], "gemeente_name": ["X", "Y", "Z"],
        "level": ["wijk", "buurt", "buurt"], "reference_year": [2020, 2020, 2016],
        "codes": ["WK999901,WK999902", "BU88880101", "BU77770101"]})
    results = {
        # flagged: a buurt in WK999901 (in the wijk area), a buurt of another wijk (in none);
        # not flagged: a buurt of the buurt area
        "buurt": _fake("buurt", ["BU99990105", "BU99990301"], ["BU88880101", "BU77770101"], 0.6123, 0.237, 12345),
        # flagged: the wijk that holds the buurt area's buurt; WK999902 is not flagged
        "wijk": _fake("wijk", ["WK888801"], ["WK999902"], 0.5861, 0.2049, 2985)}
    data = SimpleNamespace(catalogue=load_catalogue(), path=real_store)
    ctx = signals.build(data, areas, results)
    assert ctx["error"] is None and ctx["disclaimer"] == signalen.DISCLAIMER
    # the figures are the model's, formatted (0,6123 -> 0,61; 0,237 -> 24 %)
    buurt, wijk = ctx["levels"]
    assert [r["auc"] for r in buurt["rows"]] == ["0,61", "0,30", "0,35"]
    assert buurt["rows"][0]["precision"] == "24 %" and buurt["n_units"] == "12.345"
    assert wijk["rows"][0]["auc"] == "0,59" and wijk["rows"][0]["precision"] == "20 %"
    assert buurt["share_growing"] == "9,5 %" and ctx["top_share"] == "5 %"
    got = {a["name"]: [(u["level"], u["code"], u["note"]) for u in a["units"]] for a in ctx["areas"]}
    assert got == {"Wijkgebied": [("buurt", "BU99990105", "")],
                   "Buurtgebied": [("wijk", "WK888801", "de wijk waarin het gebied ligt")]}
    assert ctx["quiet"] == "Stil"
    unit = ctx["areas"][0]["units"][0]
    assert unit["reasons"] == "eenzaamheid en het aantal inwoners" and unit["rank"] == "1"
    assert unit["name"] == "BU99990105"  # a code no division names keeps its code


def test_section_says_why_when_the_model_cannot_run(real_store, monkeypatch):
    def refuse(*a, **k):
        raise signalen.SignalenError("te weinig buurten met alle cijfers (3) voor een model")
    monkeypatch.setattr(signalen, "from_store", refuse)
    data = SimpleNamespace(catalogue=load_catalogue(), path=real_store)
    ctx = signals.build(data, pd.DataFrame(columns=["name", "gemeente_name", "level", "reference_year", "codes"]))
    assert ctx["error"].startswith("te weinig buurten") and ctx["levels"] == []


@pytest.fixture(scope="module")
def national_ctx(real_store):
    return national.build(load(real_store), "nplv", 2012, 2020)


def test_national_report_lists_the_real_signals(real_store, national_ctx):
    sg = national_ctx["signalen"]
    cat = load_catalogue()
    with contextlib.closing(store.connect(real_store)) as con:
        model = {lv: signalen.from_store(con, lv, catalogue=cat) for lv in ("buurt", "wijk")}
    for lv in sg["levels"]:
        ev = model[lv["level"]].evaluation
        assert lv["rows"][0]["auc"] == f"{ev['scores']['model']['auc']:.2f}".replace(".", ",")
        assert lv["rows"][0]["precision"] == f"{ev['scores']['model']['precision_top'] * 100:.0f} %"
    flagged = {c for res in model.values() for c in res.signals.loc[res.signals["signal"], "code"]}
    index = load(real_store).index.set_index("name")
    n_listed = 0
    for a in sg["areas"]:
        row = index.loc[a["name"]]
        if isinstance(row, pd.DataFrame):
            row = row[row["programme"] == "nplv"].iloc[0]
        codes = set(row["codes"].split(","))
        for u in a["units"]:
            n_listed += 1
            assert u["code"] in flagged
            # inside the area: the unit itself, its wijk, or the wijk of one of the area's buurten
            assert (u["code"] in codes or "WK" + u["code"][2:8] in codes
                    or u["code"] in {"WK" + c[2:8] for c in codes}), (a["name"], u["code"])
    assert n_listed > 0
    quiet = sg["quiet"] or ""
    assert all(a["name"] not in quiet for a in sg["areas"])


def test_national_html_states_it_is_no_verdict(national_ctx):
    page = render.render_html("national.html", national_ctx)
    sec = page.split('id="signalen"', 1)[1].split("</section>", 1)[0]
    text = htmlmod.unescape(re.sub(r"<[^>]+>", " ", sec))
    assert "geen oordeel" in text and "Trefkans bij de hoogste 5 %" in text
    assert 'href="#signalen"' in page
    n = len(national_ctx["sections"])
    # the chapter "Vergeleken met vergelijkbare wijken" (when there is one) comes after it
    after = 4 if national_ctx.get("effect") else 3
    assert f"{n + 2} Signalen" in text and f"{n + after} Verantwoording" in page
