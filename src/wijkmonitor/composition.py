"""Direct age standardisation of the RIVM health estimates (issue 15, item 5 "Composition").

Why
---
The RIVM small-area model behind CBS/RIVM table 50090NED predicts each health figure from
register characteristics of the inhabitants (age, sex, herkomst, household type, income, ...).
When the population of an area changes, say it ages, its estimate moves although nobody's
health changed. A gap to the city's average that grows only because the area got older is a
composition effect, not a finding about the area's health or its policy. The Outcomemonitor
Wijkenaanpak therefore age-standardised medicine use; this module does the same for the
50090NED percentages.

Method (direct standardisation)
-------------------------------
50090NED is published for three age groups: 18 jaar of ouder, 18 tot 65 jaar and 65 jaar of
ouder (variables ``gez_<measure>_18plus``, ``gez_<measure>_18_65``, ``gez_<measure>_65plus``;
see ``sources/mappings/rivm_gezondheid.yaml``). The standardised value of a unit is::

    standardised = sum over age groups g of  rate_g(unit) x share_g(standard population)

with the two groups 18-65 and 65+ and the standard population declared, with its source, in
``composition.yaml`` (the Netherlands, 2020). Every unit compared (the area, its gemeente, a
single region) is weighted by the same standard, so a difference between standardised values
is not caused by a different share of 65-plussers.

* One publication and one division: only 50090NED observations (sources whose table is
  50090NED; never the 50150NED copy in the woonikveilig files), all on the 2020 division.
* A region whose rate is published takes it as published (also a gemeente: the reference is the
  gemeente's own 50090NED figure, not a sum of its parts).
* An area of several regions: per age group, the rates of its parts are averaged with the
  population of that age group as weight (the monitor's ``gewogen gemiddelde``). As in
  :mod:`wijkmonitor.aggregate`: only parts whose rate is shown and whose weight is known are
  added; the coverage (share of the age group's population in parts that were added; a part
  without a known population counts as a part of average size) must be at least 90 %, else the
  unit is ``niet vergelijkbaar``; the summed weight must reach the indicator's minimum base
  (100), else ``te weinig waarnemingen``.
* Population weights come from the CBS Kerncijfers wijken en buurten (KWB) of the nearest
  period within 12 years (ties: the later one), as the catalogue weights the same estimates.
  The KWB publishes ages in the bands 0-15, 15-25, 25-45, 45-65 and 65+, so 18-64 is
  represented by 25-64 (``a_25_44 + a_45_64``), 65+ by ``a_65_oo`` and 18+ by 25+, the
  approximation the catalogue already uses for the 18+ estimates.
* The crude value shown beside it is the published 18+ estimate, aggregated in the same way
  (weights: 25+), so crude and standardised differ only in the age weighting.
* A standardised value is shown only when every age group's value is shown; otherwise it
  carries the status of the age group that is missing.

The 18-65 table of 2020
-----------------------
50090NED publishes 18-65 for 2020, but the offline mirror lacks that file (see the folder's
README). Where the store has no 18-65 observation at all for a period, the 18-65 rate of a
region is *derived* from its published 18+ and 65+ rates and its own KWB age mix::

    rate_18_65 = (rate_18plus x (W_25_64 + W_65plus) - rate_65plus x W_65plus) / W_25_64

This assumes that the RIVM 18+ estimate is the population-weighted mean of the two age groups
(true by construction of a population mean, up to rounding and the 25+ stand-in for 18+).
Every value that uses a derived rate is marked (``derived``, method ``afgeleid``), and
:func:`derivation_check` measures the error on the periods where both are published (run
``wijkmonitor standardise --check-derivation``). When the 18-65 table is fetched online
(``fetch_statline('50090NED', ...)``), the published rates are used and nothing is derived.
A derived rate is a function of two shown values only: a suppressed value is never used.

Which indicators can be standardised
------------------------------------
Only catalogue indicators whose value is a 50090NED 18+ estimate (``gez_<measure>_18plus``)
and whose measure is in the store for 65+ and for 18-65 (published or derivable): see
:func:`standardisable`. Not standardisable: the 65+ indicator (one age group already), every
KWB, Politie and Leefbaarometer indicator (no rates per age group are published; the KWB age
shares themselves are the composition), and health measures a period does not have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import yaml

from .catalogue import Catalogue, load_catalogue

#: The declared standard population and weight rules.
STANDARD_FILE = Path(__file__).with_name("composition.yaml")

#: Minimum share of a unit's age-group population in parts that were added (as aggregate.py).
MIN_COVERAGE = 0.9

STATUS_OK = "ok"
STATUS_NOT_COMPARABLE = "niet vergelijkbaar"
STATUS_TOO_FEW = "te weinig waarnemingen"
STATUS_SECRET = "geheim"
STATUS_MISSING = "niet beschikbaar"

#: The 50090NED age groups used for standardisation, and the 18+ group for the crude value.
AGE_GROUPS = ("18_65", "65plus")
CRUDE_GROUP = "18plus"
AGE_LABELS = {"18_65": "18 tot 65 jaar", "65plus": "65 jaar of ouder", "18plus": "18 jaar of ouder"}

_VALUE_RE = re.compile(r"^gez_(?P<measure>.+)_18plus$")


class CompositionError(ValueError):
    """A request that cannot be standardised (message in Dutch)."""


# ---------------------------------------------------------------------------------------
# The declared standard population
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Standard:
    """The standard population: its shares per age group, weights and provenance."""

    id: str
    name: str
    population: dict[str, float]
    shares: dict[str, float]
    weights: dict[str, tuple[str, ...]]
    weight_window: int
    min_base: float
    source: str
    note: str

    def text(self) -> str:
        """One Dutch sentence naming the standard population and its shares."""
        parts = ", ".join(f"{AGE_LABELS[g]} {_pct(self.shares[g])}" for g in AGE_GROUPS)
        return f"standaardbevolking {self.name}: {parts} (bron: {self.source})"


def _pct(share: float) -> str:
    from .nlformat import nl_value
    return nl_value(share * 100, 1, "%")


def load_standard(path: Path | str = STANDARD_FILE) -> Standard:
    """Read and validate the declared standard population.

    Raises
    ------
    CompositionError
        With file and field in Dutch when the declaration is incomplete or not positive.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CompositionError(f"{path}: kan de standaardbevolking niet lezen ({exc})") from exc
    if not isinstance(data, dict):
        raise CompositionError(f"{path}: verwacht een mapping")
    for key in ("id", "name", "population", "weights", "source", "weight_window", "min_base"):
        if key not in data:
            raise CompositionError(f"{path}: veld {key!r} ontbreekt")
    pop = data["population"]
    if not isinstance(pop, dict) or set(pop) != set(AGE_GROUPS):
        raise CompositionError(f"{path}: veld 'population' moet precies {', '.join(AGE_GROUPS)} bevatten")
    for g, v in pop.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0:
            raise CompositionError(f"{path}: veld 'population.{g}' moet een positief getal zijn, is {v!r}")
    weights = data["weights"]
    if not isinstance(weights, dict) or set(weights) != set(AGE_GROUPS) | {CRUDE_GROUP}:
        raise CompositionError(f"{path}: veld 'weights' moet {', '.join((*AGE_GROUPS, CRUDE_GROUP))} bevatten")
    total = float(sum(pop.values()))
    return Standard(
        id=str(data["id"]), name=str(data["name"]),
        population={g: float(v) for g, v in pop.items()},
        shares={g: float(pop[g]) / total for g in AGE_GROUPS},
        weights={g: tuple(v) for g, v in weights.items()},
        weight_window=int(data["weight_window"]), min_base=float(data["min_base"]),
        source=str(data["source"]), note=str(data.get("note", "")))


