"""Harmonised series: every indicator, for every year, on the gemeenten of one target year.

Gemeenten merge almost every year (415 in 2012, 342 in 2024). A figure published for 2012 on
the 2012 gemeenten is moved onto the 2024 gemeenten through a crosswalk
(:mod:`wijkmonitor.harmonise`), so that a gemeente (and every group of gemeenten: G4, G14,
G18, NPLV19) has **one series on one territory** across all years: the 2012 value of a merged
gemeente is the sum of its predecessors' parts.

Moving values
-------------
For each source division (``geo_year`` of ``indicator_values``) the pieces of the crosswalk
carry the published numbers onto the target gemeenten, following the indicator:

* ``som`` -- counts are split by share and added;
* ``verhouding`` -- numerator and denominator are split and added, the rate is re-derived
  (``scale x numerator / denominator``), never averaged;
* ``gewogen gemiddelde`` -- ``value x weight`` and the weight are split and added (for published
  percentages and model estimates: a population- or base-weighted estimate, marked
  ``estimate``);
* ``niet optelbaar`` (medians, scores) -- only a target made of exactly one whole source region
  gets a value.

A target made of one whole source region (``identical``, or a single ``contained`` piece) keeps
that region's published value, numerator, denominator and status *exactly*.

Status and quality
------------------
* **Suppressed stays suppressed.** If any piece of a target is not shown in its own division
  (``geheim``, ``te weinig waarnemingen``, ``niet beschikbaar``, or absent), the target gets that
  status (``geheim`` first) and a ``reason`` naming the piece: nothing hidden is ever added in.
* ``quality`` is the share of the target's value (for ratios: the smaller of the numerator's
  and the denominator's share) that came from exact pieces (``identical``, ``nested``,
  ``contained``: whole regions). Values below ``min_quality`` (:data:`MIN_QUALITY`) are hidden
  as ``niet vergelijkbaar`` with the quality in the reason.
* ``method``: ``gepubliceerd`` (published on the target division), ``overgenomen`` (one whole
  region of another division), ``opgeteld`` (whole regions added up), ``verdeeld`` (some
  piece split by area or weight: an estimate).

Divisions without polygons
--------------------------
Territories come from the gemeente polygons of :func:`polygon_years`: the GeoJSON years 2012,
2017-2019 and 2022-2024 and the VWS TopoJSON of 2020 and 2021 (compared with a 5 % snap
tolerance for their simplification noise). The mirror also has polygons of 2013-2016, but too
coarse to place territories (used for maps only), and none of 2025. For a division year
``Y``, each gemeente of ``Y`` (the store's ``regions``) takes its territory from the
polygon year before (``prev``) or after (``next``) ``Y``, decided by CBS's merger list
(:mod:`wijkmonitor.areas.mergers`): a gemeente that absorbed others between ``prev`` and
``next`` takes the later territory when none of the absorbed gemeenten still appears in ``Y``
(and ``Y``'s list is complete), otherwise the earlier one. Every gemeente of ``prev`` must then
be covered exactly once; a target with an uncovered part is ``niet beschikbaar``, one with a
doubly covered part ``niet vergelijkbaar``, each with the reason. Years before the first polygon
year (2010, 2011) cannot be placed: ``niet vergelijkbaar``.

Per indicator, period and target the best candidate division wins: a shown value first, then
the highest quality, then the division nearest the period itself (ties: the later one). A year's
figure is thus taken as published on that year's own division where it exists. The RIVM
health estimates of 2012-2020 are published both on the 2020 division (50090NED) and on the
2024 division (50150NED, another model run, re-published by woonikveilig); a 2024 gemeente that
gained territory after 2020 (Tilburg with part of Haaren, Amsterdam with Weesp) takes the 2024
publication where it exists, since the 2020 one would have to be apportioned. This series is
therefore not the *stedelijk gemiddelde* of an area: that is the gemeente as published in the
same publication and division as the area's own values (issue 15, see
:func:`harmonise_reference_units`); the groups G4-NPLV19 use this series and name it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import duckdb
import numpy as np
import pandas as pd

from . import store
from .catalogue import Catalogue, load_catalogue

LEVEL = "gemeente"
#: Values whose quality (share from whole regions) is below this are hidden: at least four
#: fifths of a shown value come from whole gemeenten, at most one fifth was apportioned by area.
MIN_QUALITY = 0.8
#: Crosswalk methods that move whole regions (as :data:`wijkmonitor.EXACT_METHODS`;
#: repeated here so that importing this module does not load the geometry stack).
EXACT_METHODS = frozenset({"identical", "nested", "contained"})


def polygon_years() -> tuple[int, ...]:
    """Gemeente polygon years whose territories are used (every year of the mirror but the
    quantised 2015 layer: :func:`wijkmonitor.geometries.territory_years`)."""
    from . import geometries

    return geometries.territory_years(LEVEL)

STATUS_OK = "ok"
STATUS_NOT_COMPARABLE = "niet vergelijkbaar"
STATUS_NOT_ADDITIVE = "niet optelbaar"
STATUS_NA = "niet beschikbaar"
#: Which piece status names the target's status (lower first).
_BAD_ORDER = {"geheim": 0, STATUS_NOT_COMPARABLE: 1, "te weinig waarnemingen": 2, STATUS_NA: 3}

SERIES_COLUMNS = ["indicator", "region_code", "period", "value", "numerator", "denominator",
                  "status", "quality", "method", "estimate", "source_year", "n_pieces", "reason",
                  "source_id"]
CROSSWALK_COLUMNS = ["source_year", "source_code", "target_code", "share", "method",
                     "polygon_year", "status", "reason"]

HARMONISED_VALUES_SQL = """
CREATE TABLE harmonised_values (
    indicator VARCHAR NOT NULL, region_code VARCHAR NOT NULL, geo_year INTEGER NOT NULL,
    period INTEGER NOT NULL, value DOUBLE, numerator DOUBLE, denominator DOUBLE,
    status VARCHAR NOT NULL, estimate BOOLEAN NOT NULL, quality DOUBLE, method VARCHAR NOT NULL,
    source_year INTEGER NOT NULL, n_pieces INTEGER NOT NULL, reason VARCHAR, source_id VARCHAR,
    catalogue_version VARCHAR)
