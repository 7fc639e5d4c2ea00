"""Interventions registry (NPLV §6.2: qualitative monitoring of what is done in an area).

An intervention has a title, description, actielijn, theme, responsible organisation (kind and
name), the areas it runs in, the indicators it aims at, start and end date, status
(gepland / lopend / afgerond / gestopt), budget in euros where known, and evaluation links.

Ownership: the gemeente of its areas. A gemeente editor may create or change an intervention
only if every area lies in its own gemeente; interventions spanning several gemeenten belong to
the programme team.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import sheets
from . import audit, bounds
from .errors import NotFound, PermissionDenied, RowError, ValidationFailed
from .models import (INTERVENTION_STATUSES, Intervention, InterventionArea,
                     InterventionIndicator, InterventionLink)
from .permissions import Actor, require_edit
from .resolvers import (AreaResolver, IndicatorResolver, default_area_resolver,
                        default_indicator_resolver)
from .tabular import read_table, require_columns

ORGANISATION_TYPES = ("ministerie", "gemeente", "corporatie", "politie", "onderwijs", "zorg",
                      "welzijn", "bewoners", "bedrijfsleven", "anders")
FIELDS = ("title", "description", "actielijn", "theme", "organisation_type", "organisation",
          "start_date", "end_date", "status", "budget_eur")
#: Columns of the CSV/XLSX export (and accepted by the import).
EXPORT_COLUMNS = ["id", "title", "description", "actielijn", "theme", "organisation_type",
                  "organisation", "gemeente", "areas", "indicators", "start_date", "end_date",
                  "status", "budget_eur", "evaluation_links"]


def _date(value: Any, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValidationFailed(f"{field}: {value!r} is geen datum (JJJJ-MM-DD)") from None


def _budget(value: Any) -> Decimal | None:
    return bounds.budget(value, "budget_eur")


def _clean(fields: dict) -> dict:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValidationFailed(f"onbekende velden: {', '.join(sorted(unknown))}")
    out = {k: v for k, v in fields.items()}
    for key in ("title", "description", "actielijn", "theme", "organisation",
                "organisation_type", "status"):
        if key in out:
            out[key] = bounds.text(out[key], key)
    if "title" in out and not out["title"]:
        raise ValidationFailed("title: een titel is verplicht")
    if out.get("organisation_type"):
        kind = out["organisation_type"].strip().lower()
        if kind not in ORGANISATION_TYPES:
            raise ValidationFailed(f"organisation_type {kind!r}: kies uit "
                                   + ", ".join(ORGANISATION_TYPES))
        out["organisation_type"] = kind
    if "status" in out:
        status = (out["status"] or "gepland").strip().lower()
        if status not in INTERVENTION_STATUSES:
            raise ValidationFailed(f"status {status!r}: kies uit "
                                   + ", ".join(INTERVENTION_STATUSES))
        out["status"] = status
    for key in ("start_date", "end_date"):
        if key in out:
            out[key] = _date(out[key], key)
    if "budget_eur" in out:
        out["budget_eur"] = _budget(out["budget_eur"])
    return out


def _owner(areas) -> str | None:
    gemeenten = {a.gemeente for a in areas}
    return gemeenten.pop() if len(gemeenten) == 1 else None


def save_intervention(session: Session, actor: Actor, *, intervention_id: int | None = None,
                      areas: Iterable[str] | None = None, indicators: Iterable[str] | None = None,
                      evaluation_links: Iterable[str | tuple[str, str]] | None = None,
                      area_resolver: AreaResolver = default_area_resolver,
                      indicator_resolver: IndicatorResolver = default_indicator_resolver,
                      **fields) -> Intervention:
    """Create (``intervention_id=None``) or update an intervention.

    ``fields`` are the plain columns (:data:`FIELDS`); ``areas``, ``indicators`` and
    ``evaluation_links`` (URLs, or ``(url, label)``) replace the current lists when given.
    The actor must be allowed to edit the gemeente of the current *and* the new areas.
    """
    fields = _clean(fields)
    existing = None
    if intervention_id is not None:
        existing = session.get(Intervention, intervention_id)
        if existing is None:
            raise NotFound(f"interventie {intervention_id} bestaat niet")
        require_edit(actor, existing.gemeente, f"interventie {existing.title!r}")
    if areas is not None:
        areas = list(areas)
        if len(areas) > bounds.MAX_AREAS:
            raise ValidationFailed(f"areas: te veel gebieden, maximaal {bounds.MAX_AREAS}")
        areas = [bounds.text(a, "area", label="areas") for a in areas]
    if indicators is not None:
        indicators = list(indicators)
        if len(indicators) > bounds.MAX_INDICATORS:
            raise ValidationFailed(f"indicators: te veel indicatoren, maximaal "
                                   f"{bounds.MAX_INDICATORS}")
        indicators = [bounds.text(i, "indicator", label="indicators") for i in indicators]
    area_refs = [area_resolver(a) for a in areas] if areas is not None else None
    if area_refs is not None:
        if not area_refs:
            raise ValidationFailed("areas: minstens één gebied nodig")
        for ref in area_refs:
            require_edit(actor, ref.gemeente, f"interventies in {ref.name}")
    elif existing is None:
        raise ValidationFailed("areas: minstens één gebied nodig")
    ind_refs = [indicator_resolver(i) for i in indicators] if indicators is not None else None
    links = None
    if evaluation_links is not None:
        links = []
        evaluation_links = list(evaluation_links)
        if len(evaluation_links) > bounds.MAX_LINKS:
            raise ValidationFailed(f"evaluation_links: te veel links, maximaal "
                                   f"{bounds.MAX_LINKS}")
        for link in evaluation_links:
            url, label = (link, "") if isinstance(link, str) else link
            url = bounds.text(url, "url", label="evaluation_links")
            label = bounds.text(label, "label", label="evaluation_links (label)")
            if not url.startswith(("https://", "http://")):
                raise ValidationFailed(f"evaluation_links: {url!r} is geen http(s)-adres")
            links.append((url, label))
    start = fields.get("start_date", existing.start_date if existing else None)
    end = fields.get("end_date", existing.end_date if existing else None)
    if start and end and end < start:
        raise ValidationFailed(f"end_date {end} ligt voor start_date {start}")

    before = existing.to_dict() if existing else None
    item = existing or Intervention(created_by_name=actor.name, status="gepland")
    if existing is None and "title" not in fields:
        raise ValidationFailed("title: een titel is verplicht")
    for key, value in fields.items():
        setattr(item, key, value)
    if area_refs is not None:
        item.areas = [InterventionArea(area_id=a.id, area_name=a.name, gemeente=a.gemeente)
                      for a in {a.id: a for a in area_refs}.values()]
        item.gemeente = _owner(area_refs)
    if ind_refs is not None:
        item.indicators = [InterventionIndicator(indicator_id=i)
                           for i in sorted({i.id for i in ind_refs})]
    if links is not None:
        item.links = [InterventionLink(url=u, label=lbl) for u, lbl in links]
    session.add(item)
    session.flush()
    audit.record(session, actor, "update" if existing else "create", "intervention", item.id,
                 before, item.to_dict())
    return item


def delete_intervention(session: Session, actor: Actor, intervention_id: int) -> None:
    item = session.get(Intervention, intervention_id)
    if item is None:
        raise NotFound(f"interventie {intervention_id} bestaat niet")
    require_edit(actor, item.gemeente, f"interventie {item.title!r}")
    before = item.to_dict()
    session.delete(item)
    session.flush()
    audit.record(session, actor, "delete", "intervention", intervention_id, before, None)


def list_interventions(session: Session, *, area: str | None = None,
                       actielijn: str | None = None, gemeente: str | None = None,
                       area_resolver: AreaResolver = default_area_resolver
                       ) -> list[Intervention]:
    """Interventions, filtered by area (name or id), actielijn (exact or leading text such as
    "2" for "Actielijn 2: ...") and gemeente."""
    q = select(Intervention).order_by(Intervention.id)
    if area:
        area_id = area_resolver(area).id
        q = q.where(Intervention.id.in_(select(InterventionArea.intervention_id)
                                        .where(InterventionArea.area_id == area_id)))
    if gemeente:
        q = q.where(Intervention.gemeente == gemeente)
    items = list(session.scalars(q))
    if actielijn:
        key = actielijn.strip().lower()
        items = [i for i in items if i.actielijn.lower() == key
                 or i.actielijn.lower().startswith(key)
                 or i.actielijn.lower().startswith(f"actielijn {key}")]
    return items


def to_frame(items: Iterable[Intervention]) -> pd.DataFrame:
    """Flat table of interventions (lists joined with ``; ``), columns :data:`EXPORT_COLUMNS`."""
    rows = []
    for i in items:
        d = i.to_dict()
        d["areas"] = "; ".join(a["id"] for a in d["areas"])
        d["indicators"] = "; ".join(d["indicators"])
        d["evaluation_links"] = "; ".join(link["url"] for link in d["evaluation_links"])
        rows.append({c: d.get(c) for c in EXPORT_COLUMNS})
    return pd.DataFrame(rows, columns=EXPORT_COLUMNS)


def export(items: Iterable[Intervention], fmt: str = "csv") -> bytes:
    """CSV (UTF-8 with BOM, ``;``-separated, as Excel NL opens it) or XLSX bytes, in the
    layout :func:`import_interventions` reads. Written by :mod:`wijkmonitor.sheets`: a title
    or any other text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``,
    tab, CR) gets a leading ``'``, and every XLSX text cell is a text cell."""
    frame = to_frame(items)
    if fmt == "csv":
        return sheets.csv_nl(frame, integer_columns=("id",))
    if fmt == "xlsx":
        return sheets.xlsx(frame, sheet="interventies", decimals={"budget_eur": 0},
                           integer_columns=("id",))
    raise ValueError(f"onbekend formaat {fmt!r}: csv of xlsx")


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\n", ";").split(";") if p.strip()]


