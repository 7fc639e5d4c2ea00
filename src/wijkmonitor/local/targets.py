"""Streefwaarden (targets): one per area x indicator, with who set it and why.

Services take a session and the acting user, check permission (a gemeente editor only for areas
of its own gemeente; see :mod:`~wijkmonitor.local.permissions`), validate, write the change and
its audit row, and leave the commit to the caller.

Area and indicator are resolved through injectable callables (defaults in
:mod:`~wijkmonitor.local.resolvers`): ``area`` may be a name ("Overvecht") or an id/code
(``WK034403``); the area's gemeente decides who may edit the target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Mapping

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, bounds, progress
from .errors import NotFound, PermissionDenied, RowError, ValidationFailed
from .models import Milestone, Target
from .permissions import Actor, require_edit
from .resolvers import (AreaResolver, IndicatorResolver, default_area_resolver,
                        default_indicator_resolver, normalise_polarity)
from .tabular import parse_number, parse_year, read_table, require_columns

IMPORT_COLUMNS = {
    "area": ("area", "gebied", "region", "regio"),
    "indicator": ("indicator", "indicator_id"),
    "target_year": ("target_year", "streefjaar"),
    "target_value": ("target_value", "streefwaarde"),
}
#: Optional import columns: baseline_year, baseline_value, polarity, reason (reden),
#: milestones ("2026: 12,5; 2028: 11").
OPTIONAL_COLUMNS = ("baseline_year", "baseline_value", "polarity", "reason", "reden",
                    "milestones", "tussendoelen")

#: Observed values for progress: ``(target) -> Series year -> value`` (or None).
ObservedProvider = Callable[[Target], "pd.Series | Mapping[int, float] | None"]


def _validate_numbers(target_year, target_value, baseline_year, baseline_value,
                      milestones) -> dict[int, float]:
    problems = []
    if not bounds.year_ok(target_year):
        problems.append(f"streefjaar {str(target_year)[:20]!r} is geen jaar (1900-2100)")
    problem = bounds.number_problem(target_value)
    if problem:
        problems.append(f"streefwaarde {problem}")
    if baseline_year is not None and not bounds.year_ok(baseline_year):
        problems.append(f"beginjaar {str(baseline_year)[:20]!r} is geen jaar (1900-2100)")
        baseline_year = None
    if baseline_value is not None and bounds.number_problem(baseline_value):
        problems.append(f"beginwaarde {bounds.number_problem(baseline_value)}")
    if (baseline_year is None) != (baseline_value is None) and baseline_value is not None:
        problems.append("een beginwaarde hoort bij een beginjaar")
    if baseline_year is not None and isinstance(target_year, int) and \
            baseline_year >= target_year:
        problems.append(f"beginjaar {baseline_year} moet voor het streefjaar {target_year} liggen")
    ms: dict[int, float] = {}
    for y, v in (milestones.items() if isinstance(milestones, Mapping) else milestones or ()):
        if not bounds.year_ok(y):
            problems.append(f"tussendoel {str(y)[:20]!r} is geen jaar (1900-2100)")
            continue
        if bounds.number_problem(v):
            problems.append(f"tussendoel {y}: waarde {bounds.number_problem(v)}")
            continue
        lo = baseline_year if baseline_year is not None else 1900
        if bounds.year_ok(target_year) and not lo < y < target_year:
            problems.append(f"tussendoel {y} ligt niet tussen beginjaar en streefjaar")
        if y in ms:
            problems.append(f"tussendoel {y} staat er twee keer in")
        ms[y] = float(v)
    if problems:
        raise ValidationFailed("; ".join(problems))
    return ms


def set_target(session: Session, actor: Actor, area: str, indicator: str, *,
               target_value: float, target_year: int, reason: str = "",
               baseline_year: int | None = None, baseline_value: float | None = None,
               milestones: Mapping[int, float] | Iterable[tuple[int, float]] = (),
               polarity: str | None = None,
               area_resolver: AreaResolver = default_area_resolver,
               indicator_resolver: IndicatorResolver = default_indicator_resolver) -> Target:
    """Create or replace the target for ``area`` x ``indicator``.

    ``polarity`` defaults to the catalogue's; it is required when the catalogue has none
    (neutral indicator). Raises :class:`PermissionDenied`, :class:`NotFound` or
    :class:`ValidationFailed`; writes nothing in that case.
    """
    area = bounds.text(area, "area", label="gebied")
    indicator = bounds.text(indicator, "indicator")
    area_ref = area_resolver(area)
    require_edit(actor, area_ref.gemeente, f"streefwaarden van {area_ref.name}")
    reason = bounds.text(reason, "reason", label="reden")
    ind = indicator_resolver(indicator)
    try:
        pol = normalise_polarity(polarity) if polarity else ind.polarity
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    if pol is None:
        raise ValidationFailed(f"indicator {ind.id} heeft geen richting: geef aan of hoger beter "
                               "of slechter is (polarity)")
    ms = _validate_numbers(target_year, target_value, baseline_year, baseline_value, milestones)

    target = session.scalar(select(Target).where(Target.area_id == area_ref.id,
                                                 Target.indicator_id == ind.id))
    before = target.to_dict() if target is not None else None
    if target is None:
        target = Target(area_id=area_ref.id, indicator_id=ind.id)
        session.add(target)
    target.area_name = area_ref.name
    target.gemeente = area_ref.gemeente
    target.target_value = float(target_value)
    target.target_year = int(target_year)
    target.baseline_year = baseline_year
    target.baseline_value = None if baseline_value is None else float(baseline_value)
    target.polarity = pol
    target.reason = (reason or "").strip()
    target.set_by_id = actor.id
    target.set_by_name = actor.name
    if target.milestones:
        # Delete the old milestones first: the unit of work inserts before it deletes, and a
        # year kept from the old list would hit the (target_id, year) unique constraint.
        target.milestones.clear()
        session.flush()
    target.milestones = [Milestone(year=y, value=v) for y, v in sorted(ms.items())]
    session.flush()
    audit.record(session, actor, "update" if before else "create", "target", target.id,
                 before, target.to_dict())
    return target


def get_target(session: Session, target_id: int) -> Target:
    target = session.get(Target, target_id)
    if target is None:
        raise NotFound(f"streefwaarde {target_id} bestaat niet")
    return target


def delete_target(session: Session, actor: Actor, target_id: int) -> None:
    """Remove a target (audited with its last state)."""
    target = get_target(session, target_id)
    require_edit(actor, target.gemeente, f"streefwaarden van {target.area_name}")
    before = target.to_dict()
    session.delete(target)
    session.flush()
    audit.record(session, actor, "delete", "target", target_id, before, None)


def list_targets(session: Session, *, area: str | None = None, gemeente: str | None = None,
                 area_resolver: AreaResolver = default_area_resolver) -> list[Target]:
    """Targets ordered by area and indicator; ``area`` is resolved like in :func:`set_target`."""
    q = select(Target).order_by(Target.area_id, Target.indicator_id)
    if area:
        q = q.where(Target.area_id == area_resolver(area).id)
    if gemeente:
        q = q.where(Target.gemeente == gemeente)
    return list(session.scalars(q))


def target_progress(target: Target, observed=None, *, tolerance: float = 0.0, se=None,
                    national=None, rule: str = "standaard") -> progress.Progress:
    """Progress of ``target`` given observed values (year -> value); ``se`` (year -> standard
    error) and ``national`` (year -> value) feed the default rule (see
    :mod:`wijkmonitor.local.progress`)."""
    return progress.assess(target.target_value, target.target_year, observed,
                           polarity=target.polarity, baseline_year=target.baseline_year,
                           baseline_value=target.baseline_value,
                           milestones=[(m.year, m.value) for m in target.milestones],
                           tolerance=tolerance, se=se, national=national, rule=rule)


def local_observed(session: Session) -> ObservedProvider:
    """Observed-values provider reading the gemeente's own uploaded values.

    Used by the CLI when no analytical store is wired in; the values are local (with their
    source), never CBS.
    """
    from .uploads import local_values

    def provider(target: Target):
        frame = local_values(session, indicator_id=target.indicator_id, region=target.area_id)
        frame = frame[frame["status"] == "ok"]
        return None if frame.empty else frame.set_index("year")["value"]
    return provider


def targets_report(session: Session, *, area: str | None = None,
                   observed: ObservedProvider | None = None,
                   area_resolver: AreaResolver = default_area_resolver) -> list[dict]:
    """Every target as a JSON-ready dict with its ``progress`` (status, label, rule, path)."""
    observed = observed or (lambda t: None)
    out = []
    for target in list_targets(session, area=area, area_resolver=area_resolver):
        item = target.to_dict()
        item["progress"] = target_progress(target, observed(target)).as_dict()
        out.append(item)
    return out


def _parse_milestones(text: str) -> dict[int, float] | None:
    result: dict[int, float] = {}
    for part in filter(None, (p.strip() for p in text.replace("|", ";").split(";"))):
        if ":" not in part:
            return None
        y, v = part.split(":", 1)
        year, value = parse_year(y), parse_number(v)
        if year is None or value is None:
            return None
        result[year] = value
    return result


def import_targets(session: Session, actor: Actor, data: bytes | Path | str,
                   filename: str | None = None, *,
                   area_resolver: AreaResolver = default_area_resolver,
                   indicator_resolver: IndicatorResolver = default_indicator_resolver
                   ) -> list[Target]:
    """Import targets from CSV/XLSX (columns area, indicator, target_year, target_value and
    optionally baseline_year, baseline_value, polarity, reason, milestones).

    All rows are checked first (values, areas, indicators, permission per row); any problem
    raises :class:`ValidationFailed` with every bad row, and nothing is written.
    """
    if isinstance(data, (str, Path)):
        filename = filename or Path(data).name
    table = read_table(data, filename)
    filename = filename or "upload"
    cols = require_columns(table, filename, IMPORT_COLUMNS)
    errors: list[RowError] = []
    parsed = []
    seen: dict[tuple, int] = {}
    for row, rec in table.iterrows():
        row = int(row)
        n_err = len(errors)
        try:
            area_ref = area_resolver(rec[cols["area"]])
        except NotFound as exc:
            errors.append(RowError(row, cols["area"], str(exc), rec[cols["area"]]))
            area_ref = None
        if area_ref is not None:
            try:
                require_edit(actor, area_ref.gemeente, f"streefwaarden van {area_ref.name}")
            except PermissionDenied as exc:
                errors.append(RowError(row, cols["area"], str(exc), rec[cols["area"]]))
        try:
            ind = indicator_resolver(rec[cols["indicator"]])
        except NotFound as exc:
            errors.append(RowError(row, cols["indicator"], str(exc), rec[cols["indicator"]]))
            ind = None
        target_year = parse_year(rec[cols["target_year"]])
        if target_year is None:
            errors.append(RowError(row, cols["target_year"], "geen jaartal (1900-2100)",
                                   rec[cols["target_year"]]))
        target_value = parse_number(rec[cols["target_value"]])
        if target_value is None:
            errors.append(RowError(row, cols["target_value"], "geen getal",
                                   rec[cols["target_value"]]))
        opt = {}
        if rec.get("baseline_year", ""):
            opt["baseline_year"] = parse_year(rec["baseline_year"])
            if opt["baseline_year"] is None:
                errors.append(RowError(row, "baseline_year", "geen jaartal",
                                       rec["baseline_year"]))
        if rec.get("baseline_value", ""):
            opt["baseline_value"] = parse_number(rec["baseline_value"])
            if opt["baseline_value"] is None:
                errors.append(RowError(row, "baseline_value", "geen getal",
                                       rec["baseline_value"]))
        if rec.get("polarity", ""):
            try:
                opt["polarity"] = normalise_polarity(rec["polarity"])
            except ValueError as exc:
                errors.append(RowError(row, "polarity", str(exc), rec["polarity"]))
        ms_col = "milestones" if "milestones" in table.columns else "tussendoelen"
        if rec.get(ms_col, ""):
            ms = _parse_milestones(rec[ms_col])
            if ms is None:
                errors.append(RowError(row, ms_col, "schrijf tussendoelen als 'jaar: waarde; "
                                                    "jaar: waarde'", rec[ms_col]))
            else:
                opt["milestones"] = ms
        opt["reason"] = rec.get("reason", "") or rec.get("reden", "")
        if len(errors) > n_err:
            continue
        key = (area_ref.id, ind.id)
        if key in seen:
            errors.append(RowError(row, None, f"dubbele rij: zelfde gebied en indicator als rij "
                                              f"{seen[key]}"))
            continue
        seen[key] = row
        parsed.append((row, area_ref, ind, target_year, target_value, opt))
    # Second pass: the full checks of set_target, still before anything is written.
    if not errors:
        for row, area_ref, ind, target_year, target_value, opt in parsed:
            pol = opt.get("polarity") or ind.polarity
            if pol is None:
                errors.append(RowError(row, "polarity", f"indicator {ind.id} heeft geen "
                                                        "richting: vul polarity in"))
            try:
                _validate_numbers(target_year, target_value, opt.get("baseline_year"),
                                  opt.get("baseline_value"), opt.get("milestones", {}))
            except ValidationFailed as exc:
                errors.append(RowError(row, None, exc.summary))
    if errors:
        raise ValidationFailed(f"{len(errors)} fout(en) gevonden; er is niets opgeslagen",
                               errors, file=filename)
    if not parsed:
        raise ValidationFailed("het bestand bevat geen streefwaarden", file=filename)
    fixed_area = {a.id: a for _, a, *_ in parsed}
    fixed_ind = {i.id: i for _, _, i, *_ in parsed}
    return [set_target(session, actor, area_ref.id, ind.id, target_value=target_value,
                       target_year=target_year, area_resolver=lambda key: fixed_area[key],
                       indicator_resolver=lambda key: fixed_ind[key], **opt)
            for _, area_ref, ind, target_year, target_value, opt in parsed]
