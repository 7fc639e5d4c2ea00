"""Coverage of the built store: per indicator x level x year, how many regions show a value.

``wijkmonitor coverage`` answers "what does the monitor actually reach?" from the store's
``indicator_values`` (a build step's output; nothing is recomputed here). A region counts when
its value has status ``ok`` (a value that is shown); ``year`` is the period the figure describes.
A region code that has a shown value on two divisions of the same period (e.g. a gemeente whose
code persists) counts once.

For every row the sources that gave the shown values are listed with the number of regions
each gave and their **origin**: ``spiegel`` (a file of the offline mirror) or ``online`` (a table
fetched with ``wijkmonitor fetch``: read by an adapter that declares ``ONLINE = True``, or with
a URL as location).

:func:`compare` checks two coverage tables (e.g. the JSON before and after a change of the
sources): no indicator x level x year may lose shown regions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import pandas as pd

from . import sheets, store

ORIGIN_MIRROR = "spiegel"
ORIGIN_ONLINE = "online"
LEVEL_ORDER = {"land": 0, "gemeente": 1, "wijk": 2, "buurt": 3}
COLUMNS = ["indicator", "level", "year", "regions", "regions_mirror", "regions_online", "sources"]

_SQL = """
WITH shown AS (
    SELECT v.indicator, v.region_code, v.period, v.source_id,
           CASE upper(substr(v.region_code, 1, 2)) WHEN 'NL' THEN 'land' WHEN 'GM' THEN 'gemeente'
                WHEN 'WK' THEN 'wijk' WHEN 'BU' THEN 'buurt' ELSE 'overig' END AS level,
           row_number() OVER (PARTITION BY v.indicator, v.region_code, v.period
                              ORDER BY s.rank NULLS LAST, v.geo_year DESC) AS rn
    FROM indicator_values v LEFT JOIN sources s USING (source_id)
    WHERE v.status = 'ok')
