"""The Dutch pages: start, gebied, vergelijken, indicator(en), zoeken, over, toegankelijkheid,
bronnen.

Every page that shows a table takes ``formaat=csv|xlsx|parquet`` (and ``geojson`` for maps)
plus ``tabel=<name>`` and then returns exactly that table as a file, built by the same code
that renders the page.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from .. import analysis, comparability
from ..bounds import MAX_TEXT, NO_CONTROL, Formaat, GemeenteCode, IdPath, IndicatorPath, YearQuery
from ..local import public as local_public
from . import breaks, composition_section, downloads, effect_section, gzipped, maps, present, svg
from .layout import TEMPLATES
from .data import LEVEL_NAMES, PROGRAMMES, REASONS, Unit, WebStore

router = APIRouter(include_in_schema=False)

#: The class shown where the figures change publication between baseline and latest year.
BREAK_CLASS = comparability.BREAK_CLASS
CLASS_LABELS = {"kleiner": "afstand kleiner", "groter": "afstand groter", "gelijk": "gelijk",
                "beter dan referentie": "beter dan referentie", "onzeker": "niet te zeggen",
                "te weinig waarnemingen": "te weinig waarnemingen", BREAK_CLASS: "bron veranderd"}
THEME_ORDER = present.THEME_ORDER


def _ws(request: Request) -> WebStore:
    return request.app.state.ws


def _render(request: Request, template: str, **ctx) -> HTMLResponse:
    ctx.setdefault("path", request.url.path)
    return TEMPLATES.TemplateResponse(request, template, ctx)


def _download_links(request: Request, table: str, formats=("csv", "xlsx", "parquet", "csv-en")) -> list[dict]:
    """Links to the file versions of a table as shown (same query + formaat + tabel)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("formaat", "tabel")]
    out = []
    for f in formats:
        q = urlencode(params + [("tabel", table), ("formaat", f)])
        out.append(dict(href=f"{request.url.path}?{q}", label=downloads.FORMAT_LABELS[f], fmt=f))
    return out


def _theme_sorted(catalogue) -> list:
    order = {t: i for i, t in enumerate(THEME_ORDER)}
    return sorted(catalogue.values(), key=lambda i: (order.get(i.theme, 99), i.theme, i.name))


def _years_default(years: list[int], baseline: int | None, latest: int | None,
                   full_years: list[int] | None = None) -> tuple[int, int]:
    """Asked years, else 2012 and the latest year most areas have figures for."""
    if not years:
        return baseline or 2012, latest or 2024
    b = baseline if baseline is not None else (2012 if 2012 in years else years[0])
    l = latest if latest is not None else (full_years or years)[-1]
    return b, l


def _nan(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) or pd.isna(x) else x


# ---------------------------------------------------------------------------------------
# Start
# ---------------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def start(request: Request, programma: Annotated[str, Query(max_length=MAX_TEXT)] = "nplv",
          basisjaar: YearQuery = None, laatstejaar: YearQuery = None,
          referentie: Annotated[str, Query(max_length=MAX_TEXT)] = "gemeente",
          formaat: Formaat = None, tabel: Literal["outcome"] | None = None):
    ws = _ws(request)
    if programma not in PROGRAMMES:
        raise HTTPException(404, f"Onbekend programma ‘{programma[:40]}’. Kies "
                            + " of ".join(f"‘{p}’" for p in PROGRAMMES) + ".")
    if referentie not in analysis.REFERENCES:
        raise HTTPException(404, f"Onbekende referentie ‘{referentie[:40]}’. Kies uit: "
                            + ", ".join(analysis.REFERENCES) + ".")
    years = [y for y in ws.area_periods() if y >= 2012]
    b, l = _years_default(years, basisjaar, laatstejaar, ws.area_periods(min_values=100))
    if b > l:
        b, l = l, b
    table = ws.outcome(programma, b, l, referentie)
    cat = ws.catalogue
    if formaat:
        return downloads.respond(table, formaat, f"outcomemonitor-{programma}-{b}-{l}", table="outcome", ws=ws)
    gaps = ws.gaps(programma, b, l, referentie)
    order = {i.id: n for n, i in enumerate(_theme_sorted(cat))}
    rows, unmeasured = [], []
    for r in sorted(table.to_dict("records"), key=lambda r: order.get(r["indicator"], 999)):
        ind = cat[r["indicator"]]
        row = dict(r, decimals=ind.decimals, polarity=ind.polarity)
        if r["te weinig waarnemingen"] >= r["n_areas"]:
            row["why"] = present.outcome_reason(gaps[gaps["indicator"] == r["indicator"]], r["n_areas"])
            unmeasured.append(row)
        else:
            rows.append(row)
    idx = ws.area_index()
    areas = {p: idx[idx["programme"] == p].to_dict("records") for p in PROGRAMMES}
    return _render(request, "start.html", title="Wijkmonitor", rows=rows, unmeasured=unmeasured,
                   programma=programma, programmes=PROGRAMMES, baseline=b, latest=l, years=years,
                   referentie=referentie, references=analysis.REFERENCE_NAMES, classes=analysis.CLASSES,
                   class_labels=CLASS_LABELS, areas=areas, downloads=_download_links(request, "outcome"),
                   meta=ws.meta(), examples=_examples(ws))


