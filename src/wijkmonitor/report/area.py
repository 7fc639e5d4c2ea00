"""The area fiche (gebiedsfiche): every indicator of one focus area with its gap to the
stedelijk gemiddelde and class, trend charts, a map and progress to its streefwaarden."""

from __future__ import annotations

import functools
import os

import pandas as pd

from .. import analysis
from ..catalogue import THEMES
from . import wijkindex as _wijkindex
from . import charts, composition_table, effect_chapter, provenance
from .data import PROGRAMMES, StoreData
from .format import is_number, nl_join, nl_number, nl_value
from ..comparability import BREAK_CLASS
from .national import CLASS_ORDER, THEME_TITLES, comparable
from .tables import LEGEND, Cell, diff_cell, unit_label, value_cell

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
        note += (f" De kaartlaag heeft een andere wijkindeling ({year}) dan het gebied "
                 f"({int(area['reference_year'])}): geen van de codes komt erin voor, dus de kaart toont "
                 "alleen de gemeente.")
    def lean(frame):  # a few metres of detail are invisible at this size and cost time to draw
        if frame is None or not len(frame):
            return frame
        frame = frame.copy()
        frame["geometry"] = frame.geometry.simplify(15, preserve_topology=True)
        return frame
    svg = charts.area_map(lean(hit), lean(context), lean(outline),
                          title=f"{area['name']} in {area['gemeente_name']}")
    alt = (f"Kaart van {area['gemeente_name']} met {area['name']} gemarkeerd"
           + ("" if found else " (het gebied zelf kon niet worden getekend)") + ".")
    caption = (f"{area['name']} (blauw) in {area['gemeente_name']}." if found else
               f"{area['gemeente_name']}; {area['name']} kon niet worden ingetekend.")
    return dict(uri=charts.data_uri(svg), alt=alt, note=note, caption=caption)


# ---------------------------------------------------------------------------------------------
# streefwaarden
# ---------------------------------------------------------------------------------------------

def _sqlite_missing(url: str) -> bool:
    """True for an SQLite URL whose file does not exist (reading it would create it)."""
    if not url.startswith("sqlite"):
        return False
    path = url.split("///", 1)[1] if "///" in url else ""
    return bool(path) and path != ":memory:" and not os.path.exists(path.split("?", 1)[0])


def targets(data: StoreData, area_id: str, database_url: str | None = None) -> dict:
    """Progress to the area's streefwaarden, from the editable store (``database_url``, else
    ``WIJKMONITOR_DATABASE_URL``, else its SQLite file under ``var/``).

    Observed values are the area's shown values in the store; the status and its rule come from
    :mod:`wijkmonitor.local.progress`. Never creates or migrates a database: a missing file or
    schema means "no targets", stated as such.
    """
    from ..config import database_url as configured_url
    url = database_url or configured_url()
    none = dict(rows=[], note=None, rule=None)
    if _sqlite_missing(url):
        return {**none, "note": "Voor dit gebied zijn geen streefwaarden vastgelegd (de database met "
                                "streefwaarden is nog niet aangemaakt)."}
    try:
        import sqlalchemy as sa

        from ..local import db, targets as tg
        from ..uncertainty import se_by_period
        from ..local.models import Target
        with db.session_scope(url) as session:
            if not sa.inspect(session.get_bind()).has_table(Target.__tablename__):
                return {**none, "note": "Voor dit gebied zijn geen streefwaarden vastgelegd (de "
                                        "database met streefwaarden is leeg)."}
            found = [t for t in tg.list_targets(session) if t.area_id == area_id]
            rows = []
            for t in found:
                ind = data.catalogue.get(t.indicator_id)
                series = data.series(area_id, t.indicator_id).dropna(subset=["value"])
                own = data.values[(data.values["unit_id"] == area_id)
                                  & (data.values["indicator"] == t.indicator_id)]
                nl = data.series("NL", t.indicator_id).dropna(subset=["value"])
                prog = tg.target_progress(t, series.set_index("period")["value"],
                                          se=se_by_period(own, ind) if ind else None,
                                          national=nl.set_index("period")["value"] if len(nl) else None)
                dec = ind.decimals if ind else 1
                unit = ind.unit if ind else ""

                def num(x, dec=dec):
                    return nl_number(x, dec) if is_number(x) else "–"

                def val(x, dec=dec, unit=unit):
                    return nl_value(x, dec, unit) if is_number(x) else "–"
                milestones = "; ".join(f"{m.year}: {val(m.value)}" for m in
                                       sorted(t.milestones, key=lambda m: m.year))
                name = ind.name if ind else t.indicator_id
                rows.append(dict(
                    id=t.indicator_id, name=name,
                    label=name + (f" ({unit_label(unit)})" if unit and unit != "aantal" else ""),
                    baseline=(f"{num(prog.baseline_value)} ({prog.baseline_year})"
                              if prog.baseline_year is not None and is_number(prog.baseline_value) else "–"),
                    target=f"{num(prog.target_value)} ({prog.target_year})",
                    milestones=milestones,
                    latest=(f"{num(prog.latest_value)} ({prog.latest_year})"
                            if prog.latest_year is not None else "–"),
                    expected=num(prog.expected_value), status=prog.label, status_key=prog.status,
                    rule=target_rule(prog, val), reason=(t.reason or "").strip()))
    except Exception as exc:  # the database is optional: say why nothing is shown
        return {**none, "note": f"Streefwaarden konden niet worden gelezen ({type(exc).__name__}: {exc})."}
    if not rows:
        return {**none, "note": "Voor dit gebied zijn geen streefwaarden vastgelegd."}
    return dict(rows=sorted(rows, key=lambda r: r["name"]), note=None, rule=TARGET_RULE)


