"""Which publication series each figure of a unit comes from, for the break marks in the
charts and the gap classes of the area pages (:mod:`wijkmonitor.comparability`).

* A CBS region's figure carries its ``source_id``; its table gives the series.
* A gemeente that is an area's reference shows harmonised values (``source`` is a method);
  its series is that of the figure with the same value in ``harmonised_values`` (which keeps
  the source id) or in ``indicator_values``; NL likewise through ``NL00``.
* Groups (G4 ...) are sums of harmonised gemeenten: the series most of those came from.
* Areas, the rest of a gemeente, groups and NL are sums of parts: their series is the series
  most of the parts' figures at that level came from in that year (buurt or wijk for areas,
  gemeente for groups), counting figures on their own year's division first, then the
  publisher's own table before a re-publication (source rank).
"""

from __future__ import annotations

import pandas as pd

from .. import comparability

_LEVEL_PREFIX = {"buurt": "BU", "wijk": "WK", "gemeente": "GM"}


def _source_series(ws) -> dict[str, str]:
    def load():
        decl = comparability.load()
        src = ws.sources()
        return {r["source_id"]: decl.family(r.get("table_id"), r.get("title")).id
                for r in src.to_dict("records")}
    return ws.cached("source_series", load)


def _dominant(ws) -> dict[tuple[str, int, str], str]:
    """``{(indicator, period, level prefix): series}``: the series most figures came from."""
    def load():
        # figures on the division of their own year count first (a re-publication on a later
        # division, e.g. 2016 figures on the 2024 buurten, is what fills the years the
        # publisher's own table does not have)
        # and among those the publisher's own table before a re-publication (source rank, the
        # order compute uses to pick one figure per region)
        df = ws.df("SELECT v.indicator, v.period, left(v.region_code, 2) AS lv, v.source_id, "
                   "v.geo_year = v.period AS own, min(s.rank) AS rank, count(*) AS n "
                   "FROM indicator_values v JOIN sources s USING (source_id) "
                   "WHERE v.status = 'ok' GROUP BY ALL")
        df["series"] = df["source_id"].map(_source_series(ws))
        df = df.groupby(["indicator", "period", "lv", "series"], as_index=False).agg(
            own=("own", "max"), rank=("rank", "min"), n=("n", "sum"))
        df = df.sort_values(["own", "rank", "n"], ascending=[False, True, False]) \
            .drop_duplicates(["indicator", "period", "lv"], keep="first")
        return {(r.indicator, int(r.period), r.lv): r.series for r in df.itertuples()}
    return ws.cached("dominant_series", load)


def _region_sources(ws, code: str) -> dict[tuple[str, int], list[tuple[float, str]]]:
    """``{(indicator, period): [(value, series), ...]}`` of one CBS code: its harmonised
    figures (what a gemeente reference shows) and its own figures in every division."""
    def load():
        m = _source_series(ws)
        out: dict = {}
        for table in ("harmonised_values", "indicator_values"):
            try:
                df = ws.df(f"SELECT indicator, period, value, source_id FROM {table} "
                           "WHERE region_code = ? AND status = 'ok'", [code])
            except Exception:  # a store without harmonised values
                continue
            for r in df.itertuples():
                out.setdefault((r.indicator, int(r.period)), []).append((r.value, m.get(r.source_id)))
        return out
    return ws.lru("region_series", 512).get_or_put(code, load)


def _harmonised_dominant(ws) -> dict[tuple[str, int], str]:
    """``{(indicator, period): series}`` most of the harmonised gemeente figures came from
    (the groups G4 ... are sums of these)."""
    def load():
        try:
            df = ws.df("SELECT indicator, period, source_id, count(*) AS n FROM harmonised_values "
                       "WHERE status = 'ok' AND source_id IS NOT NULL GROUP BY ALL")
        except Exception:
            return {}
        df["series"] = df["source_id"].map(_source_series(ws))
        df = df.groupby(["indicator", "period", "series"], as_index=False)["n"].sum()
        df = df.sort_values("n").drop_duplicates(["indicator", "period"], keep="last")
        return {(r.indicator, int(r.period)): r.series for r in df.itertuples()}
    return ws.cached("harmonised_series", load)


def _match(candidates: list[tuple[float, str]], value) -> str | None:
    """The series of the figure equal to the shown ``value`` (else the first one known)."""
    for v, s in candidates:
        if s and value is not None and v is not None and abs(float(v) - float(value)) <= 1e-9 * max(1.0, abs(float(v))):
            return s
    return next((s for _, s in candidates if s), None)


def unit_series(ws, u, values: pd.DataFrame) -> dict[str, dict[int, str | None]]:
    """``{indicator: {year: publication series}}`` of the shown figures of unit ``u``
    (``values``: the unit's rows, columns indicator, period, status, value, source)."""
    ok = values[values["status"] == "ok"]
    rows = zip(ok["indicator"].tolist(), ok["period"].tolist(), ok["value"].tolist(), ok["source"].tolist())
    src_map = _source_series(ws)
    dom = _dominant(ws)
    out: dict[str, dict[int, str | None]] = {}
    if u.kind in ("gemeente", "wijk", "buurt") or u.id == "NL":
        code = "NL00" if u.id == "NL" else u.id
        prefix = _LEVEL_PREFIX.get(u.kind, "GM")
        own = None
        for ind, period, value, source in rows:
            period = int(period)
            s = src_map.get(source)
            if s is None:
                own = own if own is not None else _region_sources(ws, code)
                s = _match(own.get((ind, period), []), value)
            if s is None and u.id == "NL":
                s = _harmonised_dominant(ws).get((ind, period))
            out.setdefault(ind, {})[period] = s or dom.get((ind, period, prefix))
        return out
    if u.kind in ("group", "set") and not str(u.id).startswith("alle:"):
        hd = _harmonised_dominant(ws)
        for ind, period, _, _ in rows:
            out.setdefault(ind, {})[int(period)] = hd.get((ind, int(period))) or dom.get((ind, int(period), "GM"))
        return out
    prefix = _LEVEL_PREFIX.get(u.level or "", "GM") if u.kind in ("area", "rest") else "GM"
    for ind, period, _, _ in rows:
        out.setdefault(ind, {})[int(period)] = dom.get((ind, int(period), prefix))
    return out