def _examples(ws: WebStore) -> dict:
    """One gemeente, wijk and buurt of a focus area to show on the start page (real codes)."""
    def load():
        u = ws.unit("utrecht-overvecht") or ws.unit(ws.area_index()["area_id"].iloc[0])
        wijk = next((c for c in u.codes if c.startswith("WK")), None)
        names = ws.region_names()
        buurt = None
        if wijk:
            kids = names[(names["wijk_code"] == wijk) & (names["level"] == "buurt")]
            buurt = kids.index.min() if len(kids) else None
        out = dict(area=(u.id, u.name), gemeente=(u.gemeente, u.gemeente_name))
        if wijk and wijk in names.index:
            out["wijk"] = (wijk, names.loc[wijk, "name"])
        if buurt:
            out["buurt"] = (buurt, names.loc[buurt, "name"])
        return out
    return ws.cached("examples", load)


# ---------------------------------------------------------------------------------------
# Gebied
# ---------------------------------------------------------------------------------------

_NA = dict(value=None, status="niet beschikbaar", reason=REASONS["niet beschikbaar"], estimate=False)


def _lut(df: pd.DataFrame, catalogue=None, context: dict | None = None) -> dict:
    """``{indicator: {period: cell}}`` of a unit's values (cell: value, status, reason, estimate
    and, with a catalogue, the 95 % interval ``lower``/``upper`` of :mod:`wijkmonitor.uncertainty`).
    The result may be shared between requests (``gebied_tables`` keeps it per unit): read it,
    never change it."""
    out: dict = {}
    lower = upper = None
    if catalogue is not None and len(df):
        from ..uncertainty import intervals
        from ..uncertainty import is_approximation
        lower, upper = np.full(len(df), np.nan), np.full(len(df), np.nan)
        approx = (is_approximation(df["source"]) if "source" in df.columns else np.zeros(len(df), bool))
        ind_col = df["indicator"].to_numpy(object)
        val = np.where(df["status"].to_numpy(object) == "ok", df["value"].to_numpy("float64", na_value=np.nan), np.nan)
        num = df["numerator"].to_numpy("float64", na_value=np.nan)
        den = df["denominator"].to_numpy("float64", na_value=np.nan)
        for ind_id in set(ind_col):
            if ind_id in catalogue:
                sel = ind_col == ind_id
                iv = intervals(catalogue[ind_id], val[sel], num[sel], den[sel], approx=approx[sel],
                               **({k: np.asarray(a)[sel] for k, a in context.items()} if context else {}))
                # the rounding of a percentage or mean is already in the shown decimals; an
                # approximation is not, nor the rounding of a count to fives or tens
                show = iv["approx"] | (iv["methods"] != "afronding")
                lower[sel] = np.where(show, iv["lower"], np.nan)
                upper[sel] = np.where(show, iv["upper"], np.nan)
    from ..uncertainty import approximation_texts
    approx_words = (approximation_texts(df["source"]) if "source" in df.columns
                    else np.full(len(df), None, dtype=object))
    for k, r in enumerate(df[["indicator", "period", "value", "status", "reason", "estimate"]].itertuples(index=False)):
        ok = r.status == "ok"
        cell = dict(value=float(r.value) if ok and pd.notna(r.value) else None, status=r.status,
                    reason=r.reason, estimate=bool(r.estimate) if pd.notna(r.estimate) else False,
                    # added up with a declared stand-in weight: the approximation, in words
                    approximation=approx_words[k] if ok else None)
        if lower is not None and np.isfinite(lower[k]):
            cell.update(lower=float(lower[k]), upper=float(upper[k]))
        out.setdefault(r.indicator, {})[int(r.period)] = cell
    return out


def _latest_ok(cells: dict) -> int | None:
    ok = [y for y, c in cells.items() if c["status"] == "ok"]
    if ok:
        return max(ok)
    return max(cells) if cells else None


