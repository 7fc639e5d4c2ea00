"""Vergelijken and Vergelijkbare gemeenten (issue 17.3).

* ``/vergelijken``: places by name (autocomplete as progressive enhancement) or CBS code, a
  theme and/or a chosen set of indicators, the vergelijkbare gemeenten of one gemeente as a
  group; a table paged by indicator (a page stays under 300 KB) with a small-multiple trend
  chart per indicator.
* ``/vergelijkbare-gemeenten``: for one gemeente the gemeenten of similar size and
  stedelijkheid (:mod:`wijkmonitor.peers`, rule in ``peers.yaml``) and its position
  among them per indicator.

Imports run one way: this module uses helpers of :mod:`.pages`, never the reverse.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from .. import peers
from . import downloads, present, svg
from .data import GROUP_NAMES, PROGRAMMES, REASONS, Unit, WebStore
from .format import is_number, nl_number, nl_value
from .pages import _download_links, _nan, _render, _theme_sorted, _ws

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------------------------------
# Places and indicators of a comparison
# ---------------------------------------------------------------------------------------

def _split_codes(text: str | None) -> list[str]:
    """The places of the Vergelijken text field: CBS codes separated by spaces, commas or
    semicolons, and names (``Den Haag``, ``Overvecht (WK034403)``) separated by commas or
    semicolons. No look-up happens here (the bounds are checked on this list first)."""
    out = []
    for part in re.split(r"[,;\n]+", text or ""):
        part = part.strip()
        if not part:
            continue
        tokens = part.split()
        if all(_CODE_TOKEN.match(t) for t in tokens):
            out += tokens
        else:
            out.append(part)
    return out


_CODE_TOKEN = re.compile(r"^(GM\d{4}|WK\d{4}[0-9A-Z]{2}|BU\d{4}[0-9A-Z]{4}|NL00|G4|G14|G18|G40|NPLV19|NL|"
                         r"[a-z0-9]+(-[a-z0-9]+)+(~rest)?)$", re.I)
_TRAILING_ID = re.compile(r"\(([A-Za-z0-9~:_-]+)\)\s*$")


def _resolve_place(ws: WebStore, text: str) -> Unit | None:
    """A unit by id or code, by the id in brackets at the end ('Overvecht (WK034403)'), or by
    its name when search finds it exactly or by the start of its name."""
    u = ws.unit(text)
    if u is not None:
        return u
    m = _TRAILING_ID.search(text)
    if m and ws.unit(m.group(1)) is not None:
        return ws.unit(m.group(1))
    from .search import PREFIX, index_for
    res = index_for(ws).search(text)
    best = sorted((h for _, _, hits, _ in res.groups for h in hits if h.group != "postcode"),
                  key=lambda h: h.rank)
    if best and best[0].rank <= PREFIX:
        return ws.unit(best[0].entry.id)
    return None


def themes(catalogue) -> list[str]:
    """The catalogue's themes in the site's order."""
    return list(dict.fromkeys(i.theme for i in _theme_sorted(catalogue)))


def chosen_indicators(catalogue, indicator: list[str], thema: str | None) -> list[str] | None:
    """The indicator ids of a comparison (catalogue order): the theme's plus the ticked ones;
    ``None`` (all) when neither is given. A Dutch 404 names an unknown one."""
    picked = [i for i in dict.fromkeys(indicator) if i]
    for i in picked:
        if i not in catalogue:
            raise HTTPException(404, f"Onbekende indicator ‘{i[:60]}’. Zie de lijst van indicatoren.")
    if thema:
        if thema not in themes(catalogue):
            raise HTTPException(404, f"Onbekend thema ‘{thema[:60]}’. Kies uit: "
                                + ", ".join(themes(catalogue)) + ".")
        picked += [i.id for i in catalogue.values() if i.theme == thema]
    if not picked:
        return None
    order = [i.id for i in _theme_sorted(catalogue)]
    return [i for i in order if i in set(picked)]


def vergelijk_table(ws: WebStore, units: list[Unit], years: list[int],
                    indicator: str | list[str] | None) -> pd.DataFrame:
    """The long table Vergelijken shows (one row per unit, indicator and year).

    ``indicator``: one id, a list of ids, or ``None`` for every indicator."""
    cat = ws.catalogue
    inds = [indicator] if isinstance(indicator, str) else (
        list(indicator) if indicator else [i.id for i in _theme_sorted(cat)])
    frames = []
    for u in units:
        df = ws.unit_values(u.id, inds[0] if len(inds) == 1 else None)
        df = df[df["period"].isin(years) & df["indicator"].isin(inds)].copy()
        df["unit_name"] = u.name
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["unit", "unit_name", "indicator", "indicator_name", "period",
                                     "value", "unit_of_measure", "estimate", "status", "reason"])
    df = pd.concat(frames, ignore_index=True)
    # every requested (unit, indicator, year) is a row: absent ones say why
    full = pd.MultiIndex.from_product([[u.id for u in units], inds, years],
                                      names=["unit", "indicator", "period"]).to_frame(index=False)
    df = full.merge(df, on=["unit", "indicator", "period"], how="left")
    names = {u.id: u.name for u in units}
    df["unit_name"] = df["unit"].map(names)
    df["status"] = df["status"].fillna("niet beschikbaar")
    df["reason"] = df["status"].map(REASONS)
    df.loc[df["status"] != "ok", "value"] = np.nan
    df["estimate"] = df["estimate"].fillna(False).astype(bool) & (df["status"] == "ok")
    df["indicator_name"] = df["indicator"].map(lambda i: cat[i].name)
    df["unit_of_measure"] = df["indicator"].map(lambda i: cat[i].unit)
    return df[["unit", "unit_name", "indicator", "indicator_name", "period", "value",
               "unit_of_measure", "estimate", "status", "reason"]]


#: Bounds of one comparison (issue 18.7): checked before any unit is looked up, so that an
#: oversized request costs nothing and gets a Dutch answer instead of a timeout.
MAX_COMPARE_UNITS = 20
MAX_COMPARE_YEARS = 16
MAX_CODES_CHARS = 2000
MAX_INDICATORS = 100
#: Table cells (unit x year) per result page, and the units drawn in each small chart.
CELLS_PER_PAGE = 1200
CHART_UNITS = 4


def _compare_bounds(gebied: list[str], codes: str | None, jaar: list[int], *,
                    group: int = 0, indicator: list[str] | None = None) -> None:
    """A 400 with a Dutch message when a comparison asks for too much (``group``: the places
    a vergelijkbare-gemeenten group adds)."""
    if codes and len(codes) > MAX_CODES_CHARS:
        raise HTTPException(400, f"Het veld met codes is te lang ({len(codes):,} tekens; hoogstens "
                                 f"{MAX_CODES_CHARS:,}). Vergelijk hoogstens {MAX_COMPARE_UNITS} gebieden "
                                 "tegelijk.".replace(",", "."))
    n = len(set(gebied)) + len(set(_split_codes(codes))) + group
    if n > MAX_COMPARE_UNITS:
        raise HTTPException(400, f"U koos {n:,} gebieden"
                                 + (f" (waarvan {group} vergelijkbare gemeenten)" if group else "")
                                 + f"; vergelijk er hoogstens {MAX_COMPARE_UNITS} "
                                 "tegelijk. Kies minder gebieden, of haal grote tabellen op via de API "
                                 "(/api/v1/values).".replace(",", "."))
    if len(set(jaar)) > MAX_COMPARE_YEARS:
        raise HTTPException(400, f"U koos {len(set(jaar))} jaren; kies er hoogstens {MAX_COMPARE_YEARS}.")
    if indicator is not None and len(set(indicator)) > MAX_INDICATORS:
        raise HTTPException(400, f"U koos {len(set(indicator))} indicatoren; kies er hoogstens "
                                 f"{MAX_INDICATORS}.")


#: The chart series "median of the vergelijkbare gemeenten" (not a column of the table).
MEDIAN = -1


def _chart_values(rows: list[dict], i: int, group_idx: list[int]) -> dict[int, float]:
    """``{year: value}`` of column ``i`` of the table rows, shown values only; for
    :data:`MEDIAN` the median of the columns ``group_idx`` in the years in which at least
    ``peers.MIN_OTHERS + 1`` of them have a shown value."""
    out = {}
    for r in rows:
        if i == MEDIAN:
            vals = [r["cells"][j]["value"] for j in group_idx
                    if r["cells"][j]["status"] == "ok" and r["cells"][j]["value"] is not None]
            if len(vals) >= peers.MIN_OTHERS + 1:
                out[r["year"]] = float(np.median(vals))
        else:
            c = r["cells"][i]
            if c["status"] == "ok" and c["value"] is not None:
                out[r["year"]] = c["value"]
    return out


def _gemeente(ws: WebStore, text: str, field: str) -> Unit:
    """The gemeente a field names (code, 'Naam (GM0344)' or name), else a Dutch 404 naming the
    field."""
    u = _resolve_place(ws, text)
    if u is None or u.kind != "gemeente":
        what = "geen gemeente" if u is not None else "niet gevonden"
        raise HTTPException(404, f"Veld ‘{field}’: ‘{text[:60]}’ is {what}. Kies een gemeente bij naam "
                                 "of CBS-code, bijvoorbeeld Utrecht of GM0344.")
    return u


# ---------------------------------------------------------------------------------------
# Vergelijken
# ---------------------------------------------------------------------------------------

@router.get("/vergelijken", response_class=HTMLResponse)
def vergelijken(request: Request, gebied: list[str] = Query(default=[]), codes: str | None = None,
                jaar: list[int] = Query(default=[]), indicator: list[str] = Query(default=[]),
                thema: str | None = Query(None, max_length=100),
                vergelijkbaar: str | None = Query(None, max_length=200),
                pagina: int = Query(1, ge=1, le=1000),
                formaat: str | None = None, tabel: str | None = None):
    rule = peers.load_rule()
    vergelijkbaar = (vergelijkbaar or "").strip() or None
    _compare_bounds(gebied, codes, jaar, group=rule.k + 1 if vergelijkbaar else 0, indicator=indicator)
    ws = _ws(request)
    cat = ws.catalogue
    thema = thema or None
    inds = chosen_indicators(cat, indicator, thema)
    units, unknown = [], []
    peer, group = None, None
    if vergelijkbaar:
        peer = _gemeente(ws, vergelijkbaar, "vergelijkbaar")
        group = peer_group(ws, peer.id, peer.name)
        for code in group["code"]:
            u = ws.unit(code)
            if u is not None and u.id not in [x.id for x in units]:
                units.append(u)
    for uid in list(gebied) + _split_codes(codes):
        u = _resolve_place(ws, uid)
        if u is None:
            unknown.append(uid)
        elif u.id not in [x.id for x in units]:
            units.append(u)
    group_idx = [i for i, u in enumerate(units) if peer and u.id in set(group["code"]) and u.id != peer.id]
    all_years = sorted(set(ws.area_periods()) | set(range(2012, 2025)))
    years = sorted(set(jaar))
    df = vergelijk_table(ws, units, years, inds) if units and years else None
    if formaat:
        if df is None:
            raise HTTPException(400, "Kies eerst minstens één gebied en één jaar.")
        return downloads.respond(df, formaat, "vergelijking", table="vergelijking", ws=ws)
    grid, empty, statuses, estimate = [], [], set(), False
    if df is not None:
        # years in which at least one chosen unit has a shown value, per indicator (to point a
        # reader to years that do have figures)
        ok_years: dict[str, list[int]] = {}
        for u in units:
            uv = ws.unit_values(u.id, inds[0] if inds and len(inds) == 1 else None)
            for ind_id, g in uv[uv["status"] == "ok"].groupby("indicator"):
                ok_years[ind_id] = sorted(set(ok_years.get(ind_id, [])) | set(g["period"].astype(int)))
        order = {i.id: n for n, i in enumerate(_theme_sorted(cat))}
        for ind_id, sub in sorted(df.groupby("indicator", sort=False), key=lambda kv: order.get(kv[0], 999)):
            ind = cat[ind_id]
            if sub["value"].isna().all():
                # no number for any chosen area and year: listed with the reasons, not as a
                # table of dashes (the download still has these rows, with status and reason)
                empty.append(dict(ind=ind, statuses=[s for s, _ in present.status_counts(sub["status"])],
                                  other_years=[y for y in ok_years.get(ind_id, []) if y >= 2010]))
                continue
            lut = {(r.unit, int(r.period)): r for r in sub.itertuples(index=False)}
            rows = []
            for y in years:
                cells = []
                for u in units:
                    r = lut[(u.id, y)]
                    cells.append(dict(value=_nan(r.value), status=r.status, reason=r.reason,
                                      estimate=bool(getattr(r, "estimate", False) or False)))
                    if r.status != "ok":
                        statuses.add(r.status)
                    elif cells[-1]["estimate"]:
                        estimate = True
                rows.append(dict(year=y, cells=cells))
            grid.append(dict(ind=ind, rows=rows))
    # a result of many areas, years and indicators is paged by indicator so that one page stays
    # small (~300 KB); each indicator on the page gets a small trend chart of the first units
    per_page = max(1, CELLS_PER_PAGE // max(1, len(units) * max(1, len(years))))
    n_pages = max(1, -(-len(grid) // per_page))
    page = min(max(1, pagina), n_pages)
    shown = grid[(page - 1) * per_page: page * per_page]
    # with a group of vergelijkbare gemeenten the charts show the gemeente, the median of the
    # others and then the other chosen places; otherwise the first chosen places
    others = [u for u in units if not (peer and u.id in set(group["code"]))]
    plan = ([(next(i for i, u in enumerate(units) if u.id == peer.id), peer.name), (MEDIAN, f"Mediaan van de {rule.k} vergelijkbare gemeenten")]
            + [(units.index(u), u.name) for u in others][:CHART_UNITS - 2]) if peer else \
        [(i, u.name) for i, u in enumerate(units[:CHART_UNITS])]
    for g in shown:
        ind = g["ind"]
        series = [(name, _chart_values(g["rows"], i, group_idx if peer else [])) for i, name in plan]
        g["chart"] = svg.trend_chart(series, title=f"{ind.name}: {', '.join(n for _, n in plan)}",
                                     unit=ind.unit, decimals=ind.decimals, chart_id=f"vgl-{ind.id}")
        g["legend"] = [(n, *svg.legend_swatch(i), bool(sv)) for i, (n, sv) in enumerate(series)]
    q = [(k, v) for k, v in request.query_params.multi_items() if k != "pagina"]
    pager = [dict(n=i, href="/vergelijken?" + urlencode(q + [("pagina", i)]) + "#resultaat",
                  first=grid[(i - 1) * per_page]["ind"].name, current=i == page)
             for i in range(1, n_pages + 1)] if n_pages > 1 else []
    idx = ws.area_index()
    by_theme: dict[str, list] = {}
    for i in _theme_sorted(cat):
        by_theme.setdefault(i.theme, []).append(i)
    return _render(request, "vergelijken.html", title="Vergelijken", units=units, unknown=unknown,
                   years=years, all_years=all_years, ticked={i for i in indicator if i},
                   thema=thema, themes=themes(cat), by_theme=by_theme,
                   chosen_inds=[cat[i] for i in inds] if inds else None,
                   indicators=_theme_sorted(cat), grid=shown, n_grid=len(grid), pager=pager, page=page,
                   chart_names=[n for _, n in plan], n_chart_units=sum(1 for i, _ in plan if i != MEDIAN), empty=empty, statuses=statuses,
                   estimate=estimate, codes=codes or "", peer=peer, vergelijkbaar=vergelijkbaar or "",
                   rule=rule,
                   breadcrumb=[("/", "Start"), (None, "Vergelijken")],
                   data_years=set(ws.area_periods()),
                   chosen=set(gebied), areas={p: idx[idx["programme"] == p].to_dict("records") for p in PROGRAMMES},
                   programmes=PROGRAMMES, groups=GROUP_NAMES,
                   downloads=_download_links(request, "vergelijking") if df is not None else [])


# ---------------------------------------------------------------------------------------
# Vergelijkbare gemeenten
# ---------------------------------------------------------------------------------------

def peer_profiles(ws: WebStore) -> pd.DataFrame:
    """The profiles of every gemeente under the declared rule (cached per store version)."""
    rule = peers.load_rule()
    key = ("peer_profiles", rule.year, rule.source_id, tuple(rule.variables))
    return ws.cached(key, lambda: peers.load_profiles(ws.con(), rule))


def peer_group(ws: WebStore, code: str, name: str | None = None) -> pd.DataFrame:
    """The gemeente and its vergelijkbare gemeenten (:func:`wijkmonitor.peers.similar`);
    a Dutch 404 when the gemeente has no profile in the rule's year."""
    rule = peers.load_rule()
    try:
        return peers.similar(peer_profiles(ws), code, rule)
    except KeyError:
        raise HTTPException(404, f"Voor {name or 'deze gemeente'} zijn er geen cijfers over inwoners en "
                                 f"stedelijkheid in {rule.year}, dus geen vergelijkbare gemeenten. "
                                 "Kies een gemeente die in dat jaar bestond.") from None


