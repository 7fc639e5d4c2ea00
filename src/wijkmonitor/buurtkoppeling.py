"""Link the buurt codes of a later division to the 2014 buurt polygons, by name and location.

The mirror has CBS buurt polygons of 2014 only (:mod:`wijkmonitor.geometries`). A buurt of a
later division (2020, 2024, ...) whose code is also in the 2014 layer is drawn with that polygon
(method ``code``, as the maps always did). Gemeenten that merged or recoded since 2014 gave their
buurten new codes, so without a link none of them could be drawn. :func:`link` gives such a buurt
the polygon of a 2014 buurt when all of this holds (method ``naam_ligging``):

1. the two names are equal after :func:`normalise_name` (case, accents, punctuation, ``St.``);
2. the 2014 polygon lies for at least :data:`MIN_INSIDE` of its area inside the territory of the
   later buurt: the polygon of its wijk in the wijk layer of the buurt's own division year where
   that layer has the wijk (``wijken_2024.geojson`` for 2024), else the polygon of its gemeente
   in the gemeente layer of that year (the nearest year when there is none);
3. the 2014 buurt's code is not a buurt code of the later division itself (that buurt is drawn
   under its own code), exactly one such 2014 buurt passes 1 and 2, and no other buurt of the
   later division picks the same 2014 buurt: the link is one to one.

Everything else stays unlinked, with the reason in ``reason``; on a map it is in the table only.
A linked polygon is the buurt's territory *of 2014*: the buurt may have changed its boundary
since, which the map says ("buurtgrenzen van 2014, gekoppeld op naam en ligging"). The result is
a table per buurt (:data:`COLUMNS`); :mod:`wijkmonitor.web.maps` draws from it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wijkmonitor import geometries

#: Polygon year and level that the links point to (the only CBS buurt polygons in the mirror).
POLYGON_YEAR, LEVEL = 2014, "buurt"
#: Minimum share of a 2014 buurt polygon's area inside the later buurt's wijk (or gemeente): the
#: issue's rule, strict on purpose. Of the 6,071 buurten that kept code and name from 2014 to 2024
#: (the same buurt by CBS's own code) and whose wijk has a 2024 polygon, the 2014 polygon lies
#: for a median of 92 % in the 2024 wijk and only 55 % of them reach 90 %: wijken were redrawn,
#: water went to separate "Groot water" wijken, and the 2014 layer is quantised to a grid of
#: about 265 x 312 m (``tests/web/test_maps_koppeling.py`` recomputes these figures). So a link
#: is made only where the 2014 polygon still shows the buurt's place well; many true namesakes
#: are refused and stay in the table.
MIN_INSIDE = 0.90
#: Abbreviations written out before names are compared (``St. Agatha`` = ``Sint Agatha``).
NAME_WORDS = {"st": "sint"}

CODE, NAME_LOCATION = "code", "naam_ligging"
COLUMNS = ["code", "name", "wijk_code", "gemeente_code", "polygon_code", "polygon_name", "method",
           "territory", "inside", "reason"]
#: Dutch reasons of a buurt without polygon (shown to analysts in the table).
REASONS = {
    "no_name": "geen buurt van 2014 met dezelfde naam",
    "outside": "de buurt van 2014 met dezelfde naam ligt niet (voor 90 %) in de wijk of gemeente",
    "several": "meer buurten van 2014 met dezelfde naam in de wijk of gemeente",
    "shared": "een andere buurt met dezelfde naam koppelt aan dezelfde buurt van 2014",
    "no_territory": "geen polygoon van de wijk of gemeente om de ligging te toetsen",
}


def normalise_name(name) -> str:
    """A buurt name for comparison: accents dropped, lower case, every run of characters other
    than letters and digits one space, ``st`` written out as ``sint``.

    >>> normalise_name("Loënga") == normalise_name("LOENGA")
    True
    >>> normalise_name("St.-Agatha  (Noord)")
    'sint agatha noord'
    """
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return ""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    words = re.sub(r"[^0-9a-z]+", " ", text).split()
    return " ".join(NAME_WORDS.get(w, w) for w in words)


def _territories(buurten: pd.DataFrame, wijken: gpd.GeoDataFrame | None,
                 gemeenten: gpd.GeoDataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Per buurt its territory polygon (wijk, else gemeente) and which one (``wijk``/``gemeente``
    or ``""`` when neither has a polygon)."""
    n = len(buurten)
    geoms = np.full(n, None, dtype=object)
    kind = np.full(n, "", dtype=object)
    for lookup, column, label in ((gemeenten, "gemeente_code", "gemeente"), (wijken, "wijk_code", "wijk")):
        if lookup is None or column not in buurten.columns:
            continue
        poly = lookup[~lookup.geometry.is_empty].drop_duplicates("code").set_index("code").geometry
        hit = buurten[column].map(poly).to_numpy(dtype=object)
        have = np.array([g is not None and not (isinstance(g, float)) for g in hit])
        geoms[have] = hit[have]
        kind[have] = label  # the wijk (second pass) beats the gemeente
    return geoms, kind


