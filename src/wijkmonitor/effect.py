"""Comparison areas and the effect question (issue 15, item 3): did an area in a programme
develop differently from similar areas that were in none?

Method
------
**Nearest-neighbour matching on standardised baseline values, then difference-in-differences.**
A synthetic control needs a long pre-period to fit its weights; the series that cover every
buurt and wijk (RIVM 50090NED) start in the baseline year 2012, so there is no pre-period to fit
or to check parallel trends on. Nearest neighbours need only the baseline and are transparent
(the comparison areas are listed by code).

* **Candidates**: CBS regions of the area's own level (wijk or buurt) on the area's reference
  division (2020), in no programme (no code of any NPLV focusgebied or aandachtswijk), with a
  shown value of the outcome in both years and of every matching variable in the baseline
  year, and at least :data:`MIN_WEIGHT` inhabitants of 25+ (tiny model estimates lean on the
  model, not on their own data).
* **Matching variables**: the outcome itself and the RIVM indicators published for every
  region (:data:`MATCH_ON`), all in the baseline year, each standardised by its standard
  deviation among the candidates. The :data:`K` nearest candidates (Euclidean distance) are
  the comparison areas. No pre-baseline trend enters (there is none for these series; said in
  ``method``).
* **Estimate**: ``(area latest - area baseline) - mean over the comparison areas of (latest -
  baseline)``, in the outcome's unit (oriented as published; the polarity says what is better).
* **Interval** (95 %): the area's own change carries the error of :mod:`wijkmonitor.uncertainty`
  (two independent values); the comparison mean carries ``sd(changes) / sqrt(K)``; added as
  independent.
* **Balance**: per matching variable the standardised mean difference ``(area - mean) / sd``
  (sd among all candidates) before matching (all candidates) and after (the comparison areas).
* **No estimate** (``status`` with ``reason``): the area has no value in a year, fewer than
  ``K`` candidates, or the indicator is not published per region for both years.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd

from . import store, uncertainty
from .catalogue import Catalogue, load_catalogue

#: Number of comparison areas per area.
K = 10
#: Candidates need at least this many inhabitants of 25+ (the weight of the estimates).
MIN_WEIGHT = 500
#: Matching variables besides the outcome: RIVM indicators published for every buurt and wijk.
MATCH_ON = ("ervaren_gezondheid_pct", "moeite_rondkomen_pct", "eenzaam_pct", "roker_pct",
            "overgewicht_pct")
STATUS_OK = "ok"
STATUS_NONE = "geen schatting"
METHOD = (f"naaste-buren-matching (k={K}) op gestandaardiseerde basisjaarwaarden van de uitkomst en "
          f"{{others}}, onder regio's van hetzelfde niveau (indeling {{year}}) in geen enkel "
          f"programma met minstens {MIN_WEIGHT} inwoners van 25+; verschil-in-verschillen; geen "
          f"pre-periode beschikbaar (de reeks begint in het basisjaar), dus niet op trend gematcht")


def effects(areas, indicator: str, baseline: int, latest: int, *, path: Path | None = None,
            catalogue: Catalogue | None = None, con=None) -> list[dict]:
    """The effect estimate of every selected area (see the module docstring).

    Parameters
    ----------
    areas : ``nplv``, ``aandachtswijken`` or an area id or name (or a list of ids)

    Returns
    -------
    One dict per area: ``area, area_name, indicator, baseline_year, latest_year, estimate,
    lower, upper, method, comparison_areas (codes), status, reason, area_change,
    comparison_change, balance`` (list of ``variable, smd_before, smd_after``).
    """
    from .analysis import load_area_index, load_area_values, select_areas

    catalogue = catalogue or load_catalogue()
    if indicator not in catalogue:
        raise KeyError(f"onbekende indicator {indicator!r}; zie 'wijkmonitor indicators'")
    ind = catalogue[indicator]
    with (contextlib.nullcontext(con) if con is not None else contextlib.closing(store.connect(path))) as c:
        index = load_area_index(con=c)
        values = load_area_values(con=c)
        sel = select_areas(index, areas)
        variables = [indicator] + [v for v in MATCH_ON if v != indicator and v in catalogue]
        regions = c.execute("""
            SELECT region_code, indicator, period, value, numerator, denominator
            FROM indicator_values
            WHERE status = 'ok' AND geo_year = 2020 AND left(region_code, 2) IN ('WK', 'BU')
              AND indicator IN (SELECT unnest(?)) AND period IN (?, ?)""",
                            [variables, int(baseline), int(latest)]).df()
    in_programme = {code for codes in index["codes"] for code in str(codes).split(",") if code}
    # the selected areas' shown values, looked up by (area, indicator, period)
    mine = values[values["unit_id"].isin(set(sel["area_id"])) & (values["status"] == "ok")
                  & values["indicator"].isin(variables)]
    lookup = {(u, i, int(p)): r for u, i, p, r in zip(mine["unit_id"], mine["indicator"], mine["period"],
                                                       mine[["value", "numerator", "denominator"]].to_dict("records"))}
    # the candidates of each level, once: one row per region, columns (indicator, period)
    candidates = {}
    for prefix in ("WK", "BU"):
        cand = regions[regions["region_code"].str.startswith(prefix) & ~regions["region_code"].isin(in_programme)]
        wide = cand.pivot_table(index="region_code", columns=["indicator", "period"], values="value")
        weight = cand[(cand["indicator"] == indicator) & (cand["period"] == int(baseline))].set_index(
            "region_code")["denominator"]
        candidates[prefix] = (wide, weight)
    out = []
    for a in sel.itertuples(index=False):
        out.append(_one(a, ind, variables, lookup, candidates, int(baseline), int(latest)))
    return out


def _one(a, ind, variables, lookup, candidates, baseline, latest) -> dict:
    row = dict(area=a.area_id, area_name=a.name, indicator=ind.id, baseline_year=baseline,
               latest_year=latest, estimate=None, lower=None, upper=None,
               method=METHOD.format(year=int(a.reference_year), others=", ".join(variables[1:])),
               comparison_areas=[],
               status=STATUS_NONE, reason="", area_change=None, comparison_change=None, balance=[])

    def area_value(var, year):
        return lookup.get((a.area_id, var, year))

    ab, al = area_value(ind.id, baseline), area_value(ind.id, latest)
    if ab is None or al is None:
        row["reason"] = (f"het gebied heeft geen getoond cijfer in {baseline if ab is None else latest}")
        return row
    wide, weight = candidates["WK" if a.level == "wijk" else "BU"]
    need = [(ind.id, baseline), (ind.id, latest)] + [(v, baseline) for v in variables[1:]]
    if any(k not in wide.columns for k in need):
        row["reason"] = "de indicator of een matchvariabele is niet per regio gepubliceerd in beide jaren"
        return row
    wide = wide[need].dropna()
    wide = wide[weight.reindex(wide.index).fillna(0) >= MIN_WEIGHT]
    if len(wide) < K + 1:
        row["reason"] = f"te weinig vergelijkingsgebieden ({len(wide)}; nodig: meer dan {K})"
        return row
    x_area = []
    for v in variables:
        r = area_value(v, baseline)
        if r is None:
            row["reason"] = f"het gebied heeft geen cijfer voor matchvariabele {v} in {baseline}"
            return row
        x_area.append(float(r["value"]))
    x_area = np.array(x_area)
    X = wide[[(v, baseline) for v in variables]].to_numpy(dtype="float64")
    sd = X.std(axis=0, ddof=1)
    sd[sd == 0] = 1.0
    dist = np.sqrt((((X - x_area) / sd) ** 2).sum(axis=1))
    nearest = np.argsort(dist, kind="stable")[:K]
    comp = wide.iloc[nearest]
    changes = (comp[(ind.id, latest)] - comp[(ind.id, baseline)]).to_numpy(dtype="float64")
    area_change = float(al["value"]) - float(ab["value"])
    se_area = uncertainty.intervals(ind, [float(ab["value"]), float(al["value"])],
                                    [ab["numerator"], al["numerator"]], [ab["denominator"], al["denominator"]])["se"]
    se_comp = changes.std(ddof=1) / np.sqrt(K)
    se = float(np.sqrt(np.nansum(se_area ** 2) + se_comp ** 2))
    estimate = area_change - float(changes.mean())
    row.update(estimate=estimate, lower=estimate - uncertainty.Z * se, upper=estimate + uncertainty.Z * se,
               comparison_areas=list(comp.index), status=STATUS_OK, area_change=area_change,
               comparison_change=float(changes.mean()))
    row["balance"] = [dict(variable=v, smd_before=float((x_area[j] - X[:, j].mean()) / sd[j]),
                           smd_after=float((x_area[j] - X[nearest, j].mean()) / sd[j]))
                      for j, v in enumerate(variables)]
    if np.all(np.isnan(se_area)):
        row["reason"] = "interval zonder de onzekerheid van het gebied zelf (geen interval bekend)"
    return row


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """One row per area (comparison areas joined by commas; the balance left out)."""
    return pd.DataFrame([{k: (",".join(v) if k == "comparison_areas" else v) for k, v in r.items()
                          if k != "balance"} for r in rows])
