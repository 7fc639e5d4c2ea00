"""Benchmark: the national report plus 20 area fiches as HTML + PDF (target: < 20 s).

Usage::

    WIJKMONITOR_STORE=/path/to/store.duckdb python benchmarks/bench_report.py [--workers 2] [--runs 3]

Builds the store first when it does not exist. A run is the command a user types,
``wijkmonitor report all --programme nplv --baseline 2016 --latest 2020 --out DIR`` (the national
report and the fiche of each of the 20 NPLV areas), in a fresh process; its wall time is from
starting the command to its exit, so it includes everything the user waits for: interpreter
start and imports, the store read, the process pool (``--workers`` processes, the CLI's own
pool) and every PDF. The median of ``--runs`` runs is compared with the target. The CPU time of
the command and its workers (from ``wait4``) is printed beside it: on this shared machine it is
the figure that load does not change much.

Until commit "bench_report: time the CLI" the benchmark timed only the documents, in a pool it
made itself, after the workers had read the store; that left out about 4 s a user waits for.

Baseline: the same command with ``--workers 1`` (one process, documents one after the other),
once; the ratio is the speed-up of the pool. The HTML share is from one run with ``--no-pdf``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _util

TARGET_S = 20.0


def run_cli(opts, workers: int, pdf: bool = True) -> tuple[float, float, int]:
    """``wijkmonitor report all`` in a fresh process: (wall s, CPU s incl. workers, PDFs written)."""
    out = Path(tempfile.mkdtemp(prefix="wijkmonitor-bench-report-"))
    cmd = [sys.executable, "-m", "wijkmonitor", "report", "all", "--programme", opts.programme,
           "--baseline", str(opts.baseline), "--latest", str(opts.latest), "--out", str(out),
           "--workers", str(workers)] + ([] if pdf else ["--no-pdf"])
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    pdfs = len(list(out.glob("*.pdf")))
    shutil.rmtree(out)
    return wall, usage.ru_utime + usage.ru_stime, pdfs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--programme", default="nplv")
    ap.add_argument("--baseline", type=int, default=2016)
    ap.add_argument("--latest", type=int, default=2020)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-baseline", action="store_true", help="skip the one-process run")
    opts = ap.parse_args()

    from wijkmonitor import config
    from wijkmonitor.report import load
    from wijkmonitor.report.data import programme_areas
    if not config.store_path().exists():
        from wijkmonitor import pipeline
        print(f"building the store at {config.store_path()} ...", file=sys.stderr)
        pipeline.ingest(config.data_dir(), config.store_path(), then_build=True)
    n_areas = len(programme_areas(load(), opts.programme))
    print(f"bench_report: wijkmonitor report all ({opts.programme} {opts.baseline}-{opts.latest}): "
          f"national report + {n_areas} area fiches, HTML + PDF, {opts.workers} worker(s); "
          f"store {config.store_path()}", flush=True)
    runs = []
    for i in range(opts.runs):
        load_avg = _util.load_average()
        wall, cpu, pdfs = run_cli(opts, opts.workers)
        runs.append((wall, cpu, pdfs))
        print(f"  run {i + 1}: {wall:.1f} s wall, {cpu:.1f} s CPU, {pdfs} PDFs "
              f"(load average before: {load_avg})", flush=True)
    wall = _util.median([r[0] for r in runs])
    cpu = _util.median([r[1] for r in runs])
    load_avg = _util.load_average()
    html_wall, html_cpu, _ = run_cli(opts, opts.workers, pdf=False)
    print(f"  HTML only (--no-pdf): {html_wall:.1f} s wall, {html_cpu:.1f} s CPU "
          f"(load average before: {load_avg})", flush=True)
    seq = None
    if not opts.no_baseline:
        load_avg = _util.load_average()
        seq, seq_cpu, _ = run_cli(opts, 1)
        print(f"  baseline, 1 worker: {seq:.1f} s wall, {seq_cpu:.1f} s CPU "
              f"(load average before: {load_avg})", flush=True)
    met = wall < TARGET_S and all(r[2] == n_areas + 1 for r in runs)
    print(f"report: {wall:.1f} s (median of {opts.runs}, whole command) with {opts.workers} worker(s); "
          f"{cpu:.1f} s CPU; HTML {html_cpu / max(cpu, 1e-9):.0%} of the CPU, PDF the rest"
          + (f"; one process {seq:.1f} s" if seq else ""))
    print(f"target: national report + {n_areas} fiches as PDF < {TARGET_S:g} s")
    print(f"target_met: {'yes' if met else 'no'}")
    _util.summary(bench="report", target=f"national + {n_areas} fiches PDF < {TARGET_S:g} s",
                  measured=f"{wall:.1f} s ({opts.workers} workers, whole CLI command; {cpu:.1f} s CPU)",
                  met=met, baseline=f"one process {seq:.1f} s" if seq else "not run",
                  ratio=f"{seq / wall:.1f}x" if seq else "-")
    return 0


if __name__ == "__main__":
    sys.exit(main())
