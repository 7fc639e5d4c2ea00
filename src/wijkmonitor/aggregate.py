"""Indicator values for areas (focus areas, aandachtswijken, custom areas), the rest of their
gemeente, and reference groups (G4, G14, G18, G40, NPLV19, NL).

Rules
-----
* An area that is exactly one CBS region takes that region's published value and status.
* Otherwise the area's parts (its CBS buurten or wijken) are added up following the
  indicator's aggregation rule: ``som`` (sum of values), ``verhouding`` (sum of numerators over
  sum of denominators), ``gewogen gemiddelde`` (sum of value x weight over sum of weights;
  model estimates stay estimates), ``niet optelbaar`` (medians, scores: no value for a
  combination of regions).
* **Only parts whose own value is shown are added.** A part that is secret or below its
  minimum base is left out, and so is its population; that is what makes differencing two
  aggregates (say, a custom area one buurt larger than another) unable to reveal a suppressed
  value: every aggregate is a function of shown values only.
* Coverage is the share of the area's population (per part: inhabitants of the nearest year
  CBS publishes for that code) in parts that contributed. Below :data:`MIN_COVERAGE` the area
  gets ``niet vergelijkbaar``; sums need full coverage, since a partial sum is an undercount.
* The minimum base of the indicator applies to the aggregate's denominator too.
* Parts are matched by code for every period: an area drawn on one year's buurten follows the
  codes that persist; codes that changed lower the coverage (see :mod:`wijkmonitor.harmonise`
  for moving figures between boundaries).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterable, Sequence

import duckdb
import numpy as np
import pandas as pd

from .catalogue import Catalogue, load_catalogue

#: Minimum share of an area's population in contributing parts (else "niet vergelijkbaar").
MIN_COVERAGE = 0.9

STATUS_NOT_COMPARABLE = "niet vergelijkbaar"
STATUS_NOT_ADDITIVE = "niet optelbaar"

AREA_STATUS_EXPLANATION = {
    STATUS_NOT_COMPARABLE: (f"niet vergelijkbaar: minder dan {MIN_COVERAGE:.0%} van de inwoners van het "
                            "gebied valt in buurten met een getoond cijfer (of de indeling veranderde)"),
    STATUS_NOT_ADDITIVE: "niet optelbaar: deze maat (mediaan, score of klasse) kan niet over buurten worden opgeteld",
}

AREA_VALUES_SQL = """
CREATE TABLE IF NOT EXISTS area_values (
    unit_id VARCHAR NOT NULL, unit_kind VARCHAR NOT NULL, indicator VARCHAR NOT NULL,
    period INTEGER NOT NULL, value DOUBLE, numerator DOUBLE, denominator DOUBLE,
    status VARCHAR NOT NULL, coverage DOUBLE, n_parts INTEGER, n_used INTEGER,
    estimate BOOLEAN NOT NULL, method VARCHAR NOT NULL)
