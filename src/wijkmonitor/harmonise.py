"""Boundary harmonisation: crosswalks between geographies and moving values along them.

A **crosswalk** from one geography (year, level) to another is a DataFrame with one row per
(source region, target region) piece:

``source_code, target_code, share, method``
    ``share`` is the fraction of the source region's weight that goes to the target; the shares
    of one source sum to 1. ``method`` says how the piece was found, best first:

    ``identical``  same code and the same territory both ways (within ``snap_tolerance`` of the
                   area); the value is carried over exactly, 1:1.
    ``nested``     the source lies in the target by CBS's code hierarchy (buurt ``BU gggg ww bb``
                   lies in wijk ``WK gggg ww`` and gemeente ``GM gggg`` of the same year).
    ``contained``  the whole source lies in one target (a gemeente that merged into its
                   successor, a buurt inside a later gemeente); share exactly 1.
    ``area``       the source is split over several targets by area (overlay in RD New).
    ``weighted``   the source is split by a finer weight (e.g. population of smaller units).

    ``identical``, ``nested`` and ``contained`` move whole regions: they are **exact**. ``area``
    and ``weighted`` are estimates.

Crosswalks are built by :func:`crosswalk`; :func:`move` moves values (counts by share, rates
re-derived from moved numerators and denominators, published percentages as a
denominator-weighted estimate) and gives every target value a ``quality``: the share of the
value that came from exact pieces. Suppressed and missing inputs stay suppressed: a target
value with any contribution (share > 0) from a suppressed or missing piece is not shown.

The geometry engine is built for speed (see ``benchmarks/bench_harmonise.py``): candidate pairs
come from one bulk ``STRtree`` query; a source with a single candidate target needs no
intersection at all (its share is 1); only sources touching several targets are intersected,
vectorised with shapely 2. In ``auto`` mode CBS's own information is used first (code
persistence, code hierarchy, whole gemeenten contained in a successor), so most regions never
reach the overlay.
"""

from __future__ import annotations

import warnings
from typing import Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wijkmonitor import geometries
from wijkmonitor.sources.base import STATUS_MISSING, STATUS_OK, STATUS_SECRET, parse_values

CROSSWALK_COLUMNS = ["source_code", "target_code", "share", "method"]
EXACT_METHODS = frozenset({"identical", "nested", "contained"})
METHODS = ("identical", "nested", "contained", "area", "weighted")
STATUS_LOW_QUALITY = "lage_kwaliteit"
VALUE_COLUMNS = ["source_code", "variable", "value", "status"]
MOVED_COLUMNS = ["target_code", "variable", "value", "status", "quality", "reason"]
LEVEL_RANK = {"buurt": 0, "wijk": 1, "gemeente": 2, "land": 3}

#: A source with at least ``1 - snap_tolerance`` of its area in one target is treated as lying
#: wholly in it. The polygons in the mirror are simplified (TopoJSON quantised to ~300 m), so
#: neighbouring layers overlap in slivers that are drawing noise, not territory.
DEFAULT_SNAP_TOLERANCE = 0.02
#: A source-year gemeente with at least ``1 - DEFAULT_GROUP_TOLERANCE`` of its buurten's area
#: (located by interior points) in one target lies wholly in it. Generous on purpose: small
#: buurten of the quantised 2014 layer land in the neighbour; real partial transfers (e.g.
#: Slochteren 2017: ~11 % to Groningen) stay above it and are overlaid buurt by buurt.
DEFAULT_GROUP_TOLERANCE = 0.05
#: Below this many sources :func:`overlay_areas` skips the predicate pass.
SMALL_OVERLAY = 50


# ---------------------------------------------------------------------------------------
# Geometry engine
# ---------------------------------------------------------------------------------------

