"""Early warning (signalen): the test figures of the model and the two naive rules, and the time
it takes, on a built store.

Run ``WIJKMONITOR_STORE=/path/to/store.duckdb python benchmarks/bench_signalen.py`` (default
store: ``var/wijkmonitor.duckdb``; the store is only read).

Workload: per level (buurt, wijk) :func:`wijkmonitor.signalen.from_store`: the achterstand of
every unit on the 2020 division in the three RIVM waves, a logistic regression trained on the
change 2012 -> 2016 and tested on 2016 -> 2020, the two naive rules on the same test (the worst
level now; the largest recent decline), and the refit that gives today's signals.

Printed: per level and per score the AUC and the precision among the top 5 % of units, the
share of units whose achterstand grew, and the correlation of the two consecutive changes
(which tells how much of a change is noise that reverses). There is no target: the issue asks
for the figures, reported as they come, and no test asserts them.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

import _util


def child() -> None:
    from wijkmonitor import config, signalen, store
    from wijkmonitor.catalogue import load_catalogue

    cat = load_catalogue()
    spec = signalen.load_spec(catalogue=cat)
    con = store.connect(config.store_path())
    out = {}
    for level in ("buurt", "wijk"):
        start = time.perf_counter()
        result = signalen.from_store(con, level, spec, cat)
        seconds = time.perf_counter() - start
        values = con.execute("""
            SELECT region_code, period, indicator, value FROM indicator_values
            WHERE status = 'ok' AND geo_year = ? AND indicator IN (SELECT unnest(?))
              AND period IN (SELECT unnest(?))
              AND left(region_code, 2) IN (?, 'GM')""",
                             [spec.division, list(spec.indicators), list(spec.waves),
                              signalen.LEVELS[level]]).df()
        frame = signalen.achterstand(values, spec, cat, level)
        w0, w1, w2 = spec.waves
        d1 = frame[f"A@{w1}"] - frame[f"A@{w0}"]
        d2 = frame[f"A@{w2}"] - frame[f"A@{w1}"]
        out[level] = dict(seconds=seconds, evaluation=result.evaluation,
                          corr_consecutive_changes=float(np.corrcoef(d1, d2)[0, 1]),
                          n_signals=int(result.signals["signal"].sum()))
    con.close()
    _util.report(**out)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child()
        return
    run = _util.run_child([__file__, "--child"])
    print(f"signalen: whole process {run.wall_s:.1f} s wall, {run.cpu_s:.1f} s CPU")
    for level in ("buurt", "wijk"):
        r = run.report[level]
        ev = r["evaluation"]
        print(f"\n{level}: {ev['n_units']} units, trained on {ev['trained_on']}, tested on "
              f"{ev['tested_on']}; grew: {ev['share_growing_train']:.1%} (train), "
              f"{ev['share_growing_test']:.1%} (test); {r['n_signals']} signals; "
              f"{r['seconds']:.2f} s")
        print(f"  correlation of the changes {ev['trained_on']} and {ev['tested_on']}: "
              f"{r['corr_consecutive_changes']:+.2f}")
        print(f"  {'score':34s} {'AUC':>6s} {'precision top 5 %':>18s}")
        for name, s in ev["scores"].items():
            print(f"  {name:34s} {s['auc']:6.3f} {s['precision_top']:18.3f}")
    print(json.dumps(run.report))


if __name__ == "__main__":
    main()
