"""Beheer routes of the streefwaarden: the list, the form (new, change, delete) and the JSON
API ``/api/v1/targets``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from wijkmonitor.bounds import Text

from .. import schemas, targets
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..permissions import can_edit
from .context import Beheer
from .cookies import web_session
from .forms import (TARGET_ERROR_FIELDS, FormErrors, map_service_error, parse_target_form,
                    posted_form)
from .guard import RowId
from .options import area_options, indicator_names, indicator_options
from .rendering import POLARITY_CHOICES, nl, render


def pages(router: APIRouter, ctx: Beheer) -> None:
    """The pages under ``/beheer/streefwaarden``."""
    session = ctx.session
    tx = ctx.tx
    login_required = ctx.login_required
    target_json = ctx.target_json
    cfg = ctx.cfg
    svc = ctx.svc

    @router.get("/beheer/streefwaarden", response_class=HTMLResponse, include_in_schema=False)
    def targets_page(request: Request, gebied: str | None = None):
        who = login_required(request)
        with session() as s:
            items = targets.list_targets(s, area=gebied or None, **{"area_resolver":
                                                                   cfg.area_resolver})
            rows = [dict(target_json(t), editable=can_edit(who, t.gemeente)) for t in items]
        return render(request, "beheer/streefwaarden.html", title="Streefwaarden", rows=rows,
                      gebied=gebied or "", areas=area_options(who, editable_only=False),
                      who=who)

    def _target_form(request, who, *, target=None, raw=None, errors=None, status=200):
        fixed = target is not None
        if raw is None:
            raw = {"richting": "catalogus"}
            if target is not None:
                raw.update(
                    streefwaarde=nl(target.target_value).replace("\u202f", ""),
                    streefjaar=str(target.target_year),
                    beginjaar="" if target.baseline_year is None else str(target.baseline_year),
                    beginwaarde="" if target.baseline_value is None
                    else nl(target.baseline_value).replace("\u202f", ""),
                    tussendoelen="; ".join(f"{m.year}: {nl(m.value)}"
                                           for m in target.milestones),
                    richting=target.polarity, reden=target.reason)
        title = (f"Streefwaarde wijzigen: {target.area_name}" if fixed
                 else "Nieuwe streefwaarde")
        errors = errors if errors is not None else FormErrors("gebied")
        return render(request, "beheer/streefwaarde_form.html", status=status,
                      title=("Fout: " if errors else "") + title, heading=title,
                      target=target, form=raw, errors=errors,
                      area_choices=area_options(who), indicator_choices=indicator_options(),
                      polarity_choices=POLARITY_CHOICES,
                      indicator_name=indicator_names().get(target.indicator_id,
                                                           target.indicator_id)
                      if target else None,
                      action=(f"/beheer/streefwaarden/{target.id}/wijzigen" if fixed
                              else "/beheer/streefwaarden/nieuw"))

    @router.get("/beheer/streefwaarden/nieuw", response_class=HTMLResponse,
                include_in_schema=False)
    def target_new_form(request: Request, gebied: str | None = None):
        who = login_required(request)
        if not who.may_edit:
            raise PermissionDenied(f"{who.name} ({who.role}) mag geen streefwaarden wijzigen")
        raw = {"richting": "catalogus", "gebied": gebied or ""}
        return _target_form(request, who, raw=raw)

    def _save_target(request, who, target_id: int | None):
        raw, kwargs, errors = parse_target_form(posted_form(request), fixed=target_id is not None)
        target = None
        if target_id is not None:
            with session() as s:
                target = targets.get_target(s, target_id)
                # Permission on the stored target first: no hint about valid input for a
                # target the user may not change.
                if not can_edit(who, target.gemeente):
                    scope = target.gemeente or "meerdere gemeenten"
                    raise PermissionDenied(f"{who.name} ({who.role_label}) mag streefwaarden "
                                           f"van {scope} niet wijzigen")
        if not errors:
            area = target.area_id if target else raw["gebied"]
            indicator = target.indicator_id if target else raw["indicator"]
            try:
                with tx() as s:
                    saved = targets.set_target(s, who, area, indicator, **kwargs, **svc)
                    label = f"{saved.area_name} – {saved.indicator_id}"
            except (ValidationFailed, NotFound) as exc:
                map_service_error(errors, getattr(exc, "summary", str(exc)),
                                   TARGET_ERROR_FIELDS)
        if errors:
            return _target_form(request, who, target=target, raw=raw, errors=errors, status=422)
        web_session(request).flash(f"Streefwaarde opgeslagen: {label}.")
        return RedirectResponse("/beheer/streefwaarden", status_code=303)

    def _editable_target(who, target_id: int):
        """The stored target, if ``who`` may change it (else PermissionDenied)."""
        with session() as s:
            target = targets.get_target(s, target_id)
        if not can_edit(who, target.gemeente):
            raise PermissionDenied(f"{who.name} mag de streefwaarden van {target.area_name} "
                                   "niet wijzigen")
        return target

    @router.post("/beheer/streefwaarden/nieuw", include_in_schema=False)
    def target_create(request: Request):
        return _save_target(request, login_required(request), None)

    @router.get("/beheer/streefwaarden/{target_id}/wijzigen", response_class=HTMLResponse,
                include_in_schema=False)
    def target_edit_form(request: Request, target_id: RowId):
        who = login_required(request)
        target = _editable_target(who, target_id)
        return _target_form(request, who, target=target)

    @router.post("/beheer/streefwaarden/{target_id}/wijzigen", include_in_schema=False)
    def target_update(request: Request, target_id: RowId):
        return _save_target(request, login_required(request), target_id)

    @router.get("/beheer/streefwaarden/{target_id}/verwijderen", response_class=HTMLResponse,
                include_in_schema=False)
    def target_delete_form(request: Request, target_id: RowId):
        who = login_required(request)
        target = _editable_target(who, target_id)
        name = indicator_names().get(target.indicator_id, target.indicator_id)
        return render(request, "beheer/verwijderen.html", title="Streefwaarde verwijderen",
                      what=f"de streefwaarde voor {name} in {target.area_name} "
                           f"({nl(target.target_value)} in {target.target_year})",
                      action=f"/beheer/streefwaarden/{target_id}/verwijderen",
                      back="/beheer/streefwaarden")

    @router.post("/beheer/streefwaarden/{target_id}/verwijderen", include_in_schema=False)
    def target_delete(request: Request, target_id: RowId):
        who = login_required(request)
        with tx() as s:
            targets.delete_target(s, who, target_id)
        web_session(request).flash("De streefwaarde is verwijderd.")
        return RedirectResponse("/beheer/streefwaarden", status_code=303)


def api(router: APIRouter, ctx: Beheer) -> None:
    """The JSON API ``/api/v1/targets``."""
    session = ctx.session
    tx = ctx.tx
    api_actor = ctx.api_actor
    target_json = ctx.target_json
    cfg = ctx.cfg
    svc = ctx.svc

    @router.get("/api/v1/targets", tags=["streefwaarden"],
                summary="Streefwaarden met hun voortgang (status en regel)")
    def api_targets(area: Text = None):
        with session() as s:
            return [target_json(t) for t in targets.list_targets(
                s, area=area or None, area_resolver=cfg.area_resolver)]

    @router.get("/api/v1/targets/{target_id}", tags=["streefwaarden"],
                summary="Eén streefwaarde met voortgang")
    def api_target(target_id: RowId):
        with session() as s:
            return target_json(targets.get_target(s, target_id))

    @router.post("/api/v1/targets", tags=["streefwaarden"], status_code=201,
                 summary="Streefwaarde vastleggen (nieuw of vervangen); inloggen vereist")
    def api_target_create(request: Request):
        who = api_actor(request)
        body = schemas.parse(schemas.TargetBody, request.state.wm_json)
        kwargs = body.service_kwargs()
        if not body.area or not body.indicator:
            raise ValidationFailed("area en indicator zijn verplicht")
        with tx() as s:
            saved = targets.set_target(s, who, body.area, body.indicator, **kwargs, **svc)
            out = target_json(saved)
        return JSONResponse(out, status_code=201)

    @router.put("/api/v1/targets/{target_id}", tags=["streefwaarden"],
                summary="Streefwaarde wijzigen (alle velden); inloggen vereist")
    def api_target_update(request: Request, target_id: RowId):
        who = api_actor(request)
        body = request.state.wm_json
        with session() as s:
            stored = targets.get_target(s, target_id)
            area_id, indicator_id, gemeente = stored.area_id, stored.indicator_id, \
                stored.gemeente
        if not can_edit(who, gemeente):
            raise PermissionDenied(f"{who.name} mag streefwaarden van "
                                   f"{gemeente or 'meerdere gemeenten'} niet wijzigen")
        parsed = schemas.parse(schemas.TargetBody, body)
        kwargs = parsed.service_kwargs()
        if parsed.area not in (None, area_id) or parsed.indicator not in (None, indicator_id):
            raise ValidationFailed("gebied en indicator van een streefwaarde veranderen niet; "
                                   "leg een nieuwe streefwaarde vast (POST)")
        with tx() as s:
            saved = targets.set_target(s, who, area_id, indicator_id, **kwargs, **svc)
            return target_json(saved)

    @router.delete("/api/v1/targets/{target_id}", tags=["streefwaarden"], status_code=204,
                   summary="Streefwaarde verwijderen; inloggen vereist")
    def api_target_delete(request: Request, target_id: RowId):
        who = api_actor(request)
        with tx() as s:
            targets.delete_target(s, who, target_id)
        return Response(status_code=204)
