"""Indicator values for every region and period, compiled from the catalogue to SQL.

The catalogue's formulas are turned into two small tables (``formulas`` and ``terms``) and
joined against the observations in one pass, in DuckDB: the catalogue is data, the
computation is one query (in the spirit of dbt's semantic layer).

Rules
-----
* Where the source publishes a value for a region, that published value *is* the region's
  value; compute never replaces it by a re-aggregation of the region's parts.
* When two sources give the same variable for the same region and period, the source with the
  lowest ``rank`` (ingest order: national CBS tables before city re-publications) wins.
* A formula needs all its variables. If any input is secret (CBS ``.``/``-99997``) the value is
  ``geheim``; if an input is absent, ``niet beschikbaar``; if the base (denominator, base
  or weight) is below the indicator's ``min_base``, ``te weinig waarnemingen``. In all three
  cases value and numerator are NULL, so nothing suppressed can be recovered from what is shown.
* A percentage's base that the source does not publish at all does not hide the published
  value (the publisher already applied its own disclosure control); a *secret* base does.
* Several formulas may cover a year; per region and period the first (in catalogue order) that
  gives a value wins, otherwise the first one's status is reported.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from .catalogue import Catalogue, load_catalogue

STATUS_OK = "ok"
STATUS_SMALL = "te weinig waarnemingen"
STATUS_SECRET = "geheim"
STATUS_NA = "niet beschikbaar"
STATUSES = (STATUS_OK, STATUS_SMALL, STATUS_SECRET, STATUS_NA)

#: Why a value is missing, in words for users (the web, report and API show these).
STATUS_EXPLANATION = {
    STATUS_OK: "",
    STATUS_SMALL: "te weinig waarnemingen: de basis ligt onder de minimumgrens van de indicator",
    STATUS_SECRET: "geheim: de bron heeft een onderdeel geheimgehouden (privacy of betrouwbaarheid)",
    STATUS_NA: "niet beschikbaar: de bron publiceert dit cijfer niet voor dit gebied en jaar",
}

INDICATOR_VALUES_SQL = """
CREATE TABLE indicator_values (
    indicator VARCHAR NOT NULL, region_code VARCHAR NOT NULL, geo_year INTEGER NOT NULL,
    period INTEGER NOT NULL, value DOUBLE, numerator DOUBLE, denominator DOUBLE,
    status VARCHAR NOT NULL, estimate BOOLEAN NOT NULL, source_id VARCHAR,
    base_source_id VARCHAR, base_period INTEGER, formula INTEGER NOT NULL,
    catalogue_version VARCHAR NOT NULL)
"""


def formula_tables(catalogue: Catalogue) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compile the catalogue to a ``formulas`` frame and a ``terms`` frame."""
    frows, trows = [], []
    fid = 0
    for ind in catalogue.values():
        for order, f in enumerate(ind.formulas):
            fid += 1
            frows.append(dict(
                formula_id=fid, indicator=ind.id, priority=order, mode=f.mode, y0=f.years[0],
                y1=f.years[1], adapter=f.source, scale=f.scale, per=f.per, min_base=ind.min_base,
                estimate=ind.estimate, weight_window=f.weight_window,
                n_value=len(f.value or ()), n_base=len(f.base or ()), n_weight=len(f.weight or ()),
                n_num=len(f.numerator or ()), n_den=len(f.denominator or ())))
            for term, vars_ in (("value", f.value), ("base", f.base), ("weight", f.weight),
                                ("num", f.numerator), ("den", f.denominator)):
                for var in vars_ or ():
                    trows.append(dict(formula_id=fid, term=term, variable=var))
    return pd.DataFrame(frows), pd.DataFrame(trows)


