"""The editable part of wijkmonitor: streefwaarden, interventions, local data, accounts, audit.

NPLV (seed 003, ch. 5 and 6) asks each gemeente with a focus area to set targets on the
kernindicatoren, to add its own data to the national monitor and to track the interventions run
in the area. This package is where people write; it lives in a transactional database reached
through SQLAlchemy 2 (SQLite file by default, PostgreSQL as the server store), chosen with
``WIJKMONITOR_DATABASE_URL`` and migrated with the Alembic migrations shipped here
(``wijkmonitor db upgrade``).

Modules
-------
:mod:`.models`         tables (users, targets + milestones, interventions, local uploads and
                       values, audit log)
:mod:`.db`             engine, ``session_scope``, ``upgrade``/``downgrade``
:mod:`.permissions`    roles (public, gemeente-editor, programme, admin) and the edit rule
:mod:`.accounts`       users, argon2 password hashing
:mod:`.targets`        streefwaarden: set, delete, list, import, progress per target
:mod:`.progress`       expected path baseline -> target and the status rule (pure function)
:mod:`.interventions`  registry: save, delete, filter, CSV/XLSX export and import
:mod:`.uploads`        local data uploads: validation with row/column/reason, one transaction
:mod:`.tabular`        safe CSV/XLSX reading (size, encoding, formulas, headers)
:mod:`.audit`          append-only audit log
:mod:`.resolvers`      lazy area / indicator / region-code resolution (injectable)
:mod:`.cli`            ``wijkmonitor db | user | targets | interventions | upload | audit``

Service contract (shared by the CLI and the web forms/API): every service is a plain function
``service(session, actor, ...)``. It checks permission first, then validates, then writes the
change and one audit row in the given session; it never commits. On failure it raises
:class:`~.errors.PermissionDenied` (403), :class:`~.errors.NotFound` (404) or
:class:`~.errors.ValidationFailed` (422, with per-row errors) before writing anything, and the
caller's transaction rolls back. A FastAPI router calls the same functions with a per-request
session and the logged-in user.

Roles: ``public`` reads; a ``gemeente-editor`` (bound to one ``GMxxxx``) changes only targets,
interventions and uploads of areas inside its gemeente; ``programme`` changes everything;
``admin`` also manages accounts. The audit log (who, when, action, entity, before, after) is
append-only: no service changes it and database triggers refuse UPDATE/DELETE.
"""