def gebied_tables(ws: WebStore, u: Unit, baseline: int, latest: int) -> dict:
    """Everything the gebied page shows, as data: ``overview`` (one row per indicator),
    ``series`` (long: indicator, period, unit, value, status, reason) and per-indicator blocks."""
    cat = ws.catalogue
    refs = ws.references(u)
    own_df = ws.unit_values(u.id)
    ref_dfs = {uid: ws.unit_values(uid) for _, uid in refs}
    # the cells of a unit do not depend on the page's years: kept per unit (a gemeente, NL and
    # the G-groups are the references of many pages; another choice of years reuses them all)
    luts = ws.lru("unit_cells", 128)
    own = luts.get_or_put(u.id, lambda: _lut(own_df, cat, ws.rounding_context(own_df)))
    ref_vals = {uid: luts.get_or_put(uid, lambda d=d: _lut(d, cat, ws.rounding_context(d)))
                for uid, d in ref_dfs.items()}
    if u.kind == "area":
        g = ws.gaps([u.id], baseline, latest, "gemeente").set_index("indicator")
        gap_ref = "eigen gemeente"
    elif u.kind in ("wijk", "buurt") and u.gemeente:
        g = ws.region_gaps(u, own_df, ref_dfs[u.gemeente], baseline, latest,
                           reference="gemeente").set_index("indicator")
        gap_ref = "eigen gemeente"
    elif u.kind in ("gemeente", "rest", "group", "set") and "NL" in ref_dfs:  # not NL itself
        g = ws.region_gaps(u, own_df, ref_dfs["NL"], baseline, latest, reference="NL").set_index("indicator")
        gap_ref = "Nederland"
    else:
        g, gap_ref = pd.DataFrame(), None
    gd = g.to_dict("index") if not g.empty else {}
    # the unit whose figures the gap compares with, and every unit's rows (for the breaks)
    gap_unit = (u.gemeente if gap_ref == "eigen gemeente" else "NL") if gap_ref else None
    decl = comparability.load()
    unit_of = {u.id: u, **{uid: ws.unit(uid) for _, uid in refs}}
    series_of = {uid: breaks.unit_series(ws, unit_of[uid], df)
                 for uid, df in {u.id: own_df, **ref_dfs}.items() if unit_of.get(uid) is not None}
    ref_name = (u.gemeente_name or "de eigen gemeente") if gap_ref == "eigen gemeente" else gap_ref
    overview, series, blocks = [], [], []
    statuses: set[str] = set()
    estimate = False
    approximation = None  # the first approximation shown (its words, for the legend)
    for ind in _theme_sorted(cat):
        v = own.get(ind.id, {})
        rv = {uid: d.get(ind.id, {}) for uid, d in ref_vals.items()}
        gi = gd.get(ind.id)
        year = int(gi["latest_year"]) if gi is not None and pd.notna(gi["latest_year"]) else _latest_ok(v)
        if year is None:
            continue
        if v.get(year, _NA)["status"] != "ok":
            # the overview shows the latest year with a figure for the unit itself (the gap
            # columns carry their own years)
            shown = [y for y, c in v.items() if c["status"] == "ok"]
            year = max(shown) if shown else year
        cur = v.get(year, _NA)
        refs_at = [dict(label=label, unit=uid, **rv[uid].get(year, _NA)) for label, uid in refs]
        cls = gi["class"] if gi is not None else None
        row = dict(indicator=ind.id, indicator_name=ind.name, theme=ind.theme, unit=ind.unit,
                   period=year, value=cur["value"], status=cur["status"], reason=cur["reason"])
        for r in refs_at:
            row[f"ref:{r['label']}"] = r["value"]
        if gi is not None:
            row.update(gap_reference=gap_ref, baseline_year=_nan(gi["baseline_year"]),
                       latest_year=_nan(gi["latest_year"]), gap_baseline=_nan(gi["gap_baseline"]),
                       gap_latest=_nan(gi["gap_latest"]), **{"class": cls}, rule=gi["rule"])
        overview.append(row)
        # series for the chart and its table: the years where the unit itself has a row or a
        # charted reference (the first three units) has a shown value, so that every point of
        # the chart is also in the table
        units = [(u.name, u.id, v)] + [(label, uid, rv[uid]) for label, uid in refs]
        table_years = set(v) | {y for _, _, d in units[:3] for y, c in d.items() if c["status"] == "ok"}
        table = []
        for y in sorted(y for y in table_years if y >= 2010):
            cells = [d.get(y, _NA) for _, _, d in units]
            table.append(dict(year=y, cells=cells))
            for (name, uid, _), c in zip(units, cells):
                series.append(dict(indicator=ind.id, period=y, unit=uid, unit_name=name,
                                   value=c["value"], status=c["status"], reason=c["reason"]))
        chart_series = [(name, {y: c["value"] for y, c in d.items() if c["status"] == "ok" and y >= 2010})
                        for name, _, d in units[:3]]
        # where a charted series changes publication: a mark in the chart, a note below it, and
        # no gap class across the change (issue 17.6; comparability.yaml)
        series_breaks = {uid: decl.breaks(ind.id, by_ind.get(ind.id, {})) for uid, by_ind in series_of.items()}
        shown_breaks = sorted({(b.before, b.after, b.series_before, b.series_after)
                               for _, uid, _ in units[:3] for b in series_breaks.get(uid, [])})
        break_notes = [dict(before=b0, after=b1, old=decl.name(s0), new=decl.name(s1),
                            who=[name for name, uid, _ in units[:3]
                                 if any(x.before == b0 and x.after == b1 for x in series_breaks.get(uid, []))])
                       for b0, b1, s0, s1 in shown_breaks]
        band = {y: (c["lower"], c["upper"]) for y, c in v.items()
                if c["status"] == "ok" and "lower" in c and y >= 2010}
        chart = svg.trend_chart(chart_series, title=f"{ind.name}: {u.name} en referenties",
                                unit=ind.unit, decimals=ind.decimals, chart_id=f"grafiek-{ind.id}",
                                band=band, breaks=sorted({(b["before"], b["after"]) for b in break_notes}))
        why = sentence = gid = None
        if gi is not None:
            gid = {k: _nan(x) for k, x in gi.items()}
            if gi.get("interval_method"):
                from ..uncertainty import METHOD_LABELS
                gid["interval_note"] = METHOD_LABELS.get(gi["interval_method"])
            # the shared rule (wijkmonitor.comparability.gap_break): the area rows of
            # analysis.gaps carry it already; the CBS-region rows get it here
            crossed = None
            if cls == BREAK_CLASS and isinstance(gi.get("class_reason"), str):
                why = gi["class_reason"]
                row["class"], row["class_reason"] = cls, why
            elif cls not in (None, "te weinig waarnemingen"):
                by_g, ly_g = _nan(gi["baseline_year"]), _nan(gi["latest_year"])
                crossed = comparability.gap_break(
                    ind.id, [series_of.get(uid, {}).get(ind.id, {}) for uid in (u.id, gap_unit)],
                    None if by_g is None else int(by_g), None if ly_g is None else int(ly_g), decl)
            if crossed is not None:
                cls = BREAK_CLASS
                why = comparability.break_reason(crossed, decl)
                row["class"], row["class_reason"] = cls, why
            elif cls == "te weinig waarnemingen":
                why = present.why_no_class(gid, u.name, ref_name)
                row["class_reason"] = why
            sentence = present.gap_sentence(gid, u.name, ref_name, ind.unit, ind.decimals)
        cells_shown = [cur] + refs_at + [c for t in table for c in t["cells"]]
        statuses.update(c["status"] for c in cells_shown if c["status"] != "ok")
        estimate = estimate or any(c.get("estimate") and c["status"] == "ok" for c in cells_shown)
        approximation = approximation or next((c["approximation"] for c in cells_shown if c.get("approximation")), None)
        blocks.append(dict(ind=ind, row=row, cur=cur, refs=refs_at, cls=cls, gi=gid, table=table,
                           breaks=break_notes,
                           unit_names=[n for n, _, _ in units], chart=chart, why=why, sentence=sentence,
                           legend=[(n, *svg.legend_swatch(i), bool(sv)) for i, (n, sv) in enumerate(chart_series)]))
    return dict(overview=pd.DataFrame(overview), series=pd.DataFrame(series), blocks=blocks,
                refs=refs, gap_ref=gap_ref, ref_name=ref_name, statuses=statuses, estimate=estimate,
                approximation=approximation)


