"""The national progress report (voortgangsrapportage): sections per actielijn or theme with a
generated narrative, tables and charts, all from :func:`wijkmonitor.analysis.gaps` and
:func:`~wijkmonitor.analysis.outcome_table` over the built store."""

from __future__ import annotations

import pandas as pd

from .. import analysis
from ..catalogue import ACTIELIJNEN, THEMES, kernindicator_coverage
from . import wijkindex as _wijkindex
from . import charts, effect_chapter, provenance, signals
from .data import GROUP_LABELS, GROUPS, PROGRAMMES, StoreData, programme_areas
from .format import is_number, nl_join
from .narrative import REASON_CLAUSE, Words, indicator_story, kernindicator_text, section_picture
from .tables import LEGEND, unit_label, value_cell

THEME_TITLES = {"wonen & leefbaarheid": "Wonen en leefbaarheid", "leren": "Leren", "werken": "Werken",
                "inkomen & schulden": "Inkomen en schulden", "gezondheid": "Gezondheid",
                "veiligheid": "Veiligheid", "bevolking": "Bevolking (context)"}
CLASS_ORDER = ("kleiner", "gelijk", "groter", "onzeker", "beter dan referentie", "te weinig waarnemingen",
               "bron veranderd")


def comparable(ind) -> bool:
    """Whether an indicator has a gap to a reference (counts measure size, not position)."""
    rule = getattr(analysis, "comparable", None)
    return bool(rule(ind)) if rule is not None else ind.aggregation != "som"


def words_for(programme: str, n: int) -> Words:
    p = PROGRAMMES[programme]
    sing, plur = p["areas_word"]
    return Words(sing, plur, f"de {n} {plur} samen")