def strip_svg(values: dict[str, float], mine: str, *, low: float, high: float, title: str) -> str:
    """A small dot strip: every group value as a grey dot, the gemeente's as a larger dark dot
    (decorative next to the numbers in the same row: ``aria-hidden``)."""
    w, h, pad = 120, 18, 6
    span = (high - low) or 1.0
    dots = []
    for code, v in sorted(values.items(), key=lambda kv: kv[0] == mine):
        x = pad + (w - 2 * pad) * (v - low) / span
        if code == mine:
            dots.append(f'<circle cx="{x:.1f}" cy="9" r="5" fill="{svg.HIGHLIGHT}" stroke="#fff"/>')
        else:
            dots.append(f'<circle cx="{x:.1f}" cy="9" r="3" fill="#6b6b6b" fill-opacity="0.7"/>')
    return (f'<svg class="wm-strip" width="{w}" height="{h}" viewBox="0 0 {w} {h}" aria-hidden="true" '
            f'focusable="false"><line x1="{pad}" y1="9" x2="{w - pad}" y2="9" stroke="#b0b0b0"/>'
            + "".join(dots) + "</svg>")


def position_rows(ws: WebStore, group: pd.DataFrame) -> list[dict]:
    """One row per indicator with a position, in theme order, ready for the page and file."""
    cat = ws.catalogue
    code = group["code"].iloc[0]
    hv = ws.df("""SELECT indicator, region_code, period, value, status, source_id, estimate
                  FROM harmonised_values WHERE region_code = ANY(?)""", [list(group["code"])])
    by_id = {r["indicator"]: r for r in peers.positions(hv, code, cat)}
    src = ws.sources()
    titles = dict(zip(src["source_id"], src["title"]))
    rows = []
    for ind in _theme_sorted(cat):
        r = by_id.get(ind.id)
        if r is None:
            continue
        p = r["position"]
        row = dict(ind=ind, period=r["period"], sources=r["sources"], mixed=r["mixed"],
                   source_titles=[titles.get(x, x) for x in r["sources"]],
                   estimate=r["estimate"], n=len(r["values"]), value=r["values"].get(code))
        if p:
            direction = ("1 = gunstigste" if ind.higher_is_better is not None else f"1 = {p['order']}")
            row.update(rank=p["rank"], shared=p["shared"], median=p["median"], low=p["low"], high=p["high"],
                       direction=direction,
                       strip=strip_svg(r["values"], code, low=p["low"], high=p["high"], title=ind.name))
        rows.append(row)
    return rows


