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

The rule above is ``rule="omw"`` (the straight line from the baseline alone, as the historical
monitors did). The default ``rule="standaard"`` (issue 15) follows the gap's logic:

``on_track`` / ``behind`` / ``uncertain`` (op koers / achter / niet te zeggen)
    A straight line is fitted through **every observed year** from the baseline year on
    (weighted least squares, weights ``1 / se^2`` when the standard errors are given, else
    equal weights; the baseline value counts as a point when it was not observed). Its value
    ``T`` in the latest observed year, with a 95 % interval from the fit, is compared with the
    expected value ``E`` on the path: with ``d = T - E`` in the good direction, **op koers**
    when the whole interval of ``d`` is at or above ``-tolerance``, **achter** when the whole
    interval is below it, otherwise **niet te zeggen**. Without standard errors the interval
    is unknown and the tolerance alone decides. ``achieved`` is judged on the latest value as in
    ``omw``.

**The national trend** is not subtracted: a streefwaarde is an absolute value, so a national
rise helps an area reach it. When the caller passes the national series, the rule says how
much the national trend (fitted the same way) changed over the same years, so that a reader
sees how much of the area's progress the country made too (``national_change``).

The observed values are passed in by the caller (a ``pandas.Series`` or a ``dict``
year -> value, missing values as NaN/None); this module reads nothing itself.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

ACHIEVED, ON_TRACK, BEHIND, NO_DATA = "achieved", "on_track", "behind", "no_data"
UNCERTAIN = "uncertain"
LABELS = {ACHIEVED: "behaald", ON_TRACK: "op koers", BEHIND: "achter", NO_DATA: "geen gegevens",
          UNCERTAIN: "niet te zeggen"}
#: The progress rules: ``standaard`` (trend fit with its interval) and ``omw`` (straight line).
RULES = ("standaard", "omw")
#: Two-sided 95 %.
Z = 1.959963984540054
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
    #: The rule applied (``standaard`` or ``omw``), the trend value in the latest year with
    #: its 95 % interval (standaard), and the national trend's change over the same years.
    rule_name: str = "omw"
    trend_value: float | None = None
    trend_lower: float | None = None
    trend_upper: float | None = None
    national_change: float | None = None

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
           tolerance: float = 0.0, rule: str = "standaard",
           se: Mapping[int, float] | pd.Series | None = None,
           national: pd.Series | Mapping[int, float] | None = None) -> Progress:
    """Classify progress towards a target (see the module docstring for the rules).

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
    rule : {'standaard', 'omw'}
        The trend fit with its interval (default) or the straight line from the baseline.
    se : optional
        Standard errors of the observed values by year (``standaard``).
    national : optional
        The national values by year (``standaard``: reported, not subtracted).
    """
    if rule not in RULES:
        raise ValueError(f"onbekende regel {rule!r}; kies uit {', '.join(RULES)}")
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
    if rule == "standaard" and sign * (value - target_value) < 0:
        return _assess_trend(obs, se, national, year=year, value=value, expected=expected, sign=sign,
                             better=better, tolerance=abs(tolerance), baseline_year=baseline_year,
                             baseline_value=baseline_value, target_value=target_value,
                             target_year=target_year, path=path, base=base)
    if sign * (value - target_value) >= 0:
        status = ACHIEVED
        rule_text = (f"Behaald: de laatste waarde ({_fmt(value)} in {year}) is {at_least} de "
                f"streefwaarde {_fmt(target_value)} ({better} is beter).")
    elif sign * (value - expected) >= -abs(tolerance):
        status = ON_TRACK
        rule_text = (f"Op koers: de laatste waarde ({_fmt(value)} in {year}) is {at_least} de "
                f"verwachte waarde {_fmt(expected)} op de rechte lijn van de nulmeting "
                f"({_fmt(baseline_value)} in {baseline_year}) naar de streefwaarde "
                f"({_fmt(target_value)} in {target_year})"
                + (f", met een marge van {_fmt(abs(tolerance))}" if tolerance else "") + ".")
    else:
        status = BEHIND
        rule_text = (f"Achter: de laatste waarde ({_fmt(value)} in {year}) blijft achter bij de "
                f"verwachte waarde {_fmt(expected)} op de rechte lijn van de nulmeting "
                f"({_fmt(baseline_value)} in {baseline_year}) naar de streefwaarde "
                f"({_fmt(target_value)} in {target_year}); {better} is beter"
                + (f", marge {_fmt(abs(tolerance))}" if tolerance else "") + ".")
    return Progress(status, LABELS[status], rule_text, baseline_year=baseline_year,
                    baseline_value=baseline_value, latest_year=year, latest_value=value,
                    expected_value=expected, path=path, rule_name=rule, **base)