SELECT indicator, level, period AS year, source_id, count(*) AS regions
FROM shown WHERE rn = 1
GROUP BY ALL
"""


def _online_adapters() -> set[str]:
    from .sources import adapters

    return {name for name, module in adapters().items() if getattr(module, "ONLINE", False)}


def origin_of(adapter: str | None, location: str | None, online_adapters: Iterable[str]) -> str:
    """``online`` for a fetched table (online adapter or a URL as location), else ``spiegel``."""
    loc = (location or "").lower()
    if (adapter in set(online_adapters)) or loc.startswith(("http://", "https://")):
        return ORIGIN_ONLINE
    return ORIGIN_MIRROR


def coverage(path: Path | str | None = None) -> pd.DataFrame:
    """The coverage table of the store at ``path`` (default: the configured store).

    Returns
    -------
    DataFrame with :data:`COLUMNS`, one row per indicator x level x year that has at least
    one shown value, sorted by indicator, level (land, gemeente, wijk, buurt) and year.
    ``regions`` is the number of regions with a shown value; ``regions_mirror`` and
    ``regions_online`` split it by origin; ``sources`` is a list of
    ``{"source_id", "origin", "regions"}`` (most regions first).
    """
    con = store.connect(path)
    try:
        if not store.has_table(con, "indicator_values"):
            raise store.StoreMissing("De store bevat nog geen indicatorwaarden: draai eerst "
                                     "'wijkmonitor build'.")
        per_source = con.execute(_SQL).df()
        sources = con.execute("SELECT source_id, adapter, location FROM sources").df()
    finally:
        con.close()
    online = _online_adapters()
    origin = {r.source_id: origin_of(r.adapter, r.location, online)
              for r in sources.itertuples(index=False)}
    per_source["origin"] = per_source["source_id"].map(origin).fillna(ORIGIN_MIRROR)
    rows = []
    for (ind, level, year), grp in per_source.groupby(["indicator", "level", "year"], sort=False):
        grp = grp.sort_values(["regions", "source_id"], ascending=[False, True])
        rows.append({
            "indicator": ind, "level": level, "year": int(year),
            "regions": int(grp["regions"].sum()),
            "regions_mirror": int(grp.loc[grp["origin"] == ORIGIN_MIRROR, "regions"].sum()),
            "regions_online": int(grp.loc[grp["origin"] == ORIGIN_ONLINE, "regions"].sum()),
            "sources": [{"source_id": s, "origin": o, "regions": int(n)}
                        for s, o, n in zip(grp["source_id"], grp["origin"], grp["regions"])],
        })
    out = pd.DataFrame(rows, columns=COLUMNS)
    if out.empty:
        return out
    out["_lv"] = out["level"].map(LEVEL_ORDER).fillna(9)
    out = out.sort_values(["indicator", "_lv", "year"], kind="stable").drop(columns="_lv")
    return out.reset_index(drop=True)


def to_json(frame: pd.DataFrame) -> str:
    """The coverage table as a JSON list of objects (the ``--format json`` output)."""
    return json.dumps(frame.to_dict(orient="records"), ensure_ascii=False, indent=1)


def to_csv(frame: pd.DataFrame) -> str:
    """One row per indicator x level x year; ``sources`` as ``id (herkomst, n); ...``."""
    flat = frame.copy()
    flat["sources"] = [sources_text(s) for s in flat["sources"]]
    return sheets.csv_plain(flat).decode("utf-8")  # formulas neutralised (issue 18.2)


def sources_text(sources: list[dict]) -> str:
    """``kwb-2024-statline-csv (spiegel, 14574); ...``."""
    return "; ".join(f"{s['source_id']} ({s['origin']}, {s['regions']})" for s in sources)


def matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """A compact view: one row per indicator x level, one column per year (region counts)."""
    if frame.empty:
        return pd.DataFrame(columns=["indicator", "level"])
    wide = frame.pivot_table(index=["indicator", "level"], columns="year", values="regions",
                             aggfunc="sum").reset_index()
    wide["_lv"] = wide["level"].map(LEVEL_ORDER).fillna(9)
    wide = wide.sort_values(["indicator", "_lv"], kind="stable").drop(columns="_lv")
    wide.columns = [str(c) for c in wide.columns]
    for col in wide.columns[2:]:
        wide[col] = wide[col].map(lambda v: "" if pd.isna(v) else str(int(v)))
    return wide.reset_index(drop=True)


def load(path: Path | str) -> pd.DataFrame:
    """Read a coverage table written with ``--format json``."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, list):
        raise ValueError(f"{path}: geen dekkingstabel (verwacht een JSON-lijst)")
    frame = pd.DataFrame(data)
    missing = [c for c in ("indicator", "level", "year", "regions") if c not in frame.columns]
    if missing and len(frame):
        raise ValueError(f"{path}: veld {missing[0]!r} ontbreekt")
    return frame


def compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``before`` whose number of shown regions dropped in ``after``.

    Returns a DataFrame ``indicator, level, year, before, after, change`` (``change < 0``);
    empty when nothing was lost. A row absent from ``after`` counts as 0.
    """
    keys = ["indicator", "level", "year"]
    b = before[keys + ["regions"]].rename(columns={"regions": "before"})
    a = after[keys + ["regions"]].rename(columns={"regions": "after"}) if len(after) else \
        pd.DataFrame(columns=keys + ["after"])
    merged = b.merge(a, on=keys, how="left")
    merged["after"] = merged["after"].fillna(0).astype(int)
    merged["change"] = merged["after"] - merged["before"].astype(int)
    return merged[merged["change"] < 0].reset_index(drop=True)


def gains(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``after`` that show more regions than in ``before`` (new rows included)."""
    keys = ["indicator", "level", "year"]
    a = after[keys + ["regions"]].rename(columns={"regions": "after"})
    b = before[keys + ["regions"]].rename(columns={"regions": "before"}) if len(before) else \
        pd.DataFrame(columns=keys + ["before"])
    merged = a.merge(b, on=keys, how="left")
    merged["before"] = merged["before"].fillna(0).astype(int)
    merged["change"] = merged["after"].astype(int) - merged["before"]
    return merged[merged["change"] > 0].reset_index(drop=True)


def to_markdown(wide: pd.DataFrame) -> str:
    """A :func:`matrix` as a Markdown table (for the README)."""
    cols = list(wide.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in wide.itertuples(index=False):
        lines.append("| " + " | ".join(f"`{v}`" if i == 0 else str(v) for i, v in enumerate(row)) + " |")
    return "\n".join(lines) + "\n"
