"""Indicator values for every region and period, compiled from the catalogue to SQL.

The catalogue's formulas are turned into two small tables (``formulas`` and ``terms``) and
from those into one SQL statement per indicator, evaluated in DuckDB (the catalogue is data;
in the spirit of dbt's semantic layer). The statements read a *wide* table: one row per
region, division and period with, per variable the catalogue uses, the best observation's
value, status and source. Building that table (choosing the best source per observation and
pivoting, then the weights of weighted means from the nearest period) is done with numpy on
integer codes, which keeps a national build (18,000 regions x 12 years x 100 variables) within
seconds and about a gigabyte; ``benchmarks/bench_build.py`` checks it against a plain pandas
implementation of the same rules.

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
import numpy as np
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

#: ``indicator_values`` is written once per build into ``indicator_data``, whose
#: low-cardinality columns are ENUM types made for that build (``iv_indicator``: the
#: catalogue's ids, ``iv_region``: the region codes computed, ``iv_status``, ``iv_source``:
#: the store's source ids); the catalogue version is kept once, in ``meta``. Readers use the
#: view ``indicator_values``, which gives every column as before (plain VARCHAR strings, the
#: catalogue version on every row).
INDICATOR_DATA_SQL = """
CREATE TABLE indicator_data (
    indicator iv_indicator NOT NULL, region_code iv_region NOT NULL, geo_year INTEGER NOT NULL,
    period INTEGER NOT NULL, value DOUBLE, numerator DOUBLE, denominator DOUBLE,
    status iv_status NOT NULL, estimate BOOLEAN NOT NULL, source_id iv_source,
    base_source_id iv_source, base_period INTEGER, formula INTEGER NOT NULL)
"""

INDICATOR_VALUES_VIEW_SQL = """
CREATE VIEW indicator_values AS
SELECT indicator::VARCHAR AS indicator, region_code::VARCHAR AS region_code, geo_year, period,
       value, numerator, denominator, status::VARCHAR AS status, estimate,
       source_id::VARCHAR AS source_id, base_source_id::VARCHAR AS base_source_id,
       base_period, formula,
       (SELECT m.value FROM meta m WHERE m.key = 'catalogue_version') AS catalogue_version
