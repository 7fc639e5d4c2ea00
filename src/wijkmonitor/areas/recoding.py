"""Follow an area across a gemeente's recoding of its wijken and buurten (Amsterdam 2022).

CBS codes persist across years unless the gemeente recodes. Amsterdam recoded every wijk and
buurt in 2022, so an area drawn on the 2020 wijken (``WK036376``) finds no code in the 2022-2024
figures (``WK0363FD``). The recodings are declared in ``recodings.yaml`` next to this module,
each with the code crosswalk the gemeente published (old buurt code -> new buurt code).

:func:`bridge` translates an area's codes (wijk or buurt level, on the division of its reference
year, before the recoding) to codes of the new division at the same level, and measures how
well that set stands for the area, by population of the reference division:

``traced``
    inhabitants of the area's buurten that the crosswalk takes into the new set. A buurt that
    is not in the crosswalk (created after the crosswalk's old year) counts as traced only at
    wijk level and only when its wijk's polygon lies, for at least ``1 - GROUP_TOLERANCE`` of
    its area, inside the new set's polygons (:mod:`wijkmonitor.geometries`, the wijk layers
    nearest the two divisions: fetched PDOK polygons where the mirror has none).
``foreign``
    inhabitants of buurten *outside* the area that the crosswalk takes into the new set.

``share = (traced - foreign) / inhabitants of the area``. The area is followed onto the new
codes only when ``share >= MIN_COVERAGE`` (the rule of :mod:`wijkmonitor.aggregate`: at most
10 % of the population may be unaccounted for); otherwise its figures after the recoding stay
"niet vergelijkbaar". A buurt without a known population counts as 0 inhabitants.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
RECODINGS_FILE = HERE / "recodings.yaml"
#: Same as :data:`wijkmonitor.aggregate.MIN_COVERAGE` (kept here so areas does not import aggregate).
MIN_COVERAGE = 0.9
#: Share of an old wijk's area that may lie outside the new wijken through drawing noise of
#: simplified polygons (as :data:`wijkmonitor.harmonise.DEFAULT_GROUP_TOLERANCE`).
GROUP_TOLERANCE = 0.05


@dataclass(frozen=True)
class Recoding:
    """One declared recoding: ``gemeente`` recoded its buurten in ``year``."""

    gemeente: str
    year: int
    file: str
    old_code: str
    new_code: str
    name: str

    def crosswalk(self, data_dir: Path | None = None) -> pd.DataFrame:
        """``old, new`` buurt codes (one row per crosswalk row; blanks dropped)."""
        return _crosswalk(self, str(data_dir) if data_dir is not None else None)


@functools.lru_cache(maxsize=4)
def _crosswalk(rec: Recoding, data_dir: str | None) -> pd.DataFrame:
    from ..config import data_dir as default_dir
    from ..sources.base import SourceError

    path = Path(data_dir) if data_dir else default_dir()
    path = path / rec.file
    if not path.is_file():
        raise SourceError(path, "omzettabel van de hercodering ontbreekt")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=lambda c: c in (rec.old_code, rec.new_code))
    for col in (rec.old_code, rec.new_code):
        if col not in raw.columns:
            raise SourceError(path, "kolom ontbreekt", field=col)
    out = pd.DataFrame({"old": raw[rec.old_code].str.strip(), "new": raw[rec.new_code].str.strip()})
    return out[(out["old"] != "") & (out["new"] != "")].drop_duplicates().reset_index(drop=True)


@functools.lru_cache(maxsize=1)
def load_recodings(path: Path = RECODINGS_FILE) -> tuple[Recoding, ...]:
    """The declared recodings (validated: every field present)."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out = []
    for i, item in enumerate(doc.get("recodings") or []):
        missing = [k for k in ("gemeente", "year", "file", "old_code", "new_code", "name") if k not in item]
        if missing:
            raise ValueError(f"{Path(path).name}: hercodering {i + 1}: veld {missing[0]!r} ontbreekt")
        out.append(Recoding(str(item["gemeente"]), int(item["year"]), str(item["file"]),
                            str(item["old_code"]), str(item["new_code"]), str(item["name"])))
    return tuple(out)


