"""Follow an area defined on one year's CBS codes into another year's data.

Only codes that persist are used: a code of the area that is present in the target year's
data counts as covered, any other code is lost. The result reports the share of the area's
population that is not covered, so a caller can decide whether a figure for the translated
area is still meaningful (e.g. suppress it above 10 %). A persisting code may still have had
its boundary changed (CBS ``ind_wbi``); that is not detected here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

from .model import Area

WEIGHT_OK = "ok"
WEIGHT_INCOMPLETE = "onvolledig"  # some area codes have no weight: the share is unknown


@dataclass(frozen=True)
class Translation:
    """The result of :func:`translate_codes`."""

    area_id: str
    from_year: int
    to_year: int
    covered: tuple[str, ...]
    lost: tuple[str, ...]
    uncovered_share: float  # NaN when weight_status is not ok
    weight_status: str
    unweighted: tuple[str, ...] = ()  # area codes without a weight

    @property
    def complete(self) -> bool:
        """All codes persist."""
        return not self.lost


def translate_codes(area: Area, year: int, available_codes: Iterable[str],
                    weights: Mapping[str, float] | None = None) -> Translation:
    """Translate ``area`` to ``year`` through the codes that persist.

    Parameters
    ----------
    area
        The area (codes of ``area.reference_year``).
    year
        The year of ``available_codes``.
    available_codes
        Codes present in the target year's data (any levels; only the area's own codes are
        looked up).
    weights
        Weight per area code (inhabitants in the reference year). Default: inhabitants from
        :func:`wijkmonitor.areas.reference.population_weights` (KWB 2024 where the code still
        exists, KWB 2019 for Amsterdam).

    Returns
    -------
    Translation
        ``uncovered_share`` = weight of lost codes / weight of all codes. If any area code has no
        weight, or the total weight is 0, the share is NaN and ``weight_status`` says
        ``"onvolledig"`` -- never a guessed number.
    """
    available = set(available_codes)
    covered = tuple(c for c in area.codes if c in available)
    lost = tuple(c for c in area.codes if c not in available)
    if weights is None:
        from .reference import population_weights

        weights, _ = population_weights(area.codes)
    unweighted = tuple(c for c in area.codes
                       if c not in weights or weights[c] is None or math.isnan(float(weights[c])))
    total = sum(float(weights[c]) for c in area.codes if c not in unweighted)
    if unweighted or total <= 0:
        share, status = float("nan"), WEIGHT_INCOMPLETE
    else:
        share, status = sum(float(weights[c]) for c in lost) / total, WEIGHT_OK
    return Translation(area_id=area.id, from_year=area.reference_year, to_year=year,
                       covered=covered, lost=lost, uncovered_share=share,
                       weight_status=status, unweighted=unweighted)
