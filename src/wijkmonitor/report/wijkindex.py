"""The Wijkindex in the reports: the index of an area in its fiche (value, decile, rank with
its 90 % interval, change since the base year, domain scores) and, in the national report,
the areas of the programme listed by index with their rank intervals.

Read from the stored ``wijkindex_values`` (:func:`wijkmonitor.wijkindex.select.unit_profile`);
nothing is recomputed."""

from __future__ import annotations

import pandas as pd

from .. import store
from ..nlformat import nl_number
from ..wijkindex.model import load_index
from ..wijkindex.select import rank_text, readable, unit_profile

#: The sentence every listing of ranks carries (README "Wijkindex", sensitivity).
OVERLAP_RULE = ("Tussen haakjes staat bij elke rang het 90%-interval: de rang van het gebied in 1.000 "
                "herberekeningen met andere gewichten (elk gewicht maal 0,5 tot 1,5), de andere "
                "normalisatie en telkens één weggelaten indicator. Twee gebieden waarvan de intervallen "
                "overlappen, verschillen niet echt van elkaar: lees rang 12 en rang 15 dan niet als "
                "verschillend.")


#: The mark of a score computed from an approximated input (the area page's 'b').
APPROX_MARK = " b"


def _signed(x: float) -> str:
    s = nl_number(abs(x), 1)
    return ("+" if x > 0 else "−" if x < 0 else "") + s


def fiche(data, area_id: str) -> dict | None:
    """Context of the fiche's Wijkindex paragraph (None: no Wijkindex in the store)."""
    try:
        con = store.connect(data.path)
    except Exception:  # noqa: BLE001 - a fiche without the index, not a failed fiche
        return None
    try:
        prof = unit_profile(con, area_id)
    finally:
        con.close()
    if prof is None:
        return None
    if prof["value"] is not None:
        text = (f"{prof['name']} {prof['year']}: {nl_number(prof['value'], 1)}{APPROX_MARK if prof['approximation'] else ''} (0-100, hoger is meer "
                f"achterstand), deciel {prof['decile']} van de {prof['n_nl']} gebieden van dit niveau in "
                f"Nederland (plaats {prof['rank_nl']})")
        if prof["rank_programme"]:
            text += (f"; {rank_text(prof['rank_programme'], prof['rank_programme_interval'])} van de "
                     f"{prof['n_programme']} gebieden van het programma met een index in {prof['year']}")
        text += ". "
        text += (f"Verandering sinds het basisjaar {prof['base_year']}: {_signed(prof['change'])} punt."
                 if prof["change"] is not None else
                 f"Verandering sinds het basisjaar {prof['base_year']}: niet te berekenen ({prof['change_reason']}).")
    else:
        text = f"Geen {prof['name'].lower()} in {prof['year']}: {prof['reason']}."
    rows = [dict(naam=d["naam"], score=(nl_number(d["score"], 1) + (APPROX_MARK if d["approximation"] else ""))
                 if d["score"] is not None else "–",
                 decile=str(d["decile"]) if d["decile"] else "",
                 change=_signed(d["change"]) if d["change"] is not None else (d["change_reason"] or ""))
            for d in prof["domains"]]
    texts = [prof["approximation"]] + [d["approximation"] for d in prof["domains"]]
    notes = [f"b: {t}: een benadering; de score is berekend uit die waarden, de rang-intervallen bevatten "
             f"de fout van de benadering niet." for t in dict.fromkeys(t for t in texts if t)]
    return dict(text=text, rows=rows, year=prof["year"], base_year=prof["base_year"], version=prof["version"],
                rule=OVERLAP_RULE, approximation_notes=notes)


def programme_ranking(con, programme: str, index: str | None = None) -> dict | None:
    """The areas of ``programme`` by index in the year in which most of them have one (ties:
    the later year): ``rows`` (name, value, decile, rank with interval) most achterstand first,
    ``missing`` (areas without an index that year, with the reason)."""
    spec = load_index() if index is None else None
    index_id = spec.id if spec else index
    if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'wijkindex_values'"
                       ).fetchone()[0]:
        return None
    df = con.execute("""
        SELECT v.unit_id, i.name, v.period, v.value, v.status, v.reason, v.decile, v.rank_programme,
               v.n_programme, v.rank_programme_low, v.rank_programme_high, v.index_version
        FROM wijkindex_values v JOIN area_index i ON i.area_id = v.unit_id
        WHERE v.component = ? AND v.unit_kind = 'area' AND v.programme = ?""", [index_id, programme]).df()
    if df.empty:
        return None
    ok = df[df["status"] == "ok"]
    if ok.empty:
        return dict(year=None, rows=[], missing=[], n_areas=int(df["unit_id"].nunique()), rule=OVERLAP_RULE,
                    version=str(df["index_version"].iloc[0]))
    counts = ok.groupby("period").size()
    year = int(max(counts.index, key=lambda y: (counts[y], y)))
    cur = df[df["period"] == year]
    rows = []
    for r in cur[cur["status"] == "ok"].sort_values(["rank_programme", "name"]).itertuples(index=False):
        iv = None if pd.isna(r.rank_programme_low) else [int(r.rank_programme_low), int(r.rank_programme_high)]
        rows.append(dict(area_id=r.unit_id, name=r.name, value=float(r.value), value_text=nl_number(r.value, 1),
                         decile=None if pd.isna(r.decile) else int(r.decile), rank=int(r.rank_programme),
                         interval=iv, rank_text=rank_text(int(r.rank_programme), iv)))
    all_ids = df[["unit_id", "name"]].drop_duplicates("unit_id")
    have = set(cur.loc[cur["status"] == "ok", "unit_id"])
    reasons = cur.set_index("unit_id")["reason"]
    missing = [dict(name=n, reason=(readable(reasons.get(u)) if isinstance(reasons.get(u), str)
                                    else f"geen cijfers in {year}"))
               for u, n in zip(all_ids["unit_id"], all_ids["name"]) if u not in have]
    missing.sort(key=lambda m: m["name"])
    return dict(year=year, rows=rows, missing=missing, n_areas=len(all_ids), rule=OVERLAP_RULE,
                version=str(df["index_version"].iloc[0]))


def national(data, programme: str) -> dict | None:
    """Context of the national report's Wijkindex section."""
    try:
        con = store.connect(data.path)
    except Exception:  # noqa: BLE001
        return None
    try:
        return programme_ranking(con, programme)
    finally:
        con.close()