def _locator(u: Unit, ws: WebStore | None = None) -> dict:
    return maps.locator(u, ws)


def _crumbs(ws: WebStore, u: Unit) -> list[tuple[str | None, str]]:
    """Breadcrumb of a gebied page: Start › gemeente › wijk › this page."""
    items: list[tuple[str | None, str]] = [("/", "Start")]
    if u.kind in ("area", "rest", "wijk", "buurt") and u.gemeente:
        items.append((f"/gebied/{u.gemeente}", u.gemeente_name or u.gemeente))
    if u.kind == "rest":
        area = ws.unit(u.id.split("~")[0])
        items.append((f"/gebied/{area.id}", area.name))
    if u.kind == "buurt":
        wijk = _parent_wijk(ws, u)
        if wijk:
            items.append((f"/gebied/{wijk[0]}", wijk[1]))
    items.append((None, u.name))
    return items


def _parent_wijk(ws: WebStore, u: Unit) -> tuple[str, str] | None:
    names = ws.region_names()
    if u.id not in names.index:
        return None
    w = names.loc[u.id, "wijk_code"]
    if isinstance(w, str) and w in names.index:
        return (w, names.loc[w, "name"])
    return None


def _related(ws: WebStore, u: Unit) -> dict:
    """Links down and sideways: the wijken of a gemeente (and its focus areas), the buurten of
    a wijk, the parts of an area, the wijk of a buurt."""
    out: dict = {}
    idx = ws.area_index()
    if u.kind == "gemeente":
        out["children_label"] = f"Wijken in {u.name}"
        out["children"] = ws.df("""SELECT code, name FROM regions WHERE level = 'wijk' AND gemeente_code = ?
                                   AND year = (SELECT max(year) FROM regions WHERE level = 'wijk'
                                               AND gemeente_code = ?) ORDER BY name""",
                                [u.id, u.id]).to_dict("records")
        out["areas"] = idx[idx["gemeente_unit"] == u.id][["area_id", "name", "programme"]].to_dict("records")
    elif u.kind == "wijk":
        out["children_label"] = f"Buurten in {u.name}"
        out["children"] = ws.df("""SELECT code, name FROM regions WHERE level = 'buurt' AND wijk_code = ?
                                   AND year = (SELECT max(year) FROM regions WHERE level = 'buurt'
                                               AND wijk_code = ?) ORDER BY name""",
                                [u.id, u.id]).to_dict("records")
        out["areas"] = idx[idx["codes"].str.split(",").map(lambda cs: u.id in cs)][
            ["area_id", "name", "programme"]].to_dict("records")
    elif u.kind == "buurt":
        out["wijk"] = _parent_wijk(ws, u)
    elif u.kind == "area":
        out["children_label"] = f"Delen van {u.name} (CBS-{u.level}en, indeling {u.reference_year})"
        out["children"] = [dict(code=c, name=None) for c in u.codes]
    # names: of that division year, else the most recent name the code had
    names = ws.region_names()["name"]
    for r in out.get("children", []):
        if not isinstance(r["name"], str) or not r["name"]:
            n = names.get(r["code"])
            r["name"] = n if isinstance(n, str) and n else r["code"]
    return out


