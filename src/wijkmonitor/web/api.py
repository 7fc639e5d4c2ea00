"""JSON API ``/api/v1``: stable URLs for notebooks (documented at ``/api/docs``).

Every value object carries ``value`` (``null`` when not shown), ``status`` and ``reason``; a
suppressed value is never a number. Add ``format=csv|xlsx|parquet`` to a list endpoint to get
the same rows as a file.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from .. import analysis
from . import downloads
from .data import REASONS, Unknown, WebStore, frame_json, records

router = APIRouter(prefix="/api/v1", tags=["wijkmonitor"])
Fmt = Literal["json", "csv", "xlsx", "parquet"]


def _ws(request: Request) -> WebStore:
    return request.app.state.ws


def _out(df: pd.DataFrame, format: str, name: str, ws: WebStore | None = None):
    if format == "json":
        return Response(frame_json(df), media_type="application/json")
    # the API keeps the stable column ids and plain CSV (``,`` and ``.``)
    return downloads.respond(df, format, name, dutch=False, ws=ws)


@router.get("/indicators", summary="Alle indicatoren van de catalogus")
def indicators(request: Request, format: Fmt = "json"):
    from .. import api as wm
    return _out(wm.indicators(), format, "indicatoren", _ws(request))


@router.get("/indicators/{indicator}", summary="Eén indicator: definitie, bron, polariteit, minimumbasis")
def indicator(request: Request, indicator: str):
    from .. import api as wm
    df = wm.indicators()
    hit = df[df["id"] == indicator]
    if hit.empty:
        raise HTTPException(404, f"onbekende indicator {indicator!r}")
    out = records(hit)[0]
    out["periods"] = _ws(request).indicator_periods(indicator)
    return out


@router.get("/areas", summary="Focusgebieden en aandachtswijken (area_index)")
def areas(request: Request, programme: str | None = None, format: Fmt = "json"):
    df = _ws(request).area_index()
    if programme:
        df = df[df["programme"] == programme]
    return _out(df, format, "gebieden", _ws(request))


@router.get("/areas/{area_id}", summary="Eén gebied met zijn CBS-codes en referenties")
def area(request: Request, area_id: str):
    ws = _ws(request)
    df = ws.area_index()
    hit = df[df["area_id"] == area_id]
    if hit.empty:
        raise HTTPException(404, f"onbekend gebied {area_id!r}")
    out = records(hit)[0]
    out["codes"] = str(out["codes"]).split(",")
    u = ws.unit(area_id)
    out["references"] = [dict(label=l, unit=uid) for l, uid in ws.references(u)]
    return out


@router.get("/regions", summary="CBS-regio's (gemeente, wijk, buurt) per indeling")
def regions(request: Request, year: int | None = None, level: str | None = None,
            gemeente: str | None = None, q: str | None = None,
            limit: int = Query(1000, le=50000), format: Fmt = "json"):
    ws = _ws(request)
    where, params = [], []
    if year is not None:
        where.append("year = ?"); params.append(year)
    if level:
        where.append("level = ?"); params.append(level)
    if gemeente:
        where.append("(gemeente_code = ? OR code = ?)"); params += [gemeente, gemeente]
    if q:
        where.append("(upper(code) = upper(?) OR name ILIKE ?)"); params += [q, f"%{q}%"]
    df = ws.df(f"SELECT code, year, level, name, {ws.name_year_sql()}, gemeente_code, wijk_code, population FROM regions"
               + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY year, level, code LIMIT ?", params + [limit])
    return _out(df, format, "regios", _ws(request))


@router.get("/values", summary="Waarden van gebieden, groepen of CBS-regio's (wat de site toont)")
def values(request: Request, unit: list[str] = Query(..., description="gebied-id, groep (G4, NL) of CBS-code; herhaalbaar"),
           indicator: str | None = None, period: list[int] = Query(None), format: Fmt = "json"):
    ws = _ws(request)
    frames = []
    for u in unit:
        if ws.unit(u) is None:
            raise HTTPException(404, f"onbekend gebied of onbekende code {u!r}")
        frames.append(ws.unit_values(ws.unit(u).id, indicator))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if period:
        df = df[df["period"].isin(period)]
    return _out(df.reset_index(drop=True), format, "waarden", _ws(request))


@router.get("/value/{unit}/{indicator}/{year}", summary="Eén waarde met status, reden en bron")
async def value(request: Request, unit: str, indicator: str, year: int):
    # async: a look-up in memory (WebStore.value_json) runs on the event loop; building the
    # index on first use and resolving a unit id seen for the first time run in a thread
    ws = _ws(request)
    try:
        body = ws.value_json(unit, indicator, year, build=False)
        if body is None:
            body = await run_in_threadpool(ws.value_json, unit, indicator, year)
    except Unknown as e:
        raise HTTPException(404, f"onbekend gebied of onbekende code {unit!r}" if e.what == "unit"
                            else f"onbekende indicator {indicator!r}") from None
    return Response(body, media_type="application/json")


@router.get("/region-values", summary="Alle CBS-regio's van één niveau voor één indicator en jaar")
def region_values(request: Request, indicator: str, period: int,
                  level: Literal["gemeente", "wijk", "buurt"] = "gemeente",
                  gemeente: str | None = None, format: Fmt = "json"):
    ws = _ws(request)
    if indicator not in ws.catalogue:
        raise HTTPException(404, f"onbekende indicator {indicator!r}")
    return _out(ws.level_values(indicator, period, level, gemeente), format, f"{indicator}-{period}-{level}", ws)


async def _cached_json(ws: WebStore, name: str, key, compute) -> Response:
    """A JSON list response kept per store version in the LRU cache ``name``: served from
    memory on the event loop when cached, else ``compute()`` (-> DataFrame) runs in a thread."""
    body = ws.lru(name).get(key)
    if body is None:
        def build():
            out = frame_json(compute())
            ws.lru(name).put(key, out)
            return out
        body = await run_in_threadpool(build)
    return Response(body, media_type="application/json")


@router.get("/gaps", summary="Afstand tot de referentie en de klasse van de ontwikkeling")
async def gaps(request: Request, areas: str = Query("nplv", description="nplv, aandachtswijken of komma-gescheiden gebied-ids"),
               baseline: int = 2012, latest: int = 2024,
               reference: Literal["gemeente", "rest", "G4", "G14", "G18", "G40", "NPLV19", "NL"] = "gemeente",
               indicator: str | None = None, format: Fmt = "json"):
    ws = _ws(request)
    sel = areas if areas in ("nplv", "aandachtswijken") else [a.strip() for a in areas.split(",") if a.strip()]

    def compute() -> pd.DataFrame:
        try:
            df = ws.gaps(sel, baseline, latest, reference)
        except KeyError as e:
            raise HTTPException(404, str(e)) from None
        if indicator:
            df = df[df["indicator"] == indicator]
        return df.reset_index(drop=True)

    if format == "json":
        # gaps are fixed for a store version: the JSON per full query is cached
        key = (tuple(sel) if isinstance(sel, list) else sel, baseline, latest, reference, indicator)
        return await _cached_json(ws, "gaps", key, compute)
    return await run_in_threadpool(lambda: _out(compute(), format, "afstanden", _ws(request)))


@router.get("/outcome", summary="De Outcomemonitor-tabel: aantallen gebieden per klasse per indicator")
def outcome(request: Request, programme: Literal["nplv", "aandachtswijken"] = "nplv",
            baseline: int = 2012, latest: int = 2024,
            reference: Literal["gemeente", "rest", "G4", "G14", "G18", "G40", "NPLV19", "NL"] = "gemeente",
            format: Fmt = "json"):
    return _out(_ws(request).outcome(programme, baseline, latest, reference), format, "outcomemonitor", _ws(request))


@router.get("/sources", summary="Bronnen met licentie en herkomst")
def sources(request: Request, format: Fmt = "json"):
    return _out(_ws(request).sources(), format, "bronnen", _ws(request))


@router.get("/classes", summary="Klassen en statussen met hun Nederlandse uitleg")
def classes():
    return dict(classes=list(analysis.CLASSES), statuses=REASONS,
                references=analysis.REFERENCE_NAMES)



@router.get("/suggest", summary="Zoeksuggesties (autocomplete): plaatsen bij een deel van een naam, "
            "een code of een postcode")
def suggest(request: Request, q: str = Query("", max_length=200), limit: int = Query(8, ge=1, le=20)):
    from .search import index_for
    if len(q.strip()) < 2:
        return []
    return index_for(_ws(request)).suggest(q, limit)
