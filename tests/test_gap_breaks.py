"""Issue 17.6 in the domain layer: no gap class across a change of publication series, in
:func:`wijkmonitor.analysis.gaps` (and so in ``wijkmonitor gap``, ``/api/v1/gaps`` and the
reports), unless the two series are declared comparable.

Synthetic cases first (both sides of every boundary), then the real Rotterdam case of the issue
through the CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from wijkmonitor import analysis, comparability
from wijkmonitor.catalogue import load_catalogue

IND = "ervaren_gezondheid_pct"  # %, tolerance 1 procentpunt, higher is better
R, G = "rivm-50090ned", "gezondheidsmonitor-50150ned"
SOURCES = pd.DataFrame({
    "source_id": ["rivm", "gm", "kwb23", "kwb24"],
    "table_id": ["50090NED", "50150NED", "85618NED", "85984NED"],
    "title": ["Gezondheid per wijk en buurt", "Gezondheidsmonitor (via woonikveilig)",
              "Kerncijfers wijken en buurten 2023", "Kerncijfers wijken en buurten 2024"]})


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def _frame(rows):
    df = pd.DataFrame(rows, columns=["unit_id", "unit_kind", "indicator", "period", "value", "status",
                                     "source_id"])
    df["estimate"] = True
    return df


def _index(ids, gemeente="GM0001"):
    return pd.DataFrame({"area_id": ids, "name": [f"Gebied {i}" for i in ids], "programme": "custom",
                         "gemeente": gemeente, "gemeente_unit": gemeente})


def _case():
    """Area 'a': shortfall 10 (2012), 8 (2020), 5 (2022) against a gemeente at 70, 72, 60.
    2012 and 2020 from 50090NED, 2022 from 50150NED, for the area and its gemeente alike.
    Area 'b': its own figures from one series throughout; only the gemeente changes."""
    rows = [("GM0001", "gemeente", IND, 2012, 70.0, "ok", "rivm"),
            ("GM0001", "gemeente", IND, 2020, 72.0, "ok", "rivm"),
            ("GM0001", "gemeente", IND, 2022, 60.0, "ok", "gm"),
            ("a", "area", IND, 2012, 60.0, "ok", "rivm"),
            ("a", "area", IND, 2020, 64.0, "ok", "rivm"),
            ("a", "area", IND, 2022, 55.0, "ok", "gm"),
            ("b", "area", IND, 2012, 60.0, "ok", "rivm"),
            ("b", "area", IND, 2020, 64.0, "ok", "rivm"),
            ("b", "area", IND, 2022, 55.0, "ok", "rivm")]
    return _frame(rows), _index(["a", "b"])


def _gaps(values, index, cat, baseline, latest, sources=SOURCES, **kw):
    df = analysis.gaps(baseline=baseline, latest=latest, indicators=[IND], values=values, index=index,
                       catalogue=cat, rule="omw", sources=sources, **kw)
    return df.set_index("area")


def test_within_one_series_the_class_stays(cat):
    values, index = _case()
    df = _gaps(values, index, cat, 2012, 2020)
    # shortfall 10 -> 8: kleiner by 2 > 1 (the fixed-tolerance rule, computed by hand)
    assert df.loc["a", "class"] == "kleiner" and df.loc["b", "class"] == "kleiner"
    assert pd.isna(df.loc["a", "class_reason"]) and pd.isna(df.loc["a", "break_before"])
    assert (df.loc["a", "series_baseline"], df.loc["a", "series_latest"]) == (R, R)


def test_across_an_undeclared_break_no_class(cat):
    values, index = _case()
    df = _gaps(values, index, cat, 2012, 2022)
    # without the rule: shortfall 10 -> 5 would be "kleiner"
    for aid in ("a", "b"):  # 'b': only the reference (its gemeente) changes series
        r = df.loc[aid]
        assert r["class"] == "bron veranderd"
        assert (int(r["break_before"]), int(r["break_after"])) == (2020, 2022)
        assert "tussen 2020 en 2022" in r["class_reason"]
        assert "50090NED" in r["class_reason"] and "50150NED" in r["class_reason"]
        # the provenance names the publication series of all four figures
        assert (r["reference_series_baseline"], r["reference_series_latest"]) == (R, G)
    assert (df.loc["a", "series_baseline"], df.loc["a", "series_latest"]) == (R, G)
    assert (df.loc["b", "series_baseline"], df.loc["b", "series_latest"]) == (R, R)
    # the default rule too
    std = analysis.gaps(baseline=2012, latest=2022, indicators=[IND], values=values, index=index,
                        catalogue=cat, sources=SOURCES)
    assert set(std["class"]) == {"bron veranderd"}


def test_a_declared_comparable_pair_keeps_the_class(cat, tmp_path, monkeypatch):
    p = tmp_path / "c.yaml"
    p.write_text(f"""series:
  - {{id: {R}, name: a, table: "^50090NED$"}}
  - {{id: {G}, name: b, table: "^50150NED$"}}
comparable:
  - {{indicator: {IND}, series: [{R}, {G}], reason: same model}}