def overlay_areas(source: np.ndarray, target: np.ndarray) -> pd.DataFrame:
    """Intersection areas of every intersecting (source, target) pair, fast.

    Parameters
    ----------
    source, target:
        Arrays of valid polygonal shapely geometries in a projected CRS (metres).

    Returns
    -------
    DataFrame with ``source_index, target_index, area, n_targets``. For a source that
    intersects a single target ``area`` is the source's own area and no intersection is
    computed (only its share, 1, matters); ``n_targets`` is the number of candidates.
    """
    source = np.asarray(source, dtype=object)
    target = np.asarray(target, dtype=object)
    tree = shapely.STRtree(target)
    if len(source) <= SMALL_OVERLAY:
        # few sources: intersect every box candidate directly, no predicate pass
        si, ti = tree.query(source)
        area = shapely.area(shapely.intersection(source[si], target[ti]))
        keep = area > 0
        si, ti, area = si[keep], ti[keep], area[keep]
        n = np.bincount(si, minlength=len(source))[si]
        return pd.DataFrame({"source_index": si, "target_index": ti, "area": area, "n_targets": n})
    si, ti = tree.query(source, predicate="intersects")
    counts = np.bincount(si, minlength=len(source))
    n = counts[si]
    area = np.empty(len(si), dtype="float64")
    single = n == 1
    area[single] = shapely.area(source[si[single]])
    multi = ~single
    if multi.any():
        area[multi] = shapely.area(shapely.intersection(source[si[multi]], target[ti[multi]]))
    return pd.DataFrame({"source_index": si, "target_index": ti, "area": area, "n_targets": n})


def _normalised_shares(pairs: pd.DataFrame, n_source: int) -> np.ndarray:
    """Share of each pair in its source's covered area (tobler's ``allocate_total``)."""
    si = pairs["source_index"].to_numpy()
    area = pairs["area"].to_numpy()
    total = np.bincount(si, weights=area, minlength=n_source)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total[si] > 0, area / total[si], 0.0)
    return share


def _as_layer(geo, role: str) -> gpd.GeoDataFrame:
    """Accept ``(year, level)`` or a GeoDataFrame with ``code`` (and ``year``/``level``)."""
    if isinstance(geo, tuple):
        frame = geometries.load(*geo)
    elif isinstance(geo, gpd.GeoDataFrame):
        if "code" not in geo.columns:
            raise ValueError(f"{role}: GeoDataFrame mist kolom 'code'")
        frame = geo.to_crs(geometries.RD_NEW) if geo.crs is not None and geo.crs != geometries.RD_NEW else geo
        frame = frame.reset_index(drop=True)
    else:
        raise TypeError(f"{role}: verwacht (jaar, niveau) of GeoDataFrame, kreeg {type(geo).__name__}")
    if frame["code"].duplicated().any():
        raise ValueError(f"{role}: dubbele codes, bv. {frame['code'][frame['code'].duplicated()].iloc[0]}")
    return frame


def _level_year(frame: gpd.GeoDataFrame) -> tuple[int | None, str | None]:
    year = int(frame["year"].iloc[0]) if "year" in frame.columns and len(frame) and frame["year"].nunique() == 1 else None
    level = str(frame["level"].iloc[0]) if "level" in frame.columns and len(frame) and frame["level"].nunique() == 1 else None
    return year, level


def parent_code(codes: Iterable[str], level: str) -> np.ndarray:
    """CBS parent code at ``level`` ("wijk" or "gemeente") of buurt/wijk codes.

    ``BU03630001`` -> ``WK036300`` / ``GM0363``; codes may be alphanumeric (Amsterdam since 2022).
    """
    codes = pd.Series(list(codes), dtype=object).astype(str)
    body = codes.str[2:]
    if level == "gemeente":
        return ("GM" + body.str[:4]).to_numpy(dtype=object)
    if level == "wijk":
        ok = codes.str.startswith("BU")
        return np.where(ok, "WK" + body.str[:6], None).astype(object)
    raise ValueError(f"geen bovenliggend niveau {level!r}")


# ---------------------------------------------------------------------------------------
# Crosswalk
# ---------------------------------------------------------------------------------------

