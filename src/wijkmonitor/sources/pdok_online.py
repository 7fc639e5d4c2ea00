"""PDOK CBS wijk- en buurtkaart (WFS 2.0, GeoJSON) online: fetch into the mirror layout, read back.

:func:`fetch_pdok` pages through ``GetFeature`` (``count`` / ``startIndex``; the response's
``numberMatched`` / ``numberReturned`` say when to stop) with :mod:`httpx` and writes one
GeoJSON FeatureCollection per level and year to
``<out_dir>/cbs-pdok-wijkenbuurten/<level>_<year>.geojson``, with a ``metadata`` member
(URL, layer, retrieved date, numberMatched). :func:`read` turns those files into observations
(mapping ``mappings/pdok_online.yaml``) and regions. PDOK's special values become statuses:
``-99997`` geheim, ``-99995`` ontbreekt (:func:`base.parse_values`); a property missing from a
feature is ``ontbreekt``; a declared property missing from *every* feature is an error.

No internet where the tests run: tested with recorded responses through ``httpx.MockTransport``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import httpx
import pandas as pd

from . import base
from .base import SourceError, SourceInfo, SourceResult

#: Read from the fetched-tables directory too (see pipeline.ingest).
ONLINE = True
NAME = "pdok-online"
MAPPING = "pdok_online"
PAGE_SIZE = 1000  # PDOK's maximum per request


def wfs_url(year: int) -> str:
    return base.mapping(MAPPING)["_meta"]["_url"].format(year=year)


def fetch_pdok(year: int, level: str, out_dir: Path, *, client: httpx.Client | None = None,
               page_size: int = PAGE_SIZE, today: dt.date | None = None,
               timeout: float = 120.0) -> Path:
    """Download every feature of one level (``gemeente``/``wijk``/``buurt``) and year.

    Parameters
    ----------
    client:
        An :class:`httpx.Client` (tests pass one with a ``MockTransport``); default: a new one.
    page_size:
        Features per request (``count``).

    Returns
    -------
    The GeoJSON file written.
    """
    m = base.mapping(MAPPING)
    if level not in m["levels"]:
        raise ValueError(f"onbekend niveau {level!r}; kies uit {sorted(m['levels'])}")
    layer = m["levels"][level]["_layer"]
    url = wfs_url(year)
    own = client is None
    client = client or httpx.Client(timeout=timeout, follow_redirects=True)
    features: list[dict] = []
    matched = None
    try:
        while True:
            params = {"service": "WFS", "version": "2.0.0", "request": "GetFeature",
                      "typeNames": layer, "outputFormat": "application/json",
                      "srsName": "EPSG:4326", "count": page_size, "startIndex": len(features)}
            response = client.get(url, params=params)
            response.raise_for_status()
            page = response.json()
            if page.get("type") != "FeatureCollection":
                raise SourceError(str(response.url), "antwoord is geen GeoJSON FeatureCollection")
            batch = page.get("features", [])
            features.extend(batch)
            if page.get("numberMatched") not in (None, "unknown"):
                matched = int(page["numberMatched"])
            returned = int(page.get("numberReturned", len(batch)))
            if returned == 0 or (matched is not None and len(features) >= matched) \
                    or returned < page_size:
                break
    finally:
        if own:
            client.close()
    if matched is not None and len(features) != matched:
        raise SourceError(url, f"{len(features)} features ontvangen, numberMatched {matched}")
    folder = Path(out_dir) / m["_meta"]["_folder"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{level}_{year}.geojson"
    collection = {"type": "FeatureCollection",
                  "metadata": {"url": url, "layer": layer, "year": year, "level": level,
                               "retrieved": (today or dt.date.today()).isoformat(),
                               "numberMatched": matched, "count": len(features)},
                  "features": features}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def read_file(path: Path, *, data_dir: Path | None = None) -> SourceResult:
    """Observations and regions of one fetched GeoJSON file."""
    m = base.mapping(MAPPING)
    path = Path(path)
    rel = str(path.relative_to(data_dir)) if data_dir else str(path)
    match = re.fullmatch(r"(gemeente|wijk|buurt)_(\d{4})\.geojson", path.name)
    if not match:
        raise SourceError(rel, "bestandsnaam is niet <niveau>_<jaar>.geojson")
    level, year = match.group(1), int(match.group(2))
    if year not in m["properties"]:
        raise SourceError(rel, "geen eigenschappen-tabel voor dit jaar in mappings/pdok_online.yaml",
                          year=year)
    data = json.loads(path.read_text(encoding="utf-8"))
    props = pd.DataFrame([f.get("properties") or {} for f in data["features"]])
    lspec = m["levels"][level]
    columns = m["properties"][year]
    base.require_columns(props.columns, [lspec["_code"], lspec["_name"], *columns], file=rel,
                         year=year)
    if "water" in props.columns:  # older gemeente layers split land and water parts
        props = props[props["water"].astype(str).str.upper() != "JA"].reset_index(drop=True)
    props["_code"] = props[lspec["_code"]].astype(str).str.strip()
    dup = props["_code"].duplicated()
    if dup.any():
        raise SourceError(rel, f"code {props['_code'][dup].iloc[0]!r} dubbel", year=year,
                          field=lspec["_code"])
    source_id = f"pdok-wijkenbuurten-{level}-{year}"
    # properties are JSON numbers; keep them numeric so -99997 / -99995 are recognised
    frame = props.assign(**{c: pd.to_numeric(props[c], errors="raise") for c in columns})
    obs = base.wide_to_observations(frame, code_column="_code", columns=columns, geo_year=year,
                                    period=year, source_id=source_id, file=rel, first_row=1)
    regions = base.regions_from_codes(props["_code"], props[lspec["_name"]].fillna(""), year)
    meta = data.get("metadata", {})
    info = SourceInfo(source_id=source_id, table_id=f"wijkenbuurten{year}:{lspec['_layer']}",
                      title=f"{m['_meta']['_title']} {year}, {lspec['_layer']}",
                      publisher=m["_meta"]["_publisher"], licence=m["_meta"]["_licence"],
                      location=rel, retrieved=meta.get("retrieved", base.file_date(path)),
                      adapter=NAME, note=f"WFS {meta.get('url', wfs_url(year))}")
    return SourceResult(info=info, observations=obs, regions=regions)


def read(data_dir: Path) -> list[SourceResult]:
    """Every fetched ``<level>_<year>.geojson`` in ``data_dir`` (none in the plain mirror)."""
    folder = Path(data_dir) / base.mapping(MAPPING)["_meta"]["_folder"]
    if not folder.is_dir():
        return []
    return [read_file(p, data_dir=Path(data_dir)) for p in sorted(folder.glob("*_*.geojson"))]
