"""Build step ``Gebieden en referentiegroepen``: the tables ``area_index`` and ``area_values``
for every declared area, the rest of its gemeente, the reference groups and programmes, and NL.

The rules by which an area's parts are added up are those of :mod:`wijkmonitor.aggregate`;
the groups are put on one geography by :func:`wijkmonitor.series.harmonise_reference_units`.
This step runs after both (``series`` uses the aggregation rules, this step uses both), so the
imports run one way: ``area_tables -> series -> aggregate``.
"""

from __future__ import annotations

import contextlib
from typing import Sequence

import duckdb
import pandas as pd

from .aggregate import (AREA_VALUE_COLUMNS, AREA_VALUES_SQL, RECODING_COLUMNS, Unit, aggregate,
                        aggregate_national, bridge_recoded,
                        units_for_areas, units_for_groups)
from .catalogue import Catalogue, load_catalogue
from .series import harmonise_reference_units

SET_PREFIX = "alle:"


def build_area_tables(con: duckdb.DuckDBPyConnection, areas: Sequence | None = None,
                      catalogue: Catalogue | None = None) -> int:
    """Write ``area_index`` and ``area_values`` into the store being built."""
    from . import areas as areas_mod

    catalogue = catalogue or load_catalogue()
    areas = list(areas if areas is not None else areas_mod.load_areas().values())
    regions = con.execute("SELECT code, year, level, name, gemeente_code FROM regions").df()
    units = units_for_areas(areas, regions)
    gemeenten = sorted({a.gemeente for a in areas})
    successors = {}
    for gm in gemeenten:
        with contextlib.suppress(Exception):
            succ = areas_mod.successor_gemeente(gm, 2100)
            if succ and succ != gm:
                successors[gm] = succ
    # the stedelijk gemiddelde: the gemeente as published, on the division nearest its areas'
    # reference year -- the same rule that picks the division of the areas' parts, so that an
    # area and its gemeente come from one publication (one model run, one geography; issue 15)
    ref_year: dict[str, int] = {}
    for a in areas:
        for gm in (a.gemeente, successors.get(a.gemeente)):
            if gm:
                ref_year[gm] = max(ref_year.get(gm, a.reference_year), a.reference_year)
    units += [Unit(gm, "gemeente", (gm,), ref_year.get(gm), gm)
              for gm in sorted(set(gemeenten) | set(successors.values()))]
    groups = {gid: tuple(g.members) for gid, g in areas_mod.load_groups().items()
              if g.members is not None}  # NL (all gemeenten): aggregate_national
    units += units_for_groups(groups)
    for programme in sorted({a.programme for a in areas}):
        codes = tuple(sorted({c for a in areas if a.programme == programme for c in a.codes}))
        units.append(Unit(SET_PREFIX + programme, "set", codes, None))
    values = aggregate(con, units, catalogue)
    # areas drawn before a gemeente recoded its wijken/buurten (Amsterdam 2022): followed onto
    # the new codes through the gemeente's crosswalk where that accounts for the area
    bridges: list[dict] = []
    values = bridge_recoded(con, values, units, catalogue, record=bridges)
    # the G-groups on one geography for all years (issue 5); the gemeenten stay as published
    values = harmonise_reference_units(con, values, catalogue)
    values = _fill_successors(values, successors)
    national = aggregate_national(con, catalogue)
    values = pd.concat([values, national], ignore_index=True)
    index = pd.DataFrame([dict(
        area_id=a.id, name=a.name, programme=a.programme, gemeente=a.gemeente,
        gemeente_unit=a.gemeente, gemeente_successor=successors.get(a.gemeente),
        gemeente_name=getattr(a, "gemeente_name", None), level=a.level,
        reference_year=a.reference_year, n_codes=len(a.codes), codes=",".join(a.codes),
        removed=getattr(a, "removed", None), delineation_note=getattr(a, "delineation_note", ""))
        for a in areas])
    con.execute("DROP TABLE IF EXISTS area_values")
    con.execute("DROP TABLE IF EXISTS area_index")
    con.execute(AREA_VALUES_SQL)
    con.register("av_df", values)
    con.execute(f"INSERT INTO area_values SELECT {', '.join(AREA_VALUE_COLUMNS)} FROM av_df "
                "ORDER BY unit_id, indicator, period")
    con.unregister("av_df")
    con.register("ai_df", index)
    con.execute("CREATE TABLE area_index AS SELECT * FROM ai_df")
    con.unregister("ai_df")
    # every unit followed across a recoding: the new codes its later figures are added up from
    con.execute("DROP TABLE IF EXISTS area_recodings")
    con.register("ar_df", pd.DataFrame(bridges, columns=RECODING_COLUMNS))
    con.execute("CREATE TABLE area_recodings AS SELECT * FROM ar_df")
    con.unregister("ar_df")
    return len(values)


def _fill_successors(values: pd.DataFrame, successors: dict[str, str]) -> pd.DataFrame:
    """A merged gemeente keeps its successor's figures for the periods after the merger.

    Only periods in which the old code had certainly gone (``successor_gemeente(old, period)``
    is the successor): a period before the merger in which the old gemeente simply has no
    figure stays without one, and so does a period the merger table cannot place.
    """
    from .areas import MergerError, successor_gemeente

    def merged(old: str, new: str, period: int) -> bool:
        try:
            return successor_gemeente(old, int(period)) == new
        except MergerError:
            return False

    extra = []
    for old, new in successors.items():
        have = set(zip(values.loc[values["unit_id"] == old, "indicator"],
                       values.loc[values["unit_id"] == old, "period"]))
        succ = values[values["unit_id"] == new]
        add = succ[[(i, p) not in have and merged(old, new, p)
                    for i, p in zip(succ["indicator"], succ["period"])]].copy()
        add["unit_id"] = old
        add["method"] = "opvolger " + new
        extra.append(add)
    return pd.concat([values, *extra], ignore_index=True) if extra else values