def crosswalk(source, target, *, mode: str = "auto", snap_tolerance: float = DEFAULT_SNAP_TOLERANCE,
              group_tolerance: float = DEFAULT_GROUP_TOLERANCE,
              weights: gpd.GeoDataFrame | None = None, weight_column: str = "weight") -> pd.DataFrame:
    """Crosswalk from ``source`` to ``target`` geography.

    Parameters
    ----------
    source, target:
        ``(year, level)`` of the mirror (see :func:`wijkmonitor.geometries.available`) or a
        GeoDataFrame with ``code`` and ``geometry`` (and ideally ``year`` and ``level``).
    mode:
        ``"auto"`` uses CBS's own information first (code persistence, code hierarchy of the
        same year, whole groups of buurten/wijken of one gemeente lying in one target) and an
        area overlay for the rest, snapping slivers below ``snap_tolerance``.
        ``"area"`` is a plain area overlay of every source (shares = intersection area over
        the source's covered area, as ``tobler.area_interpolate`` with ``allocate_total``);
        pieces are labelled ``area`` unless a source touches one target only (``contained``).
    snap_tolerance:
        A source with at least ``1 - snap_tolerance`` of its covered area in one target goes
        there whole; pieces of a split source below ``snap_tolerance / 10`` are dropped and
        the rest renormalised (``auto`` mode only; ``0`` switches both off).
    group_tolerance:
        A gemeente of the source year (the group of its buurten or wijken) whose located area
        lies for at least ``1 - group_tolerance`` in one target goes there whole, with all its
        members (``auto`` mode, buurt/wijk to a coarser level of another year).
    weights:
        Optional finer units with a ``weight_column`` (e.g. population per buurt) and
        polygons. Sources that are split are then split by the weight of the finer units
        (area-apportioned within each unit) instead of by area: method ``weighted``. A split
        source whose pieces hold no weight at all keeps its area shares.

    Returns
    -------
    DataFrame ``source_code, target_code, share, method`` sorted by source and target. Its
    ``attrs`` hold ``source``/``target`` (``(year, level)`` when known) and ``unplaced``:
    source codes that got no target (no polygon, or outside every target polygon).
    """
    if mode not in ("auto", "area"):
        raise ValueError(f"mode moet 'auto' of 'area' zijn, niet {mode!r}")
    src = _as_layer(source, "bron")
    tgt = _as_layer(target, "doel")
    s_year, s_level = _level_year(src)
    t_year, t_level = _level_year(tgt)
    s_codes = src["code"].to_numpy(dtype=object)
    t_codes = tgt["code"].to_numpy(dtype=object)
    s_geom = src.geometry.to_numpy()
    t_geom = tgt.geometry.to_numpy()
    s_empty = shapely.is_empty(s_geom)
    t_empty = shapely.is_empty(t_geom)
    t_index = pd.Index(t_codes)

    parts: list[pd.DataFrame] = []
    done = np.zeros(len(src), dtype=bool)

    def take(mask: np.ndarray, targets: np.ndarray, method: str) -> None:
        parts.append(pd.DataFrame({"source_code": s_codes[mask], "target_code": targets[mask],
                                   "share": 1.0, "method": method}))
        done[mask] = True

    if mode == "auto":
        same_year = s_year is not None and s_year == t_year
        # 1. CBS code hierarchy within one year: buurt -> wijk/gemeente, wijk -> gemeente
        if same_year and s_level and t_level and LEVEL_RANK.get(s_level, 9) < LEVEL_RANK.get(t_level, -1):
            parents = parent_code(s_codes, t_level)
            hit = pd.Series(parents).isin(set(t_codes)).to_numpy()
            take(hit, parents, "nested")
        # 2. code persistence at the same level: identical if the territory matches both ways
        if s_level is not None and s_level == t_level:
            _identical(src, tgt, snap_tolerance, take, done)
        # 3. whole gemeenten (groups of buurten/wijken) lying in one target
        if (not same_year and s_level in ("buurt", "wijk") and t_level in ("wijk", "gemeente")
                and LEVEL_RANK[s_level] < LEVEL_RANK[t_level]):
            group = parent_code(s_codes, t_level)
            _groups_contained(s_geom, s_empty, group, t_geom, t_codes, done, take, group_tolerance)

    # 4. area overlay of what is left
    rest = np.flatnonzero(~done & ~s_empty)
    usable_t = np.flatnonzero(~t_empty)
    if len(rest):
        pairs = overlay_areas(s_geom[rest], t_geom[usable_t])
        pairs = pairs[pairs["area"] > 0].reset_index(drop=True)
        share = _normalised_shares(pairs, len(rest))
        si = rest[pairs["source_index"].to_numpy()]
        ti = usable_t[pairs["target_index"].to_numpy()]
        method = np.where(share >= 1.0, "contained", "area").astype(object)
        if mode == "auto" and snap_tolerance > 0:
            share, method = _snap(si, share, method, snap_tolerance)
            share = _drop_specks(si, share, snap_tolerance / 10)
        if weights is not None:
            share, method = _reweight(si, ti, share, method, s_geom, t_geom, weights, weight_column)
        keep = share > 0
        parts.append(pd.DataFrame({"source_code": s_codes[si[keep]], "target_code": t_codes[ti[keep]],
                                   "share": share[keep], "method": method[keep]}))
        done[np.unique(si[keep])] = True

    result = (pd.concat(parts, ignore_index=True) if parts
              else pd.DataFrame({c: pd.Series(dtype=object) for c in CROSSWALK_COLUMNS}))
    result["share"] = result["share"].astype("float64")
    result = result.sort_values(["source_code", "target_code"], kind="stable").reset_index(drop=True)
    result.attrs["source"] = (s_year, s_level)
    result.attrs["target"] = (t_year, t_level)
    result.attrs["unplaced"] = sorted(s_codes[~done].tolist())
    return result[CROSSWALK_COLUMNS]


