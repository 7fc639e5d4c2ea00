"""Uncertainty of shown values: a 95 % interval per value, carried into the gap and its change.

Every value gets ``lower``, ``upper`` and ``interval_method`` (Dutch words for users), and a
standard error ``se`` that :mod:`wijkmonitor.analysis` combines into the interval of the change
of the gap. The method follows the indicator (:func:`method_of`):

``model``
    RIVM small-area model estimates (50090NED). The publisher gives no margins, so this is a
    documented **approximation** (marked ``benadering`` everywhere). Its form follows van de
    Kassteele et al. (2017, Int J Health Geographics 16, on the RIVM structured additive
    regression model): the error shrinks with the number of inhabitants but never below a
    floor of model error, ``var = a^2 + b^2 / W`` for the error of a change of the gap (``W``:
    the value's weight, inhabitants of 25+). ``a`` and ``b`` are calibrated on the data
    (:func:`calibrate`, ``scripts/calibrate-model-interval``): two official RIVM runs of the
    same years (50090NED and the 50150NED re-publication in the woonikveilig files) give
    2012 -> 2020 gap changes of the same wijken that differ; the spread of that difference, by
    wijk size, is taken as the error of the gap change. It is not divided by sqrt(2): the runs
    share their survey data, so their difference understates the error of either. One value
    carries ``a^2 / 4 + b^2 / (2 W)``, so that area and gemeente in two years add up to the
    calibrated error of the change. Indicators other than the calibration indicator (ervaren
    gezondheid, the only one in both runs) are scaled by ``sqrt(p (1 - p))`` relative to it
    (binomial form). The parameters live in ``uncertainty.yaml``.
``wilson``
    Percentages computed from counts: the Wilson score interval on the published base.
``poisson``
    Rates per 1 000 from counts (or a published rate times its population): the exact
    (Garwood) Poisson interval of the count, divided by the base.
``afronding``
    Published percentages, means and amounts rounded by the publisher (CBS KWB): the rounding
    itself, +/- half a unit of the last published decimal (the catalogue's ``decimals``); as a
    standard error the uniform one, half-width / sqrt(3).
``afronding_aantal``
    Counts rounded by their publisher (``uncertainty.yaml`` ``count_rounding``, one rule per
    sources, variables and level, each cited from the publisher's text or measured on the real
    files: ``scripts/measure-count-rounding``). CBS rounds the KWB population and households per
    wijk and buurt *at random* to fives ("aselect afgerond": up or down with probabilities
    inverse to the distance, so the error of one integer count is at most ``unit - 1``, not half
    a unit; with the remainder unknown it is triangular, variance ``unit^2/6``); uitkeringen and
    education counts are multiples of ten at every level, CBS 83648NED crime counts multiples of
    five (measured; the kind of rounding unknown, so treated as random, the wider case). One
    published count: ``min(bound, z sd)``, +/- 4 for fives. A **sum of n** independently
    rounded counts (an area of n buurten): the normal 95 % interval of the sum of n errors,
    ``z unit sqrt(n k)`` (``k`` = 1/6 random, 1/12 nearest), capped by the worst case ``n x
    bound``. The worst case itself grows with n and would be a bound nobody meets (13 buurten:
    +/- 52 against the 95 % interval's +/- 14.4), so the 95 % interval is given, as for the
    other methods. A count carried through a crosswalk or harmonised (parts split by share) or
    without a known publication claims no rounding interval.
``wilson_afronding``, ``poisson_afronding``
    A ratio whose numerator or denominator is such a rounded count (bijstand, WW and AO per
    1 000 from counts rounded to tens; herkomst and age shares of rounded wijk counts; 83648NED
    crime per 1 000): the Wilson or Poisson interval widened on each side by the rounding's
    half-width carried to the rate (first order: ``scale h_k / d + rate h_d / d``), and its
    standard error added in quadrature.
``geen``
    Counts published unrounded (the woningvoorraad, gemeente population and households of KWB
    except the 2012 layer, Politie 47013NED and the woonikveilig crime counts: measured 9-27 %
    multiples of five per source and level, about one in five as chance gives), scores, classes
    and medians: no interval is known (NULL). An unrounded register count is not given a
    zero-width interval: that would claim a precision the register does not have; the
    publisher adds no error, and none is known.

``vervangend_gewicht``
    An area added up with the catalogue's declared stand-in weight (``weight_fallback``:
    households where the woningvoorraad per buurt is missing, :mod:`wijkmonitor.aggregate`):
    the indicator's own interval widened by the error of that approximation, measured on the
    mirror where buurten publish both weights (:func:`calibrate_weight_fallback`,
    ``scripts/calibrate-weight-fallback``, ``uncertainty.yaml`` ``weight_fallback``): per wijk
    of at least two buurten the value weighted both ways; the 95th percentile of the absolute
    difference (relative for means such as the WOZ value, in procentpunten for percentages) is
    added to the half-width, and as a standard error ``p95 / 1.96`` in quadrature.

Aggregates carry the interval by the same rule on their own numerator, denominator or weight
(an area's model error follows its summed weight; Wilson and Poisson use the summed counts;
rounding keeps its half unit, a weighted mean of bounded errors; a sum of rounded counts takes
the interval of the sum of its ``n_used`` parts). **Independence**: the gap
change combines the four values' errors as independent (``se^2`` added); the area is part of
its gemeente, which makes this slightly conservative for counts and neutral for the model
approximation, whose calibration measured the change of the gap directly.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import yaml
from scipy import stats

from .catalogue import APPROXIMATION, Catalogue, Indicator

#: Two-sided 95 %.
Z = 1.959963984540054
CONFIDENCE = 0.95

METHOD_LABELS = {
    "model": "benadering van de modelonzekerheid (RIVM-model, gekalibreerd op twee modelrondes; "
             "van de Kassteele e.a. 2017)",
    "wilson": "Wilson-interval op de gepubliceerde basis",
    "poisson": "exact Poisson-interval op het aantal",
    "afronding": "afronding door de bron (een halve eenheid van het laatste decimaal)",
    "geen": "geen interval bekend",
    "afronding_aantal": "afronding van het aantal door de bron (95 %-interval van de afrondfout; bij een "
                        "optelling van afgeronde delen de fout van hun som)",
    "wilson_afronding": "Wilson-interval op de gepubliceerde basis, verbreed met de afronding van de "
                        "aantallen door de bron",
    "poisson_afronding": "exact Poisson-interval op het aantal, verbreed met de afronding van de aantallen "
                         "door de bron",
    "vervangend_gewicht": "afronding door de bron plus de fout van de benadering met een vervangend gewicht "
                          "(95e percentiel van het verschil met de eigen weging, gemeten op wijken waar "
                          "beide gewichten per buurt bekend zijn)",
}

#: ``interval_method`` of a value added up with a stand-in weight.
FALLBACK_METHOD = "vervangend_gewicht"

_PARAMS = Path(__file__).with_name("uncertainty.yaml")


@functools.lru_cache(maxsize=1)
def model_parameters() -> dict:
    """The calibrated parameters of the model approximation (``uncertainty.yaml``)."""
    return yaml.safe_load(_PARAMS.read_text(encoding="utf-8"))["model"]


@functools.lru_cache(maxsize=1)
def fallback_parameters() -> dict:
    """The measured error of each indicator's stand-in weight (``uncertainty.yaml``)."""
    return yaml.safe_load(_PARAMS.read_text(encoding="utf-8")).get("weight_fallback") or {}


