"""CBS regions per year: gemeenten (GMxxxx), wijken (WKxxxxxx), buurten (BUxxxxxxxx) and NL.

Regions are read from the store (written by the ingest from every source that lists regions).
``year`` is the year of the regional division (indeling). Codes that appear or disappear
between two years are reported by :func:`code_changes` (a boundary crosswalk that moves
figures between divisions lives in :mod:`wijkmonitor.harmonise`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import store

LEVEL_ORDER = {"land": 0, "gemeente": 1, "wijk": 2, "buurt": 3}


def regions(year: int | None = None, level: str | None = None, *, gemeente: str | None = None,
            path: Path | None = None) -> pd.DataFrame:
    """Regions with name, parent codes and population (``a_inw`` of that year, if published).

    ``name_year`` is the year the name comes from: the division year itself, or, where no
    source names the region in that year, the nearest year that names the same code.
    """
    where, params = [], []
    if year is not None:
        where.append("year = ?"); params.append(int(year))
    if level is not None:
        where.append("level = ?"); params.append(level)
    if gemeente is not None:
        where.append("(gemeente_code = ? OR code = ?)"); params += [gemeente, gemeente]
    sql = ("SELECT code, year, level, name, name_year, gemeente_code, wijk_code, change_code, population, source_id "
           "FROM regions" + (" WHERE " + " AND ".join(where) if where else "") +
           " ORDER BY year, CASE level WHEN 'land' THEN 0 WHEN 'gemeente' THEN 1 WHEN 'wijk' THEN 2 ELSE 3 END, code")
    return store.query_df(sql, params, path=path)


def years(path: Path | None = None) -> list[int]:
    """Division years present in the store."""
    return store.query_df("SELECT DISTINCT year FROM regions ORDER BY year", path=path)["year"].tolist()


def summary(path: Path | None = None) -> pd.DataFrame:
    """Number of regions per division year and level."""
    df = store.query_df("SELECT year, level, count(*) AS n FROM regions GROUP BY ALL", path=path)
    return (df.pivot(index="year", columns="level", values="n").fillna(0).astype(int)
            .reindex(columns=[c for c in LEVEL_ORDER if c in set(df["level"])]))


def code_changes(year_from: int, year_to: int, level: str | None = None,
                 path: Path | None = None) -> pd.DataFrame:
    """Codes present in only one of two division years: ``code, level, name, change``
    with change ``verdwenen`` (only in ``year_from``) or ``nieuw`` (only in ``year_to``).

    Only levels present in both years are compared (a year with gemeenten only says nothing
    about its buurten).
    """
    params = [year_from, year_to, year_from, year_to]
    level_sql = ""
    if level:
        level_sql = " AND level = ?"
    sql = f"""
        WITH a AS (SELECT * FROM regions WHERE year = ?), b AS (SELECT * FROM regions WHERE year = ?),
        lv AS (SELECT level FROM regions WHERE year = ? INTERSECT SELECT level FROM regions WHERE year = ?)
        SELECT code, level, name, 'verdwenen' AS change FROM a
        WHERE level IN (SELECT level FROM lv) AND code NOT IN (SELECT code FROM b){level_sql}
        UNION ALL
        SELECT code, level, name, 'nieuw' AS change FROM b
        WHERE level IN (SELECT level FROM lv) AND code NOT IN (SELECT code FROM a){level_sql}
        ORDER BY change, level, code"""
    if level:
        params = params + [level, level]
    return store.query_df(sql, params, path=path)


def find(query: str, *, limit: int = 20, path: Path | None = None) -> pd.DataFrame:
    """Regions whose code or name matches ``query`` (case-insensitive), newest division first."""
    q = query.strip()
    return store.query_df(
        """SELECT code, year, level, name, gemeente_code FROM (
               SELECT *, row_number() OVER (PARTITION BY code ORDER BY year DESC) rn FROM regions
               WHERE upper(code) = upper(?) OR name ILIKE ?)
           WHERE rn = 1
           ORDER BY upper(code) = upper(?) DESC, length(name), name LIMIT ?""",
        [q, f"%{q}%", q, limit], path=path)
