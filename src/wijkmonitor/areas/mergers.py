"""Gemeente mergers after an area's reference year: which gemeente a vanished code went to.

An area is declared on the gemeenten of its reference year. When a gemeente merges later, its
code disappears and the area belongs to the successor gemeente. The successors are a declared
table, ``gemeente_mergers.yaml`` next to this module, derived once from the offline mirror by
:func:`derive_gemeente_mergers`:

* the gemeente codes of every year that is available (``cbs-geometries/gemeenten_YYYY.geojson``
  for 2012, 2017, 2018, 2019, 2022, 2023, 2024 and the 2020 list of the RIVM/CBS 50090NED file)
  are compared year by year;
* a code present in one year and absent in the next is overlaid (area in EPSG:28992) on the
  polygons of the next geometry year; the gemeente that receives the largest part of its area is
  the successor, further parts above 1 % are kept as ``other_successors`` (splits such as Haaren
  2021 or Littenseradiel 2018).

The data only tell between which two available years a code disappeared (``last_seen`` and
``gone_by``); for a year in between the merger date is unknown and :func:`successor_gemeente`
says so instead of guessing.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from .. import yamlio

HERE = Path(__file__).resolve().parent
MERGERS_FILE = HERE / "gemeente_mergers.yaml"

#: Years whose gemeente geometries are in ``cbs-geometries``.
GEOMETRY_YEARS = (2012, 2017, 2018, 2019, 2022, 2023, 2024)
#: Minimum share of a vanished gemeente's area that counts as a (secondary) successor.
MIN_SHARE = 0.01
NOT_A_GEMEENTE = {"GM0998", "GM9999"}  # "Buitenland" (2017+) and an unnamed 2012 feature


class MergerError(ValueError):
    """A gemeente code cannot be followed to the requested year."""


@dataclass(frozen=True)
class Merger:
    """One vanished gemeente code and where its territory went."""

    code: str
    name: str
    last_seen: int
    gone_by: int
    successor: str
    successor_name: str
    area_share: float
    other_successors: tuple[tuple[str, str, float], ...] = ()


# ---------------------------------------------------------------------------------------------
# Derivation from the offline mirror
# ---------------------------------------------------------------------------------------------

def _geometry_path(data_dir: Path, year: int) -> Path:
    return Path(data_dir) / "cbs-geometries" / f"gemeenten_{year}.geojson"


def _read_gemeenten(data_dir: Path, year: int):
    import geopandas as gpd

    path = _geometry_path(data_dir, year)
    gdf = gpd.read_file(path)
    gdf = gdf[~gdf["gemeentecode"].isin(NOT_A_GEMEENTE)]
    return gdf[["gemeentecode", "gemeentenaam", "geometry"]].to_crs(28992)


def gemeente_codes_2020(data_dir: Path) -> dict[str, str]:
    """Gemeente codes and names of the 2020 indeling from the RIVM/CBS 50090NED file."""
    import openpyxl

    path = Path(data_dir) / "rivm-gezondheid-wijk-buurt" / "RIVM_gezondheid2020_18+.xlsx"
    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb[wb.sheetnames[0]]
    rows = ws.iter_rows(values_only=True)
    header = [str(h).strip() for h in next(rows)]
    i_code, i_name, i_kind = (header.index(c) for c in ("Codering_3", "Gemeentenaam_1", "SoortRegio_2"))
    out = {}
    for row in rows:
        if row[i_kind] and str(row[i_kind]).strip() == "Gemeente":
            out[str(row[i_code]).strip()] = str(row[i_name]).strip()
    wb.close()
    return out


def derive_gemeente_mergers(data_dir: Path) -> pd.DataFrame:
    """Derive the merger table from the geometries and the 2020 code list.

    Returns one row per vanished code with columns ``code, name, last_seen, gone_by,
    successor, successor_name, area_share, other_successors`` (list of dicts).
    """
    frames = {y: _read_gemeenten(data_dir, y) for y in GEOMETRY_YEARS}
    codes = {y: set(f["gemeentecode"]) for y, f in frames.items()}
    names = {y: dict(zip(f["gemeentecode"], f["gemeentenaam"])) for y, f in frames.items()}
    codes_2020 = gemeente_codes_2020(data_dir)
    rows = []
    for y0, y1 in zip(GEOMETRY_YEARS, GEOMETRY_YEARS[1:]):
        gone = sorted(codes[y0] - codes[y1])
        if not gone:
            continue
        old = frames[y0][frames[y0]["gemeentecode"].isin(gone)]
        new = frames[y1]
        inter = old.overlay(new, how="intersection", keep_geom_type=True)
        inter["part"] = inter.geometry.area
        total = old.set_index("gemeentecode").geometry.area
        for code in gone:
            parts = inter[inter["gemeentecode_1"] == code].groupby(
                ["gemeentecode_2", "gemeentenaam_2"])["part"].sum() / total[code]
            parts = parts[parts >= MIN_SHARE].sort_values(ascending=False)
            if parts.empty:
                raise MergerError(f"{_geometry_path(data_dir, y0)}: {code} has no overlap with {y1}")
            (succ, succ_name), share = next(iter(parts.items()))
            last_seen, gone_by = y0, y1
            if y0 < 2020 < y1:  # the RIVM list pins the code down on either side of 2020
                if code in codes_2020:
                    last_seen = 2020
                else:
                    gone_by = 2020
            rows.append({
                "code": code, "name": names[y0][code], "last_seen": last_seen, "gone_by": gone_by,
                "successor": succ, "successor_name": succ_name, "area_share": round(float(share), 3),
                "other_successors": [
                    {"code": c, "name": n, "area_share": round(float(s), 3)}
                    for (c, n), s in list(parts.items())[1:]],
            })
    return pd.DataFrame(rows)


def write_gemeente_mergers(data_dir: Path, path: Path = MERGERS_FILE) -> Path:
    """Derive the table and write it as the declared YAML file (run once per new data year)."""
    table = derive_gemeente_mergers(data_dir)
    header = (
        "# Gemeente codes that disappeared between the years available in the offline mirror,\n"
        "# with the gemeente that received (most of) their territory. Generated by\n"
        "# wijkmonitor.areas.mergers.write_gemeente_mergers(); review changes like code.\n")
    doc = {
        "schema": 1,
        "version": 1,
        "derivation": (
            "Gemeente codes compared between cbs-geometries/gemeenten_YYYY.geojson "
            f"({', '.join(map(str, GEOMETRY_YEARS))}) and the 2020 gemeente list of "
            "rivm-gezondheid-wijk-buurt (CBS 50090NED, indeling 2020). A code present in one year "
            "and absent in the next was intersected with the next year's polygons (areas in "
            "EPSG:28992, simplified polygons); the gemeente with the largest share of its area is the "
            f"successor, other parts >= {MIN_SHARE:.0%} are listed as other_successors. last_seen and "
            "gone_by bound the merger date as far as these years allow."),
        "years_compared": [*GEOMETRY_YEARS[:4], 2020, *GEOMETRY_YEARS[4:]],
        "mergers": table.to_dict(orient="records"),
    }
    text = header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
    Path(path).write_text(text, encoding="utf-8")
    return Path(path)


# ---------------------------------------------------------------------------------------------
# Using the declared table
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def load_gemeente_mergers(path: Path = MERGERS_FILE) -> dict[str, Merger]:
    """Read the declared merger table, keyed by vanished gemeente code."""
    doc = yamlio.safe_load(Path(path).read_text(encoding="utf-8"))
    out: dict[str, Merger] = {}
    for i, row in enumerate(doc.get("mergers") or [], start=1):
        try:
            m = Merger(
                code=row["code"], name=row["name"], last_seen=int(row["last_seen"]),
                gone_by=int(row["gone_by"]), successor=row["successor"],
                successor_name=row["successor_name"], area_share=float(row["area_share"]),
                other_successors=tuple((o["code"], o["name"], float(o["area_share"]))
                                       for o in row.get("other_successors") or ()))
        except (KeyError, TypeError, ValueError) as exc:
            raise MergerError(f"{path}: mergers entry {i}: bad or missing field ({exc})") from exc
        if m.code in out:
            raise MergerError(f"{path}: mergers entry {i}: code {m.code} listed twice")
        out[m.code] = m
    return out


def successor_gemeente(code: str, year: int, *, path: Path = MERGERS_FILE) -> str:
    """The gemeente code that holds (most of) gemeente ``code`` in ``year``.

    Follows chains of mergers (a successor that merges again later). A code that never
    disappears is returned unchanged.

    Raises
    ------
    MergerError
        If ``year`` falls between the last year the code was seen and the first year it was
        gone: the available data cannot tell whether the merger had happened yet.
    """
    table = load_gemeente_mergers(path)
    seen = set()
    current = code
    while current in table:
        if current in seen:  # pragma: no cover - guards against a corrupt table
            raise MergerError(f"{path}: merger cycle at {current}")
        seen.add(current)
        m = table[current]
        if year <= m.last_seen:
            return current
        if year < m.gone_by:
            raise MergerError(
                f"{current} ({m.name}) was last seen in {m.last_seen} and gone by {m.gone_by}; "
                f"the data do not say whether it had merged into {m.successor} "
                f"({m.successor_name}) in {year}")
        current = m.successor
    return current


__all__ = [
    "Merger", "MergerError", "MERGERS_FILE", "derive_gemeente_mergers", "write_gemeente_mergers",
    "load_gemeente_mergers", "successor_gemeente", "gemeente_codes_2020",
]