# ---------------------------------------------------------------------------------------
# Pure computation (no store): one unit, given its parts
# ---------------------------------------------------------------------------------------

@dataclass
class GroupValue:
    """The value of one age group for one unit and period."""

    value: float | None
    status: str
    coverage: float | None = None
    weight: float | None = None
    n_parts: int = 0
    n_used: int = 0
    derived: bool = False


def aggregate_rates(values: Sequence[float | None], statuses: Sequence[str],
                    weights: Sequence[float | None], *, min_coverage: float = MIN_COVERAGE,
                    min_base: float = 100.0) -> GroupValue:
    """Population-weighted mean of the rates of a unit's parts, by the monitor's rules.

    Parameters
    ----------
    values, statuses:
        Per part the rate and its status (``ok``, ``geheim``, ``te weinig waarnemingen``,
        ``niet beschikbaar``); a value counts only when its status is ``ok``.
    weights:
        Per part the population of the age group (None or NaN: not known).
    min_coverage:
        Least share of the population in parts that were added (0.9 in the monitor).
    min_base:
        Least summed weight of the added parts.

    Returns
    -------
    GroupValue
        ``value`` is None unless ``status`` is ``ok``.

    Notes
    -----
    A part is added when its status is ``ok``, its value is a number and its weight is known.
    Coverage is the added parts' weight over all parts' weight, where a part without a known
    weight counts as a part of average size (as :mod:`wijkmonitor.aggregate` does with
    inhabitants); with no weight known at all, every part counts the same.
    """
    n = len(values)
    if not (len(statuses) == len(weights) == n):
        raise ValueError("values, statuses and weights must have the same length")
    if n == 0:
        return GroupValue(None, STATUS_MISSING, 0.0, None, 0, 0)
    w = np.array([np.nan if x is None else float(x) for x in weights], dtype="float64")
    v = np.array([np.nan if x is None else float(x) for x in values], dtype="float64")
    ok = np.array([s == STATUS_OK for s in statuses]) & ~np.isnan(v)
    known = ~np.isnan(w)
    used = ok & known
    avg = float(w[known].mean()) if known.any() else 1.0
    size = np.where(known, w, avg) if known.any() else np.ones(n)
    total = float(size.sum())
    coverage = float(size[used].sum() + 0.0) / total if total > 0 else 0.0
    n_used = int(used.sum())
    if n_used == 0:
        secret = sum(s == STATUS_SECRET for s in statuses)
        small = sum(s == STATUS_TOO_FEW for s in statuses)
        if secret > 0 and secret + small == n:
            status = STATUS_SECRET
        elif small == n:
            status = STATUS_TOO_FEW
        else:
            status = STATUS_MISSING
        return GroupValue(None, status, coverage, None, n, 0)
    wsum = float(w[used].sum())
    if coverage < min_coverage:
        return GroupValue(None, STATUS_NOT_COMPARABLE, coverage, wsum, n, n_used)
    if wsum < min_base or wsum <= 0:
        return GroupValue(None, STATUS_TOO_FEW, coverage, wsum, n, n_used)
    return GroupValue(float((v[used] * w[used]).sum() / wsum), STATUS_OK, coverage, wsum, n, n_used)


def standardise(groups: dict[str, GroupValue], shares: dict[str, float]) -> GroupValue:
    """Directly standardised value: sum over age groups of rate x standard share.

    Parameters
    ----------
    groups:
        Per age group (``18_65``, ``65plus``) the unit's value.
    shares:
        Per age group the standard population's share (summing to 1).

    Returns
    -------
    GroupValue
        Status ``ok`` only when every age group is ``ok``; otherwise the status of the first
        age group that is not, and no value.
    """
    derived = any(groups[g].derived for g in shares)
    for g in shares:
        if groups[g].status != STATUS_OK:
            return GroupValue(None, groups[g].status, groups[g].coverage, None, derived=derived)
    cov = min((groups[g].coverage for g in shares if groups[g].coverage is not None), default=None)
    return GroupValue(float(sum(groups[g].value * shares[g] for g in shares)), STATUS_OK, cov,
                      derived=derived)


