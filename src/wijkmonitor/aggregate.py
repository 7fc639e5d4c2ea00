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
  value: every aggregate is a function of shown values only. A shown percentage whose base is
  not known (so it cannot be weighted) is left out too.
* Coverage is the share of the area's population (per part: inhabitants of the nearest year
  CBS publishes for that code) in parts that contributed. A part whose population no source
  gives counts as a part of average size (the mean of the parts with a known population; with
  none known, every part counts the same). Below :data:`MIN_COVERAGE` the area gets
  ``niet vergelijkbaar``; sums need full coverage, since a partial sum is an undercount.
* The minimum base of the indicator applies to the aggregate's denominator too.
* **Declared stand-in weight** (``weight_fallback`` in the catalogue: the woningvoorraad
  indicators, weighted with households). Where an area-year's parts are added up with the
  formula's own base or weight and that leaves the area ``niet vergelijkbaar`` because shown
  parts lack that base (the 2024 KWB per buurt on the mirror has WOZ and koopwoningen but no
  woningvoorraad), the area is added up again with the stand-in weight for *all* its parts
  (never a mix of the two weights in one sum), by the same rules (only shown parts, coverage,
  minimum base). It is used only where it gives a shown value; its ``method`` says
  ``opgeteld; benadering: gewogen met huishoudens, woningvoorraad per buurt ontbreekt`` and
  its interval includes the measured error of the approximation (:mod:`wijkmonitor.uncertainty`).
  The weight is the part's own observation (best source) of the same division and period.
  Published values and the CBS regions' own values are never replaced.