@functools.lru_cache(maxsize=1)
def count_rounding_rules() -> tuple:
    """The declared rounding of published counts (``uncertainty.yaml`` ``count_rounding``)."""
    rules = yaml.safe_load(_PARAMS.read_text(encoding="utf-8")).get("count_rounding") or []
    return tuple(rules)


#: Per rounding mode: (variance of one rounding error / unit^2, nearest rounding?).
#: ``aselect`` (random) rounding of an integer count errs by less than a unit: at most
#: ``unit - 1``; with the remainder unknown its error is triangular on (-unit, unit), variance
#: unit^2/6. ``onbekend`` is treated as ``aselect`` (the wider case). ``dichtstbij``: at most
#: half a unit, variance unit^2/12.
_MODES = {"aselect": (1.0 / 6.0, False), "onbekend": (1.0 / 6.0, False), "dichtstbij": (1.0 / 12.0, True)}

#: Level of a CBS region code by its prefix.
_LEVEL_OF_PREFIX = {"NL": "land", "GM": "gemeente", "WK": "wijk", "BU": "buurt"}


def level_of_code(code) -> str | None:
    """``land``, ``gemeente``, ``wijk`` or ``buurt`` of a CBS region code (None otherwise)."""
    return _LEVEL_OF_PREFIX.get(code[:2]) if isinstance(code, str) else None


def rounding_of(variables, source, level) -> tuple[float, str | None]:
    """``(unit, mode)`` of the declared rounding of any of ``variables`` as published by
    ``source`` (a source_id) at ``level``; ``(nan, None)`` when none is declared."""
    from fnmatch import fnmatchcase

    if not isinstance(source, str) or not isinstance(level, str):
        return float("nan"), None
    wanted = set(variables or ())
    for rule in count_rounding_rules():
        if (wanted & set(rule["variables"]) and level in rule["levels"]
                and any(fnmatchcase(source, pat) for pat in rule["sources"])):
            return float(rule["unit"]), str(rule["mode"])
    return float("nan"), None


def count_rounding(unit, n=1, mode="aselect") -> tuple[np.ndarray, np.ndarray]:
    """Half-width of the 95 % interval and standard error of the rounding error of a count that
    is the sum of ``n`` independently rounded published counts (``unit``: the rounding unit).

    One error has variance ``k unit^2`` (``k`` = 1/6 random, 1/12 nearest) and a hard bound
    ``b`` (``unit - 1`` for random rounding of integers, ``unit / 2`` for nearest). The sum of
    ``n`` has ``se = unit sqrt(n k)``; the half-width is ``min(n b, Z se)``: the normal 95 %
    interval of the sum, never wider than the worst case (for ``n = 1`` and nearest rounding the
    bound itself, +/- half a unit).
    """
    u = np.asarray(unit, dtype="float64")
    n = np.asarray(n, dtype="float64")
    shape = np.broadcast(u, n).shape
    modes = np.broadcast_to(np.asarray(mode, dtype=object), shape).reshape(-1)
    spec = [_MODES.get(m, _MODES["onbekend"]) for m in modes]
    k = np.array([x[0] for x in spec], dtype="float64").reshape(shape)
    nearest = np.array([x[1] for x in spec], dtype=bool).reshape(shape)
    bound = np.where(nearest, u / 2.0, u - 1.0)
    with np.errstate(invalid="ignore"):
        se = u * np.sqrt(np.maximum(n, 1.0) * k)
        half = np.minimum(np.maximum(n, 1.0) * bound, Z * se)
    return half, se