def link(buurten: pd.DataFrame, *, polygons: gpd.GeoDataFrame, wijken: gpd.GeoDataFrame | None = None,
         gemeenten: gpd.GeoDataFrame | None = None, min_inside: float = MIN_INSIDE) -> pd.DataFrame:
    """The 2014 polygon (if any) of every buurt of one later division.

    Parameters
    ----------
    buurten:
        The buurten of one division: ``code, name, wijk_code, gemeente_code``.
    polygons:
        The 2014 buurt polygons (``code, name, geometry``; RD New, as :func:`geometries.load`).
    wijken, gemeenten:
        Wijk and gemeente polygons of the same division (``code, geometry``, same CRS) that
        bound where a buurt's namesake of 2014 may lie; ``None`` when there are none.

    Returns one row per buurt with :data:`COLUMNS`: ``polygon_code`` the 2014 buurt drawn for it
    (``None``: not drawn), ``method`` ``code`` or ``naam_ligging``, ``territory`` ``wijk`` or
    ``gemeente`` (what the location was checked against), ``inside`` the share of the 2014
    polygon inside that territory (best namesake for an unlinked buurt), ``reason`` (Dutch) why
    a buurt has no polygon.
    """
    b = buurten.reset_index(drop=True)
    for col in ("wijk_code", "gemeente_code"):
        if col not in b.columns:
            b[col] = None
    codes = b["code"].astype(str).to_numpy()
    poly = polygons[~polygons.geometry.is_empty].drop_duplicates("code").reset_index(drop=True)
    poly_codes = poly["code"].astype(str).to_numpy()
    own = set(codes)
    out = pd.DataFrame({"code": codes, "name": b["name"].to_numpy(dtype=object),
                        "wijk_code": b["wijk_code"].to_numpy(dtype=object),
                        "gemeente_code": b["gemeente_code"].to_numpy(dtype=object),
                        "polygon_code": None, "polygon_name": None, "method": None,
                        "territory": None, "inside": np.nan, "reason": None})
    by_code = pd.Series(np.arange(len(poly)), index=poly_codes)
    same = np.isin(codes, poly_codes)
    idx = by_code.reindex(codes[same]).to_numpy()
    out.loc[same, "polygon_code"] = poly_codes[idx]
    out.loc[same, "polygon_name"] = poly["name"].to_numpy(dtype=object)[idx]
    out.loc[same, "method"] = CODE

    # candidates: 2014 buurten whose code is not a buurt of this division, by normalised name
    free = ~np.isin(poly_codes, list(own))
    names = pd.DataFrame({"pi": np.flatnonzero(free),
                          "key": [normalise_name(x) for x in poly["name"].to_numpy(dtype=object)[free]]})
    names = names[names["key"] != ""]
    rest = np.flatnonzero(~same)
    terr, kind = _territories(b, wijken, gemeenten)
    want = pd.DataFrame({"bi": rest, "key": [normalise_name(x) for x in b["name"].to_numpy(dtype=object)[rest]]})
    pairs = want.merge(names, on="key", how="inner")
    out.loc[rest, "reason"] = REASONS["no_name"]
    no_terr = rest[kind[rest] == ""]
    out.loc[no_terr, "reason"] = REASONS["no_territory"]
    pairs = pairs[kind[pairs["bi"].to_numpy()] != ""]
    if pairs.empty:
        return out[COLUMNS]
    bi, pi = pairs["bi"].to_numpy(), pairs["pi"].to_numpy()
    pg = poly.geometry.to_numpy()[pi]
    area = shapely.area(pg)
    inter = shapely.area(shapely.intersection(pg, np.asarray(list(terr[bi]), dtype=object)))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area > 0, inter / area, 0.0)
    pairs = pairs.assign(share=share, ok=share >= min_inside)
    best = pairs.sort_values("share", ascending=False).drop_duplicates("bi").set_index("bi")["share"]
    out.loc[best.index, "inside"] = best.to_numpy()
    out.loc[best.index, "territory"] = kind[best.index.to_numpy()]
    out.loc[best.index, "reason"] = REASONS["outside"]
    ok = pairs[pairs["ok"]]
    n_ok = ok.groupby("bi")["pi"].transform("size")
    several = ok.loc[n_ok > 1, "bi"].unique()
    out.loc[several, "reason"] = REASONS["several"]
    single = ok[n_ok == 1]
    n_pick = single.groupby("pi")["bi"].transform("size")
    shared = single.loc[n_pick > 1, "bi"].to_numpy()
    out.loc[shared, "reason"] = REASONS["shared"]
    good = single[n_pick == 1]
    gi, gp = good["bi"].to_numpy(), good["pi"].to_numpy()
    out.loc[gi, "polygon_code"] = poly_codes[gp]
    out.loc[gi, "polygon_name"] = poly["name"].to_numpy(dtype=object)[gp]
    out.loc[gi, "method"] = NAME_LOCATION
    out.loc[gi, "inside"] = good["share"].to_numpy()
    out.loc[gi, "reason"] = None
    return out[COLUMNS]