def analyse(data: StoreData, programme: str, baseline: int, latest: int
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The gap rows (reference: own gemeente) and the outcome table for a programme."""
    gaps = analysis.gaps(areas=programme, baseline=baseline, latest=latest, reference="gemeente",
                         values=data.values, index=data.index, catalogue=data.catalogue, rule=data.rule,
                         sources=data.sources)
    gaps = gaps.merge(data.index[["area_id", "gemeente_name"]].rename(columns={"area_id": "area"}),
                      on="area", how="left")
    outcome = analysis.outcome_table(gaps, values=data.values, set_unit=f"alle:{programme}",
                                     groups=GROUPS, catalogue=data.catalogue)
    return gaps, outcome


def _sections(data: StoreData, programme: str) -> list[tuple[str, str, list[str], int | None]]:
    """(id, title, indicator ids, actielijn) per section."""
    cat = data.catalogue
    def order(ids):
        return sorted(ids, key=lambda i: (cat[i].nplv.kernindicator or 99, cat[i].name))
    out = []
    if programme == "nplv":
        for line, title in ACTIELIJNEN.items():
            ids = [i for i, ind in cat.items() if ind.nplv.actielijn == line]
            out.append((f"actielijn-{line}", title, order(ids), line))
        rest = [i for i, ind in cat.items() if ind.nplv.actielijn is None]
        for theme in THEMES:
            ids = [i for i in rest if cat[i].theme == theme]
            if ids:
                out.append((f"overig-{theme.split()[0]}", f"Overige indicatoren: {THEME_TITLES[theme].lower()}",
                            order(ids), None))
    else:
        for theme in THEMES:
            ids = [i for i, ind in cat.items() if ind.theme == theme]
            if ids:
                out.append((f"thema-{theme.split()[0]}", THEME_TITLES[theme], order(ids), None))
    return out


def _g18_break(data: StoreData, set_unit: str, indicator: str, baseline, latest) -> str | None:
    """The reason why the distance of the set of areas to the G18 gets no class (a change of
    publication series between the two years, issue 17.6), or None."""
    from .. import comparability

    if not (is_number(baseline) and is_number(latest)):
        return None
    series = data.publication_series()
    b = comparability.gap_break(indicator, [series.get((u, indicator), {}) for u in (set_unit, "G18")],
                                int(baseline), int(latest))
    return comparability.break_reason(b) if b is not None else None


def _shown_classes(sections: list[dict]) -> tuple[str, ...]:
    """The classes of the count tables: all of :data:`CLASS_ORDER`, but "bron veranderd" (no
    class across a change of source, issue 17.6) only where some area has it; the items'
    ``counts`` are cut to match (in place)."""
    has_break = any(k for s in sections for it in s["indicators"] for c, k in it["counts"]
                    if c == "bron veranderd")
    classes = tuple(c for c in CLASS_ORDER if c != "bron veranderd" or has_break)
    for s in sections:
        for it in s["indicators"]:
            it["counts"] = [(c, k) for c, k in it["counts"] if c in classes]
    return classes


def _value_intervals(data: StoreData, units: list[str]) -> dict:
    """``{(unit, indicator, period): (value, lower, upper)}``: the 95 % interval of the shown
    values of ``units`` (:func:`wijkmonitor.uncertainty.interval_columns`, the function of the
    API and the site; vectorised per indicator). As on the site, a source's rounding gets no
    interval in the tables: it is in the shown decimals."""
    from ..uncertainty import interval_columns

    v = data.values[data.values["unit_id"].isin(units)]
    if v.empty:
        return {}
    iv = interval_columns(v, data.catalogue)
    keep = iv["interval_method"].notna() & (iv["interval_method"] != "afronding")
    v, iv = v[keep], iv[keep]
    return {(u, i, int(p)): (float(x), float(lo), float(hi)) for u, i, p, x, lo, hi in
            zip(v["unit_id"], v["indicator"], v["period"], v["value"], iv["lower"], iv["upper"])}


def build(data: StoreData, programme: str, baseline: int, latest: int) -> dict:
    """Template context of the national report."""
    areas = programme_areas(data, programme)
    n = len(areas)
    words = words_for(programme, n)
    gaps, outcome = analyse(data, programme, baseline, latest)
    set_unit = f"alle:{programme}"
    status = data.values.set_index(["unit_id", "indicator", "period"])["status"]
    status = status[~status.index.duplicated()]

    def st(unit, ind, year):
        if not is_number(year):
            return "niet beschikbaar"
        return status.get((unit, ind, int(year)), "niet beschikbaar")

    intervals = _value_intervals(data, [set_unit] + list(GROUPS))

    def iv(unit, ind, year, value):
        """The 95 % interval of the value shown for ``unit`` (None where none is known)."""
        if not is_number(year) or not is_number(value):
            return None
        hit = intervals.get((unit, ind, int(year)))
        return hit[1:] if hit is not None and abs(hit[0] - float(value)) < 1e-9 else None

    coverage = kernindicator_coverage(data.catalogue)
    out_rows = {r["indicator"]: r for r in outcome.to_dict("records")}
    stories = {}
    for iid, row in out_rows.items():
        ind = data.catalogue[iid]
        stories[iid] = indicator_story(
            ind, row, gaps[gaps["indicator"] == iid], words=words, groups=GROUPS,
            group_labels=GROUP_LABELS,
            set_status={w: st(set_unit, iid, row[f"{w}_year"]) for w in ("baseline", "latest")},
            g18_break=_g18_break(data, set_unit, iid, row["baseline_year"], row["latest_year"]))
    sections = []
    used = []
    fig_no = 0
    for sid, title, ids, line in _sections(data, programme):
        items, empty, sizes = [], [], []
        for iid in ids:
            s, row, ind = stories.get(iid), out_rows.get(iid), data.catalogue[iid]
            if not comparable(ind):
                sizes.append(ind.name)
                continue
            if s is None or not s.has_data:
                empty.append(ind.name)
                continue
            used.append(iid)
            by, ly = row["baseline_year"], row["latest_year"]
            units = [(set_unit, words.set_label[3:].capitalize() if words.set_label.startswith("de ")
                      else words.set_label, "alle_gebieden")] + [(g, GROUP_LABELS[g], g) for g in GROUPS]
            years = [(by, "baseline")] if by == ly else [(by, "baseline"), (ly, "latest")]
            table = []
            for year, when in years:
                table.append(dict(year=int(year), cells=[
                    value_cell(row[f"{key}_{when}"], st(unit, iid, year), ind.decimals,
                               iv(unit, iid, year, row[f"{key}_{when}"]))
                    for unit, _label, key in units]))
            # no number at all and one reason: one row that says why, instead of a grid of words
            reasons = {c.title for r in table for c in r["cells"]}
            merged = None
            if not any(c.shown for r in table for c in r["cells"]) and len(reasons) == 1:
                why = reasons.pop()
                merged = dict(years=", ".join(str(r["year"]) for r in table),
                              text=f"{why} – {REASON_CLAUSE[why]}" if why in REASON_CLAUSE else why)
            b_vals = [row[f"{u[2]}_baseline"] for u in units] if by != ly else [None] * len(units)
            l_vals = [row[f"{u[2]}_latest"] for u in units]
            figure = None
            # a chart compares: at least two units with a number, else the table says it all
            if sum(is_number(b) or is_number(l) for b, l in zip(b_vals, l_vals)) >= 2:
                svg, alt = charts.comparison_chart(ind, [u[1] for u in units], b_vals, l_vals,
                                                   int(by), int(ly))
                figure = dict(no=0, uri=charts.data_uri(svg), alt=alt,
                              caption=f"{ind.name}"
                              + (f" ({unit_label(ind.unit)})" if unit_label(ind.unit) else "")
                              + f": {words.set_label} en de vergelijkingsgroepen"
                              + (f", {int(by)} en {int(ly)}" if by != ly else f", {int(ly)}"))
            items.append(dict(id=iid, name=ind.name, unit=unit_label(ind.unit), polarity=ind.polarity,
                              kernindicator=ind.nplv.kernindicator, story=s, rule=s.rule,
                              rule_short=(f"{ind.polarity}; tolerantie {provenance.tolerance_text(ind)}"
                                          if comparable(ind) else ""),
                              table=table, merged=merged, unit_labels=[u[1] for u in units],
                              counts=[(c, s.counts.get(c, 0)) for c in CLASS_ORDER],
                              n_areas=int(row["n_areas"]), figure=figure))
        class_fig = None
        measured = [it for it in items if any(k for c, k in it["counts"] if c != "te weinig waarnemingen")]
        if measured:
            svg, alt = charts.class_chart([it["name"] for it in measured],
                                          [dict(it["counts"]) for it in measured], CLASS_ORDER,
                                          areas_word=words.plural)
            class_fig = dict(no=0, uri=charts.data_uri(svg), alt=alt,
                             caption=f"Aantal {words.plural} per klasse (afstand tot het stedelijk gemiddelde)")
        for fig in [class_fig] + [it["figure"] for it in items]:  # numbered in reading order
            if fig is not None:
                fig_no += 1
                fig["no"] = fig_no
        sections.append(dict(
            id=sid, title=title, indicators=items, class_figure=class_fig,
            picture=section_picture([stories[it["id"]] for it in items], words=words,
                                    baseline=baseline, latest=latest),
            kern=kernindicator_text(line, coverage, stories, data.catalogue) if line else None,
            empty=nl_join(empty) if empty else None,
            has_interval=any(c.interval for it in items for r in it["table"] for c in r["cells"]),
            sizes=nl_join(sizes) if sizes else None))
    classes = _shown_classes(sections)
    p = PROGRAMMES[programme]
    return dict(
        kind="national", programme=programme, programme_label=p["label"], short=p["short"],
        title=f"Voortgangsrapportage {p['short']} {baseline}–{latest}",
        subtitle=f"Ontwikkeling van de {n} {words.plural} van het {p['label']}"
        if programme == "nplv" else f"Ontwikkeling van de {n} {words.plural} van de {p['label']}",
        baseline=baseline, latest=latest, n_areas=n, words=words,
        area_names=nl_join(list(areas["name"])), sections=sections, legend=LEGEND,
        classes=classes, rules=provenance.rules(),
        appendix=provenance.indicator_entries(data, used),
        sources=provenance.source_entries(data, used),
        build_date=data.build_date, build_date_nl=provenance.nl_date(data.build_date),
        catalogue_version=data.catalogue_version,
        missing_kern=[(k, v) for k, v in sorted(coverage.items()) if not v],
        effect=effect_chapter.national(data, programme, baseline, latest, areas_word=words.plural),
        signalen=signals.build(data, areas),
        wijkindex=_wijkindex.national(data, programme),
    )
