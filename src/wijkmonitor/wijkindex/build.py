"""Build step: the Wijkindex for every buurt, wijk, gemeente and area and every year the
inputs allow, with classes, ranks, rank intervals and provenance (tables ``wijkindex_values``,
``wijkindex_reference``, ``wijkindex_meta``).

Inputs (read, never recomputed):

* CBS regions: ``indicator_values`` with status ``ok`` (per code and period the division of
  that year, else the most recent one). A wijk without a published value for an indicator and
  period takes the value of its buurten added up by the rules of :mod:`wijkmonitor.aggregate`
  (only shown parts, coverage at least 90 %, the indicator's minimum base); a published value
  always wins, also when it is suppressed.
* Areas (focusgebieden, aandachtswijken, custom areas): ``area_values`` (the existing
  aggregation rules), status ``ok``. The area's index is computed from its aggregated
  indicator values, on the same reference scale as the regions: it is the index of the area,
  not an average of its buurten' indices.

Years: a level (or areas) gets a year when at least half as many units have a value of one of
the index's indicators in it as in its best-covered year. In such a year an indicator takes
its value of that year or, failing that, of at most ``max_leeftijd`` years earlier (the year
used is stored per unit, year and indicator in ``indicators_used``).
"""

from __future__ import annotations

import time

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ..catalogue import APPROXIMATION, Catalogue, load_catalogue
from . import method
from .model import IndexSpec, load_indices

STATUS_OK = "ok"
STATUS_MISSING = "niet beschikbaar"

#: Monte Carlo settings of the build (README "Wijkindex").
DRAWS = 1000
SEED = 20260416

VALUES_SQL = """
CREATE TABLE wijkindex_values (
    index_id VARCHAR NOT NULL, index_version VARCHAR NOT NULL, component VARCHAR NOT NULL,
    domain VARCHAR, unit_id VARCHAR NOT NULL, unit_kind VARCHAR NOT NULL, programme VARCHAR,
    gemeente VARCHAR, period INTEGER NOT NULL, value DOUBLE, raw DOUBLE, status VARCHAR NOT NULL,
    reason VARCHAR, decile INTEGER, rank_nl INTEGER, n_nl INTEGER, rank_nl_low INTEGER,
    rank_nl_high INTEGER, rank_gemeente INTEGER, n_gemeente INTEGER, rank_gemeente_low INTEGER,
    rank_gemeente_high INTEGER, rank_programme INTEGER, n_programme INTEGER,
    rank_programme_low INTEGER, rank_programme_high INTEGER, domains_available VARCHAR,
    indicators_used VARCHAR, approximation VARCHAR)
"""

KINDS = ("buurt", "wijk", "gemeente", "area")
_PREFIX_KIND = {"BU": "buurt", "WK": "wijk", "GM": "gemeente"}