def compute(con: duckdb.DuckDBPyConnection, catalogue: Catalogue | None = None) -> int:
    """(Re)build ``indicator_values`` in the open store ``con``; returns the number of rows."""
    catalogue = catalogue or load_catalogue()
    formulas, terms = formula_tables(catalogue)
    con.register("formulas_df", formulas)
    con.register("terms_df", terms)
    con.execute("CREATE OR REPLACE TEMP TABLE formulas AS SELECT * FROM formulas_df")
    con.execute("CREATE OR REPLACE TEMP TABLE terms AS SELECT * FROM terms_df")
    con.unregister("formulas_df")
    con.unregister("terms_df")
    needed = "SELECT DISTINCT variable FROM terms"
    # Best observation per region x division x period x variable (lowest source rank), for
    # formulas open to any source; and per adapter for formulas tied to one source.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE best AS
        SELECT region_code, geo_year, period, variable, value, status, source_id, adapter
        FROM (SELECT o.*, s.adapter, row_number() OVER (
                  PARTITION BY o.region_code, o.geo_year, o.period, o.variable
                  ORDER BY s.rank, o.source_id) AS rn
              FROM observations o JOIN sources s USING (source_id)
              WHERE o.variable IN ({needed}))
        WHERE rn = 1
        ORDER BY variable""")
    has_tied = bool(formulas["adapter"].notna().any()) if len(formulas) else False
    if has_tied:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE best_by_adapter AS
            SELECT region_code, geo_year, period, variable, value, status, source_id, adapter
            FROM (SELECT o.*, s.adapter, row_number() OVER (
                      PARTITION BY s.adapter, o.region_code, o.geo_year, o.period, o.variable
                      ORDER BY s.rank, o.source_id) AS rn
                  FROM observations o JOIN sources s USING (source_id)
                  WHERE o.variable IN ({needed}) AND s.adapter IN
                        (SELECT adapter FROM formulas WHERE adapter IS NOT NULL))
            WHERE rn = 1""")
        source_rows = """
            SELECT t.formula_id, t.term, b.* FROM terms t
            JOIN formulas f USING (formula_id)
            JOIN best b ON b.variable = t.variable AND b.period BETWEEN f.y0 AND f.y1
            WHERE f.adapter IS NULL
            UNION ALL
            SELECT t.formula_id, t.term, b.* FROM terms t
            JOIN formulas f USING (formula_id)
            JOIN best_by_adapter b ON b.variable = t.variable AND b.adapter = f.adapter
                 AND b.period BETWEEN f.y0 AND f.y1"""
    else:
        source_rows = """
            SELECT t.formula_id, t.term, b.* FROM terms t
            JOIN formulas f USING (formula_id)
            JOIN best b ON b.variable = t.variable AND b.period BETWEEN f.y0 AND f.y1"""

    def agg(term: str, alias: str) -> str:
        return f"""
            sum(value) FILTER (WHERE term = '{term}') AS {alias},
            count(*) FILTER (WHERE term = '{term}' AND status = 'ok') AS {alias}_ok,
            coalesce(bool_or(status = 'geheim') FILTER (WHERE term = '{term}'), false) AS {alias}_sec"""

    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE parts AS
        SELECT formula_id, region_code, geo_year, period,
               {agg('value', 'v')}, {agg('base', 'b')}, {agg('num', 'n')}, {agg('den', 'd')},
               min(source_id) FILTER (WHERE term IN ('value', 'num')) AS source_id,
               min(source_id) FILTER (WHERE term IN ('base', 'den')) AS base_source_id
        FROM ({source_rows}) r
        WHERE term <> 'weight'
        GROUP BY ALL""")
    # Weights: per region and period; used from the nearest period within the window.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE weights AS
        SELECT formula_id, region_code, period AS w_period, sum(value) AS w,
               count(*) FILTER (WHERE status = 'ok') AS w_ok,
               coalesce(bool_or(status = 'geheim'), false) AS w_sec,
               min(source_id) AS w_source
        FROM (SELECT t.formula_id, t.term, b.* FROM terms t
              JOIN best b ON b.variable = t.variable WHERE t.term = 'weight')
        GROUP BY ALL""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE parts_w AS
        SELECT p.*, w.w, w.w_ok, w.w_sec, w.w_source, w.w_period
        FROM parts p JOIN formulas f USING (formula_id)
        LEFT JOIN (
            SELECT p2.formula_id, p2.region_code, p2.geo_year, p2.period, w.w, w.w_ok, w.w_sec,
                   w.w_source, w.w_period,
                   row_number() OVER (PARTITION BY p2.formula_id, p2.region_code, p2.geo_year, p2.period
                                      ORDER BY abs(w.w_period - p2.period), w.w_period DESC) AS rn
            FROM parts p2 JOIN formulas f2 USING (formula_id)
            JOIN weights w ON w.formula_id = p2.formula_id AND w.region_code = p2.region_code
                 AND abs(w.w_period - p2.period) <= f2.weight_window
            WHERE f2.n_weight > 0
        ) w ON w.rn = 1 AND w.formula_id = p.formula_id AND w.region_code = p.region_code
               AND w.geo_year = p.geo_year AND w.period = p.period""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE evaluated AS
        WITH x AS (
            SELECT p.*, f.indicator, f.priority, f.mode, f.scale, f.per, f.min_base, f.estimate,
                   f.n_value, f.n_base, f.n_weight, f.n_num, f.n_den,
                   -- the main quantity: all its variables present and ok
                   CASE WHEN f.mode = 'ratio' THEN p.n_ok = f.n_num ELSE p.v_ok = f.n_value END AS main_ok,
                   CASE WHEN f.mode = 'ratio' THEN p.n_sec ELSE p.v_sec END AS main_sec,
                   CASE f.mode WHEN 'ratio' THEN p.d_ok = f.n_den AND p.d IS NOT NULL
                               WHEN 'percentage' THEN p.b_ok = f.n_base AND p.b IS NOT NULL
                               WHEN 'weighted' THEN coalesce(p.w_ok = f.n_weight, false) AND p.w IS NOT NULL
                               ELSE false END AS base_ok,
                   CASE f.mode WHEN 'ratio' THEN p.d_sec WHEN 'percentage' THEN p.b_sec
                               WHEN 'weighted' THEN coalesce(p.w_sec, false) ELSE false END AS base_sec,
                   CASE f.mode WHEN 'ratio' THEN p.d WHEN 'percentage' THEN p.b
                               WHEN 'weighted' THEN p.w ELSE NULL END AS base
            FROM parts_w p JOIN formulas f USING (formula_id)
        ), s AS (
            SELECT *,
                CASE WHEN main_sec OR base_sec THEN 'geheim'
                     WHEN NOT main_ok THEN 'niet beschikbaar'
                     WHEN mode = 'ratio' AND NOT base_ok THEN 'niet beschikbaar'
                     WHEN base_ok AND base < min_base THEN 'te weinig waarnemingen'
                     WHEN mode = 'ratio' AND base = 0 THEN 'niet beschikbaar'
                     ELSE 'ok' END AS status
            FROM x
        )
        SELECT indicator, region_code, geo_year, period, priority, status, estimate,
            CASE WHEN status <> 'ok' THEN NULL
                 WHEN mode = 'ratio' THEN scale * n / base
                 ELSE v END AS value,
            CASE WHEN status <> 'ok' THEN NULL
                 WHEN mode = 'ratio' THEN n
                 WHEN mode = 'percentage' AND base_ok THEN v * base / per
                 WHEN mode = 'weighted' AND base_ok THEN v * base
                 WHEN mode = 'value' AND n_base = 0 AND n_weight = 0 THEN v
                 ELSE NULL END AS numerator,
            CASE WHEN base_ok THEN base ELSE NULL END AS denominator,
            source_id,
            CASE WHEN mode = 'weighted' THEN w_source ELSE base_source_id END AS base_source_id,
            CASE WHEN mode = 'weighted' AND base_ok THEN w_period ELSE NULL END AS base_period
        FROM s""")
    con.execute("DROP TABLE IF EXISTS indicator_values")
    con.execute(INDICATOR_VALUES_SQL)
    con.execute("""
        INSERT INTO indicator_values
        SELECT indicator, region_code, geo_year, period, value, numerator, denominator, status,
               estimate, source_id, base_source_id, base_period, priority, ?
        FROM (SELECT *, row_number() OVER (
                  PARTITION BY indicator, region_code, geo_year, period
                  ORDER BY (status = 'ok') DESC, priority) AS rn
              FROM evaluated)
        WHERE rn = 1
        ORDER BY indicator, period, region_code""", [catalogue.version])
    for tmp in ("evaluated", "parts_w", "weights", "parts", "best", "best_by_adapter", "terms",
                "formulas"):
        con.execute(f"DROP TABLE IF EXISTS {tmp}")
    return con.execute("SELECT count(*) FROM indicator_values").fetchone()[0]
