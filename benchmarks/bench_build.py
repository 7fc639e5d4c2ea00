"""Cold build at national scale: wijkmonitor (DuckDB) against a straightforward pandas version.

Run ``python benchmarks/bench_build.py`` (no arguments needed; ``--help`` lists options).

What it does
------------
1. Takes the REAL 2024 region list (Land, 342 gemeenten, 3,393 wijken, 14,574 buurten: 18,310
   codes) and the real 2024 population per region from the CBS StatLine export in
   ``cbs-kwb/`` (through the ``kwb_statline_csv`` adapter).
2. Generates SYNTHETIC observations (used only here, never in the product or its tests):
   12 periods (2013-2024) x every region x 100 variables, seed ``20241``. The variables are all
   variables the catalogue's formulas use, topped up with other declared variables from
   ``variables.yaml``. Magnitudes are plausible (counts scale with the region's real
   population, percentages 0-100, WOZ 100-900 thousand euro ...); about 2 % of values are
   ``geheim`` and 1 % ``ontbreekt`` (value NaN). A second, lower-precedence synthetic "city"
   source republishes the catalogue's variables for the four largest gemeenten with slightly
   different values, so source precedence matters. Everything is written once to a Parquet
   file in a temporary directory (the "source files"); generating it is not timed.
3. Times, each in a fresh process (median of ``--runs``, default 3; the pandas baseline
   ``--pandas-runs``, default 1, as it takes minutes):

   a. wijkmonitor: a new store through :func:`wijkmonitor.store.writing` (sources rows, the
      Parquet file's batches, read with dictionary-encoded string columns, streamed into
      :func:`wijkmonitor.store.append_observations`), then :func:`wijkmonitor.compute.compute`,
      up to and including the atomic replace of the store file;
   b. pandas: the same computation written plainly in pandas (read the Parquet file, keep the
      best source per region/period/variable, evaluate every catalogue formula, keep the first
      formula with a value).

   It checks both give the same rows per status and the same values (relative tolerance 1e-9)
   and prints ``results_equal: yes/no``, the times, peak memory, the ratios and
   ``target_met: yes/no`` for the issue's target (cold build < 10 s, peak < 1.5 GB).
   Exit status is non-zero when the results differ.

If the wijkmonitor build misses the target (or with ``--profile``) one more process times
each ``execute`` of ``compute`` and prints them (the writes of ``indicator_data`` run in a
worker thread beside the numpy evaluation, and the streamed read of the observations and the
numpy steps are not in that list: they are the rest of the compute time). Each run prints its
CPU time and the load average before it: other work on the two cores inflates wall times.
Peak memory is each child's own ``VmHWM`` (see ``_util.self_peak_rss``).

The "cold build" time is measured inside the child from before the catalogue is loaded to
after the store file is replaced; the whole-process wall time (interpreter start and imports
included) is printed beside it. The Parquet file is in the page cache.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import _util

SEED = 20241
YEARS = tuple(range(2013, 2025))
N_VARIABLES = 100
SECRET_SHARE = 0.02
MISSING_SHARE = 0.01
CITY_GEMEENTEN = ("GM0363", "GM0599", "GM0344", "GM0518")  # Amsterdam, Rotterdam, Utrecht, Den Haag
TARGET_SECONDS = 10.0
TARGET_PEAK = 1.5 * 1024 ** 3
RUNS = 3
PANDAS_RUNS = 1
REL_TOL = 1e-9

#: The synthetic sources: (source_id, adapter, rank). The city source's id sorts before the
#: national one, so a wrong tie-break (by id instead of rank) would show in the comparison.
SOURCES = (
    ("synthetic-kwb", "synthetic_national", 0),
    ("synthetic-city", "synthetic_city", 1),
)
KEYS = ["region_code", "geo_year", "period"]

# Share of the population for the catalogue's counts (others: drawn per variable).
COUNT_SHARES = {
    "a_inw": 1.0, "a_man": 0.495, "a_vrouw": 0.505, "a_00_14": 0.155, "a_15_24": 0.12,
    "a_25_44": 0.25, "a_45_64": 0.27, "a_65_oo": 0.205, "a_hh": 0.46, "a_woning": 0.47,
    "a_neu_al": 0.14, "a_nl_all": 0.74, "a_eur_al": 0.12, "a_opl_lg": 0.2, "a_opl_md": 0.27,
    "a_opl_hg": 0.25, "a_soz_wb": 0.025, "a_soz_ao": 0.045, "a_soz_ww": 0.012,
    "misdrijven_totaal": 0.045, "misdrijven_totaal_politie": 0.045,
}
# Centres for the catalogue's percentages (others: drawn per variable).
PCT_CENTRES = {
    "p_00_14": 15.5, "p_65_oo": 20.5, "p_koopw": 57.0, "p_huurw": 42.0, "p_wcorpw": 29.0,
    "p_leegsw": 4.0, "p_1gezw": 63.0, "p_hh_li": 40.0, "p_hh_osm": 8.0, "p_jz_tn": 10.0,
}
# Ranges for means, by variable (exact) or unit; value drawn log-uniformly per region.
MEAN_RANGES = {
    "g_wozbag": (100.0, 900.0), "g_ink_pi": (18.0, 60.0), "g_ink_po": (25.0, 80.0),
    "m_hh_ver": (5.0, 600.0), "g_hh_ver": (20.0, 900.0), "g_hhgro": (1.4, 3.4),
}
UNIT_RANGES = {
    "x 1 000 euro": (15.0, 90.0), "per 1 000 inwoners": (1.0, 150.0), "kWh": (1500.0, 5500.0),
    "m3": (400.0, 2500.0), "km": (0.2, 12.0), "personen": (1.4, 3.4),
    "inwoners per km2": (20.0, 25000.0), "per huishouden": (0.3, 1.8),
}


# ---------------------------------------------------------------------------------------
# Synthetic source files (not timed)
# ---------------------------------------------------------------------------------------

def real_regions(data_dir: Path) -> pd.DataFrame:
    """The real 2024 region list with level, gemeente and population (``a_inw``).

    Read through the ``kwb_statline_csv`` adapter; columns ``code, level, gemeente_code,
    population``.
    """
    from wijkmonitor.sources import kwb_statline_csv

    results = kwb_statline_csv.read(data_dir)
    main = next(r for r in results if r.regions is not None and (r.regions["year"] == 2024).any())
    regions = main.regions[main.regions["year"] == 2024][["code", "level", "gemeente_code"]]
    obs = main.observations
    pop = obs[(obs["variable"] == "a_inw") & (obs["period"] == 2024) & (obs["status"] == "ok")]
    regions = regions.merge(pop[["region_code", "value"]].rename(
        columns={"region_code": "code", "value": "population"}), on="code", how="left")
    if regions["code"].duplicated().any() or len(regions) < 18_000:
        raise RuntimeError(f"unexpected 2024 region list: {len(regions)} rows")
    regions["population"] = regions["population"].fillna(0.0)
    return regions.reset_index(drop=True)


def choose_variables() -> tuple[list[str], list[str]]:
    """All variables the catalogue's formulas use, plus declared ones up to N_VARIABLES."""
    from wijkmonitor.catalogue import load_catalogue
    from wijkmonitor.compute import formula_tables
    from wijkmonitor.sources.base import variables

    _, terms = formula_tables(load_catalogue())
    needed = list(dict.fromkeys(terms["variable"]))
    topup = [v for v in variables() if v not in needed][:max(0, N_VARIABLES - len(needed))]
    return needed, topup


