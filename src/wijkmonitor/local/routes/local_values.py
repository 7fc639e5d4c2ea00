"""The JSON API of the uploaded local values: ``GET /api/v1/local-values`` (public; never
merged with CBS values).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from wijkmonitor.bounds import GemeenteCode, IndicatorId, Limit, Offset, Text

from .. import public, uploads
from .context import Beheer


def api(router: APIRouter, ctx: Beheer) -> None:
    """``GET /api/v1/local-values``."""
    session = ctx.session
    cfg = ctx.cfg

    @router.get("/api/v1/local-values", tags=["lokale gegevens"],
                summary="Door gemeenten zelf aangeleverde waarden, met hun bron (los van CBS)")
    def api_local_values(area: Text = None, gemeente: GemeenteCode = None,
                         indicator: IndicatorId = None, limit: Limit = 5000,
                         offset: Offset = 0):
        """Local values are never merged with CBS values: every row has ``origin: lokaal``
        and the ``source`` declared with its upload. Paged with ``limit`` and ``offset``;
        ``X-Total-Count`` gives the number of rows without paging."""
        regions: list[str] | None = None
        if area:
            ref = cfg.area_resolver(area)
            regions = [ref.id] + [c for c in ref.codes if c != ref.id]
        with session() as s:
            frame = uploads.local_values(s, gemeente=(gemeente or "").upper() or None,
                                         indicator_id=indicator or None, regions=regions)
        return JSONResponse(public.local_value_records(frame, regions or (), limit=limit,
                                                       offset=offset),
                            headers={"X-Total-Count": str(len(frame))})
