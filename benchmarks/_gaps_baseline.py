"""The baseline of ``bench_gaps``: :func:`wijkmonitor.analysis.gaps` as it was before it was
vectorised (commit 48bc186), brought up to the current rules and otherwise kept as it was.

It is the straightforward implementation: per indicator the years, then for every area four
``DataFrame.loc`` look-ups on a (unit, indicator, period) MultiIndex, then the tolerance, class
and rule per indicator. Two rules changed after 48bc186 and are followed here by calling the
product's own functions: counts get no gap (``comparable``), and the years come from
``choose_years`` (the areas' years per indicator, collected row by row). ``classify``,
``rule_text``, ``default_tolerance`` and ``select_areas`` are the product's own as well, so
both implementations apply the same rule; what differs is how the numbers are looked up.

Only used by the benchmark; never imported by wijkmonitor.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from wijkmonitor.analysis import (REFERENCE_NAMES, _lookup, REFERENCES, choose_years, classify, comparable,
                                  default_tolerance, rule_text, same_publication, select_areas)
from wijkmonitor import comparability
from wijkmonitor.catalogue import Catalogue


def gaps(*, areas: Sequence[str] | str | None = None, indicators: Sequence[str] | None = None,
         baseline: int, latest: int, reference: str = "gemeente",
         values: pd.DataFrame, index: pd.DataFrame, catalogue: Catalogue,
         sources: pd.DataFrame | None = None) -> pd.DataFrame:
    """Gap and classification per area and indicator (per-row look-ups); with ``sources``, no
    class across a change of publication series (issue 17.6), applied row by row."""
    if reference not in REFERENCES:
        raise ValueError(f"onbekende referentie {reference!r}")
    idx = select_areas(index, areas)
    inds = [catalogue[i] for i in indicators] if indicators else [
        i for i in catalogue.values() if comparable(i)]
    v = values.set_index(["unit_id", "indicator", "period"])
    area_units = values[values["unit_kind"] == "area"]
    rows = []
    selected = set(idx["area_id"])
    for ind in inds:
        iv = area_units[(area_units["indicator"] == ind.id) & (area_units["status"] == "ok")
                        & area_units["unit_id"].isin(selected)]
        area_years: dict[str, set[int]] = {}
        for r in iv.itertuples():
            area_years.setdefault(r.unit_id, set()).add(int(r.period))
        by, ly = choose_years(area_years, len(selected), baseline, latest)
        for a in idx.itertuples():
            ref_unit = _reference_unit(a, reference)
            rows.append((a.area_id, a.name, a.programme, a.gemeente, ind.id, by, ly, ref_unit,
                         *_lookup(v, a.area_id, ind.id, by), *_lookup(v, a.area_id, ind.id, ly),
                         *_lookup(v, ref_unit, ind.id, by), *_lookup(v, ref_unit, ind.id, ly)))
    cols = ["area", "area_name", "programme", "gemeente", "indicator", "baseline_year", "latest_year",
            "reference_unit", "value_baseline", "status_baseline", "estimate_baseline",
            "value_latest", "status_latest", "estimate_latest",
            "reference_baseline", "reference_status_baseline", "_eb", "reference_latest",
            "reference_status_latest", "_el"]
    df = pd.DataFrame(rows, columns=cols).drop(columns=["_eb", "_el"])
    if reference in ("gemeente", "rest") and "publication" in values.columns:
        # one publication per comparison (issue 15): a reference value from another publication
        # than the area's value of that year is not compared, row by row
        model = {i.id: bool(i.estimate) for i in inds}
        for k, r in enumerate(df.itertuples()):
            for when in ("baseline", "latest"):
                year = getattr(r, f"{when}_year")
                a_pub = _publication(v, r.area, r.indicator, year)
                r_pub = _publication(v, r.reference_unit, r.indicator, year)
                if (a_pub is not None and r_pub is not None and pd.notna(getattr(r, f"value_{when}"))
                        and pd.notna(getattr(r, f"reference_{when}"))
                        and not same_publication(a_pub, r_pub, model=model[r.indicator])):
                    df.iat[k, df.columns.get_loc(f"reference_{when}")] = np.nan
                    df.iat[k, df.columns.get_loc(f"reference_status_{when}")] = "niet vergelijkbaar"
    df["reference"] = reference
    df["reference_name"] = REFERENCE_NAMES[reference]
    df["gap_baseline"] = df["value_baseline"] - df["reference_baseline"]
    df["gap_latest"] = df["value_latest"] - df["reference_latest"]
    with np.errstate(divide="ignore", invalid="ignore"):
        df["ratio_baseline"] = np.where(df["reference_baseline"] != 0,
                                        df["value_baseline"] / df["reference_baseline"], np.nan)
        df["ratio_latest"] = np.where(df["reference_latest"] != 0,
                                      df["value_latest"] / df["reference_latest"], np.nan)
    parts = []
    for ind in inds:
        sub = df[df["indicator"] == ind.id].copy()
        if sub.empty:
            continue
        tol = np.array([default_tolerance(ind, rb) for rb in sub["reference_baseline"]], dtype="float64")
        sub["tolerance"] = tol
        same = (sub["baseline_year"] == sub["latest_year"]).fillna(True).to_numpy(dtype=bool)
        sub["class"] = classify(sub["value_baseline"], sub["value_latest"], sub["reference_baseline"],
                                sub["reference_latest"], higher_is_better=ind.higher_is_better,
                                tolerance=tol, same_year=same)
        sub["rule"] = [rule_text(ind, t, None if pd.isna(by) else int(by), None if pd.isna(ly) else int(ly),
                                 reference)
                       for t, by, ly in zip(tol, sub["baseline_year"], sub["latest_year"])]
        sub["polarity"] = ind.polarity
        parts.append(sub)
    out = pd.concat(parts, ignore_index=True) if parts else df.assign(tolerance=[], **{"class": []}, rule=[])
    if sources is not None and len(out):
        series = _series(values, sources)
        classes = out["class"].tolist()
        for k, r in enumerate(out.itertuples()):
            if classes[k] == "te weinig waarnemingen" or pd.isna(r.baseline_year) or pd.isna(r.latest_year):
                continue
            if comparability.gap_break(r.indicator, [series.get((r.area, r.indicator), {}),
                                                     series.get((r.reference_unit, r.indicator), {})],
                                       int(r.baseline_year), int(r.latest_year)) is not None:
                classes[k] = comparability.BREAK_CLASS
        out["class"] = classes
    for c in ("baseline_year", "latest_year"):
        out[c] = out[c].astype("Int64")
    return out


def _publication(v: pd.DataFrame, unit: str, indicator: str, period):
    """The publication of one value (None when unknown or not shown)."""
    if period is None or pd.isna(period):
        return None
    try:
        r = v.loc[(unit, indicator, int(period))]
    except KeyError:
        return None
    if isinstance(r, pd.DataFrame):
        r = r.iloc[0]
    p = r["publication"]
    return p if isinstance(p, str) and r["status"] == "ok" else None


def _series(values: pd.DataFrame, sources: pd.DataFrame) -> dict:
    """``{(unit, indicator): {year: series}}`` row by row: the series of the figure's source(s),
    or (no source) the series of most gemeente figures of that indicator and year."""
    decl = comparability.load()
    fam = {r.source_id: decl.family(r.table_id if isinstance(r.table_id, str) else None,
                                    r.title if isinstance(r.title, str) else None).id
           for r in sources.itertuples()}

    def of(sid):
        if not isinstance(sid, str):
            return None
        found = {fam.get(x) for x in sid.split(",")}
        return None if None in found else comparability.MIXED.join(sorted(found))

    votes: dict = {}
    out: dict = {}
    missing = []
    for r in values[values["status"] == "ok"].itertuples():
        s = of(r.source_id)
        if r.unit_kind == "gemeente" and s is not None:
            c = votes.setdefault((r.indicator, int(r.period)), {})
            c[s] = c.get(s, 0) + 1
        if s is None:
            missing.append((r.unit_id, r.indicator, int(r.period)))
        else:
            out.setdefault((r.unit_id, r.indicator), {})[int(r.period)] = s
    for u, i, p in missing:
        c = votes.get((i, p))
        if c:
            out.setdefault((u, i), {})[p] = max(c.items(), key=lambda kv: (kv[1], kv[0]))[0]
    return out


def _reference_unit(area_row, reference: str) -> str:
    if reference == "gemeente":
        return area_row.gemeente_unit
    if reference == "rest":
        return f"{area_row.area_id}~rest"
    return reference
