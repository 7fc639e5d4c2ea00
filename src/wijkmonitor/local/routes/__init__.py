"""The beheer routes (forms under ``/beheer/``, JSON under ``/api/v1/``), one module per concern.

They are put together into one router by :func:`wijkmonitor.local.web.create_router`, the one
point where the public site mounts them. Each route module has ``pages(router, ctx)`` and/or
``api(router, ctx)``, adding its routes for one :class:`.context.Beheer`.

Modules (imports run downward: a route module imports the modules below the line, never
another route module, and nothing here imports the site except :mod:`wijkmonitor.web.layout`)

:mod:`.accounts`       overview, login, logout, "overal uitloggen", ``/api/v1/session``
:mod:`.targets`        streefwaarden: list, form, delete; ``/api/v1/targets``
:mod:`.interventions`  interventions: list + export, form, delete; ``/api/v1/interventions``
:mod:`.uploads`        local data uploads (``/beheer/lokale-gegevens``)
:mod:`.local_values`   ``/api/v1/local-values``
:mod:`.admin`          the audit log (``/beheer/auditlog``)
-----------------------------------------------------------------------------------------
:mod:`.context`        :class:`~.context.WebConfig`, :class:`~.context.Who`, the bound helpers
:mod:`.forms`          posted fields, target/intervention form parsing, field errors
:mod:`.options`        choices of the forms (areas, indicators, actielijnen, themes)
:mod:`.guard`          the route class: CSRF, body bounds, refusals and errors as Dutch 4xx
:mod:`.rendering`      labels, Dutch numbers, the template environment (shared layout)
:mod:`.cookies`        the signed session cookie and its key
"""
