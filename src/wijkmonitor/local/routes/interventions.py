"""Beheer routes of the interventions: the list with its CSV/XLSX export, the form (new,
change, delete) and the JSON API ``/api/v1/interventions``.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from wijkmonitor.bounds import Text, content_disposition

from .. import interventions, schemas
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..models import Intervention
from ..permissions import can_edit
from .context import Beheer
from .cookies import web_session
from .forms import (INTERVENTION_ERROR_FIELDS, FormErrors, map_service_error,
                    parse_intervention_form, posted_form)
from .guard import Refused, RowId
from .options import actielijn_options, area_options, indicator_names, indicator_options, \
    theme_options
from .rendering import ORGANISATION_LABELS, STATUS_LABELS, render


def _get_intervention(s: Session, item_id: int) -> Intervention:
    item = s.get(Intervention, item_id)
    if item is None:
        raise NotFound(f"interventie {item_id} bestaat niet")
    return item


def pages(router: APIRouter, ctx: Beheer) -> None:
    """The pages under ``/beheer/interventies``."""
    session = ctx.session
    tx = ctx.tx
    login_required = ctx.login_required
    cfg = ctx.cfg
    svc = ctx.svc

    @router.get("/beheer/interventies", include_in_schema=False)
    def interventions_page(request: Request, gebied: str | None = None,
                           actielijn: str | None = None, formaat: str | None = None):
        who = login_required(request)
        with session() as s:
            items = interventions.list_interventions(s, area=gebied or None,
                                                     actielijn=actielijn or None,
                                                     area_resolver=cfg.area_resolver)
            if formaat in ("csv", "xlsx"):
                data = interventions.export(items, formaat)
                media = ("text/csv; charset=utf-8" if formaat == "csv" else
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                return Response(data, media_type=media, headers={
                    "Content-Disposition": content_disposition("interventies", formaat)})
            if formaat:
                raise Refused(400, "formaat: kies csv of xlsx")
            rows = [dict(i.to_dict(), editable=can_edit(who, i.gemeente)) for i in items]
        params = [(k, v) for k, v in (("gebied", gebied), ("actielijn", actielijn)) if v]
        exports = [(f, "/beheer/interventies?" + urlencode(params + [("formaat", f)]))
                   for f in ("csv", "xlsx")]
        lines = [(k, v) for k, v in actielijn_options()]
        return render(request, "beheer/interventies.html", title="Interventies", rows=rows,
                      gebied=gebied or "", actielijn=actielijn or "", exports=exports,
                      areas=area_options(who, editable_only=False), actielijnen=lines, who=who,
                      indicator_names=indicator_names())

    def _intervention_form(request, who, *, item=None, raw=None, errors=None, status=200):
        if raw is None:
            raw = {"status": "gepland", "gebieden": [], "indicatoren": []}
            if item is not None:
                d = item.to_dict()
                known = {i for i, _ in area_options(who)}
                raw.update(
                    titel=d["title"], beschrijving=d["description"], actielijn=d["actielijn"],
                    thema=d["theme"], organisatietype=d["organisation_type"],
                    organisatie=d["organisation"], startdatum=d["start_date"] or "",
                    einddatum=d["end_date"] or "", status=d["status"],
                    budget="" if d["budget_eur"] is None
                    else f"{d['budget_eur']:.2f}".replace(".", ","),
                    gebieden=[a["id"] for a in d["areas"] if a["id"] in known],
                    andere_gebieden="; ".join(a["id"] for a in d["areas"]
                                              if a["id"] not in known),
                    indicatoren=d["indicators"],
                    evaluatielinks="\n".join(link["url"] for link in d["evaluation_links"]))
        lines = actielijn_options()
        if raw.get("actielijn") and raw["actielijn"] not in dict(lines):
            lines.append((raw["actielijn"], raw["actielijn"]))
        themes = theme_options()
        if raw.get("thema") and raw["thema"] not in themes:
            themes.append(raw["thema"])
        title = f"Interventie wijzigen: {item.title}" if item else "Nieuwe interventie"
        errors = errors if errors is not None else FormErrors("titel")
        return render(request, "beheer/interventie_form.html", status=status,
                      title=("Fout: " if errors else "") + title, heading=title, item=item,
                      form=raw, errors=errors, area_choices=area_options(who),
                      indicator_choices=indicator_options(), actielijnen=lines,
                      themes=[(t, t) for t in themes],
                      organisation_types=list(ORGANISATION_LABELS.items()),
                      statuses=list(STATUS_LABELS.items()),
                      action=(f"/beheer/interventies/{item.id}/wijzigen" if item
                              else "/beheer/interventies/nieuw"))

    def _save_intervention(request, who, item_id: int | None):
        raw, kwargs, errors = parse_intervention_form(posted_form(request))
        item = None
        if item_id is not None:
            with session() as s:
                item = _get_intervention(s, item_id)
                if not can_edit(who, item.gemeente):
                    raise PermissionDenied(f"{who.name} mag interventie {item.title!r} niet "
                                           "wijzigen")
        if not errors:
            try:
                with tx() as s:
                    saved = interventions.save_intervention(s, who, intervention_id=item_id,
                                                            **kwargs, **svc)
                    title = saved.title
            except (ValidationFailed, NotFound) as exc:
                map_service_error(errors, getattr(exc, "summary", str(exc)),
                                   INTERVENTION_ERROR_FIELDS)
        if errors:
            return _intervention_form(request, who, item=item, raw=raw, errors=errors,
                                      status=422)
        web_session(request).flash(f"Interventie opgeslagen: {title}.")
        return RedirectResponse("/beheer/interventies", status_code=303)

    @router.get("/beheer/interventies/nieuw", response_class=HTMLResponse,
                include_in_schema=False)
    def intervention_new_form(request: Request):
        who = login_required(request)
        if not who.may_edit:
            raise PermissionDenied(f"{who.name} ({who.role}) mag geen interventies wijzigen")
        return _intervention_form(request, who)

    @router.post("/beheer/interventies/nieuw", include_in_schema=False)
    def intervention_create(request: Request):
        return _save_intervention(request, login_required(request), None)

    @router.get("/beheer/interventies/{item_id}/wijzigen", response_class=HTMLResponse,
                include_in_schema=False)
    def intervention_edit_form(request: Request, item_id: RowId):
        who = login_required(request)
        with session() as s:
            item = _get_intervention(s, item_id)
        if not can_edit(who, item.gemeente):
            raise PermissionDenied(f"{who.name} mag interventie {item.title!r} niet wijzigen")
        return _intervention_form(request, who, item=item)

    @router.post("/beheer/interventies/{item_id}/wijzigen", include_in_schema=False)
    def intervention_update(request: Request, item_id: RowId):
        return _save_intervention(request, login_required(request), item_id)

    @router.get("/beheer/interventies/{item_id}/verwijderen", response_class=HTMLResponse,
                include_in_schema=False)
    def intervention_delete_form(request: Request, item_id: RowId):
        who = login_required(request)
        with session() as s:
            item = _get_intervention(s, item_id)
        if not can_edit(who, item.gemeente):
            raise PermissionDenied(f"{who.name} mag interventie {item.title!r} niet wijzigen")
        return render(request, "beheer/verwijderen.html", title="Interventie verwijderen",
                      what=f"de interventie ‘{item.title}’",
                      action=f"/beheer/interventies/{item_id}/verwijderen",
                      back="/beheer/interventies")

    @router.post("/beheer/interventies/{item_id}/verwijderen", include_in_schema=False)
    def intervention_delete(request: Request, item_id: RowId):
        who = login_required(request)
        with tx() as s:
            interventions.delete_intervention(s, who, item_id)
        web_session(request).flash("De interventie is verwijderd.")
        return RedirectResponse("/beheer/interventies", status_code=303)


def api(router: APIRouter, ctx: Beheer) -> None:
    """The JSON API ``/api/v1/interventions``."""
    session = ctx.session
    tx = ctx.tx
    api_actor = ctx.api_actor
    cfg = ctx.cfg
    svc = ctx.svc

    @router.get("/api/v1/interventions", tags=["interventies"],
                summary="Interventies, te filteren op gebied en actielijn (json, csv, xlsx)")
    def api_interventions(area: Text = None, actielijn: Text = None,
                          format: Literal["json", "csv", "xlsx"] = "json"):
        with session() as s:
            items = interventions.list_interventions(s, area=area or None,
                                                     actielijn=actielijn or None,
                                                     area_resolver=cfg.area_resolver)
            if format in ("csv", "xlsx"):
                media = ("text/csv; charset=utf-8" if format == "csv" else
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                return Response(interventions.export(items, format), media_type=media,
                                headers={"Content-Disposition":
                                         content_disposition("interventies", format)})
            if format != "json":
                raise Refused(400, "format: json, csv of xlsx")
            return [i.to_dict() for i in items]

    def _intervention_kwargs(body: Any) -> dict:
        return schemas.parse(schemas.InterventionBody, body).service_kwargs()

    @router.get("/api/v1/interventions/{item_id}", tags=["interventies"],
                summary="Eén interventie")
    def api_intervention(item_id: RowId):
        with session() as s:
            return _get_intervention(s, item_id).to_dict()

    @router.post("/api/v1/interventions", tags=["interventies"], status_code=201,
                 summary="Interventie vastleggen; inloggen vereist")
    def api_intervention_create(request: Request):
        who = api_actor(request)
        kwargs = _intervention_kwargs(request.state.wm_json)
        if "areas" not in kwargs:
            raise ValidationFailed("areas: minstens één gebied nodig")
        with tx() as s:
            out = interventions.save_intervention(s, who, **kwargs, **svc).to_dict()
        return JSONResponse(out, status_code=201)

    @router.put("/api/v1/interventions/{item_id}", tags=["interventies"],
                summary="Interventie wijzigen (meegegeven velden); inloggen vereist")
    def api_intervention_update(request: Request, item_id: RowId):
        who = api_actor(request)
        with session() as s:  # permission on the stored item first, before any validation
            item = _get_intervention(s, item_id)
            if not can_edit(who, item.gemeente):
                raise PermissionDenied(f"{who.name} mag interventie {item.title!r} "
                                       f"({item.gemeente or 'meerdere gemeenten'}) niet wijzigen")
        kwargs = _intervention_kwargs(request.state.wm_json)
        with tx() as s:
            return interventions.save_intervention(s, who, intervention_id=item_id, **kwargs,
                                                   **svc).to_dict()

    @router.delete("/api/v1/interventions/{item_id}", tags=["interventies"], status_code=204,
                   summary="Interventie verwijderen; inloggen vereist")
    def api_intervention_delete(request: Request, item_id: RowId):
        who = api_actor(request)
        with tx() as s:
            interventions.delete_intervention(s, who, item_id)
        return Response(status_code=204)