@router.get("/gebied/{uid}", response_class=HTMLResponse)
def gebied(request: Request, uid: IdPath, basisjaar: YearQuery = None, laatstejaar: YearQuery = None,
           formaat: Formaat = None, tabel: Literal["overzicht", "reeksen", "kaart"] = "overzicht"):
    ws = _ws(request)
    u = ws.unit(uid)
    if u is None:
        raise HTTPException(404, f"Geen gebied of CBS-code '{uid}' gevonden. Probeer Zoeken.")
    if u.id != uid:
        q = ("?" + str(request.query_params)) if request.query_params else ""
        return RedirectResponse(f"/gebied/{u.id}{q}", status_code=307)
    years = [y for y in ws.area_periods() if y >= 2012]
    b, l = _years_default(years, basisjaar, laatstejaar, ws.area_periods(min_values=100))
    if formaat and tabel == "kaart":
        loc = _locator(u, ws)
        geom = maps.geometry_dicts(loc["layer"]) if formaat == "geojson" and loc.get("layer") else None
        df = pd.DataFrame(loc.get("shapes", []), columns=["code", "name", "part_of_area"])
        return downloads.respond(df.assign(layer_year=loc.get("layer_year")), formaat,
                                 f"{u.id}-kaart", geometry=geom, table="kaart", ws=ws)
    if formaat:
        data = ws.lru("gebied_tables", 64).get_or_put((u.id, b, l), lambda: gebied_tables(ws, u, b, l))
        df = data["series"] if tabel == "reeksen" else data["overview"]
        return downloads.respond(df, formaat, f"{u.id}-{tabel}", table=tabel, ws=ws)

    from . import wijkindex_profile

    def render_cached() -> tuple[bytes, bytes]:
        # everything from the analytical store, rendered once per unit, query and store
        # version, around a marker where the editable store's section goes
        data = gebied_tables(ws, u, b, l)
        locator = _locator(u, ws)
        body = _render(request, "gebied.html", title=u.name, u=u, baseline=b, latest=l, years=years,
                       data=data, locator=locator, class_labels=CLASS_LABELS,
                       breadcrumb=_crumbs(ws, u), related=_related(ws, u),
                       downloads=_download_links(request, "overzicht"),
                       downloads_series=_download_links(request, "reeksen"),
                       downloads_map=_download_links(request, "kaart", ("geojson", "csv", "xlsx", "parquet", "csv-en")) if locator.get("svg") else [],
                       lokaal_html=Markup(_LOKAAL_MARKER),
                       effect=effect_section.section(ws, u, b, l),
                       leeftijd=composition_section.section(ws, u, b, l),
                       wijkindex=wijkindex_profile.section(ws, u)).body
        head, tail = body.split(_LOKAAL_MARKER.encode())
        return head, tail

    hs = present.house_style()
    key = (u.id, request.url.query, hs["css"], hs["body_class"])
    head, tail = ws.lru("gebied_pages", 256, maxbytes=PAGE_CACHE_BYTES).get_or_put(key, render_cached)
    section, section_z = _lokaal_section(request, ws, u)
    if gzipped.accepts_gzip(request.headers):
        # the cached parts compressed once too
        head_z, tail_z = ws.lru("gebied_pages_gz", 256, maxbytes=PAGE_CACHE_BYTES // 4).get_or_put(
            key, lambda: (gzipped.piece(head), gzipped.piece(tail, final=True)))
        return gzipped.html([(head, head_z), (section, section_z), (tail, tail_z)])
    return HTMLResponse(head + section + tail)


