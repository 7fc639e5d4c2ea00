"""The real build on the whole offline mirror, cold and with the parse cache filled (issue 14).

Each run is ``pipeline.ingest(data, store, then_build=True)`` -- what ``wijkmonitor build`` does --
in a fresh process with a new store. **cold**: a new, empty var directory (no parse cache);
**warm**: the var directory of the cold run, so parsed spreadsheets come from
``var/cache/sources`` (:mod:`wijkmonitor.sources._cache`). Prints wall and CPU time per run,
the load average before each run, and ``target_met`` for the issue's target: the cold build
under 30 s on this machine.

    python benchmarks/bench_mirror.py [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _util  # noqa: E402

TARGET_SECONDS = 30.0


def child(store: str) -> None:
    from wijkmonitor import config, pipeline

    start = time.perf_counter()
    summary = pipeline.ingest(config.data_dir(), Path(store), then_build=True)
    _util.report(build_s=time.perf_counter() - start, observations=summary["observations"],
                 indicator_values=summary.get("indicator_values", 0))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    print("bench_mirror: real 'wijkmonitor build' on the whole mirror (cold = no parse cache)")
    rows = {"cold": [], "warm": []}
    for _ in range(args.runs):
        work = Path(tempfile.mkdtemp(prefix="bench-mirror-"))
        try:
            env = dict(os.environ, WIJKMONITOR_VAR=str(work / "var"), WIJKMONITOR_PARSE_CACHE="1")
            for kind in ("cold", "warm"):
                load = _util.load_average()
                run = _util.run_child([__file__, "--child", str(work / f"{kind}.duckdb")], env=env)
                rows[kind].append(run)
                print(f"{kind}: process {run.wall_s:.2f} s wall, {run.cpu_s:.2f} s CPU, build "
                      f"{run.report['build_s']:.2f} s, peak {_util.fmt_bytes(run.peak_rss)} "
                      f"(load average before: {load})", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    cold = _util.median([r.wall_s for r in rows["cold"]])
    warm = _util.median([r.wall_s for r in rows["warm"]])
    cold_cpu = _util.median([r.cpu_s for r in rows["cold"]])
    warm_cpu = _util.median([r.cpu_s for r in rows["warm"]])
    met = cold < TARGET_SECONDS
    print(f"cold build: {cold:.2f} s wall ({cold_cpu:.2f} s CPU); warm (parse cache): "
          f"{warm:.2f} s wall ({warm_cpu:.2f} s CPU); median of {args.runs}")
    print(f"target: cold build < {TARGET_SECONDS:g} s")
    print(f"target_met: {'yes' if met else 'no'}")
    _util.summary(bench="mirror", target=f"real cold build < {TARGET_SECONDS:g} s",
                  measured=f"cold {cold:.1f} s ({cold_cpu:.1f} s CPU), warm {warm:.1f} s "
                           f"({warm_cpu:.1f} s CPU)", met=met)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
