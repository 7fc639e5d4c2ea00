"""The shared layout of the site: the page templates, their Jinja environment (filters and
globals) and the navigation.

Both sides of the website render with it: the public pages (:mod:`.pages`,
:mod:`.signalen_page`, :mod:`.wijkindex_page`, the error pages of :mod:`.app`) and the beheer
forms (:mod:`wijkmonitor.local.routes.rendering`, whose templates extend ``base.html`` from
here). It imports nothing of either side, so the import arrows run one way::

    web.app ──> web.pages ──┐
       │                    ├──> web.layout ──> web.present, web.format
       └──> local.web ──> local.routes ─┘
"""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from . import format as fmt
from . import present

#: The site's templates (``base.html``, the page templates, ``fout.html``)
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

#: The main navigation: ``(path, label)`` in the order shown
NAV = [("/", "Start"), ("/indicatoren", "Indicatoren"), ("/vergelijken", "Vergelijken"),
       ("/zoeken", "Zoeken"), ("/bronnen", "Bronnen"), ("/over", "Over")]

TEMPLATES = Jinja2Templates(directory=str(TEMPLATE_DIR))
TEMPLATES.env.filters.update(
    nl=lambda x, decimals=1, unit=None: fmt.nl_value(x, decimals, unit),
    nlnum=lambda x, decimals=1: fmt.nl_number(x, decimals),
    nlgap=lambda x, decimals=1, unit=None: fmt.nl_gap(x, decimals, unit),
)
TEMPLATES.env.globals.update(is_number=fmt.is_number, DASH=fmt.DASH)
TEMPLATES.env.globals["NAV"] = NAV
present.register(TEMPLATES.env)
