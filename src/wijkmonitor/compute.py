"""Indicator values for every region and period, evaluated from the catalogue's formulas.

The catalogue's formulas are turned into two small tables (``formulas`` and ``terms``; the
catalogue is data, in the spirit of dbt's semantic layer), and each formula is evaluated
column-wise with numpy over a *wide* table: one row per region, division and period with, per
variable the catalogue uses, the best observation's value, status and source. Building that
table reads the store's integer-coded observations (no strings), chooses the best source per
observation and pivots on integer codes; weights of weighted means come from the nearest
period by a sorted search. The results are written to ``indicator_data`` as integer codes from
Arrow. A national build (18,000 regions x 12 years x 100 variables, 22.6 million observations)
takes a few seconds and about a gigabyte; ``benchmarks/bench_build.py`` checks it against a
plain pandas implementation of the same rules.

Rules
-----
* Where the source publishes a value for a region, that published value *is* the region's
  value; compute never replaces it by a re-aggregation of the region's parts.
* When two sources give the same variable for the same region and period, the source with the
  lowest ``rank`` (ingest order: national CBS tables before city re-publications) wins.
* A formula needs all its variables. If any input is secret (CBS ``.``/``-99997``) the value is
  ``geheim``; if an input is absent, ``niet beschikbaar``; if a ratio the monitor computes
  itself (``numerator`` / ``denominator``) has a denominator below the indicator's ``min_base``,
  ``te weinig waarnemingen``. In all three cases value and numerator are NULL, so nothing
  suppressed can be recovered from what is shown.
* **A value the publisher shows is shown.** ``min_base`` is the monitor's own disclosure rule
  for what it computes (ratios of counts here, aggregates in :mod:`wijkmonitor.aggregate`); a
  published value (a count, a percentage with its base, a model estimate with its weight) has
  passed the publisher's own disclosure control and is never hidden for a small base or weight
  (issue 15: 2 027 RIVM 2020 eenzaamheid estimates were hidden because the 25+ stand-in
  weight was below 100). The base or weight is kept as ``denominator``; an aggregate that uses
  it still applies ``min_base`` to its summed base.
* A percentage's base that the source does not publish at all does not hide the published
  value (the publisher already applied its own disclosure control); a *secret* base does.
* Several formulas may cover a year; per region and period the first (in catalogue order) that
  gives a value wins, otherwise the first one's status is reported.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from .catalogue import Catalogue, load_catalogue
from .sources.base import STATUS_OK as OBS_OK, STATUS_SECRET as OBS_SECRET

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

#: ``indicator_values`` is written once per build into ``indicator_data``, which holds
#: integer codes like ``observation_data``: ``rid`` and ``sid``/``bsid`` are the ids of
#: ``obs_regions`` and ``obs_sources``, ``iid`` the id of the indicator in ``iv_indicators``
#: (the catalogue's ids, sorted) and ``stid`` the index of the status in :data:`STATUSES`
#: (``iv_statuses``); the catalogue version is kept once, in ``meta``. Readers use the view
#: ``indicator_values``, which gives every column as before (strings, the catalogue version
#: on every row). Writing integers costs about half of writing strings or ENUMs.
INDICATOR_DATA_SQL = """
CREATE TABLE iv_indicators (iid SMALLINT PRIMARY KEY, indicator VARCHAR NOT NULL UNIQUE);
CREATE TABLE iv_statuses (stid UTINYINT PRIMARY KEY, status VARCHAR NOT NULL UNIQUE);
CREATE TABLE indicator_data (
    iid SMALLINT NOT NULL, rid INTEGER NOT NULL, geo_year SMALLINT NOT NULL, period SMALLINT NOT NULL,
    value DOUBLE, numerator DOUBLE, denominator DOUBLE, stid UTINYINT NOT NULL,
    estimate BOOLEAN NOT NULL, sid INTEGER, bsid INTEGER, base_period SMALLINT,
    formula SMALLINT NOT NULL);
CREATE VIEW indicator_values AS
SELECT i.indicator, r.region_code, d.geo_year::INTEGER AS geo_year, d.period::INTEGER AS period,
       d.value, d.numerator, d.denominator, st.status, d.estimate,
       s.source_id, b.source_id AS base_source_id, d.base_period::INTEGER AS base_period,
       d.formula::INTEGER AS formula,
       (SELECT m.value FROM meta m WHERE m.key = 'catalogue_version') AS catalogue_version