def target_rule(prog, val) -> str:
    """The rule of a progress status (:func:`wijkmonitor.local.progress.assess`) with the numbers
    in the report's notation (``val`` formats a value with the indicator's decimals and unit), so
    that the rule shows the same strings as the table."""
    if prog.status not in ("achieved", "on_track", "behind"):
        return prog.rule  # no numbers: the reason there is no status
    if getattr(prog, "rule_name", "omw") == "standaard" and prog.status != "achieved":
        return prog.rule  # the trend rule states its own numbers (trend, interval, path, NL)
    higher = prog.polarity == "higher_is_better"
    better, at_least = ("hoger", "minstens") if higher else ("lager", "hoogstens")
    latest = f"de laatste waarde ({val(prog.latest_value)} in {prog.latest_year})"
    path = (f"op de rechte lijn van de beginwaarde ({val(prog.baseline_value)} in {prog.baseline_year}) "
            f"naar de streefwaarde ({val(prog.target_value)} in {prog.target_year})")
    if prog.status == "achieved":
        return f"Behaald: {latest} is {at_least} de streefwaarde {val(prog.target_value)} ({better} is beter)."
    if prog.status == "on_track":
        return f"Op koers: {latest} is {at_least} de verwachte waarde {val(prog.expected_value)} {path}."
    return (f"Achter: {latest} blijft achter bij de verwachte waarde {val(prog.expected_value)} {path}; "
            f"{better} is beter.")


#: The progress rule of :mod:`wijkmonitor.local.progress`, in Dutch for the fiche.
TARGET_RULE = ("De verwachte waarde ligt op de rechte lijn van de beginwaarde via eventuele tussendoelen "
               "naar de streefwaarde. Behaald: de laatste waarde is minstens zo goed als de streefwaarde. "
               "Anders telt een trendlijn door alle metingen vanaf het beginjaar, met het 95%-interval in het "
               "laatste meetjaar. Op koers: het hele interval ligt op of voorbij de verwachte waarde in dat "
               "jaar. Achter: het hele interval blijft achter bij de verwachte waarde. Niet te zeggen: het "
               "interval omvat de verwachte waarde. De landelijke trend wordt niet afgetrokken (de "
               "streefwaarde is een absolute waarde). Geen gegevens: "
               "er is geen beginwaarde of geen meting na het beginjaar. De waarden zijn de getoonde cijfers "
               "van het gebied in deze monitor.")


# ---------------------------------------------------------------------------------------------
# fiche
# ---------------------------------------------------------------------------------------------

NA = "n.v.t."


def _nearest(years: list[int], target: int, prefer: str) -> int | None:
    if not years:
        return None
    return min(years, key=lambda y: (abs(y - target), -y if prefer == "later" else y))