def _identical(src, tgt, tol, take, done) -> None:
    """Same code and same territory (each covers >= 1 - tol of the other's area)."""
    common = pd.Index(src["code"]).get_indexer(tgt["code"])
    t_pos = np.flatnonzero(common >= 0)
    s_pos = common[t_pos]
    a = src.geometry.to_numpy()[s_pos]
    b = tgt.geometry.to_numpy()[t_pos]
    ok = ~shapely.is_empty(a) & ~shapely.is_empty(b)
    inter = np.zeros(len(a))
    inter[ok] = shapely.area(shapely.intersection(a[ok], b[ok]))
    with np.errstate(invalid="ignore", divide="ignore"):
        same = ok & (inter >= (1 - tol) * shapely.area(a)) & (inter >= (1 - tol) * shapely.area(b))
    mask = np.zeros(len(src), dtype=bool)
    mask[s_pos[same]] = True
    mask &= ~done
    codes = src["code"].to_numpy(dtype=object)
    take(mask, codes, "identical")


def _groups_contained(s_geom, s_empty, group, t_geom, t_codes, done, take, tol) -> None:
    """Whole groups (the buurten/wijken of one gemeente of the source year) lying in one target.

    Every member with a polygon is located by its interior point. The group's main target is
    the one holding most of the group's located area. When at least ``1 - tol`` of that area
    lies there, the gemeente as a territory lies in that target, and by CBS's hierarchy so do
    **all** its members: those whose point strays into a neighbour (the 2014 buurt layer is
    quantised to ~300 m, so small border buurten shift by whole blocks) and those without a
    polygon. They all go there whole (``contained``). Groups below the threshold (a gemeente
    that was split) and groups with one member are left to the area overlay.
    """
    idx = np.flatnonzero(~s_empty & ~done)
    points = shapely.point_on_surface(s_geom[idx])
    # index the points and query with the polygons: each target is prepared once and tests
    # all points in its box (much faster than one polygon lookup per point)
    ti, pi = shapely.STRtree(points).query(t_geom, predicate="contains_properly")
    # a point in two (overlapping) targets counts for each with its full area: harmless for
    # choosing the main target, and conservative for the threshold
    frame = pd.DataFrame({"group": group[idx[pi]], "target": ti, "area": shapely.area(s_geom[idx[pi]])})
    if frame.empty:
        return
    by_target = frame.groupby(["group", "target"])["area"].sum()
    located = frame.drop_duplicates(subset=None).groupby("group")["area"].sum()
    main = by_target.sort_values(ascending=False, kind="stable").reset_index().drop_duplicates("group")
    main = main.set_index("group")
    frac = main["area"] / located.reindex(main.index)
    size = pd.Series(group[~done]).value_counts()
    whole = main[(frac >= 1 - tol) & (size.reindex(main.index).fillna(0) >= 2)]
    main_target = pd.Series(t_codes[whole["target"].astype(int).to_numpy()], index=whole.index)
    mapped = pd.Series(group).map(main_target).to_numpy(dtype=object)
    mask = ~done & pd.notna(mapped)
    take(mask, mapped, "contained")