"""


@dataclass(frozen=True)
class Unit:
    """Something to compute values for: an area, the rest of a gemeente, or a group."""

    id: str
    kind: str  # area | rest | group
    codes: tuple[str, ...]
    reference_year: int | None = None
    published_code: str | None = None  # a region whose published value is the unit's value


def units_for_areas(areas: Iterable, regions: pd.DataFrame) -> list[Unit]:
    """Units for each area and for the rest of its gemeente (same level, same division).

    ``areas`` are objects with ``id, gemeente, reference_year, level, codes`` (see
    :mod:`wijkmonitor.areas`); ``regions`` is the store's regions table.
    """
    out = []
    by_year_level = {k: g for k, g in regions.groupby(["year", "level"])}
    for a in areas:
        codes = tuple(a.codes)
        out.append(Unit(a.id, "area", codes, a.reference_year,
                        codes[0] if len(codes) == 1 else None))
        reg = by_year_level.get((a.reference_year, a.level))
        if reg is not None:
            rest = reg[(reg["gemeente_code"] == a.gemeente) & ~reg["code"].isin(codes)]["code"]
            if len(rest):
                out.append(Unit(f"{a.id}~rest", "rest", tuple(sorted(rest)), a.reference_year))
    return out


def units_for_groups(groups: dict[str, Sequence[str]]) -> list[Unit]:
    """Units for reference groups ``{group id: gemeente codes}`` (NL is handled by
    :func:`aggregate_national`)."""
    return [Unit(gid, "group", tuple(codes)) for gid, codes in groups.items() if gid.upper() != "NL"]


def aggregate_national(con: duckdb.DuckDBPyConnection, catalogue: Catalogue | None = None) -> pd.DataFrame:
    """NL: the published national value (``NL00``) where a source has one; otherwise the
    gemeenten of that year's division added up by the same rules as any other unit."""
    catalogue = catalogue or load_catalogue()
    years = [r[0] for r in con.execute(
        "SELECT DISTINCT year FROM regions WHERE level = 'gemeente' ORDER BY year").fetchall()]
    frames = []
    published = aggregate(con, [Unit("NL", "group", ("NL00",), None, "NL00")], catalogue)
    frames.append(published)
    for year in years:
        codes = tuple(r[0] for r in con.execute(
            "SELECT code FROM regions WHERE level = 'gemeente' AND year = ?", [year]).fetchall())
        agg = aggregate(con, [Unit("NL", "group", codes, year)], catalogue)
        # only the periods this division describes, and only where nothing is published
        agg = agg[(agg["period"] == year) & (agg["method"] == "opgeteld")]
        have = set(zip(published["indicator"], published["period"]))
        agg = agg[[(i, p) not in have for i, p in zip(agg["indicator"], agg["period"])]]
        frames.append(agg)
    out = pd.concat(frames, ignore_index=True)
    return out.drop_duplicates(["unit_id", "indicator", "period"], keep="first")


