"""Read-only view of targets and interventions for the public site and the report.

The public area page and the area fiche of the report show an area's streefwaarden (with their
progress) and the interventions that run in it. They must work without a login and without an
editable database: when none is configured, the database file does not exist, the server is
unreachable or the schema has not been migrated, :func:`targets_for_area` and
:func:`interventions_for_area` return ``[]`` and never raise.

Progress is judged on the observed values of the *built analytical store*
(:func:`wijkmonitor.api.series`, the same values the site shows), exactly like
``wijkmonitor targets list`` does; nothing is recomputed here.

>>> from wijkmonitor.local.public import targets_for_area
>>> targets_for_area("utrecht-overvecht")          # doctest: +SKIP
[{'indicator_id': 'eenzaam_pct', 'target_value': 50.0, 'target_year': 2030,
  'status': 'behind', 'label': 'achter', 'rule': 'Achter: de laatste waarde ...', ...}]
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

log = logging.getLogger(__name__)

#: Label of the observed values used for progress (shown next to the status).
OBSERVED_SOURCE = "CBS (wijkmonitor-store)"


def store_observed(target, *, store_path: Path | str | None = None) -> pd.Series | None:
    """Shown values (``ok`` only) of the target's area x indicator by year from the analytical
    store, or ``None`` when the store is missing or has no values for it."""
    try:
        from wijkmonitor import api
        observed = api.series(target.area_id, target.indicator_id,
                              path=Path(store_path) if store_path else None)
    except Exception:  # no store built yet, area or indicator not in it
        return None
    return None if observed is None or observed.empty else observed


def store_uncertainty(target, *, store_path: Path | str | None = None) -> tuple[dict, pd.Series | None]:
    """The standard errors of the target's observed values by year and the national series
    of its indicator, from the analytical store (``({}, None)`` where unknown): the inputs
    of the default progress rule."""
    try:
        from wijkmonitor import api
        from wijkmonitor.catalogue import load_catalogue
        from wijkmonitor.uncertainty import se_by_period

        path = Path(store_path) if store_path else None
        rows = api.area_values(target.area_id, target.indicator_id, path=path)
        se = se_by_period(rows, load_catalogue()[target.indicator_id])
        national = api.series("NL", target.indicator_id, path=path)
        return se, (None if national is None or national.empty else national)
    except Exception:  # no store built yet, area or indicator not in it
        return {}, None


def _database_available(url: str) -> bool:
    """Is there something to read at ``url``? (An SQLite file that does not exist is not
    created: opening it would leave an empty file behind.)"""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///").split("?", 1)[0]
        return path not in ("", ":memory:") and Path(path).is_file()
    return not url.startswith("sqlite")  # a server: try it, errors are caught


def _session(database_url: str | None):
    from . import db

    url = db.resolve_url(database_url)
    if not _database_available(url):
        return None
    return db.session_factory(url)()


def _read(database_url: str | None, work: Callable[[Any], list]) -> list:
    """``work(session)`` on the editable store; ``[]`` when there is no database to read, the
    URL is unusable, the server does not answer or the schema is not migrated (never raises:
    the public pages must render without the editable store)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        session = _session(database_url)
    except SQLAlchemyError as exc:  # bad URL, driver missing
        log.warning("editable store unavailable: %s", exc)
        return []
    if session is None:
        return []
    try:
        with session:
            return work(session)
    except SQLAlchemyError as exc:  # unreachable server, schema not migrated
        log.warning("editable store unreadable: %s", exc)
        return []


def _indicator_names() -> dict[str, Any]:
    try:
        from wijkmonitor.catalogue import load_catalogue
        return load_catalogue()
    except Exception:
        return {}