def _size_row(data: StoreData, ind, area_id: str, gm_unit: str, baseline: int, latest: int) -> dict | None:
    """A count (inwoners, woningvoorraad ...): the area's value and the gemeente's, no gap."""
    s_area = data.series(area_id, ind.id)
    shown = data.shown(area_id, ind.id)
    if not shown:
        return None
    years = [y for y, _ in shown]
    by, ly = _nearest(years, baseline, "earlier"), _nearest(years, latest, "later")
    gm = data.series(gm_unit, ind.id).set_index("period")
    ar = s_area.set_index("period")

    def cell(frame, year):
        if year in frame.index:
            return value_cell(frame.at[year, "value"], frame.at[year, "status"], ind.decimals)
        return value_cell(None, "niet beschikbaar", ind.decimals)
    na = Cell(NA, False, "niet van toepassing: een aantal meet de omvang van een gebied")
    return dict(id=ind.id, name=ind.name, unit=unit_label(ind.unit),
                years=f"{by}–{ly}" if by != ly else str(ly),
                value_b=cell(ar, by) if by != ly else Cell("", False), ref_b=cell(gm, by) if by != ly else Cell("", False),
                value_l=cell(ar, ly), ref_l=cell(gm, ly), gap_b=na, gap_l=na, cls=NA,
                polarity=ind.polarity, same=by == ly)


def _break_marks(data: StoreData, indicator: str, units: list[str]) -> list[tuple[int, int, str, str]]:
    """The changes of publication series in the charted series (issue 17.6): ``(last year of
    the old series, first year of the new one, old name, new name)``."""
    from .. import comparability

    decl = comparability.load()
    return [(b.before, b.after, decl.name(b.series_before), decl.name(b.series_after))
            for b in data.breaks(units, indicator)]


def _break_note(marks) -> str:
    """The caption words for the break marks of a chart (empty when there are none)."""
    return "; ".join(f"gestippelde lijn: tussen {a} en {b} verandert de bron van de cijfers ({o} → {n})"
                     for a, b, o, n in marks)


def _theme_text(rows: list[dict], name: str) -> str:
    """One sentence per theme from the classes in its table (rule-based, names the indicators)."""
    by_cls: dict[str, list[str]] = {}
    for r in rows:
        by_cls.setdefault(r["cls"], []).append(f"‘{r['name']}’")
    parts = []
    for c, text in (("kleiner", "kleiner geworden"), ("groter", "groter geworden"),
                    ("gelijk", "vrijwel gelijk gebleven")):
        if by_cls.get(c):
            parts.append(f"bij {nl_join(by_cls[c])} {text}")
    out = []
    if parts:
        out.append(f"De afstand van {name} tot het stedelijk gemiddelde is " + nl_join(parts) + ".")
    if by_cls.get("onzeker"):
        out.append(f"Bij {nl_join(by_cls['onzeker'])} is niet te zeggen of de afstand veranderde: de "
                   f"verandering valt binnen de onzekerheid van de cijfers (95%-interval).")
    if by_cls.get("beter dan referentie"):
        out.append(f"Bij {nl_join(by_cls['beter dan referentie'])} scoort {name} in het laatste jaar "
                   f"gelijk aan of beter dan het stedelijk gemiddelde.")
    for r in rows:
        if r["cls"] == BREAK_CLASS:
            out.append(f"Bij ‘{r['name']}’ is er geen oordeel over de ontwikkeling (bron veranderd): "
                       + (r.get("reason") or "de bron van de cijfers veranderde") + ".")
    if by_cls.get("te weinig waarnemingen"):
        out.append(f"Bij {nl_join(by_cls['te weinig waarnemingen'])} is de ontwikkeling niet te bepalen, "
                   f"omdat een cijfer van het gebied of de gemeente ontbreekt of er maar één jaar "
                   f"met cijfers is.")
    if by_cls.get(NA):
        k = len(by_cls[NA])
        out.append(f"{nl_join(by_cls[NA])} {'is een aantal' if k == 1 else 'zijn aantallen'} en "
                   f"{'heeft' if k == 1 else 'hebben'} geen afstand tot het stedelijk gemiddelde.")
    return " ".join(out)


