"""The Python API for analysts: everything as pandas DataFrames.

>>> import wijkmonitor.api as wm
>>> wm.value("GM0344", "inwoners", 2024)["value"]          # doctest: +SKIP
>>> wm.values("ervaren_gezondheid_pct", level="wijk", period=2020)   # doctest: +SKIP

All functions read the built store (``WIJKMONITOR_STORE`` or ``var/wijkmonitor.duckdb``; pass
``path=`` to use another). Nothing here recomputes: the numbers are those the website, the
report and the CLI show.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import regions as _regions
from . import store
from .catalogue import load_catalogue
from .compute import STATUS_EXPLANATION

regions = _regions.regions
code_changes = _regions.code_changes
find_regions = _regions.find


def indicators() -> pd.DataFrame:
    """The catalogue as a table (one row per indicator), followed by the Wijkindex and its
    domains of every declared index (``wijkindex``, ``wijkindex_<domein>``, theme
    ``wijkindex``): :func:`value` accepts those ids like any indicator."""
    cat = load_catalogue()
    rows = []
    for ind in cat.values():
        rows.append(dict(
            id=ind.id, name=ind.name, description=ind.description, theme=ind.theme,
            actielijn=ind.nplv.actielijn, kernindicator=ind.nplv.kernindicator,
            kernindicator_name=ind.kernindicator_name, polarity=ind.polarity, unit=ind.unit,
            decimals=ind.decimals, aggregation=ind.aggregation, min_base=ind.min_base,
            estimate=ind.estimate, tolerance=ind.tolerance, source_note=ind.source_note,
            years=f"{min(f.years[0] for f in ind.formulas)}-{max(f.years[1] for f in ind.formulas)}",
            catalogue_version=cat.version))
    from .wijkindex import select as _wi
    rows += [r | dict(catalogue_version=cat.version) for r in _wi.component_rows()]
    return pd.DataFrame(rows)


_VALUES_SQL = """
    SELECT v.indicator, v.region_code, r.name AS region_name, r.level, v.geo_year, v.period,
           v.value, v.numerator, v.denominator, v.status, v.estimate,
           v.source_id, s.table_id AS source_table, s.title AS source_title,
           s.publisher AS source_publisher, s.location AS source_location,
           s.retrieved AS source_retrieved, v.base_source_id, v.base_period, v.catalogue_version
    FROM indicator_values v
    LEFT JOIN regions r ON r.code = v.region_code AND r.year = v.geo_year
    LEFT JOIN sources s ON s.source_id = v.source_id