def _row_rounding(variables, source, level, n) -> tuple[np.ndarray, np.ndarray]:
    """Per row: ``(half, se)`` of the declared rounding of ``variables`` (NaN where none)."""
    size = len(source)
    unit = np.full(size, np.nan)
    mode = np.full(size, None, dtype=object)
    if not variables or not count_rounding_rules():
        return unit, unit.copy()
    cache: dict = {}
    for i, key in enumerate(zip(source, level)):
        if key not in cache:
            cache[key] = rounding_of(variables, *key)
        unit[i], mode[i] = cache[key]
    half, se = np.full(size, np.nan), np.full(size, np.nan)
    ok = np.isfinite(unit)
    if ok.any():
        half[ok], se[ok] = count_rounding(unit[ok], n[ok], mode[ok])
    return half, se


def is_approximation(method) -> np.ndarray:
    """Per ``method`` (the provenance text of ``area_values``): added up with a declared
    stand-in weight, i.e. an approximation (:mod:`wijkmonitor.aggregate`)?"""
    codes, uniques = _factorize(method)
    mark = f"; {APPROXIMATION}:"
    flags = np.array([isinstance(u, str) and mark in u for u in uniques] + [False], dtype=bool)
    return flags[codes]  # code -1 (missing) takes the trailing False


def approximation_texts(method) -> np.ndarray:
    """:func:`approximation_text` of every element (object array; None where there is none)."""
    codes, uniques = _factorize(method)
    texts = np.array([approximation_text(u) for u in uniques] + [None], dtype=object)
    return texts[codes]


def _factorize(method) -> tuple[np.ndarray, list]:
    """Codes and distinct values of a column of provenance texts (a few distinct texts over many
    rows: each is looked at once)."""
    import pandas as pd

    col = method if isinstance(method, pd.Series) else pd.Series(np.asarray(method, dtype=object).reshape(-1),
                                                                    dtype=object)
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    return np.asarray(codes), list(uniques)


def approximation_text(method) -> str | None:
    """The approximation clause of a provenance text (``benadering: gewogen met ...``), or None."""
    mark = f"; {APPROXIMATION}:"
    if isinstance(method, str) and mark in method:
        return method.split("; ", 1)[1]
    return None


def method_of(ind: Indicator) -> str:
    """Which interval an indicator's values get (see the module docstring)."""
    if ind.aggregation in ("som", "niet optelbaar"):
        return "geen"
    if ind.estimate:
        return "model"
    f = ind.formulas[0]
    per_1000 = ind.unit.startswith("per 1")
    if f.mode == "ratio":
        return "poisson" if per_1000 else "wilson"
    if f.mode == "weighted" and per_1000:
        return "poisson"
    return "afronding"