def _snap(si, share, method, tol):
    """Give a source wholly to its main target when the rest is below ``tol`` (slivers)."""
    frame = pd.DataFrame({"si": si, "share": share})
    top = frame.groupby("si")["share"].transform("max").to_numpy()
    is_top = share == top
    # only one "top" per source (ties: first)
    first_top = is_top & ~pd.Series(np.where(is_top, si, -1)).duplicated().to_numpy()
    snap = top >= 1 - tol
    share = np.where(snap, np.where(first_top, 1.0, 0.0), share)
    method = np.where(snap, "contained", method).astype(object)
    return share, method


def _drop_specks(si, share, minimum):
    """Remove pieces below ``minimum`` of a split source and renormalise its shares."""
    share = np.where(share < minimum, 0.0, share)
    total = np.bincount(si, weights=share, minlength=int(si.max()) + 1 if len(si) else 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total[si] > 0, share / total[si], 0.0)


def _reweight(si, ti, share, method, s_geom, t_geom, weights, column):
    """Split the ``area`` pieces by the weight of finer units instead of by area."""
    if column not in weights.columns:
        raise ValueError(f"gewichten missen kolom {column!r}")
    w = weights.to_crs(geometries.RD_NEW) if weights.crs is not None and weights.crs != geometries.RD_NEW else weights
    split = np.flatnonzero(method == "area")
    if not len(split):
        return share, method
    pieces = shapely.intersection(s_geom[si[split]], t_geom[ti[split]])
    units = w.geometry.to_numpy()
    unit_w = pd.to_numeric(w[column], errors="coerce").to_numpy(dtype="float64")
    pairs = overlay_areas(units, pieces)
    unit_area = shapely.area(units)
    frac = np.where(unit_area[pairs["source_index"]] > 0,
                    pairs["area"].to_numpy() / unit_area[pairs["source_index"]], 0.0)
    piece_w = np.bincount(pairs["target_index"], weights=np.nan_to_num(unit_w[pairs["source_index"]]) * frac,
                          minlength=len(split))
    src_total = pd.Series(piece_w).groupby(si[split]).transform("sum").to_numpy()
    usable = src_total > 0
    new_share = share.copy()
    new_method = method.copy()
    new_share[split[usable]] = piece_w[usable] / src_total[usable]
    new_method[split[usable]] = "weighted"
    return new_share, new_method


