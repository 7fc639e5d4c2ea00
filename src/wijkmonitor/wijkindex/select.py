"""Reading the built Wijkindex: the selection of areas with an accumulation of problems, and
one index or domain value in the shape of an indicator value (``value --indicator
wijkindex``).

Selection rules (``--rule``):

``bottom-decile``
    the index is in decile 1 (the 10 % of the level with the most achterstand, in that year);
``domains-below:K``
    at least ``K`` domain scores are in decile 1 of their domain (the index itself may be
    missing: a buurt without a veiligheid figure can still lag on three other domains).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from .. import store
from .model import IndexSpec, component_ids, load_index

RULES = ("bottom-decile", "domains-below:K")
_RULE_RE = re.compile(r"^(bottom-decile|domains-below:(\d+))$")

#: The unit and polarity of every index and domain value.
UNIT = "score 0-100"
POLARITY = "hoger is slechter"

STATUS_EXPLANATION_NOT_BUILT = ("niet beschikbaar: de store bevat nog geen wijkindex (draai "
                                "'wijkmonitor build --no-ingest')")


class SelectionError(ValueError):
    """A bad selection request (Dutch message for the user)."""


def parse_rule(rule: str, n_domains: int) -> tuple[str, int]:
    """``('bottom-decile', 0)`` or ``('domains-below', K)``; raises :class:`SelectionError`."""
    m = _RULE_RE.match(rule.strip()) if isinstance(rule, str) else None
    if not m:
        raise SelectionError(f"onbekende regel {rule!r}; kies 'bottom-decile' of 'domains-below:K' "
                             f"(K = 1 tot en met {n_domains})")
    if m.group(2) is None:
        return "bottom-decile", 0
    k = int(m.group(2))
    if not 1 <= k <= n_domains:
        raise SelectionError(f"regel {rule!r}: K moet 1 tot en met {n_domains} zijn (aantal domeinen)")
    return "domains-below", k


def _has_table(con, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [name]).fetchone()[0])


def _approximation_col(con, alias: str = "") -> str:
    """``approximation`` of ``wijkindex_values``, or NULL in a store built before it existed."""
    has = con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'wijkindex_values' "
                      "AND column_name = 'approximation'").fetchone()[0]
    return f"{alias}approximation" if has else "NULL::VARCHAR AS approximation"


def profile_frame(con: duckdb.DuckDBPyConnection, spec: IndexSpec, level: str, year: int,
                  gemeente: str | None = None) -> pd.DataFrame:
    """One row per unit of ``level`` in ``year``: the index, its decile and ranks with their
    intervals, and per domain the score and decile (columns ``<domain>`` and
    ``<domain>_decile``); ``approximation`` (and ``<domain>_approximation``): which approximated
    inputs the index (domain) used, None: none."""
    if not _has_table(con, "wijkindex_values"):
        raise store.StoreMissing(STATUS_EXPLANATION_NOT_BUILT)
    params = [spec.id, level, int(year)]
    where = ""
    if gemeente:
        where = " AND v.gemeente = ?"
        params.append(gemeente)
    df = con.execute(f"""
        SELECT v.component, v.domain, v.unit_id, v.gemeente, v.value, v.status, v.reason, v.decile,
               v.rank_nl, v.n_nl, v.rank_nl_low, v.rank_nl_high, v.rank_gemeente, v.n_gemeente,
               v.rank_gemeente_low, v.rank_gemeente_high, v.domains_available, v.index_version,
               {_approximation_col(con, "v.")}
        FROM wijkindex_values v
        WHERE v.index_id = ? AND v.unit_kind = ? AND v.period = ?{where}""", params).df()
    if df.empty:
        return df
    idx = df[df["domain"].isna()].set_index("unit_id")
    out = idx[["gemeente", "value", "status", "reason", "decile", "rank_nl", "n_nl", "rank_nl_low",
               "rank_nl_high", "rank_gemeente", "n_gemeente", "rank_gemeente_low", "rank_gemeente_high",
               "domains_available", "index_version", "approximation"]].rename(columns={"value": spec.id})
    dom = df[df["domain"].notna()]
    for d in spec.domeinen:
        part = dom[dom["domain"] == d.id].set_index("unit_id")
        out[d.id] = part["value"].reindex(out.index)
        out[d.id + "_decile"] = part["decile"].reindex(out.index)
        out[d.id + "_approximation"] = part["approximation"].reindex(out.index)
    cols = [d.id + "_decile" for d in spec.domeinen]
    out["domains_bottom_decile"] = (out[cols] == 1).sum(axis=1).astype("int64")
    names = con.execute("""
        SELECT code AS unit_id, arg_max(name, year) AS name FROM regions
        WHERE code IN (SELECT unnest(?)) GROUP BY code""", [list(out.index)]).df().set_index("unit_id")
    out.insert(0, "name", names["name"].reindex(out.index))
    out.index.name = "code"
    return out.reset_index()


def select(level: str, year: int, *, gemeente: str | None = None, rule: str = "bottom-decile",
           index: str | None = None, path: Path | None = None) -> tuple[pd.DataFrame, dict]:
    """The units meeting ``rule`` with their domain profile, most achterstand first, and a dict
    describing the selection (rule text, index version, counts)."""
    if level not in ("buurt", "wijk"):
        raise SelectionError(f"niveau {level!r} onbekend; kies buurt of wijk")
    spec = _spec(index)
    kind, k = parse_rule(rule, len(spec.domeinen))
    if gemeente is not None and not re.fullmatch(r"GM\d{4}", gemeente):
        raise SelectionError(f"gemeentecode {gemeente!r} ongeldig; verwacht GM gevolgd door vier cijfers")
    con = store.connect(path)
    try:
        prof = profile_frame(con, spec, level, year, gemeente)
        if prof.empty:
            years = [r[0] for r in con.execute(
                "SELECT DISTINCT period FROM wijkindex_values WHERE index_id = ? AND unit_kind = ? "
                "ORDER BY 1", [spec.id, level]).fetchall()] if _has_table(con, "wijkindex_values") else []
            raise SelectionError(f"geen {level}en met een wijkindex in {year}"
                                 + (f" in {gemeente}" if gemeente else "")
                                 + (f"; jaren met cijfers: {', '.join(map(str, years))}" if years else ""))
    finally:
        con.close()
    if kind == "bottom-decile":
        chosen = prof[prof["decile"] == 1]
        text = f"wijkindex in het onderste deciel (de 10 % {level}en met de meeste achterstand in {year})"
    else:
        chosen = prof[prof["domains_bottom_decile"] >= k]
        text = (f"op minstens {k} van de {len(spec.domeinen)} domeinen in het onderste deciel "
                f"(de 10 % {level}en met de meeste achterstand op dat domein in {year})")
    chosen = chosen.sort_values([spec.id, "domains_bottom_decile"], ascending=[False, False],
                                na_position="last", kind="stable").reset_index(drop=True)
    info = dict(index=spec.id, index_version=spec.version, level=level, year=int(year),
                gemeente=gemeente, rule=rule, rule_text=text, n_selected=len(chosen),
                n_units=len(prof), n_with_index=int((prof["status"] == "ok").sum()),
                domains=[d.id for d in spec.domeinen])
    return chosen, info


def _spec(index: str | None) -> IndexSpec:
    if index is None:
        return load_index()
    comps = component_ids()
    if index not in comps or comps[index][1] is not None:
        raise SelectionError(f"onbekende index {index!r}")
    return comps[index][0]


def is_component(indicator: str) -> bool:
    """True for ``wijkindex`` and ``wijkindex_<domein>`` (of any declared index)."""
    try:
        return indicator in component_ids()
    except Exception:  # noqa: BLE001 - an invalid index file: not a component
        return False


def component_name(indicator: str) -> str:
    spec, dom = component_ids()[indicator]
    if dom is None:
        return spec.naam
    return f"{spec.naam}: {next(d.naam for d in spec.domeinen if d.id == dom)}"


def value_record(con: duckdb.DuckDBPyConnection, unit: str, indicator: str, year: int) -> dict | None:
    """The stored row of one index or domain value as an indicator-value dict (None: no row)."""
    if not _has_table(con, "wijkindex_values"):
        return None
    df = con.execute("""
        SELECT v.*, m.name AS index_name, m.file, m.base_year, m.normalisation, m.draws
        FROM wijkindex_values v JOIN wijkindex_meta m USING (index_id)
        WHERE v.component = ? AND v.unit_id = ? AND v.period = ?""", [indicator, unit, int(year)]).df()
    if df.empty:
        return None
    r = df.iloc[0]

    def num(x):
        return None if pd.isna(x) else float(x)

    def intn(x):
        return None if pd.isna(x) else int(x)

    ok = r["status"] == "ok"
    return dict(
        value=num(r["value"]) if ok else None, status=r["status"],
        reason=(r["reason"] if isinstance(r["reason"], str) else "") if not ok else "",
        numerator=None, denominator=None, estimate=False,
        decile=intn(r["decile"]), rank_nl=intn(r["rank_nl"]), n_nl=intn(r["n_nl"]),
        rank_nl_interval=[intn(r["rank_nl_low"]), intn(r["rank_nl_high"])]
        if not pd.isna(r["rank_nl_low"]) else None,
        rank_gemeente=intn(r["rank_gemeente"]), n_gemeente=intn(r["n_gemeente"]),
        rank_gemeente_interval=[intn(r["rank_gemeente_low"]), intn(r["rank_gemeente_high"])]
        if not pd.isna(r["rank_gemeente_low"]) else None,
        domains_available=r["domains_available"] if isinstance(r["domains_available"], str) else None,
        indicators_used=r["indicators_used"] if isinstance(r["indicators_used"], str) else None,
        approximation=r["approximation"] if ok and isinstance(r.get("approximation"), str) else None,
        index_version=r["index_version"],
        source=dict(source_id=f"{r['index_id']}:{r['index_version']}", table_id=r["index_id"],
                    title=f"{r['index_name']} (berekend door wijkmonitor uit de catalogusindicatoren)",
                    publisher="wijkmonitor", licence="CC BY 4.0 (bronnen: zie de indicatoren)",
                    location=f"src/wijkmonitor/wijkindex/{r['file']}", retrieved=None))


def component_rows() -> list[dict]:
    """The index and domain values of every declared index as rows of the indicator list
    (``wijkmonitor indicators``, ``/api/v1/indicators``): the same columns as a catalogue
    indicator; ``theme`` is ``wijkindex``, ``aggregation`` ``niet optelbaar`` (an area's index
    is computed from its aggregated indicators, never added up), ``source_note`` names the
    index file and version."""
    rows = []
    for cid, (spec, dom) in component_ids().items():
        if dom is None:
            desc = spec.beschrijving or spec.naam
            parts = ", ".join(d.naam for d in spec.domeinen)
            desc = f"{desc} Domeinen: {parts}."
        else:
            d = next(d for d in spec.domeinen if d.id == dom)
            desc = (f"Domeinscore {d.naam} van de {spec.naam} (0-100, hoger is meer achterstand) uit "
                    + ", ".join(i.id for i in d.indicatoren) + f"; minimaal {d.minimum} indicator(en).")
        rows.append(dict(
            id=cid, name=component_name(cid), description=desc, theme="wijkindex", actielijn=None,
            kernindicator=None, kernindicator_name=None, polarity=POLARITY, unit=UNIT, decimals=1,
            aggregation="niet optelbaar", min_base=None, estimate=False, tolerance=None,
            source_note=(f"berekend door wijkmonitor uit de catalogusindicatoren "
                         f"(src/wijkmonitor/wijkindex/{Path(spec.path).name}, versie {spec.version})"),
            years=None))
    return rows


def component_periods(con: duckdb.DuckDBPyConnection, indicator: str) -> dict[str, list[int]]:
    """Years with at least one shown value of an index or domain, per level (``gebied`` for
    areas), as :meth:`wijkmonitor.web.data.WebStore.indicator_periods` gives them for an
    indicator."""
    out: dict[str, list[int]] = {"gebied": []}
    if not _has_table(con, "wijkindex_values"):
        return out
    df = con.execute("""SELECT DISTINCT unit_kind, period FROM wijkindex_values
                        WHERE component = ? AND status = 'ok' ORDER BY 2""", [indicator]).df()
    for kind, g in df.groupby("unit_kind"):
        out["gebied" if kind == "area" else kind] = sorted(g["period"].astype(int).tolist())
    return out


def unit_profile(con: duckdb.DuckDBPyConnection, unit: str, year: int | None = None,
                 index: str | None = None) -> dict | None:
    """The Wijkindex of one unit (CBS code or area id) for the area page and the area fiche:
    the latest year with an index (else with any domain score) or ``year``; the index with
    decile, ranks and their 90 % intervals; per domain the score and decile; per component the
    change since the index's base year (``None`` where either year has no score, with
    ``base_reason``) and ``approximation``, the approximated inputs its score used, indicator
    names in words (None: none). ``None``: the unit has no row at all."""
    if not _has_table(con, "wijkindex_values"):
        return None
    spec = _spec(index)
    df = con.execute(f"""
        SELECT component, domain, period, value, status, reason, decile, rank_nl, n_nl, rank_nl_low,
               rank_nl_high, rank_gemeente, n_gemeente, rank_gemeente_low, rank_gemeente_high,
               rank_programme, n_programme, rank_programme_low, rank_programme_high, domains_available,
               unit_kind, programme, index_version, {_approximation_col(con)}
        FROM wijkindex_values WHERE index_id = ? AND unit_id = ?""", [spec.id, unit]).df()
    if df.empty:
        return None
    ok = df[df["status"] == "ok"]
    if year is None:
        with_index = ok[ok["domain"].isna()]["period"]
        year = int(with_index.max()) if len(with_index) else int(ok["period"].max()) if len(ok) else \
            int(df["period"].max())
    cur = df[df["period"] == year]

    def num(x):
        return None if x is None or pd.isna(x) else float(x)

    def intn(x):
        return None if x is None or pd.isna(x) else int(x)

    base_year = spec.basisjaar

    def change(component: str) -> tuple[float | None, str | None]:
        now = ok[(ok["component"] == component) & (ok["period"] == year)]
        then = ok[(ok["component"] == component) & (ok["period"] == base_year)]
        if year == base_year:
            return None, f"{year} is het basisjaar"
        if now.empty or then.empty:
            return None, f"geen score in {base_year if then.empty else year}"
        return float(now["value"].iloc[0] - then["value"].iloc[0]), None

    # approximation texts name the index's own indicators (their wording, e.g. "gewogen met
    # huishoudens", holds words that are catalogue ids too and must stay words)
    own = [i.id for _, i in spec.indicators()]
    idx = cur[cur["domain"].isna()]
    r = idx.iloc[0] if len(idx) else None
    index_change, index_change_reason = change(spec.id)
    domains = []
    for d in spec.domeinen:
        row = cur[cur["domain"] == d.id]
        c, why = change(spec.component_id(d.id))
        if row.empty:
            domains.append(dict(id=d.id, naam=d.naam, weight=d.gewicht, score=None, decile=None,
                                approximation=None, reason="geen cijfers in dit jaar", change=None, change_reason=why))
            continue
        x = row.iloc[0]
        shown = x["status"] == "ok"
        domains.append(dict(id=d.id, naam=d.naam, weight=d.gewicht, score=num(x["value"]) if shown else None,
                            decile=intn(x["decile"]) if shown else None,
                            approximation=readable(x["approximation"], own) if shown and
                            isinstance(x["approximation"], str) else None,
                            reason=None if shown else readable(x["reason"] if isinstance(x["reason"], str)
                                                               else x["status"]),
                            change=c, change_reason=why))

    def interval(lo, hi):
        lo, hi = intn(lo), intn(hi)
        return [lo, hi] if lo is not None and hi is not None else None

    shown = r is not None and r["status"] == "ok"
    return dict(
        index=spec.id, name=spec.naam, version=spec.version, year=int(year), base_year=base_year,
        years=sorted(int(y) for y in ok[ok["domain"].isna()]["period"].unique()),
        value=num(r["value"]) if shown else None, status=r["status"] if r is not None else STATUS_MISSING,
        reason=readable(r["reason"] if r is not None and isinstance(r["reason"], str) else
                        "geen wijkindex in dit jaar") if not shown else None,
        decile=intn(r["decile"]) if shown else None,
        rank_nl=intn(r["rank_nl"]) if shown else None, n_nl=intn(r["n_nl"]) if shown else None,
        rank_nl_interval=interval(r["rank_nl_low"], r["rank_nl_high"]) if shown else None,
        rank_gemeente=intn(r["rank_gemeente"]) if shown else None,
        n_gemeente=intn(r["n_gemeente"]) if shown else None,
        rank_gemeente_interval=interval(r["rank_gemeente_low"], r["rank_gemeente_high"]) if shown else None,
        rank_programme=intn(r["rank_programme"]) if shown else None,
        n_programme=intn(r["n_programme"]) if shown else None,
        rank_programme_interval=interval(r["rank_programme_low"], r["rank_programme_high"]) if shown else None,
        change=index_change, change_reason=index_change_reason, domains=domains,
        approximation=readable(r["approximation"], own) if shown and isinstance(r["approximation"], str) else None,
        unit_kind=str(df["unit_kind"].iloc[0]))


STATUS_MISSING = "niet beschikbaar"


def rank_text(rank: int | None, interval: list[int] | None) -> str:
    """``rang 12 (9-17)``: a rank with its 90 % interval (Dutch, the reports' notation)."""
    if rank is None:
        return ""
    if not interval:
        return f"rang {rank}"
    return f"rang {rank} ({interval[0]}-{interval[1]})"


def readable(text, only=None):
    """A stored reason with every catalogue indicator id replaced by the indicator's name
    (``ontbreekt: woz_gemiddeld`` -> ``ontbreekt: Gemiddelde WOZ-waarde``): pages and
    reports show names, never ids. ``only``: replace these ids only."""
    if not isinstance(text, str) or not text:
        return text
    from ..catalogue import load_catalogue

    cat = load_catalogue()
    ids = sorted((i for i in cat if i in text and (only is None or i in only)), key=len, reverse=True)
    if not ids:
        return text
    pattern = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, ids)) + r")(?![\w])")
    return pattern.sub(lambda m: cat[m.group(1)].name, text)
