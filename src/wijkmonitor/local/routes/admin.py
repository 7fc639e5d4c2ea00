"""Beheer route of the administration: the audit log ``/beheer/auditlog`` (``formaat=json``).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .. import audit
from .context import Beheer
from .guard import Refused
from .rendering import render


def pages(router: APIRouter, ctx: Beheer) -> None:
    """The page ``/beheer/auditlog``."""
    session = ctx.session
    login_required = ctx.login_required

    @router.get("/beheer/auditlog", include_in_schema=False)
    def audit_page(request: Request, formaat: str | None = None, onderwerp: str | None = None,
                   limiet: int = 200):
        who = login_required(request)
        limiet = max(1, min(limiet, 5000))
        with session() as s:
            rows = [audit.entry_dict(e) for e in audit.list_entries(
                s, who, entity=onderwerp or None, limit=limiet)]
        if formaat == "json":
            return JSONResponse(rows)
        if formaat:
            raise Refused(400, "formaat: alleen json")
        for r in rows:
            r["before_json"] = json.dumps(r["before"], ensure_ascii=False, indent=1) \
                if r["before"] is not None else None
            r["after_json"] = json.dumps(r["after"], ensure_ascii=False, indent=1) \
                if r["after"] is not None else None
        return render(request, "beheer/auditlog.html", title="Auditlogboek", rows=rows,
                      onderwerp=onderwerp or "", limiet=limiet)
