"""The page ``/wijkindex``: the buurten or wijken that meet a selection rule of the Wijkindex,
with their domain profile and rank intervals (the same rows as ``wijkmonitor select``).
``formaat=csv|xlsx|parquet`` downloads the table."""

from __future__ import annotations

import pandas as pd
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import escape

from .. import store
from ..bounds import MAX_TEXT, NO_CONTROL, Formaat, Text
from ..wijkindex.cli import flat
from ..wijkindex.model import WijkindexError, load_index
from ..wijkindex.select import SelectionError, select
from . import downloads
from .layout import TEMPLATES

router = APIRouter(include_in_schema=False)


@router.get("/wijkindex", response_class=HTMLResponse)
def wijkindex_page(request: Request, niveau: Annotated[str, Query(max_length=MAX_TEXT, pattern=NO_CONTROL)] = "buurt",
                   jaar: Annotated[int, Query(ge=1900, le=2100)] = 2024, gemeente: Text = None,
                   regel: Annotated[str, Query(max_length=MAX_TEXT, pattern=NO_CONTROL)] = "bottom-decile",
                   formaat: Formaat = None, tabel: Text = None):
    ws = request.app.state.ws
    gemeente = (gemeente or "").strip().upper() or None
    error, rows, info = None, [], None
    spec = load_index()
    try:
        df, info = select(niveau, jaar, gemeente=gemeente, rule=regel, path=ws.path)
    except (SelectionError, WijkindexError) as exc:
        error, df = str(exc), pd.DataFrame()
    except store.StoreMissing as exc:
        error, df = str(exc), pd.DataFrame()
    if formaat:
        if info is None:
            return HTMLResponse(f"<p>{escape(error)}</p>", status_code=400)  # the rule is echoed
        return downloads.respond(flat(df, info), formaat, f"wijkindex-{niveau}-{jaar}")
    if info is not None:
        for r in df.to_dict("records"):
            r["domains"] = [(d.naam, r[d.id], r[d.id + "_decile"]) for d in spec.domeinen]
            rows.append(r)
    query = request.url.query
    links = [dict(label=f.upper(), href=f"/wijkindex?{query}&formaat={f}" if query else f"/wijkindex?formaat={f}")
             for f in ("csv", "xlsx", "parquet")] if info is not None and len(df) else []
    return TEMPLATES.TemplateResponse(request, "wijkindex.html", dict(
        title="Wijkindex: selectie", breadcrumb=[("/", "Start"), (None, "Wijkindex")],
        niveau=niveau, jaar=jaar, gemeente=gemeente or "", regel=regel, error=error, rows=rows,
        info=info, spec=spec, links=links, isnan=lambda x: x is None or pd.isna(x)))


# the index map (its own module; routes added here so that app.py needs no change)
from . import wijkindex_map  # noqa: E402

router.include_router(wijkindex_map.router)