def _position_frame(rows: list[dict], gemeente: Unit) -> pd.DataFrame:
    """The position table as a file (stable column ids; Dutch names in ``columns.yaml``)."""
    return pd.DataFrame([dict(unit=gemeente.id, unit_name=gemeente.name, indicator=r["ind"].id,
                              indicator_name=r["ind"].name, period=r["period"], value=r["value"],
                              unit_of_measure=r["ind"].unit, group_rank=r.get("rank"), group_size=r["n"],
                              group_median=r.get("median"), group_min=r.get("low"), group_max=r.get("high"),
                              rank_order=r.get("direction"), source="; ".join(r["sources"]))
                         for r in rows],
                        columns=["unit", "unit_name", "indicator", "indicator_name", "period", "value",
                                 "unit_of_measure", "group_rank", "group_size", "group_median", "group_min",
                                 "group_max", "rank_order", "source"])


@router.get("/vergelijkbare-gemeenten", response_class=HTMLResponse)
def vergelijkbare_gemeenten(request: Request, gemeente: str | None = Query(None, max_length=200),
                            formaat: str | None = None, tabel: str | None = None):
    ws = _ws(request)
    rule = peers.load_rule()
    gemeente = (gemeente or "").strip() or None
    u = _gemeente(ws, gemeente, "gemeente") if gemeente else None
    group, rows, labels = None, [], {}
    if u is not None:
        group = peer_group(ws, u.id, u.name)
        rows = position_rows(ws, group)
        if formaat:
            return downloads.respond(_position_frame(rows, u), formaat, f"vergelijkbare-gemeenten-{u.id}",
                                     table="vergelijkbare_gemeenten", ws=ws)
        labels = {int(k): v for c in rule.context for k, v in (c.get("labels") or {}).items()}
    elif formaat:
        raise HTTPException(400, "Kies eerst een gemeente (veld ‘gemeente’).")
    members = []
    if group is not None:
        for r in group.itertuples(index=False):
            mvs = getattr(r, "ste_mvs", None)
            members.append(dict(code=r.code, name=r.name, inwoners=r.a_inw, oad=r.ste_oad,
                                mvs=labels.get(int(mvs)) if is_number(mvs) else None,
                                distance=r.distance, self=r.rank == 0))
    source = ws.sources()
    source = source[source["source_id"] == rule.source_id]
    source_title = source["title"].iloc[0] if len(source) else rule.source_id
    years = sorted({r["period"] for r in rows})
    compare_href = None
    if u is not None:
        compare_href = ("/vergelijken?" + urlencode([("vergelijkbaar", u.id)]
                                                   + [("jaar", y) for y in range(2016, 2025)]) + "#resultaat")
    return _render(request, "vergelijkbaar.html", title="Vergelijkbare gemeenten" + (f": {u.name}" if u else ""),
                   u=u, gemeente=gemeente or "", rule=rule, members=members, rows=rows,
                   source_title=source_title, years=years, compare_href=compare_href,
                   breadcrumb=[("/", "Start"), ("/vergelijken", "Vergelijken"), (None, "Vergelijkbare gemeenten")],
                   downloads=_download_links(request, "vergelijkbare_gemeenten") if u else [],
                   nl_value=nl_value, nl_number=nl_number)
