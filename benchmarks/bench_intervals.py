"""CPU cost of the 95 % interval fields in the list API (issue 15, deliverable 1).

What is measured: CPU time (``getrusage``, this process: the app runs in-process under
Starlette's TestClient) of ``/api/v1/region-values`` for every buurt of one indicator and year
(about 14 500 rows), for the gemeenten, and of ``/api/v1/values`` for one area (all its
indicators), each the median of 7 warm requests; and the response size. Run it on this
checkout and on an older one (``PYTHONPATH=<old>/src``) to compare.

    python benchmarks/bench_intervals.py [--store PATH]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import warnings

import _util


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default=None)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

    from wijkmonitor import config
    from wijkmonitor.web.app import create_app

    store = args.store or str(config.store_path())
    print(f"bench_intervals: store {store}; load average {_util.load_average()}")
    cases = [("/api/v1/region-values", dict(indicator="ervaren_gezondheid_pct", period=2022, level="buurt")),
             ("/api/v1/region-values", dict(indicator="inwoners_65plus_pct", period=2024, level="buurt")),
             ("/api/v1/region-values", dict(indicator="ervaren_gezondheid_pct", period=2022, level="gemeente")),
             ("/api/v1/values", dict(unit="utrecht-overvecht"))]
    with TestClient(create_app(store)) as c:
        for path, q in cases:
            c.get(path, params=q)
            times = []
            for _ in range(args.runs):
                t = _cpu()
                r = c.get(path, params=q)
                times.append(_cpu() - t)
            print(f"  {path} {q}: {len(r.json())} rows, {len(r.content):,} bytes, "
                  f"median CPU {statistics.median(times) * 1000:.1f} ms, interval fields: {'lower' in r.json()[0]}")
    print(f"  load average after: {_util.load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