def build_wijkindex(con: duckdb.DuckDBPyConnection, indices: list[IndexSpec] | None = None,
                    catalogue: Catalogue | None = None, *, draws: int = DRAWS, seed: int = SEED) -> dict:
    """Compute every declared index and write the ``wijkindex_*`` tables (build step)."""
    catalogue = catalogue or load_catalogue()
    indices = indices if indices is not None else load_indices()
    timings: dict = {}
    frames, refs, metas = [], [], []
    t_in = time.perf_counter()
    all_inds = sorted({i.id for spec in indices for _, i in spec.indicators()})
    inputs = read_inputs(con, all_inds, catalogue)
    timings["inputs_s"] = time.perf_counter() - t_in
    for spec in indices:
        t0 = time.perf_counter()
        out, ref = compute_index(spec, inputs, draws=draws, seed=seed)
        timings[spec.id + "_s"] = time.perf_counter() - t0
        frames.append(out)
        refs.append(ref)
        metas.append(dict(index_id=spec.id, index_version=spec.version, name=spec.naam,
                          file=spec.path.rsplit("/", 1)[-1], definition=spec.model_dump_json(
                              exclude={"version", "path"}),
                          base_year=spec.basisjaar, base_level=spec.basisniveau,
                          normalisation=spec.normalisatie, max_age=spec.max_leeftijd,
                          draws=draws, seed=seed, catalogue_version=catalogue.version))
    values = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for t in ("wijkindex_values", "wijkindex_reference", "wijkindex_meta"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    con.execute(VALUES_SQL)
    if len(values):
        # through Arrow: the categorical and nullable columns convert once, at about half the
        # CPU of DuckDB's scan of the pandas frame (same rows)
        con.register("wi_df", pa.Table.from_pandas(values, preserve_index=False))
        con.execute("INSERT INTO wijkindex_values BY NAME SELECT * FROM wi_df")
        con.unregister("wi_df")
    ref = pd.concat(refs, ignore_index=True)
    con.register("wr_df", ref)
    con.execute("CREATE TABLE wijkindex_reference AS SELECT * FROM wr_df")
    con.unregister("wr_df")
    con.register("wm_df", pd.DataFrame(metas))
    con.execute("CREATE TABLE wijkindex_meta AS SELECT * FROM wm_df")
    con.unregister("wm_df")
    timings["rows"] = len(values)
    return timings


# ----------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------

def read_inputs(con: duckdb.DuckDBPyConnection, indicators: list[str], catalogue: Catalogue) -> pd.DataFrame:
    """Long frame ``unit_id, unit_kind, programme, gemeente, indicator, period, value,
    approximation`` of shown values of ``indicators`` for regions (buurt, wijk, gemeente) and
    areas. ``approximation``: the approximation clause of the value's provenance
    (:func:`wijkmonitor.uncertainty.approximation_text`: added up with a declared stand-in
    weight) for area values and wijken added up from their buurten, None otherwise (a
    published value is never an approximation)."""
    from ..uncertainty import approximation_texts

    reg = con.execute("""
        SELECT * EXCLUDE (rn) FROM (
            SELECT v.region_code AS unit_id, v.indicator, v.period, v.value,
                   row_number() OVER (PARTITION BY v.region_code, v.indicator, v.period
                                      ORDER BY (v.geo_year = v.period) DESC, v.geo_year DESC) rn,
                   v.status
            FROM indicator_values v
            WHERE v.indicator IN (SELECT unnest(?))
              AND left(v.region_code, 2) IN ('BU', 'WK', 'GM'))
        WHERE rn = 1 AND status = 'ok' AND value IS NOT NULL""", [indicators]).df().drop(columns="status")
    reg["approximation"] = None
    published_wk = con.execute("""
        SELECT DISTINCT region_code AS unit_id, indicator, period FROM indicator_values
        WHERE indicator IN (SELECT unnest(?)) AND left(region_code, 2) = 'WK'
          AND status <> 'niet beschikbaar'""", [indicators]).df()
    wk = _wijken_from_buurten(con, indicators, catalogue)
    if len(wk):
        wk = wk.merge(published_wk, on=["unit_id", "indicator", "period"], how="left", indicator=True)
        wk = wk[wk["_merge"] == "left_only"].drop(columns="_merge")
        reg = pd.concat([reg, wk[["unit_id", "indicator", "period", "value", "approximation"]]],
                        ignore_index=True)
    reg["unit_kind"] = reg["unit_id"].str[:2].map(_PREFIX_KIND)
    gem = con.execute("""
        SELECT code AS unit_id, arg_max(gemeente_code, year) AS gemeente FROM regions
        WHERE level IN ('buurt', 'wijk') GROUP BY code""").df()
    reg = reg.merge(gem, on="unit_id", how="left")
    reg.loc[reg["unit_kind"] == "gemeente", "gemeente"] = reg["unit_id"]
    reg["programme"] = None
    reg["area_level"] = None
    frames = [reg]
    has_areas = con.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_name IN ('area_values', 'area_index')").fetchone()[0] == 2
    if has_areas:
        ar = con.execute("""
            SELECT v.unit_id, v.indicator, v.period, v.value, i.programme, i.gemeente,
                   i.level AS area_level, v.method
            FROM area_values v JOIN area_index i ON i.area_id = v.unit_id
            WHERE v.unit_kind = 'area' AND v.status = 'ok' AND v.value IS NOT NULL
              AND v.indicator IN (SELECT unnest(?))""", [indicators]).df()
        ar["unit_kind"] = "area"
        ar["approximation"] = approximation_texts(ar.pop("method"))
        frames.append(ar)
    out = pd.concat(frames, ignore_index=True)
    out["period"] = out["period"].astype("int64")
    out["value"] = out["value"].astype("float64")
    out["approximation"] = out["approximation"].astype(object).where(out["approximation"].notna(), None)
    return out[["unit_id", "unit_kind", "programme", "gemeente", "area_level", "indicator", "period",
                "value", "approximation"]]


def _wijken_from_buurten(con, indicators: list[str], catalogue: Catalogue) -> pd.DataFrame:
    """Values of wijken added up from their buurten (aggregate.aggregate), per division year
    in which buurten have values of these indicators, with the approximation clause of each
    value's provenance (None: added up with the formula's own weight)."""
    from ..aggregate import Unit, aggregate
    from ..uncertainty import approximation_texts

    # only (indicator, division year) pairs where buurten have shown values and no wijk has a
    # published one (a published value wins anyway: adding up the others would be wasted work)
    pairs = con.execute("""
        WITH bu AS (SELECT DISTINCT indicator, geo_year FROM indicator_values
                    WHERE indicator IN (SELECT unnest(?)) AND left(region_code, 2) = 'BU' AND status = 'ok'),
             wk AS (SELECT DISTINCT indicator, period FROM indicator_values
                    WHERE indicator IN (SELECT unnest(?)) AND left(region_code, 2) = 'WK'
                      AND status <> 'niet beschikbaar')
        SELECT DISTINCT bu.indicator, bu.geo_year FROM bu JOIN indicator_values v
          ON v.indicator = bu.indicator AND v.geo_year = bu.geo_year AND left(v.region_code, 2) = 'BU'
         AND v.status = 'ok'
        WHERE NOT EXISTS (SELECT 1 FROM wk WHERE wk.indicator = v.indicator AND wk.period = v.period)
        """, [indicators, indicators]).fetchall()
    years = sorted({y for _, y in pairs})
    if not years:
        return pd.DataFrame(columns=["unit_id", "indicator", "period", "value", "approximation"])
    parts = con.execute("""
        SELECT wijk_code, year, list(code ORDER BY code) AS codes FROM regions
        WHERE level = 'buurt' AND wijk_code IS NOT NULL AND year IN (SELECT unnest(?))
        GROUP BY wijk_code, year""", [years]).df()
    frames = []
    for year, grp in parts.groupby("year"):
        inds = sorted({i for i, y in pairs if y == year})
        sub = Catalogue({k: catalogue[k] for k in inds})
        sub.version = catalogue.version
        units = [Unit(w, "wijk", tuple(c), int(year)) for w, c in zip(grp["wijk_code"], grp["codes"])]
        con.execute(f"""CREATE OR REPLACE TEMP VIEW wi_buurt_values AS
            SELECT * FROM indicator_values WHERE indicator IN ({", ".join("'" + i + "'" for i in inds)})
              AND left(region_code, 2) = 'BU' AND geo_year = {int(year)}""")
        df = aggregate(con, units, sub, table="wi_buurt_values")
        df = df[df["status"] == "ok"]
        frames.append(df[["unit_id", "indicator", "period", "value"]].assign(
            approximation=approximation_texts(df["method"])))
    con.execute("DROP VIEW IF EXISTS wi_buurt_values")
    out = pd.concat(frames, ignore_index=True)
    # a wijk on two divisions: keep one value per period (the later division)
    return out.drop_duplicates(["unit_id", "indicator", "period"], keep="last")


# ----------------------------------------------------------------------------------------
# one index
# ----------------------------------------------------------------------------------------

def index_years(inputs: pd.DataFrame) -> dict[str, list[int]]:
    """Per unit kind the years with at least half the units of its best-covered year."""
    out = {}
    counts = inputs.groupby(["unit_kind", "period"])["unit_id"].nunique()
    for kind in KINDS:
        if kind not in counts.index.get_level_values(0):
            out[kind] = []
            continue
        c = counts.loc[kind]
        out[kind] = sorted(int(y) for y in c.index[c >= 0.5 * c.max()])
    return out


def reference_year(counts: dict[int, int], base_year: int) -> int | None:
    """The year nearest ``base_year`` (ties: the later) with at least half the count of the
    best-covered year."""
    if not counts:
        return None
    top = max(counts.values())
    good = [y for y, n in counts.items() if n >= 0.5 * top and n > 0]
    return min(good, key=lambda y: (abs(y - base_year), -y))


def compute_index(spec: IndexSpec, inputs: pd.DataFrame, *, draws: int = DRAWS, seed: int = SEED,
                  years: dict[str, list[int]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The long ``wijkindex_values`` rows and the ``wijkindex_reference`` rows of one index."""
    pairs = spec.indicators()
    ind_ids = [i.id for _, i in pairs]
    data = inputs[inputs["indicator"].isin(ind_ids)]
    years = years if years is not None else index_years(data)
    # rows: (unit, year) for the kind's years where the unit has a value in the window
    if "area_level" not in data:
        data = data.assign(area_level=None)
    # approximated inputs (added up with a stand-in weight): a code per distinct clause, -1 none
    ap_codes, ap_texts = pd.factorize(data["approximation"] if "approximation" in data
                                      else pd.Series(None, index=data.index, dtype=object),
                                      use_na_sentinel=True)
    data = data.assign(_ac=ap_codes.astype("int64"))
    units = data.drop_duplicates("unit_id")[["unit_id", "unit_kind", "programme", "gemeente", "area_level"]]
    row_frames = []
    for kind, ys in years.items():
        kd = data[data["unit_kind"] == kind]
        if kd.empty or not ys:
            continue
        have = kd[["unit_id", "period"]].drop_duplicates()
        for y in ys:
            u = have[(have["period"] <= y) & (have["period"] >= y - spec.max_leeftijd)]["unit_id"].unique()
            row_frames.append(pd.DataFrame({"unit_id": u, "period": y}))
    rows = (pd.concat(row_frames, ignore_index=True) if row_frames
            else pd.DataFrame({"unit_id": pd.Series(dtype=str), "period": pd.Series(dtype="int64")}))
    rows = rows.merge(units, on="unit_id", how="left").sort_values(["unit_kind", "period", "unit_id"],
                                                                   ignore_index=True)
    n = len(rows)
    n_ind = len(pairs)
    raw_vals = np.full((n, n_ind), np.nan)
    used_year = np.zeros((n, n_ind), dtype="int64")
    approx_code = np.full((n, n_ind), -1, dtype="int64")
    # per indicator the most recent value within [year - max_age, year]
    # (units as integer codes: an asof merge by an int key is far cheaper than by a string)
    by_ind = {ind: g for ind, g in data.groupby("indicator", sort=False, observed=True)}
    unit_code = pd.Index(units["unit_id"])
    left = pd.DataFrame({"uc": unit_code.get_indexer(rows["unit_id"]), "period": rows["period"].to_numpy(),
                         "_row": np.arange(n)}).sort_values("period", kind="stable")
    empty = pd.DataFrame({"uc": pd.Series(dtype="int64"), "from_period": pd.Series(dtype="int64"),
                          "value": pd.Series(dtype="float64"), "ac": pd.Series(dtype="int64")})
    for j, ind in enumerate(ind_ids):
        g = by_ind.get(ind)
        d = empty if g is None else pd.DataFrame({
            "uc": unit_code.get_indexer(g["unit_id"]), "from_period": g["period"].to_numpy(),
            "value": g["value"].to_numpy(), "ac": g["_ac"].to_numpy()})
        d = d.sort_values("from_period", kind="stable")
        m = pd.merge_asof(left, d, left_on="period", right_on="from_period", by="uc",
                          tolerance=spec.max_leeftijd, direction="backward")
        hit = m["value"].notna().to_numpy()
        r = m["_row"].to_numpy()[hit]
        raw_vals[r, j] = m["value"].to_numpy()[hit]
        used_year[r, j] = m["from_period"].to_numpy()[hit].astype("int64")
        approx_code[r, j] = m["ac"].to_numpy()[hit].astype("int64")
    # reference distributions of the indicators: base level, reference year, actual values
    is_base = (rows["unit_kind"] == spec.basisniveau).to_numpy()
    ref_rows_out = []
    z = np.full((2, n, n_ind), np.nan)
    alt = "z-score" if spec.normalisatie == "rang-normaal" else "rang-normaal"
    for j, (dom, ind) in enumerate(pairs):
        d = by_ind[ind.id] if ind.id in by_ind else data.iloc[:0]
        d = d[d["unit_kind"] == spec.basisniveau]
        counts = d.groupby("period").size().to_dict()
        ry = ind.basisjaar if ind.basisjaar is not None and ind.basisjaar in counts else \
            reference_year(counts, ind.basisjaar or spec.basisjaar)
        ref = d[d["period"] == ry]["value"].to_numpy("float64") if ry is not None else np.array([])
        sign = 1.0 if ind.worse_is_higher else -1.0
        for k, meth in enumerate((spec.normalisatie, alt)):
            z[k][:, j] = sign * method.normalise(raw_vals[:, j], ref, meth)
        note = "" if ry == (ind.basisjaar or spec.basisjaar) else \
            (f"geen {spec.basisniveau}cijfers voor {ind.basisjaar or spec.basisjaar}; "
             f"dichtstbijzijnde jaar met landelijke dekking" if ry is not None else "geen referentie")
        ref_rows_out.append(dict(index_id=spec.id, index_version=spec.version, kind="indicator",
                                 id=ind.id, domain=dom.id, level=spec.basisniveau, reference_year=ry,
                                 n=len(ref), mean=float(ref.mean()) if len(ref) else None,
                                 sd=float(ref.std(ddof=1)) if len(ref) > 1 else None,
                                 direction=ind.richting, weight=ind.gewicht, note=note))
    dom_of = np.array([spec.domeinen.index(d) for d, _ in pairs])
    design = method.Design(
        z=z, domain=dom_of, ind_weight=np.array([i.gewicht for _, i in pairs], dtype="float64"),
        dom_weight=np.array([d.gewicht for d in spec.domeinen], dtype="float64"),
        minimum=np.array([d.minimum for d in spec.domeinen]), ref_rows=[])
    # domain reference rows: base level, the year nearest the base year with national coverage
    raw0 = np.full((n, len(spec.domeinen)), np.nan)
    for k, d in enumerate(spec.domeinen):
        cols = np.flatnonzero(dom_of == k)
        raw0[:, k] = method.domain_scores(z[0][:, cols], design.ind_weight[cols], d.minimum)
    period = rows["period"].to_numpy()
    dom_ref_years = []
    for k, d in enumerate(spec.domeinen):
        okb = is_base & ~np.isnan(raw0[:, k])
        counts = {int(y): int(c) for y, c in zip(*np.unique(period[okb], return_counts=True))}
        ry = reference_year(counts, spec.basisjaar)
        dom_ref_years.append(ry)
        design.ref_rows.append(np.flatnonzero(okb & (period == ry)) if ry is not None
                               else np.array([], dtype="int64"))
    res = method.compute(design)
    for k, d in enumerate(spec.domeinen):
        ref_rows_out.append(dict(index_id=spec.id, index_version=spec.version, kind="domein",
                                 id=spec.component_id(d.id), domain=d.id, level=spec.basisniveau,
                                 reference_year=dom_ref_years[k], n=len(design.ref_rows[k]),
                                 mean=_f(res.ref_mean[k]), sd=_f(res.ref_sd[k]), direction=None,
                                 weight=spec.domain_weights()[k], note=""))
    # ranks and deciles, per component
    kind = rows["unit_kind"].to_numpy()
    is_area = kind == "area"
    # group ids numbered in order of first appearance (as pd.factorize of the joined keys)
    kc = _codes(rows["unit_kind"])
    pc = _codes(rows["period"])
    gc = _codes(rows["gemeente"].fillna("?"))
    prc = _codes(rows["programme"].fillna("?"))
    g_nl = _combined_codes([kc, pc], ~is_area)
    g_gem = _combined_codes([kc, pc, gc], (kind == "buurt") | (kind == "wijk"))
    g_prog = _combined_codes([prc, pc], is_area)
    area_level = rows["area_level"].fillna("").to_numpy(dtype=object)
    placing = _area_placing(kind, period, area_level)
    used_txt_raw = _used_text(ind_ids, used_year, raw_vals)
    approx_txt = _component_approximations(ind_ids, dom_of, approx_code, list(ap_texts), res,
                                           len(spec.domeinen))
    comps = [(None, res.index, None)] + [(d, res.x[:, k], res.raw[:, k]) for k, d in enumerate(spec.domeinen)]
    cols: dict[str, list] = {}

    def add(name, arr):
        cols.setdefault(name, []).append(arr)

    for dom, score, raw in comps:
        r_nl, n_nl = method.ranks(score, g_nl)
        r_gem, n_gem = method.ranks(score, g_gem)
        r_prog, n_prog = method.ranks(score, g_prog)
        # areas: place among the regions of their level and year (rank among them, for the decile)
        r_nl, n_nl = _place_areas(score, r_nl, n_nl, placing)
        add("value", score)
        add("raw", raw if raw is not None else np.full(n, np.nan))
        add("status", np.isnan(score))
        add("decile", method.deciles(r_nl, n_nl))
        for c, v in (("rank_nl", r_nl), ("n_nl", n_nl), ("rank_gemeente", r_gem), ("n_gemeente", n_gem),
                     ("rank_programme", r_prog), ("n_programme", n_prog)):
            add(c, v)
        lo_hi = {c: np.zeros(n, dtype="int64") for c in ("rank_nl_low", "rank_nl_high", "rank_gemeente_low",
                                                         "rank_gemeente_high", "rank_programme_low",
                                                         "rank_programme_high")}
        if dom is None:
            add("reason", _index_reasons(spec, res.raw))
            add("approximation", approx_txt[0])
            add("domains_available", _domains_available(spec, res.raw))
            targets = np.flatnonzero(~np.isnan(res.index))
            if len(targets) and draws > 0:
                groups = {"nl": g_nl[targets], "gemeente": g_gem[targets], "programme": g_prog[targets]}
                point = {"nl": np.where(is_area[targets], 0, r_nl[targets]), "gemeente": r_gem[targets],
                         "programme": r_prog[targets]}
                mc = method.monte_carlo(design, targets, groups, draws=draws, seed=seed, point_ranks=point,
                                        nested={"gemeente": "nl"})
                for name, rank in (("nl", r_nl), ("gemeente", r_gem), ("programme", r_prog)):
                    ranked = rank[targets] > 0
                    if name == "nl":
                        ranked &= ~is_area[targets]
                    lo_hi[f"rank_{name}_low"][targets] = np.where(ranked, mc.low[name], 0)
                    lo_hi[f"rank_{name}_high"][targets] = np.where(ranked, mc.high[name], 0)
        else:
            k = spec.domeinen.index(dom)
            add("reason", _domain_reasons(spec, dom, k, dom_of, raw_vals, ind_ids))
            add("approximation", approx_txt[k + 1])
            add("domains_available", np.full(n, None, dtype=object))
        for c, v in lo_hi.items():
            add(c, v)
    m = len(comps)
    unit_codes, unit_cats = pd.factorize(rows["unit_id"])
    gem_codes, gem_cats = pd.factorize(rows["gemeente"], use_na_sentinel=True)
    prog_codes, prog_cats = pd.factorize(rows["programme"], use_na_sentinel=True)
    kind_codes, kind_cats = pd.factorize(pd.Series(kind))
    comp_ids = [spec.component_id(d.id if d else None) for d, _, _ in comps]
    dom_ids = [d.id for d, _, _ in comps if d is not None]
    rep = np.tile  # the unit columns repeat once per component
    out = pd.DataFrame(dict(
        index_id=pd.Categorical.from_codes(np.zeros(n * m, dtype="int8"), [spec.id]),
        index_version=pd.Categorical.from_codes(np.zeros(n * m, dtype="int8"), [spec.version]),
        component=pd.Categorical.from_codes(np.repeat(np.arange(m), n), comp_ids),
        domain=pd.Categorical.from_codes(np.repeat(np.arange(m) - 1, n), dom_ids),
        unit_id=pd.Categorical.from_codes(rep(unit_codes, m), unit_cats),
        unit_kind=pd.Categorical.from_codes(rep(kind_codes, m), kind_cats),
        programme=pd.Categorical.from_codes(rep(prog_codes, m), prog_cats),
        gemeente=pd.Categorical.from_codes(rep(gem_codes, m), gem_cats),
        period=rep(period, m),
        value=np.concatenate(cols["value"]),
        raw=np.concatenate(cols["raw"]),
        status=pd.Categorical.from_codes(np.concatenate(cols["status"]).astype("int8"), [STATUS_OK, STATUS_MISSING]),
    ))
    for c in ("decile", "rank_nl", "n_nl", "rank_nl_low", "rank_nl_high", "rank_gemeente", "n_gemeente",
              "rank_gemeente_low", "rank_gemeente_high", "rank_programme", "n_programme",
              "rank_programme_low", "rank_programme_high"):
        out[c] = _nullable(np.concatenate(cols[c]))
    for c in ("reason", "domains_available", "approximation"):
        codes, cats = pd.factorize(np.concatenate(cols[c]), use_na_sentinel=True)
        out[c] = pd.Categorical.from_codes(codes, cats)
    ucodes, ucats = pd.factorize(used_txt_raw, use_na_sentinel=True)
    out["indicators_used"] = pd.Categorical.from_codes(rep(ucodes, m), ucats)
    return out, pd.DataFrame(ref_rows_out)


def _f(x) -> float | None:
    x = float(x)
    return None if x != x else x


def _codes(s: pd.Series) -> np.ndarray:
    """Group ids (``-1`` for missing)."""
    c, _ = pd.factorize(s, use_na_sentinel=True)
    return c.astype("int64")


def _combined_codes(parts: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
    """Group ids of the combination of several code columns (``-1`` outside ``mask``),
    numbered in order of first appearance."""
    key = np.zeros(len(mask), dtype="int64")
    for p in parts:
        key = key * (int(p.max()) + 2 if len(p) else 1) + (p + 1)
    out, _ = pd.factorize(key[mask])
    full = np.full(len(mask), -1, dtype="int64")
    full[mask] = out
    return full


def _nullable(a: np.ndarray):
    """Positive ints, NULL for 0 (no rank)."""
    a = np.asarray(a, dtype="int64")
    return pd.arrays.IntegerArray(a.copy(), a <= 0)


def _area_placing(kind, period, area_level) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per area level and year: the area rows and the rows of the regions of that level and
    year (computed once for every component)."""
    areas = np.flatnonzero(kind == "area")
    out = []
    if not len(areas):
        return out
    keys = pd.DataFrame({"lvl": area_level[areas], "period": period[areas], "i": areas})
    for (lvl, per), grp in keys.groupby(["lvl", "period"]):
        if not lvl:
            continue
        regions = np.flatnonzero((kind == lvl) & (period == per))
        out.append((grp["i"].to_numpy(), regions))
    return out


def _place_areas(score, r_nl, n_nl, placing):
    """An area's NL rank: 1 + the regions of its level and year with a higher score, among
    those regions (so its decile says where it would stand among them)."""
    r_nl = r_nl.copy()
    n_nl = n_nl.copy()
    for i, regions in placing:
        ref = score[regions]
        ref = np.sort(ref[~np.isnan(ref)])
        i = i[~np.isnan(score[i])]
        if not len(ref) or not len(i):
            continue
        higher = len(ref) - np.searchsorted(ref, score[i], side="right")
        r_nl[i] = 1 + higher
        n_nl[i] = len(ref)
    return r_nl, n_nl


def _row_codes(m: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a small non-negative int matrix (each value < 2**bits) and the row
    number of each distinct row: encoded as one int64 per row (a 1-D unique, far cheaper
    than ``np.unique(axis=0)``)."""
    m = np.asarray(m, dtype="int64")
    code = np.zeros(len(m), dtype="int64")
    for j in range(m.shape[1]):
        code = (code << bits) | m[:, j]
    uniq, first, inv = np.unique(code, return_index=True, return_inverse=True)
    return m[first], inv.reshape(-1)


def _by_pattern(avail: np.ndarray, text) -> np.ndarray:
    """``text(pattern)`` for each row's availability pattern (a tuple of booleans), computed
    once per distinct pattern."""
    if not len(avail):
        return np.array([], dtype=object)
    pats, inv = _row_codes(avail, 1)
    texts = np.array([text(tuple(bool(x) for x in p)) for p in pats], dtype=object)
    return texts[inv]


def _used_text(ind_ids, used_year, raw_vals) -> np.ndarray:
    """``indicator:year;...`` of the values each row used (built once per distinct combination)."""
    if not len(used_year):
        return np.array([], dtype=object)
    # years as offsets from 1900 (7 bits each; at most 9 indicators per 63-bit code, else by pandas)
    key = np.where(np.isnan(raw_vals), 0, used_year - 1900 + 1).clip(0, 127)
    if key.shape[1] <= 9:
        combos, inv = _row_codes(key, 7)
    else:
        combos, inv = np.unique(key, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
    texts = np.array([";".join(f"{ind}:{y + 1900 - 1}" for ind, y in zip(ind_ids, row) if y) or None
                      for row in combos], dtype=object)
    return texts[inv]


def _component_approximations(ind_ids, dom_of, approx_code, texts, res, n_dom) -> list[np.ndarray]:
    """Per component (the index, then each domain) and row: which of the inputs its value used
    are approximations (:func:`approximation_words`), None where none is or the component has no
    value. A domain uses its own indicators; the index the indicators of all its domains."""
    n = len(approx_code)
    none = np.full(n, None, dtype=object)
    if not texts or not (approx_code >= 0).any():
        return [none] * (n_dom + 1)
    has_dom = ~np.isnan(res.x)  # (n, n_dom)
    out = []
    codes = np.where(has_dom[:, dom_of], approx_code, -1)
    codes[np.isnan(res.index)] = -1
    out.append(_approx_by_row(ind_ids, codes, texts))
    for k in range(n_dom):
        cols = np.flatnonzero(dom_of == k)
        codes = approx_code[:, cols].copy()
        codes[~has_dom[:, k]] = -1
        out.append(_approx_by_row([ind_ids[c] for c in cols], codes, texts))
    return out


def _approx_by_row(ind_ids, codes, texts) -> np.ndarray:
    """:func:`approximation_words` per row of a matrix of approximation codes (-1: exact),
    built once per distinct combination."""
    if not len(codes) or not codes.shape[1]:
        return np.full(len(codes), None, dtype=object)
    bits = max(1, int(codes.max() + 1).bit_length())
    if codes.shape[1] * bits <= 62:
        combos, inv = _row_codes(codes + 1, bits)
    else:
        combos, inv = np.unique(codes + 1, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
    words = np.array([approximation_words({i: texts[c - 1] for i, c in zip(ind_ids, row) if c > 0})
                      for row in combos], dtype=object)
    return words[inv]


def approximation_words(clauses: dict[str, str]) -> str | None:
    """One text for the approximated inputs of a value, from each indicator's approximation
    clause (:func:`wijkmonitor.uncertainty.approximation_text`), indicators with the same clause
    together: ``{woz_gemiddeld: 'benadering: gewogen met huishoudens, ...', koopwoningen_pct:
    (the same)}`` -> ``benadering: woz_gemiddeld, koopwoningen_pct gewogen met huishoudens, ...``.
    None: no approximated input."""
    if not clauses:
        return None
    prefix = f"{APPROXIMATION}: "
    groups: dict[str, list[str]] = {}
    for ind, clause in clauses.items():
        groups.setdefault(clause, []).append(ind)
    parts = [f"{', '.join(inds)} {clause[len(prefix):]}" if clause.startswith(prefix)
             else f"{', '.join(inds)} ({clause})" for clause, inds in groups.items()]
    return prefix + "; ".join(parts)


def _domain_reasons(spec, dom, k, dom_of, raw_vals, ind_ids) -> np.ndarray:
    cols = np.flatnonzero(dom_of == k)

    def text(pat):
        have = sum(pat)
        if have >= dom.minimum:
            return None
        missing = [ind_ids[c] for c, h in zip(cols, pat) if not h]
        return (f"te weinig indicatoren: {have} van minimaal {dom.minimum} "
                f"(ontbreekt: {', '.join(missing)})")
    return _by_pattern(~np.isnan(raw_vals[:, cols]), text)


def _index_reasons(spec, raw) -> np.ndarray:
    def text(pat):
        miss = [d.naam for d, h in zip(spec.domeinen, pat) if not h]
        return f"geen score voor domein {', '.join(miss)} (te weinig indicatoren)" if miss else None
    return _by_pattern(~np.isnan(raw), text)


def _domains_available(spec, raw) -> np.ndarray:
    return _by_pattern(~np.isnan(raw), lambda pat: ",".join(
        d.id for d, h in zip(spec.domeinen, pat) if h))