def _values(rng: np.random.Generator, name: str, spec: dict, pop: np.ndarray,
            level_noise: np.ndarray) -> np.ndarray:
    """Plausible values for one variable on the (period x region) grid."""
    shape = pop.shape
    kind, unit = spec.get("kind"), spec.get("unit", "")
    if name == "a_inw":
        return np.round(pop)
    if kind == "count":
        share = COUNT_SHARES.get(name, rng.uniform(0.01, 0.5))
        region = rng.lognormal(0.0, 0.25, shape[1])
        return np.round(pop * share * region * rng.lognormal(0.0, 0.03, shape))
    if kind in ("percentage", "estimate"):
        centre = PCT_CENTRES.get(name, rng.uniform(5.0, 60.0))
        region = rng.normal(0.0, 0.3 * centre, shape[1])
        noise = rng.normal(0.0, 0.05 * centre, shape) * level_noise
        return np.round(np.clip(centre + region + noise, 0.0, 100.0), 1)
    if kind == "mean":
        lo, hi = MEAN_RANGES.get(name) or UNIT_RANGES.get(unit, (1.0, 100.0))
        region = np.exp(rng.uniform(np.log(lo), np.log(hi), shape[1]))
        return np.round(np.clip(region * rng.lognormal(0.0, 0.03, shape), lo, hi), 1)
    if kind == "score":
        if name == "lbm_klasse":
            return rng.integers(1, 10, shape[1]).astype(float) * np.ones(shape)
        if name == "ste_mvs":
            return rng.integers(1, 6, shape[1]).astype(float) * np.ones(shape)
        return np.round(rng.normal(0.0, 0.15, shape[1]) + rng.normal(0.0, 0.02, shape), 3)
    raise ValueError(f"variable {name!r}: unknown kind {kind!r}")


