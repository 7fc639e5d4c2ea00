"""The section "Leeftijd meegerekend" on an area page: the crude and the age-standardised gap
change of the 50090NED health indicators (:mod:`wijkmonitor.composition`), worded for the site.
Nothing is computed here but the layout; the store facts and the rows the standardisation
reads (:func:`rows`) are read once per store version and
the page itself is cached per store version by :func:`wijkmonitor.web.pages.gebied`."""

from __future__ import annotations

from .. import composition
from ..nlformat import is_number, nl_difference
from .data import Unit, WebStore

TITLE = "Leeftijd meegerekend: ruwe en gestandaardiseerde afstand"
#: unit kinds that are one area or one region (a group or set of areas is not standardised)
KINDS = ("area", "gemeente", "wijk", "buurt")
NOT_COMPUTABLE = "niet te berekenen"


def facts(ws: WebStore) -> composition.StoreFacts:
    """What the site's store holds of 50090NED (read once per store version)."""
    return ws.built("composition_facts", lambda: composition.store_facts(ws.con(), ws.catalogue))


def rows(ws: WebStore) -> composition.StoreRows:
    """The rates and weights the section reads, in memory (read once per store version; warmed
    at server start, so that an uncached area page needs no query for this section)."""
    measures = [m for m in (composition.measure_of(i, ws.catalogue) for i in indicators(ws)) if m]
    # (the facts are read before: ``built`` runs one build at a time and does not nest)
    return ws.built("composition_rows",
                    lambda: composition.store_rows(ws.con(), measures, composition.load_standard()))


def indicators(ws: WebStore) -> list[str]:
    """The catalogue indicators that can be age-standardised, in catalogue order."""
    table = facts(ws).table
    return [i for i, ok in zip(table["indicator"], table["standardisable"]) if ok]


def _gap(x, decimals: int) -> str | None:
    return nl_difference(x, decimals) if is_number(x) else None


def section(ws: WebStore, u: Unit, baseline: int, latest: int) -> dict | None:
    """The section's content for an area or a single region (None for other units): one row
    per standardisable indicator in the 50090NED years nearest to the page's years."""
    if u.kind not in KINDS:
        return None
    # the same for every pair of page years with the same 50090NED years: kept per unit and those
    key = (u.id, composition.effective_years(facts(ws), indicators(ws), baseline, latest, ws.catalogue))
    return ws.lru("composition_section", 256).get_or_put(key, lambda: _section(ws, u, baseline, latest))


def _section(ws: WebStore, u: Unit, baseline: int, latest: int) -> dict:
    standard = ws.cached("composition_standard", composition.load_standard)
    out = dict(title=TITLE, plain=composition.plain_rule(standard), rule=composition.rule_text(standard),
               standard_name=standard.name, standard_source=standard.source, rows=[], error=None,
               notes=[], reference_name=None, derived_text=composition.DERIVED_TEXT)
    cat = ws.catalogue
    try:
        results = composition.standardised_gaps(ws.con(), u.id, indicators(ws), baseline, latest,
                                                facts=facts(ws), standard=standard, catalogue=cat,
                                                rows=rows(ws))
    except composition.CompositionError as exc:
        out["error"] = str(exc)
        return out
    for res in results:
        s = composition.gap_summary(res)
        dec = cat[s["indicator"]].decimals
        if out["reference_name"] is None and "reference_name" in res:
            out["reference_name"] = res["reference_name"]
        out["rows"].append(dict(
            id=s["indicator"], name=s["indicator_name"],
            single=s["baseline_year"] == s["latest_year"],
            years=(None if not s["baseline_year"] else str(s["baseline_year"])
                   if s["baseline_year"] == s["latest_year"] else f"{s['baseline_year']}–{s['latest_year']}"),
            crude=(_gap(s["crude_baseline"], dec), _gap(s["crude_latest"], dec)),
            crude_change=_gap(s["crude_change"], dec), crude_reason=s["crude_reason"],
            std=(_gap(s["standardised_baseline"], dec), _gap(s["standardised_latest"], dec)),
            std_change=_gap(s["standardised_change"], dec), std_reason=s["standardised_reason"],
            derived=s["derived"]))
    if out["reference_name"] == "Nederland":  # a gemeente is compared with the country
        out["plain"] = composition.plain_rule(standard, "Nederland")
    out["any_derived"] = any(r["derived"] for r in out["rows"])
    return out