def trend_fit(points: pd.Series, se: pd.Series | None, at: int) -> tuple[float, float]:
    """Weighted least-squares line through ``points`` (year -> value), evaluated at ``at``:
    ``(value, standard error)``. Weights ``1/se^2`` where every point has a positive standard
    error (the standard error is then the fit's, from those errors); otherwise equal weights
    and a NaN standard error (unknown). One point: that value."""
    x = points.index.to_numpy(dtype=float)
    y = points.to_numpy(dtype=float)
    s = None if se is None else pd.Series(se).reindex(points.index).to_numpy(dtype=float)
    known = s is not None and bool(np.all(np.isfinite(s) & (s > 0)))
    w = 1.0 / s ** 2 if known else np.ones_like(y)
    if len(x) == 1:
        return float(y[0]), float(s[0]) if known else float("nan")
    X = np.column_stack([np.ones_like(x), x - at])
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    beta = cov @ (X.T @ (w * y))
    return float(beta[0]), float(np.sqrt(cov[0, 0])) if known else float("nan")


def _assess_trend(obs, se, national, *, year, value, expected, sign, better, tolerance, baseline_year,
                  baseline_value, target_value, target_year, path, base) -> Progress:
    """The ``standaard`` rule (see the module docstring); ``achieved`` is handled by the caller."""
    points = obs[obs.index >= baseline_year]
    se_s = None if se is None else pd.Series(dict(se) if not isinstance(se, pd.Series) else se, dtype=float)
    if baseline_year not in points.index:
        points = pd.concat([pd.Series({baseline_year: float(baseline_value)}), points]).sort_index()
        if se_s is not None and baseline_year not in se_s.index:
            # the baseline set by hand has no known error: take the first observed one's
            first = se_s.reindex(points.index[1:]).dropna()
            se_s = pd.concat([se_s, pd.Series({baseline_year: first.iloc[0] if len(first) else np.nan})])
    trend, trend_se = trend_fit(points, se_s, year)
    d = sign * (trend - expected)
    # rounded like the gap's rule, so that an interval ending exactly at a boundary counts as written
    lo, hi = round(d - Z * trend_se, 9), round(d + Z * trend_se, 9)
    years = ", ".join(str(int(y)) for y in points.index)
    fit = (f"de trendlijn door alle metingen ({years}) geeft in {year} {_fmt(trend)}"
           + (f" (95%-interval {_fmt(trend - Z * trend_se)} tot {_fmt(trend + Z * trend_se)})"
              if math.isfinite(trend_se) else " (onzekerheid onbekend: alleen de marge telt)"))
    path_text = (f"de verwachte waarde op de lijn van de nulmeting ({_fmt(baseline_value)} in {baseline_year}) "
                 f"naar de streefwaarde ({_fmt(target_value)} in {target_year}) is {_fmt(expected)}"
                 + (f", marge {_fmt(tolerance)}" if tolerance else ""))
    if math.isfinite(trend_se):
        status = ON_TRACK if lo >= -tolerance else (BEHIND if hi < -tolerance else UNCERTAIN)
    else:
        status = ON_TRACK if round(d, 9) >= -tolerance else BEHIND
    verdict = {ON_TRACK: "Op koers: de trend ligt (met zijn interval) op of voorbij de verwachte waarde",
               BEHIND: "Achter: de trend blijft (met zijn hele interval) achter bij de verwachte waarde",
               UNCERTAIN: "Niet te zeggen: het interval van de trend omvat de verwachte waarde"}[status]
    national_change = None
    nat_text = ("De landelijke trend is niet afgetrokken: de streefwaarde is een absolute waarde.")
    if national is not None:
        nat = _clean(national)
        nat = nat[(nat.index >= baseline_year) & (nat.index <= year)]
        if len(nat) >= 2:
            start, _ = trend_fit(nat, None, baseline_year)
            end, _ = trend_fit(nat, None, year)
            national_change = end - start
            nat_text = (f"De landelijke trend is niet afgetrokken (de streefwaarde is een absolute waarde); "
                        f"landelijk veranderde de waarde tussen {baseline_year} en {year} met "
                        f"{_fmt(national_change)}.")
    text = f"{verdict} ({better} is beter): {fit}; {path_text}. {nat_text}"
    return Progress(status, LABELS[status], text, baseline_year=baseline_year, baseline_value=baseline_value,
                    latest_year=year, latest_value=value, expected_value=expected, path=path,
                    rule_name="standaard", trend_value=trend,
                    trend_lower=trend - Z * trend_se if math.isfinite(trend_se) else None,
                    trend_upper=trend + Z * trend_se if math.isfinite(trend_se) else None,
                    national_change=national_change, **base)