def gemeente_changes(year_from: int, year_to: int, *, snap_tolerance: float = DEFAULT_SNAP_TOLERANCE
                     ) -> pd.DataFrame:
    """Gemeente changes between two years, derived from the polygons.

    Returns one row per gemeente of ``year_from`` that is not ``identical`` in ``year_to``:
    ``code, name, successor_code, successor_name, share, change`` where ``change`` is
    ``merged`` (code gone, whole territory in one successor), ``absorbing`` (code kept but the
    gemeente grew: others merged into it), ``split`` (territory divided, one row per part) or
    ``redrawn`` (code kept, territory changed otherwise).
    """
    cw = crosswalk((year_from, "gemeente"), (year_to, "gemeente"), snap_tolerance=snap_tolerance)
    src = geometries.load(year_from, "gemeente").set_index("code")["name"]
    dst = geometries.load(year_to, "gemeente").set_index("code")["name"]
    cw = cw[cw["method"] != "identical"].copy()
    n_parts = cw.groupby("source_code")["target_code"].transform("size")
    inflow = pd.Series(cw["target_code"]).value_counts()
    change = np.where(n_parts > 1, "split",
                      np.where(cw["source_code"] != cw["target_code"], "merged",
                               np.where(cw["target_code"].map(inflow).to_numpy() > 1, "absorbing",
                                        "redrawn")))
    out = pd.DataFrame({"code": cw["source_code"].to_numpy(),
                        "name": cw["source_code"].map(src).to_numpy(),
                        "successor_code": cw["target_code"].to_numpy(),
                        "successor_name": cw["target_code"].map(dst).to_numpy(),
                        "share": cw["share"].to_numpy(), "change": change})
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Moving values
# ---------------------------------------------------------------------------------------

def values_from_wide(frame: pd.DataFrame, variables: Iterable[str], *, code_column: str = "code"
                     ) -> pd.DataFrame:
    """Long ``source_code, variable, value, status`` from a wide table (one row per region).

    CBS special values become NaN with their status (``geheim``/``ontbreekt``); an absent key
    (NaN) is ``ontbreekt``.
    """
    parts = []
    codes = frame[code_column].astype(str).to_numpy(dtype=object)
    for var in variables:
        if var not in frame.columns:
            raise KeyError(f"kolom {var!r} ontbreekt")
        values, status = parse_values(frame[var])
        parts.append(pd.DataFrame({"source_code": codes, "variable": var, "value": values,
                                   "status": status}))
    return pd.concat(parts, ignore_index=True)[VALUE_COLUMNS]


def _check_values(values: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in VALUE_COLUMNS if c not in values.columns]
    if missing:
        raise ValueError(f"waarden missen kolommen {missing}")
    v = values[VALUE_COLUMNS].copy()
    v["value"] = pd.to_numeric(v["value"], errors="coerce").astype("float64")
    bad = (v["status"] == STATUS_OK) & v["value"].isna()
    v.loc[bad, "status"] = STATUS_MISSING
    # a non-ok status never carries a number
    v.loc[v["status"] != STATUS_OK, "value"] = np.nan
    if v.duplicated(["source_code", "variable"]).any():
        dup = v[v.duplicated(["source_code", "variable"])].iloc[0]
        raise ValueError(f"dubbele waarde voor {dup['source_code']} / {dup['variable']}")
    return v