def import_interventions(session: Session, actor: Actor, data: bytes | Path | str,
                         filename: str | None = None, *,
                         area_resolver: AreaResolver = default_area_resolver,
                         indicator_resolver: IndicatorResolver = default_indicator_resolver
                         ) -> list[Intervention]:
    """Import interventions from CSV/XLSX in the export layout (``id`` empty: new; filled:
    update). Lists are ``;``-separated. All rows are checked before anything is kept: on any
    error the rows written so far are rolled back (savepoint) and :class:`ValidationFailed`
    lists every bad row."""
    if isinstance(data, (str, Path)):
        filename = filename or Path(data).name
    table = read_table(data, filename)
    filename = filename or "upload"
    require_columns(table, filename, {"title": ("title", "titel"), "areas": ("areas",
                                                                             "gebieden")})
    errors: list[RowError] = []
    done: list[Intervention] = []
    savepoint = session.begin_nested()
    for row, rec in table.iterrows():
        fields = {k: rec[k] for k in FIELDS if k in table.columns}
        fields.setdefault("title", rec.get("titel", ""))
        try:
            item_id = int(rec["id"]) if rec.get("id", "") else None
            done.append(save_intervention(
                session, actor, intervention_id=item_id,
                areas=_split(rec.get("areas", "") or rec.get("gebieden", "")),
                indicators=_split(rec.get("indicators", "")) if "indicators" in table.columns
                else None,
                evaluation_links=_split(rec.get("evaluation_links", ""))
                if "evaluation_links" in table.columns else None,
                area_resolver=area_resolver, indicator_resolver=indicator_resolver, **fields))
        except (ValidationFailed, NotFound, PermissionDenied, ValueError) as exc:
            errors.append(RowError(int(row), None, getattr(exc, "summary", str(exc))))
        except BaseException:
            savepoint.rollback()
            raise
    if errors:
        savepoint.rollback()
        raise ValidationFailed(f"{len(errors)} fout(en) gevonden; er is niets opgeslagen",
                               errors, file=filename)
    savepoint.commit()
    return done
