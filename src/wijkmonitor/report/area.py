"""The area fiche (gebiedsfiche): every indicator of one focus area with its gap to the
stedelijk gemiddelde and class, trend charts, a map and progress to its streefwaarden."""

from __future__ import annotations

import functools
import os

import pandas as pd

from .. import analysis
from ..catalogue import THEMES
from . import charts, provenance
from .data import PROGRAMMES, StoreData
from .format import is_number, nl_number, nl_value
from .national import CLASS_ORDER, THEME_TITLES
from .tables import LEGEND, diff_cell, value_cell

LEVEL_WORDS = {"wijk": ("CBS-wijk", "CBS-wijken"), "buurt": ("CBS-buurt", "CBS-buurten"),
               "gemeente": ("gemeente", "gemeenten")}


def resolve(data: StoreData, name_or_id: str) -> str:
    """The area id for a name or id (``KeyError`` with the known names otherwise)."""
    try:
        return str(analysis.select_areas(data.index, [name_or_id])["area_id"].iloc[0])
    except KeyError:
        names = ", ".join(sorted(data.index["name"]))
        raise KeyError(f"onbekend gebied {name_or_id!r}; bekende gebieden: {names}") from None


# ---------------------------------------------------------------------------------------------
# map
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _layer(year: int, level: str):
    from .. import geometries
    return geometries.load(year, level)


def map_figure(area: pd.Series) -> dict:
    """The area on a map: its polygons (matched on code in the nearest polygon layer of the
    mirror), the other wijken of the gemeente and the gemeente outline. Says what it could not
    draw; a placeholder when the geometry module is missing."""
    try:
        from .. import geometries
    except ImportError:  # pragma: no cover - module written by another part of the project
        return dict(uri=None, alt="", note="Kaart niet beschikbaar: de geometriemodule ontbreekt.")
    codes = [c for c in str(area["codes"] or "").split(",") if c]
    level = str(area["level"])
    pairs = [p for p in geometries.available() if p[1] == level]
    if not pairs:
        return dict(uri=None, alt="", note=f"Kaart niet beschikbaar: geen kaartlaag met {level}grenzen.")
    year = min(pairs, key=lambda p: abs(p[0] - int(area["reference_year"])))[0]
    layer = _layer(year, level)
    hit = layer[layer["code"].isin(codes)]
    gm = str(area["gemeente"])
    digits = gm[2:]
    prefix = {"wijk": "WK", "buurt": "BU"}.get(level, "")
    context = layer[layer["code"].str.startswith(prefix + digits) & ~layer["code"].isin(codes)] \
        if prefix else layer.iloc[0:0]
    gm_pairs = sorted((p for p in geometries.available() if p[1] == "gemeente"),
                      key=lambda p: abs(p[0] - int(area["reference_year"])))
    outline = None
    for y, _ in gm_pairs:
        g = _layer(y, "gemeente")
        g = g[g["code"] == gm]
        if len(g):
            outline = g
            break
    w1, w2 = LEVEL_WORDS.get(level, (level, level))
    found = len(hit)
    note = (f"Grenzen: kaartlaag {level} {year} van CBS (de indeling van het gebied is die van "
            f"{int(area['reference_year'])}). {found} van de {len(codes)} "
            f"{w2 if len(codes) != 1 else w1} van het gebied {'staat' if found == 1 else 'staan'} op de kaart.")
    if found == 0:
        note += (" De codes van het gebied komen in deze kaartlaag niet voor (de indeling is sindsdien "
                 "gewijzigd); de kaart toont alleen de gemeente.")
    svg = charts.area_map(hit, context, outline, title=f"{area['name']} in {area['gemeente_name']}")
    alt = (f"Kaart van {area['gemeente_name']} met {area['name']} gemarkeerd"
           + ("" if found else " (het gebied zelf kon niet worden getekend)") + ".")
    return dict(uri=charts.data_uri(svg), alt=alt, note=note)


# ---------------------------------------------------------------------------------------------
# streefwaarden
# ---------------------------------------------------------------------------------------------

def targets(data: StoreData, area_id: str, database_url: str | None = None) -> dict:
    """Progress to the area's streefwaarden from the local-monitor database, when one is
    configured (``database_url`` or ``WIJKMONITOR_DATABASE_URL``); observed values are the
    area's shown values from the store."""
    url = database_url or os.environ.get("WIJKMONITOR_DATABASE_URL")
    if not url:
        return dict(rows=[], note="Geen streefwaarden vastgelegd (er is geen database met "
                                  "streefwaarden ingesteld).")
    try:
        from ..local import db, targets as tg
        with db.session_scope(url) as session:
            found = [t for t in tg.list_targets(session) if t.area_id == area_id]
            rows = []
            for t in found:
                ind = data.catalogue.get(t.indicator_id)
                series = data.series(area_id, t.indicator_id).dropna(subset=["value"])
                prog = tg.target_progress(t, series.set_index("period")["value"])
                dec = ind.decimals if ind else 1
                unit = ind.unit if ind else ""
                fmt = (lambda x: nl_value(x, dec, unit) if is_number(x) else "–")
                rows.append(dict(
                    name=ind.name if ind else t.indicator_id,
                    baseline=f"{fmt(prog.baseline_value)} ({prog.baseline_year})" if prog.baseline_year else "–",
                    target=f"{fmt(prog.target_value)} ({prog.target_year})",
                    latest=f"{fmt(prog.latest_value)} ({prog.latest_year})" if prog.latest_year else "–",
                    expected=fmt(prog.expected_value), status=prog.label, rule=prog.rule,
                    reason=t.reason or ""))
    except Exception as exc:  # the database is optional: say why nothing is shown
        return dict(rows=[], note=f"Streefwaarden konden niet worden gelezen ({type(exc).__name__}: {exc}).")
    if not rows:
        return dict(rows=[], note="Geen streefwaarden vastgelegd voor dit gebied.")
    return dict(rows=sorted(rows, key=lambda r: r["name"]), note=None)


