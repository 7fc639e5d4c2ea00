"""Resolving areas, indicators and valid region codes, without import-time dependencies.

The services take resolver callables so a web router, the CLI and tests can inject their own.
The defaults import :mod:`wijkmonitor.areas` and :mod:`wijkmonitor.catalogue` lazily, on first
use, and fall back to what a CBS code itself says (``WK034403`` lies in ``GM0344``) and to the
KWB 2024 region list in the offline mirror.

Resolver contracts:

``AreaResolver(name_or_id) -> AreaRef``
    Raises :class:`~wijkmonitor.local.errors.NotFound` for an unknown area. ``AreaRef.gemeente``
    is ``None`` for areas spanning several gemeenten.
``IndicatorResolver(indicator_id) -> IndicatorRef``
    Raises :class:`NotFound` for an unknown indicator. ``polarity`` is ``higher_is_better``,
    ``lower_is_better`` or ``None`` (neutral / unknown).
``CodesProvider(gemeente) -> set[str]``
    The region codes (and area ids) values may be uploaded for.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from wijkmonitor.config import data_dir

from .errors import NotFound

CBS_CODE_RE = re.compile(r"^(GM\d{4}|WK\d{4}[0-9A-Z]{2}|BU\d{4}[0-9A-Z]{4})$")

#: Offline-mirror file with every 2024 region code (see data/cbs-kwb/README.md).
KWB_2024_CODES = ("cbs-kwb", "Kerncijfers_wijken_en_buurten_2024_geslachten.csv")


@dataclass(frozen=True)
class AreaRef:
    id: str
    name: str
    gemeente: str | None
    codes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class IndicatorRef:
    id: str
    name: str
    polarity: str | None


AreaResolver = Callable[[str], AreaRef]
IndicatorResolver = Callable[[str], IndicatorRef]
CodesProvider = Callable[[str], set[str]]


def gemeente_of_code(code: str) -> str | None:
    """``GMxxxx`` a CBS region code belongs to, or ``None`` if it is not a CBS code."""
    code = code.strip().upper()
    if not CBS_CODE_RE.match(code):
        return None
    return "GM" + code[2:6]


@functools.cache
def kwb_2024_regions() -> pd.DataFrame:
    """Codes and names of all 2024 regions (``code``, ``name``, ``level``) from the mirror."""
    path = data_dir().joinpath(*KWB_2024_CODES)
    raw = pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str)
    out = pd.DataFrame({
        "code": raw["Regioaanduiding/Codering (code)"].str.strip(),
        "name": raw["Wijken en buurten"].str.strip(),
        "level": raw["Regioaanduiding/Soort regio (omschrijving)"].str.strip(),
    })
    return out


def _kwb_name(code: str) -> str | None:
    try:
        regions = kwb_2024_regions()
    except (OSError, KeyError):
        return None
    hit = regions.loc[regions["code"] == code, "name"]
    return None if hit.empty else str(hit.iloc[0])


def default_area_resolver(name_or_id: str) -> AreaRef:
    """Resolve with :func:`wijkmonitor.areas.find_area`, else from the CBS code itself."""
    key = (name_or_id or "").strip()
    if not key:
        raise NotFound("gebied: lege naam")
    try:
        from wijkmonitor.areas import find_area  # lazy: written by another module
    except ImportError:
        find_area = None
    problem = "geen gebiedsnaam of CBS-code"
    if find_area is not None:
        try:
            area = find_area(key)  # identifiers only: never opens a file named by the caller
        except (LookupError, ValueError) as exc:
            area, problem = None, str(exc).strip("'\"")
        if area is not None:
            return AreaRef(id=str(area.id), name=str(area.name),
                           gemeente=getattr(area, "gemeente", None),
                           codes=tuple(getattr(area, "codes", ()) or ()))
    code = key.upper()
    gemeente = gemeente_of_code(code)
    if gemeente is None:
        raise NotFound(f"gebied onbekend: {problem}")
    return AreaRef(id=code, name=_kwb_name(code) or code, gemeente=gemeente, codes=(code,))


_POLARITY = {"hoger is beter": "higher_is_better", "hoger is slechter": "lower_is_better",
             "higher_is_better": "higher_is_better", "lower_is_better": "lower_is_better"}


def normalise_polarity(value: str | None) -> str | None:
    """Map ``hoger is beter`` / ``higher_is_better`` (and the -/space variants) to the stored
    form; ``None`` for neutral or empty; :class:`ValueError` for anything else."""
    if value is None:
        return None
    text = str(value).strip().lower().replace("-", "_")
    if text in ("", "neutraal", "neutral", "nan", "none"):
        return None
    text_spaced = text.replace("_", " ")
    for key, norm in _POLARITY.items():
        if text == key or text_spaced == key.replace("_", " "):
            return norm
    raise ValueError(f"polariteit {value!r}: kies 'hoger is beter' of 'hoger is slechter'")


def default_indicator_resolver(indicator_id: str) -> IndicatorRef:
    """Resolve against the shipped indicator catalogue (:mod:`wijkmonitor.catalogue`)."""
    from wijkmonitor.catalogue import load_catalogue  # lazy: written by another module

    key = (indicator_id or "").strip()
    catalogue = load_catalogue()
    ind = catalogue.get(key)
    if ind is None:
        raise NotFound(f"indicator {indicator_id!r} staat niet in de catalogus")
    return IndicatorRef(id=ind.id, name=ind.name, polarity=normalise_polarity(ind.polarity))


def default_codes_provider(gemeente: str) -> set[str]:
    """All 2024 region codes of ``gemeente`` (the gemeente, its wijken and buurten), plus the
    ids of the focus areas and aandachtswijken in it and the CBS codes they are made of (which
    may be of an older division)."""
    gemeente = gemeente.strip().upper()
    regions = kwb_2024_regions()
    digits = gemeente[2:]
    codes = regions["code"]
    mask = (codes == gemeente) | codes.str.match(rf"^(WK|BU){re.escape(digits)}")
    out = set(codes[mask])
    try:
        from wijkmonitor.areas import load_areas  # lazy: written by another module
        areas = load_areas()
    except Exception:  # area files unavailable: CBS codes only
        areas = {}
    for area in areas.values():
        if getattr(area, "gemeente", None) == gemeente:
            out.add(str(area.id))
            out.update(str(c) for c in getattr(area, "codes", ()) or ())
    return out