def move(values: pd.DataFrame, crosswalk: pd.DataFrame, kind: str = "count", *,
         ratios: Mapping[str, tuple[str, str, float]] | None = None,
         min_quality: float = 0.0) -> pd.DataFrame:
    """Express ``values`` on the target regions of ``crosswalk``.

    Parameters
    ----------
    values:
        Long frame ``source_code, variable, value, status`` on the crosswalk's source regions.
    crosswalk:
        From :func:`crosswalk`.
    kind:
        ``"count"``: every variable is a count, moved by share.
        ``"rate"``: ``ratios`` maps each output name to ``(numerator, denominator, factor)``;
        numerator and denominator counts are moved and the rate re-derived as
        ``factor * numerator / denominator`` (never averaged).
        ``"percentage"``: for published percentages without numerator: ``ratios`` maps output
        name to ``(percentage_variable, denominator, factor)``; the numerator is estimated as
        ``percentage * denominator / factor`` per source, then moved; the reason column marks
        the result as an estimate.
    min_quality:
        Target values whose quality (share of the value from exact pieces: ``identical``,
        ``nested``, ``contained``) is below this are hidden (status ``lage_kwaliteit``).

    Returns
    -------
    DataFrame ``target_code, variable, value, status, quality, reason``. Status ``geheim`` or
    ``ontbreekt`` when any piece with share > 0 was suppressed/missing (or the source region is
    absent from ``values``); the reason names the first such source. ``attrs["unmoved"]``
    lists source codes in ``values`` that are not in the crosswalk (no polygon / no target):
    their values are not in any target, so totals over targets exclude them.
    """
    v = _check_values(values)
    cw = crosswalk[crosswalk["share"] > 0]
    unmoved = sorted(set(v["source_code"]) - set(cw["source_code"]))
    if kind == "count":
        out = _move_counts(v, cw)
    elif kind in ("rate", "percentage"):
        if not ratios:
            raise ValueError(f"kind={kind!r} vraagt ratios={{naam: (teller, noemer, factor)}}")
        out = _move_ratios(v, cw, ratios, estimated=(kind == "percentage"))
    else:
        raise ValueError(f"kind moet 'count', 'rate' of 'percentage' zijn, niet {kind!r}")
    low = (out["status"] == STATUS_OK) & (out["quality"] < min_quality)
    out.loc[low, "reason"] = [f"kwaliteit {q:.2f} onder minimum {min_quality:.2f}" for q in out.loc[low, "quality"]]
    out.loc[low, "status"] = STATUS_LOW_QUALITY
    out.loc[low, "value"] = np.nan
    out.attrs["unmoved"] = unmoved
    if unmoved:
        warnings.warn(f"{len(unmoved)} bronregio's zonder plek in de crosswalk (o.a. {unmoved[:3]}); "
                      "hun waarden zijn niet verdeeld", stacklevel=2)
    return out[MOVED_COLUMNS].reset_index(drop=True)


def _move_counts(v: pd.DataFrame, cw: pd.DataFrame) -> pd.DataFrame:
    """Sparse matrix product (via bincount) of values by share, with status and quality."""
    targets = pd.Index(pd.unique(cw["target_code"]))
    sources = pd.Index(pd.unique(cw["source_code"]))
    ti = targets.get_indexer(cw["target_code"])
    si = sources.get_indexer(cw["source_code"])
    share = cw["share"].to_numpy(dtype="float64")
    exact = cw["method"].isin(EXACT_METHODS).to_numpy()
    out = []
    for var, part in v.groupby("variable", sort=True):
        pos = sources.get_indexer(part["source_code"])
        known = pos >= 0
        val = np.full(len(sources), np.nan)
        stat = np.full(len(sources), STATUS_MISSING, dtype=object)
        val[pos[known]] = part["value"].to_numpy()[known]
        stat[pos[known]] = part["status"].to_numpy()[known]
        piece = val[si] * share
        ok_piece = stat[si] == STATUS_OK
        total = np.bincount(ti, weights=np.where(ok_piece, piece, 0.0), minlength=len(targets))
        exact_total = np.bincount(ti, weights=np.where(ok_piece & exact, piece, 0.0), minlength=len(targets))
        share_all = np.bincount(ti, weights=share, minlength=len(targets))
        share_exact = np.bincount(ti, weights=np.where(exact, share, 0.0), minlength=len(targets))
        with np.errstate(invalid="ignore", divide="ignore"):
            quality = np.where(total != 0, exact_total / total, share_exact / share_all)
        status, reason = _target_status(ti, si, stat, sources, len(targets))
        value = np.where(status == STATUS_OK, total, np.nan)
        out.append(pd.DataFrame({"target_code": targets, "variable": var, "value": value,
                                 "status": status, "quality": np.clip(quality, 0, 1), "reason": reason}))
    if not out:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in MOVED_COLUMNS})
    return pd.concat(out, ignore_index=True).sort_values(["variable", "target_code"], kind="stable")


