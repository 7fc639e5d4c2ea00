"""The Wijkindex on the map: ``/wijkindex/kaart`` (one index or domain per level, year and
gemeente, coloured by decile, with the class legend and the table of scores, deciles and rank
intervals) and its GeoJSON for the interactive map (``/api/v1/kaart/wijkindex/{component}``).

The same machinery as the indicator maps (:mod:`.maps`, :mod:`.svg`, ``static/kaart.js``): the
server-side SVG is the map without JavaScript, MapLibre draws the same classes from the
GeoJSON. Classes are the stored deciles (``wijkindex_values.decile``: 1 = the 10 % of the
level with the most achterstand in that year), never recomputed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from .. import store
from ..bounds import MAX_TEXT, NO_CONTROL, GemeenteCode, YearQuery
from ..wijkindex.model import component_ids
from ..wijkindex.select import profile_frame, readable
from . import maps, svg
from .layout import TEMPLATES
from .format import DASH, nl_value

router = APIRouter(include_in_schema=False)

LEVELS = ("gemeente", "wijk", "buurt")
LEVEL_PLURAL = {"gemeente": "gemeenten", "wijk": "wijken", "buurt": "buurten"}
#: Decile colours (ColorBrewer RdBu, 10 classes): dark red = decile 1, the most achterstand.
DECILE_COLOURS = ("#67001f", "#b2182b", "#d6604d", "#f4a582", "#fddbc7",
                  "#d1e5f0", "#92c5de", "#4393c3", "#2166ac", "#053061")


@dataclass(frozen=True)
class DecileClass:
    value: int
    label: str
    colour: str


def decile_classes() -> tuple[DecileClass, ...]:
    """The ten fixed map classes (as :func:`svg.classify` takes them)."""
    labels = {1: "(meeste achterstand)", 10: "(minste achterstand)"}
    return tuple(DecileClass(d, labels.get(d, ""), colour) for d, colour in enumerate(DECILE_COLOURS, start=1))


class MapRequestError(ValueError):
    """A bad map request (Dutch message naming the field)."""


def _component(component: str):
    comps = component_ids()
    if component not in comps:
        raise MapRequestError(f"onbekende index of domein ‘{component[:40]}’ (veld component); kies uit: "
                              + ", ".join(comps))
    return comps[component]


def map_rows(con, component: str, level: str, year: int, gemeente: str | None) -> tuple[list[dict], dict]:
    """The units of ``level`` in ``year`` (within ``gemeente`` for wijk and buurt) with score,
    decile, ranks and intervals of ``component``: one dict per unit, and a description."""
    if level not in LEVELS:
        raise MapRequestError(f"onbekend niveau ‘{level[:40]}’ (veld niveau); kies gemeente, wijk of buurt")
    spec, dom = _component(component)
    prof = profile_frame(con, spec, level, year, gemeente if level != "gemeente" else None)
    rows = []
    for r in prof.to_dict("records") if len(prof) else []:
        if dom is None:
            score, decile = r[spec.id], r["decile"]
        else:
            score, decile = r[dom], r[dom + "_decile"]
        shown = not pd.isna(score)
        rows.append(dict(
            code=r["code"], name=r["name"] if isinstance(r["name"], str) and r["name"] else r["code"],
            score=float(score) if shown else None, decile=int(decile) if shown and not pd.isna(decile) else None,
            reason="" if shown else (readable(r["reason"]) if dom is None and isinstance(r["reason"], str)
                                     else "geen score voor dit domein (te weinig indicatoren)"),
            rank_nl=_int(r["rank_nl"]) if dom is None else None, n_nl=_int(r["n_nl"]),
            rank_nl_low=_int(r["rank_nl_low"]), rank_nl_high=_int(r["rank_nl_high"]),
            rank_gemeente=_int(r["rank_gemeente"]) if dom is None else None, n_gemeente=_int(r["n_gemeente"]),
            rank_gemeente_low=_int(r["rank_gemeente_low"]), rank_gemeente_high=_int(r["rank_gemeente_high"])))
    rows.sort(key=lambda x: (x["score"] is None, -(x["score"] or 0), x["name"]))
    name = spec.naam if dom is None else f"{spec.naam}: {next(d.naam for d in spec.domeinen if d.id == dom)}"
    return rows, dict(name=name, spec=spec, domain=dom, version=spec.version)


def _int(x):
    return None if x is None or pd.isna(x) else int(x)


def _items(rows: list[dict]) -> list[dict]:
    """Map items: the class is the decile; the reason where there is no score."""
    return [dict(code=r["code"], name=r["name"], value=r["decile"], reason=r["reason"] or "geen deciel")
            for r in rows]


def _label(r: dict) -> str:
    if r["score"] is None:
        return f"{DASH} {r['reason']}".strip()
    return f"{nl_value(r['score'], 1)} (deciel {r['decile']})"


def available_years(con, component: str, level: str) -> list[int]:
    if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'wijkindex_values'"
                       ).fetchone()[0]:
        return []
    return [int(y) for (y,) in con.execute(
        "SELECT DISTINCT period FROM wijkindex_values WHERE component = ? AND unit_kind = ? AND status = 'ok' "
        "ORDER BY 1", [component, level]).fetchall()]


@router.get("/wijkindex/kaart", response_class=HTMLResponse)
def wijkindex_kaart(request: Request,
                    component: Annotated[str, Query(max_length=MAX_TEXT, pattern=NO_CONTROL)] = "wijkindex",
                    niveau: Annotated[str, Query(max_length=MAX_TEXT, pattern=NO_CONTROL)] = "buurt",
                    jaar: YearQuery = None, gemeente: GemeenteCode = None):
    ws = request.app.state.ws
    gemeente = gemeente.upper() if gemeente else None
    if niveau != "gemeente" and not gemeente:
        gemeente = "GM0344"
    error, rows, info, mp, years = None, [], None, None, []
    comps = component_ids()
    try:
        _component(component)
        if niveau not in LEVELS:
            raise MapRequestError(f"onbekend niveau ‘{niveau[:40]}’ (veld niveau); kies gemeente, wijk of buurt")
        con = ws.con()
        years = available_years(con, component, niveau)
        year = jaar if jaar is not None else (years[-1] if years else 2024)
        rows, info = map_rows(con, component, niveau, year, gemeente)
        if not rows:
            raise MapRequestError(f"geen {LEVEL_PLURAL[niveau]} met deze waarde in {year}"
                                  + (f" in {gemeente}" if niveau != "gemeente" else "")
                                  + (f"; jaren met cijfers: {', '.join(map(str, years))}" if years else ""))
    except MapRequestError as exc:
        error, year = str(exc), jaar or 2024
    except store.StoreMissing as exc:
        error, year = str(exc), jaar or 2024
    where = "Nederland" if niveau == "gemeente" else f"gemeente {gemeente}"
    if rows:
        gname = ws.df("SELECT name FROM regions WHERE code = ? ORDER BY year DESC LIMIT 1", [gemeente]) \
            if niveau != "gemeente" else None
        if gname is not None and len(gname):
            where = f"gemeente {gname['name'].iloc[0]}"
        title = f"{info['name']} per {niveau}, {where}, {year} (deciel)"
        items = _items(rows)
        codes = [i["code"] for i in items]
        layer = maps.choose_layer(niveau, year, codes, gemeente, ws)
        classes = decile_classes()
        if layer is None:
            mp = svg.choropleth(items, year=year, level=niveau, unit="", decimals=0, title=title,
                                classes=classes) | dict(note=None, src=None, source=None)
        else:
            q = f"jaar={year}&niveau={niveau}" + (f"&gemeente={gemeente}" if niveau != "gemeente" else "")
            mp = svg.choropleth(items, year=year, level=niveau, unit="", decimals=0, title=title,
                                classes=classes, shapes=maps.shapes(layer), shapes_year=layer.year) | dict(
                note=layer.note(year, codes=codes), short_note=layer.short_note(year, codes), source=layer.source,
                src=f"/api/v1/kaart/wijkindex/{component}?{q}")
    return TEMPLATES.TemplateResponse(request, "wijkindex_kaart.html", dict(
        title="Wijkindex op de kaart", breadcrumb=[("/", "Start"), ("/wijkindex", "Wijkindex"), (None, "Kaart")],
        component=component, comps=comps, niveau=niveau, jaar=year, gemeente=gemeente or "", error=error,
        rows=rows, info=info, map=mp, years=years, where=where, levels=LEVELS, level_plural=LEVEL_PLURAL,
        nl_value=nl_value), status_code=200)


@router.get("/api/v1/kaart/wijkindex/{component}", response_class=Response,
            responses={200: {"content": {"application/geo+json": {}}}})
def wijkindex_geojson(request: Request, component: Annotated[str, Path(max_length=MAX_TEXT)],
                      jaar: int = Query(..., ge=1900, le=2100), niveau: str = Query("gemeente", max_length=MAX_TEXT),
                      gemeente: GemeenteCode = None):
    """Units with polygon, score text, decile colour and page link; the member ``wijkmonitor``
    carries the decile legend. The same classes as the SVG map of ``/wijkindex/kaart``."""
    ws = request.app.state.ws
    if niveau != "gemeente" and not gemeente:
        raise HTTPException(422, "geef een gemeente (veld gemeente, code GMxxxx) voor wijken en buurten")
    try:
        rows, info = map_rows(ws.con(), component, niveau, jaar, gemeente)
    except MapRequestError as exc:
        raise HTTPException(404, str(exc))
    items = _items(rows)
    codes = [i["code"] for i in items]
    layer = maps.choose_layer(niveau, jaar, codes, gemeente, ws)
    if layer is None:
        raise HTTPException(404, f"geen grenzen voor {LEVEL_PLURAL[niveau]}")
    cls = svg.classify(items, decimals=0, classes=decile_classes())
    feats = [dict(code=r["code"], name=r["name"], href=f"/gebied/{r['code']}", fill=cls["fill"].get(r["code"]),
                  label=_label(r)) for r in rows]
    meta = dict(indicator=component, name=info["name"], unit="score 0-100", year=jaar, level=niveau,
                gemeente=gemeente if niveau != "gemeente" else None, note=layer.note(jaar, codes=codes), fixed_classes=True,
                legend=[dict(fill=c, label=lab.strip(), count=n) for c, lab, n in cls["legend"]],
                index_version=info["version"])
    return Response(maps.feature_collection(layer, feats, meta).encode(), media_type="application/geo+json")


def is_component(indicator: str) -> bool:
    from ..wijkindex.select import is_component as _is
    return _is(indicator)


def component_list() -> list[dict]:
    """``id, name, unit, polarity`` of every index and domain (the indicator list's rows)."""
    from ..wijkindex.select import component_rows
    return [dict(id=r["id"], name=r["name"], unit=r["unit"], polarity=r["polarity"]) for r in component_rows()]


def redirect(component: str, jaar: int | None, niveau: str, gemeente: str | None):
    """``/indicator/wijkindex...`` -> the map page of that index or domain (same parameters)."""
    from urllib.parse import urlencode

    from fastapi.responses import RedirectResponse

    q = dict(component=component, niveau=niveau if niveau in LEVELS else "gemeente")
    if jaar is not None:
        q["jaar"] = jaar
    if gemeente:
        q["gemeente"] = gemeente
    return RedirectResponse("/wijkindex/kaart?" + urlencode(q), status_code=307)