# ---------------------------------------------------------------------------------------------
# fiche
# ---------------------------------------------------------------------------------------------

def build(data: StoreData, area: str, baseline: int, latest: int, *, database_url: str | None = None,
          draw_map: bool = True) -> dict:
    """Template context of one area fiche."""
    area_id = resolve(data, area)
    a = data.index.set_index("area_id").loc[area_id]
    a = a.copy()
    a["area_id"] = area_id
    gaps = analysis.gaps(areas=[area_id], baseline=baseline, latest=latest, reference="gemeente",
                         values=data.values, index=data.index, catalogue=data.catalogue)
    gm_unit = str(a["gemeente_unit"])
    themes = []
    counts = {c: 0 for c in CLASS_ORDER}
    used, fig_no = [], 0
    by_theme = data.catalogue.by_theme()
    for theme in THEMES:
        rows, figs = [], []
        for ind in sorted(by_theme.get(theme, []), key=lambda i: i.name):
            g = gaps[gaps["indicator"] == ind.id]
            r = g.iloc[0] if len(g) else None
            s_area = data.series(area_id, ind.id)
            shown = s_area.dropna(subset=["value"])
            if r is None or (shown.empty and not is_number(r["reference_latest"])):
                continue
            used.append(ind.id)
            by = r["baseline_year"]
            ly = r["latest_year"]
            has_years = not pd.isna(by)
            cls = r["class"] if has_years else "te weinig waarnemingen"
            counts[cls] += 1
            rows.append(dict(
                id=ind.id, name=ind.name, unit=ind.unit,
                years=(f"{int(by)}–{int(ly)}" if has_years and by != ly else
                       (str(int(ly)) if has_years else "–")),
                value_b=value_cell(r["value_baseline"], r["status_baseline"], ind.decimals),
                ref_b=value_cell(r["reference_baseline"], r["reference_status_baseline"], ind.decimals),
                value_l=value_cell(r["value_latest"], r["status_latest"], ind.decimals),
                ref_l=value_cell(r["reference_latest"], r["reference_status_latest"], ind.decimals),
                gap_b=diff_cell(r["gap_baseline"], ind.decimals, ind.unit),
                gap_l=diff_cell(r["gap_latest"], ind.decimals, ind.unit),
                cls=cls, polarity=ind.polarity, same=has_years and by == ly))
            if len(shown) >= 2:
                series = {str(a["name"]): list(zip(shown["period"].astype(int), shown["value"]))}
                for unit, label in ((gm_unit, str(a["gemeente_name"])), ("NL", "Nederland")):
                    sv = data.series(unit, ind.id).dropna(subset=["value"])
                    if len(sv):
                        series[label] = list(zip(sv["period"].astype(int), sv["value"]))
                fig_no += 1
                svg, alt = charts.trend_chart(ind, series)
                figs.append(dict(no=fig_no, uri=charts.data_uri(svg), alt=alt, name=ind.name, caption=ind.name))
        if rows:
            themes.append(dict(id=theme.split()[0], title=THEME_TITLES[theme], rows=rows, figures=figs))
    p = PROGRAMMES.get(str(a["programme"]), dict(label=str(a["programme"]), short=str(a["programme"])))
    codes = [c for c in str(a["codes"] or "").split(",") if c]
    w1, w2 = LEVEL_WORDS.get(str(a["level"]), (a["level"], a["level"]))
    return dict(
        kind="area", area_id=area_id, name=str(a["name"]), gemeente_name=str(a["gemeente_name"]),
        gemeente=str(a["gemeente"]), programme=str(a["programme"]), programme_label=p["label"],
        title=f"Gebiedsfiche {a['name']}", subtitle=f"{a['gemeente_name']} · {p['label']}",
        baseline=baseline, latest=latest,
        delineation=(f"{len(codes)} {w2 if len(codes) != 1 else w1} (indeling {int(a['reference_year'])}): "
                     + ", ".join(codes)),
        themes=themes, counts=[(c, counts[c]) for c in CLASS_ORDER],
        n_indicators=sum(counts.values()),
        map=map_figure(a) if draw_map else dict(uri=None, alt="", note="Kaart niet getekend."),
        targets=targets(data, area_id, database_url), legend=LEGEND, rules=provenance.rules(),
        appendix=provenance.indicator_entries(data, used),
        sources=provenance.source_entries(data, used), build_date=data.build_date,
        catalogue_version=data.catalogue_version, reference_name="stedelijk gemiddelde",
        tolerance_note=nl_number(1, 0),
    )
