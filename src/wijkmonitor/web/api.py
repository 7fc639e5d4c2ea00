"""JSON API ``/api/v1``: stable URLs for notebooks (documented at ``/api/docs``).

Every value object carries ``value`` (``null`` when not shown), ``status`` and ``reason``; a
suppressed value is never a number. Add ``format=csv|xlsx|parquet`` to a list endpoint to get
the same rows as a file.

Every parameter is declared with its bounds (:mod:`wijkmonitor.bounds`); a value outside them
gets a Dutch 422. The large lists (``/regions``, ``/region-values``, ``/values``) are paged
with ``limit`` (at most 50,000 rows) and ``offset``; the answer's ``X-Total-Count`` header
gives the number of rows without paging.
"""

from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from .. import analysis
from ..bounds import (INDICATOR_PATTERN, MAX_LIMIT, MAX_UNITS, NO_CONTROL, GemeenteCode, IdPath,
                      IndicatorId, IndicatorPath, Limit, Offset, Text, YearPath, YearQuery)
from . import downloads
from .data import REASONS, Unknown, WebStore, frame_json, records

router = APIRouter(prefix="/api/v1", tags=["wijkmonitor"])
Fmt = Literal["json", "csv", "xlsx", "parquet"]


def _ws(request: Request) -> WebStore:
    return request.app.state.ws


def _out(df: pd.DataFrame, format: str, name: str, ws: WebStore | None = None, *,
         total: int | None = None):
    if format == "json":
        response = Response(frame_json(df), media_type="application/json")
    else:
        # the API keeps the stable column ids and plain CSV (``,`` and ``.``)
        response = downloads.respond(df, format, name, dutch=False, ws=ws)
    if total is not None:
        response.headers["X-Total-Count"] = str(total)
    return response


def _page(df: pd.DataFrame, limit: int, offset: int) -> tuple[pd.DataFrame, int]:
    """Rows ``offset`` to ``offset + limit`` of ``df`` and the number of rows without paging."""
    return df.iloc[offset:offset + limit].reset_index(drop=True), len(df)


@router.get("/indicators", summary="Alle indicatoren van de catalogus")
def indicators(request: Request, format: Fmt = "json"):
    from .. import api as wm
    return _out(wm.indicators(), format, "indicatoren", _ws(request))


@router.get("/indicators/{indicator}", summary="Eén indicator: definitie, bron, polariteit, minimumbasis")
def indicator(request: Request, indicator: IndicatorPath):
    from .. import api as wm
    df = wm.indicators()
    hit = df[df["id"] == indicator]
    if hit.empty:
        raise HTTPException(404, f"onbekende indicator {indicator!r}")
    out = records(hit)[0]
    out["periods"] = _ws(request).indicator_periods(indicator)
    return out


@router.get("/areas", summary="Focusgebieden en aandachtswijken (area_index)")
def areas(request: Request, programme: Text = None, format: Fmt = "json"):
    df = _ws(request).area_index()
    if programme:
        df = df[df["programme"] == programme]
    return _out(df, format, "gebieden", _ws(request))


@router.get("/areas/{area_id}", summary="Eén gebied met zijn CBS-codes en referenties")
def area(request: Request, area_id: IdPath):
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
def regions(request: Request, year: YearQuery = None,
            level: Literal["land", "gemeente", "wijk", "buurt"] | None = None,
            gemeente: Text = None, q: Text = None,
            limit: Limit = 1000, offset: Offset = 0, format: Fmt = "json"):
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
    cond = " WHERE " + " AND ".join(where) if where else ""
    total = int(ws.df("SELECT count(*) AS n FROM regions" + cond, params)["n"].iloc[0])
    df = ws.df(f"SELECT code, year, level, name, {ws.name_year_sql()}, gemeente_code, wijk_code, population FROM regions"
               + cond + " ORDER BY year, level, code LIMIT ? OFFSET ?", params + [limit, offset])
    return _out(df, format, "regios", ws, total=total)