FROM indicator_data d
JOIN iv_indicators i USING (iid) JOIN obs_regions r USING (rid) JOIN iv_statuses st USING (stid)
LEFT JOIN obs_sources s ON s.sid = d.sid LEFT JOIN obs_sources b ON b.sid = d.bsid;
"""

#: ENUM types of stores written by earlier versions (dropped with ``indicator_data``).
_OLD_IV_TYPES = ("iv_indicator", "iv_region", "iv_status", "iv_source")


def drop_indicator_values(con: duckdb.DuckDBPyConnection) -> None:
    """Remove ``indicator_values`` (a view over ``indicator_data``, or a table in stores
    written before that), ``indicator_data`` and its dictionary tables."""
    kinds = dict(con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_name IN ('indicator_values', 'indicator_data')"
    ).fetchall())
    if kinds.get("indicator_values") == "VIEW":
        con.execute("DROP VIEW indicator_values")
    elif "indicator_values" in kinds:
        con.execute("DROP TABLE indicator_values")
    for t in ("indicator_data", "iv_indicators", "iv_statuses"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    for t in _OLD_IV_TYPES:
        con.execute(f"DROP TYPE IF EXISTS {t}")


def _create_indicator_values(con: duckdb.DuckDBPyConnection, indicators: list[str],
                             catalogue_version: str) -> None:
    """``indicator_data``, its dictionary tables and the view ``indicator_values`` (empty)."""
    con.execute(INDICATOR_DATA_SQL)
    con.executemany("INSERT INTO iv_indicators VALUES (?, ?)", list(enumerate(indicators)))
    con.executemany("INSERT INTO iv_statuses VALUES (?, ?)", list(enumerate(STATUSES)))
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
                denominator_window=f.denominator_window,
                n_value=len(f.value or ()), n_base=len(f.base or ()), n_weight=len(f.weight or ()),
                n_num=len(f.numerator or ()), n_den=len(f.denominator or ())))
            for term, vars_ in (("value", f.value), ("base", f.base), ("weight", f.weight),
                                ("num", f.numerator), ("den", f.denominator)):
                for var in vars_ or ():
                    trows.append(dict(formula_id=fid, term=term, variable=var))
    return pd.DataFrame(frows), pd.DataFrame(trows)


#: Status codes of a cell: ok, geheim, anything else (ontbreekt ...).
_OK, _SECRET, _OTHER = 0, 1, 2
_TERMS = ("value", "base", "num", "den")
#: Index of each status in :data:`STATUSES` (``stid`` in ``indicator_data`` and ``iv_statuses``).
_S_OK, _S_SMALL, _S_SECRET, _S_NA = range(4)
#: "No source" in the source-index arrays (NULL in the store).
_NO_SRC = np.iinfo(np.int32).max
#: Rows per INSERT into ``indicator_data`` (several indicators are written together).
_WRITE_ROWS = 1_500_000


def compute(con: duckdb.DuckDBPyConnection, catalogue: Catalogue | None = None) -> int:
    """(Re)build ``indicator_values`` in the open store ``con``; returns the number of rows."""
    catalogue = catalogue or load_catalogue()
    formulas, terms = formula_tables(catalogue)
    drop_indicator_values(con)
    _create_indicator_values(con, sorted(ind.id for ind in catalogue.values()), catalogue.version)
    if formulas.empty:
        return 0
    formulas = formulas.assign(adapter=formulas["adapter"].where(formulas["adapter"].notna(), None))
    variables = sorted(set(terms["variable"]))
    var_index = {v: i for i, v in enumerate(variables)}
    term_vars: dict[int, dict[str, list[str]]] = {fid: {} for fid in formulas["formula_id"]}
    for fid, term, var in terms[["formula_id", "term", "variable"]].itertuples(index=False):
        term_vars[fid].setdefault(term, []).append(var)
    # Sources in precedence order (rank, then id: the first wins) and in name order (the
    # source id shown is the smallest id among a value's inputs).
    # ``sid``: the source's id in ``obs_sources`` (-1 for a source without observations).
    sources = con.execute("SELECT s.source_id, s.adapter, coalesce(o.sid, -1) AS sid FROM sources s "
                          "LEFT JOIN obs_sources o USING (source_id) ORDER BY s.rank, s.source_id").df()
    by_name = sources.sort_values("source_id")
    name_index = {s: i for i, s in enumerate(by_name["source_id"])}
    sidx_of_sord = np.array([name_index[s] for s in sources["source_id"]], dtype=np.int32)
    sid_of_sidx = by_name["sid"].to_numpy(np.int64)

    keys, obs = _observation_cells(con, var_index, sources)
    n_keys, n_vars = len(keys["period"]), len(variables)
    if n_keys == 0:
        return 0

    # the best observation per key and variable, for all sources and per tied adapter
    scopes = {None: _best_cells(obs, n_keys, n_vars, None)}
    adapters = sources["adapter"].to_numpy(object)
    for adapter in sorted(set(formulas["adapter"].dropna())):
        scopes[adapter] = _best_cells(obs, n_keys, n_vars, np.flatnonzero(adapters == adapter))
    del obs
    cells = {scope: _Cells(code, value, sidx_of_sord) for scope, (code, value) in scopes.items()}
    del scopes

    # weights of weighted means: per region and period (summed over divisions), taken from the
    # nearest period within the window (ties: the later period); one set per weight variables
    # Denominators of ratios with a ``denominator_window`` come the same way (the same
    # period first), keyed by ``("den", variables)``.
    weights: dict[tuple, dict] = {}
    for f in formulas.itertuples(index=False):
        wv = _weight_key(f, term_vars[f.formula_id])
        if wv and (wv, _window(f)) not in weights:
            scope = cells[f.adapter if isinstance(f.adapter, str) else None] if wv[0] == "den" else cells[None]
            weights[(wv, _window(f))] = _nearest_weights(
                scope, [var_index[v] for v in wv[1:]], _window(f), keys["rank"], keys["period"])

    by_indicator: dict[str, list] = {}
    for f in formulas.itertuples(index=False):
        by_indicator.setdefault(f.indicator, []).append(f)
    writer = _Writer(con, keys, sid_of_sidx)
    try:
        for iid, ind_id in enumerate(sorted(ind.id for ind in catalogue.values())):
            if ind_id not in by_indicator:
                continue
            results = []
            for f in by_indicator[ind_id]:
                tv = term_vars[f.formula_id]
                wv = _weight_key(f, tv)
                results.append(_evaluate(f, {term: [var_index[v] for v in tv.get(term, ())] for term in _TERMS},
                                         cells[f.adapter if isinstance(f.adapter, str) else None],
                                         weights.get((wv, _window(f))) if wv else None, keys["period"]))
            writer.add(iid, _first_with_value(results))
    except BaseException:
        writer.parts = []
        writer.close()
        raise
    return writer.close()


def _weight_key(f, term_vars: dict[str, list[str]]) -> tuple:
    """``("weight", vars...)`` for weighted means, ``("den", vars...)`` for ratios whose
    denominator may come from a nearby period, else ``()``."""
    if term_vars.get("weight"):
        return ("weight", *term_vars["weight"])
    if f.mode == "ratio" and int(f.denominator_window) > 0:
        return ("den", *term_vars.get("den", ()))
    return ()


def _window(f) -> int:
    return int(f.weight_window) if f.mode == "weighted" else int(f.denominator_window)


def _observation_cells(con: duckdb.DuckDBPyConnection, var_index: dict, sources: pd.DataFrame
                       ) -> tuple[dict, dict]:
    """Read the observations of the catalogue's variables (integer codes, no strings) and
    number their keys (region x division x period) in output order: period, region code,
    division.

    Returns ``keys`` (per key: ``period``, ``geo_year``, ``rid``: the region's id in
    ``obs_regions``, ``rank``: its place in code order) and ``obs`` (per observation:
    ``cell`` = variable x number of keys + key, ``code`` = source precedence x 4 + status,
    ``value``).
    """
    vids = con.execute("SELECT vid, variable FROM obs_variables").fetchnumpy()
    var_of_vid = _lookup(vids["vid"], [var_index.get(v, -1) for v in vids["variable"]])
    sids = con.execute("SELECT sid FROM obs_sources").fetchnumpy()["sid"]
    sord = {sid: i for i, sid in enumerate(sources["sid"]) if sid >= 0}  # precedence order
    sord_of_sid = _lookup(sids, [sord.get(int(sid), -1) for sid in sids])
    stids = con.execute("SELECT stid, status FROM obs_statuses").fetchnumpy()
    st_of_stid = _lookup(stids["stid"], [{OBS_OK: _OK, OBS_SECRET: _SECRET}.get(s, _OTHER)
                                         for s in stids["status"]])
    rid_in_code_order = np.asarray(con.execute(
        "SELECT rid FROM obs_regions ORDER BY region_code").fetchnumpy()["rid"], dtype=np.int64)
    rank_of_rid = _lookup(rid_in_code_order, np.arange(len(rid_in_code_order)))

    wanted = [int(v) for v, i in zip(vids["vid"], var_of_vid[vids["vid"]]) if i >= 0]
    where = f"vid IN ({', '.join(map(str, wanted))})" if wanted else "false"
    total = con.execute(f"SELECT count(*) FROM observation_data WHERE {where}").fetchall()[0][0]
    cols = dict(rank=np.empty(total, np.int32), geo_year=np.empty(total, np.int16),
                period=np.empty(total, np.int16), var=np.empty(total, np.int16),
                code=np.empty(total, np.int32), value=np.empty(total, np.float64))
    n = 0
    reader = con.sql("SELECT rid, geo_year, period, vid, sid, stid, value FROM observation_data "
                     f"WHERE {where}").to_arrow_reader(1_000_000)
    for batch in reader:
        sord_ = sord_of_sid[batch.column("sid").to_numpy()]
        keep = sord_ >= 0  # observations of a source that is not in ``sources`` are ignored
        m = int(keep.sum())
        part = slice(n, n + m)
        cols["rank"][part] = rank_of_rid[batch.column("rid").to_numpy()][keep]
        cols["geo_year"][part] = batch.column("geo_year").to_numpy()[keep]
        cols["period"][part] = batch.column("period").to_numpy()[keep]
        cols["var"][part] = var_of_vid[batch.column("vid").to_numpy()][keep]
        cols["code"][part] = (sord_ * 4 + st_of_stid[batch.column("stid").to_numpy()])[keep]
        cols["value"][part] = batch.column("value").to_numpy(zero_copy_only=False)[keep]
        n += m
    cols = {k: v[:n] for k, v in cols.items()}
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return (dict(period=empty, geo_year=empty, rid=empty, rank=empty),
                dict(cell=empty, code=empty.astype(np.int32), value=np.zeros(0)))
    # a dense key space (period x region rank x division) numbered by a running count: the
    # keys come out in output order without sorting the observations
    p0, g0 = int(cols["period"].min()), int(cols["geo_year"].min())
    n_p, n_g = int(cols["period"].max()) - p0 + 1, int(cols["geo_year"].max()) - g0 + 1
    n_r = len(rid_in_code_order)
    space = (cols["period"].astype(np.int64) - p0) * n_r
    space += cols.pop("rank")
    space *= n_g
    space += cols.pop("geo_year").astype(np.int64) - g0
    del cols["period"]
    if n_p * n_r * n_g <= 4 * n + 50_000_000:
        used = np.zeros(n_p * n_r * n_g, dtype=bool)
        used[space] = True
        flat = np.flatnonzero(used)
        kid_of = np.cumsum(used, dtype=np.int64) - 1
        del used
        kid = kid_of[space]
        del kid_of
    else:  # a sparse key space: sort instead
        flat, kid = np.unique(space, return_inverse=True)
    del space
    rank = (flat // n_g) % n_r
    keys = dict(period=flat // (n_r * n_g) + p0, geo_year=flat % n_g + g0, rank=rank,
                rid=rid_in_code_order[rank])
    n_vars = max(var_index.values()) + 1
    cell_type = np.int32 if len(flat) * n_vars < 2 ** 31 else np.int64
    # variable-major: the cells of one variable are contiguous (one column of the wide table)
    cell = cols.pop("var").astype(cell_type)
    cell *= len(flat)
    cell += kid.astype(cell_type, copy=False)
    del kid
    return keys, dict(cell=cell, code=cols["code"], value=cols["value"])


def _lookup(ids, values) -> np.ndarray:
    """An array ``a`` with ``a[id] = value`` (-1 for ids not given)."""
    ids = np.asarray(ids, dtype=np.int64)
    out = np.full(int(ids.max()) + 1 if len(ids) else 1, -1, dtype=np.int64)
    out[ids] = np.asarray(values, dtype=np.int64)
    return out


def _best_cells(obs: dict, n_keys: int, n_vars: int, sords: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per key and variable the best observation: ``code`` (``sord * 4 + status``, -1 where
    there is none) and ``value`` (NaN where there is none), as (variables x keys) matrices.

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
    return out_code.reshape(n_vars, n_keys), out_value.reshape(n_vars, n_keys)


class _Cells:
    """The best observations of one scope, with per-variable columns made on demand: value
    (NaN: NULL), present, ok, secret and source index (:data:`_NO_SRC` where absent)."""

    def __init__(self, code: np.ndarray, value: np.ndarray, sidx_of_sord: np.ndarray):
        self.code, self.value, self._sidx = code, value, sidx_of_sord
        self._cols: dict[int, tuple] = {}

    def __call__(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if i not in self._cols:
            c = self.code[i]
            present = c >= 0
            st = c % 4
            src = np.where(present, self._sidx[np.maximum(c, 0) // 4], _NO_SRC)
            self._cols[i] = (self.value[i], present,
                             present & (st == _OK), present & (st == _SECRET), src)
        return self._cols[i]


def _nearest_weights(cells: _Cells, wvars: list[int], window: int, rid: np.ndarray,
                     period: np.ndarray) -> dict:
    """Per key: the weight ``w`` (sum of the weight variables over divisions; NaN: NULL), the
    number of ok inputs ``ok``, any secret ``sec``, the smallest source index ``src`` and the
    period ``per`` of the nearest period within ``window`` years that has a weight row (ties
    to the later period); ``found`` False where there is none."""
    q = rid * 10_000 + period
    rp_keys, rp = np.unique(q, return_inverse=True)
    n = len(rp_keys)
    w = np.zeros(n)
    w_nn = np.zeros(n, dtype=np.int64)
    w_ok = np.zeros(n, dtype=np.int64)
    w_sec = np.zeros(n, dtype=bool)
    w_src = np.full(n, _NO_SRC, dtype=np.int64)
    exists = np.zeros(n, dtype=bool)
    for i in wvars:  # in term order, so a variable listed twice counts twice (as in SQL)
        v, present, ok, sec, src = cells(i)
        nn = present & ~np.isnan(v)
        w += np.bincount(rp, weights=np.where(nn, v, 0.0), minlength=n)
        w_nn += np.bincount(rp, weights=nn, minlength=n).astype(np.int64)
        w_ok += np.bincount(rp, weights=ok, minlength=n).astype(np.int64)
        w_sec |= np.bincount(rp, weights=sec, minlength=n) > 0
        np.minimum.at(w_src, rp[present], src[present])
        exists |= np.bincount(rp, weights=present, minlength=n) > 0
    w[w_nn == 0] = np.nan
    cand = np.flatnonzero(exists)  # sorted by region, then period
    cq = rp_keys[cand]
    if not len(cq):
        none = np.zeros(len(q), dtype=bool)
        return dict(w=np.full(len(q), np.nan), ok=np.zeros(len(q), np.int64), sec=none,
                    src=np.full(len(q), _NO_SRC, np.int64), per=np.zeros(len(q), np.int64), found=none)
    pos = np.searchsorted(cq, q, side="left")
    after = np.minimum(pos, len(cq) - 1)
    before = np.maximum(pos - 1, 0)
    has_after = (pos < len(cq)) & (cq[after] // 10_000 == rid)
    has_before = (pos > 0) & (cq[before] // 10_000 == rid)
    d_after = np.where(has_after, cq[after] - q, np.iinfo(np.int64).max)
    d_before = np.where(has_before, q - cq[before], np.iinfo(np.int64).max)
    use_after = has_after & (d_after <= d_before)
    chosen = np.where(use_after, after, before)
    found = (has_after | has_before) & (np.minimum(d_after, d_before) <= window)
    src = np.where(found, cand[chosen], 0)
    return dict(w=np.where(found, w[src], np.nan), ok=np.where(found, w_ok[src], 0),
                sec=found & w_sec[src], src=np.where(found, w_src[src], _NO_SRC),
                per=rp_keys[src] % 10_000, found=found)


def _term(cells: _Cells, ids: list[int]):
    """Sum (NaN when every input is NULL), number ok and any secret of one term's variables."""
    if not ids:
        return None, 0, False
    cols = [cells(i) for i in ids]
    if len(ids) == 1:
        s = cols[0][0]
    else:
        s = np.where(np.isnan(cols[0][0]), 0.0, cols[0][0])
        for c in cols[1:]:
            s = s + np.where(np.isnan(c[0]), 0.0, c[0])
        s = np.where(np.logical_and.reduce([np.isnan(c[0]) for c in cols]), np.nan, s)
    ok = cols[0][2].astype(np.int64)
    sec = cols[0][3]
    for c in cols[1:]:
        ok = ok + c[2]
        sec = sec | c[3]
    return s, ok, sec