FROM indicator_data
"""

_IV_TYPES = ("iv_indicator", "iv_region", "iv_status", "iv_source")


def drop_indicator_values(con: duckdb.DuckDBPyConnection) -> None:
    """Remove ``indicator_values`` (a view over ``indicator_data``, or a table in stores
    written before that), ``indicator_data`` and their ENUM types."""
    kinds = dict(con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_name IN ('indicator_values', 'indicator_data')"
    ).fetchall())
    if kinds.get("indicator_values") == "VIEW":
        con.execute("DROP VIEW indicator_values")
    elif "indicator_values" in kinds:
        con.execute("DROP TABLE indicator_values")
    con.execute("DROP TABLE IF EXISTS indicator_data")
    for t in _IV_TYPES:
        con.execute(f"DROP TYPE IF EXISTS {t}")


def _enum_sql(values) -> str:
    return "ENUM (" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + ")"


def _create_indicator_values(con: duckdb.DuckDBPyConnection, indicators, regions, sources,
                             catalogue_version: str) -> None:
    """The ENUM types, ``indicator_data`` and the view ``indicator_values`` (empty)."""
    for name, values in (("iv_indicator", indicators), ("iv_region", regions),
                         ("iv_status", STATUSES), ("iv_source", sources)):
        con.execute(f"CREATE TYPE {name} AS {_enum_sql(values)}")
    con.execute(INDICATOR_DATA_SQL)
    con.execute(INDICATOR_VALUES_VIEW_SQL)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('catalogue_version', ?)", [catalogue_version])


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


#: Status codes of the wide table (``_st``): ok, geheim, anything else (ontbreekt ...).
_OK, _SECRET, _OTHER = 0, 1, 2
_TERMS = ("value", "base", "num", "den")


def compute(con: duckdb.DuckDBPyConnection, catalogue: Catalogue | None = None) -> int:
    """(Re)build ``indicator_values`` in the open store ``con``; returns the number of rows."""
    catalogue = catalogue or load_catalogue()
    formulas, terms = formula_tables(catalogue)
    drop_indicator_values(con)
    indicator_ids = sorted(ind.id for ind in catalogue.values())
    source_ids = [r[0] for r in con.execute("SELECT source_id FROM sources ORDER BY source_id").fetchall()]
    if formulas.empty:
        _create_indicator_values(con, indicator_ids, [], source_ids, catalogue.version)
        return 0
    formulas = formulas.assign(adapter=formulas["adapter"].where(formulas["adapter"].notna(), None))
    terms_of = {fid: g for fid, g in terms.groupby("formula_id")}
    variables = sorted(set(terms["variable"]))
    var_index = {v: i for i, v in enumerate(variables)}
    # Sources in precedence order (rank, then id: the first wins) and in name order (the
    # source id shown is the smallest id among a value's inputs).
    sources = con.execute("SELECT source_id, adapter FROM sources ORDER BY rank, source_id").df()
    names = sorted(sources["source_id"])
    name_index = {s: i for i, s in enumerate(names)}
    sidx_of_sord = np.array([name_index[s] for s in sources["source_id"]], dtype=np.int32)
    con.register("_vars_df", pd.DataFrame({"variable": variables, "vid": np.arange(len(variables), dtype=np.int16)}))
    con.register("_srcs_df", pd.DataFrame({"source_id": sources["source_id"],
                                           "sord": np.arange(len(sources), dtype=np.int32)}))
    con.register("_names_df", pd.DataFrame({"source_id": names, "sidx": np.arange(len(names), dtype=np.int32)}))
    for t in ("_vars", "_srcs", "_names"):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {t} AS SELECT * FROM {t}_df")
        con.unregister(f"{t}_df")
    # One key per region x division x period that has an observation of a needed variable,
    # numbered in output order (period, region).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _keys AS
        SELECT (row_number() OVER (ORDER BY period, region_code, geo_year) - 1)::INTEGER AS kid,
               (dense_rank() OVER (ORDER BY region_code) - 1)::INTEGER AS rid,
               region_code, geo_year, period
        FROM (SELECT DISTINCT o.region_code, o.geo_year, o.period
              FROM observations o JOIN _vars USING (variable) JOIN _srcs USING (source_id))""")
    keys = con.execute("SELECT rid, region_code, geo_year, period FROM _keys ORDER BY kid").fetchnumpy()
    n_keys, n_vars = len(keys["rid"]), len(variables)
    # the region codes in ``rid`` order (sorted): the values of the ENUM ``iv_region``
    region_ids = [r[0] for r in con.execute(
        "SELECT DISTINCT region_code FROM _keys ORDER BY region_code").fetchall()]
    _create_indicator_values(con, indicator_ids, region_ids, source_ids, catalogue.version)
    # source ids as the ENUM of indicator_data, so that writing them needs no string look-up
    con.execute("CREATE OR REPLACE TEMP TABLE _names AS SELECT source_id::iv_source AS source_id, sidx FROM _names")
    if n_keys == 0:
        for tmp in ("_keys", "_vars", "_srcs", "_names"):
            con.execute(f"DROP TABLE IF EXISTS {tmp}")
        return 0
    periods = np.asarray(keys["period"], dtype=np.int64)
    cell_type = "INTEGER" if n_keys * n_vars < 2 ** 31 else "BIGINT"
    # one row per observation: its cell (key x variable), code (source precedence x 4 + status)
    # and value (NaN where there is none)
    obs = con.execute(f"""
        SELECT (k.kid::BIGINT * {n_vars} + v.vid)::{cell_type} AS cell,
               (s.sord * 4 + CASE o.status WHEN 'ok' THEN {_OK} WHEN 'geheim' THEN {_SECRET}
                                           ELSE {_OTHER} END)::INTEGER AS code,
               coalesce(o.value, 'NaN'::DOUBLE) AS value
        FROM observations o JOIN _vars v USING (variable) JOIN _srcs s USING (source_id)
        JOIN _keys k USING (region_code, geo_year, period)""").fetchnumpy()
    obs = {k: np.asarray(a) for k, a in obs.items()}

    # the best observation per key and variable, for all sources and per tied adapter
    scopes = {None: _best_cells(obs, n_keys, n_vars, None)}
    adapters = sources["adapter"].to_numpy(object)
    for adapter in sorted(set(formulas["adapter"].dropna())):
        scopes[adapter] = _best_cells(obs, n_keys, n_vars, np.flatnonzero(adapters == adapter))
    del obs

    # weights of weighted means: per region and period (summed over divisions), taken from the
    # nearest period within the window (ties: the later period); one block per weight set
    weight_groups: dict[tuple, int] = {}
    weight_cols: dict[str, np.ndarray] = {}
    for f in formulas.itertuples(index=False):
        wv = tuple(terms_of[f.formula_id].query("term == 'weight'")["variable"])
        if wv and (wv, f.weight_window) not in weight_groups:
            g = weight_groups[(wv, f.weight_window)] = len(weight_groups)
            cols = _nearest_weights(scopes[None], [var_index[v] for v in wv], f.weight_window,
                                    np.asarray(keys["rid"], dtype=np.int64), periods, sidx_of_sord)
            weight_cols.update({f"g{g}_{k}": v for k, v in cols.items()})

    # the wide table of each scope as a pandas frame (DuckDB scans it in place; NaN and
    # masked values are NULL; the region code is a Categorical, which DuckDB reads as an ENUM
    # with the values of ``iv_region``, so writing it needs no string look-up): ``_wide`` for
    # formulas open to every source, ``_wide_<n>`` for formulas tied to one adapter
    tables: dict = {}
    region_codes = pd.Categorical.from_codes(np.asarray(keys["rid"], dtype=np.int32), categories=region_ids)
    for n, scope in enumerate(list(scopes)):
        code, value = scopes.pop(scope)
        fs = formulas[formulas["adapter"].isna()] if scope is None else formulas[formulas["adapter"] == scope]
        if fs.empty:
            continue
        tables[scope] = "_wide" if scope is None else f"_wide_{n}"
        used = sorted({var_index[v] for fid in fs["formula_id"]
                       for v in terms_of[fid].query("term != 'weight'")["variable"]})
        wide = {"kid": np.arange(n_keys, dtype=np.int32),
                "region_code": region_codes,
                "geo_year": np.asarray(keys["geo_year"], dtype=np.int32),
                "period": periods.astype(np.int32)}
        for i in used:
            c = code[:, i]
            present = c >= 0
            wide[f"v{i}"] = value[:, i]
            wide[f"ok{i}"] = present & (c % 4 == _OK)
            wide[f"sec{i}"] = present & (c % 4 == _SECRET)
            wide[f"src{i}"] = pd.arrays.IntegerArray(sidx_of_sord[np.maximum(c, 0) // 4], ~present)
        del code, value
        wide.update(weight_cols)
        con.register(tables[scope], pd.DataFrame(wide, copy=False))
        del wide

    # one INSERT per indicator, rows in output order (period, region); collecting all rows in a
    # temporary table first and writing them in one statement is ~15 % faster but doubles the
    # peak memory
    by_indicator: dict[str, list] = {}
    for f in formulas.itertuples(index=False):
        by_indicator.setdefault(f.indicator, []).append(f)
    for ind_id in sorted(by_indicator):
        parts = []
        for f in by_indicator[ind_id]:
            t = terms_of[f.formula_id]
            wv = tuple(t.query("term == 'weight'")["variable"])
            g = weight_groups.get((wv, f.weight_window)) if wv else None
            parts.append(_formula_sql(f, t, var_index, g,
                                      tables[f.adapter if isinstance(f.adapter, str) else None]))
        if len(parts) == 1:
            sql, order = parts[0], ""  # the scan of the wide table keeps the output order
        else:
            # several formulas: per key the first (catalogue order) that gives a value,
            # otherwise the first one's status
            sql = ("SELECT * FROM (" + " UNION ALL ".join(f"({p})" for p in parts) + ") u QUALIFY "
                   "row_number() OVER (PARTITION BY kid ORDER BY (status = 'ok'::iv_status) DESC, priority) = 1")
            order = "ORDER BY r.kid"
        con.execute(f"""
            INSERT INTO indicator_data
            SELECT '{ind_id}'::iv_indicator, r.region_code, r.geo_year, r.period, r.value, r.numerator,
                   r.denominator, r.status, r.estimate, n1.source_id, n2.source_id,
                   r.base_period, r.priority
            FROM ({sql}) r
            LEFT JOIN _names n1 ON n1.sidx = r.sidx LEFT JOIN _names n2 ON n2.sidx = r.bsidx
            {order}""")
    for name in tables.values():
        con.unregister(name)
    for tmp in ("_keys", "_vars", "_srcs", "_names"):
        con.execute(f"DROP TABLE IF EXISTS {tmp}")
    rows = con.execute("SELECT count(*) FROM indicator_data").fetchone()[0]
    return rows


def _best_cells(obs: dict, n_keys: int, n_vars: int, sords: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per key and variable the best observation: ``code`` (``sord * 4 + status``, -1 where
    there is none) and ``value`` (NaN where there is none), as (keys x variables) matrices.

    ``sords``: only observations of these sources (an adapter's), else all. Of several
    observations of one cell the lowest ``sord`` (source precedence) wins; within one source
    an ``ok`` row before a suppressed one.
    """
    cell, code, val = obs["cell"], obs["code"], obs["value"]
    if sords is not None:
        m = np.isin(code // 4, sords)
        cell, code, val = cell[m], code[m], val[m]
    n_cells = n_keys * n_vars
    out_code = np.full(n_cells, -1, dtype=np.int32)
    out_value = np.full(n_cells, np.nan)
    out_code[cell] = code  # where a cell has several rows, one of them; fixed below
    out_value[cell] = val
    # cells with more than one row: a row whose index is not the one written for its cell
    slot = np.full(n_cells, -1, dtype=np.int64 if len(cell) >= 2 ** 31 else np.int32)
    rows = np.arange(len(cell), dtype=slot.dtype)
    slot[cell] = rows
    extra = slot[cell] != rows
    del slot, rows
    if extra.any():
        multi = np.zeros(n_cells, dtype=bool)
        multi[cell[extra]] = True
        d = np.flatnonzero(multi[cell])
        del multi
        d = d[np.lexsort((code[d], cell[d]))]
        first = np.ones(len(d), dtype=bool)
        first[1:] = cell[d][1:] != cell[d][:-1]
        d = d[first]
        out_code[cell[d]] = code[d]
        out_value[cell[d]] = val[d]
    return out_code.reshape(n_keys, n_vars), out_value.reshape(n_keys, n_vars)


def _nearest_weights(best: tuple[np.ndarray, np.ndarray], wvars: list[int], window: int,
                     rid: np.ndarray, period: np.ndarray, sidx_of_sord: np.ndarray) -> dict:
    """Columns ``w, ok, sec, src, per`` per key: the weight (sum of the weight variables over
    divisions) of the nearest period within ``window`` years that has a weight row, ties to
    the later period; NULL where there is none."""
    code, value = best
    q = rid * 10_000 + period
    rp_keys, rp = np.unique(q, return_inverse=True)
    n = len(rp_keys)
    w = np.zeros(n)
    w_nn = np.zeros(n, dtype=np.int64)
    w_ok = np.zeros(n, dtype=np.int64)
    w_sec = np.zeros(n, dtype=bool)
    w_src = np.full(n, np.iinfo(np.int32).max, dtype=np.int64)
    exists = np.zeros(n, dtype=bool)
    for i in wvars:  # in term order, so a variable listed twice counts twice (as in SQL)
        c, v = code[:, i], value[:, i]
        present = c >= 0
        nn = present & ~np.isnan(v)
        w += np.bincount(rp, weights=np.where(nn, v, 0.0), minlength=n)
        w_nn += np.bincount(rp, weights=nn, minlength=n).astype(np.int64)
        w_ok += np.bincount(rp, weights=present & (c % 4 == _OK), minlength=n).astype(np.int64)
        w_sec |= np.bincount(rp, weights=present & (c % 4 == _SECRET), minlength=n) > 0
        np.minimum.at(w_src, rp[present], sidx_of_sord[c[present] // 4])
        exists |= np.bincount(rp, weights=present, minlength=n) > 0
    w[w_nn == 0] = np.nan
    cand = np.flatnonzero(exists)  # sorted by region, then period
    cq = rp_keys[cand]
    pos = np.searchsorted(cq, q, side="left")
    after = np.minimum(pos, len(cq) - 1) if len(cq) else pos
    before = np.maximum(pos - 1, 0)
    has_after = (pos < len(cq)) & (cq[after] // 10_000 == rid) if len(cq) else np.zeros(len(q), bool)
    has_before = (pos > 0) & (cq[before] // 10_000 == rid) if len(cq) else np.zeros(len(q), bool)
    d_after = np.where(has_after, cq[after] - q if len(cq) else 0, np.iinfo(np.int64).max)
    d_before = np.where(has_before, q - cq[before] if len(cq) else 0, np.iinfo(np.int64).max)
    use_after = has_after & (d_after <= d_before)
    chosen = np.where(use_after, after, before)
    found = (has_after | has_before) & (np.minimum(d_after, d_before) <= window)
    src = np.where(found, cand[chosen] if len(cq) else 0, 0)
    out = {
        "w": np.where(found, w[src], np.nan),
        "ok": w_ok[src], "sec": w_sec[src], "src": w_src[src], "per": rp_keys[src] % 10_000,
    }
    return {k: v if k == "w" else
            (pd.arrays.BooleanArray(v, ~found) if v.dtype == bool else
             pd.arrays.IntegerArray(v.astype(np.int64), ~found))
            for k, v in out.items()}


def _formula_sql(f, t: pd.DataFrame, var_index: dict, group: int | None, table: str) -> str:
    """One formula as a SELECT over the wide table ``table``: the rules of the module docstring."""
    def term(name):
        ids = [var_index[v] for v in t.loc[t["term"] == name, "variable"]]
        if not ids:
            return "NULL::DOUBLE", "0", "false", []
        s = (f"v{ids[0]}" if len(ids) == 1 else
             f"CASE WHEN {' AND '.join(f'v{i} IS NULL' for i in ids)} THEN NULL "
             f"ELSE {' + '.join(f'coalesce(v{i}, 0)' for i in ids)} END")
        return (s, " + ".join(f"ok{i}::INTEGER" for i in ids), "(" + " OR ".join(f"sec{i}" for i in ids) + ")",
                ids)

    (v, v_ok, v_sec, v_ids), (b, b_ok, b_sec, b_ids), (n, n_ok, n_sec, n_ids), (d, d_ok, d_sec, d_ids) = \
        (term(x) for x in _TERMS)
    present = " OR ".join(f"src{i} IS NOT NULL" for i in v_ids + b_ids + n_ids + d_ids)

    def least(ids):
        return "NULL::INTEGER" if not ids else (f"src{ids[0]}" if len(ids) == 1 else
                                                f"least({', '.join(f'src{i}' for i in ids)})")

    if group is not None:
        w, w_ok, w_sec, w_src, w_per = (f"g{group}_{k}" for k in ("w", "ok", "sec", "src", "per"))
    else:
        w, w_ok, w_sec, w_src, w_per = "NULL::DOUBLE", "NULL::BIGINT", "NULL::BOOLEAN", "NULL::BIGINT", "NULL::BIGINT"
    mode = f.mode
    main_ok = f"({n_ok}) = {f.n_num}" if mode == "ratio" else f"({v_ok}) = {f.n_value}"
    main_sec = n_sec if mode == "ratio" else v_sec
    base_ok, base_sec, base = {
        "ratio": (f"(({d_ok}) = {f.n_den} AND ({d}) IS NOT NULL)", d_sec, d),
        "percentage": (f"(({b_ok}) = {f.n_base} AND ({b}) IS NOT NULL)", b_sec, b),
        "weighted": (f"(coalesce({w_ok} = {f.n_weight}, false) AND {w} IS NOT NULL)",
                     f"coalesce({w_sec}, false)", w),
    }.get(mode, ("false", "false", "NULL::DOUBLE"))
    scale, per, min_base = (f"CAST({float(x)!r} AS DOUBLE)" for x in (f.scale, f.per, f.min_base))
    if mode == "ratio":
        value, numerator = f"{scale} * n / base", "n"
    else:
        value = "v"
        numerator = {"percentage": f"CASE WHEN base_ok THEN v * base / {per} END",
                     "weighted": "CASE WHEN base_ok THEN v * base END"}.get(
            mode, "v" if (mode == "value" and f.n_base == 0 and f.n_weight == 0) else "NULL::DOUBLE")
    base_src = w_src if mode == "weighted" else least(b_ids + d_ids)
    base_period = "CASE WHEN base_ok THEN w_per END" if mode == "weighted" else "NULL::BIGINT"
    ratio = "true" if mode == "ratio" else "false"
    return f"""
        SELECT kid, region_code, geo_year, period, {int(f.priority)} AS priority, {str(bool(f.estimate)).lower()} AS estimate, status,
               CASE WHEN status <> 'ok'::iv_status THEN NULL ELSE {value} END AS value,
               CASE WHEN status <> 'ok'::iv_status THEN NULL ELSE {numerator} END AS numerator,
               CASE WHEN base_ok THEN base END AS denominator,
               sidx, bsidx, {base_period} AS base_period
        FROM (
            SELECT *,
                CASE WHEN main_sec OR base_sec THEN 'geheim'::iv_status
                     WHEN NOT main_ok THEN 'niet beschikbaar'::iv_status
                     WHEN {ratio} AND NOT base_ok THEN 'niet beschikbaar'::iv_status
                     WHEN base_ok AND base < {min_base} THEN 'te weinig waarnemingen'::iv_status
                     WHEN {ratio} AND base = 0 THEN 'niet beschikbaar'::iv_status
                     ELSE 'ok'::iv_status END AS status
            FROM (
                SELECT kid, region_code, geo_year, period, ({v}) AS v, ({n}) AS n, {main_ok} AS main_ok, {main_sec} AS main_sec,
                       {base_ok} AS base_ok, {base_sec} AS base_sec, ({base}) AS base,
                       {least(v_ids + n_ids)} AS sidx, {base_src} AS bsidx, {w_per} AS w_per
                FROM {table}
                WHERE period BETWEEN {int(f.y0)} AND {int(f.y1)} AND ({present})
            ) x
        ) s"""