def _target_status(ti, si, stat, sources, n_targets):
    """Per target: ``geheim`` if any piece is secret, else ``ontbreekt`` if any is missing."""
    status = np.full(n_targets, STATUS_OK, dtype=object)
    reason = np.full(n_targets, "", dtype=object)
    piece_stat = stat[si]
    for st, text in ((STATUS_MISSING, "ontbreekt"), (STATUS_SECRET, "geheim")):  # secret wins
        bad = np.flatnonzero(piece_stat == st)
        if len(bad):
            first = pd.Series(bad).groupby(ti[bad]).first()
            status[first.index.to_numpy()] = st
            reason[first.index.to_numpy()] = [f"deel uit {sources[si[b]]} is {text}" for b in first.to_numpy()]
    return status, reason


def _move_ratios(v, cw, ratios, *, estimated: bool) -> pd.DataFrame:
    out = []
    for name, (num_var, den_var, factor) in ratios.items():
        num = v[v["variable"] == num_var].set_index("source_code")
        den = v[v["variable"] == den_var].set_index("source_code")
        if estimated:  # numerator = published percentage * denominator / factor
            both = num[["value", "status"]].join(den[["value", "status"]].add_suffix("_den"), how="outer")
            status = np.where(both["status"].fillna(STATUS_MISSING) != STATUS_OK, both["status"].fillna(STATUS_MISSING),
                              both["status_den"].fillna(STATUS_MISSING))
            num = pd.DataFrame({"value": both["value"] * both["value_den"] / factor, "status": status},
                               index=both.index)
        frame = pd.concat([num.reset_index().assign(variable="__num")[VALUE_COLUMNS],
                           den.reset_index().assign(variable="__den")[VALUE_COLUMNS]], ignore_index=True)
        moved = _move_counts(_check_values(frame), cw).set_index(["target_code", "variable"])
        n = moved.xs("__num", level="variable")
        d = moved.xs("__den", level="variable").reindex(n.index)
        status = np.where(n["status"] != STATUS_OK, n["status"], d["status"])
        reason = np.where(n["status"] != STATUS_OK, n["reason"], d["reason"])
        zero = (status == STATUS_OK) & (d["value"].to_numpy() == 0)
        status = np.where(zero, STATUS_MISSING, status)
        reason = np.where(zero, "noemer is 0", reason)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(status == STATUS_OK, factor * n["value"].to_numpy() / d["value"].to_numpy(), np.nan)
        if estimated:
            reason = np.where(status == STATUS_OK, "schatting: gewogen met " + den_var, reason)
        out.append(pd.DataFrame({"target_code": n.index, "variable": name, "value": value,
                                 "status": status, "quality": np.minimum(n["quality"], d["quality"]).to_numpy(),
                                 "reason": reason}))
    return pd.concat(out, ignore_index=True)


def move_matrix(matrix: np.ndarray, source_codes: Iterable[str], crosswalk: pd.DataFrame
                ) -> tuple[np.ndarray, pd.Index]:
    """Move a dense ``(n_sources, n_variables)`` array of complete counts (no statuses).

    The fast path for bulk work (benchmarks, building many series at once): returns the
    ``(n_targets, n_variables)`` array and the target codes. NaN in ``matrix`` propagates to
    every target it touches (a suppressed piece is never counted as zero).
    """
    matrix = np.asarray(matrix, dtype="float64")
    sources = pd.Index(list(source_codes))
    cw = crosswalk[crosswalk["share"] > 0]
    targets = pd.Index(pd.unique(cw["target_code"]))
    si = sources.get_indexer(cw["source_code"])
    keep = si >= 0
    ti = targets.get_indexer(cw["target_code"])[keep]
    si = si[keep]
    share = cw["share"].to_numpy()[keep]
    out = np.empty((len(targets), matrix.shape[1]))
    for k in range(matrix.shape[1]):
        out[:, k] = np.bincount(ti, weights=matrix[si, k] * share, minlength=len(targets))
    return out, targets
