"""Beheer routes of accounts and sessions: the overview, logging in and out, "overal
uitloggen", and ``GET /api/v1/session`` (who is logged in, and the CSRF token).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .. import accounts, sessions
from ..errors import NotFound, ValidationFailed
from .context import Beheer, Who
from .cookies import web_session
from .forms import FormErrors, field_text, posted_form, safe_next
from .guard import Refused
from .rendering import render


def pages(router: APIRouter, ctx: Beheer) -> None:
    """The pages ``/beheer/``, ``/beheer/inloggen``, ``/beheer/uitloggen``,
    ``/beheer/wachtwoord`` and ``/beheer/sessies/beeindigen``."""
    tx = ctx.tx
    current = ctx.current
    login_required = ctx.login_required
    check_login = ctx.check_login
    cfg = ctx.cfg

    @router.get("/beheer", include_in_schema=False)
    def beheer_redirect():
        return RedirectResponse("/beheer/", status_code=308)

    @router.get("/beheer/", response_class=HTMLResponse, include_in_schema=False)
    def start(request: Request):
        who = login_required(request)
        return _start_page(request, who)

    def _start_page(request, who, errors=None, status=200):
        return render(request, "beheer/start.html", status=status,
                      title=("Fout: " if errors else "") + "Beheer", who=who,
                      errors=errors or FormErrors("gebruikersnaam"),
                      idle_minutes=int(sessions.IDLE_TIMEOUT.total_seconds() // 60),
                      absolute_hours=int(sessions.ABSOLUTE_TIMEOUT.total_seconds() // 3600))

    @router.post("/beheer/sessies/beeindigen", include_in_schema=False)
    def end_sessions(request: Request):
        """"Overal uitloggen": every session of the user itself, or (administrators) of the
        account named in ``gebruikersnaam``."""
        who = login_required(request)
        name = field_text(posted_form(request), "gebruikersnaam") or who.name
        try:
            with tx() as s:
                n = accounts.log_out_everywhere(s, who, name)
        except NotFound:
            errors = FormErrors("gebruikersnaam")
            errors.add("gebruikersnaam", "Deze gebruiker bestaat niet of is uitgeschakeld.")
            return _start_page(request, who, errors, status=422)
        if name == who.name:
            web_session(request).rotate()
            request.state.wm_who = None
            web_session(request).flash(f"U bent overal uitgelogd ({n} sessie(s) beëindigd).")
            return RedirectResponse("/beheer/inloggen", status_code=303)
        web_session(request).flash(f"{name} is overal uitgelogd ({n} sessie(s) beëindigd).")
        return RedirectResponse("/beheer/", status_code=303)

    @router.get("/beheer/wachtwoord", response_class=HTMLResponse, include_in_schema=False)
    def password_form(request: Request):
        who = login_required(request)
        return _password_page(request, who, FormErrors("huidig"))

    def _password_page(request, who, errors, status=200):
        return render(request, "beheer/wachtwoord.html", status=status,
                      title=("Fout: " if errors else "") + "Wachtwoord wijzigen", who=who,
                      errors=errors, min_length=accounts.MIN_PASSWORD_LENGTH)

    @router.post("/beheer/wachtwoord", response_class=HTMLResponse, include_in_schema=False)
    def change_password(request: Request):
        """The user's own password (ASVS 2.1.6: the current password and the new one). A wrong
        current password counts as a failed login (the same throttle); a change ends every
        session of the account, this one too, so the user logs in again with the new one."""
        who = login_required(request)
        form = posted_form(request)
        current_pw = form.get("huidig") or ""
        new_pw, repeat = form.get("nieuw") or "", form.get("herhaling") or ""
        errors = FormErrors("huidig")
        if not current_pw:
            errors.add("huidig", "Vul uw huidige wachtwoord in.")
        if not new_pw:
            errors.add("nieuw", "Vul een nieuw wachtwoord in.")
        elif new_pw != repeat:
            errors.add("herhaling", "De herhaling is niet gelijk aan het nieuwe wachtwoord.")
        elif new_pw == current_pw:
            errors.add("nieuw", "Het nieuwe wachtwoord is gelijk aan het huidige.")
        status = 422
        if not errors:
            try:
                user = check_login(request, who.name, current_pw)
            except Refused as exc:
                user, status = None, exc.status
                errors.add("huidig", exc.message)
                request.state.wm_retry_after = exc.headers
            else:
                if user is None:
                    status = 401
                    errors.add("huidig", "Het huidige wachtwoord klopt niet.")
        if not errors:
            try:
                with tx() as s:
                    accounts.set_password(s, who, who.name, new_pw)
            except ValidationFailed as exc:
                errors.add("nieuw", str(exc)[:1].upper() + str(exc)[1:] + ".")
        if errors:
            response = _password_page(request, who, errors, status=status)
            response.headers.update(getattr(request.state, "wm_retry_after", None) or {})
            return response
        web_session(request).rotate()
        request.state.wm_who = None
        web_session(request).flash("Uw wachtwoord is gewijzigd. U bent overal uitgelogd: log in met het "
                                   "nieuwe wachtwoord.")
        return RedirectResponse("/beheer/inloggen", status_code=303)

    @router.get("/beheer/inloggen", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, volgende: str | None = None):
        current(request)
        return render(request, "beheer/inloggen.html", title="Inloggen",
                      form={"gebruikersnaam": "", "volgende": safe_next(volgende)},
                      errors=FormErrors("gebruikersnaam"))

    @router.post("/beheer/inloggen", response_class=HTMLResponse, include_in_schema=False)
    def login(request: Request):
        form = posted_form(request)
        name, password = field_text(form, "gebruikersnaam"), form.get("wachtwoord") or ""
        nxt = safe_next(field_text(form, "volgende"))
        errors = FormErrors("gebruikersnaam")
        if not name:
            errors.add("gebruikersnaam", "Vul uw gebruikersnaam in.")
        if not password:
            errors.add("wachtwoord", "Vul uw wachtwoord in.")
        status = 422
        if not errors:
            try:
                user = check_login(request, name, password)
            except Refused as exc:
                user, status = None, exc.status
                errors.add("gebruikersnaam", exc.message)
                request.state.wm_retry_after = exc.headers
            else:
                status = 401
                if user is not None:
                    with tx() as s:
                        token = sessions.start(s, user, cfg.clock())
                    web_session(request).rotate(token)
                    request.state.wm_who = Who.of(user)
                else:
                    errors.add("gebruikersnaam",
                               "De gebruikersnaam of het wachtwoord klopt niet.")
        if errors:
            response = render(request, "beheer/inloggen.html", status=status,
                              title="Fout: inloggen", errors=errors,
                              form={"gebruikersnaam": name.replace("\x00", "")[:100],
                                    "volgende": nxt})
            response.headers.update(getattr(request.state, "wm_retry_after", None) or {})
            return response
        web_session(request).flash(f"U bent ingelogd als {name}.")
        return RedirectResponse(nxt, status_code=303)

    @router.post("/beheer/uitloggen", include_in_schema=False)
    def logout(request: Request):
        with tx() as s:
            sessions.end(s, web_session(request).token)
        web_session(request).rotate()
        web_session(request).flash("U bent uitgelogd.")
        request.state.wm_who = None
        return RedirectResponse("/beheer/inloggen", status_code=303)


def api(router: APIRouter, ctx: Beheer) -> None:
    """``GET /api/v1/session``."""
    current = ctx.current

    @router.get("/api/v1/session", tags=["beheer"],
                summary="Wie is ingelogd, en het CSRF-token voor verzoeken met de cookie")
    def api_session(request: Request):
        who = current(request)
        return {"user": None if who is None else {"name": who.name, "role": who.role,
                                                  "gemeente": who.gemeente},
                "csrf_token": web_session(request).csrf}