@router.get("/values", summary="Waarden van gebieden, groepen of CBS-regio's (wat de site toont)")
def values(request: Request,
           unit: list[Annotated[str, StringConstraints(max_length=200, pattern=NO_CONTROL)]] = Query(
               ..., max_length=MAX_UNITS,
               description=f"gebied-id, groep (G4, NL) of CBS-code; herhaalbaar (hoogstens {MAX_UNITS})"),
           indicator: IndicatorId = None,
           period: list[Annotated[int, Field(ge=1900, le=2100)]] = Query(None, max_length=200),
           limit: Limit = MAX_LIMIT, offset: Offset = 0, format: Fmt = "json"):
    ws = _ws(request)
    frames = []
    for u in unit:
        if ws.unit(u) is None:
            raise HTTPException(404, f"onbekend gebied of onbekende code {u!r}")
        frames.append(ws.unit_values(ws.unit(u).id, indicator))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if period:
        df = df[df["period"].isin(period)]
    df, total = _page(df.reset_index(drop=True), limit, offset)
    # each value's 95 % interval, by the function `/api/v1/value` uses (issue 15)
    from ..uncertainty import interval_columns
    df = pd.concat([df, interval_columns(df, ws.catalogue, context=ws.rounding_context(df))], axis=1)
    return _out(df, format, "waarden", _ws(request), total=total)


@router.get("/value/{unit}/{indicator}/{year}", summary="Eén waarde met status, reden en bron")
async def value(request: Request, unit: IdPath, indicator: IndicatorPath, year: YearPath):
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
def region_values(request: Request,
                  indicator: Annotated[str, Query(max_length=100, pattern=INDICATOR_PATTERN)],
                  period: Annotated[int, Query(ge=1900, le=2100)],
                  level: Literal["gemeente", "wijk", "buurt"] = "gemeente",
                  gemeente: GemeenteCode = None, limit: Limit = MAX_LIMIT, offset: Offset = 0,
                  format: Fmt = "json"):
    ws = _ws(request)
    if indicator not in ws.catalogue:
        raise HTTPException(404, f"onbekende indicator {indicator!r}")
    df, total = _page(ws.level_values(indicator, period, level, gemeente.upper() if gemeente else None),
                      limit, offset)
    return _out(df, format, f"{indicator}-{period}-{level}", ws, total=total)


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
async def gaps(request: Request,
               areas: Annotated[str, Query(max_length=MAX_UNITS * 60, pattern=NO_CONTROL,
                                           description="nplv, aandachtswijken of komma-gescheiden "
                                                       f"gebied-ids (hoogstens {MAX_UNITS})")] = "nplv",
               baseline: Annotated[int, Query(ge=1900, le=2100)] = 2012,
               latest: Annotated[int, Query(ge=1900, le=2100)] = 2024,
               reference: Literal["gemeente", "rest", "G4", "G14", "G18", "G40", "NPLV19", "NL"] = "gemeente",
               indicator: IndicatorId = None, format: Fmt = "json",
               rule: Literal["standaard", "omw"] = Query(
                   "standaard", description="standaard (met het 95%-interval van de verandering) of omw "
                                            "(vaste tolerantie, als de Outcomemonitor Wijkenaanpak)")):
    ws = _ws(request)
    sel = areas if areas in ("nplv", "aandachtswijken") else [a.strip() for a in areas.split(",") if a.strip()]
    if isinstance(sel, list) and len(sel) > MAX_UNITS:
        raise HTTPException(422, f"Te veel gebieden: {len(sel)}; hoogstens {MAX_UNITS} per verzoek.")

    def compute() -> pd.DataFrame:
        try:
            df = ws.gaps(sel, baseline, latest, reference, rule)
        except KeyError as e:
            raise HTTPException(404, str(e)) from None
        if indicator:
            df = df[df["indicator"] == indicator]
        return df.reset_index(drop=True)

    if format == "json":
        # gaps are fixed for a store version: the JSON per full query is cached
        key = (tuple(sel) if isinstance(sel, list) else sel, baseline, latest, reference, indicator, rule)
        return await _cached_json(ws, "gaps", key, compute)
    return await run_in_threadpool(lambda: _out(compute(), format, "afstanden", _ws(request)))


@router.get("/outcome", summary="De Outcomemonitor-tabel: aantallen gebieden per klasse per indicator")
def outcome(request: Request, programme: Literal["nplv", "aandachtswijken"] = "nplv",
            baseline: Annotated[int, Query(ge=1900, le=2100)] = 2012,
            latest: Annotated[int, Query(ge=1900, le=2100)] = 2024,
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