def make_source_files(directory: Path, data_dir: Path) -> dict:
    """Write the synthetic observations to ``directory/observations.parquet``.

    Returns a summary (path, row counts, variables, regions) for the report.
    """
    from wijkmonitor.sources.base import variables

    rng = np.random.default_rng(SEED)
    regions = real_regions(data_dir)
    needed, topup = choose_variables()
    names = needed + topup
    declared = variables()
    n_reg, n_per = len(regions), len(YEARS)
    years = np.asarray(YEARS)
    # population per period: the real 2024 figure, a mild trend back in time and some noise
    trend = 1.0 - 0.004 * (2024 - years)
    pop = regions["population"].to_numpy()[None, :] * trend[:, None] * rng.lognormal(0.0, 0.01, (n_per, n_reg))
    level_noise = regions["level"].map({"land": 0.1, "gemeente": 0.4, "wijk": 0.8, "buurt": 1.0}
                                       ).to_numpy(dtype=float)[None, :]

    region_idx = np.tile(np.arange(n_reg, dtype=np.int32), n_per)
    period_col = np.repeat(years.astype(np.int32), n_reg)
    status_cats = ["ok", "geheim", "ontbreekt"]
    vals, stats, var_idx = [], [], []
    for vi, name in enumerate(names):
        v = _values(rng, name, declared[name], pop, level_noise)
        u = rng.random(v.shape)
        st = np.zeros(v.shape, dtype=np.int8)
        st[u < SECRET_SHARE] = 1
        st[(u >= SECRET_SHARE) & (u < SECRET_SHARE + MISSING_SHARE)] = 2
        v = np.where(st == 0, v, np.nan)
        vals.append(v.reshape(-1))
        stats.append(st.reshape(-1))
        var_idx.append(np.full(v.size, vi, dtype=np.int16))
    n_main = n_per * n_reg * len(names)
    # Lay out like an ingest of yearly tables: period, then variable, then region.
    order = (np.arange(n_main).reshape(len(names), n_per, n_reg).transpose(1, 0, 2).reshape(-1))
    value = np.concatenate(vals)[order]
    status = np.concatenate(stats)[order]
    variable = np.concatenate(var_idx)[order]
    del vals, stats, var_idx
    region = np.tile(region_idx.reshape(n_per, n_reg), (1, len(names))).reshape(-1)
    period = np.repeat(years.astype(np.int32), n_reg * len(names))
    source = np.zeros(n_main, dtype=np.int8)

    # The city source: the catalogue's variables for the four largest gemeenten, with values
    # off by up to 3 % and the same suppression; a lower precedence (rank 1) than the
    # national source, so it never wins here, but a wrong precedence rule would show.
    in_city = regions["gemeente_code"].isin(CITY_GEMEENTEN).to_numpy()
    main_rows = np.flatnonzero(np.isin(variable, np.arange(len(needed))) & in_city[region])
    # a re-publication of CBS figures keeps CBS's suppression: same status, value NaN
    kinds = np.array([declared[n].get("kind") for n in names])[variable[main_rows]]
    base = value[main_rows]
    city_value = np.round(base * rng.uniform(0.97, 1.03, main_rows.size), 1)
    city_value = np.where(np.isin(kinds, ["percentage", "estimate"]),
                          np.clip(city_value, 0.0, 100.0), city_value)
    city_value = np.where(kinds == "score", base, city_value)
    frame = pd.DataFrame({
        "region_code": pd.Categorical.from_codes(np.concatenate([region, region[main_rows]]),
                                                 categories=regions["code"].tolist()),
        "geo_year": np.concatenate([period, period[main_rows]]),
        "period": np.concatenate([period, period[main_rows]]),
        "variable": pd.Categorical.from_codes(np.concatenate([variable, variable[main_rows]]),
                                              categories=names),
        "value": np.concatenate([value, city_value]),
        "status": pd.Categorical.from_codes(np.concatenate([status, status[main_rows]]),
                                            categories=status_cats),
        "source_id": pd.Categorical.from_codes(np.concatenate([source, np.ones(main_rows.size, np.int8)]),
                                               categories=[s[0] for s in SOURCES]),
    })
    path = directory / "observations.parquet"
    frame.to_parquet(path, index=False, row_group_size=1_000_000)
    counts = frame["status"].value_counts().to_dict()
    return dict(path=path, rows=len(frame), rows_national=n_main, rows_city=int(main_rows.size),
                regions=n_reg, levels=regions["level"].value_counts().to_dict(),
                variables=len(names), catalogue_variables=len(needed), periods=n_per,
                status_counts={k: int(v) for k, v in counts.items()},
                bytes=path.stat().st_size)