def _least_src(cells: _Cells, ids: list[int], n: int) -> np.ndarray:
    out = np.full(n, _NO_SRC, dtype=np.int64)
    for i in ids:
        out = np.minimum(out, cells(i)[4])
    return out


def _evaluate(f, ids: dict[str, list[int]], cells: _Cells, weight: dict | None,
              period: np.ndarray) -> dict:
    """One formula for every key, by the rules of the module docstring. ``has``: the keys the
    formula gives a row for (its period range, any input present)."""
    n = len(period)
    nan = np.full(n, np.nan)
    v, v_ok, v_sec = _term(cells, ids["value"])
    b, b_ok, b_sec = _term(cells, ids["base"])
    num, n_ok, n_sec = _term(cells, ids["num"])
    d, d_ok, d_sec = _term(cells, ids["den"])
    v = nan if v is None else v
    b = nan if b is None else b
    num = nan if num is None else num
    d = nan if d is None else d
    every = ids["value"] + ids["base"] + ids["num"] + ids["den"]
    present = np.zeros(n, dtype=bool)
    for i in every:
        present |= cells(i)[1]
    has = present & (period >= f.y0) & (period <= f.y1)

    mode = f.mode
    ratio = mode == "ratio"
    false = np.zeros(n, dtype=bool)
    main_ok = (n_ok == f.n_num) if ratio else (v_ok == f.n_value)
    main_sec = (n_sec if ratio else v_sec) | false
    if ratio and weight is not None:  # the denominator of the nearest period in the window
        base = weight["w"]
        base_ok = weight["found"] & (weight["ok"] == f.n_den) & ~np.isnan(base)
        base_sec = weight["sec"]
    elif ratio:
        base, base_ok, base_sec = d, (d_ok == f.n_den) & ~np.isnan(d), d_sec | false
    elif mode == "percentage":
        base, base_ok, base_sec = b, (b_ok == f.n_base) & ~np.isnan(b), b_sec | false
    elif mode == "weighted":
        base = weight["w"]
        base_ok = weight["found"] & (weight["ok"] == f.n_weight) & ~np.isnan(base)
        base_sec = weight["sec"]
    else:
        base, base_ok, base_sec = nan, false, false
    main_ok = np.broadcast_to(main_ok, (n,))
    status = np.full(n, _S_OK, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        # min_base only for what the monitor computes itself (ratios of counts); a published
        # value (percentage with base, estimate with weight) is shown whatever its base
        small = base_ok & (base < float(f.min_base)) & ratio
        zero = base_ok & (base == 0)
    # the CASE rules, the last assignment being the first rule
    if ratio:
        status[zero] = _S_NA
    status[small] = _S_SMALL
    if ratio:
        status[~base_ok] = _S_NA
    status[~main_ok] = _S_NA
    status[main_sec | base_sec] = _S_SECRET
    ok = status == _S_OK

    with np.errstate(invalid="ignore", divide="ignore"):
        if ratio:
            value = float(f.scale) * num / base
            numerator = num
        else:
            value = v
            if mode == "percentage":
                numerator = np.where(base_ok, v * base / float(f.per), np.nan)
            elif mode == "weighted":
                numerator = np.where(base_ok, v * base, np.nan)
            elif mode == "value" and f.n_base == 0 and f.n_weight == 0:
                numerator = v
            else:
                numerator = nan
    value = np.where(ok, value, np.nan)
    numerator = np.where(ok, numerator, np.nan)
    denominator = np.where(base_ok, base, np.nan)
    sidx = _least_src(cells, ids["value"] + ids["num"], n)
    if weight is not None:  # weighted means, and ratios with a denominator window
        bsidx = weight["src"]
        base_period = np.where(base_ok, weight["per"], -1)
    else:
        bsidx = _least_src(cells, ids["base"] + ids["den"], n)
        base_period = np.full(n, -1, dtype=np.int64)
    return dict(has=has, status=status, value=value, numerator=numerator, denominator=denominator,
                sidx=sidx, bsidx=bsidx, base_period=base_period,
                formula=np.full(n, int(f.priority), dtype=np.int32),
                estimate=np.full(n, bool(f.estimate)))


def _first_with_value(results: list[dict]) -> dict:
    """Several formulas of one indicator (catalogue order): per key the first that gives a
    value, otherwise the first one that gives a row; the rows of keys no formula covers are
    dropped."""
    if len(results) == 1:
        r = results[0]
        rows = np.flatnonzero(r["has"])
        return {k: v[rows] for k, v in r.items() if k != "has"} | {"rows": rows}
    n = len(results[0]["has"])
    choice = np.full(n, -1, dtype=np.int64)
    for j, r in enumerate(results):
        choice[(choice < 0) & r["has"] & (r["status"] == _S_OK)] = j
    for j, r in enumerate(results):
        choice[(choice < 0) & r["has"]] = j
    rows = np.flatnonzero(choice >= 0)
    picked = choice[rows]
    out = {"rows": rows}
    for k in results[0]:
        if k == "has":
            continue
        col = results[0][k][rows].copy()
        for j, r in enumerate(results[1:], start=1):
            m = picked == j
            col[m] = r[k][rows[m]]
        out[k] = col
    return out


class _Writer:
    """Writes indicator rows to ``indicator_data`` (integer codes, from Arrow) in batches of
    several indicators. A batch is written by a worker thread while the next indicators are
    evaluated (DuckDB releases the GIL); the connection is used by nothing else meanwhile.
    Call :meth:`close` (also after an error: it waits for the worker)."""

    def __init__(self, con, keys: dict, sid_of_sidx: np.ndarray):
        self.con, self.keys, self.sid_of_sidx = con, keys, sid_of_sidx
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indicator_data")
        self.in_flight = None
        self.parts: list[dict] = []
        self.pending = 0
        self.rows = 0

    def add(self, iid: int, r: dict) -> None:
        rows = r.pop("rows")
        r["iid"] = np.full(len(rows), iid, dtype=np.int16)
        r["rid"], r["geo_year"], r["period"] = (self.keys[k][rows] for k in ("rid", "geo_year", "period"))
        self.parts.append(r)
        self.pending += len(rows)
        if self.pending >= _WRITE_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        c = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        self.parts, self.pending = [], 0

        def source(a):
            sid = self.sid_of_sidx[np.where(a == _NO_SRC, 0, a)]
            return pa.array(sid.astype(np.int32), mask=a == _NO_SRC)

        def double(a):
            return pa.array(a, mask=np.isnan(a))

        batch = pa.table({
            "iid": c["iid"], "rid": c["rid"].astype(np.int32),
            "geo_year": c["geo_year"].astype(np.int16), "period": c["period"].astype(np.int16),
            "value": double(c["value"]), "numerator": double(c["numerator"]),
            "denominator": double(c["denominator"]), "stid": c["status"].astype(np.uint8),
            "estimate": c["estimate"], "sid": source(c["sidx"]), "bsid": source(c["bsidx"]),
            "base_period": pa.array(c["base_period"].astype(np.int16), mask=c["base_period"] < 0),
            "formula": c["formula"].astype(np.int16),
        })
        del c
        self.wait()  # one batch in flight at a time (bounded memory)
        self.rows += batch.num_rows
        self.in_flight = self.pool.submit(self._insert, batch)

    def _insert(self, batch: pa.Table) -> None:
        self.con.register("_iv_batch", batch)
        try:
            self.con.execute("INSERT INTO indicator_data SELECT * FROM _iv_batch")
        finally:
            self.con.unregister("_iv_batch")

    def wait(self) -> None:
        """Wait for the batch being written (and raise its error)."""
        if self.in_flight is not None:
            future, self.in_flight = self.in_flight, None
            future.result()

    def close(self) -> int:
        try:
            self.flush()
            self.wait()
        finally:
            self.pool.shutdown(wait=True)
        return self.rows