def _band(rows: pd.DataFrame, ind) -> dict[int, tuple[float, float]]:
    """``{period: (lower, upper)}``: the 95 % interval of the area's shown values
    (:mod:`wijkmonitor.uncertainty`, the same as on the site), drawn as a band in its chart."""
    from ..uncertainty import intervals, rounding_context

    ok = rows[rows["status"] == "ok"]
    if ok.empty:
        return {}
    # the publication of each value (area_values: a count rounded by its publisher)
    iv = intervals(ind, ok["value"].to_numpy("float64"), ok["numerator"].to_numpy("float64"),
                   ok["denominator"].to_numpy("float64"), **rounding_context(ok))
    return {int(p): (float(lo), float(hi)) for p, lo, hi in zip(ok["period"], iv["lower"], iv["upper"])
            if pd.notna(lo) and pd.notna(hi)}


def change_interval(r, ind) -> str | None:
    """The change of the achterstand with its 95 % interval, as the table shows it under the
    class (``−1,6 (−3,1 tot −0,1)``, the indicator's decimals), or ``None`` where the class is
    not a measured development or no interval is known."""
    from ..nlformat import nl_difference
    if r["class"] not in analysis.MEASURED_CLASSES:
        return None
    c, lo, hi = r.get("change"), r.get("change_lower"), r.get("change_upper")
    if not (is_number(c) and is_number(lo) and is_number(hi)):
        return None
    d = ind.decimals
    return f"{nl_difference(c, d, '').strip()} ({nl_difference(lo, d, '').strip()} tot {nl_difference(hi, d, '').strip()})"