def aggregate(con: duckdb.DuckDBPyConnection, units: Sequence[Unit],
              catalogue: Catalogue | None = None, *, table: str = "indicator_values") -> pd.DataFrame:
    """Indicator values for ``units`` from the store's ``indicator_values`` and ``regions``.

    ``table`` names another table or view with the columns of ``indicator_values`` to add up
    from (e.g. the harmonised gemeente series, see :mod:`wijkmonitor.series`).
    """
    catalogue = catalogue or load_catalogue()
    parts = pd.DataFrame(
        [(u.id, u.kind, c, u.reference_year) for u in units for c in u.codes],
        columns=["unit_id", "unit_kind", "code", "ref_year"])
    published = pd.DataFrame(
        [(u.id, u.kind, u.published_code) for u in units if u.published_code],
        columns=["unit_id", "unit_kind", "code"])
    inds = pd.DataFrame([(i.id, i.aggregation, i.min_base, i.estimate) for i in catalogue.values()],
                        columns=["indicator", "aggregation", "min_base", "estimate"])
    con.register("u_parts", parts)
    con.register("u_pub", published)
    con.register("u_inds", inds)
    try:
        df = con.execute(f"""
        WITH
        -- population weight of each part: inhabitants in the division nearest the reference year
        pw AS (
            SELECT p.unit_id, p.code, arg_min(r.population, abs(r.year - coalesce(p.ref_year, r.year)))
                   AS pop
            FROM u_parts p LEFT JOIN regions r ON r.code = p.code AND r.population IS NOT NULL
            GROUP BY ALL),
        -- per code and period the value on the division nearest the unit's reference year
        v AS (
            SELECT * EXCLUDE (rn) FROM (
                SELECT p.unit_id, p.unit_kind, iv.indicator, iv.period, p.code, iv.value, iv.numerator,
                       iv.denominator, iv.status, iv.estimate,
                       row_number() OVER (PARTITION BY p.unit_id, p.code, iv.indicator, iv.period
                           ORDER BY abs(iv.geo_year - coalesce(p.ref_year, iv.geo_year)), iv.geo_year DESC) rn
                FROM u_parts p JOIN {table} iv ON iv.region_code = p.code)
            WHERE rn = 1),
        n AS (SELECT unit_id, count(*) AS n_parts, sum(coalesce(pop, 0)) AS pop_total,
                     count(pop) AS n_with_pop FROM pw GROUP BY unit_id),
        agg AS (
            SELECT v.unit_id, any_value(v.unit_kind) AS unit_kind, v.indicator, v.period,
                   count(*) FILTER (WHERE v.status = 'ok') AS n_used,
                   sum(v.value) FILTER (WHERE v.status = 'ok') AS sum_value,
                   sum(v.numerator) FILTER (WHERE v.status = 'ok') AS sum_num,
                   sum(v.denominator) FILTER (WHERE v.status = 'ok') AS sum_den,
                   count(*) FILTER (WHERE v.status = 'ok' AND v.denominator IS NULL) AS n_no_den,
                   sum(pw.pop) FILTER (WHERE v.status = 'ok') AS pop_used,
                   bool_or(v.estimate) AS any_estimate
            FROM v LEFT JOIN pw ON pw.unit_id = v.unit_id AND pw.code = v.code
            GROUP BY v.unit_id, v.indicator, v.period),
        summed AS (
            SELECT a.*, n.n_parts, i.aggregation, i.min_base, i.estimate,
                   CASE WHEN n.n_with_pop = n.n_parts AND n.pop_total > 0
                        THEN coalesce(a.pop_used, 0) / n.pop_total
                        ELSE a.n_used::DOUBLE / n.n_parts END AS coverage
            FROM agg a JOIN n USING (unit_id) JOIN u_inds i USING (indicator)),
        computed AS (
            SELECT unit_id, unit_kind, indicator, period, n_parts, n_used, coverage, aggregation,
                   estimate OR coalesce(any_estimate, false) AS estimate,
                   CASE
                     WHEN aggregation = 'niet optelbaar' THEN '{STATUS_NOT_ADDITIVE}'
                     WHEN n_used = 0 THEN 'niet beschikbaar'
                     WHEN aggregation = 'som' AND n_used < n_parts THEN '{STATUS_NOT_COMPARABLE}'
                     WHEN coverage < {MIN_COVERAGE} THEN '{STATUS_NOT_COMPARABLE}'
                     WHEN aggregation IN ('verhouding', 'gewogen gemiddelde') AND n_no_den > 0
                          THEN '{STATUS_NOT_COMPARABLE}'
                     WHEN aggregation IN ('verhouding', 'gewogen gemiddelde') AND sum_den < min_base
                          THEN 'te weinig waarnemingen'
                     WHEN aggregation IN ('verhouding', 'gewogen gemiddelde') AND sum_den = 0
                          THEN 'niet beschikbaar'
                     ELSE 'ok' END AS status,
                   sum_value, sum_num, sum_den
            FROM summed),
        aggregated AS (
            SELECT unit_id, unit_kind, indicator, period,
                   -- ratio indicators get their scale (x100, per 1 000) applied below
                   CASE WHEN status <> 'ok' THEN NULL
                        WHEN aggregation = 'som' THEN sum_value
                        ELSE sum_num / sum_den END AS value,
                   CASE WHEN status = 'ok' THEN CASE WHEN aggregation = 'som' THEN sum_value ELSE sum_num END END AS numerator,
                   CASE WHEN status = 'ok' AND aggregation <> 'som' THEN sum_den END AS denominator,
                   status, coverage, n_parts, n_used, estimate, 'opgeteld' AS method
            FROM computed),
        pub AS (
            SELECT * EXCLUDE (rn) FROM (
                SELECT u.unit_id, u.unit_kind, iv.indicator, iv.period, iv.value, iv.numerator,
                       iv.denominator, iv.status, 1.0 AS coverage, 1 AS n_parts,
                       CASE WHEN iv.status = 'ok' THEN 1 ELSE 0 END AS n_used, iv.estimate,
                       'gepubliceerd' AS method,
                       row_number() OVER (PARTITION BY u.unit_id, iv.indicator, iv.period
                                          ORDER BY iv.geo_year DESC) rn
                FROM u_pub u JOIN {table} iv ON iv.region_code = u.code)
            WHERE rn = 1)
        SELECT * FROM pub
        UNION ALL
        SELECT a.* FROM aggregated a
        -- a published value is the unit's value, whatever its status
        WHERE NOT EXISTS (SELECT 1 FROM pub p WHERE p.unit_id = a.unit_id AND p.indicator = a.indicator
                          AND p.period = a.period)
        """).df()
    finally:
        for name in ("u_parts", "u_pub", "u_inds"):
            con.unregister(name)
    # ratio indicators: numerator/denominator carry the ratio's scale (e.g. x100, per 1000)
    scale = _ratio_scale(catalogue)
    factor = np.array([scale[i] if m == "opgeteld" and catalogue[i].aggregation == "verhouding" else 1.0
                       for i, m in zip(df["indicator"], df["method"])], dtype="float64")
    df["value"] = df["value"].astype("float64") * factor
    return df[["unit_id", "unit_kind", "indicator", "period", "value", "numerator", "denominator",
               "status", "coverage", "n_parts", "n_used", "estimate", "method"]]