def targets_for_area(area_id: str, *, database_url: str | None = None,
                     observed: Callable[[Any], Any] | None = None,
                     store_path: Path | str | None = None) -> list[dict]:
    """Streefwaarden of one area (by its stored id: ``utrecht-overvecht``, ``WK034403``).

    Parameters
    ----------
    area_id : str
        The area id exactly as the site uses it.
    database_url : str, optional
        The editable store (default ``WIJKMONITOR_DATABASE_URL`` or the SQLite file in var/).
    observed : callable, optional
        ``target -> Series year -> value``; default: the analytical store (``store_path`` or
        ``WIJKMONITOR_STORE``).

    Returns
    -------
    list of dict
        One per target, ordered by indicator: ``indicator_id, indicator_name, unit,
        target_value, target_year, baseline_year, baseline_value, milestones (list of
        {year, value}), reason, set_by, updated_at, status (achieved|on_track|behind|uncertain|no_data),
        label (Dutch), rule (Dutch text with the numbers), latest_year, latest_value,
        expected_value, observed_source, path ({year: expected value})``.
        ``[]`` when there are none or no database is available.
    """
    from sqlalchemy import select

    from .models import Target
    from .targets import target_progress

    uncertainty = (lambda t: ({}, None))
    if observed is None:
        def observed(t):
            return store_observed(t, store_path=store_path)

        def uncertainty(t):
            return store_uncertainty(t, store_path=store_path)
    catalogue = _indicator_names()

    def work(session) -> list[dict]:
        out = []
        rows = list(session.scalars(select(Target).where(Target.area_id == area_id)
                                    .order_by(Target.indicator_id)))
        for t in rows:
            se, national = uncertainty(t)
            p = target_progress(t, observed(t), se=se, national=national)
            ind = catalogue.get(t.indicator_id)
            out.append({
                "area_id": t.area_id, "area_name": t.area_name,
                "indicator_id": t.indicator_id,
                "indicator_name": getattr(ind, "name", t.indicator_id),
                "unit": getattr(ind, "unit", None),
                "target_value": t.target_value, "target_year": t.target_year,
                "baseline_year": p.baseline_year, "baseline_value": p.baseline_value,
                "milestones": [{"year": m.year, "value": m.value} for m in t.milestones],
                "polarity": t.polarity, "reason": t.reason, "set_by": t.set_by_name,
                "updated_at": t.updated_at.isoformat() if t.updated_at else None,
                "status": p.status, "label": p.label, "rule": p.rule,
                "latest_year": p.latest_year, "latest_value": p.latest_value,
                "expected_value": p.expected_value,
                "observed_source": OBSERVED_SOURCE if p.latest_year is not None else None,
                "path": {int(k): v for k, v in p.path.items()},
            })
        return out

    return _read(database_url, work)


def interventions_for_area(area_id: str, *, database_url: str | None = None) -> list[dict]:
    """Interventions that run in one area (by its stored id), oldest first.

    Each dict has ``id, title, description, actielijn, theme, organisation_type, organisation,
    gemeente, start_date, end_date (ISO text or None), status, budget_eur (float or None),
    areas [{id, name, gemeente}], indicators [ids], evaluation_links [{url, label}]``.
    ``[]`` when there are none or no database is available; never raises.
    """
    from sqlalchemy import select

    from .models import Intervention, InterventionArea

    def work(session) -> list[dict]:
        q = (select(Intervention)
             .where(Intervention.id.in_(select(InterventionArea.intervention_id)
                                        .where(InterventionArea.area_id == area_id)))
             .order_by(Intervention.start_date.is_(None), Intervention.start_date,
                       Intervention.id))
        items = []
        for item in session.scalars(q):
            d = item.to_dict()
            d.pop("created_by_name", None)
            items.append(d)
        return items

    return _read(database_url, work)


#: Seconds before a database server that did not answer is tried again by the public pages.
RETRY_AFTER = 60.0
_down_until: dict[str, float] = {}


