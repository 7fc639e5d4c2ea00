"""Recompute every gap and classification from a built store, warm: wijkmonitor against the
previous straightforward implementation.

Run ``WIJKMONITOR_STORE=/path/to/store.duckdb python benchmarks/bench_gaps.py`` (default
store: ``var/wijkmonitor.duckdb``; the store is only read).

Workload ("all gaps")
---------------------
All 60 areas (20 NPLV focusgebieden + 40 aandachtswijken, ``areas=None``), all indicators that
have a gap (42 of the 46: counts such as ``inwoners`` have none),
reference ``gemeente`` (the *stedelijk gemiddelde*), baseline 2012 (the monitor's default), and
*every year* as the latest year: one :func:`wijkmonitor.analysis.gaps` call per year with area
figures after the baseline (2014, 2016 ... 2025 on the real store: 11 calls, 27,720 rows). So
"all years" here means: the gap in every year and its development since the baseline. Two
larger workloads are timed too and printed for information (no target): the same for all
eight references, and every (baseline, latest) pair of years with area figures.

"Warm" means what the website and report have: ``area_values``, ``area_index`` and the
catalogue already in memory (read once, timed separately as "load"); the timed part is the
``gaps`` calls themselves. Median of ``--runs`` runs.

Baseline: ``benchmarks/_gaps_baseline.py``, ``gaps()`` as it was before it was vectorised
(per-row ``DataFrame.loc`` look-ups on a MultiIndex), following the current year and
indicator rules. Both must give the same rows: every column equal (floats exactly, NaN = NaN),
except that the old version wrote "2016.0" for a year in the rule text when some indicator had
no available year (the bug fixed with the vectorisation); rule texts are compared after undoing
that.

Target (issue 4): all gaps and classifications for all areas, all indicators and all years from
a built store, warm, under 1 s. Issue 15: the timed workload uses the default rule (95 %
intervals of every value and of the change, the uncertainty-aware classes); the baseline
implements the fixed-tolerance rule, so the equality check compares the baseline with
``gaps(rule="omw")`` (run once, untimed) on the baseline's columns.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time

import numpy as np
import pandas as pd

import _util
import _gaps_baseline

TARGET_S = 1.0
BASELINE_YEAR = 2012


def _workload(gaps_fn, latest_years, data, references=("gemeente",), pairs=None) -> list[pd.DataFrame]:
    values, index, catalogue, sources = data
    out = []
    spans = pairs if pairs is not None else [(BASELINE_YEAR, y) for y in latest_years]
    for reference in references:
        for b, l in spans:
            out.append(gaps_fn(areas=None, baseline=b, latest=l, reference=reference,
                               values=values, index=index, catalogue=catalogue, sources=sources))
    return out


def _timed(fn, runs: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def _norm_rule(s: pd.Series) -> pd.Series:
    return s.map(lambda t: re.sub(r"\b(\d{4})\.0\b", r"\1", t).replace(" nan ", " ? ")
                 .replace(" nan;", " ?;").replace(" nan(", " ?(") if isinstance(t, str) else t)


def frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """Columns that differ between two gap tables (empty list: equal)."""
    bad = []
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return [f"shape/columns: {a.shape} {list(a.columns)} vs {b.shape} {list(b.columns)}"]
    for c in a.columns:
        x, y = a[c], b[c]
        if c == "rule":
            x, y = _norm_rule(x), _norm_rule(y)
        if x.dtype.kind == "f" or y.dtype.kind == "f":
            xf, yf = x.to_numpy("float64", na_value=np.nan), y.to_numpy("float64", na_value=np.nan)
            same = (xf == yf) | (np.isnan(xf) & np.isnan(yf))
        else:
            xo, yo = x.astype(object).to_numpy(), y.astype(object).to_numpy()
            na_x, na_y = pd.isna(xo), pd.isna(yo)
            same = np.array([bool(nx and ny) or (not nx and not ny and p == q)
                             for p, q, nx, ny in zip(xo, yo, na_x, na_y)], dtype=bool)
        if not same.all():
            bad.append(f"{c} ({int((~same).sum())} rows)")
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of wijkmonitor (median)")
    parser.add_argument("--baseline-runs", type=int, default=3, help="timed runs of the baseline (median)")
    args = parser.parse_args(argv)

    from wijkmonitor import analysis, config, store
    from wijkmonitor.catalogue import load_catalogue

    path = config.store_path()
    print(f"bench_gaps: all gaps from the built store {path} (warm)")
    t0 = time.perf_counter()
    catalogue = load_catalogue()
    with contextlib.closing(store.connect(path)) as con:
        values = analysis.load_area_values(con=con)
        index = analysis.load_area_index(con=con)
        sources = analysis.load_sources(con=con)
    load_s = time.perf_counter() - t0
    data = (values, index, catalogue, sources)
    area_ok = values[(values["unit_kind"] == "area") & (values["status"] == "ok")]
    periods = sorted(int(p) for p in area_ok["period"].unique())
    latest_years = [p for p in periods if p > BASELINE_YEAR]
    programmes = index["programme"].value_counts().to_dict()
    print(f"  store: {len(values):,} area_values rows; {len(index)} areas {programmes}; "
          f"{len(catalogue)} indicators; years with area figures {periods}")
    print(f"  load (area_values, area_index, catalogue; not part of the warm time): {load_s:.2f} s")
    print(f"  workload: all areas x all indicators, reference gemeente, baseline {BASELINE_YEAR}, "
          f"latest = each of {latest_years} ({len(latest_years)} calls)")

    cpu0 = _util.self_cpu_s()
    wm_times, wm_out = _timed(lambda: _workload(analysis.gaps, latest_years, data), args.runs)
    wm_cpu = (_util.self_cpu_s() - cpu0) / args.runs
    rows = sum(len(df) for df in wm_out)
    classes = pd.concat(wm_out)["class"].value_counts().to_dict()
    print(f"  wijkmonitor: {' '.join(f'{t:.3f}' for t in wm_times)} s -> median {_util.median(wm_times):.3f} s "
          f"({rows:,} rows; classes {classes})")
    base_times, base_out = _timed(lambda: _workload(_gaps_baseline.gaps, latest_years, data),
                                  args.baseline_runs)
    print(f"  baseline (per-row look-ups, before 48bc186): {' '.join(f'{t:.2f}' for t in base_times)} s "
          f"-> median {_util.median(base_times):.2f} s")
    omw_out = _workload(lambda **kw: analysis.gaps(rule="omw", **kw), latest_years, data)
    diffs = [(l, frames_equal(a[list(b.columns)], b)) for l, a, b in zip(latest_years, omw_out, base_out)]
    diffs = [(l, d) for l, d in diffs if d]
    for l, d in diffs:
        print(f"  DIFFERENCE baseline {BASELINE_YEAR} latest {l}: {', '.join(d)}")
    equal = not diffs

    # larger workloads, for information
    refs_times, refs_out = _timed(lambda: _workload(analysis.gaps, latest_years, data,
                                                    references=analysis.REFERENCES), max(1, args.runs // 2))
    pairs = [(b, l) for i, b in enumerate(periods) for l in periods[i + 1:]]
    pair_times, pair_out = _timed(lambda: _workload(analysis.gaps, None, data, pairs=pairs),
                                  max(1, args.runs // 2))
    print(f"  for information: all {len(analysis.REFERENCES)} references x every year "
          f"({len(refs_out)} calls, {sum(len(d) for d in refs_out):,} rows): "
          f"{_util.median(refs_times):.2f} s; every (baseline, latest) pair of years, reference "
          f"gemeente ({len(pair_out)} calls, {sum(len(d) for d in pair_out):,} rows): "
          f"{_util.median(pair_times):.2f} s")

    w, b = _util.median(wm_times), _util.median(base_times)
    met = w < TARGET_S
    n_ind = wm_out[0]["indicator"].nunique() if wm_out else 0
    print(f"wijkmonitor all gaps (warm): {w:.3f} s (median of {args.runs}; CPU {wm_cpu:.3f} s per run; "
          f"load average {_util.load_average()})")
    print(f"baseline:                    {b:.2f} s (median of {args.baseline_runs})")
    print(f"ratio baseline/wijkmonitor: {b / w:.1f}x")
    print(f"target: < {TARGET_S:g} s warm")
    print(f"results_equal: {'yes' if equal else 'no'}")
    print(f"target_met: {'yes' if met else 'no'}")
    _util.summary(bench="gaps", target=f"all gaps warm < {TARGET_S:g} s",
                  measured=f"{w:.3f} s ({len(latest_years)} years x {len(index)} areas x {n_ind} indicators)",
                  met=met and equal, baseline=f"per-row pandas look-ups {b:.2f} s",
                  ratio=f"{b / w:.1f}x", note="" if equal else "RESULTS DIFFER")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
