"""The compact table "Leeftijd meegerekend" of an area fiche: per 50090NED health indicator the
change of the crude and of the age-standardised gap to the gemeente
(:func:`wijkmonitor.composition.standardised_gaps`; nothing is recomputed here but the wording).

The store facts are kept on the :class:`~.data.StoreData` object, so a process that writes
several fiches reads them once.
"""

from __future__ import annotations

from .. import composition, store
from .data import StoreData
from .format import is_number, nl_difference

TITLE = "Leeftijd meegerekend"
NOT_COMPUTABLE = "niet te berekenen"


def _facts(data: StoreData, con) -> composition.StoreFacts:
    hit = data.__dict__.get("_composition_facts")
    if hit is None:
        hit = composition.store_facts(con, data.catalogue)
        data.__dict__["_composition_facts"] = hit
    return hit


def _gap(x, decimals: int) -> str | None:
    return nl_difference(x, decimals) if is_number(x) else None


def area(data: StoreData, area_id: str, baseline: int, latest: int) -> dict | None:
    """The table's context for one area (None when the store has no 50090NED estimates).

    Returns
    -------
    dict or None
        ``title, theme, plain, standard, rule, reference_name, rows`` with per row ``name,
        years, crude, standardised`` (formatted gap changes, or None) and ``crude_reason,
        standardised_reason`` (the Dutch reason where a change is not computable).
    """
    standard = composition.load_standard()
    con = store.connect(data.path)
    try:
        facts = _facts(data, con)
        ids = [i for i, ok in zip(facts.table["indicator"], facts.table["standardisable"]) if ok]
        if not ids:
            return None
        try:
            results = composition.standardised_gaps(con, area_id, ids, baseline, latest, facts=facts,
                                                    standard=standard, catalogue=data.catalogue)
        except composition.CompositionError as exc:
            results, error = [], str(exc)
        else:
            error = None
    finally:
        con.close()
    cat = data.catalogue
    rows, reference = [], None
    for res in results:
        s = composition.gap_summary(res)
        reference = reference or res.get("reference_name")
        dec = cat[s["indicator"]].decimals
        by, ly = s["baseline_year"], s["latest_year"]
        rows.append(dict(
            name=s["indicator_name"], derived=s["derived"],
            years=("–" if not by else str(by) if by == ly else f"{by}–{ly}"),
            crude=_gap(s["crude_change"], dec), crude_reason=s["crude_reason"],
            standardised=_gap(s["standardised_change"], dec), standardised_reason=s["standardised_reason"]))
    home = "ervaren_gezondheid_pct" if "ervaren_gezondheid_pct" in ids else ids[0]
    return dict(title=TITLE, theme=cat[home].theme.split()[0], plain=composition.plain_rule(standard),
                standard=standard.name, rule=composition.rule_text(standard), reference_name=reference,
                rows=rows, error=error, any_derived=any(r["derived"] for r in rows),
                derived_text=composition.DERIVED_TEXT, area_id=area_id)