def cached_source_files(directory: Path, data_dir: Path) -> dict:
    """:func:`make_source_files`, reused from ``directory`` when it was made there before with
    the same generator (``--workdir``; this file's hash and the catalogue's version decide)."""
    import hashlib
    import json

    from wijkmonitor.catalogue import load_catalogue

    stamp = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16] + "-" + load_catalogue().version
    info_path = directory / "observations.json"
    if info_path.exists() and (directory / "observations.parquet").exists():
        info = json.loads(info_path.read_text())
        if info.get("stamp") == stamp:
            info["path"] = directory / "observations.parquet"
            info["reused"] = True
            return info
    info = make_source_files(directory, data_dir)
    info_path.write_text(json.dumps({**info, "path": str(info["path"]), "stamp": stamp}))
    return info


# ---------------------------------------------------------------------------------------
# Child (a): wijkmonitor
# ---------------------------------------------------------------------------------------

class _TimedConnection:
    """Wraps a DuckDB connection and times every ``execute`` (for ``--profile``)."""

    def __init__(self, con):
        self._con = con
        self.steps: list[tuple[str, float, int]] = []

    def execute(self, sql, *args, **kwargs):
        start = time.perf_counter()
        result = self._con.execute(sql, *args, **kwargs)
        label = " ".join(str(sql).split())[:70]
        self.steps.append((label, time.perf_counter() - start, _util.self_peak_rss()))
        return result

    def __getattr__(self, name):
        return getattr(self._con, name)


def child_wijkmonitor(parquet: Path, store_path: Path, profile: bool) -> None:
    import pyarrow.parquet as pq

    from wijkmonitor import store
    from wijkmonitor.sources import OBS_COLUMNS
    from wijkmonitor.catalogue import load_catalogue
    from wijkmonitor.compute import compute

    start = time.perf_counter()
    catalogue = load_catalogue()
    with store.writing(store_path) as con:
        for source_id, adapter, rank in SOURCES:
            con.execute("INSERT INTO sources VALUES (?,?,?,?,?,?,?,?,?,?)",
                        [source_id, "SYNTHETIC", "Synthetische waarnemingen (benchmark)",
                         "benchmark", "-", str(parquet), "2024-01-01", adapter,
                         "synthetic, benchmark only", rank])
        # the source file's string columns come as Arrow dictionaries, which the store turns
        # into its integer codes without a string look-up per row; its row groups stream into
        # one INSERT
        source = pq.ParquetFile(parquet, read_dictionary=["region_code", "variable", "status", "source_id"])
        store.append_observations(con, (source.read_row_group(i, columns=OBS_COLUMNS)
                                        for i in range(source.num_row_groups)))
        loaded = time.perf_counter()
        timed = _TimedConnection(con) if profile else con
        rows = compute(timed, catalogue)
        computed = time.perf_counter()
    done = time.perf_counter()
    _util.report(seconds=done - start, load_s=loaded - start, compute_s=computed - loaded,
                 commit_s=done - computed, rows=rows, peak_rss=_util.self_peak_rss(),
                 steps=timed.steps if profile else [])


# ---------------------------------------------------------------------------------------
# Child (b): the same computation in plain pandas
# ---------------------------------------------------------------------------------------