def _ratio_scale(catalogue: Catalogue) -> dict[str, float]:
    """For ``verhouding`` indicators: value = scale x numerator / denominator. Formulas of one
    indicator share the scale (percentages: 100 both as counts ratio and as value+base)."""
    out = {}
    for ind in catalogue.values():
        f = ind.formulas[0]
        out[ind.id] = f.scale if f.mode == "ratio" else f.per
    return out


# ---------------------------------------------------------------------------------------
# Build step: area_index and area_values for every declared area, group and programme
# ---------------------------------------------------------------------------------------

SET_PREFIX = "alle:"


def build_area_tables(con: duckdb.DuckDBPyConnection, areas: Sequence | None = None,
                      catalogue: Catalogue | None = None) -> int:
    """Write ``area_index`` and ``area_values`` into the store being built."""
    from . import areas as areas_mod

    catalogue = catalogue or load_catalogue()
    areas = list(areas if areas is not None else areas_mod.load_areas().values())
    regions = con.execute("SELECT code, year, level, name, gemeente_code FROM regions").df()
    units = units_for_areas(areas, regions)
    gemeenten = sorted({a.gemeente for a in areas})
    successors = {}
    for gm in gemeenten:
        with contextlib.suppress(Exception):
            succ = areas_mod.successor_gemeente(gm, 2100)
            if succ and succ != gm:
                successors[gm] = succ
    units += [Unit(gm, "gemeente", (gm,), None, gm) for gm in sorted(set(gemeenten) | set(successors.values()))]
    groups = {gid: tuple(g.members) for gid, g in areas_mod.load_groups().items()
              if g.members is not None}  # NL (all gemeenten): aggregate_national
    units += units_for_groups(groups)
    for programme in sorted({a.programme for a in areas}):
        codes = tuple(sorted({c for a in areas if a.programme == programme for c in a.codes}))
        units.append(Unit(SET_PREFIX + programme, "set", codes, None))
    values = aggregate(con, units, catalogue)
    # the gemeente reference and the G-groups on one geography for all years (issue 5)
    from .series import harmonise_reference_units
    values = harmonise_reference_units(con, values, catalogue)
    values = _fill_successors(values, successors)
    national = aggregate_national(con, catalogue)
    values = pd.concat([values, national], ignore_index=True)
    index = pd.DataFrame([dict(
        area_id=a.id, name=a.name, programme=a.programme, gemeente=a.gemeente,
        gemeente_unit=a.gemeente, gemeente_successor=successors.get(a.gemeente),
        gemeente_name=getattr(a, "gemeente_name", None), level=a.level,
        reference_year=a.reference_year, n_codes=len(a.codes), codes=",".join(a.codes),
        removed=getattr(a, "removed", None), delineation_note=getattr(a, "delineation_note", ""))
        for a in areas])
    con.execute("DROP TABLE IF EXISTS area_values")
    con.execute("DROP TABLE IF EXISTS area_index")
    con.execute(AREA_VALUES_SQL)
    con.register("av_df", values)
    con.execute("INSERT INTO area_values SELECT unit_id, unit_kind, indicator, period, value, numerator, "
                "denominator, status, coverage, n_parts, n_used, estimate, method FROM av_df "
                "ORDER BY unit_id, indicator, period")
    con.unregister("av_df")
    con.register("ai_df", index)
    con.execute("CREATE TABLE area_index AS SELECT * FROM ai_df")
    con.unregister("ai_df")
    return len(values)


def _fill_successors(values: pd.DataFrame, successors: dict[str, str]) -> pd.DataFrame:
    """A merged gemeente keeps its successor's figures for the periods after the merger."""
    extra = []
    for old, new in successors.items():
        have = set(zip(values.loc[values["unit_id"] == old, "indicator"],
                       values.loc[values["unit_id"] == old, "period"]))
        succ = values[values["unit_id"] == new]
        add = succ[[(i, p) not in have for i, p in zip(succ["indicator"], succ["period"])]].copy()
        add["unit_id"] = old
        add["method"] = "opvolger " + new
        extra.append(add)
    return pd.concat([values, *extra], ignore_index=True) if extra else values
