"""Benchmark (issue 16): what the Wijkindex build step adds to a build.

On a copy of the built real store (``WIJKMONITOR_STORE``, built by ``scripts/bench`` when
missing), each run in a fresh process runs :func:`wijkmonitor.wijkindex.build.build_wijkindex`
(every declared index, every buurt, wijk, gemeente and area, every year the inputs allow:
inputs read and wijken added up from their buurten, normalisation, domain scores, exponential
transformation, classes, ranks, the Monte Carlo of 1 000 draws, and writing the tables) and
reports wall and CPU time per part. Target: under 5 s in total.

    python benchmarks/bench_wijkindex.py [--runs 3] [--draws 1000] [--dump OUT.parquet] [--same-as BEFORE.parquet]

``--dump`` writes the rows the step computed (``wijkindex_values`` of every index, before
writing) to a Parquet file; ``--same-as`` checks that a run computes exactly those rows
(``pandas.testing.assert_frame_equal`` with ``check_exact=True``): a speed-up must not change a
single value, rank or interval.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _util  # noqa: E402

TARGET_S = 5.0


def child(store_path: str, draws: int, dump: str | None = None, same_as: str | None = None) -> None:
    import duckdb

    from wijkmonitor.catalogue import load_catalogue
    from wijkmonitor.wijkindex import build, load_indices

    indices = load_indices()
    catalogue = load_catalogue()
    con = duckdb.connect(store_path)
    t0, c0 = time.perf_counter(), _util.self_cpu_s()
    ids = sorted({i.id for s in indices for _, i in s.indicators()})
    inputs = build.read_inputs(con, ids, catalogue)
    t1, c1 = time.perf_counter(), _util.self_cpu_s()
    n_rows = 0
    n_targets = 0
    outs = []
    for spec in indices:
        out, _ = build.compute_index(spec, inputs, draws=draws)
        n_rows += len(out)
        n_targets += int(((out["component"] == spec.id) & (out["status"] == "ok")).sum())
        outs.append(out)
    t2, c2 = time.perf_counter(), _util.self_cpu_s()
    build.build_wijkindex(con, indices, catalogue, draws=draws)  # the step as the build runs it
    t3, c3 = time.perf_counter(), _util.self_cpu_s()
    peak = _util.self_peak_rss()  # before the check, which is neither timed nor counted
    same = None
    if dump or same_as:
        import pandas as pd

        rows = pd.concat(outs, ignore_index=True)
        if dump:
            rows.to_parquet(dump)
        if same_as:
            import io

            before = pd.read_parquet(same_as)
            buf = io.BytesIO()
            rows.to_parquet(buf)  # both sides through Parquet (it stores the dtypes its own way)
            try:
                pd.testing.assert_frame_equal(pd.read_parquet(buf), before, check_exact=True, check_categorical=False)
                same = True
            except AssertionError as exc:
                print(f"differs from {same_as}: {exc}", file=sys.stderr)
                same = False
    buurten = con.execute("SELECT count(DISTINCT unit_id), count(DISTINCT period) FROM wijkindex_values "
                          "WHERE unit_kind = 'buurt'").fetchone()
    con.close()
    _util.report(inputs_s=t1 - t0, inputs_cpu=c1 - c0, compute_s=t2 - t1, compute_cpu=c2 - c1,
                 step_s=t3 - t2, step_cpu=c3 - c2, rows=n_rows, with_index=n_targets,
                 buurten=buurten[0], buurt_years=buurten[1], peak=peak, same=same)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--dump", help="write the computed rows to this Parquet file (first run)")
    ap.add_argument("--same-as", help="check that the computed rows equal this Parquet file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.draws, args.dump, args.same_as)
        return 0
    src = Path(os.environ.get("WIJKMONITOR_STORE", "var/wijkmonitor.duckdb"))
    if not src.exists():
        print(f"no store at {src}: build it first (scripts/bench does)", file=sys.stderr)
        return 2
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-wijkindex-") as tmp:
        for i in range(args.runs):
            copy = Path(tmp) / f"store-{i}.duckdb"
            shutil.copyfile(src, copy)
            load = _util.load_average()
            extra = (["--dump", args.dump] if args.dump and i == 0 else []) + \
                (["--same-as", args.same_as] if args.same_as else [])
            r = _util.run_child([__file__, "--child", str(copy), "--draws", str(args.draws), *extra])
            rep = r.report
            runs.append(rep)
            print(f"run {i + 1}: step {rep['step_s']:.2f} s (CPU {rep['step_cpu']:.2f} s) = inputs "
                  f"{rep['inputs_s']:.2f} s (CPU {rep['inputs_cpu']:.2f}) + index, classes, ranks and "
                  f"Monte Carlo {rep['compute_s']:.2f} s (CPU {rep['compute_cpu']:.2f}) + writing; "
                  f"{rep['rows']:,} rows, {rep['with_index']:,} with an index, {rep['buurten']:,} buurten x "
                  f"{rep['buurt_years']} years; peak {_util.fmt_bytes(rep['peak'])}; load average before {load}"
                  + ("" if rep.get("same") is None else f"; same rows as {args.same_as}: "
                     f"{'yes' if rep['same'] else 'NO'}"))
            copy.unlink()
    step = _util.median([r["step_s"] for r in runs])
    cpu = _util.median([r["step_cpu"] for r in runs])
    comp = _util.median([r["compute_s"] for r in runs])
    inp = _util.median([r["inputs_s"] for r in runs])
    met = step < TARGET_S
    print(f"wijkindex build step: {step:.2f} s median of {args.runs} (CPU {cpu:.2f} s; inputs {inp:.2f} s, "
          f"index + classes + ranks + Monte Carlo ({args.draws} draws) {comp:.2f} s)")
    print(f"target: < {TARGET_S:g} s added to a build")
    print(f"target_met: {'yes' if met else 'no'}")
    _util.summary(bench="wijkindex", target=f"wijkindex step < {TARGET_S:g} s",
                  measured=f"{step:.2f} s (CPU {cpu:.2f} s; {runs[0]['with_index']:,} indices, "
                           f"{args.draws} draws)", met=met)
    return 0


if __name__ == "__main__":
    sys.exit(main())