"""


def values(indicator: str | None = None, *, region: str | list[str] | None = None,
           period: int | None = None, level: str | None = None, status: str | None = None,
           path: Path | None = None) -> pd.DataFrame:
    """Indicator values with status and provenance.

    Parameters
    ----------
    indicator : catalogue id (all indicators when omitted)
    region : a CBS code or a list of codes
    period : the year the figures describe
    level : ``land``, ``gemeente``, ``wijk`` or ``buurt``
    status : keep only this status (``ok``, ``geheim``, ``te weinig waarnemingen``, ``niet beschikbaar``)
    """
    where, params = [], []
    if indicator:
        where.append("v.indicator = ?"); params.append(indicator)
    if region is not None:
        codes = [region] if isinstance(region, str) else list(region)
        where.append("v.region_code IN (SELECT unnest(?))"); params.append(codes)
    if period is not None:
        where.append("v.period = ?"); params.append(int(period))
    if level:
        where.append("r.level = ?"); params.append(level)
    if status:
        where.append("v.status = ?"); params.append(status)
    sql = _VALUES_SQL + (" WHERE " + " AND ".join(where) if where else "") + \
        " ORDER BY v.indicator, v.period, v.region_code, v.geo_year"
    df = store.query_df(sql, params, path=path)
    df["reason"] = df["status"].map(STATUS_EXPLANATION)
    return df


def value(region: str, indicator: str, year: int, *, path: Path | None = None) -> dict:
    """One indicator value as a dict: ``value`` (None when not shown), ``status``, ``reason``,
    ``numerator``, ``denominator``, ``source`` (table, title, publisher, file or URL, retrieval
    date, licence) and the indicator's definition.

    When a code exists in several divisions for the same period, the division of that year is
    preferred, else the division nearest that year (ties: the later), as the build picks the
    publication of an area and its gemeente (so a 2012 RIVM figure comes from 50090NED on the
    2020 division, not from the 50150NED re-publication on the 2024 one).

    ``lower``, ``upper`` (95 %) and ``interval_method`` give the value's uncertainty
    (:mod:`wijkmonitor.uncertainty`; ``interval_note`` in words, marked as an approximation
    for model estimates).
    """
    cat = load_catalogue()
    if indicator not in cat:
        from .wijkindex import select as _wi
        if _wi.is_component(indicator):
            return _wijkindex_value(region, indicator, int(year), path)
        raise KeyError(f"onbekende indicator {indicator!r}; zie 'wijkmonitor indicators'")
    ind = cat[indicator]
    df = store.query_df(
        _VALUES_SQL + " WHERE v.indicator = ? AND v.region_code = ? AND v.period = ? "
        "ORDER BY (v.geo_year = v.period) DESC, abs(v.geo_year - v.period), v.geo_year DESC LIMIT 1",
        [indicator, region, int(year)], path=path)
    base = dict(region=region, indicator=indicator, year=int(year), indicator_name=ind.name,
                unit=ind.unit, polarity=ind.polarity, min_base=ind.min_base,
                catalogue_version=cat.version)
    if df.empty:
        known = store.query_df("SELECT count(*) AS n FROM regions WHERE code = ?", [region], path=path)
        reason = ("onbekende regiocode" if not known["n"].iloc[0] else
                  "niet beschikbaar: geen bron met dit cijfer voor dit gebied en jaar")
        return base | dict(value=None, status="niet beschikbaar", reason=reason, numerator=None,
                           denominator=None, estimate=ind.estimate, region_name=None, level=None,
                           geo_year=None, source=None, lower=None, upper=None,
                           interval_method=None, interval_note=None)
    row = df.iloc[0]
    src = store.query_df("SELECT * FROM sources WHERE source_id = ?", [row["source_id"]], path=path)
    source = None
    if not src.empty:
        s = src.iloc[0]
        source = dict(source_id=s["source_id"], table_id=s["table_id"], title=s["title"],
                      publisher=s["publisher"], licence=s["licence"], location=s["location"],
                      retrieved=s["retrieved"])
    return base | dict(
        value=_num(row["value"]), status=row["status"], reason=STATUS_EXPLANATION[row["status"]],
        numerator=_num(row["numerator"]), denominator=_num(row["denominator"]),
        estimate=bool(row["estimate"]), region_name=row["region_name"], level=row["level"],
        geo_year=int(row["geo_year"]), source=source,
        base_source_id=row["base_source_id"] if isinstance(row["base_source_id"], str) else None,
        **_interval(ind, row))


def _interval(ind, row) -> dict:
    """``lower``, ``upper``, ``interval_method`` and ``interval_note`` of one value row."""
    from .uncertainty import interval_fields, level_of_code

    base = row.get("base_source_id")
    return interval_fields(ind, _num(row["value"]), _num(row["numerator"]), _num(row["denominator"]),
                           status=row["status"], source=row.get("source_id"),
                           level=level_of_code(row.get("region_code")),
                           base_source=base if isinstance(base, str) else None)


def _num(x):
    return None if pd.isna(x) else float(x)


def _wijkindex_value(region: str, indicator: str, year: int, path: Path | None) -> dict:
    """``value`` for the Wijkindex and its domains (``wijkindex``, ``wijkindex_<domein>``):
    the same fields as an indicator value, plus decile, ranks with their interval and the
    domains and indicator years used (see :mod:`wijkmonitor.wijkindex`)."""
    from .wijkindex import select as _wi

    base = dict(region=region, indicator=indicator, year=year, indicator_name=_wi.component_name(indicator),
                unit=_wi.UNIT, polarity=_wi.POLARITY, min_base=None, catalogue_version=load_catalogue().version)
    con = store.connect(path)
    try:
        rec = _wi.value_record(con, region, indicator, year)
        reg = con.execute("SELECT name, level, year FROM regions WHERE code = ? ORDER BY year DESC LIMIT 1",
                          [region]).fetchall()
    finally:
        con.close()
    names = dict(region_name=reg[0][0], level=reg[0][1], geo_year=int(reg[0][2])) if reg else \
        dict(region_name=None, level=None, geo_year=None)
    if rec is None:
        reason = ("onbekende regiocode" if not reg else
                  "niet beschikbaar: geen wijkindex voor dit gebied en jaar (geen van de indicatoren heeft "
                  "een cijfer, of het jaar valt buiten de jaren die de gegevens toelaten)")
        return base | names | dict(value=None, status="niet beschikbaar", reason=reason, numerator=None,
                                   denominator=None, estimate=False, source=None)
    return base | names | rec


def sources(path: Path | None = None) -> pd.DataFrame:
    """Every source table in the store with its provenance."""
    return store.query_df("SELECT * FROM sources ORDER BY rank", path=path)


def observations(variable: str | None = None, region: str | None = None,
                 path: Path | None = None) -> pd.DataFrame:
    """Raw observations (long format) with their status and source."""
    where, params = [], []
    if variable:
        where.append("variable = ?"); params.append(variable)
    if region:
        where.append("region_code = ?"); params.append(region)
    sql = "SELECT * FROM observations" + (" WHERE " + " AND ".join(where) if where else "")
    return store.query_df(sql, params, path=path)


def area_values(unit: str | list[str] | None = None, indicator: str | None = None, *,
                period: int | None = None, path: Path | None = None) -> pd.DataFrame:
    """Values of areas, rest of gemeente, gemeenten, groups and programme sets (``area_values``),
    with the reason for every value that is not shown and its coverage."""
    from .aggregate import AREA_STATUS_EXPLANATION

    where, params = [], []
    if unit is not None:
        units = [unit] if isinstance(unit, str) else list(unit)
        where.append("unit_id IN (SELECT unnest(?))"); params.append(units)
    if indicator:
        where.append("indicator = ?"); params.append(indicator)
    if period is not None:
        where.append("period = ?"); params.append(int(period))
    df = store.query_df("SELECT * FROM area_values" + (" WHERE " + " AND ".join(where) if where else "")
                        + " ORDER BY unit_id, indicator, period", params, path=path)
    df["reason"] = df["status"].map({**STATUS_EXPLANATION, **AREA_STATUS_EXPLANATION})
    return df


def series(unit: str, indicator: str, *, path: Path | None = None) -> pd.Series:
    """Shown values of one area id (or group) or CBS region code by period (``ok`` only)."""
    df = area_values(unit, indicator, path=path)
    if df.empty:
        df = values(indicator, region=unit, path=path)
        df = (df.assign(same=df["geo_year"] == df["period"])
              .sort_values(["period", "same", "geo_year"]).drop_duplicates("period", keep="last"))
    df = df[df["status"] == "ok"]
    return df.set_index("period")["value"].astype(float).sort_index()


def gaps(areas="nplv", *, baseline: int = 2012, latest: int = 2024, reference: str = "gemeente",
         indicators: list[str] | None = None, path: Path | None = None,
         rule: str = "standaard") -> pd.DataFrame:
    """Gap to the reference and the class of its change, one row per area and indicator.

    The same rows as ``wijkmonitor gap --format json`` (see :func:`wijkmonitor.analysis.gaps`).

    Parameters
    ----------
    areas : str or list of str
        ``"nplv"``, ``"aandachtswijken"``, an area id or name, or a list of area ids.
    baseline, latest : int
        Asked years; per indicator the nearest available years are used (columns
        ``baseline_year`` and ``latest_year``).
    reference : str
        ``gemeente`` (stedelijk gemiddelde), ``rest``, ``G4``, ``G14``, ``G18``, ``NPLV19`` or ``NL``.
    indicators : list of str, optional
        Indicator ids; default all indicators that have a gap (not counts).
    rule : str
        ``standaard`` (with the 95 % interval of the change) or ``omw`` (fixed tolerance).

    Examples
    --------
    >>> wm.gaps("nplv", baseline=2012, latest=2020)          # doctest: +SKIP
    >>> wm.gaps("Utrecht Overvecht", indicators=["ervaren_gezondheid_pct"])  # doctest: +SKIP
    """
    from . import analysis

    return analysis.gaps(areas=areas, indicators=indicators, baseline=baseline, latest=latest,
                         reference=reference, path=path, rule=rule)


def outcome_table(areas: str = "nplv", *, baseline: int = 2012, latest: int = 2024,
                  reference: str = "gemeente", path: Path | None = None) -> pd.DataFrame:
    """The Outcomemonitor table: per indicator the number of areas per class and the value of
    all areas together, G4, G14, G18 and NL at baseline and latest (``wijkmonitor gap --areas``)."""
    from . import analysis

    values = analysis.load_area_values(path)
    g = analysis.gaps(areas=areas, baseline=baseline, latest=latest, reference=reference, path=path,
                      values=values)
    set_unit = f"alle:{areas}" if areas in ("nplv", "aandachtswijken") else None
    return analysis.outcome_table(g, values=values, set_unit=set_unit)


def harmonised(indicator: str | list[str] | None = None, target_year: int | None = None,
               level: str = "gemeente", *, regions: str | list[str] | None = None,
               areas: dict[str, list[str]] | None = None, min_quality: float | None = None,
               path: Path | None = None) -> pd.DataFrame:
    """An indicator for every year on the gemeenten of one year (default 2024).

    Figures published on older gemeenten are moved onto the target year's gemeenten: a merged
    gemeente's 2012 value is the sum of its predecessors' parts (counts split by share, rates
    re-derived from numerators and denominators, published percentages weighted by their base
    and marked as estimates). A result with any suppressed or missing piece is not shown, and
    neither is one whose quality (share from whole gemeenten) is below ``min_quality``; the
    ``reason`` says why. See :mod:`wijkmonitor.series`.

    Parameters
    ----------
    indicator : catalogue id, list of ids, or None for all indicators
    target_year : a year with gemeente polygons (2012, 2017-2019, 2022-2024); default: the
        year the store was harmonised on (the latest)
    level : ``"gemeente"`` (the only level with polygons for more than one year)
    regions : keep only these target-year gemeente codes
    areas : custom areas ``{name: [target-year gemeente codes]}``, added up from the harmonised
        gemeenten; ``region_code`` is then the name
    min_quality : hide values below this quality (default :data:`wijkmonitor.series.MIN_QUALITY`)

    Returns
    -------
    pandas.DataFrame
        ``indicator, region_code, period, value, numerator, denominator, status, quality,
        method, estimate, source_year, n_pieces, reason, source_id``; ``source_year`` is the
        division the figure was published on.

    Examples
    --------
    >>> wm.harmonised("inwoners", regions="GM1963")            # doctest: +SKIP
    """
    from . import series as _series

    return _series.harmonised_series(
        indicator, target_year, level, regions=regions, areas=areas,
        min_quality=_series.MIN_QUALITY if min_quality is None else min_quality, path=path)