def _reachable(database_url: str | None) -> bool:
    """Whether the editable store answers (False while a recent failure is fresh)."""
    import time

    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from . import db

    try:
        url = db.resolve_url(database_url)
    except Exception:
        return False
    if url.startswith("sqlite"):
        return True  # a file: nothing to wait for
    if _down_until.get(url, 0.0) > time.monotonic():
        return False
    try:
        with db.get_engine(url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        _mark_down(url, exc)
        return False
    _down_until.pop(url, None)
    return True


def _mark_down(url: str, exc: Exception) -> None:
    """Do not ask the server at ``url`` again for :data:`RETRY_AFTER` seconds."""
    import time

    log.warning("editable store not answering, retry in %.0f s: %s", RETRY_AFTER, exc)
    _down_until[url] = time.monotonic() + RETRY_AFTER


def local_values_for_area(area_id: str, codes: Iterable[str] = (), *,
                          database_url: str | None = None, limit: int = 500) -> list[dict]:
    """Values a gemeente uploaded itself for ``area_id`` or for one of its ``codes``.

    These are *local* figures: each row carries ``origin = "lokaal"`` and the ``source`` the
    gemeente declared with the upload, and they are never merged with the CBS values of the
    same indicator (the site shows them in a table of their own).

    Returns
    -------
    list of dict
        ``region, indicator_id, indicator_name, unit, year, value (None unless status ok),
        status, source, upload_id, uploaded_at, uploaded_by, gemeente, origin``, sorted by
        region (the area itself first), indicator and year; at most ``limit`` rows (newest
        upload wins for a repeated region x indicator x year). ``[]`` when no database is
        available; never raises.
    """
    from .uploads import local_values

    regions = [area_id] + [c for c in dict.fromkeys(codes) if c != area_id]
    return _read(database_url,
                 lambda session: local_value_records(local_values(session, regions=regions),
                                                     regions, limit=limit))


def local_value_records(frame: pd.DataFrame, regions: Iterable[str] = (), *,
                        limit: int | None = None, offset: int = 0) -> list[dict]:
    """Rows of :func:`wijkmonitor.local.uploads.local_values` as JSON-ready dicts labelled
    ``origin = "lokaal"`` with their source (``regions`` first, in that order); ``offset`` and
    ``limit`` page them."""
    if frame.empty:
        return []
    order = {r: i for i, r in enumerate(regions)}
    frame = (frame.assign(_o=frame["region"].map(order).fillna(len(order)))
             .sort_values(["_o", "region", "indicator_id", "year"]).drop(columns="_o"))
    frame = frame.iloc[offset:] if limit is None else frame.iloc[offset:offset + limit]
    catalogue = _indicator_names()
    out = []
    for r in frame.to_dict("records"):
        ind = catalogue.get(r["indicator_id"])
        ok = r["status"] == "ok" and r["value"] is not None and not pd.isna(r["value"])
        at = r["uploaded_at"]
        out.append({
            "region": r["region"], "indicator_id": r["indicator_id"],
            "indicator_name": getattr(ind, "name", r["indicator_id"]),
            "unit": getattr(ind, "unit", None), "year": int(r["year"]),
            "value": float(r["value"]) if ok else None, "status": r["status"],
            "source": r["source"], "upload_id": int(r["upload_id"]),
            "uploaded_at": at.isoformat() if hasattr(at, "isoformat") else at,
            "uploaded_by": r["uploaded_by"], "gemeente": r["gemeente"], "origin": "lokaal",
        })
    return out


def area_section(area_id: str, codes: Iterable[str] = (), *, database_url: str | None = None,
                 store_path: Path | str | None = None) -> dict:
    """Everything the public area page shows from the editable store, in one call.

    Returns ``{"targets": [...], "interventions": [...], "local_values": [...],
    "rule": <the progress rule in Dutch>, "observed_source": OBSERVED_SOURCE}`` (lists empty
    when there is nothing or no database); never raises. A database server that does not
    answer is asked again only after :data:`RETRY_AFTER` seconds, so pages stay fast.
    """
    if not _reachable(database_url):
        return {"targets": [], "interventions": [], "local_values": [], "rule": PROGRESS_RULE,
                "observed_source": OBSERVED_SOURCE}
    return {
        "targets": targets_for_area(area_id, database_url=database_url, store_path=store_path),
        "interventions": interventions_for_area(area_id, database_url=database_url),
        "local_values": local_values_for_area(area_id, codes, database_url=database_url),
        "rule": PROGRESS_RULE,
        "observed_source": OBSERVED_SOURCE,
    }


def content_revision(database_url: str | None = None) -> int | None:
    """The editable store's content revision (raised by the database on every write to the
    tables :func:`area_section` reads; migration 0003), or ``None`` when it cannot be read
    (no database, an older schema, a server that does not answer): then nothing may be
    cached on it. Never raises."""
    import time

    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from . import db

    try:
        url = db.resolve_url(database_url)
    except Exception:
        return None
    if url.startswith("sqlite:///"):
        return _sqlite_revision(url.removeprefix("sqlite:///").split("?", 1)[0])
    if url.startswith("sqlite") or _down_until.get(url, 0.0) > time.monotonic():
        return None
    # a server: this one query also tells whether it answers (no SELECT 1 before it)
    try:
        with db.get_engine(url).connect() as conn:
            rev = conn.execute(text("SELECT revision FROM content_revision WHERE id = 1")).scalar()
    except OperationalError as exc:  # not answering (connection refused, lost, timed out)
        _mark_down(url, exc)
        return None
    except SQLAlchemyError as exc:  # e.g. no such table: a schema from before migration 0003
        log.debug("no content revision: %s", exc)
        return None
    _down_until.pop(url, None)
    return None if rev is None else int(rev)


_sqlite_readers = threading.local()
#: every kept reader (to close them all before a fork, from any thread) and their generation
_all_readers: list = []
_readers_lock = threading.Lock()
_readers_generation = 0


def close_sqlite_readers() -> None:
    """Close the SQLite connections :func:`_sqlite_revision` keeps (the server's master does
    this before it forks the workers: an SQLite connection must not cross a fork); a thread
    that held one opens a new one on its next call."""
    global _readers_generation
    with _readers_lock:
        _readers_generation += 1
        for conn in _all_readers:
            try:
                conn.close()
            except sqlite3.Error:  # pragma: no cover
                pass
        _all_readers.clear()


def _sqlite_revision(path: str) -> int | None:
    """:func:`content_revision` of an SQLite file through a connection kept per thread (a page
    asks on every request; through SQLAlchemy that cost ~0,2 ms, about a tenth of a cached
    page). Every SELECT outside a transaction reads the committed state, so a write by another
    connection shows at once; the connection is opened anew when the file at ``path`` is
    another one (replaced or recreated). ``None`` where the revision cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    ident = (st.st_dev, st.st_ino)
    readers = getattr(_sqlite_readers, "by_path", None)
    if readers is None:
        readers = _sqlite_readers.by_path = {}
    held = readers.get(path)
    if held is not None and (held[0] != ident or held[2] != _readers_generation):
        _close(held[1])
        held = None
    try:
        if held is None:
            # autocommit; closable by close_sqlite_readers from another thread (used in this one only)
            conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
            with _readers_lock:
                _all_readers.append(conn)
                held = readers[path] = (ident, conn, _readers_generation)
        row = held[1].execute("SELECT revision FROM content_revision WHERE id = 1").fetchone()
    except sqlite3.Error as exc:
        log.debug("no content revision in %s: %s", path, exc)
        if held is not None:
            _close(held[1])
            readers.pop(path, None)
        return None
    return None if row is None else int(row[0])


def _close(conn) -> None:
    with _readers_lock:
        if conn in _all_readers:
            _all_readers.remove(conn)
    conn.close()


#: The progress rule in one Dutch paragraph (the page shows it next to the statuses).
PROGRESS_RULE = (
    "De verwachte lijn loopt recht van de nulmeting via de eventuele tussendoelen naar de "
    "streefwaarde in het streefjaar. Behaald: de laatste gemeten waarde is de streefwaarde of "
    "beter. Anders wordt een rechte trendlijn door alle metingen vanaf de nulmeting gelegd, met "
    "het 95%-interval van die lijn in het laatste meetjaar. Op koers: het hele interval ligt op "
    "of voorbij de verwachte waarde in dat jaar. Achter: het hele interval blijft achter bij de "
    "verwachte waarde. Niet te zeggen: het interval omvat de verwachte waarde. De landelijke "
    "trend wordt niet afgetrokken (de streefwaarde is een absolute waarde); de regel bij elke "
    "streefwaarde noemt wel hoeveel de waarde landelijk veranderde. Geen gegevens: er is geen nulmeting, geen meting na de nulmeting, of de "
    "indicator heeft geen richting (neutraal). 'Beter' volgt de richting van de indicator "
    "(hoger of lager is beter).")


def database_configured() -> bool:
    """Whether an editable store is configured and present (for a page to decide whether to
    show the section at all)."""
    from . import db

    url = db.resolve_url(os.environ.get("WIJKMONITOR_DATABASE_URL"))
    return _database_available(url)