def _lokaal_section(request: Request, ws, u) -> tuple[bytes, bytes]:
    """The editable store's section of an area page (streefwaarden, interventions, local
    values; ``_lokaal.html``), plain and as a gzip piece. An edit in /beheer
    shows at once: the section is kept per area and the editable store's content revision
    (raised by the database on every write, :func:`wijkmonitor.local.public.content_revision`),
    which costs one row per request instead of three tables; where that revision cannot be
    read, the section is read and rendered per request."""
    database_url = getattr(request.app.state, "database_url", None)

    def render() -> tuple[bytes, bytes]:
        lokaal = local_public.area_section(
            u.id, u.codes, database_url=database_url,
            store_path=ws.path) if u.kind in ("area", "gemeente", "wijk", "buurt") else None
        section = TEMPLATES.get_template("_lokaal.html").render(u=u, lokaal=lokaal).encode()
        return section, gzipped.piece(section)

    rev = local_public.content_revision(database_url)
    if rev is None:
        return render()
    return ws.lru("gebied_lokaal", 1024, maxbytes=PAGE_CACHE_BYTES // 8).get_or_put(
        (u.id, database_url, rev), render)


#: where the live section goes in a cached area page
_LOKAAL_MARKER = "<!--wm:lokaal-->"
#: at most this many bytes of rendered area pages are kept (per process; a page is ~0.4 MB)
PAGE_CACHE_BYTES = 64 * 2**20


# ---------------------------------------------------------------------------------------
# Indicator
# ---------------------------------------------------------------------------------------

@router.get("/indicatoren", response_class=HTMLResponse)
def indicatoren(request: Request, formaat: Formaat = None, tabel: Literal["indicatoren"] | None = None):
    ws = _ws(request)
    from .. import api as wm
    if formaat:
        return downloads.respond(wm.indicators(), formaat, "indicatoren", table="indicatoren", ws=ws)
    themes: dict[str, list] = {}
    for ind in _theme_sorted(ws.catalogue):
        themes.setdefault(ind.theme, []).append(ind)
    from . import wijkindex_map
    return _render(request, "indicatoren.html", title="Indicatoren", themes=themes,
                   wijkindex=wijkindex_map.component_list(),
                   breadcrumb=[("/", "Start"), (None, "Indicatoren")],
                   downloads=_download_links(request, "indicatoren"))


def _with_name_note(regs: pd.DataFrame) -> list[dict]:
    """Table rows with ``name_from``: the year a region's name is from where that is not the
    division year of its figure (shown beside the name), else None."""
    rows = regs.to_dict("records")
    for r in rows:
        ny, gy = r.get("name_year"), r.get("geo_year")
        r["name_from"] = int(ny) if ny is not None and ny == ny and gy == gy and int(ny) != int(gy) else None
        if r.get("interval_method") in (None, "afronding") or r.get("lower") != r.get("lower"):
            r["lower"] = r["upper"] = None  # as the area page: a rounding is in the shown decimals
    return rows


@router.get("/indicator/{indicator}", response_class=HTMLResponse)
def indicator_page(request: Request, indicator: IndicatorPath, jaar: YearQuery = None,
                   niveau: Annotated[str, Query(max_length=MAX_TEXT)] = "gemeente",
                   gemeente: GemeenteCode = None, formaat: Formaat = None,
                   tabel: Literal["regios", "gebieden"] = "regios"):
    ws = _ws(request)
    if formaat is None and indicator in ws.catalogue:
        # the page depends on the store only (no editable data): rendered once per query,
        # house style and store version (the first view of the map waits for it)
        hs = present.house_style()
        body = ws.lru("indicator_pages", 256, maxbytes=PAGE_CACHE_BYTES).get_or_put(
            (indicator, request.url.query, hs["css"], hs["body_class"]),
            lambda: _indicator_page(request, ws, indicator, jaar, niveau, gemeente).body)
        return HTMLResponse(body)
    return _indicator_page(request, ws, indicator, jaar, niveau, gemeente, formaat, tabel)


