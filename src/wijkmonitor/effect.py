"""Comparison areas and the effect question (issue 15, item 3): did an area in a programme
develop differently from similar areas that were in none?

Method (declared in ``effect.yaml``)
-----------------------------------
**Nearest-neighbour matching on standardised baseline values (and, where the data allow, the
pre-baseline trend), then difference-in-differences.** A synthetic control needs a long
pre-period of the outcome to fit its weights; the series that cover every buurt and wijk (RIVM
50090NED) start in the baseline year 2012, so the outcome has no pre-period. Nearest neighbours
need only the baseline and are transparent (the comparison areas are listed by code).

* **Candidates**: CBS regions of the area's own level (wijk or buurt) on the areas' division
  (``geo_year``, 2020), in no programme (no code of any NPLV focusgebied or aandachtswijk), with
  a shown value of the outcome in both years and of every matching variable in the baseline
  year, and at least :data:`MIN_WEIGHT` inhabitants of 25+ (tiny model estimates lean on the
  model, not on their own data).
* **Matching variables**: the outcome itself and the RIVM indicators published for every
  region (:data:`MATCH_ON`), all in the baseline year, each standardised by its standard
  deviation among the candidates. The :data:`K` nearest candidates (Euclidean distance) are
  the comparison areas.
* **Pre-baseline trend** (``pre_trend`` in the YAML): the Leefbaarometer 2.0 class per wijk
  2002-2016 (one model, all years recomputed on the 2016 division) gives the change of the class
  from 2002 to the last year at or before the baseline. Where the area has that change (a wijk
  area that is one CBS wijk whose code exists in both divisions; the class is not additive, so
  an area of several wijken has none) it is one more matching variable and the candidates are
  the wijken with the same change known (2020 code = 2016 code, the CBS code persistence). Where
  it has none, the output says why (``pre_trend_note``); ``matched_on`` lists what was matched.
* **Estimate**: ``(area latest - area baseline) - mean over the comparison areas of (latest -
  baseline)``, in the outcome's unit (oriented as published; the polarity says what is better).
* **Interval** (95 %): the area's own change carries the error of :mod:`wijkmonitor.uncertainty`
  (two independent values); the comparison mean carries ``sd(changes) / sqrt(K)``; added as
  independent.
* **Balance**: per matching variable the standardised mean difference ``(area - mean) / sd``
  (sd among all candidates) before matching (all candidates) and after (the comparison areas).
* **No estimate** (``status`` with ``reason``): the area has no value in a year, fewer than
  ``K + 1`` candidates, or the indicator is not published per region for both years.

Speed: :func:`load` reads the store once (all indicators); :func:`estimate` matches all areas
of a level at once (one distance matrix per level), so every area and indicator of both
programmes takes well under a second after the load (``benchmarks/bench_effect.py``).
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import store, uncertainty
from .catalogue import Catalogue, load_catalogue

SPEC_FILE = Path(__file__).resolve().parent / "effect.yaml"


@functools.lru_cache(maxsize=1)
def load_spec() -> dict:
    """The declared method (``effect.yaml``), checked (Dutch error naming the field)."""
    doc = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    for key in ("k", "min_weight", "geo_year", "match_on", "indicators", "pre_trend"):
        if key not in doc:
            raise ValueError(f"{SPEC_FILE.name}: veld {key!r} ontbreekt")
    for key in ("indicator", "geo_year", "level"):
        if key not in doc["pre_trend"]:
            raise ValueError(f"{SPEC_FILE.name}: veld 'pre_trend.{key}' ontbreekt")
    return doc


_SPEC = load_spec()
#: Number of comparison areas per area.
K: int = int(_SPEC["k"])
#: Candidates need at least this many inhabitants of 25+ (the weight of the estimates).
MIN_WEIGHT: float = float(_SPEC["min_weight"])
#: The division of the areas and the candidate regions.
GEO_YEAR: int = int(_SPEC["geo_year"])
#: Matching variables besides the outcome: RIVM indicators published for every buurt and wijk.
MATCH_ON: tuple[str, ...] = tuple(_SPEC["match_on"])
#: The indicators of the report chapter and the area pages.
INDICATORS: tuple[str, ...] = tuple(_SPEC["indicators"])
#: The pre-baseline trend variable.
PRE_TREND: dict = dict(_SPEC["pre_trend"])
STATUS_OK = "ok"
STATUS_NONE = "geen schatting"
PREFIX = {"wijk": "WK", "buurt": "BU"}
METHOD = (f"naaste-buren-matching (k={K}) op gestandaardiseerde waarden van {{matched}}, onder "
          f"regio's van hetzelfde niveau (indeling {{year}}) in geen enkel programma met minstens "
          f"{int(MIN_WEIGHT)} inwoners van 25+; verschil-in-verschillen; {{pre}}")
#: Plain-language name of the method (report, website).
METHOD_SHORT = "verschil-in-verschillen tegen de 10 meest gelijkende wijken of buurten buiten de programma's"


@dataclass
class _Level:
    """Candidate regions of one level: sorted codes, whether in a programme, and per
    ``(indicator, period)`` the values and weights (NaN where not shown)."""

    codes: np.ndarray
    in_programme: np.ndarray
    values: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)
    pre: dict = field(default_factory=dict)  # pre-trend indicator: period -> values (codes order)


@dataclass
class EffectData:
    """Everything :func:`estimate` needs, read once from the store (:func:`load`)."""

    index: pd.DataFrame
    area: dict  # (area_id, indicator, period) -> dict(value, numerator, denominator)
    levels: dict  # "WK" | "BU" -> _Level
    years: dict  # indicator -> sorted periods published per region on GEO_YEAR
    pre_years: list  # periods of the pre-trend indicator
    catalogue: Catalogue


def load(*, path: Path | None = None, con=None, catalogue: Catalogue | None = None,
         indicators=None, values: pd.DataFrame | None = None, index: pd.DataFrame | None = None) -> EffectData:
    """Read the areas, their shown values and the candidate regions' values of ``indicators``
    (default :data:`INDICATORS`) and the matching variables, once (``values``, ``index``: the
    ``area_values`` and ``area_index`` tables when the caller has read them already)."""
    from .analysis import load_area_index, load_area_values

    catalogue = catalogue or load_catalogue()
    wanted = list(dict.fromkeys(list(indicators or INDICATORS) + list(MATCH_ON)))
    wanted = [i for i in wanted if i in catalogue]
    pre_ind = PRE_TREND["indicator"]
    with (contextlib.nullcontext(con) if con is not None else contextlib.closing(store.connect(path))) as c:
        index = load_area_index(con=c) if index is None else index
        values = load_area_values(con=c) if values is None else values
        regions = c.execute("""
            SELECT region_code, indicator, period, value, denominator FROM indicator_values
            WHERE status = 'ok' AND geo_year = ? AND left(region_code, 2) IN ('WK', 'BU')
              AND indicator IN (SELECT unnest(?))""", [GEO_YEAR, wanted]).fetchnumpy()
        pre = c.execute("""
            SELECT region_code, period, value FROM indicator_values
            WHERE status = 'ok' AND geo_year = ? AND left(region_code, 2) = ? AND indicator = ?""",
                        [int(PRE_TREND["geo_year"]), PREFIX[PRE_TREND["level"]], pre_ind]).df()
    in_programme = {code for codes in index["codes"] for code in str(codes).split(",") if code}
    mine = values[values["unit_id"].isin(set(index["area_id"])) & (values["status"] == "ok")
                  & values["indicator"].isin(set(wanted) | {pre_ind})]
    area = {(u, i, int(p)): dict(value=v, numerator=n, denominator=d)
            for u, i, p, v, n, d in zip(mine["unit_id"], mine["indicator"], mine["period"], mine["value"],
                                        mine["numerator"], mine["denominator"])}
    # codes hashed once (no sort of the ~500,000 row strings): each level's codes sorted, and per
    # (indicator, period) one array in that order
    inv, uniq = pd.factorize(np.asarray(regions["region_code"], dtype=object))
    ind_inv, inds = pd.factorize(np.asarray(regions["indicator"], dtype=object))
    per = np.asarray(regions["period"], dtype="int64")
    val = np.ma.filled(np.ma.asarray(regions["value"], dtype="float64"), np.nan)
    wt = np.ma.filled(np.ma.asarray(regions["denominator"], dtype="float64"), np.nan)
    uniq_pf = np.array([str(u)[:2] for u in uniq], dtype=object)
    row_pf = uniq_pf[inv]
    levels = {}
    years: dict[str, set] = {}
    for pf in ("WK", "BU"):
        mine_u = np.flatnonzero(uniq_pf == pf)
        codes = np.sort(uniq[mine_u].astype(object)) if len(mine_u) else np.array([], dtype=object)
        rank = np.full(len(uniq), -1, dtype="int64")
        rank[mine_u[np.argsort(uniq[mine_u].astype(object), kind="stable")]] = np.arange(len(mine_u))
        n = len(codes)
        lv = _Level(codes=codes, in_programme=np.array([c in in_programme for c in codes], dtype=bool))
        levels[pf] = lv
        at_level = row_pf == pf
        for k, ind_name in enumerate(inds):
            sel_ind = at_level & (ind_inv == k)
            for p in np.unique(per[sel_ind]):
                rows_ = np.flatnonzero(sel_ind & (per == p))
                v, w = np.full(n, np.nan), np.full(n, np.nan)
                v[rank[inv[rows_]]], w[rank[inv[rows_]]] = val[rows_], wt[rows_]
                lv.values[(str(ind_name), int(p))], lv.weights[(str(ind_name), int(p))] = v, w
                years.setdefault(str(ind_name), set()).add(int(p))
        if pf == PREFIX[PRE_TREND["level"]]:
            for p, g in pre.groupby("period"):
                ser = pd.Series(g["value"].to_numpy(dtype="float64"), index=g["region_code"].to_numpy())
                lv.pre[int(p)] = ser.reindex(codes).to_numpy(dtype="float64")
    years = {i: sorted(ps) for i, ps in years.items()}
    return EffectData(index=index, area=area, levels=levels, years=years,
                      pre_years=sorted(int(p) for p in pre["period"].unique()), catalogue=catalogue)


def nearest_years(data: EffectData, indicator: str, baseline: int, latest: int) -> tuple[int, int] | None:
    """The years published per region nearest to ``baseline`` (ties: the earlier) and
    ``latest`` (ties: the later); None when the indicator has fewer than two such years."""
    ys = data.years.get(indicator, [])
    if len(ys) < 2:
        return None
    b = min(ys, key=lambda y: (abs(y - baseline), y))
    l = min(ys, key=lambda y: (abs(y - latest), -y))
    return (b, l) if b < l else None


def _pre_years(data: EffectData, baseline: int) -> tuple[int, int] | None:
    ys = [y for y in data.pre_years if y <= baseline]
    return (ys[0], ys[-1]) if len(ys) >= 2 else None


def _label(catalogue, var: str) -> str:
    return catalogue[var].name.lower() if var in catalogue else var


def estimate(data: EffectData, areas, indicator: str, baseline: int, latest: int) -> list[dict]:
    """The effect estimate of every selected area (see the module docstring).

    Parameters
    ----------
    areas : ``nplv``, ``aandachtswijken``, an area id or name, a list of ids, or None (all)

    Returns
    -------
    One dict per area: ``area, area_name, indicator, baseline_year, latest_year, estimate,
    lower, upper, method, matched_on, pre_trend, pre_trend_note, comparison_areas (codes),
    n_comparison, status, reason, area_change, comparison_change, balance`` (list of
    ``variable, smd_before, smd_after``).
    """
    from .analysis import select_areas

    cat = data.catalogue
    if indicator not in cat:
        raise KeyError(f"onbekende indicator {indicator!r}; zie 'wijkmonitor indicators'")
    ind = cat[indicator]
    baseline, latest = int(baseline), int(latest)
    sel = select_areas(data.index, areas)
    variables = [indicator] + [v for v in MATCH_ON if v != indicator and v in cat]
    pre_ind, pre_span = PRE_TREND["indicator"], _pre_years(data, baseline)
    pre_name = f"{_label(cat, pre_ind)} {pre_span[0]}→{pre_span[1]}" if pre_span else None

    rows, groups = [], {}
    for a in sel.itertuples(index=False):
        row = dict(area=a.area_id, area_name=a.name, indicator=indicator, baseline_year=baseline,
                   latest_year=latest, estimate=None, lower=None, upper=None, method="",
                   matched_on=[], pre_trend=None, pre_trend_note="", comparison_areas=[], n_comparison=0,
                   status=STATUS_NONE, reason="", area_change=None, comparison_change=None, balance=[])
        rows.append(row)
        pf = PREFIX.get(a.level, "BU")
        # the pre-baseline trend of this area, or why there is none
        pre_val = None
        if pre_span is None:
            row["pre_trend_note"] = (f"geen pre-periode: de {_label(cat, pre_ind)} heeft geen twee jaren "
                                     f"tot en met {baseline}")
        elif a.level != PRE_TREND["level"]:
            row["pre_trend_note"] = (f"geen pre-periode: de {_label(cat, pre_ind)} {pre_span[0]}–{pre_span[1]} "
                                     f"is er alleen per {PRE_TREND['level']}, dit gebied bestaat uit {a.level}en")
        else:
            p0 = data.area.get((a.area_id, pre_ind, pre_span[0]))
            p1 = data.area.get((a.area_id, pre_ind, pre_span[1]))
            if p0 is None or p1 is None:
                row["pre_trend_note"] = (f"geen pre-periode: het gebied heeft geen {_label(cat, pre_ind)} in "
                                         f"{pre_span[0]} en {pre_span[1]} (de klasse is niet optelbaar, dus "
                                         f"alleen een gebied van één wijk met dezelfde code in de indeling "
                                         f"{PRE_TREND['geo_year']} heeft er een)")
            else:
                pre_val = float(p1["value"]) - float(p0["value"])
                row["pre_trend"] = pre_name
                row["pre_trend_note"] = (f"gematcht op de ontwikkeling vóór het basisjaar: {pre_name} "
                                         f"(het gebied: {float(p0['value']):g} in {pre_span[0]}, "
                                         f"{float(p1['value']):g} in {pre_span[1]}; vergeleken met wijken van de "
                                         f"indeling {PRE_TREND['geo_year']} met dezelfde code in {GEO_YEAR})")
        matched = variables + ([f"{pre_ind}:{pre_span[0]}-{pre_span[1]}"] if pre_val is not None else [])
        row["matched_on"] = matched
        words = [_label(cat, indicator) + " (de uitkomst)"] + [_label(cat, v) for v in variables[1:]]
        row["method"] = METHOD.format(
            matched=", ".join(f"{w} in {baseline}" for w in words) + (f" en {pre_name}" if pre_val is not None else ""),
            year=int(a.reference_year),
            pre=("op trend gematcht met " + pre_name) if pre_val is not None else row["pre_trend_note"])
        ab, al = data.area.get((a.area_id, indicator, baseline)), data.area.get((a.area_id, indicator, latest))
        if ab is None or al is None:
            row["reason"] = f"het gebied heeft geen getoond cijfer in {baseline if ab is None else latest}"
            continue
        groups.setdefault((pf, pre_val is not None), []).append((row, a, ab, al, pre_val))

    for (pf, use_pre), members in groups.items():
        lv = data.levels.get(pf)
        need = [(indicator, baseline), (indicator, latest)] + [(v, baseline) for v in variables[1:]]
        if lv is None or any(k not in lv.values for k in need):
            for row, *_ in members:
                row["reason"] = "de indicator of een matchvariabele is niet per regio gepubliceerd in beide jaren"
            continue
        cols = [lv.values[(v, baseline)] for v in variables]
        if use_pre:
            cols.append(lv.pre[pre_span[1]] - lv.pre[pre_span[0]])
        X_all = np.column_stack(cols)
        yb, yl = lv.values[(indicator, baseline)], lv.values[(indicator, latest)]
        weight = lv.weights[(indicator, baseline)]
        with np.errstate(invalid="ignore"):
            ok = (~lv.in_programme & np.isfinite(X_all).all(axis=1) & np.isfinite(yl)
                  & (np.nan_to_num(weight, nan=0.0) >= MIN_WEIGHT))
        n_cand = int(ok.sum())
        if n_cand < K + 1:
            for row, *_ in members:
                row["reason"] = f"te weinig vergelijkingsgebieden ({n_cand}; nodig: meer dan {K})"
            continue
        X, codes, changes_all = X_all[ok], lv.codes[ok], (yl - yb)[ok]
        sd = X.std(axis=0, ddof=1)
        sd[sd == 0] = 1.0
        mean_all = X.mean(axis=0)
        ready = []
        for row, a, ab, al, pre_val in members:
            xs = []
            for v in variables:
                r = data.area.get((a.area_id, v, baseline))
                if r is None:
                    row["reason"] = f"het gebied heeft geen cijfer voor matchvariabele {_label(cat, v)} in {baseline}"
                    break
                xs.append(float(r["value"]))
            else:
                if use_pre:
                    xs.append(pre_val)
                ready.append((row, ab, al, np.array(xs)))
        if not ready:
            continue
        A = np.vstack([r[3] for r in ready])
        dist = ((((A[:, None, :] - X[None, :, :]) / sd) ** 2).sum(axis=2))
        nearest = np.argsort(dist, axis=1, kind="stable")[:, :K]
        comp = changes_all[nearest]  # areas x K
        comp_mean = comp.mean(axis=1)
        se_comp = comp.std(axis=1, ddof=1) / np.sqrt(K)
        vb = np.array([float(r[1]["value"]) for r in ready])
        vl = np.array([float(r[2]["value"]) for r in ready])
        f = lambda recs, key: np.array([np.nan if r.get(key) is None else float(r[key]) for r in recs])
        se_b = uncertainty.intervals(ind, vb, f([r[1] for r in ready], "numerator"),
                                     f([r[1] for r in ready], "denominator"))["se"]
        se_l = uncertainty.intervals(ind, vl, f([r[2] for r in ready], "numerator"),
                                     f([r[2] for r in ready], "denominator"))["se"]
        se_area_sq = np.nan_to_num(se_b ** 2) + np.nan_to_num(se_l ** 2)
        se = np.sqrt(se_area_sq + se_comp ** 2)
        area_change = vl - vb
        est = area_change - comp_mean
        matched_mean = X[nearest].mean(axis=1)  # areas x variables
        for j, (row, _ab, _al, xa) in enumerate(ready):
            row.update(estimate=float(est[j]), lower=float(est[j] - uncertainty.Z * se[j]),
                       upper=float(est[j] + uncertainty.Z * se[j]),
                       comparison_areas=[str(c) for c in codes[nearest[j]]], n_comparison=K,
                       status=STATUS_OK, area_change=float(area_change[j]),
                       comparison_change=float(comp_mean[j]))
            row["balance"] = [dict(variable=v, smd_before=float((xa[m] - mean_all[m]) / sd[m]),
                                   smd_after=float((xa[m] - matched_mean[j, m]) / sd[m]))
                              for m, v in enumerate(row["matched_on"])]
            if np.isnan(se_b[j]) and np.isnan(se_l[j]):
                row["reason"] = "interval zonder de onzekerheid van het gebied zelf (geen interval bekend)"
    return rows


def effects(areas, indicator: str, baseline: int, latest: int, *, path: Path | None = None,
            catalogue: Catalogue | None = None, con=None) -> list[dict]:
    """:func:`estimate` for one indicator, reading the store first (see :func:`load`)."""
    catalogue = catalogue or load_catalogue()
    if indicator not in catalogue:
        raise KeyError(f"onbekende indicator {indicator!r}; zie 'wijkmonitor indicators'")
    data = load(path=path, con=con, catalogue=catalogue, indicators=[indicator])
    return estimate(data, areas, indicator, baseline, latest)


def effects_all(data: EffectData, areas, baseline: int, latest: int, indicators=None) -> list[dict]:
    """Every indicator of ``indicators`` (default :data:`INDICATORS`) for the selected areas,
    each in the years nearest to ``baseline`` and ``latest`` in which it is published per region
    (:func:`nearest_years`); an indicator with fewer than two such years gives rows without an
    estimate that say so."""
    from .analysis import select_areas

    out = []
    for ind in indicators or INDICATORS:
        if ind not in data.catalogue:
            continue
        span = nearest_years(data, ind, baseline, latest)
        if span is None:
            for a in select_areas(data.index, areas).itertuples(index=False):
                out.append(dict(area=a.area_id, area_name=a.name, indicator=ind, baseline_year=None,
                                latest_year=None, estimate=None, lower=None, upper=None, method="",
                                matched_on=[], pre_trend=None, pre_trend_note="", comparison_areas=[],
                                n_comparison=0, status=STATUS_NONE,
                                reason="de indicator is niet in twee jaren per wijk en buurt gepubliceerd",
                                area_change=None, comparison_change=None, balance=[]))
            continue
        out.extend(estimate(data, areas, ind, *span))
    return out


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """One row per area (comparison areas and matching variables joined by commas; the balance
    left out)."""
    return pd.DataFrame([{k: (",".join(v) if k in ("comparison_areas", "matched_on") else v)
                          for k, v in r.items() if k != "balance"} for r in rows])


#: The plain-language caveat shown with every estimate (report and website).
CAVEAT = ("Dit is een vergelijking, geen causaal bewijs op zichzelf: de vergelijkingsgebieden lijken "
          "in het basisjaar op het gebied, maar kunnen op andere punten verschillen, en de cijfers zijn "
          "modelschattingen van het RIVM.")


def direction(row: dict) -> str | None:
    """``hoger`` / ``lager`` when the 95 % interval of the estimate lies wholly above / below 0,
    ``onduidelijk`` when it contains 0, None without an estimate."""
    if row.get("status") != STATUS_OK or row.get("lower") is None:
        return None
    if row["lower"] > 0:
        return "hoger"
    if row["upper"] < 0:
        return "lager"
    return "onduidelijk"


def reading(row: dict, ind) -> str:
    """One plain Dutch sentence on an estimate: whether the area developed more favourably
    than its comparison areas (by the indicator's polarity), less favourably, or no clear
    difference; or why there is no estimate."""
    d = direction(row)
    if d is None:
        return f"Geen schatting: {row.get('reason') or 'onbekende reden'}."
    if d == "onduidelijk":
        return "Geen duidelijk verschil met de vergelijkingsgebieden (het interval bevat 0)."
    hib = ind.higher_is_better
    if hib is None:
        return ("De waarde steeg meer (of daalde minder) dan in de vergelijkingsgebieden." if d == "hoger"
                else "De waarde steeg minder (of daalde meer) dan in de vergelijkingsgebieden.")
    better = (d == "hoger") == bool(hib)
    return ("Gunstiger ontwikkeld dan de vergelijkingsgebieden." if better
            else "Ongunstiger ontwikkeld dan de vergelijkingsgebieden.")


def outcome(r: dict, ind) -> str:
    """The short outcome of one estimate for a table cell (``gunstiger``, ``ongunstiger``,
    ``geen duidelijk verschil``, ``hoger``/``lager`` for neutral indicators) or ``geen schatting:``
    with the reason."""
    d = direction(r)
    if d is None:
        return f"geen schatting: {r.get('reason') or 'onbekende reden'}"
    if d == "onduidelijk":
        return "geen duidelijk verschil"
    hib = ind.higher_is_better
    if hib is None:
        return d
    return "gunstiger" if (d == "hoger") == bool(hib) else "ongunstiger"


def method_text(n_areas_word: str = "wijken of buurten") -> list[str]:
    """The method in plain Dutch (paragraphs), with its name and its limits."""
    return [
        f"Werd een gebied in het programma beter of slechter dan vergelijkbare {n_areas_word} die in "
        f"geen enkel programma zaten? Daarvoor zoekt de monitor bij elk gebied de {K} wijken of "
        f"buurten (zelfde niveau, indeling {GEO_YEAR}, buiten de NPLV-focusgebieden en de "
        f"aandachtswijken, met minstens {int(MIN_WEIGHT)} inwoners van 25 jaar of ouder) die er "
        f"in het basisjaar het meest op leken: op de indicator zelf en op ervaren gezondheid, moeite met "
        f"rondkomen, eenzaamheid, roken en overgewicht. De methode heet naaste-buren-matching.",
        "Daarna vergelijkt de monitor de verandering: de verandering in het gebied min de gemiddelde "
        "verandering in de vergelijkingsgebieden (verschil-in-verschillen). Een positief getal betekent "
        "dat de waarde in het gebied meer steeg of minder daalde dan in de vergelijkingsgebieden. Het "
        "95%-interval houdt rekening met de onzekerheid van de modelschattingen van het gebied en met "
        "de spreiding binnen de vergelijkingsgebieden.",
        "Waar de gegevens het toelaten, telt ook de ontwikkeling vóór het basisjaar mee: de verandering "
        "van de Leefbaarometer-klasse van 2002 tot het basisjaar. Die bestaat alleen per wijk (indeling "
        "2016) en is niet optelbaar; alleen een gebied dat precies één wijk is met dezelfde code in 2016 "
        "en 2020 heeft haar. Bij de andere gebieden staat waarom er geen ontwikkeling vóór het basisjaar "
        "is meegenomen.",
        CAVEAT + " Gebruik de uitkomst als aanwijzing om verder te kijken, niet als oordeel over "
        "het beleid.",
    ]