* Parts are matched by code for every period: an area drawn on one year's buurten follows the
  codes that persist; codes that changed lower the coverage (see :mod:`wijkmonitor.harmonise`
  for moving figures between boundaries). All parts of an area in one period come from one
  division (the one nearest its reference year that has figures), so an area is never added
  up from two publications describing different divisions (RIVM 50090NED on the 2020 buurten
  and the 50150NED run on the 2024 buurten). When none of a unit's codes has a figure for a
  period in which its gemeente has figures at the same level (the codes were all recoded, as
  Amsterdam's in 2022), the unit gets ``niet vergelijkbaar`` with coverage 0, not silence.
* Unless the recoding is declared with the gemeente's code crosswalk
  (``areas/recodings.yaml``, :mod:`wijkmonitor.areas.recoding`): then an area (and the rest of
  its gemeente) is followed onto the new codes, when the crosswalk accounts for at least
  :data:`MIN_COVERAGE` of its inhabitants, and added up on the new division by the same rules
  (:func:`bridge_recoded`). Such a figure names its table and division in ``publication`` as
  any other, the crosswalk and the share it follows in ``method``, and its coverage is the
  product of the bridge's share and the parts' coverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import duckdb
import numpy as np
import pandas as pd

from .catalogue import Catalogue, load_catalogue
from .nlformat import nl_value

#: Minimum share of an area's population in contributing parts (else "niet vergelijkbaar").
MIN_COVERAGE = 0.9

STATUS_NOT_COMPARABLE = "niet vergelijkbaar"
STATUS_NOT_ADDITIVE = "niet optelbaar"

#: Why an aggregate is ``niet vergelijkbaar``, as a clause (the web, API and report use it).
NOT_COMPARABLE_REASON = (f"minder dan {nl_value(MIN_COVERAGE * 100, 0, '%')} van de inwoners valt in "
                         "delen met een cijfer dat meetelt (een percentage of gemiddelde waarvan de bron de "
                         "basis of het gewicht niet geeft, ook niet het vastgelegde vervangende gewicht, "
                         "telt niet mee; of de indeling veranderde)")

AREA_STATUS_EXPLANATION = {
    STATUS_NOT_COMPARABLE: f"niet vergelijkbaar: {NOT_COMPARABLE_REASON}",
    STATUS_NOT_ADDITIVE: "niet optelbaar: deze maat (mediaan, score of klasse) kan niet over buurten worden opgeteld",
}

AREA_VALUES_SQL = """
CREATE TABLE IF NOT EXISTS area_values (
    unit_id VARCHAR NOT NULL, unit_kind VARCHAR NOT NULL, indicator VARCHAR NOT NULL,
    period INTEGER NOT NULL, value DOUBLE, numerator DOUBLE, denominator DOUBLE,
    status VARCHAR NOT NULL, coverage DOUBLE, n_parts INTEGER, n_used INTEGER,
    estimate BOOLEAN NOT NULL, method VARCHAR NOT NULL, source_id VARCHAR, geo_year INTEGER,
    publication VARCHAR)
"""


@dataclass(frozen=True)
class Unit:
    """Something to compute values for: an area, the rest of a gemeente, or a group."""

    id: str
    kind: str  # area | rest | group
    codes: tuple[str, ...]
    reference_year: int | None = None
    published_code: str | None = None  # a region whose published value is the unit's value
    period: int | None = None  # only this period (None: every period)


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
    # One query: the published value, and per division its gemeenten added up for the period
    # that division describes (a unit per year; units never mix in aggregate). One query per
    # year, each over every period, cost ~15 scans of indicator_values.
    units = [Unit("NL", "group", ("NL00",), None, "NL00")]
    for year in years:
        codes = tuple(r[0] for r in con.execute(
            "SELECT code FROM regions WHERE level = 'gemeente' AND year = ?", [year]).fetchall())
        units.append(Unit(f"NL@{year}", "group", codes, year, period=int(year)))
    every = aggregate(con, units, catalogue)
    published = every[every["unit_id"] == "NL"]
    frames = [published]
    have = set(zip(published["indicator"], published["period"]))
    for year in years:
        agg = every[every["unit_id"] == f"NL@{year}"].assign(unit_id="NL")
        # only the periods this division describes, and only where nothing is published
        agg = agg[(agg["period"] == year) & agg["method"].str.startswith("opgeteld")]
        agg = agg[[(i, p) not in have for i, p in zip(agg["indicator"], agg["period"])]]
        frames.append(agg)
    out = pd.concat(frames, ignore_index=True)
    return out.drop_duplicates(["unit_id", "indicator", "period"], keep="first")


def aggregate(con: duckdb.DuckDBPyConnection, units: Sequence[Unit],
              catalogue: Catalogue | None = None, *, table: str = "indicator_values",
              weight_fallback: bool | None = None) -> pd.DataFrame:
    """Indicator values for ``units`` from the store's ``indicator_values`` and ``regions``.

    ``table`` names another table or view with the columns of ``indicator_values`` to add up
    from (e.g. the harmonised gemeente series, see :mod:`wijkmonitor.series`).
    ``weight_fallback``: use the catalogue's declared stand-in weights (read from the store's
    ``observations`` for the parts' own codes; see the module docstring); default: only when
    adding up the CBS regions of ``indicator_values`` (not a harmonised series, whose codes
    describe another geography).
    """
    catalogue = catalogue or load_catalogue()
    if weight_fallback is None:
        weight_fallback = table == "indicator_values"
    fb_rows = [(i.id, v, _ratio_scale({i.id: i}).get(i.id, 1.0) if i.aggregation == "verhouding" else 1.0,
                len(i.weight_fallback.weight))
               for i in catalogue.values() if i.weight_fallback is not None for v in i.weight_fallback.weight]
    if not (weight_fallback and fb_rows and _has_table(con, "observations")):
        fb_rows = []
    fb_vars = pd.DataFrame(fb_rows, columns=["indicator", "variable", "per", "n_vars"])
    fb_vars = fb_vars.astype({"indicator": "object", "variable": "object", "per": "float64", "n_vars": "int64"})
    obs_sql = ("(SELECT o.*, s.rank FROM observations o LEFT JOIN sources s USING (source_id))"
               if _has_sources(con) else "(SELECT *, 0 AS rank FROM observations)")
    if not fb_rows:
        obs_sql = ("(SELECT NULL::VARCHAR AS region_code, NULL::INTEGER AS geo_year, NULL::INTEGER AS period, "
                   "NULL::VARCHAR AS variable, NULL::DOUBLE AS value, NULL::VARCHAR AS status, "
                   "NULL::VARCHAR AS source_id, 0 AS rank WHERE false)")
    parts = pd.DataFrame(
        [(u.id, u.kind, c, u.reference_year, u.period) for u in units for c in u.codes],
        columns=["unit_id", "unit_kind", "code", "ref_year", "only_period"])
    published = pd.DataFrame(
        [(u.id, u.kind, u.published_code, u.reference_year, u.period) for u in units if u.published_code],
        columns=["unit_id", "unit_kind", "code", "ref_year", "only_period"])
    for frame in (parts, published):
        frame["only_period"] = frame["only_period"].astype("Int64")
    inds = pd.DataFrame([(i.id, i.aggregation, i.min_base, i.estimate) for i in catalogue.values()],
                        columns=["indicator", "aggregation", "min_base", "estimate"])
    con.register("u_parts", parts)
    con.register("u_pub", published)
    con.register("u_inds", inds)
    con.register("u_fb", fb_vars)
    try:
        df = con.execute(f"""
        WITH
        -- the declared stand-in weight of each part (weight_fallback): per code, division and
        -- period the best observation (source rank) of each of its variables, all of them shown
        fb_obs AS (
            SELECT * FROM (
                SELECT o.region_code AS code, o.geo_year, o.period, o.variable, o.value, o.status,
                       o.source_id AS w_source,
                       row_number() OVER (PARTITION BY o.region_code, o.geo_year, o.period, o.variable
                           ORDER BY o.rank, o.source_id, o.status <> 'ok') AS rn
                FROM {obs_sql} o
                WHERE o.variable IN (SELECT variable FROM u_fb)
                  AND o.region_code IN (SELECT code FROM u_parts))
            WHERE rn = 1),
        fbw AS (
            SELECT f.indicator, b.code, b.geo_year, b.period, any_value(f.per) AS per,
                   CASE WHEN count(*) = any_value(f.n_vars) AND bool_and(b.status = 'ok' AND b.value IS NOT NULL)
                        THEN sum(b.value) END AS w,
                   min(b.w_source) AS w_source
            FROM fb_obs b JOIN u_fb f USING (variable)
            GROUP BY f.indicator, b.code, b.geo_year, b.period),
        -- population weight of each part: inhabitants in the division nearest the reference year
        pw AS (
            -- (ties, and units without a reference year: the latest such division)
            SELECT p.unit_id, p.code,
                   arg_min(r.population, abs(r.year - coalesce(p.ref_year, r.year)) * 10000 - r.year) AS pop
            FROM u_parts p LEFT JOIN regions r ON r.code = p.code AND r.population IS NOT NULL
            GROUP BY ALL),
        -- every figure of the unit's codes, on whatever division it was published
        v0 AS (
            SELECT p.unit_id, p.unit_kind, p.ref_year, iv.indicator, iv.period, iv.geo_year, p.code,
                   iv.value, iv.numerator, iv.denominator, iv.status, iv.estimate, iv.source_id
            FROM u_parts p JOIN {table} iv ON iv.region_code = p.code
            WHERE p.only_period IS NULL OR iv.period = p.only_period),
        -- one division per unit, indicator and period: the one nearest the unit's reference
        -- year (ties: the later). All parts come from it, so an area is never added up from two
        -- publications (e.g. RIVM 50090NED on the 2020 division for some buurten and the
        -- 50150NED run on the 2024 division for others). Units without a reference year
        -- (groups, sets of areas) take each code's latest division, as before.
        -- A division on which none of the parts has more than 'niet beschikbaar' (an input
        -- absent, e.g. a population without crime counts) is passed over for one that has.
        division AS (
            SELECT unit_id, indicator, period,
                   arg_min(geo_year, (status = 'niet beschikbaar')::INTEGER * 100000000
                                     + abs(geo_year - ref_year) * 10000 - geo_year) AS geo_year
            FROM v0 WHERE ref_year IS NOT NULL GROUP BY ALL),
        -- per code and period the value on that division
        v AS (
            SELECT * EXCLUDE (rn, ref_year, geo_year, source_id) FROM (
                SELECT v0.*, v0.geo_year AS part_geo_year, v0.source_id AS part_source,
                       row_number() OVER (PARTITION BY v0.unit_id, v0.code, v0.indicator, v0.period
                           ORDER BY v0.status = 'niet beschikbaar',
                                    abs(v0.geo_year - coalesce(v0.ref_year, v0.geo_year)), v0.geo_year DESC) rn
                FROM v0 LEFT JOIN division d USING (unit_id, indicator, period)
                WHERE d.geo_year IS NULL OR d.geo_year = v0.geo_year)
            WHERE rn = 1),
        n AS (SELECT unit_id, count(*) AS n_parts, sum(coalesce(pop, 0)) AS pop_total,
                     count(pop) AS n_with_pop FROM pw GROUP BY unit_id),
        -- a part is used when its value is shown and, for ratios and weighted means, its base is
        -- known (a percentage published without its base cannot be added: it lowers the coverage)
        -- wt = 0: the formula's own base or weight; wt = 1: every part with the declared stand-in
        -- weight instead (never mixed: each is added up on its own, one is chosen below)
        vu AS (
            SELECT v.*, 0 AS wt, NULL::VARCHAR AS w_source,
                   v.status = 'ok' AND (v.denominator IS NOT NULL
                        OR i.aggregation NOT IN ('verhouding', 'gewogen gemiddelde')) AS used
            FROM v JOIN u_inds i USING (indicator)
            UNION ALL
            SELECT v.* REPLACE (v.value * w.w / w.per AS numerator, w.w AS denominator),
                   1 AS wt, w.w_source, v.status = 'ok' AND w.w IS NOT NULL AS used
            FROM v JOIN fbw w ON w.indicator = v.indicator AND w.code = v.code
                 AND w.geo_year = v.part_geo_year AND w.period = v.period),
        agg AS (
            SELECT v.unit_id, any_value(v.unit_kind) AS unit_kind, v.indicator, v.period, v.wt,
                   count(*) FILTER (WHERE v.used) AS n_used,
                   -- summed in code order: the same parts give the very same sum in every unit
                   sum(v.value ORDER BY v.code) FILTER (WHERE v.used) AS sum_value,
                   sum(v.numerator ORDER BY v.code) FILTER (WHERE v.used) AS sum_num,
                   sum(v.denominator ORDER BY v.code) FILTER (WHERE v.used) AS sum_den,
                   count(*) FILTER (WHERE v.status = 'ok' AND NOT v.used) AS n_no_den,
                   count(*) FILTER (WHERE v.status = 'geheim') AS n_secret,
                   count(*) FILTER (WHERE v.status = 'te weinig waarnemingen') AS n_small,
                   sum(pw.pop) FILTER (WHERE v.used) AS pop_used,
                   count(*) FILTER (WHERE v.used AND pw.pop IS NULL) AS n_used_no_pop,
                   bool_or(v.estimate) AS any_estimate,
                   -- provenance: the sources and divisions of the parts added up
                   string_agg(DISTINCT v.part_source, ',' ORDER BY v.part_source)
                       FILTER (WHERE v.used) AS source_id,
                   string_agg(DISTINCT v.w_source, ',' ORDER BY v.w_source)
                       FILTER (WHERE v.used) AS w_source_id,
                   CASE WHEN count(DISTINCT v.part_geo_year) FILTER (WHERE v.used) = 1
                        THEN min(v.part_geo_year) FILTER (WHERE v.used) END AS geo_year
            FROM vu v LEFT JOIN pw ON pw.unit_id = v.unit_id AND pw.code = v.code
            GROUP BY v.unit_id, v.indicator, v.period, v.wt),
        summed AS (
            SELECT a.*, n.n_parts, i.aggregation, i.min_base, i.estimate,
                   -- population share; a part without a known population counts as a part of
                   -- average size (equals pop_used / pop_total when every population is known)
                   CASE WHEN n.n_with_pop > 0 AND n.pop_total > 0
                        THEN (coalesce(a.pop_used, 0) + a.n_used_no_pop * n.pop_total / n.n_with_pop)
                             / (n.n_parts * n.pop_total / n.n_with_pop)
                        ELSE a.n_used::DOUBLE / n.n_parts END AS coverage
            FROM agg a JOIN n USING (unit_id) JOIN u_inds i USING (indicator)),
        computed AS (
            SELECT unit_id, unit_kind, indicator, period, wt, n_no_den, w_source_id,
                   n_parts, n_used, coverage, aggregation,
                   estimate OR coalesce(any_estimate, false) AS estimate, source_id, geo_year,
                   CASE
                     WHEN aggregation = 'niet optelbaar' THEN '{STATUS_NOT_ADDITIVE}'
                     -- nothing to add up: when every part is suppressed, say so
                     WHEN n_used = 0 AND n_no_den = 0 THEN CASE
                          WHEN n_secret > 0 AND n_secret + n_small = n_parts THEN 'geheim'
                          WHEN n_small = n_parts THEN 'te weinig waarnemingen'
                          ELSE 'niet beschikbaar' END
                     WHEN aggregation = 'som' AND n_used < n_parts THEN '{STATUS_NOT_COMPARABLE}'
                     WHEN coverage < {MIN_COVERAGE} THEN '{STATUS_NOT_COMPARABLE}'
                     WHEN aggregation IN ('verhouding', 'gewogen gemiddelde') AND sum_den < min_base
                          THEN 'te weinig waarnemingen'
                     WHEN aggregation IN ('verhouding', 'gewogen gemiddelde') AND sum_den = 0
                          THEN 'niet beschikbaar'
                     ELSE 'ok' END AS status,
                   sum_value, sum_num, sum_den
            FROM summed),
        -- the stand-in weight only where the own weight leaves the area not comparable because
        -- shown parts lack it, and only when the stand-in gives a shown value
        chosen AS (
            SELECT c.* EXCLUDE (wt, n_no_den), c.wt = 1 AS fallback FROM computed c
            WHERE c.wt = 0 AND NOT EXISTS (
                SELECT 1 FROM computed f WHERE f.wt = 1 AND f.status = 'ok' AND f.unit_id = c.unit_id
                   AND f.indicator = c.indicator AND f.period = c.period
                   AND c.status = '{STATUS_NOT_COMPARABLE}' AND c.n_no_den > 0)
               OR c.wt = 1 AND c.status = 'ok' AND EXISTS (
                SELECT 1 FROM computed p WHERE p.wt = 0 AND p.unit_id = c.unit_id
                   AND p.indicator = c.indicator AND p.period = c.period
                   AND p.status = '{STATUS_NOT_COMPARABLE}' AND p.n_no_den > 0)),
        aggregated AS (
            SELECT unit_id, unit_kind, indicator, period,
                   -- ratio indicators get their scale (x100, per 1 000) applied below
                   CASE WHEN status <> 'ok' THEN NULL
                        WHEN aggregation = 'som' THEN sum_value
                        ELSE sum_num / sum_den END AS value,
                   CASE WHEN status = 'ok' THEN CASE WHEN aggregation = 'som' THEN sum_value ELSE sum_num END END AS numerator,
                   CASE WHEN status = 'ok' AND aggregation <> 'som' THEN sum_den END AS denominator,
                   status, coverage, n_parts, n_used, estimate, 'opgeteld' AS method,
                   CASE WHEN fallback THEN array_to_string(list_sort(list_distinct(
                            string_split(source_id, ',') || string_split(w_source_id, ','))), ',')
                        ELSE source_id END AS source_id, geo_year, fallback
            FROM chosen),
        pub AS (
            SELECT * EXCLUDE (rn) FROM (
                SELECT u.unit_id, u.unit_kind, iv.indicator, iv.period, iv.value, iv.numerator,
                       iv.denominator, iv.status, 1.0 AS coverage, 1 AS n_parts,
                       CASE WHEN iv.status = 'ok' THEN 1 ELSE 0 END AS n_used, iv.estimate,
                       'gepubliceerd' AS method, iv.source_id, iv.geo_year, false AS fallback,
                       -- the division nearest the unit's reference year, as for parts (a
                       -- region published on two divisions, e.g. 50090NED on 2020 and 50150NED
                       -- on 2024, keeps one source whether it stands alone or within an area)
                       -- ('niet beschikbaar' on one division yields to a figure on another)
                       row_number() OVER (PARTITION BY u.unit_id, iv.indicator, iv.period
                           ORDER BY iv.status = 'niet beschikbaar',
                                    abs(iv.geo_year - coalesce(u.ref_year, iv.geo_year)), iv.geo_year DESC) rn
                FROM u_pub u JOIN {table} iv ON iv.region_code = u.code
                WHERE u.only_period IS NULL OR iv.period = u.only_period)
            WHERE rn = 1),
        -- periods in which the gemeente of a unit's parts has figures at the parts' level but none
        -- of the unit's codes has one: if no code of the unit exists in that division, the codes
        -- were recoded (niet vergelijkbaar, coverage 0); otherwise the figure is just not there
        unit_keys AS (
            SELECT DISTINCT unit_id, unit_kind, left(code, 6) AS key, only_period FROM u_parts
            WHERE left(code, 2) IN ('WK', 'BU')),
        key_data AS (
            SELECT DISTINCT left(region_code, 6) AS key, indicator, period, geo_year
            FROM {table}
            WHERE left(region_code, 2) IN ('WK', 'BU')
              AND left(region_code, 6) IN (SELECT key FROM unit_keys)),
        present AS (SELECT DISTINCT p.unit_id, r.year FROM u_parts p JOIN regions r ON r.code = p.code),
        lost AS (
            SELECT k.unit_id, any_value(k.unit_kind) AS unit_kind, d.indicator, d.period,
                   NULL::DOUBLE AS value, NULL::DOUBLE AS numerator, NULL::DOUBLE AS denominator,
                   CASE WHEN bool_or(pr.unit_id IS NOT NULL) THEN 'niet beschikbaar'
                        WHEN any_value(i.aggregation) = 'niet optelbaar' AND any_value(n.n_parts) > 1
                             THEN '{STATUS_NOT_ADDITIVE}'
                        ELSE '{STATUS_NOT_COMPARABLE}' END AS status,
                   0.0::DOUBLE AS coverage, any_value(n.n_parts) AS n_parts, 0 AS n_used,
                   any_value(i.estimate) AS estimate, 'opgeteld' AS method,
                   NULL::VARCHAR AS source_id, NULL::INTEGER AS geo_year, false AS fallback
            FROM unit_keys k JOIN key_data d USING (key)
            JOIN u_inds i ON i.indicator = d.indicator
            JOIN n ON n.unit_id = k.unit_id
            LEFT JOIN present pr ON pr.unit_id = k.unit_id AND pr.year = d.geo_year
            WHERE (k.only_period IS NULL OR d.period = k.only_period)
              AND NOT EXISTS (SELECT 1 FROM v WHERE v.unit_id = k.unit_id AND v.indicator = d.indicator
                              AND v.period = d.period)
            GROUP BY k.unit_id, d.indicator, d.period)
        SELECT * FROM pub
        UNION ALL
        SELECT a.* FROM aggregated a
        -- a published value is the unit's value, whatever its status
        WHERE NOT EXISTS (SELECT 1 FROM pub p WHERE p.unit_id = a.unit_id AND p.indicator = a.indicator
                          AND p.period = a.period)
        UNION ALL
        SELECT l.* FROM lost l
        WHERE NOT EXISTS (SELECT 1 FROM pub p WHERE p.unit_id = l.unit_id AND p.indicator = l.indicator
                          AND p.period = l.period)
        """).df()
    finally:
        for name in ("u_parts", "u_pub", "u_inds", "u_fb"):
            con.unregister(name)
    # ratio indicators: numerator/denominator carry the ratio's scale (e.g. x100, per 1000)
    scale = _ratio_scale(catalogue)
    factor = np.array([scale[i] if m == "opgeteld" and catalogue[i].aggregation == "verhouding" else 1.0
                       for i, m in zip(df["indicator"], df["method"])], dtype="float64")
    df["value"] = df["value"].astype("float64") * factor
    # provenance of a value added up with the stand-in weight: the approximation, in words
    fb = df["fallback"].fillna(False).to_numpy(bool)
    if fb.any():
        part = {u.id: _PART_WORDS.get(u.codes[0][:2], "deel") if u.codes else "deel" for u in units}
        df.loc[fb, "method"] = [
            f"opgeteld; {catalogue[i].weight_fallback.method_text(catalogue[i].primary_weight_label, part.get(u, 'deel'))}"
            for i, u in zip(df.loc[fb, "indicator"], df.loc[fb, "unit_id"])]
    df["publication"] = publication_names(con, df["source_id"], df["geo_year"])
    return df[AREA_VALUE_COLUMNS]


#: The word for an area's parts in the provenance text, by code prefix.
_PART_WORDS = {"BU": "buurt", "WK": "wijk", "GM": "gemeente"}


#: The columns of ``area_values`` (and of :func:`aggregate`'s result).
AREA_VALUE_COLUMNS = ["unit_id", "unit_kind", "indicator", "period", "value", "numerator", "denominator",
                      "status", "coverage", "n_parts", "n_used", "estimate", "method", "source_id",
                      "geo_year", "publication"]


def publication_names(con: duckdb.DuckDBPyConnection, source_ids, geo_years) -> np.ndarray:
    """Per row the publication a value comes from: the publisher's table id(s) of its source(s)
    and the division, e.g. ``50090NED, indeling 2020`` (one model run, one geography).

    ``source_ids`` holds one source id or several joined by commas (an aggregate of parts);
    ``geo_years`` the division (missing: the parts come from several divisions). A source
    without a table id stands for itself. Rows without a source give None.
    """
    tables = dict(con.execute("SELECT source_id, coalesce(table_id, source_id) FROM sources").fetchall()) \
        if _has_sources(con) else {}
    cache: dict = {}
    out = np.empty(len(source_ids), dtype=object)
    for k, (sid, gy) in enumerate(zip(source_ids, geo_years)):
        if sid is None or (isinstance(sid, float) and np.isnan(sid)):
            out[k] = None
            continue
        key = (sid, None if pd.isna(gy) else int(gy))
        if key not in cache:
            tids = sorted({tables.get(x, x) for x in str(sid).split(",")})
            where = f"indeling {key[1]}" if key[1] is not None else "meerdere indelingen"
            cache[key] = f"{' + '.join(tids)}, {where}"
        out[k] = cache[key]
    return out


def _has_sources(con) -> bool:
    return _has_table(con, "sources")


def _has_table(con, name: str) -> bool:
    """Whether the store has a table or view ``name``."""
    # fetchall, not fetchone: DuckDB keeps a half-read result open on the connection, and the
    # next register() on it fails ("connection has an unfinished result")
    return bool(con.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_name = ?", [name]).fetchall()[0][0])


def _ratio_scale(catalogue: Catalogue) -> dict[str, float]:
    """For ``verhouding`` indicators: value = scale x numerator / denominator. Formulas of one
    indicator share the scale (percentages: 100 both as counts ratio and as value+base)."""
    out = {}
    for ind in catalogue.values():
        f = ind.formulas[0]
        out[ind.id] = f.scale if f.mode == "ratio" else f.per
    return out


def _buurt_population(con: duckdb.DuckDBPyConnection, gemeente: str, year: int) -> dict[str, float]:
    """Inhabitants per buurt of ``gemeente`` in the division nearest ``year`` that has them
    (ties: the later); a buurt of that division without a population maps to NaN."""
    df = con.execute(
        "SELECT code, year, population FROM regions WHERE level = 'buurt' AND code LIKE ? "
        "AND year = (SELECT arg_min(year, abs(year - ?) * 10000 - year) FROM regions "
        "            WHERE level = 'buurt' AND code LIKE ? AND population IS NOT NULL)",
        [f"BU{gemeente[2:]}%", int(year), f"BU{gemeente[2:]}%"]).df()
    return dict(zip(df["code"], df["population"].astype("float64")))


def _wijk_polygons(year: int, *, at_least: int | None = None, before: int | None = None):
    """The wijk polygons nearest ``year`` (only years >= ``at_least`` and < ``before``), or None."""
    from . import geometries

    years = [y for y, lv in geometries.available() if lv == "wijk" and (at_least is None or y >= at_least)
             and (before is None or y < before)]
    if not years:
        return None
    near = min(years, key=lambda y: (abs(y - int(year)), -y))
    try:
        return geometries.load(near, "wijk")
    except Exception:  # noqa: BLE001 - a missing or damaged polygon file: no placement by polygon
        return None


#: Columns of the ``area_recodings`` table (one row per unit a recoding was checked for).
RECODING_COLUMNS = ["unit_id", "gemeente", "recoding_year", "crosswalk", "followed", "share",
                    "population", "traced", "outside", "codes", "placed_by_polygon", "untraced"]


def bridge_recoded(con: duckdb.DuckDBPyConnection, values: pd.DataFrame, units: Sequence[Unit],
                   catalogue: Catalogue | None = None, *, record: list | None = None) -> pd.DataFrame:
    """Fill the figures that a recoding took from areas (and rests) through its crosswalk.

    For every area or rest unit whose codes lie in a gemeente that recoded after the unit's
    reference year (:func:`wijkmonitor.areas.recoding.recoding_for`), the codes are followed
    onto the new division (:func:`wijkmonitor.areas.recoding.bridge`). When the bridge accounts
    for at least :data:`MIN_COVERAGE` of the inhabitants, the unit is added up again on the new
    codes, and its rows that say the codes were recoded (``niet vergelijkbaar``, nothing added
    up) or that are missing are replaced by rows from a division of the recoding year or later.
    Shown rows are never replaced. The new rows name the crosswalk in ``method`` (their
    ``publication`` stays ``<table>, indeling <year>``); their coverage is the bridge's share
    times the parts' coverage, and a figure whose combined coverage is below
    :data:`MIN_COVERAGE` is ``niet vergelijkbaar``. ``record``, when given,
    gets one dict per checked unit (:data:`RECODING_COLUMNS`), followed or not.
    """
    from .areas import recoding

    catalogue = catalogue or load_catalogue()
    bridged, info = [], {}
    polygons: dict = {}
    for u in units:
        if u.kind not in ("area", "rest") or not u.codes:
            continue
        rec = recoding.recoding_for(u.codes, u.reference_year)
        if rec is None or len({c[:2] for c in u.codes}) != 1:
            continue
        level = "wijk" if u.codes[0].startswith("WK") else "buurt"
        key = (rec, int(u.reference_year))
        if key not in polygons:
            polygons[key] = (_buurt_population(con, rec.gemeente, u.reference_year),
                             _wijk_polygons(u.reference_year, before=rec.year),
                             _wijk_polygons(rec.year, at_least=rec.year))
        pop, old_w, new_w = polygons[key]
        try:
            cw = rec.crosswalk()
        except Exception:  # noqa: BLE001 - crosswalk file absent: nothing to follow
            continue
        b = recoding.bridge(u.codes, level, cw, pop, old_wijken=old_w, new_wijken=new_w)
        info[u.id] = (rec, b, u)
        if record is not None:
            record.append(dict(unit_id=u.id, gemeente=rec.gemeente, recoding_year=rec.year, crosswalk=rec.name,
                               followed=b.ok, share=b.share, population=b.population, traced=b.traced,
                               outside=b.foreign, codes=",".join(b.codes),
                               placed_by_polygon=",".join(b.placed_by_polygon), untraced=",".join(b.untraced)))
        if b.ok:
            bridged.append(Unit(u.id, u.kind, b.codes, rec.year, b.codes[0] if len(b.codes) == 1 else None))
    if not bridged:
        return values
    new = aggregate(con, bridged, catalogue)
    rec_year = new["unit_id"].map(lambda i: info[i][0].year)
    new = new[new["geo_year"].notna() & (new["geo_year"] >= rec_year)].copy()
    share = new["unit_id"].map(lambda i: info[i][1].share).astype("float64")
    new["coverage"] = new["coverage"].astype("float64") * share
    low = (new["coverage"] < MIN_COVERAGE) & (new["status"] == "ok")
    new.loc[low, ["value", "numerator", "denominator"]] = np.nan
    new.loc[low, "status"] = STATUS_NOT_COMPARABLE
    # provenance: the publication keeps its form "<table>, indeling <year>" (the comparison rule
    # of analysis.same_publication reads it); the method names the crosswalk and its share
    # (an approximation clause, "; benadering: ...", stays at the end)
    new["method"] = [
        f"{m.split('; ', 1)[0]} via de {info[i][0].name} "
        f"({nl_value(100 * info[i][1].share, 0, '%')} van de inwoners van {info[i][2].reference_year} gevolgd)"
        + (f"; {m.split('; ', 1)[1]}" if "; " in m else "")
        for m, i in zip(new["method"], new["unit_id"])]
    mine = values["unit_id"].isin(set(new["unit_id"]))
    lost = mine & (values["status"] == STATUS_NOT_COMPARABLE) & (values["n_used"] == 0)
    keep_keys = set(zip(values.loc[mine & ~lost, "unit_id"], values.loc[mine & ~lost, "indicator"],
                        values.loc[mine & ~lost, "period"]))
    new = new[np.array([k not in keep_keys for k in zip(new["unit_id"], new["indicator"], new["period"])],
                       dtype=bool)]  # (an empty list would select columns)
    if new.empty:
        return values
    replaced = set(zip(new["unit_id"], new["indicator"], new["period"]))
    drop = lost & pd.Series(np.array([k in replaced for k in zip(values["unit_id"], values["indicator"],
                                                                  values["period"])], dtype=bool), index=values.index)
    return pd.concat([values[~drop], new[AREA_VALUE_COLUMNS]], ignore_index=True)


