"""The page ``/signalen`` and the endpoint ``/api/v1/signalen``: buurten or wijken whose
achterstand is likely to grow (:mod:`wijkmonitor.signalen`), always with the statement that a
signal is a reason to look closer, never a verdict, and with the test figures of the model and
the two naive rules. The result is computed once per store version and level (about a second)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from .. import signalen
from ..bounds import GemeenteCode
from .layout import TEMPLATES

router = APIRouter()

Level = Literal["buurt", "wijk"]


def _result(request: Request, level: str):
    ws = request.app.state.ws
    return ws.lru("signalen", 4).get_or_put(level, lambda: signalen.from_store(ws.con(), level))


def _names(ws, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    df = ws.df("SELECT code, any_value(name) AS name FROM regions WHERE code IN (SELECT unnest(?)) "
               "GROUP BY code", [codes])
    return dict(zip(df["code"], df["name"]))


def _rows(request: Request, level: str, gemeente: str | None, only_signals: bool):
    result = _result(request, level)
    sig = result.signals
    if gemeente:
        sig = sig[sig["gemeente"] == gemeente]
    if only_signals:
        sig = sig[sig["signal"]]
    cat = request.app.state.ws.catalogue
    names = _names(request.app.state.ws, list(sig["code"]))
    rows = [dict(code=r.code, name=names.get(r.code) or r.code, gemeente=r.gemeente,
                 score=float(r.score), rank=int(r.rank), signal=bool(r.signal),
                 achterstand=float(r.achterstand),
                 reasons=[signalen._reason_text(x, cat) for x in r.reasons])
            for r in sig.itertuples(index=False)]
    return result, rows


@router.get("/api/v1/signalen", tags=["signalen"],
            summary="Vroegsignalering: gebieden waar de achterstand waarschijnlijk groeit")
def api_signalen(request: Request, niveau: Level = "buurt", gemeente: GemeenteCode = None):
    """A signal to look closer, never a verdict: see ``disclaimer`` and ``evaluation``."""
    gemeente = gemeente.upper() if gemeente else None
    try:
        result, rows = _rows(request, niveau, gemeente, only_signals=gemeente is None)
    except signalen.SignalenError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=503)
    return {"level": niveau, "disclaimer": signalen.DISCLAIMER, "method": signalen.METHOD,
            "evaluation": result.evaluation, "signals": rows}


@router.get("/signalen", response_class=HTMLResponse, include_in_schema=False)
def signalen_page(request: Request, niveau: Level = "buurt", gemeente: GemeenteCode = None):
    gemeente = gemeente.upper() if gemeente else None
    error, result, rows = None, None, []
    try:
        result, rows = _rows(request, niveau, gemeente, only_signals=gemeente is None)
    except signalen.SignalenError as exc:
        error = str(exc)
    return TEMPLATES.TemplateResponse(request, "signalen.html", dict(
        title="Signalen: waar groeit de achterstand mogelijk?",
        breadcrumb=[("/", "Start"), (None, "Signalen")], niveau=niveau, gemeente=gemeente or "",
        error=error, rows=rows, ev=result.evaluation if result else None,
        disclaimer=signalen.DISCLAIMER, method=signalen.METHOD))