def build(data: StoreData, area: str, baseline: int, latest: int, *, database_url: str | None = None,
          draw_map: bool = True) -> dict:
    """Template context of one area fiche."""
    area_id = resolve(data, area)
    a = data.index.set_index("area_id").loc[area_id]
    a = a.copy()
    a["area_id"] = area_id
    gaps = analysis.gaps(areas=[area_id], baseline=baseline, latest=latest, reference="gemeente",
                         values=data.values, index=data.index, catalogue=data.catalogue, rule=data.rule,
                         sources=data.sources)
    gm_unit = str(a["gemeente_unit"])
    name = str(a["name"])
    themes, empty_themes = [], []
    counts = {c: 0 for c in CLASS_ORDER}
    named: dict[str, list[str]] = {c: [] for c in CLASS_ORDER}
    used, fig_no = [], 0
    by_theme = data.catalogue.by_theme()
    own_rows = data.values[data.values["unit_id"] == area_id]  # for the intervals of the charts
    for theme in THEMES:
        rows, figs = [], []
        for ind in sorted(by_theme.get(theme, []), key=lambda i: i.name):
            shown = data.shown(area_id, ind.id)
            if not comparable(ind):
                row = _size_row(data, ind, area_id, gm_unit, baseline, latest)
                if row is None:
                    continue
                rows.append(row)
            else:
                g = gaps[gaps["indicator"] == ind.id]
                r = g.iloc[0] if len(g) else None
                if r is None or (not shown and not is_number(r["reference_latest"])):
                    continue
                by = r["baseline_year"]
                ly = r["latest_year"]
                has_years = not pd.isna(by)
                cls = r["class"] if has_years else "te weinig waarnemingen"
                counts[cls] += 1
                named[cls].append(ind.name)
                same = has_years and by == ly
                blank = Cell("", False)
                rows.append(dict(
                    id=ind.id, name=ind.name, unit=unit_label(ind.unit),
                    years=(f"{int(by)}–{int(ly)}" if has_years and by != ly else
                           (str(int(ly)) if has_years else "–")),
                    value_b=blank if same else value_cell(r["value_baseline"], r["status_baseline"], ind.decimals),
                    ref_b=blank if same else value_cell(r["reference_baseline"], r["reference_status_baseline"],
                                                        ind.decimals),
                    value_l=value_cell(r["value_latest"], r["status_latest"], ind.decimals),
                    ref_l=value_cell(r["reference_latest"], r["reference_status_latest"], ind.decimals),
                    gap_b=blank if same else diff_cell(r["gap_baseline"], ind.decimals, ind.unit),
                    gap_l=diff_cell(r["gap_latest"], ind.decimals, ind.unit),
                    cls=cls, polarity=ind.polarity, same=same, change_iv=change_interval(r, ind),
                    reason=r.get("class_reason") if cls == BREAK_CLASS else None))
            used.append(ind.id)
            if len(shown) >= 2:
                # every series keeps its place (and so its line style in the shared legend) when
                # another one has no values
                series = {name: shown}
                for unit, label in ((gm_unit, str(a["gemeente_name"])), ("NL", "Nederland")):
                    if not comparable(ind):
                        break  # a count of the area next to the gemeente's total says nothing
                    series[label] = data.shown(unit, ind.id)
                fig_no += 1
                marks = _break_marks(data, ind.id, [area_id, gm_unit, "NL"][:len(series)])
                svg, alt = charts.trend_chart(ind, series, breaks=marks,
                                              band=_band(own_rows[own_rows["indicator"] == ind.id], ind))
                drawn = [label for label, pts in series.items() if pts]
                figs.append(dict(no=fig_no, uri=charts.data_uri(svg), alt=alt, name=ind.name,
                                 title=charts.trend_title(ind), drawn=drawn, caption="",
                                 n_series=len(series), breaks=_break_note(marks)))
        if rows:
            legend = None
            if figs:
                labels = [name, str(a["gemeente_name"]), "Nederland"][:max(f["n_series"] for f in figs)]
                svg, alt = charts.trend_legend(labels)
                legend = dict(uri=charts.data_uri(svg), alt=alt)
                for f in figs:  # the legend names the series; a chart with fewer says which
                    f["caption"] = "" if f["drawn"] == labels else f"alleen {nl_join(f['drawn'])}"
                    if f["breaks"]:
                        f["caption"] = "; ".join(x for x in (f["caption"], f["breaks"]) if x)
            themes.append(dict(id=theme.split()[0], title=THEME_TITLES[theme], rows=rows, figures=figs,
                               legend=legend, text=_theme_text(rows, name)))
        else:
            empty_themes.append(THEME_TITLES[theme].lower())
    p = PROGRAMMES.get(str(a["programme"]), dict(label=str(a["programme"]), short=str(a["programme"])))
    codes = [c for c in str(a["codes"] or "").split(",") if c]
    w1, w2 = LEVEL_WORDS.get(str(a["level"]), (a["level"], a["level"]))
    measured = sum(counts[c] for c in ("kleiner", "groter", "gelijk", "onzeker", "beter dan referentie"))
    summary = []
    if named["kleiner"]:
        summary.append(f"De afstand tot het stedelijk gemiddelde werd kleiner bij "
                       f"{nl_join([f'‘{x}’' for x in named['kleiner']])}.")
    if named["groter"]:
        summary.append(f"De afstand werd groter bij {nl_join([f'‘{x}’' for x in named['groter']])}.")
    if not measured:
        summary.append("Voor geen enkele indicator is de ontwikkeling van de afstand tot het stedelijk "
                       "gemiddelde te meten.")
    leeftijd = composition_table.area(data, area_id, baseline, latest)
    if leeftijd and themes and leeftijd["theme"] not in {t["id"] for t in themes}:
        leeftijd["theme"] = themes[-1]["id"]  # no health theme in this fiche: after the last theme
    return dict(
        kind="area", area_id=area_id, name=name, gemeente_name=str(a["gemeente_name"]),
        gemeente=str(a["gemeente"]), programme=str(a["programme"]), programme_label=p["label"],
        title=f"Gebiedsfiche {name}", subtitle=f"{a['gemeente_name']} · {p['label']}",
        baseline=baseline, latest=latest,
        delineation=(f"{len(codes)} {w2 if len(codes) != 1 else w1} (indeling {int(a['reference_year'])}): "
                     + ", ".join(codes)),
        themes=themes, empty_themes=nl_join(empty_themes) if empty_themes else None,
        counts=[(c, counts[c]) for c in CLASS_ORDER], n_indicators=sum(counts.values()),
        summary=" ".join(summary),
        map=map_figure(a) if draw_map else dict(uri=None, alt="", note="Kaart niet getekend."),
        targets=targets(data, area_id, database_url), legend=LEGEND, rules=provenance.fiche_rules(),
        appendix=provenance.indicator_entries(data, used),
        sources=provenance.source_entries(data, used), build_date=data.build_date,
        build_date_nl=provenance.nl_date(data.build_date),
        catalogue_version=data.catalogue_version, reference_name="stedelijk gemiddelde",
        effect=effect_chapter.area(data, area_id, baseline, latest),
        wijkindex=_wijkindex.fiche(data, area_id),
        leeftijd=leeftijd,
    )