def intervals(ind: Indicator, value, numerator=None, denominator=None, approx=None, *, source=None,
              level=None, n_parts=None, base_source=None) -> dict[str, np.ndarray]:
    """95 % interval of values of one indicator (vectorised).

    Parameters
    ----------
    value, numerator, denominator : arrays as in ``indicator_values`` / ``area_values``
        (NaN where not shown; for weighted means the denominator is the weight)
    approx : bool array (or None): rows added up with the indicator's stand-in weight
        (:func:`is_approximation` of ``area_values.method``); their interval is widened by the
        measured error of that approximation

    source, level, n_parts, base_source : per row (or None): the publication of the value
        (``source_id``), the level of the published figures (``land``, ``gemeente``, ``wijk``,
        ``buurt``), how many published figures were added up (1 for a published value) and the
        publication of the denominator where it differs (``base_source_id``). With them, counts
        rounded by their publisher (``uncertainty.yaml`` ``count_rounding``) get the interval of
        that rounding, and ratios of such counts a widened Wilson/Poisson interval.

    Returns
    -------
    dict with ``lower``, ``upper``, ``se`` (NaN where unknown), ``method`` (the indicator's
    method, :func:`method_of`), ``methods`` (per row: the key of :data:`METHOD_LABELS` that
    applies, e.g. ``afronding_aantal`` for a rounded count) and ``approx`` (the rows widened for
    the stand-in weight).
    """
    v = np.asarray(value, dtype="float64")
    n = np.broadcast_to(np.asarray(np.nan if numerator is None else numerator, dtype="float64"), v.shape)
    d = np.broadcast_to(np.asarray(np.nan if denominator is None else denominator, dtype="float64"), v.shape)
    method = method_of(ind)
    nan = np.full(v.shape, np.nan)
    lower, upper, se = nan.copy(), nan.copy(), nan.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "model":
            se = model_se(v, d, percent=ind.unit.strip() == "%")
            lower, upper = v - Z * se, v + Z * se
            if ind.unit.strip() == "%":
                lower, upper = np.clip(lower, 0, 100), np.clip(upper, 0, 100)
        elif method == "wilson":
            lower, upper = wilson(n, d)
            lower, upper = 100 * lower, 100 * upper
            se = (upper - lower) / (2 * Z)
        elif method == "poisson":
            if ind.formulas[0].mode == "ratio":
                count, base = n, d
            else:  # a published rate per 1 000 of its population weight
                count, base = v * d / 1000.0, d
            lo, hi = poisson(count)
            lower, upper = 1000.0 * lo / base, 1000.0 * hi / base
            se = (upper - lower) / (2 * Z)
        elif method == "afronding":
            half = 0.5 * 10.0 ** (-ind.decimals)
            lower, upper = v - half, v + half
            se = np.where(np.isfinite(v), half / np.sqrt(3.0), np.nan)
    methods = np.full(v.shape, method, dtype=object)
    if source is not None and v.size:
        lower, upper, se, methods = _with_count_rounding(ind, method, v, n, d, lower, upper, se, methods,
                                                         source, level, n_parts, base_source)
    shown = np.isfinite(v)
    widened = np.zeros(v.shape, dtype=bool)
    if approx is not None:
        prm = fallback_parameters().get(ind.id)
        widened = np.broadcast_to(np.asarray(approx, dtype=bool), v.shape) & shown
        if prm and widened.any():
            p95 = float(prm["p95"])
            half = np.abs(v) * p95 if prm["scale"] == "relatief" else np.full(v.shape, p95)
            if method == "afronding" or not np.isfinite(lower[widened]).all():
                # the rounding bound plus the approximation's bound
                base_half = 0.5 * 10.0 ** (-ind.decimals) if method == "afronding" else 0.0
                lo, hi = v - base_half - half, v + base_half + half
            else:
                lo, hi = lower - half, upper + half
            lower, upper = np.where(widened, lo, lower), np.where(widened, hi, upper)
            base_se = np.where(np.isfinite(se), se, 0.0)
            se = np.where(widened, np.sqrt(base_se ** 2 + (half / Z) ** 2), se)
            if ind.unit.strip() == "%":
                lower = np.where(widened, np.clip(lower, 0, 100), lower)
                upper = np.where(widened, np.clip(upper, 0, 100), upper)
        elif widened.any():  # declared but not calibrated: no interval can be claimed
            lower, upper, se = (np.where(widened, np.nan, a) for a in (lower, upper, se))
    for a in (lower, upper, se):
        a[~shown] = np.nan
    methods = np.where(widened, FALLBACK_METHOD, methods)
    return dict(lower=lower, upper=upper, se=se, method=method, methods=methods, approx=widened)


def _with_count_rounding(ind, method, v, num, den, lower, upper, se, methods, source, level, n_parts,
                         base_source):
    """The rounding of published counts added to the intervals of :func:`intervals` (see there)."""
    shape = v.shape
    src = np.broadcast_to(np.asarray(source, dtype=object), shape).reshape(-1)
    lvl = np.broadcast_to(np.asarray(level, dtype=object), shape).reshape(-1)
    parts = np.broadcast_to(np.asarray(1.0 if n_parts is None else n_parts, dtype="float64"), shape).reshape(-1)
    parts = np.where(np.isfinite(parts) & (parts >= 1), parts, 1.0)
    f = ind.formulas
    with np.errstate(invalid="ignore", divide="ignore"):
        if ind.aggregation == "som":
            variables = sorted({x for fm in f for x in (fm.value or ())})
            half, sd = _row_rounding(variables, src, lvl, parts)
            half, sd = half.reshape(shape), sd.reshape(shape)
            hit = np.isfinite(half) & np.isfinite(v)
            lower = np.where(hit, np.maximum(v - half, 0.0), lower)
            upper = np.where(hit, v + half, upper)
            se = np.where(hit, sd, se)
            methods = np.where(hit, "afronding_aantal", methods)
        elif method in ("wilson", "poisson") and f[0].mode == "ratio":
            bsrc = src if base_source is None else np.array(
                [b if isinstance(b, str) else s for b, s in
                 zip(np.broadcast_to(np.asarray(base_source, dtype=object), shape).reshape(-1), src)], dtype=object)
            hk, sk = _row_rounding(sorted({x for fm in f for x in (fm.numerator or ())}), src, lvl, parts)
            hd, sdd = _row_rounding(sorted({x for fm in f for x in (fm.denominator or ())}), bsrc, lvl, parts)
            hk, sk, hd, sdd = (a.reshape(shape) for a in (hk, sk, hd, sdd))
            hit = (np.isfinite(hk) | np.isfinite(hd)) & np.isfinite(v) & np.isfinite(lower) & (den > 0)
            scale = 100.0 if method == "wilson" else 1000.0
            hk, sk, hd, sdd = (np.where(np.isfinite(a), a, 0.0) for a in (hk, sk, hd, sdd))
            # first order: rate = scale k / d; its error from an error e_k of k and e_d of d
            extra = scale * hk / den + v * hd / den
            extra_se = np.sqrt((scale * sk / den) ** 2 + (v * sdd / den) ** 2)
            lo, hi = np.maximum(lower - extra, 0.0), upper + extra
            if method == "wilson":
                hi = np.minimum(hi, 100.0)
            lower, upper = np.where(hit, lo, lower), np.where(hit, hi, upper)
            se = np.where(hit, np.sqrt(se ** 2 + extra_se ** 2), se)
            methods = np.where(hit, f"{method}_afronding", methods)
    return lower, upper, se, methods


