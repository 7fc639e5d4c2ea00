"""Are two built stores the same? ``EXCEPT ALL`` both ways per table (issue 14).

A speed change to the build must not change a result. Build a store before and after the
change (e.g. ``WIJKMONITOR_VAR=/tmp/a wijkmonitor build`` on each branch, or copy
``var/wijkmonitor.duckdb``) and compare them:

    python benchmarks/compare_stores.py BEFORE.duckdb AFTER.duckdb [--tables t1,t2]

Per table (default: :data:`TABLES`, every one both stores hold) it prints the row counts and
the number of rows in one store and not in the other, counting duplicates (``EXCEPT ALL``).
Values are compared exactly first: a last-bit difference in a double counts. A table that
differs so is compared again with every DOUBLE column written to ``--digits`` significant
digits (default 12): the build itself is not bit-reproducible, since DuckDB adds up doubles
in parallel in an order that varies from run to run (two builds of the same commit differ in
the last bit of a few hundred ``area_values`` and four ``wijkindex_reference`` rows), so a
change is judged by "identical, or identical to 12 digits where the same commit also varies".
Exits 1 when a table differs at that precision. ``meta.written_at`` is left out. The coded tables (``observation_data``, ``indicator_data``)
are compared through their views, which resolve the codes to strings: codes may be numbered
differently without any value changing.
"""

from __future__ import annotations

import argparse
import sys

import duckdb

#: The result tables (views resolve the integer codes) compared by default.
TABLES = ["sources", "observations", "regions", "indicator_values", "harmonise_crosswalks",
          "harmonised_values", "area_index", "area_values", "wijkindex_values",
          "wijkindex_reference", "wijkindex_meta", "meta"]


def compare(before: str, after: str, tables: list[str], digits: int = 12
            ) -> dict[str, tuple[int, int, int, int, int, int]]:
    """Per table ``(rows before, rows after, only before, only after, only before at
    digits, only after at digits)``; a table missing in one store gives -1 for its counts."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{_sql(before)}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{_sql(after)}' AS b (READ_ONLY)")
    have = {db: {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ?", [db]).fetchall()}
        for db in ("a", "b")}
    out = {}
    for t in tables:
        if t not in have["a"] or t not in have["b"]:
            out[t] = (-1 if t not in have["a"] else _count(con, f"a.{t}"),
                      -1 if t not in have["b"] else _count(con, f"b.{t}"), -1, -1, -1, -1)
            continue
        sel = "SELECT * FROM {db}.%s" % t + (" WHERE key <> 'written_at'" if t == "meta" else "")
        only_a = _count(con, f"({sel.format(db='a')} EXCEPT ALL {sel.format(db='b')})")
        only_b = _count(con, f"({sel.format(db='b')} EXCEPT ALL {sel.format(db='a')})")
        round_a, round_b = only_a, only_b
        if only_a or only_b:
            cols = con.execute("SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_catalog = 'a' AND table_name = ? ORDER BY ordinal_position",
                               [t]).fetchall()
            rsel = "SELECT " + ", ".join(
                f"printf('%.{digits}g', \"{c}\")" if ty in ("DOUBLE", "FLOAT") else f'"{c}"'
                for c, ty in cols) + " FROM {db}.%s" % t
            round_a = _count(con, f"({rsel.format(db='a')} EXCEPT ALL {rsel.format(db='b')})")
            round_b = _count(con, f"({rsel.format(db='b')} EXCEPT ALL {rsel.format(db='a')})")
        out[t] = (_count(con, f"a.{t}"), _count(con, f"b.{t}"), only_a, only_b, round_a, round_b)
    return out


def _count(con, relation: str) -> int:
    return con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]


def _sql(path: str) -> str:
    return path.replace("'", "''")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--tables", help="comma-separated (default: the result tables)")
    ap.add_argument("--digits", type=int, default=12,
                    help="significant digits of doubles in the second comparison (default 12)")
    args = ap.parse_args(argv)
    tables = args.tables.split(",") if args.tables else TABLES
    result = compare(args.before, args.after, tables, args.digits)
    exact = same = True
    for t, (na, nb, oa, ob, ra, rb) in result.items():
        ok_exact = oa == 0 and ob == 0 and na == nb
        ok = ra == 0 and rb == 0 and na == nb
        exact &= ok_exact
        same &= ok
        verdict = "same" if ok_exact else (f"same to {args.digits} digits" if ok else "DIFFERENT")
        print(f"{t:22s} rows {na:>9} / {nb:>9}  only before {oa:>7}  only after {ob:>7}  "
              f"(to {args.digits} digits: {ra:>5} / {rb:>5})  {verdict}")
    print("identical" if exact else (f"identical to {args.digits} significant digits" if same
                                     else "DIFFERENT"))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
