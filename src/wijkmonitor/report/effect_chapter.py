"""The chapter "Vergeleken met vergelijkbare wijken" of the national report and the matching
section of an area fiche: the difference-in-differences estimates of :mod:`wijkmonitor.effect`
(nothing is recomputed here; this module only words and formats them).

The effect input (regions' values, read once) is kept on the :class:`~.data.StoreData` object,
so a process that writes the national report and several fiches reads it once.
"""

from __future__ import annotations

from .. import effect
from .data import StoreData
from .format import is_number, nl_difference, nl_join

TITLE = "Vergeleken met vergelijkbare wijken"


def effect_data(data: StoreData) -> effect.EffectData:
    """The effect input of ``data``'s store, read on first use and kept on ``data``."""
    hit = data.__dict__.get("_effect_data")
    if hit is None:
        hit = effect.load(path=data.path, catalogue=data.catalogue)
        data.__dict__["_effect_data"] = hit
    return hit


def _row(r: dict, ind) -> dict:
    ok = r["status"] == effect.STATUS_OK
    dec = ind.decimals
    return dict(
        area=r["area"], area_name=r["area_name"],
        estimate=nl_difference(r["estimate"], dec) if ok else "—",
        interval=(f"{nl_difference(r['lower'], dec)} tot {nl_difference(r['upper'], dec)}"
                  if ok and is_number(r["lower"]) else "—"),
        area_change=nl_difference(r["area_change"], dec) if ok else "—",
        comparison_change=nl_difference(r["comparison_change"], dec) if ok else "—",
        n_comparison=r["n_comparison"], pre_trend="ja" if r["pre_trend"] else "nee",
        pre_trend_note=r["pre_trend_note"], status=r["status"], reason=r["reason"], shown=ok,
        direction=effect.direction(r), reading=effect.reading(r, ind), outcome=effect.outcome(r, ind),
        years=(f"{r['baseline_year']}–{r['latest_year']}" if r["baseline_year"] else "—"),
        comparison_areas=", ".join(r["comparison_areas"]), method=r["method"])


def chapter(rows: list[dict], catalogue, *, areas_word: str = "gebieden") -> dict:
    """The chapter's context from :func:`wijkmonitor.effect.effects_all` rows (one table per
    indicator, one row per area; counts per direction; the pre-trend summary)."""
    by_ind: dict[str, list[dict]] = {}
    for r in rows:
        by_ind.setdefault(r["indicator"], []).append(r)
    indicators = []
    for iid, rs in by_ind.items():
        ind = catalogue[iid]
        shown = [_row(r, ind) for r in rs]
        est = [r for r in rs if r["status"] == effect.STATUS_OK]
        years = next((f"{r['baseline_year']}–{r['latest_year']}" for r in rs if r["baseline_year"]), "—")
        hib = ind.higher_is_better
        counts = dict(n=len(rs), estimated=len(est),
                      higher=sum(effect.direction(r) == "hoger" for r in est),
                      lower=sum(effect.direction(r) == "lager" for r in est),
                      unclear=sum(effect.direction(r) == "onduidelijk" for r in est))
        if hib is None:
            better = worse = None
        else:
            better = counts["higher"] if hib else counts["lower"]
            worse = counts["lower"] if hib else counts["higher"]
        indicators.append(dict(id=iid, name=ind.name, unit=ind.unit, polarity=ind.polarity, years=years,
                               rows=shown, better=better, worse=worse, **counts))
    pre = [r for r in rows if r["pre_trend"]]
    areas_with_pre = sorted({r["area_name"] for r in pre})
    n_areas = len({r["area"] for r in rows})
    if areas_with_pre:
        pre_text = (f"Bij {len(areas_with_pre)} van de {n_areas} {areas_word} telde de ontwikkeling vóór het "
                    f"basisjaar mee ({pre[0]['pre_trend']}): {nl_join(areas_with_pre)}. Bij de andere niet; "
                    f"de reden staat per gebied in de tabellen.")
    else:
        pre_text = (f"Bij geen van de {n_areas} {areas_word} kon de ontwikkeling vóór het basisjaar "
                    f"meetellen; de reden staat per gebied in de tabellen.")
    return dict(title=TITLE, method=effect.method_text(), method_name=effect.METHOD_SHORT, caveat=effect.CAVEAT,
                indicators=indicators, pre_text=pre_text, k=effect.K)


def national(data: StoreData, programme: str, baseline: int, latest: int, *, areas_word: str = "gebieden") -> dict:
    """The chapter for the areas of ``programme`` (each indicator of ``effect.yaml`` in the
    years nearest to ``baseline`` and ``latest`` that it is published per region)."""
    rows = effect.effects_all(effect_data(data), programme, baseline, latest)
    return chapter(rows, data.catalogue, areas_word=areas_word)


def area(data: StoreData, area_id: str, baseline: int, latest: int) -> dict:
    """The fiche section of one area: one row per indicator."""
    rows = effect.effects_all(effect_data(data), [area_id], baseline, latest)
    ctx = chapter(rows, data.catalogue, areas_word="gebied")
    ctx["rows"] = [dict(name=it["name"], **it["rows"][0]) for it in ctx["indicators"] if it["rows"]]
    note = rows[0]["pre_trend_note"] if rows else ""
    ctx["pre_note"] = note[:1].upper() + note[1:]
    return ctx