def derive_young(rate_all: np.ndarray, rate_old: np.ndarray, w_young: np.ndarray,
                 w_old: np.ndarray) -> np.ndarray:
    """The 18-65 rate implied by the 18+ and 65+ rates and the age mix of one region.

    ``(rate_all x (w_young + w_old) - rate_old x w_old) / w_young``; NaN where an input is NaN
    or ``w_young`` is not positive.
    """
    rate_all, rate_old = np.asarray(rate_all, float), np.asarray(rate_old, float)
    w_young, w_old = np.asarray(w_young, float), np.asarray(w_old, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (rate_all * (w_young + w_old) - rate_old * w_old) / w_young
    return np.where(w_young > 0, out, np.nan)


# ---------------------------------------------------------------------------------------
# Which indicators can be standardised
# ---------------------------------------------------------------------------------------

TABLE_ID = "50090NED"
GEO_YEAR = 2020


def measure_of(indicator_id: str, catalogue: Catalogue | None = None) -> str | None:
    """The 50090NED measure behind an indicator (``ervaren_goed`` for ``ervaren_gezondheid_pct``),
    or None when the indicator is not an 18+ estimate of that table."""
    catalogue = catalogue or load_catalogue()
    ind = catalogue.get(indicator_id) if hasattr(catalogue, "get") else catalogue[indicator_id]
    if ind is None:
        return None
    for f in ind.formulas:
        if f.value and len(f.value) == 1:
            m = _VALUE_RE.match(f.value[0])
            if m:
                return m.group("measure")
    return None


def standardisable(con, catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Per catalogue indicator whether it can be age-standardised, per 50090NED period, and why.

    Returns
    -------
    DataFrame
        ``indicator, measure, standardisable, periods, derived_periods, reason`` (Dutch reason).
    """
    catalogue = catalogue or load_catalogue()
    have = con.execute("""
        SELECT o.variable, o.period, count(*) FILTER (WHERE o.status = 'ok') AS n_ok
        FROM observations o JOIN sources s USING (source_id)
        WHERE s.table_id = ? AND o.variable LIKE 'gez_%' GROUP BY ALL""", [TABLE_ID]).df()
    ok = {(v, int(p)) for v, p, n in have.itertuples(index=False) if n > 0}
    rows = []
    for ind in catalogue.values():
        measure = measure_of(ind.id, catalogue)
        if measure is None:
            if any(f.value and any(v.startswith("gez_") and v.endswith("_65plus") for v in f.value)
                   for f in ind.formulas):
                reason = "al één leeftijdsgroep (65+): er is niets te standaardiseren"
            else:
                reason = ("geen cijfers per leeftijdsgroep gepubliceerd (alleen 50090NED geeft 18-65 en 65+ "
                          "apart); de leeftijdsopbouw zelf staat in de KWB")
            rows.append((ind.id, None, False, "", "", reason))
            continue
        periods, derived = [], []
        for p in sorted({p for v, p in ok if v == f"gez_{measure}_18plus"}):
            if (f"gez_{measure}_65plus", p) not in ok:
                continue
            periods.append(p)
            if (f"gez_{measure}_18_65", p) not in ok:
                derived.append(p)
        if not periods:
            rows.append((ind.id, measure, False, "", "",
                         "50090NED geeft deze maat niet voor 65+ in de store"))
            continue
        reason = "18-65 en 65+ gepubliceerd in 50090NED"
        if derived:
            reason += (f"; 18-65 van {', '.join(map(str, derived))} afgeleid uit 18+ en 65+ "
                       "(het bestand ontbreekt in de spiegel)")
        rows.append((ind.id, measure, True, ",".join(map(str, periods)), ",".join(map(str, derived)), reason))
    return pd.DataFrame(rows, columns=["indicator", "measure", "standardisable", "periods",
                                       "derived_periods", "reason"])


# ---------------------------------------------------------------------------------------
# Reading the store
# ---------------------------------------------------------------------------------------

def _variable(measure: str, group: str) -> str:
    return f"gez_{measure}_{group}"


def _marks(values) -> str:
    """``?, ?, ?``: one placeholder per value (the values are passed as parameters)."""
    return ", ".join("?" * len(values))


_NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")


def _names(values) -> str:
    """Variable names as SQL literals (checked: letters, digits, underscores only). Constants,
    unlike parameters, let DuckDB skip row groups by their min/max (several times faster)."""
    values = list(values)
    bad = [v for v in values if not _NAME_RE.match(str(v))]
    if bad or not values:
        raise CompositionError(f"ongeldige variabelenaam {bad[:1]!r}")
    return ", ".join(f"'{v}'" for v in values)


def periods_available(con, measure: str) -> list[int]:
    """50090NED periods with 18+ and 65+ values of ``measure`` in the store."""
    df = con.execute("""
        SELECT o.period FROM observations o JOIN sources s USING (source_id)
        WHERE s.table_id = ? AND o.variable IN (?, ?) AND o.status = 'ok'
        GROUP BY o.period HAVING count(DISTINCT o.variable) = 2 ORDER BY 1""",
                     [TABLE_ID, _variable(measure, CRUDE_GROUP), _variable(measure, "65plus")]).fetchall()
    return [int(r[0]) for r in df]


def young_published(con, measure: str, period: int) -> bool:
    """Whether the store holds any 50090NED 18-65 value of ``measure`` for ``period``."""
    return con.execute("""
        SELECT count(*) FROM observations o JOIN sources s USING (source_id)
        WHERE s.table_id = ? AND o.variable = ? AND o.period = ?""",
                       [TABLE_ID, _variable(measure, "18_65"), int(period)]).fetchone()[0] > 0


class StoreRows:
    """The store rows that :func:`standardised_gaps` reads (50090NED rates of some measures, all
    codes and periods, and the KWB weight variables), held in memory and sorted by code, so that
    a server answers a unit from memory instead of two queries over ``observations`` (about
    0,3 s of CPU per area page on the real store). Built by :func:`store_rows`; results are the
    same as from the queries (``tests/test_composition_rows.py``)."""

    _COLUMNS = ["code", "period", "variable", "value", "status", "rank"]

    def __init__(self, rates: pd.DataFrame, weights: pd.DataFrame, rate_variables, weight_variables):
        self.rate_variables = frozenset(rate_variables)
        self.weight_variables = frozenset(weight_variables)
        self._frames = {"rates": self._index(rates), "weights": self._index(weights)}

    @classmethod
    def _index(cls, df: pd.DataFrame):
        df = df[cls._COLUMNS].sort_values("code", kind="stable").reset_index(drop=True)
        codes = df["code"].to_numpy(object)
        # first and one-past-last row of each code
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([], int)
        stops = np.r_[starts[1:], len(codes)]
        pos = {codes[a]: (int(a), int(b)) for a, b in zip(starts, stops)}
        for col in ("code", "variable", "status"):  # a few hundred distinct strings: compact
            df[col] = df[col].astype("category")
        return df, pos

    def take(self, which: str, codes: Sequence[str]) -> pd.DataFrame:
        """The rows of ``codes`` (columns as the query gives them: ``code, period, variable,
        value, status, rank``)."""
        df, pos = self._frames[which]
        idx = [np.arange(*pos[c]) for c in dict.fromkeys(codes) if c in pos]
        out = df.take(np.concatenate(idx) if idx else np.array([], dtype=np.int64))
        out = out.reset_index(drop=True)
        for col in ("code", "variable", "status"):
            out[col] = out[col].astype(str)
        return out


def store_rows(con, measures: Sequence[str], standard: Standard) -> StoreRows:
    """:class:`StoreRows` of ``measures`` (their 18+, 18-65 and 65+ rates) and the weights of
    ``standard``, read from the store in two queries."""
    groups = (CRUDE_GROUP, *AGE_GROUPS)
    rvars = sorted({_variable(m, g) for m in measures for g in groups})
    wvars = sorted({v for vs in standard.weights.values() for v in vs})
    rates = con.execute(f"""
        SELECT o.region_code AS code, o.period, o.variable, o.value, o.status, s.rank
        FROM observations o JOIN sources s USING (source_id)
        WHERE s.table_id = ? AND o.geo_year = ? AND o.variable IN ({_names(rvars or ['-'])})""",
                        [TABLE_ID, GEO_YEAR]).df()
    weights = con.execute(f"""
        SELECT o.region_code AS code, o.period, o.variable, o.value, o.status, s.rank
        FROM observations o JOIN sources s USING (source_id)
        WHERE o.variable IN ({_names(wvars or ['-'])})""").df()
    return StoreRows(rates, weights, rvars, wvars)


def load_rates(con, measure: str, periods: Sequence[int], codes: Sequence[str]) -> pd.DataFrame:
    """50090NED rates (2020 division) of ``measure`` per code, period and age group.

    Returns
    -------
    DataFrame
        ``code, period, group, value, status``; a code without an observation is absent.
    """
    df = load_rates_many(con, [measure], periods, codes)
    return df[["code", "period", "group", "value", "status"]].reset_index(drop=True)


def load_rates_many(con, measures: Sequence[str], periods: Sequence[int], codes: Sequence[str],
                    rows: StoreRows | None = None) -> pd.DataFrame:
    """Like :func:`load_rates` for several measures in one query (column ``measure`` added).
    With ``rows`` (:func:`store_rows`) the same rows are taken from memory instead."""
    groups = (CRUDE_GROUP, *AGE_GROUPS)
    var_key = {_variable(m, g): (m, g) for m in measures for g in groups}
    periods, codes = [int(p) for p in periods] or [-1], list(codes) or [""]
    if rows is not None and set(var_key) <= rows.rate_variables:
        df = rows.take("rates", codes)
        df = df[df["variable"].isin(list(var_key)) & df["period"].isin(periods)]
    else:
        # IN lists, not unnest(?): DuckDB then skips row groups (several times faster)
        df = con.execute(f"""
            SELECT o.region_code AS code, o.period, o.variable, o.value, o.status, s.rank
            FROM observations o JOIN sources s USING (source_id)
            WHERE s.table_id = ? AND o.geo_year = ? AND o.variable IN ({_names(var_key)})
              AND o.period IN ({_marks(periods)}) AND o.region_code IN ({_marks(codes)})""",
                         [TABLE_ID, GEO_YEAR, *periods, *codes]).df()
    df = df.sort_values("rank", kind="stable").drop_duplicates(["code", "period", "variable"])
    df["measure"] = df["variable"].map(lambda v: var_key[v][0])
    df["group"] = df["variable"].map(lambda v: var_key[v][1])
    df["period"] = df["period"].astype(int)
    df.loc[df["status"] != STATUS_OK, "value"] = np.nan
    return df[["measure", "code", "period", "group", "value", "status"]].reset_index(drop=True)


def load_weights(con, codes: Sequence[str], periods: Sequence[int], standard: Standard,
                 rows: StoreRows | None = None) -> pd.DataFrame:
    """Population weight per code, period and age group from the KWB.

    Per code and group the weight is the sum of the group's KWB variables in the period nearest
    ``period`` within ``standard.weight_window`` years in which any of them is given (ties: the
    later period); it is unknown (NaN) when one of them is missing or not ``ok`` there. Per
    variable and period the best-ranked source counts.

    Returns
    -------
    DataFrame
        ``code, period, group, weight, weight_period``.
    """
    wvars = sorted({v for vs in standard.weights.values() for v in vs})
    listed = list(codes) or [""]
    if rows is not None and set(wvars) <= rows.weight_variables:
        df = rows.take("weights", listed)
        df = df[df["variable"].isin(wvars)]
    else:
        df = con.execute(f"""
            SELECT o.region_code AS code, o.period, o.variable, o.value, o.status, s.rank
            FROM observations o JOIN sources s USING (source_id)
            WHERE o.variable IN ({_names(wvars)}) AND o.region_code IN ({_marks(listed)})""",
                         listed).df()
    df = df.sort_values("rank").drop_duplicates(["code", "variable", "period"])
    # per (code, period): which variables are there, whether all are ok, and their values;
    # plain dicts (a few hundred rows per area) instead of a pandas group-by per group and year
    cell: dict = {}
    for c, p, v, val, st in zip(df["code"], df["period"], df["variable"], df["value"], df["status"]):
        cell.setdefault((c, int(p)), {})[v] = (val, st == STATUS_OK)
    by_code: dict = {}
    for c, p in cell:
        by_code.setdefault(c, []).append(p)
    codes_u = list(dict.fromkeys(codes))
    out_code, out_period, out_group, out_weight, out_wp = [], [], [], [], []
    for group, gvars in standard.weights.items():
        gset = set(gvars)
        # per code the periods with any of the group's variables: (n, all ok, sum)
        agg = {}
        for c, ps in by_code.items():
            for p in ps:
                got = [x for v, x in cell[(c, p)].items() if v in gset]
                if got:
                    vals = [val for val, _ in got if val == val]  # NaN skipped, as pandas' sum
                    agg.setdefault(c, []).append(
                        (p, len(got), all(ok for _, ok in got), float(sum(vals)) if vals else 0.0))
        for period in periods:
            period = int(period)
            for c in codes_u:
                near = [a for a in agg.get(c, ()) if abs(a[0] - period) <= standard.weight_window]
                if near:
                    p, n, ok, w = min(near, key=lambda a: (abs(a[0] - period), -a[0]))
                    out_weight.append(w if n == len(gvars) and ok else np.nan)
                    out_wp.append(p)
                else:
                    out_weight.append(np.nan)
                    out_wp.append(pd.NA)
                out_code.append(c)
                out_period.append(period)
                out_group.append(group)
    out = pd.DataFrame({"code": pd.Series(out_code, dtype="str"), "period": np.array(out_period, dtype="int64"),
                        "group": pd.Series(out_group, dtype="str"),
                        "weight": np.array(out_weight, dtype="float64"), "weight_period": out_wp})
    out["weight_period"] = out["weight_period"].astype("Int64")
    return out[["code", "period", "group", "weight", "weight_period"]]


# ---------------------------------------------------------------------------------------
# Units: a region (published) or an area (its parts added up)
# ---------------------------------------------------------------------------------------

@dataclass
class UnitPeriod:
    """Everything known about one unit in one period."""

    period: int
    groups: dict[str, GroupValue]
    standardised: GroupValue
    share_65plus: float | None  # 65+ among 25+ in the unit (KWB weights of all its parts)
    young_derived: bool = False
    weight_years: tuple[int, ...] = ()  # the KWB periods the weights came from


def _part_values(rates: pd.DataFrame, weights: pd.DataFrame, codes: Sequence[str], period: int,
                 derive: bool) -> dict[str, tuple[np.ndarray, list[str], np.ndarray]]:
    """Per group: values, statuses and weights of the parts, in the order of ``codes``."""
    out = {}
    # plain dicts rather than pandas lookups: this runs for every unit, period and indicator
    # of an area page (rates and weights are unique per code, period and group)
    period = int(period)
    rv = {(c, g): (v, st) for c, p, g, v, st in zip(rates["code"], rates["period"], rates["group"],
                                                   rates["value"], rates["status"]) if p == period}
    wv = {(c, g): wt for c, p, g, wt in zip(weights["code"], weights["period"], weights["group"],
                                           weights["weight"]) if p == period}
    missing = (np.nan, STATUS_MISSING)
    for group in (CRUDE_GROUP, *AGE_GROUPS):
        got = [rv.get((c, group), missing) for c in codes]
        vals = np.array([v for v, _ in got], dtype="float64")
        stats = [st for _, st in got]
        wts = np.array([wv.get((c, group), np.nan) for c in codes], dtype="float64")
        out[group] = (vals, stats, wts)
    if derive:
        va, sa, _ = out[CRUDE_GROUP]
        vo, so, wo = out["65plus"]
        wy = out["18_65"][2]
        vy = derive_young(va, vo, wy, wo)
        sy = []
        for i in range(len(codes)):
            if sa[i] != STATUS_OK or so[i] != STATUS_OK:
                bad = sa[i] if sa[i] != STATUS_OK else so[i]
                sy.append(bad)
            elif np.isnan(vy[i]):
                sy.append(STATUS_MISSING)  # the age mix is not known
            else:
                sy.append(STATUS_OK)
        out["18_65"] = (vy, sy, wy)
    return out


def unit_period(rates: pd.DataFrame, weights: pd.DataFrame, codes: Sequence[str], period: int,
                standard: Standard, *, derive: bool) -> UnitPeriod:
    """Crude, age-specific and standardised value of a unit (one code: published values)."""
    parts = _part_values(rates, weights, codes, period, derive)
    groups = {}
    for group, (vals, stats, wts) in parts.items():
        if len(codes) == 1:  # a region: its published value, as published
            v, s, w = vals[0], stats[0], wts[0]
            ok = s == STATUS_OK and not np.isnan(v)
            status = STATUS_OK if ok else (s if s != STATUS_OK else STATUS_MISSING)
            groups[group] = GroupValue(float(v) if ok else None, status, 1.0 if ok else 0.0,
                                       None if np.isnan(w) else float(w), 1, int(ok))
        else:
            groups[group] = aggregate_rates(list(vals), stats, list(wts), min_base=standard.min_base)
        groups[group].derived = derive and group == "18_65"
    std = standardise({g: groups[g] for g in AGE_GROUPS}, standard.shares)
    wy, wo = parts["18_65"][2], parts["65plus"][2]
    both = ~np.isnan(wy) & ~np.isnan(wo)
    share = float(wo[both].sum() / (wy[both].sum() + wo[both].sum())) if both.any() and \
        (wy[both].sum() + wo[both].sum()) > 0 else None
    wanted = set(codes)
    wyears = {int(wp) for c, p, wp in zip(weights["code"], weights["period"], weights["weight_period"])
              if p == period and c in wanted and not pd.isna(wp)}
    return UnitPeriod(int(period), groups, std, share, derive, tuple(sorted(wyears)))


# ---------------------------------------------------------------------------------------
# The standardised gap of an area (or a region) to its gemeente
# ---------------------------------------------------------------------------------------

_CODE_RE = re.compile(r"^(GM\d{4}|WK\d{6}|BU\d{8})$", re.IGNORECASE)


@dataclass
class Subject:
    """What is compared: an area (several codes) or a region, and its reference region."""

    id: str
    name: str
    kind: str  # area | region
    codes: tuple[str, ...]
    reference: str  # a region code on the 2020 division (gemeente, or NL00 for a gemeente)
    reference_name: str


def resolve_subject(con, name_or_code: str) -> Subject:
    """An area id or name from ``area_index`` (a name shared by an NPLV area and a 2007
    aandachtswijk means the NPLV one, as in ``gap``), or a CBS code of the 2020 division.

    Raises
    ------
    CompositionError
        When nothing matches (Dutch message).
    """
    text = str(name_or_code).strip()
    if not text or len(text) > 200 or "\x00" in text:
        raise CompositionError("geef een gebied-id, gebiedsnaam of CBS-code")
    def region_rows(codes) -> pd.DataFrame:
        # only the rows asked for (the whole division is ~17 000 rows: ms per page)
        codes = list(dict.fromkeys(codes)) or [""]
        return con.execute("SELECT code, level, name, gemeente_code FROM regions "
                           f"WHERE year = ? AND code IN ({_marks(codes)})",
                           [GEO_YEAR, *codes]).df().set_index("code")

    if _CODE_RE.match(text):
        code = text.upper()
        regions = region_rows([code])
        if code not in regions.index:
            raise CompositionError(f"regio {code} bestaat niet in de indeling {GEO_YEAR} "
                                   f"(50090NED is op die indeling gepubliceerd)")
        row = regions.loc[code]
        ref = "NL00" if row["level"] == "gemeente" else row["gemeente_code"]
        ref_name = "Nederland" if ref == "NL00" else _name_or(region_rows([ref])["name"].get(ref), ref)
        return Subject(code, _name_or(row["name"], code), "region", (code,), ref, ref_name)
    index = con.execute("SELECT area_id, name, programme, gemeente, codes FROM area_index").df()
    order = index.assign(_o=index["programme"].map({"nplv": 2, "aandachtswijken": 1}).fillna(0))
    order = order.sort_values("_o", kind="stable")
    lookup = {**{n.lower(): i for i, n in zip(order["area_id"], order["name"])},
              **{i.lower(): i for i in index["area_id"]}}
    key = lookup.get(text.lower())
    if key is None:
        raise CompositionError(f"onbekend gebied {text[:80]!r} (gebruik een gebied-id, -naam of CBS-code)")
    row = index.set_index("area_id").loc[key]
    codes = tuple(c for c in str(row["codes"]).split(",") if c)
    gem = row["gemeente"]
    regions = region_rows([*codes, gem])
    if gem not in regions.index:  # the area's gemeente is not on the 2020 division: that of its parts
        parts = regions.reindex([c for c in codes if c in regions.index])["gemeente_code"].dropna()
        if parts.empty:
            raise CompositionError(f"gebied {key}: geen van de codes bestaat in de indeling {GEO_YEAR}")
        gem = parts.mode().iloc[0]
        regions = region_rows([gem])
    return Subject(key, row["name"], "area", codes, gem, _name_or(regions["name"].get(gem), gem))


def _name_or(name, code: str) -> str:
    """A region's name, or its code where the division names none (never NaN)."""
    return name if isinstance(name, str) and name else code


def _nearest(available: Sequence[int], asked: int, *, prefer_later: bool) -> int | None:
    if not available:
        return None
    return min(available, key=lambda y: (abs(y - asked), -y if prefer_later else y))


def rule_text(standard: Standard) -> str:
    """The method in one Dutch paragraph (printed beside every result)."""
    return ("Directe leeftijdsstandaardisatie: gestandaardiseerde waarde = som over de leeftijdsgroepen "
            "(18 tot 65 jaar, 65 jaar of ouder) van het percentage in die groep x het aandeel van de groep in "
            f"de {standard.text()}. Gebied en gemeente krijgen dezelfde leeftijdsopbouw, dus een verschil "
            "komt niet van een ander aandeel 65-plussers. Bron: RIVM/GGD'en/CBS 50090NED (modelschattingen), "
            f"indeling {GEO_YEAR}, voor gebied en gemeente. Een regio houdt zijn gepubliceerde cijfer; een "
            "gebied van meer regio's is per leeftijdsgroep het gemiddelde van zijn getoonde delen, gewogen met "
            "de inwoners van die leeftijdsgroep (KWB; 25-64 staat voor 18-64, 25+ voor 18+; dichtstbijzijnde "
            f"jaar binnen {standard.weight_window} jaar), alleen als die delen samen minstens "
            f"{int(MIN_COVERAGE * 100)} % van de inwoners van die groep hebben (anders niet vergelijkbaar). "
            "Ruw = het gepubliceerde 18+-cijfer, op dezelfde manier opgeteld. Afstand = gebied - gemeente; "
            "verandering = afstand laatste jaar - afstand basisjaar.")


DERIVED_TEXT = ("18-65 afgeleid: 50090NED publiceert 18-65 voor dit jaar, maar het bestand ontbreekt in de "
                "spiegel; het 18-65-cijfer is berekend als (18+ x inwoners 25+ - 65+ x inwoners 65+) / "
                "inwoners 25-64 per regio (een benadering, zie wijkmonitor standardise --check-derivation)")


def standardised_gap(con, subject: str | Subject, indicator: str, baseline: int, latest: int,
                     *, standard: Standard | None = None, catalogue: Catalogue | None = None) -> dict:
    """Crude and age-standardised value, gap to the gemeente and change, for one area or region.

    Parameters
    ----------
    con:
        An open store connection.
    subject:
        Area id or name, CBS code (2020 division), or a resolved :class:`Subject`.
    indicator:
        A catalogue indicator that is a 50090NED 18+ estimate (see :func:`standardisable`).
    baseline, latest:
        Asked years; the nearest 50090NED periods are used (ties: earlier baseline, later latest).

    Returns
    -------
    dict
        ``area, area_name, reference, reference_name, indicator, baseline_year, latest_year,
        standard, rule, rows`` where ``rows`` holds, for ``ruw (18+)``, ``18 tot 65 jaar``,
        ``65 jaar of ouder`` and ``leeftijdsgestandaardiseerd``, the values of area and reference
        in both years, the gaps and the change of the gap, with statuses; plus the 65+ share
        (of 25+) of area and reference per year and the notes on derived values.

    Raises
    ------
    CompositionError
        Indicator not standardisable, no periods, unknown area (Dutch message).
    """
    catalogue = catalogue or load_catalogue()
    standard = standard or load_standard()
    if indicator not in catalogue:
        raise CompositionError(f"onbekende indicator {indicator!r}")
    measure = measure_of(indicator, catalogue)
    if measure is None:
        table = standardisable(con, catalogue).set_index("indicator")
        raise CompositionError(f"{indicator} kan niet worden gestandaardiseerd: {table.loc[indicator, 'reason']}")
    subj = subject if isinstance(subject, Subject) else resolve_subject(con, subject)
    periods = periods_available(con, measure)
    if not periods:
        raise CompositionError(f"{indicator}: geen 50090NED-cijfers voor 18+ en 65+ in de store")
    b = _nearest(periods, int(baseline), prefer_later=False)
    l = _nearest(periods, int(latest), prefer_later=True)
    years = sorted({b, l})
    codes = tuple(dict.fromkeys((*subj.codes, subj.reference)))
    rates = load_rates(con, measure, years, codes)
    weights = load_weights(con, codes, years, standard)
    derive = {y: not young_published(con, measure, y) for y in years}
    return _result(subj, catalogue[indicator], b, l, rates, weights, derive, standard)


def _result(subj: Subject, ind, b: int, l: int, rates: pd.DataFrame, weights: pd.DataFrame,
            derive: dict[int, bool], standard: Standard) -> dict:
    """The result of :func:`standardised_gap` from the rates of one measure and the weights."""
    years = sorted({b, l})
    area = {y: unit_period(rates, weights, subj.codes, y, standard, derive=derive[y]) for y in years}
    ref = {y: unit_period(rates, weights, (subj.reference,), y, standard, derive=derive[y]) for y in years}
    indicator = ind.id

    def row(label: str, pick) -> dict:
        out = {"measure": label}
        for tag, y in (("baseline", b), ("latest", l)):
            a, r = pick(area[y]), pick(ref[y])
            out[f"value_{tag}"] = a.value
            out[f"status_{tag}"] = a.status
            out[f"coverage_{tag}"] = a.coverage
            out[f"reference_{tag}"] = r.value
            out[f"reference_status_{tag}"] = r.status
            out[f"gap_{tag}"] = (a.value - r.value) if a.value is not None and r.value is not None else None
            out[f"derived_{tag}"] = bool(a.derived or r.derived)
        out["gap_change"] = (out["gap_latest"] - out["gap_baseline"]
                             if out["gap_latest"] is not None and out["gap_baseline"] is not None and b != l
                             else None)
        return out

    rows = [row("ruw (18+)", lambda u: u.groups[CRUDE_GROUP]),
            row(AGE_LABELS["18_65"], lambda u: u.groups["18_65"]),
            row(AGE_LABELS["65plus"], lambda u: u.groups["65plus"]),
            row("leeftijdsgestandaardiseerd", lambda u: u.standardised)]
    notes = []
    if any(derive.values()):
        notes.append(DERIVED_TEXT + f" (jaren: {', '.join(str(y) for y in years if derive[y])})")
    if b == l:
        notes.append(f"basisjaar en laatste jaar vallen samen ({b}): geen verandering te berekenen")
    return {
        "area": subj.id, "area_name": subj.name, "kind": subj.kind,
        "reference": subj.reference, "reference_name": subj.reference_name,
        "indicator": indicator, "indicator_name": ind.name, "polarity": ind.polarity,
        "baseline_year": b, "latest_year": l, "source": f"RIVM/GGD'en/CBS {TABLE_ID}, indeling {GEO_YEAR}",
        "standard": {"id": standard.id, "name": standard.name, "source": standard.source,
                     "population": standard.population, "shares": standard.shares},
        "share_65plus": {"area_baseline": area[b].share_65plus, "area_latest": area[l].share_65plus,
                         "reference_baseline": ref[b].share_65plus, "reference_latest": ref[l].share_65plus},
        "weight_years": {"area_baseline": list(area[b].weight_years), "area_latest": list(area[l].weight_years),
                         "reference_baseline": list(ref[b].weight_years),
                         "reference_latest": list(ref[l].weight_years)},
        "rule": rule_text(standard), "notes": notes, "rows": rows,
    }


# ---------------------------------------------------------------------------------------
# Many indicators of one unit at once (the website and the report)
# ---------------------------------------------------------------------------------------

@dataclass
class StoreFacts:
    """What the store holds of 50090NED, read once per store version.

    Attributes
    ----------
    periods:
        Per measure, the periods with shown 18+ and 65+ values (:func:`periods_available`).
    young:
        ``(measure, period)`` pairs with any 18-65 observation (:func:`young_published`).
    table:
        :func:`standardisable` of the store.
    """

    periods: dict[str, list[int]]
    young: frozenset
    table: pd.DataFrame


def store_facts(con, catalogue: Catalogue | None = None) -> StoreFacts:
    """Read :class:`StoreFacts` (two queries; cache the result per store version)."""
    catalogue = catalogue or load_catalogue()
    have = con.execute("""
        SELECT o.variable, o.period, count(*) FILTER (WHERE o.status = 'ok') AS n_ok, count(*) AS n_all
        FROM observations o JOIN sources s USING (source_id)
        WHERE s.table_id = ? AND o.variable LIKE 'gez_%' GROUP BY ALL""", [TABLE_ID]).df()
    ok = {(v, int(p)) for v, p, n in have[["variable", "period", "n_ok"]].itertuples(index=False) if n > 0}
    young, periods = set(), {}
    for v, p in {(v, int(p)) for v, p in have[["variable", "period"]].itertuples(index=False)}:
        if v.startswith("gez_") and v.endswith("_18_65"):
            young.add((v[4:-6], p))
    for v, p in ok:
        m = _VALUE_RE.match(v)
        if m and (_variable(m.group("measure"), "65plus"), p) in ok:
            periods.setdefault(m.group("measure"), []).append(p)
    return StoreFacts({m: sorted(ps) for m, ps in periods.items()}, frozenset(young),
                      standardisable(con, catalogue))


def effective_years(facts: StoreFacts, indicators: Sequence[str], baseline: int, latest: int,
                    catalogue: Catalogue) -> tuple[tuple[str, int | None, int | None], ...]:
    """Per indicator the 50090NED periods :func:`standardised_gaps` uses for the asked years
    (nearest; ties: earlier baseline, later latest), ``None`` where it has none: two pairs of
    asked years with the same effective years give the same result."""
    out = []
    for indicator in indicators:
        measure = measure_of(indicator, catalogue)
        periods = facts.periods.get(measure, []) if measure else []
        if not periods:
            out.append((indicator, None, None))
            continue
        out.append((indicator, _nearest(periods, int(baseline), prefer_later=False),
                    _nearest(periods, int(latest), prefer_later=True)))
    return tuple(out)


def standardised_gaps(con, subject: str | Subject, indicators: Sequence[str], baseline: int, latest: int,
                      *, facts: StoreFacts | None = None, standard: Standard | None = None,
                      catalogue: Catalogue | None = None, rows: StoreRows | None = None) -> list[dict]:
    """:func:`standardised_gap` for several indicators of one unit, reading the store once
    (or, with ``rows`` from :func:`store_rows`, reading the rates and weights from memory).

    Returns
    -------
    list of dict
        Per indicator, in the order asked: the result of :func:`standardised_gap` (the same
        numbers), or ``{"indicator", "indicator_name", "error"}`` with the Dutch reason why it
        cannot be computed.

    Raises
    ------
    CompositionError
        Unknown area (Dutch message).
    """
    catalogue = catalogue or load_catalogue()
    standard = standard or load_standard()
    facts = facts or store_facts(con, catalogue)
    subj = subject if isinstance(subject, Subject) else resolve_subject(con, subject)
    reasons = facts.table.set_index("indicator")["reason"]
    years_of = {i: (b, l) for i, b, l in effective_years(facts, indicators, baseline, latest, catalogue)}
    plan, out = {}, []
    for indicator in indicators:
        ind = catalogue[indicator]
        measure = measure_of(indicator, catalogue)
        periods = facts.periods.get(measure, []) if measure else []
        if measure is None:
            out.append(dict(indicator=indicator, indicator_name=ind.name,
                            error=f"kan niet worden gestandaardiseerd: {reasons.get(indicator, '')}"))
            continue
        if not periods:
            out.append(dict(indicator=indicator, indicator_name=ind.name,
                            error="geen 50090NED-cijfers voor 18+ en 65+ in de store"))
            continue
        b, l = years_of[indicator]
        plan[indicator] = (measure, b, l)
        out.append(None)
    codes = tuple(dict.fromkeys((*subj.codes, subj.reference)))
    years = sorted({y for _, b, l in plan.values() for y in (b, l)})
    if plan:
        rates = load_rates_many(con, sorted({m for m, _, _ in plan.values()}), years, codes, rows)
        weights = load_weights(con, codes, years, standard, rows)
        by_measure = {m: g.drop(columns="measure") for m, g in rates.groupby("measure")}
        empty = rates.iloc[0:0].drop(columns="measure")
    for i, indicator in enumerate(indicators):
        if out[i] is not None:
            continue
        measure, b, l = plan[indicator]
        derive = {y: (measure, y) not in facts.young for y in {b, l}}
        out[i] = _result(subj, catalogue[indicator], b, l, by_measure.get(measure, empty), weights,
                         derive, standard)
    return out


# ---------------------------------------------------------------------------------------
# How good is the derived 18-65 rate? (periods where 18-65 is published)
# ---------------------------------------------------------------------------------------

def derivation_check(con, measure: str = "ervaren_goed", *, level: str = "WK",
                     standard: Standard | None = None) -> pd.DataFrame:
    """Compare the derived 18-65 rate with the published one, per period where both exist.

    Returns
    -------
    DataFrame
        Per period, in procentpunten (derived minus published): ``period, regions`` (regions of
        ``level`` -- ``WK`` or ``BU`` -- whose 18+, 65+ and 18-65 rates are all shown and whose KWB
        weights are known), ``mean_error, mean_abs_error, p90_abs_error`` of the 18-65 rate, and
        ``gap_regions, gap_mean_error, gap_mean_abs_error, gap_p90_abs_error`` of the
        standardised gap of each region to its gemeente (both derived vs. both published).
    """
    standard = standard or load_standard()
    sy, so = standard.shares["18_65"], standard.shares["65plus"]
    gem = con.execute("SELECT code, gemeente_code FROM regions WHERE year = ?", [GEO_YEAR]).df()
    gem = gem.set_index("code")["gemeente_code"]
    out = []
    for period in periods_available(con, measure):
        if not young_published(con, measure, period):
            continue
        codes = [r[0] for r in con.execute("""
            SELECT DISTINCT o.region_code FROM observations o JOIN sources s USING (source_id)
            WHERE s.table_id = ? AND o.variable = ? AND o.period = ? AND o.status = 'ok'
              AND left(o.region_code, 2) IN (?, 'GM')""",
                                             [TABLE_ID, _variable(measure, "18_65"), period, level]).fetchall()]
        rates = load_rates(con, measure, [period], codes)
        weights = load_weights(con, codes, [period], standard)
        r = rates.pivot_table(index="code", columns="group", values="value")
        w = weights.pivot_table(index="code", columns="group", values="weight").add_suffix("_w")
        df = r.join(w).dropna()
        df["derived"] = derive_young(df[CRUDE_GROUP], df["65plus"], df["18_65_w"], df["65plus_w"])
        df["std_pub"] = sy * df["18_65"] + so * df["65plus"]
        df["std_der"] = sy * df["derived"] + so * df["65plus"]
        units = df[df.index.str.startswith(level)]
        err = units["derived"] - units["18_65"]
        ref = gem.reindex(units.index)
        has_ref = ref.isin(df.index).to_numpy()
        u, rc = units[has_ref], ref[has_ref].to_numpy()
        gap_err = ((u["std_der"].to_numpy() - df.loc[rc, "std_der"].to_numpy())
                   - (u["std_pub"].to_numpy() - df.loc[rc, "std_pub"].to_numpy()))
        gap_err = pd.Series(gap_err)
        out.append(dict(period=period, regions=len(err), mean_error=err.mean(),
                        mean_abs_error=err.abs().mean(), p90_abs_error=err.abs().quantile(0.9),
                        gap_regions=len(gap_err), gap_mean_error=gap_err.mean(),
                        gap_mean_abs_error=gap_err.abs().mean(),
                        gap_p90_abs_error=gap_err.abs().quantile(0.9)))
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------
# One line per indicator: crude and standardised gap change (the website and the report)
# ---------------------------------------------------------------------------------------

def _why_not(result: dict, row: dict) -> str | None:
    """Dutch reason why a row's gap change is missing (None when it is there)."""
    if row["gap_change"] is not None:
        return None
    b, l = result["baseline_year"], result["latest_year"]
    if b == l:
        return f"50090NED heeft deze maat alleen voor {b}: geen verandering te berekenen"
    why = []
    for tag, year in (("baseline", b), ("latest", l)):
        if row[f"status_{tag}"] != STATUS_OK:
            why.append(f"{result['area_name']} {year}: {row[f'status_{tag}']}")
        if row[f"reference_status_{tag}"] != STATUS_OK:
            why.append(f"{result['reference_name']} {year}: {row[f'reference_status_{tag}']}")
    return "; ".join(why) or STATUS_MISSING


def gap_summary(result: dict) -> dict:
    """The crude and the standardised gap change of one :func:`standardised_gap` result (or
    an error entry of :func:`standardised_gaps`), with the Dutch reason where one is missing.

    Returns
    -------
    dict
        ``indicator, indicator_name, baseline_year, latest_year, crude_baseline, crude_latest,
        crude_change, standardised_baseline, standardised_latest, standardised_change, derived``
        (gaps in the indicator's unit; None where not computable) and ``crude_reason``,
        ``standardised_reason`` (None where computed).
    """
    if "error" in result:
        return dict(indicator=result["indicator"], indicator_name=result["indicator_name"],
                    baseline_year=None, latest_year=None, crude_baseline=None, crude_latest=None,
                    crude_change=None, standardised_baseline=None, standardised_latest=None,
                    standardised_change=None, derived=False,
                    crude_reason=result["error"], standardised_reason=result["error"])
    rows = {r["measure"]: r for r in result["rows"]}
    crude, std = rows["ruw (18+)"], rows["leeftijdsgestandaardiseerd"]
    return dict(indicator=result["indicator"], indicator_name=result["indicator_name"],
                baseline_year=result["baseline_year"], latest_year=result["latest_year"],
                crude_baseline=crude["gap_baseline"], crude_latest=crude["gap_latest"],
                crude_change=crude["gap_change"], standardised_baseline=std["gap_baseline"],
                standardised_latest=std["gap_latest"], standardised_change=std["gap_change"],
                derived=bool(std["derived_baseline"] or std["derived_latest"]),
                crude_reason=_why_not(result, crude), standardised_reason=_why_not(result, std))


def plain_rule(standard: Standard, reference: str = "de gemeente") -> str:
    """The method in two plain Dutch sentences (the full rule is :func:`rule_text`);
    ``reference``: what the unit is compared with (``Nederland`` for a gemeente)."""
    return ("Een gebied met veel ouderen scoort bij gezondheid vaak lager, ook als er niets verandert. "
            f"Daarom staat naast de gewone (ruwe) afstand tot {reference} ook de afstand na "
            f"leeftijdsstandaardisatie: gebied en {reference.removeprefix('de ')} worden omgerekend naar "
            "dezelfde leeftijdsopbouw, "
            f"die van de standaardbevolking {standard.name} ("
            + ", ".join(f"{AGE_LABELS[g]} {_pct(standard.shares[g])}" for g in AGE_GROUPS) + ").")