def interval_fields(ind: Indicator, value, numerator=None, denominator=None, status: str = "ok",
                    method: str | None = None, *, source: str | None = None, level: str | None = None,
                    n_parts: int | None = None, base_source: str | None = None) -> dict:
    """``lower``, ``upper``, ``interval_method`` and ``interval_note`` of one shown value, as the
    CLI (``wijkmonitor value``), the Python API and the web API (``/api/v1/value``) give them.

    All four are ``None`` where no interval is known: a value that is not shown (``status`` not
    ``ok``, or no value) and the methods without an interval (``geen``). ``method``: the row's
    provenance (``area_values.method``); an approximation widens the interval. ``source``,
    ``level``, ``n_parts``, ``base_source``: the publication of the value (see
    :func:`intervals`); a count rounded by its publisher gets the interval of that rounding.
    """
    def num(x):
        return None if x is None or not np.isfinite(x) else float(x)

    shown = status == "ok" and value is not None and np.isfinite(float(value))
    iv = intervals(ind, [float(value) if shown else np.nan],
                   [np.nan if numerator is None else numerator],
                   [np.nan if denominator is None else denominator], approx=is_approximation([method]),
                   source=None if source is None else [source], level=[level],
                   n_parts=[np.nan if n_parts is None else n_parts], base_source=[base_source])
    lo, hi = num(iv["lower"][0]), num(iv["upper"][0])
    known = lo is not None and hi is not None
    key = iv["methods"][0]
    return dict(lower=lo, upper=hi, interval_method=key if known else None,
                interval_note=METHOD_LABELS[key] if known else None)


#: The columns :func:`interval_columns` adds, in this order (as :func:`interval_fields`).
INTERVAL_COLUMNS = ["lower", "upper", "interval_method", "interval_note"]


def interval_columns(df, catalogue, indicator: str | None = None, context: dict | None = None):
    """The :func:`interval_fields` of every row of a table of values, vectorised per indicator.

    Parameters
    ----------
    df : DataFrame with ``value``, ``status`` and, where known, ``numerator``,
        ``denominator`` and ``method`` or ``source`` (the provenance: an approximation widens
        the interval); and
        ``indicator`` unless ``indicator`` is given
    catalogue : the catalogue (indicators not in it, e.g. the wijkindex, get no interval)
    indicator : the indicator of all rows (a table of one indicator)
    context : the publication of each row as :func:`intervals` takes it (``source``, ``level``,
        ``n_parts``, ``base_source``: arrays on ``df``'s rows); default :func:`rounding_context`

    Returns
    -------
    DataFrame on ``df``'s index with :data:`INTERVAL_COLUMNS`: the same numbers as
    :func:`interval_fields` gives for each row alone (``None``/NaN where no interval is known).
    """
    import pandas as pd

    n = len(df)
    lower, upper = np.full(n, np.nan), np.full(n, np.nan)
    method = np.full(n, None, dtype=object)
    note = np.full(n, None, dtype=object)
    if n:
        def col(name):
            if name not in df.columns:
                return np.full(n, np.nan)
            return pd.to_numeric(df[name], errors="coerce").to_numpy("float64", na_value=np.nan)

        shown = (df["status"] == "ok").to_numpy(bool) if "status" in df.columns else np.ones(n, bool)
        val = np.where(shown, col("value"), np.nan)
        num, den = col("numerator"), col("denominator")
        # the provenance: ``method`` of area_values (``source`` in the web's value tables)
        prov = "method" if "method" in df.columns else "source" if "source" in df.columns else None
        approx = is_approximation(df[prov]) if prov else np.zeros(n, bool)
        ids = np.full(n, indicator, dtype=object) if indicator else df["indicator"].to_numpy(object)
        ctx = rounding_context(df) if context is None else {
            k: np.asarray(a, dtype="float64" if k == "n_parts" else object) for k, a in context.items()}
        for ind_id in pd.unique(ids):
            if ind_id not in catalogue:
                continue
            sel = ids == ind_id if not indicator else slice(None)
            iv = intervals(catalogue[ind_id], val[sel], num[sel], den[sel], approx=approx[sel],
                           **({k: a[sel] for k, a in ctx.items()} if ctx else {}))
            lower[sel], upper[sel] = iv["lower"], iv["upper"]
            known = np.isfinite(iv["lower"]) & np.isfinite(iv["upper"])
            key = iv["methods"]
            method[sel] = np.where(known, key, None)
            note[sel] = np.where(known, [METHOD_LABELS[k] for k in key], None)
    return pd.DataFrame(dict(lower=lower, upper=upper, interval_method=method, interval_note=note),
                        index=df.index)