def _term_aggregate(parts: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Sum, number ok, any secret and first source id of one term's variables per key."""
    rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    rows = rows.assign(ok=rows["status"] == "ok", sec=rows["status"] == "geheim")
    agg = rows.groupby(keys, observed=True, sort=False).agg(
        s=("value", "sum"), nn=("value", "count"), ok=("ok", "sum"), sec=("sec", "any"),
        src=("source_id", "min"))
    agg["s"] = agg["s"].where(agg["nn"] > 0)  # SQL: the sum of only NULLs is NULL
    return agg.drop(columns="nn")


def pandas_build(parquet: Path) -> pd.DataFrame:
    """indicator values with the rules of :mod:`wijkmonitor.compute`, in plain pandas."""
    from wijkmonitor.catalogue import load_catalogue
    from wijkmonitor.compute import formula_tables

    catalogue = load_catalogue()
    formulas, terms = formula_tables(catalogue)
    obs = pd.read_parquet(parquet)
    obs = obs[obs["variable"].isin(terms["variable"].unique())]
    ids = sorted(obs["source_id"].astype(str).unique())
    obs["source_id"] = obs["source_id"].cat.set_categories(ids, ordered=True)
    srcs = pd.DataFrame(SOURCES, columns=["source_id", "adapter", "rank"])
    obs = obs.assign(rank=obs["source_id"].map(dict(zip(srcs.source_id, srcs["rank"]))).astype(int),
                     adapter=obs["source_id"].map(dict(zip(srcs.source_id, srcs.adapter))).astype(str))

    by_adapter: dict = {}

    def best_for(adapter) -> dict[str, pd.DataFrame]:
        """Best observation per region/division/period/variable, split by variable."""
        if adapter not in by_adapter:
            rows = obs if adapter is None else obs[obs["adapter"] == adapter]
            best = (rows.sort_values(["rank", "source_id"], kind="stable")
                    .drop_duplicates(["region_code", "geo_year", "period", "variable"]))
            by_adapter[adapter] = {str(v): g.drop(columns=["variable", "rank", "adapter"])
                                   for v, g in best.groupby("variable", observed=True)}
        return by_adapter[adapter]

    empty = obs.iloc[:0].drop(columns=["variable", "rank", "adapter"])
    terms_of = {fid: g for fid, g in terms.groupby("formula_id")}
    out = []
    for f in formulas.itertuples(index=False):
        by_var = best_for(f.adapter if isinstance(f.adapter, str) else None)
        t = terms_of[f.formula_id]
        aggs = {}
        for term in ("value", "base", "num", "den"):
            names = t.loc[t["term"] == term, "variable"].tolist()
            if not names:
                continue
            frames = [by_var.get(v, empty) for v in names]
            frames = [g[(g["period"] >= f.y0) & (g["period"] <= f.y1)] for g in frames]
            aggs[term] = _term_aggregate(frames, KEYS).add_prefix(term + "_")
        parts = pd.concat(list(aggs.values()), axis=1, join="outer").reset_index()
        if parts.empty:
            continue
        for term in ("value", "base", "num", "den"):
            if term not in aggs:
                parts[[f"{term}_s", f"{term}_ok", f"{term}_sec", f"{term}_src"]] = [np.nan, 0, False, None]
            parts[f"{term}_ok"] = parts[f"{term}_ok"].fillna(0)
            parts[f"{term}_sec"] = parts[f"{term}_sec"].fillna(False).astype(bool)

        # weights: per region and period (summed over divisions), nearest period in the window
        # (ratios with a denominator window: the denominator the same way)
        w_names = t.loc[t["term"] == "weight", "variable"].tolist()
        window = f.weight_window
        if f.mode == "ratio" and f.denominator_window > 0:
            w_names, window = t.loc[t["term"] == "den", "variable"].tolist(), f.denominator_window
        parts["w"], parts["w_ok"], parts["w_sec"] = np.nan, np.nan, np.nan
        parts["w_src"], parts["w_period"] = None, np.nan
        if w_names:
            w = _term_aggregate([by_var.get(v, empty) for v in w_names], ["region_code", "period"])
            w = w.reset_index().rename(columns={"period": "w_period", "s": "w", "ok": "w_ok",
                                                "sec": "w_sec", "src": "w_src"})
            cand = parts[KEYS].merge(w, on="region_code")
            diff = (cand["w_period"] - cand["period"]).abs()
            cand = cand[diff <= window].assign(diff=diff)
            cand = (cand.sort_values(KEYS + ["diff", "w_period"], ascending=[True] * 4 + [False])
                    .drop_duplicates(KEYS).drop(columns="diff"))
            parts = parts.drop(columns=["w", "w_ok", "w_sec", "w_src", "w_period"]).merge(
                cand, on=KEYS, how="left")
        out.append(_evaluate(parts, f))

    values = pd.concat(out, ignore_index=True)
    values["not_ok"] = values["status"] != "ok"
    values = (values.sort_values(["not_ok", "formula"], kind="stable")
              .drop_duplicates(["indicator"] + KEYS)
              .drop(columns="not_ok")
              .sort_values(["indicator", "period", "region_code"]))
    values["catalogue_version"] = catalogue.version
    return values.reset_index(drop=True)


def _evaluate(p: pd.DataFrame, f) -> pd.DataFrame:
    """Status, value, numerator and denominator of one formula (compute.py's CASE rules)."""
    ratio, pct, weighted = f.mode == "ratio", f.mode == "percentage", f.mode == "weighted"
    windowed = ratio and f.denominator_window > 0
    if windowed:
        main_ok, main_sec = p["num_ok"] == f.n_num, p["num_sec"]
        base = p["w"]
        base_ok = (p["w_ok"] == f.n_den) & p["w"].notna()
        base_sec = p["w_sec"].fillna(False).astype(bool)
    elif ratio:
        main_ok, main_sec = p["num_ok"] == f.n_num, p["num_sec"]
        base, base_ok, base_sec = p["den_s"], (p["den_ok"] == f.n_den) & p["den_s"].notna(), p["den_sec"]
    else:
        main_ok, main_sec = p["value_ok"] == f.n_value, p["value_sec"]
        if pct:
            base, base_ok, base_sec = p["base_s"], (p["base_ok"] == f.n_base) & p["base_s"].notna(), p["base_sec"]
        elif weighted:
            base = p["w"]
            base_ok = (p["w_ok"] == f.n_weight) & p["w"].notna()
            base_sec = p["w_sec"].fillna(False).astype(bool)
        else:
            base = pd.Series(np.nan, index=p.index)
            base_ok = base_sec = pd.Series(False, index=p.index)
    status = np.select(
        [main_sec | base_sec, ~main_ok, ratio & ~base_ok, base_ok & (base < f.min_base),
         ratio & (base == 0)],
        ["geheim", "niet beschikbaar", "niet beschikbaar", "te weinig waarnemingen",
         "niet beschikbaar"], default="ok")
    ok = status == "ok"
    v, n = p["value_s"], p["num_s"]
    value = np.where(ok, f.scale * n / base if ratio else v, np.nan)
    if ratio:
        numerator = n
    elif pct:
        numerator = (v * base / f.per).where(base_ok)
    elif weighted:
        numerator = (v * base).where(base_ok)
    elif f.n_base == 0 and f.n_weight == 0:
        numerator = v
    else:
        numerator = pd.Series(np.nan, index=p.index)
    src = p["value_src"] if not ratio else p["num_src"]
    base_src = p["w_src"] if weighted or windowed else (p["den_src"] if ratio else p["base_src"])
    return pd.DataFrame({
        "indicator": f.indicator, "region_code": p["region_code"].astype(str),
        "geo_year": p["geo_year"], "period": p["period"],
        "value": value, "numerator": np.where(ok, numerator, np.nan),
        "denominator": base.where(base_ok), "status": status, "estimate": bool(f.estimate),
        "source_id": src.astype(object), "base_source_id": base_src.astype(object),
        "base_period": p["w_period"].where(base_ok) if weighted or windowed else np.nan,
        "formula": f.priority,
    })


def child_pandas(parquet: Path, save: Path | None) -> None:
    start = time.perf_counter()
    values = pandas_build(parquet)
    seconds = time.perf_counter() - start
    peak = _util.self_peak_rss()
    if save:
        values.to_parquet(save, index=False)
    _util.report(seconds=seconds, rows=len(values), peak_rss=peak)


# ---------------------------------------------------------------------------------------
# Comparison and report
# ---------------------------------------------------------------------------------------

def compare(store_path: Path, pandas_result: Path) -> dict:
    """Rows per status and values of both results (relative tolerance :data:`REL_TOL`)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{store_path}' AS w (READ_ONLY)")
    con.execute(f"CREATE VIEW p AS SELECT * FROM read_parquet('{pandas_result}')")
    per_status = con.execute("""
        SELECT status, w.n AS wijkmonitor, p.n AS pandas
        FROM (SELECT status, count(*) n FROM w.indicator_values GROUP BY status) w
        FULL JOIN (SELECT status, count(*) n FROM p GROUP BY status) p USING (status)
        ORDER BY status""").fetchall()
    per_indicator_diff = con.execute("""
        SELECT count(*) FROM (SELECT indicator, status, count(*) n FROM w.indicator_values GROUP BY ALL) a
        FULL JOIN (SELECT indicator, status, count(*) n FROM p GROUP BY ALL) b USING (indicator, status)
        WHERE a.n IS DISTINCT FROM b.n""").fetchone()[0]

    def differs(col: str) -> str:
        return (f"(a.{col} IS NULL) <> (b.{col} IS NULL) OR abs(a.{col} - b.{col}) > "
                f"{REL_TOL} * greatest(1, abs(a.{col}), abs(b.{col}))")

    diff = con.execute(f"""
        SELECT count(*) FILTER (WHERE a.indicator IS NULL) AS only_pandas,
               count(*) FILTER (WHERE b.indicator IS NULL) AS only_wijkmonitor,
               count(*) FILTER (WHERE a.indicator IS NOT NULL AND b.indicator IS NOT NULL) AS common,
               count(*) FILTER (WHERE a.status <> b.status) AS status,
               count(*) FILTER (WHERE {differs('value')}) AS value,
               count(*) FILTER (WHERE {differs('numerator')}) AS numerator,
               count(*) FILTER (WHERE {differs('denominator')}) AS denominator,
               count(*) FILTER (WHERE a.formula <> b.formula) AS formula,
               count(*) FILTER (WHERE a.base_period IS DISTINCT FROM b.base_period) AS base_period,
               count(*) FILTER (WHERE a.source_id IS DISTINCT FROM b.source_id
                                   OR a.base_source_id IS DISTINCT FROM b.base_source_id) AS source
        FROM w.indicator_values a FULL JOIN p b
          ON a.indicator = b.indicator AND a.region_code = b.region_code
         AND a.geo_year = b.geo_year AND a.period = b.period""").df().iloc[0].to_dict()
    con.close()
    diff = {k: int(v) for k, v in diff.items()}
    equal = (all(w == p for _, w, p in per_status) and per_indicator_diff == 0
             and all(v == 0 for k, v in diff.items() if k != "common"))
    return dict(per_status=per_status, per_indicator_diff=per_indicator_diff, diff=diff, equal=equal)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="timed runs of wijkmonitor (median)")
    parser.add_argument("--pandas-runs", type=int, default=PANDAS_RUNS,
                        help="timed runs of the pandas baseline (median; it takes minutes)")
    parser.add_argument("--profile", action="store_true",
                        help="also time each SQL statement of compute (done anyway when the target is missed)")
    parser.add_argument("--workdir", type=Path, help="keep the Parquet file and stores here")
    parser.add_argument("--child", choices=["wijkmonitor", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--parquet", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "wijkmonitor":
        child_wijkmonitor(args.parquet, args.out, args.profile)
        return 0
    if args.child == "pandas":
        child_pandas(args.parquet, args.out)
        return 0

    from wijkmonitor import config

    with contextlib.ExitStack() as stack:
        if args.workdir:
            work = args.workdir
            work.mkdir(parents=True, exist_ok=True)
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_build-")))
        return _run(args, work, config.data_dir())


def _run(args, work: Path, data_dir: Path) -> int:
    script = str(Path(__file__).resolve())
    print("bench_build: cold build at national scale (SYNTHETIC observations, benchmark only)")
    print(f"  machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, "
          f"duckdb {__import__('duckdb').__version__}, pandas {pd.__version__}")
    t0 = time.perf_counter()
    info = cached_source_files(work, data_dir)
    print(f"  source file: {info['path'].name}, {info['rows']:,} rows "
          f"({info['rows_national']:,} national + {info['rows_city']:,} city), "
          f"{_util.fmt_bytes(info['bytes'])}, "
          + ("reused from --workdir" if info.get("reused") else
             f"generated in {time.perf_counter() - t0:.1f} s") + " (not timed)")
    print(f"  regions: {info['regions']:,} real 2024 codes {info['levels']}; periods "
          f"{YEARS[0]}-{YEARS[-1]}; variables: {info['variables']} "
          f"({info['catalogue_variables']} used by the catalogue); seed {SEED}")
    print(f"  observation status: {info['status_counts']}")

    parquet = str(info["path"])
    pandas_out = work / "pandas_values.parquet"
    wm, pdr = [], []
    for i in range(max(args.runs, args.pandas_runs)):
        if i < args.runs:
            store_path = work / f"store-{i}.duckdb"
            load = _util.load_average()
            wm.append(_util.run_child([script, "--child", "wijkmonitor", "--parquet", parquet,
                                       "--out", str(store_path)]))
            r = wm[-1].report
            print(f"  run {i + 1} wijkmonitor: {r['seconds']:.2f} s (load {r['load_s']:.2f}, compute "
                  f"{r['compute_s']:.2f}, commit {r['commit_s']:.2f}), CPU {wm[-1].cpu_s:.1f} s, peak "
                  f"{_util.fmt_bytes(r['peak_rss'])}, {r['rows']:,} rows (load average before: {load})",
                  flush=True)
            if i > 0:
                store_path.unlink(missing_ok=True)
        if i < args.pandas_runs:
            load = _util.load_average()
            pdr.append(_util.run_child([script, "--child", "pandas", "--parquet", parquet]
                                       + (["--out", str(pandas_out)] if i == 0 else [])))
            r = pdr[-1].report
            print(f"  run {i + 1} pandas:      {r['seconds']:.2f} s, CPU {pdr[-1].cpu_s:.1f} s, peak "
                  f"{_util.fmt_bytes(r['peak_rss'])}, {r['rows']:,} rows (load average before: {load})",
                  flush=True)

    if not pdr and not pandas_out.exists():
        sys.exit("no pandas run and no earlier pandas result in --workdir to compare with")
    cmp = compare(work / "store-0.duckdb", pandas_out)
    print("  rows per status (wijkmonitor / pandas):")
    for status, w, p in cmp["per_status"]:
        print(f"    {status:<24} {w or 0:>10,} {p or 0:>10,}")
    d = cmp["diff"]
    print(f"  common rows {d['common']:,}; only wijkmonitor {d['only_wijkmonitor']}, only pandas "
          f"{d['only_pandas']}; differing: status {d['status']}, value {d['value']}, numerator "
          f"{d['numerator']}, denominator {d['denominator']}, formula {d['formula']}, base_period "
          f"{d['base_period']}, source {d['source']}; indicator x status counts differing "
          f"{cmp['per_indicator_diff']} (tolerance {REL_TOL:g} relative)")

    w_s = _util.median([c.report["seconds"] for c in wm])
    nan = float("nan")
    p_s = _util.median([c.report["seconds"] for c in pdr]) if pdr else nan
    w_m = _util.median([c.report["peak_rss"] for c in wm])
    p_m = _util.median([c.report["peak_rss"] for c in pdr]) if pdr else nan
    w_wall = _util.median([c.wall_s for c in wm])
    p_wall = _util.median([c.wall_s for c in pdr]) if pdr else nan
    w_cpu = _util.median([c.cpu_s for c in wm])
    p_cpu = _util.median([c.cpu_s for c in pdr]) if pdr else nan
    print(f"wijkmonitor cold build: {w_s:.2f} s (median of {args.runs}; whole process {w_wall:.2f} s, "
          f"CPU {w_cpu:.1f} s), peak {_util.fmt_bytes(w_m)}")
    print(f"pandas:                 {p_s:.2f} s (median of {args.pandas_runs}; whole process {p_wall:.2f} s, "
          f"CPU {p_cpu:.1f} s), peak {_util.fmt_bytes(p_m)}")
    print(f"ratio pandas/wijkmonitor: time {p_s / w_s:.2f}x, peak memory {p_m / w_m:.2f}x")
    print(f"target: cold build < {TARGET_SECONDS:g} s and peak < {_util.fmt_bytes(TARGET_PEAK)} "
          f"on this {os.cpu_count()}-core machine")
    met = w_s < TARGET_SECONDS and w_m < TARGET_PEAK
    print(f"results_equal: {'yes' if cmp['equal'] else 'no'}")
    print(f"target_met: {'yes' if met else 'no'}")
    _util.summary(bench="build", target=f"cold build < {TARGET_SECONDS:g} s, peak < {_util.fmt_bytes(TARGET_PEAK)}",
                  measured=f"{w_s:.2f} s, peak {_util.fmt_bytes(w_m)} (CPU {w_cpu:.1f} s)",
                  met=met and cmp["equal"],
                  baseline=f"pandas {p_s:.1f} s, peak {_util.fmt_bytes(p_m)}",
                  ratio=f"time {p_s / w_s:.1f}x, memory {p_m / w_m:.1f}x",
                  note="" if cmp["equal"] else "RESULTS DIFFER")

    if args.profile or not met:
        prof = _util.run_child([script, "--child", "wijkmonitor", "--parquet", parquet,
                                "--out", str(work / "store-profile.duckdb"), "--profile"]).report
        print("profile of compute (one more run; seconds per statement, peak RSS after it):")
        print(f"  {prof['load_s']:7.2f} s  load observations (Parquet batches -> append_observations)")
        for label, secs, peak in prof["steps"]:
            if secs >= 0.01:
                print(f"  {secs:7.2f} s  {_util.fmt_bytes(peak):>9}  {label}")
        print(f"  {prof['commit_s']:7.2f} s  commit (CHECKPOINT, fsync, replace)")
    return 0 if cmp["equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
