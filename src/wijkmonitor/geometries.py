"""Region polygons per year and level, from the offline mirror (``cbs-geometries``).

What is in the mirror (see ``cbs-geometries/README.md``):

* buurt and wijk 2014 and gemeente 2015 as TopoJSON (CBS gebiedsindelingen, quantised),
* gemeenten 2012, 2017, 2018, 2019, 2022, 2023 and 2024 as GeoJSON with KWB attributes,
* gemeenten 2013, 2014, 2016 and wijken 2016 as unquantised TopoJSON (CBS "gegeneraliseerd",
  simplified; ``statcode``/``statnaam``), gemeenten 2020 and 2021 as TopoJSON of the VWS corona
  dashboard (object ``municipalities``, ``gemcode``/``gemnaam``), and wijken 2024 as GeoJSON
  (``wijkcode``/``wijknaam``).

So every gemeente year 2012-2024 has polygons for maps. :func:`territory_years` are the gemeente
years whose polygons the harmonised series use as territories: the GeoJSON years and 2020/2021
(compared with a wider snap tolerance, :attr:`Layer.snap_tolerance`, for their simplification
noise). The 2013, 2014 and 2016 layers (simplified 10 %: an unchanged gemeente has on median 96 %
and at the 10th percentile 91 % of its area in its own 2024 polygon) and the quantised 2015 layer
(about 300 m) are too coarse: those years take their territories from 2012 and 2017 (see
:mod:`wijkmonitor.series`).

Amsterdam's buurten have no polygons in the CBS files after 2014 (and the 2014 layer lacks most
of them); :func:`amsterdam_buurten` reads the city's own buurt polygons from the code crosswalk
in ``cbs-kwb-steden/amsterdam-2020-2024-buurt`` (2015 buurt codes and their 2022 successors).

All files are WGS84 lon/lat. :func:`load` returns them as a GeoDataFrame with the columns
``code, year, level, name, geometry``, in RD New (EPSG:28992) for computation by default,
with every geometry made valid (the quantised TopoJSON has self-intersecting rings). The
pseudo-gemeenten ``GM0998`` "Buitenland" (GeoJSON 2017+) and ``GM9999`` (2012 and 2015: the
Belgian enclaves of Baarle-Hertog, no figures) are not regions and are left out
(:data:`NOT_REGIONS`).

Polygons fetched with ``wijkmonitor fetch --all`` (PDOK wijkenbuurten, stored simplified as
GeoParquet under :func:`wijkmonitor.config.fetched_dir`, see
:func:`wijkmonitor.sources.registry_online.read_polygons`) join the layers: :func:`available`
lists them too, and a ``(year, level)`` that only the fetched folder has is read from there
(:attr:`Layer.origin` ``"online"``). So a map or a crosswalk of a year without polygons in the
mirror uses that year's own fetched polygons instead of the nearest mirror year. Where the
mirror has the same year and level, the mirror's file keeps precedence (as for the tables:
source precedence by rank), so nothing calibrated on it (snap tolerances, territory years)
changes by fetching. Fetched layers never place gemeente territories of the harmonised series
(``territory=False``).

A region without a polygon is never dropped silently: :func:`missing_polygons` compares a code
list (for instance the regions of a KWB table of the same year) with the layer and returns the
codes without a polygon; regions whose polygon collapses to nothing when made valid are kept
with an empty geometry and listed by :func:`empty_polygons`.

For maps, :func:`to_wgs84` simplifies (in metres, in RD New) and reprojects to WGS84, and
:func:`to_geojson` writes a compact GeoJSON. :func:`geometries_table` gives one row per region
with the RD geometry as WKB and the simplified WGS84 geometry as GeoJSON text, ready for the
store.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wijkmonitor.config import data_dir
from wijkmonitor.sources.base import SourceError

RD_NEW = "EPSG:28992"
WGS84 = "EPSG:4326"
FOLDER = "cbs-geometries"
GEOMETRY_COLUMNS = ["code", "year", "level", "name", "geometry"]
TABLE_COLUMNS = ["code", "year", "level", "name", "wkb_rd", "geojson_wgs84"]
#: Codes in the GeoJSON files that are not regions.
NOT_REGIONS = frozenset({
    "GM0998",  # "Buitenland" (2017+ GeoJSON): only carries BAG counts
    "GM9999",  # no name, no figures: the Belgian enclaves of Baarle-Hertog inside Baarle-Nassau
    "WK099899",  # "Buitenland" wijk of GM0998 (wijken 2024 GeoJSON)
})

#: Default simplification tolerance (metres, RD New) for map geometries per level.
MAP_TOLERANCE_M = {"gemeente": 50.0, "wijk": 20.0, "buurt": 10.0}


@dataclass(frozen=True)
class Layer:
    """One polygon file of the mirror."""

    year: int
    level: str
    file: str
    code_field: str
    name_field: str
    driver: str  # "TopoJSON" or "GeoJSON"
    note: str = ""
    object: str | None = None  # TopoJSON object (GDAL layer) when the file holds several
    territory: bool = True  # gemeente polygons good enough to place territories (harmonised series)
    #: Share of a region's area that may lie outside its own polygon of another layer through
    #: drawing noise alone (simplification); None: harmonise.DEFAULT_SNAP_TOLERANCE.
    snap_tolerance: float | None = None
    #: ``"spiegel"`` (a file of the offline mirror) or ``"online"`` (fetched PDOK GeoParquet).
    origin: str = "spiegel"


LAYERS: dict[tuple[int, str], Layer] = {
    (2014, "buurt"): Layer(2014, "buurt", "Buurt_2014_layer_q1e3.json", "statcode", "statnaam",
                           "TopoJSON", "314 buurten of 2014 have no polygon in this layer"),
    (2014, "wijk"): Layer(2014, "wijk", "Wijk_2014_layer_q1e3.json", "statcode", "statnaam",
                          "TopoJSON"),
    (2015, "gemeente"): Layer(2015, "gemeente", "Gemeente_2015_layer_q1e3.json", "statcode",
                              "statnaam", "TopoJSON", "quantised to about 300 m",
                              territory=False),
    **{(y, "gemeente"): Layer(y, "gemeente", f"gemeenten_{y}.geojson", "gemeentecode",
                              "gemeentenaam", "GeoJSON")
       for y in (2012, 2017, 2018, 2019, 2022, 2023, 2024)},
    # maps only: simplified so coarsely that a gemeente whose territory did not change has a
    # tenth of its area outside its own 2024 polygon at the 10th percentile (88-91 %)
    **{(y, "gemeente"): Layer(y, "gemeente", f"gemeente_{y}.topojson", "statcode", "statnaam",
                              "TopoJSON", "CBS gegeneraliseerd, simplified 10 % (edwindj/nl_maps); "
                              "too coarse for territories", territory=False)
       for y in (2013, 2014, 2016)},
    # territories with a wider snap: an unchanged gemeente has 95-97 % of its area inside its
    # own 2024 polygon (the rest is simplification noise); real splits stay far below
    **{(y, "gemeente"): Layer(y, "gemeente", f"minvws_gemeente_{y}_geography-simplified.topo.json",
                              "gemcode", "gemnaam", "TopoJSON",
                              "CBS gegeneraliseerd, simplified 27.5 % (VWS corona dashboard)",
                              object="municipalities", snap_tolerance=0.05)
       for y in (2020, 2021)},
    (2016, "wijk"): Layer(2016, "wijk", "wijk_2016.topojson", "statcode", "statnaam", "TopoJSON",
                          "63 of the 2,981 wijken of 2016 have no polygon in this layer: 19 without "
                          "geometry and 44 whose rings collapsed in the simplification"),
    (2024, "wijk"): Layer(2024, "wijk", "wijken_2024.geojson", "wijkcode", "wijknaam", "GeoJSON"),
}


ORIGIN_MIRROR, ORIGIN_FETCHED = "spiegel", "online"
#: The registry family whose fetched WFS tables are polygon layers.
FETCHED_FAMILY = "pdok_wijkenbuurten"


def _fetched_signature() -> tuple[str, int] | None:
    """The fetched registry folder and its modification time (``None``: nothing fetched).

    A fetch moves each finished table into place, which changes the folder's mtime, so the
    signature keys the caches below: a new fetch is seen without restarting the process.
    """
    from .config import fetched_dir
    from .sources.fetch_registry import FOLDER as REGISTRY_FOLDER

    root = fetched_dir() / REGISTRY_FOLDER
    try:
        return str(root), root.stat().st_mtime_ns
    except OSError:
        return None


@functools.lru_cache(maxsize=4)
def _fetched_layers(signature: tuple[str, int] | None) -> dict[tuple[int, str], Layer]:
    """``(year, level) -> Layer`` of every polygon level fetched into the registry folder."""
    if signature is None:
        return {}
    from .sources.fetch_registry import MANIFEST
    from .sources.registry import load_registry

    root = Path(signature[0])
    fam = load_registry().get(FETCHED_FAMILY)
    out: dict[tuple[int, str], Layer] = {}
    for table in (fam.tables.values() if fam else ()):
        if table.access != "wfs" or not (root / table.table_id / MANIFEST).is_file():
            continue
        for level in table.levels:
            path = root / table.table_id / f"{level}.parquet"
            if path.is_file():
                out[(int(table.geo_year), level)] = Layer(
                    int(table.geo_year), level, f"{root.name}/{table.table_id}/{level}.parquet",
                    "code", "name", "GeoParquet",
                    "PDOK wijkenbuurten, fetched with 'wijkmonitor fetch --all' (simplified ~10 m)",
                    territory=False, origin=ORIGIN_FETCHED)
    return out


def fetched_layers() -> dict[tuple[int, str], Layer]:
    """The fetched polygon layers (PDOK wijkenbuurten GeoParquet) by ``(year, level)``."""
    return dict(_fetched_layers(_fetched_signature()))


def available() -> list[tuple[int, str]]:
    """The ``(year, level)`` pairs with polygons, in the mirror or fetched, sorted."""
    return sorted(set(LAYERS) | set(fetched_layers()))


def territory_years(level: str = "gemeente") -> tuple[int, ...]:
    """Years of ``level`` whose polygons place territories (all but quantised layers)."""
    return tuple(sorted(y for (y, lv), lay in LAYERS.items() if lv == level and lay.territory))


def layer(year: int, level: str) -> Layer:
    """The :class:`Layer` for ``(year, level)``: the mirror's file, else the fetched one;
    ``KeyError`` listing what exists otherwise."""
    key = (int(year), level)
    if key in LAYERS:
        return LAYERS[key]
    fetched = fetched_layers()
    if key in fetched:
        return fetched[key]
    have = ", ".join(f"{lv} {y}" for y, lv in available())
    raise KeyError(f"geen polygonen voor {level} {year} in {FOLDER} of opgehaald; wel: {have}")


def _key(year: int, level: str):
    """Cache key part: ``None`` for a mirror layer, the fetched folder's signature otherwise."""
    return None if (int(year), level) in LAYERS else _fetched_signature()


