"""Benchmark: wijkmonitor.harmonise against tobler.area_weighted.area_interpolate.

Run ``python benchmarks/bench_harmonise.py``. tobler is never a dependency of wijkmonitor:
when it cannot be imported the script re-executes itself with the benchmark environment's
Python (``$WIJKMONITOR_BENCH_PYTHON`` or ``/work/venv-bench/bin/python``), created with::

    python -m venv /work/venv-bench
    /work/venv-bench/bin/pip install -r benchmarks/requirements-tobler.txt

Both methods run in one process, on the same GeoDataFrames (the 2014 buurten with a polygon,
in RD New, made valid by :mod:`wijkmonitor.geometries`), for two overlays: 2014 buurten onto
the 2024 gemeenten and onto the 2014 wijken. Each timing is the best of ``--repeat`` runs and
covers building the crosswalk and moving every count variable.

The mirror has no count per 2014 buurt, so the counts are SYNTHETIC: five deterministic
integer variables (seeded; labelled ``synthetic_*``). Only geometry matters for the timing
and the comparison.

Two wijkmonitor modes are measured:

``area``  a plain area overlay with tobler's semantics (shares = intersection area over the
          source's covered area). It must equal tobler to 1e-6 (relative); tobler keeps its
          area table in float32, so ~1e-7 differences are expected.
``auto``  what wijkmonitor uses: CBS's code hierarchy and whole gemeenten first, overlay only
          for the rest, slivers snapped. Where it allocates a buurt like the overlay does, the
          results agree; elsewhere the difference is the sliver/quantisation noise that the
          plain overlay (and tobler) moves to the wrong region. The script reports how much.

The last line is ``speedup_vs_tobler: N.N`` (tobler time over wijkmonitor ``auto`` time,
summed over both overlays).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
BENCH_PYTHON = os.environ.get("WIJKMONITOR_BENCH_PYTHON", "/work/venv-bench/bin/python")


def _ensure_tobler() -> None:
    try:
        import tobler  # noqa: F401
    except ImportError:
        if os.environ.get("_WIJKMONITOR_BENCH_REEXEC"):
            sys.exit("tobler niet gevonden, ook niet in de benchmark-omgeving; zie de docstring")
        if not Path(BENCH_PYTHON).exists():
            sys.exit(f"tobler ontbreekt en {BENCH_PYTHON} bestaat niet. Maak de omgeving:\n"
                     f"  python -m venv /work/venv-bench && /work/venv-bench/bin/pip install "
                     f"-r {HERE / 'requirements-tobler.txt'}")
        env = dict(os.environ, _WIJKMONITOR_BENCH_REEXEC="1")
        os.execve(BENCH_PYTHON, [BENCH_PYTHON, str(Path(__file__).resolve()), *sys.argv[1:]], env)


def _best(fn, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _on_targets(moved, codes, target, k):
    """Rows of ``moved`` in the order of ``target``; targets without polygon (wijken with
    an empty polygon still receive buurten by code) are left out of the comparison."""
    import numpy as np
    import pandas as pd

    out = np.zeros((len(target), k))
    pos = pd.Index(target["code"]).get_indexer(codes)
    out[pos[pos >= 0]] = moved[pos >= 0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    _ensure_tobler()
    sys.path.insert(0, str(SRC))

    import numpy as np
    import pandas as pd
    from tobler.area_weighted import area_interpolate

    from wijkmonitor import geometries, harmonise

    buurten = geometries.load(2014, "buurt")
    empty = int(buurten.geometry.is_empty.sum())
    source = buurten[~buurten.geometry.is_empty].reset_index(drop=True)
    rng = np.random.default_rng(20140101)
    variables = [f"synthetic_{i}" for i in range(1, 6)]
    for i, var in enumerate(variables):
        source[var] = rng.integers(0, 5000 * (i + 1), len(source)).astype("float64")
    matrix = source[variables].to_numpy()
    print(f"bron: {len(source)} buurten 2014 met polygoon ({empty} zonder oppervlak weggelaten, "
          f"314 zonder polygoon in de laag); {len(variables)} SYNTHETISCHE tellingen")

    total_tobler = total_auto = total_area = 0.0
    for label, (year, level) in (("gemeenten 2024", (2024, "gemeente")), ("wijken 2014", (2014, "wijk"))):
        target = geometries.load(year, level)
        target = target[~target.geometry.is_empty].reset_index(drop=True)

        t_tobler, tob = _best(lambda: area_interpolate(source, target, extensive_variables=variables),
                              args.repeat)
        tob_values = tob[variables].to_numpy()

        def run(mode):
            cw = harmonise.crosswalk(source, target, mode=mode)
            moved, codes = harmonise.move_matrix(matrix, source["code"], cw)
            return cw, _on_targets(moved, codes, target, len(variables))

        t_area, (cw_area, area_values) = _best(lambda: run("area"), args.repeat)
        t_auto, (cw_auto, auto_values) = _best(lambda: run("auto"), args.repeat)
        total_tobler += t_tobler
        total_auto += t_auto
        total_area += t_area

        scale = np.maximum(np.abs(tob_values), 1.0)
        diff_area = np.abs(area_values - tob_values)
        diff_auto = np.abs(auto_values - tob_values)
        # sources allocated differently by auto than by the plain overlay (> 1e-6 in any share)
        key = ["source_code", "target_code"]
        both = cw_auto.merge(cw_area, on=key, how="outer", suffixes=("_auto", "_area")).fillna(
            {"share_auto": 0.0, "share_area": 0.0})
        both["d"] = (both["share_auto"] - both["share_area"]).abs()
        # a piece present in one crosswalk only (however small) is a disagreement
        both.loc[(both["share_auto"] == 0) != (both["share_area"] == 0), "d"] = np.inf
        differ = both.groupby("source_code")["d"].max()
        differ_codes = set(differ[differ > 1e-6].index)
        agree = ~source["code"].isin(differ_codes).to_numpy()
        moved_differently = float((both["share_auto"] - both["share_area"]).abs().mul(both["source_code"].map(
            source.set_index("code")[variables[0]])).sum() / 2 / matrix[:, 0].sum())
        print(f"\n== 2014 buurten -> {label} ({len(target)} doelgebieden) ==")
        print(f"tobler area_interpolate        : {t_tobler:8.3f} s")
        print(f"wijkmonitor mode='area'         : {t_area:8.3f} s  ({t_tobler / t_area:5.1f}x)  "
              f"max verschil met tobler {diff_area.max():.3g} (relatief {(diff_area / scale).max():.2e})")
        print(f"wijkmonitor mode='auto'         : {t_auto:8.3f} s  ({t_tobler / t_auto:5.1f}x)  "
              f"methoden {cw_auto['method'].value_counts().to_dict()}")
        print(f"  auto vs overlay: {len(differ_codes)} buurten anders toegedeeld "
              f"({len(differ_codes) / len(source):.1%}; {moved_differently:.2%} van de telling "
              f"{variables[0]} anders verdeeld: sliver-/kwantisatieruis van de laag); "
              f"{int(agree.sum())} buurten gelijk toegedeeld")
        # where the methods agree (every buurt allocated identically), results agree exactly:
        sub_vals = np.where(agree[:, None], matrix, 0.0)
        tob_sub = area_interpolate(source.assign(**{v: sub_vals[:, i] for i, v in enumerate(variables)}),
                                   target, extensive_variables=variables)[variables].to_numpy()
        cw_sub = harmonise.crosswalk(source, target, mode="auto")
        auto_sub, codes = harmonise.move_matrix(sub_vals, source["code"], cw_sub)
        full = _on_targets(auto_sub, codes, target, len(variables))
        d_sub = np.abs(full - tob_sub) / np.maximum(np.abs(tob_sub), 1.0)
        print(f"  waar de methoden overeenkomen: max relatief verschil met tobler {d_sub.max():.2e}")
        print(f"  max verschil auto vs tobler per doelgebied: {diff_auto.max():.4g} "
              f"(relatief {(diff_auto / scale).max():.3g})")

    print(f"\ntotaal: tobler {total_tobler:.3f} s, wijkmonitor auto {total_auto:.3f} s, "
          f"wijkmonitor area {total_area:.3f} s (area-modus {total_tobler / total_area:.1f}x)")
    print(f"speedup_vs_tobler: {total_tobler / total_auto:.1f}")


if __name__ == "__main__":
    main()
