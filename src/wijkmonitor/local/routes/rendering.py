"""Rendering of the beheer pages: their labels, number notation and template environment.

The beheer templates (``local/templates/beheer/``) extend the site's ``base.html`` and use its
macros, so their environment loads both folders and takes the site's filters and globals from
the shared layout (:mod:`wijkmonitor.web.layout`), keeping the ones defined here.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wijkmonitor.web import layout

from .. import interventions
from ..permissions import ROLE_ADMIN, ROLE_EDITOR, ROLE_PROGRAMME, ROLE_PUBLIC
from .cookies import web_session

log = logging.getLogger(__name__)

#: ``wijkmonitor/local``: its ``templates/beheer/`` hold the beheer pages
HERE = Path(__file__).resolve().parent.parent
#: The site's templates (``base.html`` and its macros), from the shared layout
WEB_TEMPLATES = layout.TEMPLATE_DIR

ROLE_LABELS = {ROLE_PUBLIC: "publiek (alleen lezen)", ROLE_EDITOR: "redacteur gemeente",
               ROLE_PROGRAMME: "programmateam", ROLE_ADMIN: "beheerder"}
PROGRAMME_LABELS = {"nplv": "NPLV-focusgebied", "aandachtswijken": "aandachtswijk",
                    "custom": "eigen gebied"}
POLARITY_CHOICES = [("catalogus", "Zoals in de indicatorcatalogus"),
                    ("higher_is_better", "Hoger is beter"),
                    ("lower_is_better", "Hoger is slechter")]
STATUS_LABELS = {"gepland": "Gepland", "lopend": "Lopend", "afgerond": "Afgerond",
                 "gestopt": "Gestopt"}
ORGANISATION_LABELS = {t: t.capitalize() for t in interventions.ORGANISATION_TYPES}
ACTION_LABELS = {"create": "aangemaakt", "update": "gewijzigd", "delete": "verwijderd",
                 "logout": "overal uitgelogd", "lock": "geblokkeerd",
                 "upload": "geüpload"}
ENTITY_LABELS = {"target": "streefwaarde", "intervention": "interventie", "user": "gebruiker",
                 "login": "inloggen",
                 "local_upload": "lokale gegevens"}


def nl(x: Any, decimals: int | None = None) -> str:
    """A number in Dutch notation (decimal comma); ``–`` for missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, (int, float)):
        if decimals is not None:
            text = f"{x:,.{decimals}f}"
        elif float(x).is_integer():
            text = f"{int(x):,}"
        else:
            text = f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.2f}"
        return text.replace(",", "\u202f").replace(".", ",")
    return str(x)


def _nav() -> list:
    return list(layout.NAV)


def _build_templates() -> Jinja2Templates:
    loaders = [jinja2.FileSystemLoader(str(HERE / "templates"))]
    base = "beheer/_base.html"
    if (WEB_TEMPLATES / "base.html").is_file():
        loaders.append(jinja2.FileSystemLoader(str(WEB_TEMPLATES)))
        base = "base.html"
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders),
                             autoescape=jinja2.select_autoescape(["html", "xml"]),
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["nl"] = nl
    env.globals.update(WM_BASE=base, DASH="–", ROLE_LABELS=ROLE_LABELS,
                       ACTION_LABELS=ACTION_LABELS, ENTITY_LABELS=ENTITY_LABELS,
                       STATUS_LABELS=STATUS_LABELS)
    return Jinja2Templates(env=env)


TEMPLATES = _build_templates()
_OWN_FILTERS = frozenset(TEMPLATES.env.filters) - frozenset(jinja2.filters.FILTERS)
_OWN_GLOBALS = frozenset(TEMPLATES.env.globals) - frozenset(jinja2.defaults.DEFAULT_NAMESPACE)


def _sync_site_env() -> None:
    """Give the beheer templates the site's Jinja globals and filters (its ``base.html`` and
    macros use them), keeping the ones this module defines itself. Done at every render, so a
    global the site adds later reaches the beheer pages too."""
    site = layout.TEMPLATES
    env = TEMPLATES.env
    env.globals.update({k: v for k, v in site.env.globals.items() if k not in _OWN_GLOBALS})
    env.filters.update({k: v for k, v in site.env.filters.items() if k not in _OWN_FILTERS})


def render(request: Request, template: str, *, status: int = 200, **ctx) -> HTMLResponse:
    """Render one of the beheer templates with the common context."""
    sess = web_session(request)
    ctx.setdefault("title", "Beheer")
    ctx.update(path=request.url.path, csrf_token=sess.csrf, flash=sess.pop_flash(),
               me=getattr(request.state, "wm_who", None), NAV=_nav())
    _sync_site_env()
    return TEMPLATES.TemplateResponse(request, template, ctx, status_code=status)