"""
CROSSWALKS_SQL = """
CREATE TABLE harmonise_crosswalks (
    source_year INTEGER NOT NULL, source_code VARCHAR, target_year INTEGER NOT NULL,
    target_code VARCHAR NOT NULL, share DOUBLE NOT NULL, method VARCHAR NOT NULL,
    polygon_year INTEGER, status VARCHAR, reason VARCHAR)
"""


# ---------------------------------------------------------------------------------------
# Crosswalks from every gemeente division onto the target year
# ---------------------------------------------------------------------------------------

def _next_code(code: str, next_codes: set[str], table) -> str | None:
    """The gemeente of the next polygon year that a vanished code went to wholly (following
    later mergers), or None when it was split or cannot be followed."""
    seen = set()
    while code not in next_codes:
        m = table.get(code)
        if m is None or m.other_successors or code in seen:
            return None
        seen.add(code)
        code = m.successor
    return code


def _absorbed(prev_codes: set[str], next_codes: set[str], table) -> dict[str, set[str]]:
    """Per gemeente of the next polygon year: the gemeenten of the previous one that vanished
    into it (wholly or in part) in between, from the declared merger list."""
    out: dict[str, set[str]] = {}
    for code, m in table.items():
        if code not in prev_codes or code in next_codes:
            continue
        for succ in (m.successor, *(o[0] for o in m.other_successors)):
            seen = set()
            while succ not in next_codes and succ in table and succ not in seen:  # later chains
                seen.add(succ)
                succ = table[succ].successor
            out.setdefault(succ, set()).add(code)
    return out


def _synthetic(year: int, codes: set[str], prev: int | None, nxt: int | None,
               cws: Mapping[int, pd.DataFrame], layer_codes: Mapping[int, set[str]],
               target_codes: Sequence[str]) -> pd.DataFrame:
    """Pieces for a division year without usable polygons (see the module docstring).

    Each gemeente ``c`` of ``year`` takes the territory of the previous polygon year, or that of
    the next one (of ``c`` itself, or of the gemeente it was renamed or merged into wholly) when
    the gemeenten that vanished into that territory in between no longer appear in ``year``
    (and the year's list is complete, so that absence means "merged already"). Then each
    gemeente of the previous year must be covered once: parts that no gemeente of ``year``
    covers, and parts covered twice, become pieces with a status that hides their target.
    """
    from .areas.mergers import load_gemeente_mergers

    if prev is None:
        # nothing known about the territories before the first polygon year: every gemeente
        # that carries its code into the target is listed, but not comparable
        keep = sorted(set(codes) & set(target_codes))
        return pd.DataFrame({
            "source_code": keep, "target_code": keep, "share": 1.0, "method": "code",
            "polygon_year": pd.array([pd.NA] * len(keep), dtype="Int64"),
            "status": STATUS_NOT_COMPARABLE,
            "reason": f"geen gebiedsindeling van {year} bekend (eerste jaar met polygonen: {nxt})"})
    table = load_gemeente_mergers()
    prev_codes = layer_codes[prev]
    next_codes = layer_codes[nxt] if nxt is not None else set()
    complete = codes >= (prev_codes & next_codes) if nxt is not None else codes >= prev_codes
    absorbed = _absorbed(prev_codes, next_codes, table) if nxt is not None else {}
    cw_prev = cws[prev]
    cw_next = cws[nxt] if nxt is not None else cw_prev.iloc[:0]
    use_prev: list[str] = []
    use_next: dict[str, str] = {}  # code of `year` -> code of the next polygon year
    for c in sorted(codes):
        in_prev = c in prev_codes
        n = c if c in next_codes else (_next_code(c, next_codes, table) if in_prev and nxt else None)
        if n is not None and n != c and n in codes:
            n = None  # the successor exists itself in this year: c is still separate
        if in_prev and n is not None:
            d = absorbed.get(n, set()) - {c}
            if d and complete and not (d & codes):
                use_next[c] = n
            else:
                use_prev.append(c)
        elif in_prev:
            use_prev.append(c)
        elif n is not None:
            use_next[c] = n
    next_targets = {n: set(cw_next.loc[cw_next["source_code"] == n, "target_code"])
                    for n in set(use_next.values())}
    covering: dict[str, set[str]] = {}  # prev code -> targets reached through next territories
    for c, n in use_next.items():
        for p in absorbed.get(n, set()) - {c}:
            covering.setdefault(p, set()).update(next_targets[n])
    parts = [cw_prev[cw_prev["source_code"].isin(use_prev)].assign(polygon_year=prev)]
    if use_next:
        rows = cw_next[cw_next["source_code"].isin(set(use_next.values()))]
        back = pd.DataFrame({"code": list(use_next), "next": list(use_next.values())})
        rows = rows.merge(back, left_on="source_code", right_on="next").drop(columns=["source_code", "next"])
        parts.append(rows.rename(columns={"code": "source_code"}).assign(polygon_year=nxt))
    pieces = pd.concat(parts, ignore_index=True).assign(status=None, reason=None)
    # parts of the previous year's territory without a figure of this year, and parts counted twice
    prev_rows = cw_prev[cw_prev["share"] > 0]
    in_year = prev_rows["source_code"].isin(codes).to_numpy()
    pairs = {(p, t) for p, ts in covering.items() for t in ts}
    reached = np.fromiter(((p, t) in pairs for p, t in zip(prev_rows["source_code"], prev_rows["target_code"])),
                          dtype=bool, count=len(prev_rows))
    for mask, status, text in (
            (~in_year & ~reached, STATUS_NA, "deel {p} (indeling {prev}) zonder cijfer in de indeling van {year}"),
            (in_year & reached, STATUS_NOT_COMPARABLE, "indeling van {year} onzeker rond {p} (dubbel gedekt)")):
        if not mask.any():
            continue
        ph = prev_rows[mask].copy()
        ph["polygon_year"] = prev
        ph["status"] = status
        ph["reason"] = [text.format(p=p, prev=prev, year=year) for p in ph["source_code"]]
        ph["method"] = "ontbreekt"
        pieces = pd.concat([pieces, ph], ignore_index=True)
    pieces.attrs["unplaced"] = sorted(set(codes) - set(use_prev) - set(use_next))
    return pieces


def gemeente_crosswalks(years: Iterable[int], target_year: int,
                        codes_by_year: Mapping[int, Iterable[str]] | None = None) -> pd.DataFrame:
    """Crosswalks from the gemeenten of each year in ``years`` onto those of ``target_year``.

    Parameters
    ----------
    years : source division years
    target_year : one of :func:`polygon_years`
    codes_by_year : the gemeente codes of each division year without polygons (the store's
        ``regions``); years with polygons use their own layer.

    Returns
    -------
    DataFrame with :data:`CROSSWALK_COLUMNS`: one row per piece. ``polygon_year`` says whose
    polygons gave the piece; ``status``/``reason`` are set on pieces that stand for a part of
    the territory that cannot be placed (no figure, doubly covered, unknown division) and make
    their target not shown. ``attrs["unplaced"]``: ``{year: codes}`` that got no territory.
    """
    from . import geometries, harmonise

    poly_years = polygon_years()
    if target_year not in poly_years:
        raise ValueError(f"doeljaar {target_year} heeft geen gemeentepolygonen; kies uit "
                         f"{', '.join(map(str, poly_years))}")
    years = sorted(set(int(y) for y in years))
    codes_by_year = {int(k): set(v) for k, v in (codes_by_year or {}).items()}

    def brackets(y):
        prev = max((g for g in poly_years if g < y), default=None)
        nxt = min((g for g in poly_years if g > y), default=None)
        return prev, nxt

    needed = set()
    for y in years:
        if y in poly_years:
            needed.add(y)
        else:
            needed |= {g for g in brackets(y) if g is not None}
    if any(y not in poly_years and brackets(y)[0] is None for y in years):
        needed.add(target_year)
    cws = {g: harmonise.crosswalk((g, LEVEL), (target_year, LEVEL),
                                  snap_tolerance=max(harmonise.DEFAULT_SNAP_TOLERANCE,
                                                     geometries.layer(g, LEVEL).snap_tolerance or 0))
           for g in sorted(needed)}
    layer_codes = {g: set(geometries.load(g, LEVEL)["code"]) for g in sorted(needed)}
    target_codes = sorted(layer_codes.get(target_year) or geometries.load(target_year, LEVEL)["code"])
    frames, unplaced = [], {}
    for y in years:
        if y in poly_years:
            part = cws[y].assign(polygon_year=y, status=None, reason=None)
            lost = cws[y].attrs.get("unplaced", [])
        else:
            if y not in codes_by_year:
                raise ValueError(f"geen gemeentecodes voor {y} (geen polygonen en geen regiolijst)")
            prev, nxt = brackets(y)
            part = _synthetic(y, codes_by_year[y], prev, nxt, cws, layer_codes, target_codes)
            lost = part.attrs.get("unplaced", [])
        if lost:
            unplaced[y] = list(lost)
        frames.append(part.assign(source_year=y))
    out = pd.concat(frames, ignore_index=True)
    out["polygon_year"] = out["polygon_year"].astype("Int64")
    out = out[CROSSWALK_COLUMNS].reset_index(drop=True)
    out.attrs["unplaced"] = unplaced
    out.attrs["target_year"] = target_year
    return out


# ---------------------------------------------------------------------------------------
# Moving indicator values
# ---------------------------------------------------------------------------------------

def _indicator_frame(catalogue: Catalogue) -> tuple[pd.DataFrame, pd.DataFrame]:
    from .aggregate import _ratio_scale

    scale = _ratio_scale(catalogue)
    inds = pd.DataFrame([dict(indicator=i.id, aggregation=i.aggregation, min_base=float(i.min_base),
                              ind_estimate=bool(i.estimate),
                              factor=scale[i.id] if i.aggregation == "verhouding" else 1.0)
                         for i in catalogue.values()])
    modes = pd.DataFrame([dict(indicator=i.id, formula=k, mode=f.mode)
                          for i in catalogue.values() for k, f in enumerate(i.formulas)])
    return inds, modes


def move_indicator_values(values: pd.DataFrame, crosswalks: pd.DataFrame, catalogue: Catalogue,
                          *, target_year: int, min_quality: float = MIN_QUALITY,
                          choose: bool = True) -> pd.DataFrame:
    """Move gemeente ``indicator_values`` rows onto the target gemeenten.

    Parameters
    ----------
    values : rows of ``indicator_values`` (``indicator, region_code, geo_year, period, value,
        numerator, denominator, status, estimate, source_id, formula``)
    crosswalks : from :func:`gemeente_crosswalks`
    min_quality : values of lower quality are hidden (``niet vergelijkbaar``)
    choose : keep only the best source division per indicator, period and target (else one
        row per source division)

    Returns
    -------
    DataFrame with :data:`SERIES_COLUMNS`.
    """
    inds, modes = _indicator_frame(catalogue)
    v = values.merge(modes, how="left", on=["indicator", "formula"])
    v["weighted_mode"] = v["mode"].isin(["percentage", "weighted"])
    combos = v[["indicator", "geo_year", "period"]].drop_duplicates()
    cw = crosswalks[crosswalks["share"] > 0].rename(columns={"source_year": "geo_year",
                                                             "status": "forced", "reason": "forced_reason"})
    p = combos.merge(cw, on="geo_year", how="inner")
    p = p.merge(v[["indicator", "geo_year", "period", "region_code", "value", "numerator", "denominator",
                   "status", "estimate", "source_id", "weighted_mode"]],
                how="left", left_on=["indicator", "geo_year", "period", "source_code"],
                right_on=["indicator", "geo_year", "period", "region_code"])
    # a target is listed when any of its pieces has a row (of any status) in the division, or
    # stands for a part of the territory that cannot be placed (so the reason is shown)
    p["present"] = p["status"].notna() | p["forced"].notna()
    forced = p["forced"].notna()
    status = np.where(forced, p["forced"], p["status"].fillna(STATUS_NA)).astype(object)
    reason = np.where(forced, p["forced_reason"],
                      np.where(p["status"].isna(),
                               "deel " + p["source_code"].astype(str) + " (indeling " + p["geo_year"].astype(str)
                               + ") heeft geen cijfer",
                               "deel " + p["source_code"].astype(str) + " (indeling " + p["geo_year"].astype(str)
                               + ") is " + p["status"].fillna("").astype(str))).astype(object)
    p["pstatus"] = status
    p["preason"] = reason
    ok = status == STATUS_OK
    exact = p["method"].isin(EXACT_METHODS).to_numpy()
    share = p["share"].to_numpy(dtype="float64")
    val = p["value"].to_numpy(dtype="float64")
    num = p["numerator"].to_numpy(dtype="float64")
    den = p["denominator"].to_numpy(dtype="float64")
    p["ok"] = ok
    p["exact"] = exact
    p["s_exact"] = np.where(exact, share, 0.0)
    p["v"] = np.where(ok, share * np.nan_to_num(val), 0.0)
    p["n"] = np.where(ok, share * np.nan_to_num(num), 0.0)
    p["d"] = np.where(ok, share * np.nan_to_num(den), 0.0)
    p["ve"] = np.where(exact, p["v"], 0.0)
    p["ne"] = np.where(exact, p["n"], 0.0)
    p["de"] = np.where(exact, p["d"], 0.0)
    p["no_nd"] = ok & (np.isnan(num) | np.isnan(den))
    p["bad"] = pd.Series(status).map(_BAD_ORDER).fillna(9).to_numpy() if len(p) else []
    p["est"] = p["estimate"].fillna(False).astype(bool)
    p["wmode"] = p["weighted_mode"].fillna(False).astype(bool)
    p["unplaced"] = p["method"] == "code"
    keys = ["indicator", "period", "geo_year", "target_code"]
    g = p.groupby(keys, sort=False)
    agg = g.agg(n_pieces=("share", "size"), n_present=("present", "sum"), n_ok=("ok", "sum"),
                all_exact=("exact", "all"), all_unplaced=("unplaced", "all"), share_sum=("share", "sum"), s_exact=("s_exact", "sum"),
                v=("v", "sum"), n=("n", "sum"), d=("d", "sum"), ve=("ve", "sum"), ne=("ne", "sum"),
                de=("de", "sum"), no_nd=("no_nd", "any"), any_est=("est", "any"), any_w=("wmode", "any"),
                first_share=("share", "first"), first_value=("value", "first"),
                first_num=("numerator", "first"), first_den=("denominator", "first"),
                first_est=("est", "first"), source_id=("source_id", "first"),
                worst=("bad", "min")).reset_index()
    # the piece that names the status: the worst one (geheim first), first in order
    worst = (p[p["bad"] < 9].sort_values("bad", kind="stable")
             .drop_duplicates(keys)[keys + ["pstatus", "preason"]])
    agg = agg.merge(worst, how="left", on=keys)
    agg = agg[agg["n_present"] > 0].reset_index(drop=True)
    agg = agg.merge(inds, how="left", on="indicator")

    n_rows = len(agg)
    single = ((agg["n_pieces"] == 1) & (agg["first_share"] >= 1.0) & agg["all_exact"]).to_numpy()
    agg_kind = agg["aggregation"].to_numpy(object)
    is_sum = agg_kind == "som"
    is_ratio = np.isin(agg_kind, ["verhouding", "gewogen gemiddelde"])
    with np.errstate(invalid="ignore", divide="ignore"):
        q_share = np.where(agg["share_sum"] > 0, agg["s_exact"] / agg["share_sum"], 0.0)
        q_sum = np.where(agg["v"] != 0, agg["ve"] / agg["v"], q_share)
        q_num = np.where(agg["n"] != 0, agg["ne"] / agg["n"], q_share)
        q_den = np.where(agg["d"] != 0, agg["de"] / agg["d"], q_share)
        q_ratio = np.minimum(q_num, q_den)
        ratio_value = agg["factor"].to_numpy() * agg["n"].to_numpy() / agg["d"].to_numpy()
    quality = np.where(single, 1.0, np.where(is_sum, q_sum, np.where(is_ratio, q_ratio, q_share)))
    quality = np.clip(quality, 0.0, 1.0)

    status = np.full(n_rows, STATUS_OK, dtype=object)
    reason = np.full(n_rows, "", dtype=object)
    value = np.full(n_rows, np.nan)
    numerator = np.full(n_rows, np.nan)
    denominator = np.full(n_rows, np.nan)
    bad = agg["pstatus"].notna().to_numpy()
    status[bad] = agg["pstatus"].to_numpy(object)[bad]
    reason[bad] = agg["preason"].to_numpy(object)[bad]
    todo = ~bad
    # medians and scores: only one whole region
    sel = todo & (agg_kind == "niet optelbaar") & ~single
    status[sel] = STATUS_NOT_ADDITIVE
    reason[sel] = "niet optelbaar: een mediaan, score of klasse kan niet over gemeenten worden opgeteld"
    todo &= ~sel
    # one whole region: carried over exactly
    sel = todo & single
    value[sel] = agg["first_value"].to_numpy(dtype="float64")[sel]
    numerator[sel] = agg["first_num"].to_numpy(dtype="float64")[sel]
    denominator[sel] = agg["first_den"].to_numpy(dtype="float64")[sel]
    todo &= ~sel
    sel = todo & is_sum
    value[sel] = agg["v"].to_numpy()[sel]
    numerator[sel] = value[sel]
    todo &= ~sel
    nond = todo & is_ratio & agg["no_nd"].to_numpy()
    status[nond] = STATUS_NOT_COMPARABLE
    reason[nond] = "een deel heeft geen teller of noemer: de delen zijn niet op te tellen"
    todo &= ~nond
    d = agg["d"].to_numpy()
    small = todo & is_ratio & (d < agg["min_base"].to_numpy())
    status[small] = "te weinig waarnemingen"
    reason[small] = "de opgetelde basis ligt onder de minimumgrens van de indicator"
    todo &= ~small
    zero = todo & is_ratio & (d == 0)
    status[zero] = STATUS_NA
    reason[zero] = "noemer is 0"
    todo &= ~zero
    sel = todo & is_ratio
    value[sel] = ratio_value[sel]
    numerator[sel] = agg["n"].to_numpy()[sel]
    denominator[sel] = d[sel]
    # quality threshold
    low = (status == STATUS_OK) & (quality < min_quality)
    status[low] = STATUS_NOT_COMPARABLE
    reason[low] = [f"kwaliteit {q:.2f} onder het minimum {min_quality:.2f}: te veel van de waarde "
                   "is naar oppervlakte of gewicht verdeeld" for q in quality[low]]
    hidden = status != STATUS_OK
    value[hidden] = numerator[hidden] = denominator[hidden] = np.nan

    geo = agg["geo_year"].to_numpy()
    method = np.where(single, np.where(geo == target_year, "gepubliceerd", "overgenomen"),
                      np.where(agg["all_exact"].to_numpy(), "opgeteld", "verdeeld")).astype(object)
    method[agg["all_unplaced"].to_numpy(bool)] = "niet geplaatst"
    estimate = np.where(single, agg["first_est"].to_numpy(bool),
                        agg["ind_estimate"].to_numpy(bool) | agg["any_est"].to_numpy(bool)
                        | ~agg["all_exact"].to_numpy(bool) | agg["any_w"].to_numpy(bool))
    reason = np.where((status == STATUS_OK) & estimate & ~single & (reason == ""),
                      "schatting: delen gewogen met hun basis of naar oppervlakte verdeeld", reason)
    out = pd.DataFrame({
        "indicator": agg["indicator"].to_numpy(object), "region_code": agg["target_code"].to_numpy(object),
        "period": agg["period"].astype("int64").to_numpy(), "value": value, "numerator": numerator,
        "denominator": denominator, "status": status, "quality": quality, "method": method,
        "estimate": estimate.astype(bool), "source_year": geo.astype("int64"),
        "n_pieces": agg["n_pieces"].astype("int64").to_numpy(),
        "reason": np.where(reason == "", None, reason).astype(object),
        "source_id": agg["source_id"].to_numpy(object)})
    if choose:
        out = _choose(out, target_year)
    return out[SERIES_COLUMNS].sort_values(["indicator", "period", "region_code"], kind="stable"
                                           ).reset_index(drop=True)


def _choose(frame: pd.DataFrame, target_year: int) -> pd.DataFrame:
    """Per indicator, period and target: a shown value first, then the best quality, then the
    source division nearest the period (ties: the later); see the module docstring."""
    order = frame.assign(_ok=frame["status"] == STATUS_OK, _dist=(frame["source_year"] - frame["period"]).abs())
    order = order.sort_values(["_ok", "quality", "_dist", "source_year"],
                              ascending=[False, False, True, False], kind="stable")
    return order.drop_duplicates(["indicator", "period", "region_code"]).drop(columns=["_ok", "_dist"])


# ---------------------------------------------------------------------------------------
# From the store
# ---------------------------------------------------------------------------------------

_IV_SQL = """
    SELECT indicator, region_code, geo_year, period, value, numerator, denominator, status,
           estimate, source_id, formula
    FROM indicator_values
    WHERE region_code LIKE 'GM%' {where}
"""


def default_target_year(con: duckdb.DuckDBPyConnection) -> int:
    """The latest gemeente polygon year not after the latest gemeente division in the store."""
    latest = con.execute("SELECT max(year) FROM regions WHERE level = 'gemeente'").fetchone()[0]
    years = [y for y in polygon_years() if latest is None or y <= latest]
    return max(years) if years else max(polygon_years())


def _codes_by_year(con: duckdb.DuckDBPyConnection) -> dict[int, set[str]]:
    rows = con.execute("SELECT year, code FROM regions WHERE level = 'gemeente'").fetchall()
    out: dict[int, set[str]] = {}
    for y, c in rows:
        out.setdefault(int(y), set()).add(c)
    return out


def compute(con: duckdb.DuckDBPyConnection, *, indicators: Sequence[str] | None = None,
            target_year: int | None = None, min_quality: float = MIN_QUALITY,
            catalogue: Catalogue | None = None, crosswalks: pd.DataFrame | None = None
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Harmonised gemeente series from an open store: ``(series, crosswalks)``."""
    catalogue = catalogue or load_catalogue()
    target_year = target_year or default_target_year(con)
    where, params = "", []
    if indicators is not None:
        unknown = [i for i in indicators if i not in catalogue]
        if unknown:
            raise KeyError(f"onbekende indicator(en): {', '.join(unknown)}")
        where, params = "AND indicator IN (SELECT unnest(?))", [list(indicators)]
    values = con.execute(_IV_SQL.format(where=where), params).df()
    values = values[values["indicator"].isin(list(catalogue))]
    years = sorted(int(y) for y in values["geo_year"].unique())
    if crosswalks is None or not set(years) <= set(crosswalks["source_year"]):
        crosswalks = gemeente_crosswalks(years, target_year, _codes_by_year(con))
    series = move_indicator_values(values, crosswalks, catalogue, target_year=target_year,
                                   min_quality=min_quality)
    return series, crosswalks


def build_harmonised_values(con: duckdb.DuckDBPyConnection, catalogue: Catalogue | None = None) -> int:
    """Build step: ``harmonised_values`` (every indicator and year on the gemeenten of the
    latest polygon year) and ``harmonise_crosswalks`` in the store being built."""
    catalogue = catalogue or load_catalogue()
    target = default_target_year(con)
    series, cws = compute(con, target_year=target, catalogue=catalogue)
    series = series.assign(geo_year=target, catalogue_version=catalogue.version)
    con.execute("DROP TABLE IF EXISTS harmonised_values")
    con.execute("DROP TABLE IF EXISTS harmonise_crosswalks")
    con.execute(HARMONISED_VALUES_SQL)
    con.execute(CROSSWALKS_SQL)
    con.register("hv_df", series)
    con.execute("""INSERT INTO harmonised_values
        SELECT indicator, region_code, geo_year, period, value, numerator, denominator, status,
               estimate, quality, method, source_year, n_pieces, reason, source_id, catalogue_version
        FROM hv_df ORDER BY indicator, period, region_code""")
    con.unregister("hv_df")
    con.register("cw_df", cws.assign(target_year=target))
    con.execute("""INSERT INTO harmonise_crosswalks
        SELECT source_year, source_code, target_year, target_code, share, method, polygon_year,
               status, reason FROM cw_df ORDER BY source_year, source_code, target_code""")
    con.unregister("cw_df")
    con.execute("INSERT OR REPLACE INTO meta VALUES ('harmonise_target_year', ?)", [str(target)])
    return len(series)


def stored_crosswalks(con: duckdb.DuckDBPyConnection, target_year: int) -> pd.DataFrame | None:
    """The crosswalks the build wrote for ``target_year`` (None when there are none)."""
    if not store.has_table(con, "harmonise_crosswalks"):
        return None
    cw = con.execute("SELECT * FROM harmonise_crosswalks WHERE target_year = ?", [target_year]).df()
    if cw.empty:
        return None
    cw["polygon_year"] = cw["polygon_year"].astype("Int64")
    return cw[CROSSWALK_COLUMNS]


def harmonised_series(indicator: str | Sequence[str] | None = None, target_year: int | None = None,
                      level: str = LEVEL, *, regions: str | Iterable[str] | None = None,
                      areas: Mapping[str, Iterable[str]] | None = None,
                      min_quality: float = MIN_QUALITY, path: Path | None = None,
                      con: duckdb.DuckDBPyConnection | None = None,
                      catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Indicator series for every year on the gemeenten of ``target_year``.

    Parameters
    ----------
    indicator : catalogue id, list of ids, or None for all
    target_year : a gemeente polygon year (:func:`polygon_years`); default: the store's
        harmonisation year (the latest, 2024)
    level : only ``"gemeente"``: series on wijken would need wijk polygons of every division
        year; the mirror has them for 2014, 2016 and 2024 only (buurten: 2014)
    regions : keep only these target gemeente codes
    areas : custom areas as ``{name: [target-year gemeente codes]}``; their values are added up
        from the harmonised gemeenten by the rules of :mod:`wijkmonitor.aggregate` and returned
        with ``region_code`` = the name
    min_quality : hide values whose quality is below this (``niet vergelijkbaar``)

    Returns
    -------
    DataFrame ``indicator, region_code, period, value, numerator, denominator, status, quality,
    method, estimate, source_year, n_pieces, reason, source_id``. Read from the store's
    ``harmonised_values`` when it holds what is asked, else computed (which needs the polygons
    of the offline mirror unless the store's crosswalks suffice).
    """
    if level != LEVEL:
        raise ValueError("harmoniseren kan alleen op gemeenteniveau: de spiegel heeft "
                         "wijkpolygonen alleen voor 2014, 2016 en 2024 en buurtpolygonen alleen "
                         "voor 2014, niet voor elk indelingsjaar")
    catalogue = catalogue or load_catalogue()
    inds = None if indicator is None else ([indicator] if isinstance(indicator, str) else list(indicator))
    if inds is not None:
        unknown = [i for i in inds if i not in catalogue]
        if unknown:
            raise KeyError(f"onbekende indicator(en): {', '.join(unknown)}")
    with (contextlib.nullcontext(con) if con is not None else contextlib.closing(store.connect(path))) as c:
        stored_year = None
        if store.has_table(c, "harmonised_values"):
            row = c.execute("SELECT max(geo_year) FROM harmonised_values").fetchone()
            stored_year = row[0] if row else None
        target_year = int(target_year or stored_year or default_target_year(c))
        if stored_year == target_year and min_quality == MIN_QUALITY:
            where = "WHERE indicator IN (SELECT unnest(?))" if inds is not None else ""
            series = c.execute(f"SELECT * FROM harmonised_values {where} ORDER BY indicator, period, region_code",
                               [inds] if inds is not None else []).df()
            series = series[SERIES_COLUMNS]
        else:
            series, _ = compute(c, indicators=inds, target_year=target_year, min_quality=min_quality,
                                catalogue=catalogue, crosswalks=stored_crosswalks(c, target_year))
        if regions is not None:
            codes = [regions] if isinstance(regions, str) else list(regions)
            series = series[series["region_code"].isin(codes)]
        if areas:
            series = aggregate_areas(c, series, areas, target_year, catalogue)
    return series.reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Groups of gemeenten and the gemeente reference of areas
# ---------------------------------------------------------------------------------------

def _aggregate_on(con: duckdb.DuckDBPyConnection, series: pd.DataFrame, units, catalogue: Catalogue,
                  target_year: int) -> pd.DataFrame:
    """:func:`wijkmonitor.aggregate.aggregate` over a harmonised series (not the stored table)."""
    from .aggregate import aggregate

    if "source_id" not in series.columns:
        series = series.assign(source_id=None)
    frame = series.assign(geo_year=target_year)[
        ["indicator", "region_code", "geo_year", "period", "value", "numerator", "denominator",
         "status", "estimate", "source_id"]]
    con.register("harmonised_tmp", frame)
    try:
        return aggregate(con, units, catalogue, table="harmonised_tmp")
    finally:
        con.unregister("harmonised_tmp")


def aggregate_areas(con: duckdb.DuckDBPyConnection, series: pd.DataFrame,
                    areas: Mapping[str, Iterable[str]], target_year: int,
                    catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Custom areas (sets of target-year gemeenten) from a harmonised series."""
    from .aggregate import Unit

    catalogue = catalogue or load_catalogue()
    units = [Unit(str(name), "area", tuple(codes), target_year) for name, codes in areas.items()]
    agg = _aggregate_on(con, series, units, catalogue, target_year)
    return pd.DataFrame({
        "indicator": agg["indicator"], "region_code": agg["unit_id"], "period": agg["period"],
        "value": agg["value"], "numerator": agg["numerator"], "denominator": agg["denominator"],
        "status": agg["status"], "quality": agg["coverage"], "method": agg["method"],
        "estimate": agg["estimate"], "source_year": target_year, "n_pieces": agg["n_parts"],
        "reason": None, "source_id": None}).sort_values(["indicator", "period", "region_code"])


def successor_codes(codes: Iterable[str], target_year: int) -> tuple[str, ...]:
    """The target-year gemeente holding (most of) each code, deduplicated in order."""
    from .areas.mergers import MergerError, successor_gemeente

    out = []
    for code in codes:
        try:
            succ = successor_gemeente(code, target_year)
        except MergerError:
            succ = code
        if succ not in out:
            out.append(succ)
    return tuple(out)


def harmonise_reference_units(con: duckdb.DuckDBPyConnection, values: pd.DataFrame,
                              catalogue: Catalogue | None = None, *, gemeenten: bool = False
                              ) -> pd.DataFrame:
    """Put the groups (and, if asked, the gemeente units) of ``area_values`` on one geography.

    Every ``group`` unit (G4, G14, G18, NPLV19) is added up from the harmonised series of its
    members' target-year gemeenten. With ``gemeenten=True`` every ``gemeente`` unit takes the
    harmonised series of the target-year gemeente that holds it, for all periods. The build
    does *not* do that (issue 15): the *stedelijk gemiddelde* of an area is the gemeente as
    published in the same publication and division as the area's own values (see
    :func:`wijkmonitor.area_tables.build_area_tables`), so that Amsterdam's 2020 reference is
    its published 53,2 and not a harmonised Amsterdam with Weesp, and Tilburg's comes from the
    same RIVM model run as Tilburg-Noordwest. ``coverage`` of a harmonised gemeente row holds
    the harmonisation quality; ``method`` says ``geharmoniseerd <target year>: ...``. Without a
    ``harmonised_values`` table (a store built without that step) ``values`` is returned
    unchanged.
    """
    from .aggregate import units_for_groups
    from .areas import load_groups

    if not store.has_table(con, "harmonised_values"):
        return values
    catalogue = catalogue or load_catalogue()
    hv = con.execute("SELECT * FROM harmonised_values").df()
    if hv.empty:
        return values
    target = int(hv["geo_year"].max())
    label = f"geharmoniseerd {target}"
    gm_units = sorted(values.loc[values["unit_kind"] == "gemeente", "unit_id"].unique()) if gemeenten else []
    frames = []
    for gm in gm_units:
        succ = successor_codes([gm], target)[0]
        rows = hv[hv["region_code"] == succ]
        if rows.empty:
            continue
        frames.append(pd.DataFrame({
            "unit_id": gm, "unit_kind": "gemeente", "indicator": rows["indicator"].to_numpy(),
            "period": rows["period"].to_numpy(), "value": rows["value"].to_numpy(),
            "numerator": rows["numerator"].to_numpy(), "denominator": rows["denominator"].to_numpy(),
            "status": rows["status"].to_numpy(), "coverage": rows["quality"].to_numpy(),
            "n_parts": rows["n_pieces"].to_numpy(),
            "n_used": np.where(rows["status"].to_numpy() == STATUS_OK, rows["n_pieces"].to_numpy(), 0),
            "estimate": rows["estimate"].to_numpy(bool),
            "method": (label + ": " + rows["method"]).to_numpy(),
            "source_id": rows["source_id"].to_numpy(object), "geo_year": target,
            "publication": None}))
    if frames:
        frames[-1:] = [pd.concat(frames, ignore_index=True)]
        from .aggregate import publication_names
        f = frames[0]
        f["publication"] = publication_names(con, f["source_id"], f["geo_year"])
    replaced_gm = set(frames[0]["unit_id"]) if frames else set()
    groups = {gid: successor_codes(g.members, target) for gid, g in load_groups().items()
              if g.members is not None and gid.upper() != "NL"}
    units = [u.__class__(u.id, u.kind, u.codes, target) for u in units_for_groups(groups)]
    if units:
        hv_series = hv[["indicator", "region_code", "period", "value", "numerator", "denominator",
                        "status", "estimate"]]
        group_values = _aggregate_on(con, hv_series, units, catalogue, target)
        group_values["method"] = label + ": " + group_values["method"]
        group_values["publication"] = [None if p is None else f"{label}: {p.split(', indeling')[0]}"
                                       for p in group_values["publication"]]
        frames.append(group_values)
    keep = ~(((values["unit_kind"] == "gemeente") & values["unit_id"].isin(replaced_gm))
             | ((values["unit_kind"] == "group") & values["unit_id"].isin(set(groups))))
    out = pd.concat([values[keep], *frames], ignore_index=True)
    return out[values.columns]
