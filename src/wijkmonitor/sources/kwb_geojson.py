"""KWB gemeente attributes embedded in the CBS gemeente geometries (mirror ``cbs-geometries/``).

* ``gemeenten_YYYY.geojson`` (2012, 2017, 2018, 2019, 2022, 2023, 2024): PDOK wijk- en buurtkaart
  attributes kept and renamed by a third-party app. Only CBS KWB attributes are read (declared per
  year in ``mappings/kwb_geojson.yaml``); the app's enrichments from other sources (``bag_*``,
  ``cr_*``, ``ff_*``, ``lbt_*``, ``zk_*``, bodemgebruik) are skipped. A missing value is an
  absent key (status ``ontbreekt``). ``GM0998`` (Buitenland) and the 2012 ``GM9999`` placeholder
  are dropped. Age groups are percentages (``p_00_14`` ...).
* ``GemeenteDetail_2015_layer_q1e3.json`` (TopoJSON): the PDOK wijkenbuurten2015 gemeente layer;
  one land part per gemeente (``water == "NEE"``); ``-99999999`` = no value.

Each file also defines the gemeenten of its year (regions frame). Geometry is not read here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import _kwb
from .base import SourceError, SourceResult, mapping, require_columns

NAME = "kwb_geojson"
NOTE = ("PDOK wijk- en buurtkaart attributes via a re-publication (geoinzicht-app); a CBS StatLine "
        "export of the same KWB table, where present, is authoritative.")


def _load_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise SourceError(path, f"kan JSON niet lezen: {exc}") from exc


def read_geojson_year(data_dir: Path, year: int, spec: dict, meta: dict) -> SourceResult:
    """One ``gemeenten_YYYY.geojson`` file as declared in ``spec``."""
    data_dir = Path(data_dir)
    path = data_dir / spec["_file"]
    doc = _load_json(path)
    features = doc.get("features")
    if not isinstance(features, list):
        raise SourceError(path, "geen GeoJSON FeatureCollection (sleutel 'features' ontbreekt)",
                          year=year)
    props = [f.get("properties") or {} for f in features]
    code_key, name_key = meta["_id_keys"]
    for i, p in enumerate(props):
        if not p.get(code_key):
            raise SourceError(path, "feature zonder gemeentecode", row=i + 1, field=code_key,
                              year=year)
    drop = set(meta.get("_drop_codes", []))
    props = [p for p in props if str(p[code_key]).strip() not in drop]
    keys = {k for p in props for k in p}
    columns = dict(spec["columns"])
    require_columns(keys, columns, file=path, year=year)

    warnings = _unknown_keys(keys, columns, meta, path, year)
    frame = pd.DataFrame.from_records(props, columns=[code_key, name_key] + list(columns))
    frame[code_key] = frame[code_key].astype(str).str.strip()
    _kwb.check_unique(frame[code_key], file=path, year=year, field=code_key, first_row=1)
    source_id = f"kwb-{year}-pdok-gemeenten-geojson"
    # an absent key is NaN in the frame -> parse_values gives status 'ontbreekt'
    obs = _kwb.melt(frame, code_column=code_key, columns=columns, geo_year=year, period=year,
                    source_id=source_id, file=path, first_row=1, year=year)
    regions = _kwb.regions(frame[code_key], frame[name_key].fillna("").astype(str).str.strip(),
                           year)
    info = _kwb.source_info(meta, spec, source_id=source_id,
                            location=_kwb.relative_location(path, data_dir), adapter=NAME,
                            note=NOTE)
    return SourceResult(info=info, observations=obs, regions=regions, warnings=warnings)


def _unknown_keys(keys: set[str], columns: dict, meta: dict, path: Path, year: int) -> list[str]:
    known = set(columns) | set(meta.get("_id_keys", [])) | set(meta.get("_not_kwb", [])) \
        | set(meta.get("_unmapped", []))
    prefixes = tuple(meta.get("_not_kwb_prefixes", []))
    unknown = sorted(k for k in keys if k not in known and not k.startswith(prefixes))
    if not unknown:
        return []
    return [f"{path.name}, jaar {year}: attribuut {k!r} niet in mappings/kwb_geojson.yaml; "
            "genegeerd" for k in unknown]


def read_topojson_2015(data_dir: Path, spec: dict, meta: dict) -> SourceResult:
    """``GemeenteDetail_2015_layer_q1e3.json``: land parts only, ``-99999999`` = no value."""
    data_dir = Path(data_dir)
    year = int(spec["_year"])
    path = data_dir / spec["_file"]
    doc = _load_json(path)
    try:
        geoms = doc["objects"][spec["_object"]]["geometries"]
    except (KeyError, TypeError) as exc:
        raise SourceError(path, f"TopoJSON-object {spec['_object']!r} ontbreekt",
                          year=year) from exc
    props = [g.get("properties") or {} for g in geoms
             if (g.get("properties") or {}).get(spec["_filter_key"]) == spec["_filter_value"]]
    keys = {k for p in props for k in p}
    columns = dict(spec["columns"])
    code_key, name_key = spec["_code_key"], spec["_name_key"]
    require_columns(keys, [code_key, name_key] + list(columns), file=path, year=year)
    frame = pd.DataFrame.from_records(props, columns=[code_key, name_key] + list(columns))
    frame[code_key] = frame[code_key].astype(str).str.strip()
    _kwb.check_unique(frame[code_key], file=path, year=year, field=code_key, first_row=1)
    source_id = f"kwb-{year}-pdok-gemeenten-topojson"
    obs = _kwb.melt(frame, code_column=code_key, columns=columns, geo_year=year, period=year,
                    source_id=source_id, file=path, first_row=1, year=year)
    regions = _kwb.regions(frame[code_key], frame[name_key].fillna("").astype(str), year)
    info = _kwb.source_info(meta, spec, source_id=source_id,
                            location=_kwb.relative_location(path, data_dir), adapter=NAME,
                            note="PDOK wijkenbuurten2015 gemeente layer via a TopoJSON "
                                 "re-publication; only land parts (water == NEE) are read.")
    return SourceResult(info=info, observations=obs, regions=regions)


def read(data_dir: Path) -> list[SourceResult]:
    """Every declared gemeente GeoJSON year plus the 2015 TopoJSON detail layer."""
    spec_all = mapping(NAME)
    meta = spec_all["_meta"]
    results = []
    for key, spec in spec_all.items():
        if isinstance(key, int):
            results.append(read_geojson_year(Path(data_dir), key, spec, meta))
        elif key == "detail_2015":
            results.append(read_topojson_2015(Path(data_dir), spec, meta))
    return results
