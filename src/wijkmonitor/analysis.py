"""The gap to the reference ("afstand tot het stedelijk gemiddelde") and how it changed.

For every area, indicator and year the area's value is compared with a reference: its own
gemeente (the *stedelijk gemiddelde*, default), the rest of its gemeente, a group of cities
(G4, G14, G18, G40, NPLV19) or NL. Between a baseline and a latest year the change of the gap
is classified. Everything here reads the ``area_values`` table the build wrote; nothing is
recomputed from observations.

Years
-----
Per indicator the baseline and latest years are the available years nearest to those asked
(ties: the earlier baseline, the later latest); a year is available when at least half of the
selected areas have a shown value in it. Where fewer than two years are available, the pair of
years the most areas have values for in both is taken (:func:`choose_years`).

Orientation
-----------
``gap = value - reference`` (in the indicator's unit; ``ratio = value / reference``). The
*achterstand* (shortfall) is the gap oriented by polarity: ``max(0, reference - value)`` when
higher is better, ``max(0, value - reference)`` when higher is worse. For neutral indicators
the absolute gap is used and "beter dan referentie" does not apply.

Classification rule (also written next to every result, in Dutch)
------------------------------------------------------------------
1. **te weinig waarnemingen**: the area's or the reference's value is missing (not shown) in
   the baseline or the latest year, or the nearest available baseline and latest years are the
   same year (nothing to compare).
2. **beter dan referentie**: the area scores as well as or better than the reference in the
   latest year (shortfall 0; polar indicators only).
3. Otherwise ``change = |gap latest| - |gap baseline|`` (for polar indicators: shortfall latest
   minus shortfall baseline): **gelijk** when ``|change| <= tolerance``, **kleiner** when the
   gap shrank by more than the tolerance, **groter** when it grew by more.

The tolerance is the indicator's declared ``tolerance`` (in its unit) or else the global rule
:func:`default_tolerance`: 1 procentpunt for percentages, otherwise 2 % of the reference value
in the baseline year.

Rules: ``standaard`` (default, issue 15) and ``omw``
----------------------------------------------------
Step 3 above is the historical fixed-tolerance rule of the Outcomemonitor Wijkenaanpak, kept as
``rule="omw"``. The default rule ``standaard`` respects the uncertainty of the four values
(:mod:`wijkmonitor.uncertainty`; their errors taken as independent) through the 95 % interval
``[change_lower, change_upper]`` of the change:

* **kleiner** / **groter** only when ``|change| > tolerance`` AND the interval excludes zero
  (lies wholly below or wholly above 0; touching 0 does not exclude it);
* **gelijk** when the whole interval lies within ``[-tolerance, +tolerance]``;
* otherwise **onzeker** ("niet te zeggen").

Where no interval is known for the indicator (scores, classes) the default rule cannot judge
the uncertainty and says so: it then classifies by the tolerance alone, as ``omw``, and the
row's ``interval_method`` is ``geen``.

Breaks in a series (issue 17.6)
-------------------------------
Where the figures of the area or of its reference come from another *publication series*
(``comparability.yaml``: e.g. RIVM 50090NED up to 2020, the Gezondheidsmonitor 50150NED after)
between the baseline and the latest year, and the two series are not declared comparable for
the indicator, no class is computed: the class is **bron veranderd** and ``class_reason``
names both series (:func:`wijkmonitor.comparability.gap_break`, the rule every output uses).
Classes that judge nothing ("te weinig waarnemingen") stay as they are.

One publication per comparison
------------------------------
Each value carries its ``publication`` (publisher table and division, from ``area_values``).
With the gemeente or the rest of the gemeente as reference, a year in which the area's value
and the reference come from different publications has no reference value:
``reference_status_*`` is ``niet vergelijkbaar`` and the class is "te weinig waarnemingen".
Different means another division (geography) or, for model estimates, another table (model
run); see :func:`same_publication`. Groups and NL are harmonised or national series and name
their publication in the same fields.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from . import store
from .catalogue import Catalogue, Indicator, load_catalogue
from .nlformat import nl_number

CLASSES = ("kleiner", "groter", "gelijk", "onzeker", "beter dan referentie", "te weinig waarnemingen",
           "bron veranderd")
#: Dutch labels of the classes where the bare word needs help.
CLASS_LABELS = {"onzeker": "niet te zeggen"}
#: The classification rules: the default respects the uncertainty; ``omw`` is the historical
#: fixed-tolerance rule of the Outcomemonitor Wijkenaanpak.
RULES = ("standaard", "omw")
REFERENCES = ("gemeente", "rest", "G4", "G14", "G18", "G40", "NPLV19", "NL")
REFERENCE_NAMES = {
    "gemeente": "stedelijk gemiddelde (eigen gemeente)",
    "rest": "rest van de gemeente",
    "G4": "G4", "G14": "G14", "G18": "G18", "G40": "G40", "NPLV19": "de 19 NPLV-gemeenten",
    "NL": "Nederland",
}
#: The break clause of every rule text (issue 17.6; :mod:`wijkmonitor.comparability`).
BREAK_RULE = ("; bron veranderd (geen oordeel) als de cijfers van het gebied of de referentie tussen "
              "basisjaar en laatste jaar uit een andere publicatiereeks komen die niet als vergelijkbaar "
              "is vastgelegd")
#: Relative tolerance of the global rule (share of the reference's baseline value).
RELATIVE_TOLERANCE = 0.02
#: Absolute tolerance of the global rule for percentages, in procentpunten.
PERCENT_TOLERANCE = 1.0


def comparable(ind: Indicator) -> bool:
    """Whether an area can be compared with its reference on this indicator.

    Counts (aggregation ``som``: inwoners, woningvoorraad, misdrijven) measure the size of an
    area, not its position: an area always has fewer inwoners than its gemeente. They have no
    gap and are left out of the classification and the Outcomemonitor table.
    """
    return ind.aggregation != "som"


#: Classes that say something about the development of the gap.
MEASURED_CLASSES = ("kleiner", "groter", "gelijk", "onzeker", "beter dan referentie")


def general_rule_text(reference: str = "gemeente", rule: str = "omw") -> str:
    """The classification rule in one Dutch sentence, without indicator-specific numbers."""
    ref = REFERENCE_NAMES.get(reference, reference)
    if rule == "standaard":
        return (f"Per indicator en gebied: de achterstand op {ref} in het basisjaar en in het laatste jaar "
                f"(per indicator de dichtstbijzijnde jaren waarin minstens de helft van de gebieden een cijfer "
                f"heeft; zijn dat er minder dan twee, dan het jaarpaar waarin de meeste gebieden beide cijfers "
                f"hebben), met het 95%-interval van de verandering (modelschattingen: een gekalibreerde "
                f"benadering; percentages uit aantallen: Wilson; cijfers per 1 000: Poisson; afgeronde cijfers: "
                f"de afronding). Beter dan referentie: het gebied scoort in het laatste jaar gelijk aan of beter "
                f"dan de referentie. Kleiner/groter: de achterstand veranderde meer dan de tolerantie "
                f"(gedeclareerd bij de indicator, anders {nl_number(PERCENT_TOLERANCE, 0)} procentpunt bij "
                f"percentages en {nl_number(RELATIVE_TOLERANCE * 100, 0)}% van de referentiewaarde in het "
                f"basisjaar) én het interval sluit 0 uit. Gelijk: het hele interval ligt binnen plus of min de "
                f"tolerantie. Niet te zeggen (onzeker): geen van beide. Te weinig waarnemingen: een van de vier "
                f"cijfers ontbreekt of komt uit een andere publicatie dan het gebied, of basisjaar en laatste "
                f"jaar vallen samen. Bron veranderd: de cijfers van het gebied of de referentie komen tussen "
                f"basisjaar en laatste jaar uit een andere publicatiereeks die niet als vergelijkbaar is "
                f"vastgelegd; dan geen oordeel. De vaste-tolerantieregel van de Outcomemonitor: --rule omw.")
    return (f"Per indicator en gebied: de achterstand op {ref} in het basisjaar en in het laatste jaar "
            f"(per indicator de dichtstbijzijnde jaren waarin minstens de helft van de gebieden een cijfer "
            f"heeft; zijn dat er minder dan twee, dan het jaarpaar waarin de meeste gebieden beide cijfers "
            f"hebben). Beter dan referentie: het gebied scoort in het laatste jaar gelijk aan of beter dan de "
            f"referentie. Gelijk: de achterstand veranderde met hoogstens de tolerantie (gedeclareerd bij de "
            f"indicator, anders {nl_number(PERCENT_TOLERANCE, 0)} procentpunt bij percentages en "
            f"{nl_number(RELATIVE_TOLERANCE * 100, 0)}% van de referentiewaarde in het basisjaar bij andere "
            f"eenheden). Kleiner/groter: de achterstand nam meer dan de tolerantie af/toe. Te weinig "
            f"waarnemingen: een van de vier cijfers ontbreekt (niet gepubliceerd, geheim of te kleine basis) "
            f"of basisjaar en laatste jaar vallen samen. Bron veranderd: de cijfers van het gebied of de "
            f"referentie komen tussen basisjaar en laatste jaar uit een andere publicatiereeks die niet als "
            f"vergelijkbaar is vastgelegd; dan geen oordeel.")


def default_tolerance(ind: Indicator, reference_baseline: float | None) -> float:
    """The global rule for "gelijk" when an indicator declares no tolerance."""
    if ind.tolerance is not None:
        return float(ind.tolerance)
    if ind.unit.strip() == "%":
        return PERCENT_TOLERANCE
    if reference_baseline is None or not np.isfinite(reference_baseline):
        return np.nan
    return abs(reference_baseline) * RELATIVE_TOLERANCE


def rule_text(ind: Indicator, tolerance: float, baseline: int | None, latest: int | None,
              reference: str, rule: str = "omw") -> str:
    """The classification rule in words, with the numbers used."""
    if rule == "standaard":
        return _standard_rule_text(ind, tolerance, baseline, latest, reference)
    ref = REFERENCE_NAMES.get(reference, reference)
    tol, span, at = _rule_words(ind, tolerance, baseline, latest)
    origin = ("gedeclareerd bij de indicator" if ind.tolerance is not None else
              "algemene regel: 1 procentpunt bij percentages, anders 2% van de referentiewaarde in het basisjaar")
    if ind.higher_is_better is None:
        core = (f"afstand = |waarde − {ref}|; gelijk als de afstand {span} met hoogstens "
                f"{tol} veranderde ({origin}), anders kleiner of groter")
    else:
        direction = "hoger is beter" if ind.higher_is_better else "lager is beter"
        core = (f"achterstand op {ref} ({direction}); beter dan referentie als het gebied {at} gelijk aan "
                f"of beter dan de referentie scoort; anders gelijk als de achterstand {span} "
                f"met hoogstens {tol} veranderde ({origin}), anders kleiner of groter")
    return core + ("; te weinig waarnemingen als een van de vier cijfers ontbreekt of als basisjaar en "
                   "laatste jaar samenvallen (geen ontwikkeling te meten)" + BREAK_RULE)


def _rule_words(ind: Indicator, tolerance, baseline, latest) -> tuple[str, str, str]:
    """The tolerance with its unit, the span of years and the latest year, in words for a rule
    text; a missing year or tolerance is said in words, never as "?" (issue 17.4)."""
    unit = "procentpunt" if ind.unit.strip() == "%" else ind.unit
    if tolerance is None or not np.isfinite(tolerance):
        tol = "de tolerantie (hier niet te bepalen: de referentiewaarde in het basisjaar ontbreekt)"
    else:
        tol = f"{nl_number(tolerance, max(ind.decimals, 1))} {unit}"
    if baseline and latest:
        return tol, f"tussen {baseline} en {latest}", f"in {latest}"
    return tol, "tussen het basisjaar en het laatste jaar", "in het laatste jaar"


def _standard_rule_text(ind: Indicator, tolerance: float, baseline, latest, reference: str) -> str:
    from .uncertainty import METHOD_LABELS, method_of

    ref = REFERENCE_NAMES.get(reference, reference)
    tol, span, at = _rule_words(ind, tolerance, baseline, latest)
    what = ("afstand = |waarde − " + ref + "|" if ind.higher_is_better is None else
            f"achterstand op {ref} ({'hoger is beter' if ind.higher_is_better else 'lager is beter'}); "
            f"beter dan referentie als het gebied {at} gelijk aan of beter dan de referentie scoort")
    method = method_of(ind)
    if method == "geen":
        judged = (f"voor deze indicator is geen onzekerheid bekend: gelijk als de verandering {span} "
                  f"hoogstens {tol} is, anders kleiner of groter (alleen de tolerantie)")
    else:
        judged = (f"95%-interval van de verandering {span} ({METHOD_LABELS[method]}; de fouten van "
                  f"gebied en referentie als onafhankelijk opgeteld): kleiner of groter alleen als de "
                  f"verandering meer dan {tol} is én het interval 0 uitsluit; gelijk als het hele "
                  f"interval binnen ±{tol} ligt; anders niet te zeggen (onzeker)")
    return (f"{what}; {judged}; te weinig waarnemingen als een van de vier cijfers ontbreekt, uit een andere "
            f"publicatie komt dan het gebied, of als basisjaar en laatste jaar samenvallen" + BREAK_RULE)


def classify_uncertain(change, change_lower, change_upper, tolerance) -> np.ndarray:
    """The default rule on the change of the achterstand and its 95 % interval (vectorised).

    ``kleiner``/``groter`` when ``|change| > tolerance`` and the interval excludes 0 (strictly);
    ``gelijk`` when ``-tolerance <= lower`` and ``upper <= tolerance``; otherwise ``onzeker``.
    Where the interval is unknown (NaN) the tolerance alone decides (as ``omw``). Values are
    rounded to 9 decimals first, so that a change exactly at a boundary is judged as written.
    """
    c = np.round(np.asarray(change, dtype="float64"), 9)
    lo = np.round(np.asarray(change_lower, dtype="float64"), 9)
    hi = np.round(np.asarray(change_upper, dtype="float64"), 9)
    tol = np.round(np.broadcast_to(np.asarray(tolerance, dtype="float64"), c.shape), 9)
    known = np.isfinite(lo) & np.isfinite(hi)
    out = np.full(c.shape, "onzeker", dtype=object)
    within = known & (lo >= -tol) & (hi <= tol)
    out[within] = "gelijk"
    big = np.abs(c) > tol
    out[known & big & (hi < 0)] = "kleiner"
    out[known & big & (lo > 0)] = "groter"
    # no interval known: the tolerance alone
    out[~known & (np.abs(c) <= tol)] = "gelijk"
    out[~known & (c < 0) & big] = "kleiner"
    out[~known & (c > 0) & big] = "groter"
    return out


def classify(value_b, value_l, ref_b, ref_l, *, higher_is_better: bool | None,
             tolerance, same_year=None, change_se=None) -> np.ndarray:
    """Vectorised classification of the change of the gap (see the module docstring).

    ``same_year``: True where baseline and latest are the same year (no development to
    measure: "te weinig waarnemingen"). ``change_se``: the standard error of the change of the
    achterstand; given, the default rule (:func:`classify_uncertain`) replaces step 3 (the
    ``omw`` rule); NaN entries are judged by the tolerance alone.
    """
    vb, vl, rb, rl = (np.asarray(x, dtype="float64") for x in (value_b, value_l, ref_b, ref_l))
    tol = np.broadcast_to(np.asarray(tolerance, dtype="float64"), vb.shape)
    missing = ~(np.isfinite(vb) & np.isfinite(vl) & np.isfinite(rb) & np.isfinite(rl) & np.isfinite(tol))
    if same_year is not None:
        missing |= np.broadcast_to(np.asarray(same_year, dtype=bool), vb.shape)
    if higher_is_better is None:
        d_b, d_l = np.abs(vb - rb), np.abs(vl - rl)
        better = np.zeros(vb.shape, dtype=bool)
    else:
        sign = 1.0 if higher_is_better else -1.0
        d_b = np.maximum(0.0, sign * (rb - vb))
        d_l = np.maximum(0.0, sign * (rl - vl))
        better = d_l <= 0.0
    change = d_l - d_b
    # round away float noise so that a change exactly at the tolerance counts as "gelijk"
    change = np.round(change, 9)
    if change_se is None:
        out = np.where(change < 0, "kleiner", "groter").astype(object)
        out[np.abs(change) <= np.round(tol, 9)] = "gelijk"
    else:
        from .uncertainty import Z
        se = np.broadcast_to(np.asarray(change_se, dtype="float64"), vb.shape)
        out = classify_uncertain(change, change - Z * se, change + Z * se, tol)
    out[better] = "beter dan referentie"
    out[missing] = "te weinig waarnemingen"
    return out


#: A year counts as available for an indicator when at least this share of the selected areas
#: has a shown value in it (so that one city's extra year does not become everyone's latest).
AVAILABLE_SHARE = 0.5


def available_years(ok_values: pd.DataFrame, n_areas: int) -> list[int]:
    """Years in which at least :data:`AVAILABLE_SHARE` of the areas have a shown value
    (if no year reaches that, every year with any shown value)."""
    counts = ok_values.groupby("period")["unit_id"].nunique()
    enough = counts[counts >= max(1, AVAILABLE_SHARE * n_areas)]
    return [int(y) for y in (enough.index if len(enough) else counts.index)]


def choose_years(area_years: dict[str, set[int]], n_areas: int, baseline: int, latest: int
                 ) -> tuple[int | None, int | None]:
    """The baseline and latest year of one indicator for a set of areas.

    1. The years in which at least :data:`AVAILABLE_SHARE` of the ``n_areas`` areas have a shown
       value are *available*; when at least two are, the available years nearest to those asked
       are taken (ties: the earlier baseline, the later latest).
    2. Otherwise (the sources cover only part of the areas, or only one year) the pair of years
       ``b < l`` that the most areas have a value for in both is taken, nearest to the asked
       years on a tie; the development is then measured for those areas only.
    3. When no area has two years, the nearest years with any value (usually giving
       "te weinig waarnemingen").

    ``area_years`` maps each area to the years in which it has a shown value.
    """
    counts: dict[int, int] = {}
    for ys in area_years.values():
        for y in ys:
            counts[y] = counts.get(y, 0) + 1
    need = max(1, AVAILABLE_SHARE * n_areas)
    avail = [y for y, n in counts.items() if n >= need]
    if len(avail) >= 2:
        return nearest_year(avail, baseline, prefer="earlier"), nearest_year(avail, latest, prefer="later")
    best, best_key = None, None
    years = sorted(counts)
    for i, b in enumerate(years):
        for l in years[i + 1:]:
            n = sum(1 for ys in area_years.values() if b in ys and l in ys)
            if n == 0:
                continue
            key = (-n, abs(b - baseline) + abs(l - latest), b, -l)
            if best_key is None or key < best_key:
                best, best_key = (b, l), key
    if best is not None:
        return best
    return nearest_year(years, baseline, prefer="earlier"), nearest_year(years, latest, prefer="later")


def nearest_year(available: Iterable[int], asked: int, *, prefer: str) -> int | None:
    """The available year nearest to ``asked``; ties go ``prefer='later'`` or ``'earlier'``."""
    years = sorted(set(int(y) for y in available))
    if not years:
        return None
    key = (lambda y: (abs(y - asked), -y)) if prefer == "later" else (lambda y: (abs(y - asked), y))
    return min(years, key=key)


# ---------------------------------------------------------------------------------------
# Reading the built tables
# ---------------------------------------------------------------------------------------

def load_area_values(path: Path | None = None, con=None) -> pd.DataFrame:
    """The ``area_values`` table of the store."""
    sql = "SELECT * FROM area_values"
    if con is not None:
        return con.execute(sql).df()
    return store.query_df(sql, path=path)


def load_area_index(path: Path | None = None, con=None) -> pd.DataFrame:
    """The ``area_index`` table: per area its name, programme, gemeente and reference units."""
    sql = "SELECT * FROM area_index"
    if con is not None:
        return con.execute(sql).df()
    return store.query_df(sql, path=path)


def gaps(*, areas: Sequence[str] | str | None = None, indicators: Sequence[str] | None = None,
         baseline: int, latest: int, reference: str = "gemeente", path: Path | None = None,
         values: pd.DataFrame | None = None, index: pd.DataFrame | None = None,
         catalogue: Catalogue | None = None, rule: str = "standaard",
         sources: pd.DataFrame | None = None) -> pd.DataFrame:
    """Gap and classification per area and indicator between ``baseline`` and ``latest``.

    Parameters
    ----------
    areas : area ids, a programme name (``nplv``, ``aandachtswijken``), or None for all areas
    reference : one of :data:`REFERENCES`
    rule : one of :data:`RULES` (``standaard``: with the uncertainty; ``omw``: fixed tolerance)
    values, index : pre-loaded ``area_values`` / ``area_index`` (to avoid re-reading the store)
    sources : the store's ``sources`` table (``source_id, table_id, title``), which gives the
        publication series of each figure (:mod:`wijkmonitor.comparability`); read from the
        store with ``values``. Passed ``values`` without ``sources``: the series are unknown
        and no break is judged (hand-made frames).

    Returns one row per area and indicator with the columns of the public JSON output:
    ``area, indicator, baseline_year, latest_year, value_baseline, value_latest,
    reference_baseline, reference_latest, gap_baseline, gap_latest, class, rule`` and more:
    per value ``lower_*``/``upper_*`` (95 %), ``change`` (of the achterstand) with
    ``change_lower``/``change_upper``, ``interval_method`` (``vervangend_gewicht`` where a value
    was added up with a declared stand-in weight), ``approximation_*`` and
    ``reference_approximation_*`` (that approximation in words, else None), ``publication_*`` and
    ``reference_publication_*`` (the publication of each value), ``rule_name``; and (issue
    17.6) ``series_*`` / ``reference_series_*`` (the publication series of each value),
    ``break_before``/``break_after`` and ``class_reason``: where the area's or the reference's
    figures change publication series between baseline and latest year and the two series are
    not declared comparable (``comparability.yaml``), the class is ``bron veranderd`` and
    ``class_reason`` names both series.
    """
    if reference not in REFERENCES:
        raise ValueError(f"onbekende referentie {reference!r}; kies uit {', '.join(REFERENCES)}")
    if rule not in RULES:
        raise ValueError(f"onbekende regel {rule!r}; kies uit {', '.join(RULES)}")
    catalogue = catalogue or load_catalogue()
    if values is None or index is None:
        with contextlib.closing(store.connect(path)) as con:
            if values is None and sources is None:
                sources = load_sources(con=con)
            values = load_area_values(con=con) if values is None else values
            index = load_area_index(con=con) if index is None else index
    idx = select_areas(index, areas)
    if indicators:
        inds = [catalogue[i] for i in indicators]
        counts = [i.id for i in inds if not comparable(i)]
        if counts:
            raise ValueError(f"geen afstand voor {', '.join(counts)}: een aantal meet de omvang van een "
                             f"gebied, niet zijn positie ten opzichte van de referentie")
    else:
        inds = [i for i in catalogue.values() if comparable(i)]
    ind_ids = [ind.id for ind in inds]
    selected = set(idx["area_id"])
    # per indicator the baseline and latest years (see choose_years)
    ok = values[(values["unit_kind"] == "area") & (values["status"] == "ok")
                & values["unit_id"].isin(selected) & values["indicator"].isin(ind_ids)]
    area_years: dict[str, dict[str, set[int]]] = {}
    for ind_id, unit_id, period in ok[["indicator", "unit_id", "period"]].drop_duplicates().itertuples(index=False):
        area_years.setdefault(ind_id, {}).setdefault(unit_id, set()).add(int(period))
    years = {ind_id: choose_years(area_years.get(ind_id, {}), len(selected), baseline, latest)
             for ind_id in ind_ids}
    # one row per indicator and area (indicator-major, areas in selection order); columns are
    # numpy arrays until the frame is built once at the end
    n_a, n_i = len(idx), len(inds)
    col: dict[str, np.ndarray] = {
        "area": np.tile(idx["area_id"].to_numpy(object), n_i),
        "area_name": np.tile(idx["name"].to_numpy(object), n_i),
        "programme": np.tile(idx["programme"].to_numpy(object), n_i),
        "gemeente": np.tile(idx["gemeente"].to_numpy(object), n_i),
        "indicator": np.repeat(np.array(ind_ids, dtype=object), n_a),
    }
    by = np.repeat(np.array([np.nan if years[i][0] is None else years[i][0] for i in ind_ids], "float64"), n_a)
    ly = np.repeat(np.array([np.nan if years[i][1] is None else years[i][1] for i in ind_ids], "float64"), n_a)
    col["reference_unit"] = _reference_units(idx, reference, n_i)
    # look the four numbers up with one merge (first row wins where a key occurs twice)
    # a store built before issue 15 (or a hand-made frame) may lack these
    missing = {c: (None if c in ("publication", "method") else np.nan)
               for c in ("numerator", "denominator", "publication", "method") if c not in values.columns}
    if missing:  # (assign copies the frame: only when needed)
        values = values.assign(**missing)
    # the publication of each value (source, kind of unit, parts added up): a count rounded by
    # its publisher widens the interval of a ratio of it (wijkmonitor.uncertainty)
    extra = [c for c in ("source_id", "unit_kind", "n_used") if c in values.columns]
    look = values[["unit_id", "indicator", "period", "value", "numerator", "denominator", "status",
                   "estimate", "publication", "method"] + extra].drop_duplicates(["unit_id", "indicator", "period"],
                                                                                  keep="first")
    look = look.assign(period=look["period"].astype("float64"),
                       value=look["value"].where(look["status"] == "ok"))
    wanted = pd.DataFrame({
        "unit_id": np.concatenate([col["area"], col["area"], col["reference_unit"], col["reference_unit"]]),
        "indicator": np.tile(col["indicator"], 4),
        "period": np.concatenate([by, ly, by, ly])})
    m = wanted.merge(look, how="left", on=["unit_id", "indicator", "period"], sort=False)
    n = len(col["area"])
    val = m["value"].to_numpy(dtype="float64", na_value=np.nan).copy()
    status = m["status"].to_numpy(dtype=object, na_value=None)
    status[pd.isna(status)] = "niet beschikbaar"
    estimate = m["estimate"].to_numpy(dtype=object, na_value=False).astype(bool)
    den = m["denominator"].to_numpy(dtype="float64", na_value=np.nan)
    numr = m["numerator"].to_numpy(dtype="float64", na_value=np.nan)
    pub = m["publication"].to_numpy(dtype=object, na_value=None)
    # 95 % interval of each of the four values (by indicator; see wijkmonitor.uncertainty);
    # a value added up with a declared stand-in weight is an approximation (wider interval)
    from . import uncertainty
    approx = uncertainty.is_approximation(m["method"]) & np.isfinite(val)
    approx_text = np.where(approx, uncertainty.approximation_texts(m["method"]), None)
    lo4, hi4, se4 = (np.full(4 * n, np.nan) for _ in range(3))
    ctx = uncertainty.rounding_context(m) if len(extra) == 3 else {}
    rounded = np.zeros(4 * n, dtype=bool)
    # rows are indicator-major (n_a per indicator) in each of the four blocks of n
    block = np.arange(n_a)
    for j, ind in enumerate(inds):
        sel = np.concatenate([k * n + j * n_a + block for k in range(4)])
        iv = uncertainty.intervals(ind, val[sel], numr[sel], den[sel], approx=approx[sel],
                                   **{k: a[sel] for k, a in ctx.items()})
        lo4[sel], hi4[sel], se4[sel] = iv["lower"], iv["upper"], iv["se"]
        rounded[sel] = np.array([str(x).endswith("_afronding") for x in iv["methods"]], dtype=bool)
    methods = np.repeat(np.array([uncertainty.method_of(i) for i in inds], dtype=object), n_a)
    # a ratio one of whose four values was widened by the rounding of its counts says so
    any_rounded = rounded[:n] | rounded[n:2 * n] | rounded[2 * n:3 * n] | rounded[3 * n:]
    methods = np.where(any_rounded & np.isin(methods, ["wilson", "poisson"]),
                       np.char.add(methods.astype(str), "_afronding").astype(object), methods)
    any_approx = approx[:n] | approx[n:2 * n] | approx[2 * n:3 * n] | approx[3 * n:]
    methods[any_approx] = uncertainty.FALLBACK_METHOD
    # one publication per comparison: the gemeente (or the rest of it) must come from the
    # publication of the area's own value in that year
    if reference in ("gemeente", "rest"):
        model = np.repeat(np.array([bool(i.estimate) for i in inds], dtype=bool), n_a)
        # same_publication, vectorised over the few distinct publications
        distinct = {p for p in pub if isinstance(p, str)}
        division = {p: p.rsplit(", ", 1)[-1] for p in distinct}
        for k_area, k_ref in ((0, 2), (1, 3)):
            a_pub, r_pub = pub[k_area * n:(k_area + 1) * n], pub[k_ref * n:(k_ref + 1) * n]
            known = np.array([isinstance(x, str) for x in a_pub]) & np.array([isinstance(x, str) for x in r_pub])
            a_div = np.array([division.get(x) for x in a_pub], dtype=object)
            r_div = np.array([division.get(x) for x in r_pub], dtype=object)
            clash = known & np.where(model, a_pub != r_pub, a_div != r_div)
            clash &= np.isfinite(val[k_ref * n:(k_ref + 1) * n]) & np.isfinite(val[k_area * n:(k_area + 1) * n])
            idx_ref = np.flatnonzero(clash) + k_ref * n
            val[idx_ref] = np.nan
            lo4[idx_ref] = hi4[idx_ref] = se4[idx_ref] = np.nan
            approx_text[idx_ref] = None
            status[idx_ref] = "niet vergelijkbaar"
    for k, (v_col, s_col, e_col) in enumerate((
            ("value_baseline", "status_baseline", "estimate_baseline"),
            ("value_latest", "status_latest", "estimate_latest"),
            ("reference_baseline", "reference_status_baseline", None),
            ("reference_latest", "reference_status_latest", None))):
        col[v_col] = val[k * n:(k + 1) * n]
        col[s_col] = status[k * n:(k + 1) * n]
        col["lo_" + v_col] = lo4[k * n:(k + 1) * n]
        col["hi_" + v_col] = hi4[k * n:(k + 1) * n]
        col["se_" + v_col] = se4[k * n:(k + 1) * n]
        col["pub_" + v_col] = pub[k * n:(k + 1) * n]
        col["approx_" + v_col] = approx_text[k * n:(k + 1) * n]
        if e_col:
            col[e_col] = estimate[k * n:(k + 1) * n]
    vb, vl, rb, rl = col["value_baseline"], col["value_latest"], col["reference_baseline"], col["reference_latest"]
    # tolerance: declared, else 1 procentpunt for percentages, else 2% of the reference baseline
    declared = np.repeat([np.nan if i.tolerance is None else float(i.tolerance) for i in inds], n_a)
    percent = np.repeat([i.unit.strip() == "%" for i in inds], n_a)
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(np.isfinite(rb), np.abs(rb) * RELATIVE_TOLERANCE, np.nan)
        ratio_b = np.where(rb != 0, vb / rb, np.nan)
        ratio_l = np.where(rl != 0, vl / rl, np.nan)
    tol = np.where(~np.isnan(declared), declared, np.where(percent, PERCENT_TOLERANCE, relative))
    same = ~(by != ly)  # also True where a year is missing
    hib = np.repeat(np.array([i.higher_is_better for i in inds], dtype=object), n_a)
    cls = np.empty(n, dtype=object)
    change_se = np.sqrt(col["se_value_baseline"] ** 2 + col["se_value_latest"] ** 2
                        + col["se_reference_baseline"] ** 2 + col["se_reference_latest"] ** 2)
    change = np.full(n, np.nan)
    for direction in (True, False, None):
        sel = np.array([h is direction for h in hib], dtype=bool)
        if sel.any():
            cls[sel] = classify(vb[sel], vl[sel], rb[sel], rl[sel], higher_is_better=direction,
                                tolerance=tol[sel], same_year=same[sel],
                                change_se=change_se[sel] if rule == "standaard" else None)
            if direction is None:
                change[sel] = np.abs(vl[sel] - rl[sel]) - np.abs(vb[sel] - rb[sel])
            else:
                sign = 1.0 if direction else -1.0
                change[sel] = (np.maximum(0.0, sign * (rl[sel] - vl[sel]))
                               - np.maximum(0.0, sign * (rb[sel] - vb[sel])))
    from .uncertainty import Z
    change[same] = np.nan
    change_lower, change_upper = change - Z * change_se, change + Z * change_se
    texts: dict = {}
    rules = np.empty(n, dtype=object)
    for j, (ind_id, t, b, l) in enumerate(zip(col["indicator"], tol, by, ly)):
        key = (ind_id, None if np.isnan(t) else float(t), b, l)
        if key not in texts:
            texts[key] = rule_text(catalogue[ind_id], t, None if np.isnan(b) else int(b),
                                   None if np.isnan(l) else int(l), reference, rule)
        rules[j] = texts[key]
    # issue 17.6: no class across a change of publication series (comparability.yaml)
    brk = _break_columns(values, sources, col["area"], col["reference_unit"], col["indicator"], by, ly, cls)
    years_b = pd.array(np.nan_to_num(by).astype("int64"), dtype="Int64")
    years_l = pd.array(np.nan_to_num(ly).astype("int64"), dtype="Int64")
    years_b[np.isnan(by)] = pd.NA
    years_l[np.isnan(ly)] = pd.NA
    return pd.DataFrame({
        "area": col["area"], "area_name": col["area_name"], "programme": col["programme"],
        "gemeente": col["gemeente"], "indicator": col["indicator"], "baseline_year": years_b,
        "latest_year": years_l, "reference_unit": col["reference_unit"],
        "value_baseline": vb, "status_baseline": col["status_baseline"],
        "estimate_baseline": col["estimate_baseline"], "value_latest": vl,
        "status_latest": col["status_latest"], "estimate_latest": col["estimate_latest"],
        "reference_baseline": rb, "reference_status_baseline": col["reference_status_baseline"],
        "reference_latest": rl, "reference_status_latest": col["reference_status_latest"],
        "reference": np.full(n, reference, dtype=object),
        "reference_name": np.full(n, REFERENCE_NAMES[reference], dtype=object),
        "gap_baseline": vb - rb, "gap_latest": vl - rl, "ratio_baseline": ratio_b, "ratio_latest": ratio_l,
        "tolerance": tol, "class": cls, "rule": rules,
        "polarity": np.repeat(np.array([i.polarity for i in inds], dtype=object), n_a),
        "lower_baseline": col["lo_value_baseline"], "upper_baseline": col["hi_value_baseline"],
        "lower_latest": col["lo_value_latest"], "upper_latest": col["hi_value_latest"],
        "reference_lower_baseline": col["lo_reference_baseline"],
        "reference_upper_baseline": col["hi_reference_baseline"],
        "reference_lower_latest": col["lo_reference_latest"],
        "reference_upper_latest": col["hi_reference_latest"],
        "change": change, "change_lower": change_lower, "change_upper": change_upper,
        "interval_method": methods,
        # where a value was added up with a stand-in weight: the approximation, in words
        "approximation_baseline": col["approx_value_baseline"], "approximation_latest": col["approx_value_latest"],
        "reference_approximation_baseline": col["approx_reference_baseline"],
        "reference_approximation_latest": col["approx_reference_latest"],
        "publication_baseline": col["pub_value_baseline"], "publication_latest": col["pub_value_latest"],
        "reference_publication_baseline": col["pub_reference_baseline"],
        "reference_publication_latest": col["pub_reference_latest"],
        "rule_name": np.full(n, rule, dtype=object),
        **brk,
    })


def load_sources(path: Path | None = None, con=None) -> pd.DataFrame:
    """The ``sources`` table (``source_id, table_id, title``): the publication series of a
    figure follow from it (:func:`wijkmonitor.comparability.source_series`)."""
    sql = "SELECT source_id, table_id, title FROM sources"
    if con is not None:
        return con.execute(sql).df()
    return store.query_df(sql, path=path)


def unit_series(values: pd.DataFrame, sources: pd.DataFrame, units=None, indicators=None,
                decl=None) -> dict[tuple[str, str], dict[int, str]]:
    """``{(unit_id, indicator): {year: publication series}}`` of the shown figures in
    ``area_values`` (``units``/``indicators``: only these; None: all).

    The series of a figure is that of its source(s) (:func:`comparability.series_of`); a
    figure without a source (a harmonised group such as G4) takes the series most gemeente
    figures of that indicator and year came from.
    """
    from . import comparability

    decl = decl or comparability.load()
    by_source = comparability.source_series(sources, decl)
    keep = values["status"] == "ok"
    if units is not None:
        keep &= values["unit_id"].isin(set(units))
    if indicators is not None:
        keep &= values["indicator"].isin(set(indicators))
    ok = values[keep]
    distinct = {sid: comparability.series_of(sid, by_source) for sid in ok["source_id"].unique()}
    ser = ok["source_id"].map(distinct)
    if ser.isna().any():
        gm = values[(values["status"] == "ok") & (values["unit_kind"] == "gemeente")]
        gd = {sid: comparability.series_of(sid, by_source) for sid in gm["source_id"].unique()}
        gm = gm.assign(series=gm["source_id"].map(gd)).dropna(subset=["series"])
        dom = gm.groupby(["indicator", "period", "series"]).size().reset_index(name="n") \
            .sort_values(["n", "series"]).drop_duplicates(["indicator", "period"], keep="last")
        dom_map = {(i, int(p)): sr for i, p, sr in dom[["indicator", "period", "series"]].itertuples(index=False)}
        fill = [dom_map.get((i, int(p))) for i, p in zip(ok["indicator"], ok["period"])]
        ser = ser.where(ser.notna(), pd.Series(fill, index=ser.index, dtype=object))
    out: dict[tuple[str, str], dict[int, str]] = {}
    for u, i, p, sr in zip(ok["unit_id"], ok["indicator"], ok["period"], ser):
        if isinstance(sr, str):
            out.setdefault((u, i), {})[int(p)] = sr
    return out


#: The last few :func:`unit_series` of whole frames: the website, the report and the benchmark
#: call :func:`gaps` many times with the same frames. Keyed by the frames' identity; the
#: frames are held, so an id is not reused while its entry lives.
_SERIES_CACHE: list[tuple[object, object, object, dict]] = []


def _cached_unit_series(values, sources, decl) -> tuple[dict, set]:
    """:func:`unit_series` of the whole frames and the keys whose series has more than one
    publication series (the only ones a break can concern)."""
    for v, s, d, hit in _SERIES_CACHE:
        if v is values and s is sources and d is decl:
            return hit
    series = unit_series(values, sources, decl=decl)
    hit = (series, {k for k, by_year in series.items() if len(set(by_year.values())) > 1})
    _SERIES_CACHE.insert(0, (values, sources, decl, hit))
    del _SERIES_CACHE[4:]
    return hit


def _break_columns(values: pd.DataFrame, sources: pd.DataFrame | None, area, ref_unit, indicator,
                   by: np.ndarray, ly: np.ndarray, cls: np.ndarray) -> dict[str, np.ndarray]:
    """The issue-17.6 columns of :func:`gaps`; sets ``cls`` to ``bron veranderd`` in place
    where a break lies between baseline and latest year (see the module docstring; the series
    per figure from :func:`unit_series`)."""
    from . import comparability

    n = len(area)
    out = {k: np.full(n, None, dtype=object) for k in (
        "series_baseline", "series_latest", "reference_series_baseline", "reference_series_latest",
        "class_reason")}
    before = np.full(n, np.nan)
    after = np.full(n, np.nan)
    if sources is not None and len(values) and "source_id" in values.columns:
        decl = comparability.load()
        by_unit, changing = _cached_unit_series(values, sources, decl)
        for j in range(n):
            a_s, r_s = by_unit.get((area[j], indicator[j]), {}), by_unit.get((ref_unit[j], indicator[j]), {})
            b, l = by[j], ly[j]
            if np.isfinite(b):
                out["series_baseline"][j] = a_s.get(int(b))
                out["reference_series_baseline"][j] = r_s.get(int(b))
            if np.isfinite(l):
                out["series_latest"][j] = a_s.get(int(l))
                out["reference_series_latest"][j] = r_s.get(int(l))
            if cls[j] == "te weinig waarnemingen" or not (np.isfinite(b) and np.isfinite(l)):
                continue
            if (area[j], indicator[j]) not in changing and (ref_unit[j], indicator[j]) not in changing:
                continue  # neither series changes publication in any year
            crossed = comparability.gap_break(indicator[j], (a_s, r_s), int(b), int(l), decl)
            if crossed is not None:
                cls[j] = comparability.BREAK_CLASS
                out["class_reason"][j] = comparability.break_reason(crossed, decl)
                before[j], after[j] = crossed.before, crossed.after
    for k, arr in (("break_before", before), ("break_after", after)):
        col = pd.array(np.nan_to_num(arr).astype("int64"), dtype="Int64")
        col[np.isnan(arr)] = pd.NA
        out[k] = col
    return out


def same_publication(area_pub, ref_pub, *, model: bool) -> bool:
    """Whether an area's value and its reference can be compared (see the module docstring).

    Publications are written ``"<table(s)>, indeling <year>"`` (``area_values.publication``).
    The division must always be the same (one geography); for model estimates also the
    table (one model run: 50090NED and its 50150NED re-publication are different runs). For
    other figures the table may differ (a city's copy of a CBS KWB table, the Leefbaarometer's
    wijk and gemeente files are one publication). Unknown publications are not judged.
    """
    if not isinstance(area_pub, str) or not isinstance(ref_pub, str):
        return True
    if model:
        return area_pub == ref_pub
    return area_pub.rsplit(", ", 1)[-1] == ref_pub.rsplit(", ", 1)[-1]


def _reference_units(idx: pd.DataFrame, reference: str, repeat: int) -> np.ndarray:
    """Per area the unit id of its reference, tiled ``repeat`` times (one block per indicator)."""
    if reference == "gemeente":
        units = idx["gemeente_unit"].to_numpy(object)
    elif reference == "rest":
        units = (idx["area_id"] + "~rest").to_numpy(object)
    else:
        units = np.full(len(idx), reference, dtype=object)
    return np.tile(units, repeat)


def _lookup(v: pd.DataFrame, unit: str, indicator: str, period) -> tuple:
    if period is None or pd.isna(period):
        return (np.nan, "niet beschikbaar", False)
    try:
        r = v.loc[(unit, indicator, int(period))]
    except KeyError:
        return (np.nan, "niet beschikbaar", False)
    if isinstance(r, pd.DataFrame):
        r = r.iloc[0]
    val = r["value"] if r["status"] == "ok" else np.nan
    return (val, r["status"], bool(r["estimate"]))


def select_areas(index: pd.DataFrame, areas) -> pd.DataFrame:
    """Rows of ``area_index`` for area ids, a programme name, or all."""
    if areas is None:
        return index
    if isinstance(areas, str):
        if areas in set(index["programme"]):
            return index[index["programme"] == areas]
        areas = [areas]
    wanted = list(areas)
    # area ids as such (ids win over names below too): their rows without the look-up table
    # (the web pages ask for one area many times per render)
    pos = {a: i for i, a in enumerate(index["area_id"])}
    if len(pos) == len(index) and all(isinstance(w, str) and w in pos for w in wanted):
        cols = ["area_id"] + [c for c in index.columns if c != "area_id"]
        return index.iloc[[pos[w] for w in wanted]][cols].reset_index(drop=True)
    # a name shared by an NPLV area and a 2007 aandachtswijk means the current (NPLV) one;
    # the older one stays reachable by its id
    order = index.assign(_o=index["programme"].map({"nplv": 2, "aandachtswijken": 1}).fillna(0))
    order = order.sort_values("_o", kind="stable")
    lookup = {**{n.lower(): i for i, n in zip(order["area_id"], order["name"])},
              **{i.lower(): i for i in index["area_id"]}}
    ids = []
    for w in wanted:
        key = lookup.get(str(w).lower())
        if key is None:
            raise KeyError(f"onbekend gebied {w!r}")
        ids.append(key)
    return index.set_index("area_id").loc[ids].reset_index()


def outcome_table(gap_df: pd.DataFrame, *, values: pd.DataFrame, set_unit: str | None,
                  groups: Sequence[str] = ("G4", "G14", "G18", "NL"),
                  catalogue: Catalogue | None = None) -> pd.DataFrame:
    """The Outcomemonitor table: per indicator the number of areas per class, plus the value of
    the set of areas as a whole (``set_unit``) and of the groups, at baseline and latest."""
    catalogue = catalogue or load_catalogue()
    v = values.set_index(["unit_id", "indicator", "period"])
    rows = []
    for ind_id, sub in gap_df.groupby("indicator", sort=False):
        ind = catalogue[ind_id]
        by, ly = sub["baseline_year"].iloc[0], sub["latest_year"].iloc[0]
        counts = sub["class"].value_counts()
        row = dict(indicator=ind_id, name=ind.name, theme=ind.theme, unit=ind.unit,
                   baseline_year=by, latest_year=ly, n_areas=len(sub),
                   **{c: int(counts.get(c, 0)) for c in CLASSES}, rule=sub["rule"].iloc[0])
        for unit, label in ([(set_unit, "alle_gebieden")] if set_unit else []) + [(g, g) for g in groups]:
            row[f"{label}_baseline"] = _lookup(v, unit, ind_id, by)[0]
            row[f"{label}_latest"] = _lookup(v, unit, ind_id, ly)[0]
        rows.append(row)
    return pd.DataFrame(rows)