def nearest_year(level: str, year: int) -> int | None:
    """The polygon year of ``level`` nearest to ``year`` (the later one on a tie)."""
    years = [y for y, lv in geometries.available() if lv == level]
    return min(years, key=lambda y: (abs(y - int(year)), -y)) if years else None


def link_division(buurten: pd.DataFrame, year: int) -> pd.DataFrame:
    """:func:`link` with the polygons of the mirror (or fetched): the 2014 buurten, the wijken of
    ``year`` itself (no other year: wijk codes are reused for other territories) and the
    gemeenten of ``year`` or the nearest year."""
    wijken = geometries.load(year, "wijk") if (int(year), "wijk") in set(geometries.available()) else None
    gy = nearest_year("gemeente", year)
    gemeenten = geometries.load(gy, "gemeente") if gy is not None else None
    return link(buurten, polygons=geometries.load(POLYGON_YEAR, LEVEL), wijken=wijken, gemeenten=gemeenten)


def summary(table: pd.DataFrame, codes: Iterable[str] | None = None) -> dict:
    """Counts of a :func:`link` table (restricted to ``codes``): ``total``, ``drawn``, ``by_code``
    and ``by_name``."""
    t = table if codes is None else table[table["code"].isin(set(codes))]
    return dict(total=len(t), drawn=int(t["polygon_code"].notna().sum()),
                by_code=int((t["method"] == CODE).sum()), by_name=int((t["method"] == NAME_LOCATION).sum()))


__all__ = ["MIN_INSIDE", "COLUMNS", "REASONS", "normalise_name", "link", "link_division", "summary"]