def _indicator_page(request: Request, ws: WebStore, indicator: str, jaar: int | None, niveau: str,
                    gemeente: str | None, formaat: str | None = None, tabel: str = "regios"):
    cat = ws.catalogue
    if indicator not in cat:
        from . import wijkindex_map
        if wijkindex_map.is_component(indicator):  # the Wijkindex and its domains: their map page
            return wijkindex_map.redirect(indicator, jaar, niveau, gemeente)
        raise HTTPException(404, f"Onbekende indicator '{indicator}'. Zie de lijst van indicatoren.")
    if niveau not in ("gemeente", "wijk", "buurt"):
        raise HTTPException(404, f"Onbekend niveau ‘{niveau[:40]}’. Kies gemeente, wijk of buurt.")
    ind = cat[indicator]
    periods = ws.indicator_periods(indicator)
    level_years = periods.get(niveau, [])
    year = jaar if jaar is not None else (level_years[-1] if level_years else None)
    gemeenten = ws.df("""SELECT code, name FROM regions WHERE level = 'gemeente'
                         QUALIFY row_number() OVER (PARTITION BY code ORDER BY year DESC) = 1
                         ORDER BY name""")
    gemeente = gemeente.upper() if gemeente else None
    if niveau != "gemeente" and not gemeente:
        gemeente = "GM0344"
    regs = ws.level_values(indicator, year, niveau, gemeente if niveau != "gemeente" else None) \
        if year is not None else pd.DataFrame(columns=["code", "name", "value", "status", "reason"])
    if len(regs):
        # the build names a region after the nearest year that names its code (``name_year``);
        # a code that no year names is shown by its code
        named = regs["name"].notna() & (regs["name"] != "")
        regs["name_year"] = regs["name_year"].where(named)
        regs["name"] = regs["name"].where(named, regs["code"])
    asc = ind.higher_is_better is False
    regs = regs.assign(_m=regs["value"].isna()).sort_values(["_m", "value", "name"],
                                                             ascending=[True, asc, True]).drop(columns="_m")
    regs.insert(0, "rank", range(1, len(regs) + 1))
    regs.loc[regs["value"].isna(), "rank"] = None
    av = ws.area_values()
    areas = av[(av["unit_kind"] == "area") & (av["indicator"] == indicator) & (av["period"] == year)]
    idx = ws.area_index().set_index("area_id")
    areas = areas.assign(name=areas["unit_id"].map(idx["name"]), programme=areas["unit_id"].map(idx["programme"]))
    areas = areas.assign(_m=areas["value"].isna()).sort_values(["_m", "value", "name"],
                                                                ascending=[True, asc, True]).drop(columns="_m")
    # the value of each area's own gemeente in the same year (the reference of the gap)
    gm_unit = areas["unit_id"].map(idx["gemeente_unit"])
    gm_vals = av[(av["indicator"] == indicator) & (av["period"] == year)].drop_duplicates("unit_id") \
        .set_index("unit_id")
    areas = areas.assign(gemeente=gm_unit, gemeente_name=areas["unit_id"].map(idx["gemeente_name"]),
                         gemeente_value=gm_unit.map(gm_vals["value"]),
                         gemeente_status=gm_unit.map(gm_vals["status"]).fillna("niet beschikbaar"))
    area_table = areas[["unit_id", "name", "programme", "period", "value", "status", "reason", "coverage",
                        "method", "gemeente", "gemeente_name", "gemeente_value", "gemeente_status"]
                       ].rename(columns={"unit_id": "area"})
    if formaat:
        if tabel == "gebieden":
            return downloads.respond(area_table, formaat, f"{indicator}-{year}-gebieden", table="gebieden",
                                     ws=ws, indicator=indicator)
        layer = maps.choose_layer(niveau, year or 2024, regs["code"], gemeente, ws) if formaat == "geojson" else None
        geom = maps.geometry_dicts(layer) if layer is not None else None
        return downloads.respond(regs, formaat, f"{indicator}-{year}-{niveau}", geometry=geom,
                                 table="regios", ws=ws, indicator=indicator)
    gname = None
    if gemeente is not None:
        hit = gemeenten[gemeenten["code"] == gemeente]
        gname = hit["name"].iloc[0] if not hit.empty else gemeente
    where = "Nederland" if niveau == "gemeente" else f"gemeente {gname}"
    # the SVG map (fallback) and the interactive map's GeoJSON URL, on the same polygons
    items = [dict(code=r["code"], name=r["name"], value=_nan(r["value"]), reason=r["reason"])
             for r in regs[["code", "name", "value", "reason"]].to_dict("records")]
    mp = maps.indicator_map(ws, indicator, year, niveau, gemeente, items=items,
                            title=f"{ind.name} per {niveau}, {where}, {year}") if items else None
    src = ws.df("SELECT DISTINCT s.* FROM indicator_values v JOIN sources s USING (source_id) "
                "WHERE v.indicator = ? ORDER BY s.rank", [indicator])
    area_rows = area_table.to_dict("records")
    for a in area_rows:
        a["gm"] = dict(value=_nan(a["gemeente_value"]), status=a["gemeente_status"],
                       reason=REASONS.get(a["gemeente_status"], ""))
    order = ["gemeente", "wijk", "buurt", "gebied"]
    periods_shown = [(lv, periods[lv]) for lv in order if lv in periods]
    return _render(request, "indicator.html", title=ind.name, ind=ind, year=year, niveau=niveau,
                   gemeente=gemeente, gemeenten=gemeenten.to_dict("records"), periods=periods,
                   periods_shown=periods_shown, gname=gname,
                   level_years=level_years, regs=_with_name_note(regs), areas=area_rows,
                   n_shown=int(regs["value"].notna().sum()), missing=present.status_counts(regs["status"]),
                   area_statuses={a["status"] for a in area_rows} | {a["gemeente_status"] for a in area_rows},
                   breadcrumb=[("/", "Start"), ("/indicatoren", "Indicatoren"), (None, ind.name)],
                   map=mp, where=where, sources=src.to_dict("records"), levels=LEVEL_NAMES,
                   downloads=_download_links(request, "regios", ("csv", "xlsx", "parquet", "geojson", "csv-en")),
                   downloads_areas=_download_links(request, "gebieden"))


