"""Match gemeente names (as StatLine prints them) to CBS gemeente codes.

Some published tables list gemeenten by name only (Politie 47013NED, CBS vermogen, the
83648NED export in ``politie-misdrijven``). The codes come from the gemeente lists that are in
the mirror: ``cbs-geometries/gemeenten_YYYY.geojson`` (properties ``gemeentecode`` /
``gemeentenaam``, 2012/2017/2018/2019/2022/2023/2024) and the 2015 TopoJSON layer
(``statcode`` / ``statnaam``). A name is matched, never guessed:

1. exactly, in the list of the requested year or else the nearest year that has the name;
2. after removing StatLine's disambiguation suffix `` (gemeente)`` (``Utrecht (gemeente)``,
   used where a province has the same name).

Province suffixes such as ``Beek (L.)`` or ``Bergen (NH.)`` are part of the official name and
are kept as they are: ``Bergen`` alone is ambiguous and stays unmatched. Names that match no
list are returned as unmatched so the adapter can report them; a code is never invented.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

GEOMETRY_FOLDER = "cbs-geometries"
#: Years with a gemeente list in the mirror, and the file holding it.
GEMEENTE_LISTS: dict[int, str] = {
    2012: "gemeenten_2012.geojson",
    2015: "Gemeente_2015_layer_q1e3.json",
    2017: "gemeenten_2017.geojson",
    2018: "gemeenten_2018.geojson",
    2019: "gemeenten_2019.geojson",
    2022: "gemeenten_2022.geojson",
    2023: "gemeenten_2023.geojson",
    2024: "gemeenten_2024.geojson",
}
#: Not gemeenten: the app that built the GeoJSON added "Buitenland".
NOT_A_GEMEENTE = {"GM0998"}
SUFFIX = " (gemeente)"


@functools.cache
def gemeente_list(data_dir: Path, year: int) -> dict[str, str]:
    """``{name: code}`` of the gemeenten of one year (only years in :data:`GEMEENTE_LISTS`)."""
    path = Path(data_dir) / GEOMETRY_FOLDER / GEMEENTE_LISTS[year]
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if data.get("type") == "Topology":
        props = [g["properties"] for g in data["objects"]["layer"]["geometries"]]
        pairs = [(p["statnaam"], p["statcode"]) for p in props]
    else:
        props = [f["properties"] for f in data["features"]]
        pairs = [(p.get("gemeentenaam"), p["gemeentecode"]) for p in props]
    result = {}
    for name, code in pairs:
        if code in NOT_A_GEMEENTE or not name:
            continue
        result[str(name).strip()] = str(code).strip()
    return result


def available_years(data_dir: Path) -> list[int]:
    """The years of :data:`GEMEENTE_LISTS` whose file is present in ``data_dir``."""
    return [y for y, f in GEMEENTE_LISTS.items() if (Path(data_dir) / GEOMETRY_FOLDER / f).exists()]


def match_gemeenten(names: list[str], year: int, data_dir: Path, *,
                    exact_year_only: bool = False) -> tuple[dict[str, str], list[str]]:
    """Match names to gemeente codes for ``year``.

    Parameters
    ----------
    names:
        Names as printed in the source (stripped here).
    year:
        The year of the division the source uses. Lists are tried nearest year first.
    exact_year_only:
        Use only the list of ``year`` itself (raise ``KeyError`` if the mirror has none).

    Returns
    -------
    (matched, unmatched):
        ``{source name: code}`` and the names that matched no list.
    """
    years = available_years(data_dir)
    if exact_year_only:
        if year not in years:
            raise KeyError(f"geen gemeentelijst voor {year} in {GEOMETRY_FOLDER}/")
        years = [year]
    years = sorted(years, key=lambda y: (abs(y - year), -y))
    lists = [gemeente_list(Path(data_dir), y) for y in years]
    matched, unmatched = {}, []
    for raw in names:
        name = str(raw).strip()
        candidates = [name]
        if name.endswith(SUFFIX):
            candidates.append(name[: -len(SUFFIX)].strip())
        code = None
        for lst in lists:
            code = next((lst[c] for c in candidates if c in lst), None)
            if code:
                break
        if code:
            matched[name] = code
        else:
            unmatched.append(name)
    return matched, unmatched
