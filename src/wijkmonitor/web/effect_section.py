"""The section "Vergeleken met vergelijkbare wijken" on an area page: the difference-in-
differences estimates of :mod:`wijkmonitor.effect` for the area, worded for the site (nothing
is computed here but the layout; the effect input is read once per store version)."""

from __future__ import annotations

from .. import effect
from ..nlformat import is_number, nl_difference
from .data import Unit, WebStore

TITLE = "Vergeleken met vergelijkbare wijken"


def effect_data(ws: WebStore) -> effect.EffectData:
    """The effect input of the site's store (read once per store version)."""
    return ws.built("effect_data", lambda: effect.load(con=ws.con(), catalogue=ws.catalogue,
                                                       values=ws.area_values(), index=ws.area_index()))


def section(ws: WebStore, u: Unit, baseline: int, latest: int) -> dict | None:
    """The section's content for an area (None for anything that is not an area of a
    programme): one row per indicator of ``effect.yaml`` in the years nearest to the page's."""
    if u.kind != "area":
        return None
    data = effect_data(ws)
    if u.id not in set(data.index["area_id"]):
        return None
    # the same for every pair of page years with the same effective years: kept per unit and those
    key = (u.id, tuple(effect.nearest_years(data, ind, baseline, latest) for ind in effect.INDICATORS))
    return ws.lru("effect_section", 256).get_or_put(key, lambda: _section(ws, data, u, baseline, latest))


def _section(ws: WebStore, data, u: Unit, baseline: int, latest: int) -> dict:
    rows = effect.effects_all(data, [u.id], baseline, latest)
    cat = ws.catalogue
    out = []
    for r in rows:
        ind = cat[r["indicator"]]
        ok = r["status"] == effect.STATUS_OK
        out.append(dict(
            id=ind.id, name=ind.name, unit=ind.unit, shown=ok,
            years=f"{r['baseline_year']}–{r['latest_year']}" if r["baseline_year"] else "—",
            estimate=nl_difference(r["estimate"], ind.decimals, ind.unit) if ok else None,
            interval=(f"{nl_difference(r['lower'], ind.decimals)} tot {nl_difference(r['upper'], ind.decimals)}"
                      if ok and is_number(r["lower"]) else None),
            area_change=nl_difference(r["area_change"], ind.decimals) if ok else None,
            comparison_change=nl_difference(r["comparison_change"], ind.decimals) if ok else None,
            n_comparison=r["n_comparison"], comparison_areas=r["comparison_areas"],
            outcome=effect.outcome(r, ind), reading=effect.reading(r, ind), reason=r["reason"],
            pre_trend=r["pre_trend"]))
    note = rows[0]["pre_trend_note"] if rows else ""
    return dict(title=TITLE, rows=out, method=effect.method_text(), method_name=effect.METHOD_SHORT,
                caveat=effect.CAVEAT, pre_note=note[:1].upper() + note[1:], k=effect.K)