def rounding_context(df) -> dict:
    """The publication of each row of a table of values, as :func:`intervals` takes it
    (``source``, ``level``, ``n_parts``, ``base_source``), from the columns it has: rows of
    ``indicator_values`` (``source_id``, ``region_code`` or ``level``, ``base_source_id``) or of
    ``area_values`` (``source_id``, ``unit_kind``, ``method``, ``n_used``: an area added up from
    ``n_used`` published buurten or wijken, a gemeente as published). Empty without
    ``source_id`` (then no rounding of counts is known)."""
    import pandas as pd

    if "source_id" not in df.columns:
        return {}
    n = len(df)
    source = df["source_id"].to_numpy(object)
    if "region_code" in df.columns:
        level = np.array([level_of_code(c) for c in df["region_code"]], dtype=object)
    elif "level" in df.columns:
        level = df["level"].to_numpy(object)
    elif "unit_kind" in df.columns:
        kind = df["unit_kind"].to_numpy(object)
        # an area or the rest of a gemeente is made of buurten (or published as a wijk): the KWB
        # rounds both alike; a group is made of gemeenten
        level = np.where(np.isin(kind, ["gemeente", "group"]), "gemeente",
                         np.where(np.isin(kind, ["area", "rest"]), "buurt", None))
    else:
        level = np.full(n, None, dtype=object)
    parts = np.ones(n)
    if "n_used" in df.columns and "method" in df.columns:
        used = pd.to_numeric(df["n_used"], errors="coerce").to_numpy("float64", na_value=np.nan)
        how = [m.split("; ", 1)[0] if isinstance(m, str) else None for m in df["method"]]
        # (dtype bool: an empty list would give a float array, which ``&`` refuses)
        parts = np.where(np.array([h == "opgeteld" for h in how], dtype=bool) & np.isfinite(used), used, 1.0)
        # carried through a crosswalk (parts split by share) or harmonised: not a plain sum of
        # published counts, so no rounding interval is claimed
        plain = np.array([h in ("opgeteld", "gepubliceerd") for h in how], dtype=bool)
        level = np.where(plain, level, None)
    base = df["base_source_id"].to_numpy(object) if "base_source_id" in df.columns else np.full(n, None, object)
    return dict(source=source, level=level, n_parts=parts, base_source=base)


