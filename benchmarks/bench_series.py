"""Build time of the harmonised series step (``series.build_harmonised_values``).

Runs the step on a copy of a built store, next to the area step it feeds
(``area_tables.build_area_tables``, the named baseline), and prints CPU and wall seconds of both
and their ratio. The step's budget is ~10 s on top of the full build.

    .venv/bin/python benchmarks/bench_series.py [STORE]     # default: $WIJKMONITOR_STORE
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from wijkmonitor import area_tables, series
from wijkmonitor.catalogue import load_catalogue


def timed(fn, *args, **kw):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return out, time.process_time() - c, time.perf_counter() - w


def main(store: Path) -> None:
    catalogue = load_catalogue()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store.duckdb"
        shutil.copy(store, copy)
        con = duckdb.connect(str(copy))
        n, s_cpu, s_wall = timed(series.build_harmonised_values, con, catalogue)
        _, a_cpu, a_wall = timed(area_tables.build_area_tables, con, catalogue=catalogue)
        con.close()
    print(f"harmonised_values: {n} rows, {s_cpu:.2f} s CPU, {s_wall:.2f} s wall")
    print(f"area tables (baseline): {a_cpu:.2f} s CPU, {a_wall:.2f} s wall")
    print(f"series_vs_area_tables_cpu: {s_cpu / a_cpu:.2f}")


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("WIJKMONITOR_STORE", "var/wijkmonitor.duckdb"))
    main(path)
