"""Benchmark: the national report plus 20 area fiches as HTML + PDF (target: < 20 s).

Usage::

    WIJKMONITOR_STORE=/path/to/store.duckdb python benchmarks/bench_report.py [--workers 2] [--runs 3]

Builds the store first when it does not exist. Per run, a pool of ``--workers`` processes
(each reads the store once, :func:`wijkmonitor.report.load`) writes the national report of the
NPLV programme (2016-2020) and the fiches of the first 20 areas (NPLV, name order) into a
temporary directory; the wall time of a run is from submitting the first document to the last
PDF written (process start-up and the store read are printed separately). The median of
``--runs`` runs is compared with the target. Per document the time is split into HTML
(analysis, narrative, charts) and PDF (WeasyPrint) by rendering the HTML once more without PDF
in the same worker, after the timed part.

Baseline: none that computes the same documents; the figure printed beside the parallel time
is the same work done sequentially in one process (``--workers 1`` equivalent: the sum of the
per-document times), so the ratio is the speed-up from the pool.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import _util

TARGET_S = 20.0
_DATA = None


def _init() -> None:
    global _DATA
    from wijkmonitor.report import load
    _DATA = load()


def _ready(_=None) -> float:
    return time.perf_counter()


def _national(args) -> float:
    programme, baseline, latest, out = args
    from wijkmonitor.report import national_report
    t = time.perf_counter()
    national_report(programme, baseline, latest, out, data=_DATA)
    return time.perf_counter() - t


def _fiche(args) -> float:
    area, baseline, latest, out = args
    from wijkmonitor.report import area_report
    t = time.perf_counter()
    area_report(area, baseline, latest, out, data=_DATA)
    return time.perf_counter() - t


def _html(args) -> float:
    """The HTML of one document only (after the timed part: splits HTML from PDF time)."""
    kind, what, baseline, latest = args
    from wijkmonitor.report import area_html, national_html
    t = time.perf_counter()
    (national_html if kind == "national" else area_html)(what, baseline, latest, data=_DATA)
    return time.perf_counter() - t


def one_run(opts, areas: list[str]) -> dict:
    out = Path(tempfile.mkdtemp(prefix="wijkmonitor-bench-report-"))
    t_start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=opts.workers, initializer=_init) as pool:
        # wait until every worker has read the store, then time the documents
        list(pool.map(_ready, range(opts.workers * 4)))
        t0 = time.perf_counter()
        nat = pool.submit(_national, (opts.programme, opts.baseline, opts.latest, out))
        fiches = list(pool.map(_fiche, [(a, opts.baseline, opts.latest, out) for a in areas]))
        nat_s = nat.result()
        wall = time.perf_counter() - t0
        html = list(pool.map(_html, [("national", opts.programme, opts.baseline, opts.latest)]
                             + [("area", a, opts.baseline, opts.latest) for a in areas]))
    pdfs = sorted(out.glob("*.pdf"))
    for f in out.iterdir():
        f.unlink()
    out.rmdir()
    return dict(wall=wall, startup=t0 - t_start, national=(nat_s, html[0]),
                fiches=list(zip(fiches, html[1:])), pdfs=len(pdfs))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--programme", default="nplv")
    ap.add_argument("--baseline", type=int, default=2016)
    ap.add_argument("--latest", type=int, default=2020)
    ap.add_argument("--fiches", type=int, default=20)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--runs", type=int, default=3)
    opts = ap.parse_args()

    from wijkmonitor import config
    from wijkmonitor.report import load
    from wijkmonitor.report.data import programme_areas
    if not config.store_path().exists():
        from wijkmonitor import pipeline
        print(f"building the store at {config.store_path()} ...", file=sys.stderr)
        pipeline.ingest(config.data_dir(), config.store_path(), then_build=True)
    areas = list(programme_areas(load(), opts.programme)["area_id"])[:opts.fiches]
    print(f"bench_report: national report ({opts.programme} {opts.baseline}-{opts.latest}) + "
          f"{len(areas)} area fiches, HTML + PDF, {opts.workers} worker(s); store {config.store_path()}")
    runs = []
    for i in range(opts.runs):
        load = _util.load_average()
        r = one_run(opts, areas)
        runs.append(r)
        f_total = sum(t for t, _ in r["fiches"])
        f_html = sum(h for _, h in r["fiches"])
        print(f"  run {i + 1}: {r['wall']:.1f} s wall for {r['pdfs']} PDFs (pool start + store read "
              f"{r['startup']:.1f} s, not included); national {r['national'][0]:.1f} s (HTML "
              f"{r['national'][1]:.1f}); fiches {f_total:.1f} s of work, mean "
              f"{f_total / max(1, len(r['fiches'])):.2f} s (HTML {f_html / max(1, len(r['fiches'])):.2f}, "
              f"PDF the rest) (load average before: {load})", flush=True)
    wall = _util.median([r["wall"] for r in runs])
    seq = _util.median([r["national"][0] + sum(t for t, _ in r["fiches"]) for r in runs])
    html_share = _util.median([(r["national"][1] + sum(h for _, h in r["fiches"]))
                               / max(1e-9, r["national"][0] + sum(t for t, _ in r["fiches"])) for r in runs])
    met = wall < TARGET_S and all(r["pdfs"] == len(areas) + 1 for r in runs)
    print(f"report: {wall:.1f} s (median of {opts.runs}) with {opts.workers} worker(s); the same work "
          f"sequentially {seq:.1f} s; HTML {html_share:.0%} of the work, PDF the rest")
    print(f"target: national report + {len(areas)} fiches as PDF < {TARGET_S:g} s")
    print(f"target_met: {'yes' if met else 'no'}")
    _util.summary(bench="report", target=f"national + {len(areas)} fiches PDF < {TARGET_S:g} s",
                  measured=f"{wall:.1f} s ({opts.workers} workers; HTML {html_share:.0%} of work)", met=met,
                  baseline=f"sequential {seq:.1f} s", ratio=f"{seq / wall:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
