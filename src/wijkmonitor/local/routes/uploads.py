"""Beheer route of the local data uploads: ``/beheer/lokale-gegevens`` (the form, the
row-by-row rejection report and the uploads done).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .. import bounds, uploads
from ..errors import ValidationFailed
from ..permissions import ROLE_EDITOR, check_gemeente_code, require_edit
from ..tabular import MAX_UPLOAD_BYTES, too_large_error
from .context import Beheer
from .cookies import web_session
from .forms import FormErrors, field_text, map_service_error, posted_form
from .rendering import render


def pages(router: APIRouter, ctx: Beheer) -> None:
    """The page ``/beheer/lokale-gegevens`` (GET and POST)."""
    session = ctx.session
    tx = ctx.tx
    login_required = ctx.login_required
    cfg = ctx.cfg

    def _uploads_page(request, who, *, raw=None, errors=None, rejected=None, status=200):
        with session() as s:
            done = uploads.list_uploads(s, gemeente=who.gemeente
                                        if who.role == ROLE_EDITOR else None)
            done = [u.to_dict() for u in done[:50]]
        raw = raw or {"gemeente": who.gemeente or "", "bron": ""}
        errors = errors if errors is not None else FormErrors("bestand")
        return render(request, "beheer/lokale_gegevens.html", status=status,
                      title=("Fout: " if errors else "") + "Lokale gegevens", form=raw,
                      errors=errors, rejected=rejected, uploads=done, who=who,
                      max_mb=MAX_UPLOAD_BYTES // 1024 // 1024)

    @router.get("/beheer/lokale-gegevens", response_class=HTMLResponse, include_in_schema=False)
    def uploads_page(request: Request):
        return _uploads_page(request, login_required(request))

    @router.post("/beheer/lokale-gegevens", include_in_schema=False)
    def upload(request: Request):
        who = login_required(request)
        form = posted_form(request)
        raw = {"gemeente": field_text(form, "gemeente").upper(), "bron": field_text(form, "bron")}
        errors = FormErrors("bestand")
        bounds.check_form(raw, bounds.UPLOAD_FORM, errors.add)
        if not raw["gemeente"] and "gemeente" not in errors:
            errors.add("gemeente", "Vul de gemeentecode in (GMxxxx).")
        if not raw["bron"] and "bron" not in errors:
            errors.add("bron", "Vul de bron in: waar komen de cijfers vandaan?")
        upload_file = form.get("bestand")
        if upload_file is None or isinstance(upload_file, str) or not upload_file.filename:
            errors.add("bestand", "Kies een CSV- of XLSX-bestand.")
        else:
            problem = bounds.text_problem(Path(upload_file.filename).name,
                                          bounds.LENGTHS["filename"])
            if problem:
                errors.add("bestand", f"De bestandsnaam {problem}; geef het bestand een "
                                      "kortere naam.")
        rejected = None
        if not errors:
            data = upload_file.file.read(MAX_UPLOAD_BYTES + 1)  # never more than the limit
            name = Path(upload_file.filename).name
            try:
                if len(data) > MAX_UPLOAD_BYTES:  # permission first, as in uploads.upload
                    require_edit(who, check_gemeente_code(raw["gemeente"]), "lokale gegevens")
                    raise too_large_error(name, None, MAX_UPLOAD_BYTES)
                with tx() as s:
                    rec = uploads.upload(s, who, data, name,
                                         raw["gemeente"], source=raw["bron"],
                                         codes_provider=cfg.codes_provider,
                                         indicators=cfg.indicator_resolver)
                    n, uid = rec.n_values, rec.id
            except ValidationFailed as exc:
                if exc.errors or exc.file:
                    rejected = exc
                    errors.add("bestand", f"Het bestand is afgewezen: {exc.summary}.")
                else:
                    map_service_error(errors, exc.summary, [("gemeente", "gemeente"),
                                                             ("bron", "bron")])
        if errors:
            return _uploads_page(request, who, raw=raw, errors=errors, rejected=rejected,
                                 status=422)
        web_session(request).flash(f"Upload {uid} opgeslagen: {n} waarden.")
        return RedirectResponse("/beheer/lokale-gegevens", status_code=303)
