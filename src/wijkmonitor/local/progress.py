"""Progress towards a streefwaarde: the expected path and a status with its rule.

The expected path runs in straight lines from the baseline (``baseline_year``,
``baseline_value``) through the milestones (if any) to the target (``target_year``,
``target_value``) and stays at the target value after the target year.

Status of the latest observed value ``v`` in year ``t`` (only observations after the baseline
year count; the rule is returned as Dutch text with the numbers filled in):

``achieved`` (behaald)
    ``v`` is at or beyond the target value in the good direction (polarity).
``on_track`` (op koers)
    not achieved, and ``v`` is at or beyond the expected value for year ``t`` in the good
    direction, allowing ``tolerance`` (in the indicator's unit, default 0).
``behind`` (achter)
    otherwise.
``no_data`` (geen gegevens)
    no baseline value, no observation after the baseline year, or an unknown polarity.

The observed values are passed in by the caller (a ``pandas.Series`` or a ``dict``
year -> value, missing values as NaN/None); this module reads nothing itself.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Iterable, Mapping

import pandas as pd

ACHIEVED, ON_TRACK, BEHIND, NO_DATA = "achieved", "on_track", "behind", "no_data"
LABELS = {ACHIEVED: "behaald", ON_TRACK: "op koers", BEHIND: "achter", NO_DATA: "geen gegevens"}
HIGHER, LOWER = "higher_is_better", "lower_is_better"


@dataclass(frozen=True)
class Progress:
    status: str
    label: str
    rule: str
    polarity: str | None
    baseline_year: int | None
    baseline_value: float | None
    target_year: int
    target_value: float
    latest_year: int | None = None
    latest_value: float | None = None
    expected_value: float | None = None
    #: Expected value per year from baseline to target year (the path to draw).
    path: dict[int, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["path"] = {str(k): v for k, v in self.path.items()}
        return out


def _clean(observed: pd.Series | Mapping[int, float] | None) -> pd.Series:
    if observed is None:
        return pd.Series(dtype=float)
    series = observed if isinstance(observed, pd.Series) else pd.Series(dict(observed),
                                                                        dtype=object)
    series = pd.to_numeric(series, errors="coerce").dropna()
    series.index = [int(i) for i in series.index]
    return series.sort_index().astype(float)


def expected_path(baseline_year: int, baseline_value: float, target_year: int,
                  target_value: float,
                  milestones: Iterable[tuple[int, float]] | Mapping[int, float] = ()
                  ) -> list[tuple[int, float]]:
    """Knots of the expected path: baseline, milestones strictly between, target."""
    items = milestones.items() if isinstance(milestones, Mapping) else milestones
    knots = [(int(baseline_year), float(baseline_value))]
    knots += sorted((int(y), float(v)) for y, v in items
                    if int(baseline_year) < int(y) < int(target_year))
    knots.append((int(target_year), float(target_value)))
    return knots


def expected_value(year: int, knots: list[tuple[int, float]]) -> float:
    """Expected value in ``year`` on the piecewise-linear path through ``knots``."""
    if year <= knots[0][0]:
        return knots[0][1]
    for (y0, v0), (y1, v1) in zip(knots, knots[1:]):
        if y0 <= year <= y1:
            return v0 if y1 == y0 else v0 + (v1 - v0) * (year - y0) / (y1 - y0)
    return knots[-1][1]


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    text = f"{x:.2f}".rstrip("0").rstrip(".")  # at most 2 decimals, never scientific
    return ("0" if text == "-0" else text).replace(".", ",")


def assess(target_value: float, target_year: int, observed=None, *, polarity: str | None,
           baseline_year: int | None = None, baseline_value: float | None = None,
           milestones: Iterable[tuple[int, float]] | Mapping[int, float] = (),
           tolerance: float = 0.0) -> Progress:
    """Classify progress towards a target (see the module docstring for the rule).

    Parameters
    ----------
    target_value, target_year
        The streefwaarde.
    observed : pandas.Series or dict, optional
        Observed values by year (NaN/None for missing years).
    polarity : {'higher_is_better', 'lower_is_better', None}
        Which direction is good; ``None`` gives ``no_data`` (a neutral indicator has no
        "better").
    baseline_year, baseline_value : optional
        The starting point. Without ``baseline_value`` it is read from ``observed`` at
        ``baseline_year``; without either, the earliest observation is the baseline.
    milestones : optional
        Intermediate targets ``year -> value``.
    tolerance : float
        Distance (in the indicator's unit) by which a value may fall short of the path and
        still count as on track.
    """
    obs = _clean(observed)
    target_year, target_value = int(target_year), float(target_value)
    base = dict(polarity=polarity, target_year=target_year, target_value=target_value)

    if baseline_value is None and baseline_year is not None and int(baseline_year) in obs.index:
        baseline_value = float(obs[int(baseline_year)])
    if baseline_value is None and baseline_year is None and not obs.empty:
        baseline_year, baseline_value = int(obs.index[0]), float(obs.iloc[0])
    if baseline_year is not None:
        baseline_year = int(baseline_year)

    if polarity not in (HIGHER, LOWER):
        return Progress(NO_DATA, LABELS[NO_DATA],
                        "Geen gegevens: de indicator heeft geen richting (neutraal of onbekend), "
                        "dus 'beter' of 'slechter' is niet te bepalen.",
                        baseline_year=baseline_year, baseline_value=baseline_value, **base)
    if baseline_year is None or baseline_value is None:
        return Progress(NO_DATA, LABELS[NO_DATA],
                        "Geen gegevens: er is geen nulmeting (beginwaarde) bekend.",
                        baseline_year=baseline_year, baseline_value=baseline_value, **base)

    knots = expected_path(baseline_year, baseline_value, target_year, target_value, milestones)
    path = {y: expected_value(y, knots) for y in range(baseline_year, max(target_year,
                                                                          baseline_year) + 1)}
    later = obs[obs.index > baseline_year]
    if later.empty:
        return Progress(NO_DATA, LABELS[NO_DATA],
                        f"Geen gegevens: er is geen meting na de nulmeting ({baseline_year}).",
                        baseline_year=baseline_year, baseline_value=baseline_value, path=path,
                        **base)

    year, value = int(later.index[-1]), float(later.iloc[-1])
    expected = expected_value(year, knots)
    sign = 1.0 if polarity == HIGHER else -1.0
    better = "hoger" if polarity == HIGHER else "lager"
    at_least = "minstens" if polarity == HIGHER else "hoogstens"
    if sign * (value - target_value) >= 0:
        status = ACHIEVED
        rule = (f"Behaald: de laatste waarde ({_fmt(value)} in {year}) is {at_least} de "
                f"streefwaarde {_fmt(target_value)} ({better} is beter).")
    elif sign * (value - expected) >= -abs(tolerance):
        status = ON_TRACK
        rule = (f"Op koers: de laatste waarde ({_fmt(value)} in {year}) is {at_least} de "
                f"verwachte waarde {_fmt(expected)} op de rechte lijn van de nulmeting "
                f"({_fmt(baseline_value)} in {baseline_year}) naar de streefwaarde "
                f"({_fmt(target_value)} in {target_year})"
                + (f", met een marge van {_fmt(abs(tolerance))}" if tolerance else "") + ".")
    else:
        status = BEHIND
        rule = (f"Achter: de laatste waarde ({_fmt(value)} in {year}) blijft achter bij de "
                f"verwachte waarde {_fmt(expected)} op de rechte lijn van de nulmeting "
                f"({_fmt(baseline_value)} in {baseline_year}) naar de streefwaarde "
                f"({_fmt(target_value)} in {target_year}); {better} is beter"
                + (f", marge {_fmt(abs(tolerance))}" if tolerance else "") + ".")
    return Progress(status, LABELS[status], rule, baseline_year=baseline_year,
                    baseline_value=baseline_value, latest_year=year, latest_value=value,
                    expected_value=expected, path=path, **base)