def _path(lay: Layer) -> Path:
    return data_dir() / FOLDER / lay.file


def _read_raw(year: int, level: str) -> gpd.GeoDataFrame:
    return _read_raw_cached(int(year), level, _key(year, level))


@functools.lru_cache(maxsize=32)
def _read_raw_cached(year: int, level: str, key) -> gpd.GeoDataFrame:
    """Read one file as published (WGS84, all properties)."""
    lay = layer(year, level)
    if lay.origin == ORIGIN_FETCHED:
        from .config import fetched_dir
        from .sources.registry_online import read_polygons

        path = fetched_dir() / lay.file
        frame = read_polygons(fetched_dir(), year, level, family=FETCHED_FAMILY, crs=WGS84)
        if frame is None:
            raise SourceError(path, "opgehaalde polygonen ontbreken", year=year)
    else:
        path = _path(lay)
        if not path.is_file():
            raise SourceError(path, "bestand met polygonen ontbreekt", year=year)
        # GDAL only sniffs TopoJSON when "Topology" is near the start; these files put it last.
        source = f"TopoJSON:{path}" if lay.driver == "TopoJSON" else str(path)
        frame = gpd.read_file(source, layer=lay.object) if lay.object else gpd.read_file(source)
    if frame.crs is None:
        frame = frame.set_crs(WGS84)
    if lay.code_field not in frame.columns:
        raise SourceError(path, "codeveld ontbreekt", field=lay.code_field, year=year)
    codes = frame[lay.code_field].astype("string").str.strip()
    if codes.isna().any():
        row = int(np.flatnonzero(codes.isna().to_numpy())[0]) + 1
        raise SourceError(path, "regio zonder code", row=row, field=lay.code_field, year=year)
    frame[lay.code_field] = codes.astype(object)
    frame = frame[~frame[lay.code_field].isin(NOT_REGIONS)].reset_index(drop=True)
    dupes = frame[lay.code_field].duplicated()
    if dupes.any():
        row = int(np.flatnonzero(dupes.to_numpy())[0]) + 1
        raise SourceError(path, f"code {frame[lay.code_field][row - 1]} komt dubbel voor",
                          row=row, field=lay.code_field, year=year)
    return frame


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Make geometries valid and keep only their polygonal parts (as (Multi)Polygon)."""
    try:
        valid = shapely.make_valid(geoms)
    except shapely.errors.GEOSException:
        # one collapsed ring (e.g. a quantised part with four identical points) makes the
        # "linework" method fail for the whole array: repair one by one, falling back to the
        # "structure" method (shells unioned, holes subtracted, collapsed parts dropped)
        valid = np.empty(len(geoms), dtype=object)
        for i, geom in enumerate(geoms):
            try:
                valid[i] = shapely.make_valid(geom)
            except shapely.errors.GEOSException:
                valid[i] = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    out = valid.copy()
    kinds = shapely.get_type_id(valid)
    # 7 = GeometryCollection: keep polygons / multipolygons inside it
    for i in np.flatnonzero(kinds == 7):
        parts = shapely.get_parts(valid[i])
        polys = [p for p in parts if shapely.get_type_id(p) in (3, 6)]
        out[i] = shapely.union_all(polys) if polys else shapely.from_wkt("POLYGON EMPTY")
    bad = ~np.isin(shapely.get_type_id(out), (3, 6))
    for i in np.flatnonzero(bad):
        out[i] = shapely.from_wkt("POLYGON EMPTY")
    return out


@functools.lru_cache(maxsize=32)
def _load_cached(year: int, level: str, crs: str, key=None) -> gpd.GeoDataFrame:
    lay = layer(year, level)
    raw = _read_raw(year, level)
    geoms = raw.geometry.to_crs(crs).to_numpy()
    frame = gpd.GeoDataFrame(
        {
            "code": raw[lay.code_field].to_numpy(dtype=object),
            "year": np.full(len(raw), lay.year, dtype="int64"),
            "level": lay.level,
            "name": (raw[lay.name_field].astype(object).where(raw[lay.name_field].notna(), None)
                     if lay.name_field in raw.columns else None),
        },
        geometry=_polygonal(np.asarray(geoms)),
        crs=crs,
    )
    return frame.sort_values("code", kind="stable").reset_index(drop=True)


def load(year: int, level: str, *, crs: str = RD_NEW) -> gpd.GeoDataFrame:
    """Polygons of one ``(year, level)`` with columns ``code, year, level, name, geometry``.

    Geometries are made valid (polygonal parts only) after projecting to ``crs``; a region
    whose polygon is empty after that stays in the frame (see :func:`empty_polygons`).

    Parameters
    ----------
    year, level:
        One of :func:`available`.
    crs:
        Target CRS; RD New (EPSG:28992, metres) by default, which all area computations use.
    """
    return _load_cached(int(year), level, str(crs), _key(year, level)).copy()


def load_many(pairs: Iterable[tuple[int, str]] | None = None, *, crs: str = RD_NEW
              ) -> gpd.GeoDataFrame:
    """Several ``(year, level)`` layers stacked (all available ones by default)."""
    pairs = available() if pairs is None else list(pairs)
    frames = [load(y, lv, crs=crs) for y, lv in pairs]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)


AMSTERDAM_CROSSWALK = ("cbs-kwb-steden", "amsterdam-2020-2024-buurt", "buurten.csv")


@functools.lru_cache(maxsize=2)
def amsterdam_buurten(code_year: int = 2022, *, crs: str = RD_NEW) -> gpd.GeoDataFrame:
    """Amsterdam's buurt polygons from the city's crosswalk file, under CBS codes of 2015 or 2022.

    ``buurten.csv`` (Gemeente Amsterdam gebiedsindeling) has one row per buurt of 2015 with its
    CBS code of 2015 (``BU03630000``), its successor of 2022 (``BU0363AE01``, one to one) and
    its polygon (WKT, RD New). ``code_year`` 2022 or later names the rows by the 2022 codes,
    earlier years by the 2015 codes (valid until Amsterdam recoded its buurten in 2022). Buurten
    created in 2022 or later are not in the file. Returns ``code, year, level, name, geometry``
    like :func:`load` (``year`` is the code year: 2015 or 2022).
    """
    path = data_dir().joinpath(*AMSTERDAM_CROSSWALK)
    if not path.is_file():
        raise SourceError(path, "bestand met de Amsterdamse buurtindeling ontbreekt")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    year = 2022 if int(code_year) >= 2022 else 2015
    code_field, name_field = f"BUURTCODE_CBS_{year}", f"BUURTNAAM_{year}"
    for field in (code_field, name_field, "geometrie"):
        if field not in raw.columns:
            raise SourceError(path, "kolom ontbreekt", field=field)
    wkt = raw["geometrie"].str.replace(r"^SRID=\d+;", "", regex=True)
    try:
        geoms = shapely.from_wkt(wkt.to_numpy())
    except shapely.errors.GEOSException as exc:
        raise SourceError(path, f"onleesbare polygoon ({exc})", field="geometrie") from None
    frame = gpd.GeoDataFrame({"code": raw[code_field].str.strip().to_numpy(dtype=object),
                              "year": np.full(len(raw), year, dtype="int64"), "level": "buurt",
                              "name": raw[name_field].to_numpy(dtype=object)},
                             geometry=_polygonal(geoms), crs=RD_NEW)
    frame = frame[frame["code"] != ""]
    if crs != RD_NEW:
        frame = frame.to_crs(crs)
    return frame.sort_values("code", kind="stable").reset_index(drop=True)


def missing_polygons(year: int, level: str, codes: Iterable[str]) -> list[str]:
    """Codes from ``codes`` that have no (non-empty) polygon in the ``(year, level)`` layer.

    Use it with the region list of a statistical table of the same year: those regions can be
    shown in tables but not on maps nor moved by area overlay. Returned sorted.
    """
    frame = load(year, level)
    have = set(frame.loc[~frame.geometry.is_empty, "code"])
    wanted = {str(c).strip() for c in codes}
    return sorted(wanted - have)


def empty_polygons(year: int, level: str) -> list[str]:
    """Codes in the layer whose geometry is empty once made valid (sorted)."""
    frame = load(year, level)
    return sorted(frame.loc[frame.geometry.is_empty, "code"])


def attributes(year: int, level: str = "gemeente") -> pd.DataFrame:
    """The properties the layer file carries per region, as published (one row per code).

    Column ``code`` plus every property of the file. In the gemeente GeoJSON files an absent
    key means "no value" and shows as missing here. For gemeente 2015 the attributes come from
    ``GemeenteDetail_2015`` (land parts only, ``water == "NEE"``), whose ``-99999999`` marks a
    missing value and is left as published (the caller parses special values).
    """
    if (int(year), level) == (2015, "gemeente"):
        path = data_dir() / FOLDER / "GemeenteDetail_2015_layer_q1e3.json"
        raw = gpd.read_file(f"TopoJSON:{path}")
        raw = raw[raw["water"] == "NEE"]
        code_field = "gemeentecode"
        raw = raw[~raw[code_field].astype(str).str.strip().isin(NOT_REGIONS)]
    else:
        raw = _read_raw(int(year), level)
        code_field = layer(year, level).code_field
    frame = pd.DataFrame(raw.drop(columns=raw.geometry.name))
    frame.insert(0, "code", frame[code_field].astype(str).str.strip())
    return frame.sort_values("code", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Map geometries
# ---------------------------------------------------------------------------------------

def to_wgs84(frame: gpd.GeoDataFrame, *, tolerance_m: float | None = None,
             precision: int = 6) -> gpd.GeoDataFrame:
    """Simplified copy of ``frame`` in WGS84 for maps.

    Simplification happens in RD New with ``tolerance_m`` metres (default per level from
    :data:`MAP_TOLERANCE_M`). A layer that forms a valid coverage is simplified with
    ``shapely.coverage_simplify`` so neighbours keep shared edges; otherwise each polygon is
    simplified on its own with topology preserved. Coordinates are rounded to ``precision``
    decimals (6 decimals is about 0.1 m). Empty geometries stay empty.
    """
    rd = frame.to_crs(RD_NEW) if frame.crs is not None and frame.crs != RD_NEW else frame
    if tolerance_m is None:
        levels = set(rd["level"]) if "level" in rd.columns else set()
        tolerance_m = min((MAP_TOLERANCE_M.get(lv, 10.0) for lv in levels), default=10.0)
    geoms = rd.geometry.to_numpy()
    simple = None
    if tolerance_m > 0:
        try:
            if bool(shapely.coverage_is_valid(geoms)):
                simple = shapely.coverage_simplify(geoms, tolerance_m)
        except Exception:  # noqa: BLE001 - older GEOS or odd coverage: fall back below
            simple = None
        if simple is None:
            simple = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
        simple = _polygonal(simple)
    else:
        simple = geoms
    out = gpd.GeoDataFrame(rd.drop(columns=rd.geometry.name), geometry=simple, crs=RD_NEW)
    out = out.to_crs(WGS84)
    # round coordinates (display only; no re-noding, so rounding never fails)
    out["geometry"] = shapely.transform(out.geometry.to_numpy(), lambda xy: np.round(xy, precision))
    return out


def to_geojson(frame: gpd.GeoDataFrame, path: str | Path | None = None, *,
               tolerance_m: float | None = None, precision: int = 6) -> str:
    """GeoJSON FeatureCollection (WGS84, simplified) of ``frame``; written to ``path`` if given.

    Properties are the non-geometry columns (``code, year, level, name`` for :func:`load`).
    """
    out = to_wgs84(frame, tolerance_m=tolerance_m, precision=precision)
    text = out.to_json(drop_id=True, na="null")
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def geometries_table(years: Iterable[int] | None = None, *, levels: Iterable[str] | None = None,
                     tolerance_m: float | None = None) -> pd.DataFrame:
    """One row per region polygon for the store.

    Returns a pandas DataFrame with ``code, year, level, name, wkb_rd, geojson_wgs84``:
    ``wkb_rd`` is the valid RD New geometry as WKB bytes, ``geojson_wgs84`` the simplified
    WGS84 geometry as GeoJSON text (``None`` for an empty geometry).

    Parameters
    ----------
    years:
        Restrict to these years of division (default: all in the mirror).
    levels:
        Restrict to these levels (default: all).
    """
    pairs = [(y, lv) for y, lv in available()
             if (years is None or y in set(map(int, years)))
             and (levels is None or lv in set(levels))]
    parts = []
    for y, lv in pairs:
        rd = load(y, lv)
        web = to_wgs84(rd, tolerance_m=tolerance_m)
        wkb = shapely.to_wkb(rd.geometry.to_numpy())
        gj = np.array([None if g is None or g.is_empty else json.dumps(g.__geo_interface__,
                                                                          separators=(",", ":"))
                       for g in web.geometry.to_numpy()], dtype=object)
        parts.append(pd.DataFrame({"code": rd["code"].to_numpy(), "year": rd["year"].to_numpy(),
                                   "level": rd["level"].to_numpy(), "name": rd["name"].to_numpy(),
                                   "wkb_rd": wkb, "geojson_wgs84": gj}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TABLE_COLUMNS})
    return pd.concat(parts, ignore_index=True)[TABLE_COLUMNS]