# ---------------------------------------------------------------------------------------
# Zoeken and static pages
# ---------------------------------------------------------------------------------------

@router.get("/zoeken", response_class=HTMLResponse)
def zoeken(request: Request, q: Annotated[str, Query(max_length=MAX_TEXT, pattern=NO_CONTROL)] = "",
           formaat: Formaat = None, tabel: Literal["zoekresultaten"] | None = None):
    from .search import index_for
    ws = _ws(request)
    q = q[:200]
    res = index_for(ws).search(q) if q.strip() else None
    if formaat:
        if res is None:
            raise HTTPException(400, "Geef een zoekterm op.")
        return downloads.respond(res.frame(), formaat, "zoekresultaten", table="zoekresultaten", ws=ws)
    return _render(request, "zoeken.html", title="Zoeken", q=q,
                   breadcrumb=[("/", "Start"), (None, "Zoeken")], result=res,
                   downloads=_download_links(request, "zoekresultaten") if res is not None and res.n else [])


@router.get("/bronnen", response_class=HTMLResponse)
def bronnen(request: Request, formaat: Formaat = None, tabel: Literal["bronnen"] | None = None):
    ws = _ws(request)
    src = ws.sources()
    if formaat:
        return downloads.respond(src, formaat, "bronnen", table="bronnen", ws=ws)
    publishers = sorted(set(src["publisher"].dropna()))
    return _render(request, "bronnen.html", title="Bronnen", sources=src.to_dict("records"),
                   breadcrumb=[("/", "Start"), (None, "Bronnen")],
                   publishers=publishers, downloads=_download_links(request, "bronnen"), meta=ws.meta())


@router.get("/over", response_class=HTMLResponse)
def over(request: Request):
    return _render(request, "over.html", title="Over de wijkmonitor", meta=_ws(request).meta(),
                   reasons=REASONS, breadcrumb=[("/", "Start"), (None, "Over de wijkmonitor")])


@router.get("/toegankelijkheid", response_class=HTMLResponse)
def toegankelijkheid(request: Request):
    return _render(request, "toegankelijkheid.html", title="Toegankelijkheidsverklaring",
                   breadcrumb=[("/", "Start"), (None, "Toegankelijkheidsverklaring")])


@router.get("/huisstijl.css")
def huisstijl():
    """The house style of this installation (``WIJKMONITOR_THEME_CSS``; see :mod:`.present`)."""
    from fastapi.responses import FileResponse
    path = present.house_style_path()
    if path is None:
        raise HTTPException(404, "Geen eigen huisstijl ingesteld (WIJKMONITOR_THEME_CSS).")
    return FileResponse(path, media_type="text/css")