def wijk_of(code: str) -> str:
    """The wijk code a buurt code lies in by CBS's code hierarchy (``BU gggg ww bb``)."""
    return "WK" + code[2:8]


@dataclass(frozen=True)
class Bridge:
    """An area's codes followed onto a recoded division (see the module docstring)."""

    codes: tuple[str, ...]  # the new codes (same level as the area)
    level: str
    population: float  # inhabitants of the area (reference division)
    traced: float
    foreign: float
    placed_by_polygon: tuple[str, ...] = ()  # old wijken whose new buurten were placed by polygon
    untraced: tuple[str, ...] = field(default=())  # old buurten of the area the bridge could not follow

    @property
    def share(self) -> float:
        """``(traced - foreign) / population`` (0 for an area without inhabitants)."""
        return (self.traced - self.foreign) / self.population if self.population > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Whether the new codes stand for the area (``share >= MIN_COVERAGE``)."""
        return bool(self.codes) and self.share >= MIN_COVERAGE


def bridge(codes: Iterable[str], level: str, crosswalk: pd.DataFrame,
           population: Mapping[str, float], *, old_wijken=None, new_wijken=None) -> Bridge:
    """Follow an area of ``codes`` (``level`` wijk or buurt, old division) onto new codes.

    Parameters
    ----------
    codes
        The area's codes on the old division.
    level
        ``"wijk"`` or ``"buurt"``.
    crosswalk
        ``old, new`` buurt codes (:meth:`Recoding.crosswalk`).
    population
        Inhabitants per buurt of the old division -- every buurt of the gemeente: the area's
        buurten are those lying in ``codes`` (wijk level: by code hierarchy).
    old_wijken, new_wijken
        Optional GeoDataFrames (``code``, ``geometry``, one CRS) of the wijken of the old and the
        new division, to place buurten that are not in the crosswalk (wijk level only).
    """
    codes = set(codes)
    if level not in ("wijk", "buurt"):
        raise ValueError(f"niveau moet wijk of buurt zijn, niet {level!r}")
    up = wijk_of if level == "wijk" else (lambda c: c)
    pop = {str(k): (0.0 if v is None or pd.isna(v) else float(v)) for k, v in population.items()}
    members = {b for b in pop if up(b) in codes}
    if level == "buurt":
        members |= codes
    succ = dict(zip(crosswalk["old"], crosswalk["new"]))
    new_codes = {up(succ[b]) for b in members if b in succ}
    traced = sum(pop.get(b, 0.0) for b in members if b in succ)
    untraced = sorted(b for b in members if b not in succ)
    placed: set[str] = set()
    if level == "wijk" and untraced and new_codes and old_wijken is not None and new_wijken is not None:
        target = new_wijken[new_wijken["code"].isin(new_codes)].geometry.union_all()
        olds = old_wijken.set_index("code").geometry
        for w in sorted({wijk_of(b) for b in untraced}):
            if w in olds.index and not olds[w].is_empty and olds[w].area > 0:
                if olds[w].intersection(target).area / olds[w].area >= 1 - GROUP_TOLERANCE:
                    placed.add(w)
    traced += sum(pop.get(b, 0.0) for b in untraced if wijk_of(b) in placed)
    untraced = [b for b in untraced if wijk_of(b) not in placed]
    foreign = sum(pop.get(old, 0.0) for old, new in succ.items()
                  if old not in members and up(new) in new_codes)
    return Bridge(codes=tuple(sorted(new_codes)), level=level,
                  population=sum(pop.get(b, 0.0) for b in members), traced=traced, foreign=foreign,
                  placed_by_polygon=tuple(sorted(placed)), untraced=tuple(untraced))


def recoding_for(codes: Iterable[str], reference_year: int | None) -> Recoding | None:
    """The declared recoding that ``codes`` (all of one gemeente, before it) fall under."""
    codes = list(codes)
    if reference_year is None or not codes:
        return None
    for rec in load_recodings():
        digits = rec.gemeente[2:]
        if int(reference_year) < rec.year and all(c[:2] in ("WK", "BU") and c[2:6] == digits for c in codes):
            return rec
    return None
