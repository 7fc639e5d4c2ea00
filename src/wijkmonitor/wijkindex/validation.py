"""Validation of the default Wijkindex on the real data (issue 16), printed by
``scripts/validate-wijkindex``; the figures are written in the README as they came (the
weights are not tuned to them).

1. **Focusgebieden in the selection**: per year and level (buurt, wijk) and rule, the share
   of the population of the 20 NPLV focusgebieden that lives in selected units. The units of a
   focusgebied are its own codes (areas drawn on wijken: their wijken, or the buurten of those
   wijken; areas drawn on buurten: their buurten), matched by code in the division of the
   year (2020 for 2012-2020, 2024 for later years). Population: ``regions.population`` of
   the code in the nearest division year that has one. The share is over the population living in units that have what the rule
   needs (an index, or domain deciles), so missing data do not count as "not selected".
2. **Leefbaarometer 2.0**: Spearman rank correlation, over the wijken with both, between the
   Leefbaarometer 2.0 total score of 2016 (``leefbaarometer_score``, source
   ``lbm2-dimensies-wijk``, wijk indeling 2016) and the wijk index (2024, the only year with
   all domains) and each domain score of 2016, matched by wijk code. Higher Leefbaarometer is
   better and higher Wijkindex is worse: agreement shows as a negative correlation.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr

from .. import store
from ..areas import load_areas
from .model import load_index


def _division(year: int) -> int:
    return 2020 if year <= 2020 else 2024


def focus_units(con, level: str, division: int) -> pd.DataFrame:
    """``code, area_id, population`` of the focusgebieden' units at ``level`` in ``division``."""
    rows = []
    for a in load_areas().values():
        if a.programme != "nplv":
            continue
        for c in a.codes:
            rows.append((a.id, c, a.level))
    df = pd.DataFrame(rows, columns=["area_id", "code", "area_level"])
    # population: the code's inhabitants in the nearest division year that has them (the 2020
    # division has no population of its own on the mirror)
    reg = con.execute("""
        SELECT r.code, r.level, r.wijk_code,
               (SELECT arg_min(p.population, abs(p.year - r.year) * 10000 - p.year) FROM regions p
                WHERE p.code = r.code AND p.population IS NOT NULL) AS population
        FROM regions r WHERE r.year = ?""", [division]).df()
    if level == "wijk":
        wk = df[df["area_level"] == "wijk"].merge(reg[reg["level"] == "wijk"], on="code")
        bu = df[df["area_level"] == "buurt"].merge(reg[reg["level"] == "buurt"], on="code")
        # areas drawn on buurten: the wijken holding their buurten (not exact; said in the table)
        bu = bu[["area_id", "wijk_code"]].drop_duplicates().rename(columns={"wijk_code": "code"}) \
            .merge(reg[reg["level"] == "wijk"], on="code")
        out = pd.concat([wk, bu], ignore_index=True)
    else:
        bu = df[df["area_level"] == "buurt"].merge(reg[reg["level"] == "buurt"], on="code")
        wk = df[df["area_level"] == "wijk"][["area_id", "code"]].rename(columns={"code": "wijk_code"}) \
            .merge(reg[reg["level"] == "buurt"], on="wijk_code")
        out = pd.concat([bu, wk], ignore_index=True)
    return out[["code", "area_id", "population"]].drop_duplicates("code")


def focus_shares(path: Path | None = None, rules=("bottom-decile", "domains-below:3")) -> pd.DataFrame:
    spec = load_index()
    con = store.connect(path)
    try:
        years = con.execute("SELECT DISTINCT unit_kind, period FROM wijkindex_values WHERE index_id = ? "
                            "AND unit_kind IN ('buurt', 'wijk') ORDER BY 1, 2", [spec.id]).fetchall()
        vals = con.execute("""SELECT unit_id, unit_kind, period, domain, status, decile FROM wijkindex_values
                              WHERE index_id = ? AND unit_kind IN ('buurt', 'wijk')""", [spec.id]).df()
        out = []
        for level, year in years:
            units = focus_units(con, level, _division(year))
            v = vals[(vals["unit_kind"] == level) & (vals["period"] == year)]
            idx = v[v["domain"].isna()].set_index("unit_id")
            dom = v[v["domain"].notna()]
            n_dom = dom[dom["status"] == "ok"].groupby("unit_id").size()
            k1 = dom[dom["decile"] == 1].groupby("unit_id").size()
            for rule in rules:
                if rule == "bottom-decile":
                    known = set(idx.index[idx["status"] == "ok"])
                    chosen = set(idx.index[idx["decile"] == 1])
                else:
                    k = int(rule.split(":")[1])
                    known = set(n_dom.index[n_dom >= k])  # enough domains to reach K
                    chosen = set(k1.index[k1 >= k])
                u = units[units["code"].isin(known)]
                pop_known = u["population"].sum()
                pop_sel = u[u["code"].isin(chosen)]["population"].sum()
                out.append(dict(level=level, year=int(year), rule=rule,
                                focus_population=int(units["population"].sum()),
                                population_with_data=int(pop_known),
                                population_selected=int(pop_sel),
                                share=pop_sel / pop_known if pop_known else None,
                                units_selected_nl=len(chosen), units_with_data_nl=len(known)))
        return pd.DataFrame(out)
    finally:
        con.close()


def leefbaarometer_correlations(path: Path | None = None) -> pd.DataFrame:
    spec = load_index()
    con = store.connect(path)
    try:
        lbm = con.execute("""SELECT region_code AS code, value AS lbm FROM indicator_values
                             WHERE indicator = 'leefbaarometer_score' AND period = 2016 AND status = 'ok'
                             AND left(region_code, 2) = 'WK'""").df().drop_duplicates("code")
        rows = []
        for comp, year in [(spec.id, 2024)] + [(spec.component_id(d.id), 2016) for d in spec.domeinen]:
            w = con.execute("""SELECT unit_id AS code, value FROM wijkindex_values WHERE component = ?
                               AND unit_kind = 'wijk' AND period = ? AND status = 'ok'""", [comp, year]).df()
            both = lbm.merge(w, on="code")
            if len(both) < 10:
                rows.append(dict(component=comp, year=year, n=len(both), spearman=None))
                continue
            rho = spearmanr(both["lbm"], both["value"]).statistic
            rows.append(dict(component=comp, year=year, n=len(both), spearman=float(rho)))
        return pd.DataFrame(rows)
    finally:
        con.close()


def main(path: Path | None = None) -> None:  # pragma: no cover - printed by the script
    pd.set_option("display.width", 200)
    shares = focus_shares(path)
    print("Aandeel van de inwoners van de 20 NPLV-focusgebieden in de selectie")
    print("(van de inwoners in eenheden met de gegevens die de regel nodig heeft)\n")
    shown = shares[shares["population_with_data"] > 0]
    print(shown.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    none = shares[shares["population_with_data"] == 0]
    if len(none):
        print("\nZonder gegevens voor de regel (geen wijkindex in dat jaar): "
              + ", ".join(f"{r.level} {r.year} {r.rule}" for r in none.itertuples()))
    print()
    cor = leefbaarometer_correlations(path)
    print("Spearman-rangcorrelatie met de Leefbaarometer 2.0-totaalscore (wijk, 2016)")
    print("(hogere Leefbaarometer = beter, hogere wijkindex = meer achterstand: overeenstemming is negatief)\n")
    print(cor.to_string(index=False))
