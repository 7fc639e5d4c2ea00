"""Breaks in a series: where the figures of one unit change publication (issue 17.6).

A *publication series* groups the publisher tables that continue one statistic
(``comparability.yaml``: the yearly KWB tables are one series; RIVM 50090NED and the
Gezondheidsmonitor 50150NED are two). A *break* is a pair of consecutive years of one unit's
figures whose series differ and are not declared comparable for that indicator. The website
marks a break in the chart and computes no gap class across it.

>>> load().family("50090NED", "Gezondheid per wijk en buurt").id
'rivm-50090ned'
>>> d = load()
>>> d.breaks("ervaren_gezondheid_pct", {2016: "rivm-50090ned", 2020: "rivm-50090ned",
...                                      2022: "gezondheidsmonitor-50150ned"})
[Break(before=2020, after=2022, series_before='rivm-50090ned', series_after='gezondheidsmonitor-50150ned')]
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import yaml

PATH = Path(__file__).with_name("comparability.yaml")

#: The class of a gap whose baseline and latest figures lie on both sides of a break.
BREAK_CLASS = "bron veranderd"
#: Joins the series of a figure added up from parts of several publication series.
MIXED = " + "


@dataclass(frozen=True)
class Series:
    id: str
    name: str


@dataclass(frozen=True)
class Break:
    before: int            # last year of the old series
    after: int             # first year of the new one
    series_before: str
    series_after: str


@dataclass
class Declaration:
    """The publication series and the declared comparable pairs."""
    rules: list[tuple[Series, re.Pattern | None, re.Pattern | None]]
    comparable: list[tuple[str, frozenset[str]]]

    def family(self, table_id: str | None, title: str | None = None) -> Series:
        """The publication series of a publisher table (its own series when none matches)."""
        for series, table_rx, title_rx in self.rules:
            if (table_rx is not None and table_id and table_rx.search(table_id)) or \
                    (title_rx is not None and title and title_rx.search(title)):
                return series
        tid = table_id or "onbekend"
        return Series(id=tid, name=f"{title} ({tid})" if title else tid)

    def name(self, series_id: str) -> str:
        if MIXED in series_id:
            return MIXED.join(self.name(x) for x in series_id.split(MIXED))
        for series, _, _ in self.rules:
            if series.id == series_id:
                return series.name
        return series_id

    def comparable_pair(self, indicator: str, a: str, b: str) -> bool:
        if a == b:
            return True
        return any(ind in ("*", indicator) and {a, b} <= members for ind, members in self.comparable)

    def breaks(self, indicator: str, series_by_year: dict[int, str | None]) -> list[Break]:
        """Breaks between consecutive years (years without a known series are skipped)."""
        years = sorted(y for y, s in series_by_year.items() if s)
        out = []
        for a, b in zip(years, years[1:]):
            sa, sb = series_by_year[a], series_by_year[b]
            if not self.comparable_pair(indicator, sa, sb):
                out.append(Break(a, b, sa, sb))
        return out


def crossing(breaks: list[Break], baseline: int | None, latest: int | None) -> Break | None:
    """The first break that lies between ``baseline`` and ``latest`` (None if none)."""
    if baseline is None or latest is None:
        return None
    lo, hi = min(baseline, latest), max(baseline, latest)
    return next((b for b in sorted(breaks, key=lambda b: (b.before, b.after))
                 if lo <= b.before and b.after <= hi), None)


def gap_break(indicator: str, series_by_unit: Iterable[Mapping[int, str | None]],
              baseline: int | None, latest: int | None, decl: Declaration | None = None) -> Break | None:
    """The rule of issue 17.6 for one gap: a compared unit (the area or its reference) whose
    figure in ``baseline`` and figure in ``latest`` come from two publication series that are
    not declared comparable; returns the first break of that unit between the two years (None
    when every unit compares like with like).

    ``series_by_unit``: per unit ``{year: publication series}`` of its shown figures. A gap
    uses only the baseline and latest figures, so a unit whose series changes and changes
    back (2021 and 2025 from one table, 2022 from another) compares like with like; the chart
    still marks both changes. A year without a known series is not judged.

    >>> gap_break("ervaren_gezondheid_pct", [{2020: "rivm-50090ned"},
    ...           {2020: "rivm-50090ned", 2022: "gezondheidsmonitor-50150ned"}], 2020, 2022).after
    2022
    """
    if baseline is None or latest is None or baseline == latest:
        return None
    decl = decl or load()
    for series in series_by_unit:
        a, b = series.get(baseline), series.get(latest)
        if not a or not b or decl.comparable_pair(indicator, a, b):
            continue
        inside = crossing(decl.breaks(indicator, dict(series)), baseline, latest)
        return inside or Break(min(baseline, latest), max(baseline, latest), a, b)
    return None


def break_reason(b: Break, decl: Declaration | None = None) -> str:
    """Why a gap has no class across break ``b``, in Dutch (both series named)."""
    decl = decl or load()
    return (f"de bron van de cijfers veranderde tussen {b.before} en {b.after} "
            f"({decl.name(b.series_before)} → {decl.name(b.series_after)}); "
            "cijfers uit verschillende bronnen vergelijken we niet, dus er is geen oordeel "
            "over de ontwikkeling")


def source_series(sources, decl: Declaration | None = None) -> dict[str, str]:
    """``{source_id: publication series id}`` for a ``sources`` table (columns ``source_id``,
    ``table_id``, ``title``)."""
    decl = decl or load()
    out = {}
    for sid, tid, title in zip(sources["source_id"], sources["table_id"], sources["title"]):
        tid = tid if isinstance(tid, str) else None
        title = title if isinstance(title, str) else None
        out[sid] = decl.family(tid, title).id
    return out


def series_of(source_ids, by_source: Mapping[str, str]) -> str | None:
    """The publication series of a figure from its ``source_id`` (one id, or several joined by
    commas for a figure added up from parts). Parts from one series give that series; parts
    from several give them joined by :data:`MIXED` (a series of its own); an unknown source
    gives None (not judged)."""
    if not isinstance(source_ids, str) or not source_ids:
        return None
    found = {by_source.get(x.strip()) for x in source_ids.split(",") if x.strip()}
    if not found or None in found:
        return None
    return MIXED.join(sorted(found))


@functools.lru_cache(maxsize=4)
def load(path: Path | str = PATH) -> Declaration:
    """Read and check ``comparability.yaml`` (clear message naming the entry on an error)."""
    path = Path(path)
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules, ids = [], set()
    for i, s in enumerate(doc.get("series") or []):
        if not isinstance(s, dict) or not s.get("id") or not s.get("name") or not (s.get("table") or s.get("title")):
            raise ValueError(f"{path.name}: series[{i}] heeft id, name en table of title nodig")
        if s["id"] in ids:
            raise ValueError(f"{path.name}: series[{i}]: id {s['id']!r} komt twee keer voor")
        ids.add(s["id"])
        try:
            rules.append((Series(s["id"], s["name"]),
                          re.compile(s["table"]) if s.get("table") else None,
                          re.compile(s["title"]) if s.get("title") else None))
        except re.error as exc:
            raise ValueError(f"{path.name}: series[{i}] ({s['id']}): ongeldige reguliere expressie: {exc}") from None
    comparable = []
    for i, c in enumerate(doc.get("comparable") or []):
        members = c.get("series") if isinstance(c, dict) else None
        if not members or len(members) < 2 or not c.get("indicator") or not c.get("reason"):
            raise ValueError(f"{path.name}: comparable[{i}] heeft indicator, series (twee of meer) en reason nodig")
        comparable.append((str(c["indicator"]), frozenset(members)))
    return Declaration(rules, comparable)