""", encoding="utf-8")
    declared = comparability.load(p)
    monkeypatch.setattr(comparability, "load", lambda *a, **k: declared)
    values, index = _case()
    df = _gaps(values, index, cat, 2012, 2022)
    assert df.loc["a", "class"] == "kleiner" and pd.isna(df.loc["a", "class_reason"])
    # declared for that indicator only: another indicator's rows are not covered
    assert declared.breaks("eenzaam_pct", {2020: R, 2022: G}) != []


def test_no_verdict_classes_stay(cat):
    values, index = _case()
    values.loc[(values["unit_id"] == "a") & (values["period"] == 2012), ["value", "status"]] = (np.nan, "geheim")
    df = _gaps(values, index, cat, 2012, 2022)
    assert df.loc["a", "class"] == "te weinig waarnemingen" and pd.isna(df.loc["a", "class_reason"])
    assert df.loc["b", "class"] == "bron veranderd"


def test_a_series_that_changes_and_changes_back(cat):
    # the gemeente: 2021 and 2023 from one table, 2022 from another; the gap 2021 -> 2023
    # compares like with like, 2021 -> 2022 does not
    rows = [("GM0001", "gemeente", IND, 2021, 70.0, "ok", "rivm"),
            ("GM0001", "gemeente", IND, 2022, 70.0, "ok", "gm"),
            ("GM0001", "gemeente", IND, 2023, 70.0, "ok", "rivm")]
    rows += [("a", "area", IND, y, v, "ok", "rivm") for y, v in ((2021, 60.0), (2022, 62.0), (2023, 62.0))]
    values, index = _frame(rows), _index(["a"])
    assert _gaps(values, index, cat, 2021, 2023).loc["a", "class"] == "kleiner"
    r = _gaps(values, index, cat, 2021, 2022).loc["a"]
    assert r["class"] == "bron veranderd" and int(r["break_after"]) == 2022


def test_kwb_tables_of_different_years_are_one_series(cat):
    rows = [("GM0001", "gemeente", IND, 2023, 70.0, "ok", "kwb23"),
            ("GM0001", "gemeente", IND, 2024, 70.0, "ok", "kwb24"),
            ("a", "area", IND, 2023, 60.0, "ok", "kwb23"),
            ("a", "area", IND, 2024, 62.0, "ok", "kwb24")]
    r = _gaps(_frame(rows), _index(["a"]), cat, 2023, 2024).loc["a"]
    assert r["class"] == "kleiner" and r["series_baseline"] == r["series_latest"] == "kwb"


def test_a_group_without_source_takes_the_series_of_the_gemeenten(cat):
    # G4 is a harmonised sum (no source id): its series is that of most gemeente figures
    values, index = _case()
    extra = _frame([("G4", "group", IND, 2020, 72.0, "ok", None),
                    ("G4", "group", IND, 2022, 60.0, "ok", None)])
    values = pd.concat([values, extra], ignore_index=True)
    r = analysis.gaps(baseline=2020, latest=2022, indicators=[IND], values=values, index=index,
                      catalogue=cat, rule="omw", sources=SOURCES, reference="G4").set_index("area").loc["b"]
    assert (r["reference_series_baseline"], r["reference_series_latest"]) == (R, G)
    assert r["class"] == "bron veranderd"


def test_without_sources_nothing_is_judged(cat):
    values, index = _case()
    df = _gaps(values, index, cat, 2012, 2022, sources=None)
    assert df.loc["a", "class"] == "kleiner" and pd.isna(df.loc["a", "series_baseline"])


def test_gap_break_both_sides():
    d = comparability.load()
    area, ref = {2012: R, 2020: R}, {2012: R, 2020: R, 2022: G}
    assert comparability.gap_break(IND, [area, ref], 2012, 2020, d) is None
    b = comparability.gap_break(IND, [area, ref], 2012, 2022, d)
    assert (b.before, b.after, b.series_before, b.series_after) == (2020, 2022, R, G)
    assert comparability.gap_break(IND, [area, ref], 2022, 2022, d) is None   # one year: nothing to judge
    assert comparability.gap_break(IND, [area, {2012: R, 2022: None}], 2012, 2022, d) is None  # unknown
    assert comparability.series_of("rivm,gm", {"rivm": R, "gm": G}) == f"{G} + {R}"
    assert comparability.series_of("rivm,rivm2", {"rivm": R, "rivm2": R}) == R
    assert comparability.series_of("rivm,x", {"rivm": R}) is None


# ---------------------------------------------------------------------------------------------
# the real case of the issue: Rotterdam's ervaren gezondheid, 74,1 (2020, RIVM 50090NED) and
# 62,1 (2022, the Gezondheidsmonitor 50150NED via a re-publication)
# ---------------------------------------------------------------------------------------------

def _cli_gap(real_store, *args):
    out = subprocess.run([sys.executable, "-m", "wijkmonitor", "gap", "--indicator", IND, "--format", "json",
                          "--store", str(real_store), *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_rotterdam_case_via_cli_gap_json(real_store):
    (r,) = _cli_gap(real_store, "--area", "rotterdam-oude-westen", "--baseline", "2020", "--latest", "2022")
    assert (r["reference_baseline"], r["reference_latest"]) == (74.1, 62.1)
    assert r["class"] == "bron veranderd"
    assert (r["break_before"], r["break_after"]) == (2020, 2022)
    assert "50090NED" in r["class_reason"] and "50150NED" in r["class_reason"]
    assert r["publication_baseline"] == r["reference_publication_baseline"] == "50090NED, indeling 2020"
    assert r["publication_latest"] == r["reference_publication_latest"] == "50150NED, indeling 2024"
    assert (r["series_baseline"], r["series_latest"]) == (R, G)
    # fields that existed keep their names and meaning
    assert r["gap_baseline"] == pytest.approx(70.2 - 74.1) and r["rule_name"] == "standaard"
    # the same area within one publication keeps a class
    (s,) = _cli_gap(real_store, "--area", "rotterdam-oude-westen", "--baseline", "2012", "--latest", "2020")
    assert s["class"] in ("kleiner", "groter", "gelijk", "onzeker", "beter dan referentie")
    assert s["class_reason"] is None and s["series_baseline"] == s["series_latest"] == R