def model_se(value, weight, *, percent: bool = True) -> np.ndarray:
    """Standard error of one model estimate with weight ``weight`` (inhabitants of 25+):
    ``sqrt(a^2/4 + b^2/(2 W))``, scaled by ``sqrt(p(1-p) / (p0(1-p0)))`` for percentages."""
    prm = model_parameters()
    a, b, p0 = float(prm["a"]), float(prm["b"]), float(prm["p0"])
    w = np.asarray(weight, dtype="float64")
    v = np.asarray(value, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(a * a / 4.0 + b * b / (2.0 * w))
        if percent:
            p = np.clip(v / 100.0, 0.005, 0.995)
            se = se * np.sqrt(p * (1 - p) / (p0 * (1 - p0)))
    return np.where(w > 0, se, np.nan)


def wilson(k, n) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (95 %) of a proportion ``k / n`` (as fractions)."""
    k = np.asarray(k, dtype="float64")
    n = np.asarray(n, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        z2 = Z * Z
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = Z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        ok = (n > 0) & (k >= 0) & (k <= n)
    return np.where(ok, np.clip(centre - half, 0, 1), np.nan), np.where(ok, np.clip(centre + half, 0, 1), np.nan)


def poisson(k) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) 95 % interval of a Poisson count ``k`` (non-integer counts allowed)."""
    k = np.asarray(k, dtype="float64")
    alpha = 1 - CONFIDENCE
    with np.errstate(invalid="ignore"):
        lo = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
        hi = stats.chi2.ppf(1 - alpha / 2, 2 * (k + 1)) / 2
    bad = ~np.isfinite(k) | (k < 0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def change_interval(change, *ses) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interval of a change from the standard errors of the values it is made of, taken as
    independent: ``se = sqrt(sum se_i^2)``; returns ``(lower, upper, se)``."""
    c = np.asarray(change, dtype="float64")
    se = np.sqrt(sum(np.asarray(s, dtype="float64") ** 2 for s in ses))
    return c - Z * se, c + Z * se, se


# ---------------------------------------------------------------------------------------
# Calibration of the model approximation on two RIVM runs
# ---------------------------------------------------------------------------------------

CALIBRATION_SQL = """
WITH a AS (SELECT region_code, period, value, denominator, source_id FROM indicator_values
           WHERE indicator = 'ervaren_gezondheid_pct' AND status = 'ok' AND period IN (2012, 2020))
SELECT x.region_code AS code, x.period, x.value AS v1, y.value AS v2, x.denominator AS w
FROM a x JOIN a y USING (region_code, period)
WHERE x.source_id LIKE 'rivm-50090ned-%' AND y.source_id = 'woonikveilig-gezondheid'
"""


def calibrate(con) -> dict:
    """Reproduce the calibration from a built store (see the module docstring).

    Per 2020 wijk whose buurten are all in both runs: the 2012 -> 2020 change of the gap to the
    gemeente in 50090NED (the published wijk value, the gemeente of the same run) and in
    50150NED (the wijk's buurten weighted with their 25+ inhabitants, the gemeente of that run);
    their difference ``D``. Returns the SD of ``D`` overall and for wijken of 10 000+
    inhabitants (2024 population of the code), the share of wijken whose class under the fixed
    1-point rule differs between the runs, and ``a``, ``b`` of ``E[D^2] = a^2 + b^2 / W``
    (least squares, non-negative) with ``p0`` the mean of the values.
    """
    import pandas as pd
    from scipy.optimize import nnls

    df = con.execute(CALIBRATION_SQL).df()
    pop24 = dict(con.execute("SELECT code, population FROM regions WHERE year = 2024 "
                             "AND population IS NOT NULL").fetchall())
    n_buurten = con.execute("SELECT wijk_code, count(*) FROM regions WHERE year = 2020 AND level = 'buurt' "
                            "GROUP BY 1").df().set_index("wijk_code").iloc[:, 0]
    wijk = con.execute("SELECT region_code, period, value FROM indicator_values WHERE indicator = "
                       "'ervaren_gezondheid_pct' AND status = 'ok' AND geo_year = 2020 AND "
                       "region_code LIKE 'WK%' AND period IN (2012, 2020)").df()
    wijk = wijk.set_index(["region_code", "period"])["value"]
    bu = df[df["code"].str.startswith("BU")].copy()
    gm = df[df["code"].str.startswith("GM")].set_index(["code", "period"])
    bu["wk"] = "WK" + bu["code"].str[2:8]
    bu["gm"] = "GM" + bu["code"].str[2:6]
    bu["x2"] = bu["v2"] * bu["w"]
    g = bu.groupby(["wk", "gm", "period"]).agg(x2=("x2", "sum"), w=("w", "sum"), n=("code", "size")).reset_index()
    g = g[g["n"] == g["wk"].map(n_buurten)]
    g["v2"] = g["x2"] / g["w"]
    g["v1"] = [wijk.get((w, p), np.nan) for w, p in zip(g["wk"], g["period"])]
    g["g1"] = [gm["v1"].get((c, p), np.nan) for c, p in zip(g["gm"], g["period"])]
    g["g2"] = [gm["v2"].get((c, p), np.nan) for c, p in zip(g["gm"], g["period"])]
    p = g.pivot_table(index=["wk", "gm"], columns="period", values=["v1", "v2", "g1", "g2", "w"]).dropna()
    ch1 = (p[("v1", 2020)] - p[("g1", 2020)]) - (p[("v1", 2012)] - p[("g1", 2012)])
    ch2 = (p[("v2", 2020)] - p[("g2", 2020)]) - (p[("v2", 2012)] - p[("g2", 2012)])
    d = (ch1 - ch2).to_numpy()
    w = p[("w", 2020)].to_numpy()
    pop = np.array([pop24.get(k, np.nan) for k, _ in p.index], dtype="float64")
    big = pop >= 10_000

    def cls(ch):
        return np.where(ch > 1.0, "groter", np.where(ch < -1.0, "kleiner", "gelijk"))

    differ = cls(ch1.to_numpy()) != cls(ch2.to_numpy())
    coef, _ = nnls(np.column_stack([np.ones_like(w), 1.0 / w]), d * d)
    values = pd.concat([p[("v1", 2012)], p[("v1", 2020)]]).to_numpy()
    return dict(n_wijken=int(len(d)), sd_all=float(np.std(d, ddof=1)),
                n_10000=int(big.sum()), sd_10000=float(np.std(d[big], ddof=1)),
                class_differs_all=float(differ.mean()), class_differs_10000=float(differ[big].mean()),
                a=float(np.sqrt(coef[0])), b=float(np.sqrt(coef[1])), p0=float(values.mean() / 100.0))


def se_by_period(rows, ind: Indicator) -> dict[int, float]:
    """``{period: standard error}`` of a unit's shown values (rows of ``area_values`` or
    ``indicator_values`` of one unit and indicator: ``period, value, numerator, denominator,
    status``); periods without a known error are left out."""
    if rows is None or len(rows) == 0:
        return {}
    ok = rows[rows["status"] == "ok"]
    iv = intervals(ind, ok["value"].to_numpy("float64"),
                   ok["numerator"].to_numpy("float64") if "numerator" in ok else None,
                   ok["denominator"].to_numpy("float64") if "denominator" in ok else None,
                   approx=is_approximation(ok["method"]) if "method" in ok else None,
                   **rounding_context(ok))
    return {int(p): float(s) for p, s in zip(ok["period"], iv["se"]) if np.isfinite(s)}


# ---------------------------------------------------------------------------------------
# Calibration of the stand-in weights (weight_fallback) on buurten that publish both
# ---------------------------------------------------------------------------------------

def calibrate_weight_fallback(con, catalogue: Catalogue | None = None, *, min_buurten: int = 2,
                              weight: list[str] | None = None) -> dict:
    """Reproduce ``uncertainty.yaml`` ``weight_fallback`` from a built store.

    For every indicator with a declared stand-in weight: every publication (source and period)
    that gives, per buurt, the indicator's value, its own base or weight and the stand-in
    weight (all shown, both weights above 0). Per wijk (buurt code ``BU gggg ww bb`` -> ``WK
    gggg ww``) with at least ``min_buurten`` such buurten, the value weighted with the own weight
    and with the stand-in; ``d`` = their difference, relative to the own-weighted value for
    means (``gewogen gemiddelde``), in procentpunten for percentages. Returns per indicator
    ``weight``, ``scale``, ``n`` (wijk-years), ``n_wijken`` (distinct wijken), ``sources``,
    ``p95`` (95th percentile of ``|d|``), ``rms``, ``mean`` (bias) and ``max`` of ``|d|``.
    ``weight``: measure another stand-in than the declared one (e.g. ``["a_inw"]``, to compare).
    """
    import pandas as pd

    from .catalogue import load_catalogue

    catalogue = catalogue or load_catalogue()
    out = {}
    for ind in catalogue.values():
        if ind.weight_fallback is None:
            continue
        f = ind.formulas[0]
        value, own = list(f.value), list(f.base or f.weight)
        alt = list(weight) if weight else list(ind.weight_fallback.weight)
        wanted = sorted(set(value + own + alt))
        obs = con.execute(
            "SELECT source_id, period, region_code AS code, variable, value FROM observations "
            "WHERE status = 'ok' AND value IS NOT NULL AND left(region_code, 2) = 'BU' "
            "AND variable IN (SELECT unnest(?))", [wanted]).df()
        wide = obs.pivot_table(index=["source_id", "period", "code"], columns="variable", values="value",
                               aggfunc="first")
        if not set(wanted) <= set(wide.columns):
            continue
        wide = wide.dropna(subset=wanted).reset_index()
        v = wide[value].sum(axis=1)
        w_own, w_alt = wide[own].sum(axis=1), wide[alt].sum(axis=1)
        keep = (w_own > 0) & (w_alt > 0)
        d = pd.DataFrame({"source_id": wide["source_id"], "period": wide["period"],
                          "wk": "WK" + wide["code"].str[2:8], "own_x": v * w_own, "own_w": w_own,
                          "alt_x": v * w_alt, "alt_w": w_alt})[keep]
        g = d.groupby(["source_id", "period", "wk"]).agg(
            n=("own_w", "size"), own_x=("own_x", "sum"), own_w=("own_w", "sum"),
            alt_x=("alt_x", "sum"), alt_w=("alt_w", "sum")).reset_index()
        g = g[g["n"] >= min_buurten]
        own_v, alt_v = g["own_x"] / g["own_w"], g["alt_x"] / g["alt_w"]
        relative = ind.aggregation == "gewogen gemiddelde"
        diff = ((alt_v / own_v - 1.0) if relative else (alt_v - own_v)).to_numpy("float64")
        if not len(diff):
            continue
        out[ind.id] = dict(
            weight=list(alt), scale="relatief" if relative else "procentpunt", n=int(len(diff)),
            n_wijken=int(g["wk"].nunique()), sources=sorted(set(g["source_id"])),
            p95=float(np.quantile(np.abs(diff), 0.95)), rms=float(np.sqrt(np.mean(diff ** 2))),
            mean=float(np.mean(diff)), max=float(np.max(np.abs(diff))))
    return out


# ---------------------------------------------------------------------------------------
# Measurement of the rounding of published counts (count_rounding) on a built store
# ---------------------------------------------------------------------------------------

def measure_count_rounding(con, variables: list[str] | None = None):
    """Per source, variable and level (of the region code): how many shown values there are
    and how many are multiples of 5 and of 10, with the declared rounding unit
    (:func:`rounding_of`; NaN where none is declared). Unrounded counts are multiples of 5 about
    20 % of the time and of 10 about 10 %; a rounded source is 100 %. ``variables``: default the
    variables of every ``count_rounding`` rule and the counts the catalogue adds up."""
    import pandas as pd

    from .catalogue import load_catalogue

    if variables is None:
        wanted = {v for r in count_rounding_rules() for v in r["variables"]}
        for ind in load_catalogue().values():
            if ind.aggregation == "som":
                wanted |= {v for f in ind.formulas for v in (f.value or ())}
        variables = sorted(wanted)
    df = con.execute(
        "SELECT source_id, variable, CASE left(region_code, 2) WHEN 'NL' THEN 'land' WHEN 'GM' THEN 'gemeente' "
        "WHEN 'WK' THEN 'wijk' WHEN 'BU' THEN 'buurt' END AS level, count(*) AS n, "
        "count(*) FILTER (WHERE value % 5 = 0) AS multiple_5, count(*) FILTER (WHERE value % 10 = 0) AS multiple_10 "
        "FROM observations WHERE status = 'ok' AND value IS NOT NULL AND variable IN (SELECT unnest(?)) "
        "AND left(region_code, 2) IN ('NL', 'GM', 'WK', 'BU') GROUP BY ALL ORDER BY variable, source_id, level",
        [variables]).df()
    df["declared_unit"] = [rounding_of([v], s, lv)[0] for v, s, lv in zip(df["variable"], df["source_id"], df["level"])]
    return pd.DataFrame(df)
