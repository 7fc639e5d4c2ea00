"""Pydantic models of the JSON API bodies (``POST``/``PUT /api/v1/targets`` and
``/api/v1/interventions``), with the bounds of :mod:`.bounds`.

A body is validated completely before any service runs; :func:`parse` turns pydantic's errors
into one Dutch :class:`~.errors.ValidationFailed` (HTTP 422) that names every field, e.g.
``title: moet tekst zijn, niet een getal`` or ``budget_eur: te groot; hoogstens
999.999.999.999 euro``. Text fields are strict (``"title": 123`` is refused, not turned into
``"123"``); numbers may be JSON numbers or text in Dutch or English notation (``"12,5"``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, TypeVar

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
                      field_validator)

from . import bounds
from .errors import RowError, ValidationFailed
from .tabular import parse_number

M = TypeVar("M", bound=BaseModel)


def _text(field: str, *, max_len: int | None = None):
    limit = max_len if max_len is not None else bounds.LENGTHS[field]

    def check(value: Any) -> Any:
        if value is None:
            return value
        problem = bounds.text_problem(value, limit)
        if problem:
            raise ValueError(problem)
        return value
    return BeforeValidator(check)


def _num(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        problem = bounds.text_problem(value, 40)
        if problem:
            raise ValueError(problem)
        parsed = parse_number(value)
        if parsed is None:
            raise ValueError(f"{value[:40]!r} is geen getal")
        value = parsed
    problem = bounds.number_problem(value)
    if problem:
        raise ValueError(problem)
    return float(value)


def _ascii_digits(text: str) -> bool:
    """Only the digits 0-9 (``str.isdigit`` also accepts '²' and other digits ``int`` refuses)."""
    return text.isascii() and text.isdigit()


def _year(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and _ascii_digits(value.strip().removesuffix(".0")) \
            and len(value.strip()) <= 6:
        value = int(value.strip().removesuffix(".0"))
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e6:
        value = int(value)
    if not bounds.year_ok(value):
        shown = repr(value)[:40]
        raise ValueError(f"{shown} is geen jaartal ({bounds.YEAR_MIN}-{bounds.YEAR_MAX})")
    return value


Number = Annotated[float | None, BeforeValidator(_num)]
Year = Annotated[int | None, BeforeValidator(_year)]


def _milestones(value: Any) -> dict[int, float]:
    """``{"2026": 12.5}``, ``[{"year": 2026, "value": 12.5}]`` or ``[[2026, 12.5]]``; a year
    given twice is refused."""
    if value is None:
        return {}
    hint = ('geef {"2026": 12.5, ...} of [{"year": 2026, "value": 12.5}, ...]')
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = []
        for m in value:
            if isinstance(m, dict) and set(m) == {"year", "value"}:
                items.append((m["year"], m["value"]))
            elif isinstance(m, list) and len(m) == 2:
                items.append((m[0], m[1]))
            else:
                raise ValueError(hint)
    else:
        raise ValueError(hint)
    if len(items) > bounds.MAX_MILESTONES:
        raise ValueError(f"te veel tussendoelen: maximaal {bounds.MAX_MILESTONES}")
    out: dict[int, float] = {}
    for y, v in items:
        try:
            year = _year(y)
            val = _num(v)
        except ValueError as exc:
            raise ValueError(f"{str(y)[:20]}: {exc}") from None
        if year is None or val is None:
            raise ValueError(hint)
        if year in out:
            raise ValueError(f"het jaar {year} staat er twee keer in")
        out[year] = val
    return out


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class TargetBody(_Body):
    """``POST /api/v1/targets`` (area and indicator required) and ``PUT`` (they may be sent
    but must not change)."""

    area: Annotated[str | None, _text("area")] = None
    indicator: Annotated[str | None, _text("indicator")] = None
    target_value: Number = None
    target_year: Year = None
    baseline_year: Year = None
    baseline_value: Number = None
    milestones: Annotated[dict[int, float], BeforeValidator(_milestones)] = Field(
        default_factory=dict)
    polarity: Annotated[str | None, _text("polarity")] = None
    reason: Annotated[str | None, _text("reason")] = None

    def service_kwargs(self) -> dict:
        problems = [f"{k} ontbreekt" for k in ("target_value", "target_year")
                    if getattr(self, k) is None]
        if problems:
            raise ValidationFailed("; ".join(problems),
                                   [RowError(None, p.split()[0], "ontbreekt") for p in problems])
        return dict(target_value=self.target_value, target_year=self.target_year,
                    baseline_year=self.baseline_year, baseline_value=self.baseline_value,
                    polarity=self.polarity or None, reason=self.reason or "",
                    milestones=self.milestones)


class Link(_Body):
    url: Annotated[str, _text("url")]
    label: Annotated[str | None, _text("label")] = None


def _links(value: Any) -> Any:
    if isinstance(value, list):
        if len(value) > bounds.MAX_LINKS:
            raise ValueError(f"te veel links: maximaal {bounds.MAX_LINKS}")
        return [{"url": v} if isinstance(v, str) else v for v in value]
    return value


def _str_list(field: str, max_items: int):
    def check(value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("geef een lijst van teksten")
        if len(value) > max_items:
            raise ValueError(f"te veel: maximaal {max_items}")
        for v in value:
            problem = bounds.text_problem(v, bounds.LENGTHS[field])
            if problem:
                raise ValueError(f"{v[:40]!r} {problem}")
        return value
    return BeforeValidator(check)


class InterventionBody(_Body):
    """``POST /api/v1/interventions`` and ``PUT`` (only the fields sent are changed)."""

    title: Annotated[str | None, _text("title")] = None
    description: Annotated[str | None, _text("description")] = None
    actielijn: Annotated[str | None, _text("actielijn")] = None
    theme: Annotated[str | None, _text("theme")] = None
    organisation_type: Annotated[str | None, _text("organisation_type")] = None
    organisation: Annotated[str | None, _text("organisation")] = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    status: Annotated[str | None, _text("status")] = None
    budget_eur: Any = None
    areas: Annotated[list[str] | None, _str_list("area", bounds.MAX_AREAS)] = None
    indicators: Annotated[list[str] | None, _str_list("indicator", bounds.MAX_INDICATORS)] = None
    evaluation_links: Annotated[list[Link] | None, BeforeValidator(_links)] = None

    @field_validator("start_date", "end_date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) > 10:
            raise ValueError("geef een datum als JJJJ-MM-DD")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is geen datum (JJJJ-MM-DD)") from None

    @field_validator("budget_eur", mode="before")
    @classmethod
    def _budget(cls, value: Any) -> Any:
        try:
            return bounds.budget(value)
        except ValidationFailed as exc:
            raise ValueError(exc.summary.split(": ", 1)[-1]) from None

    def service_kwargs(self) -> dict:
        sent = self.model_dump(exclude_unset=True)
        out = {k: v for k, v in sent.items()
               if k not in ("areas", "indicators", "evaluation_links")}
        for key in ("areas", "indicators"):
            if key in sent and sent[key] is not None:
                out[key] = sent[key]
        if sent.get("evaluation_links") is not None:
            out["evaluation_links"] = [(link.url, link.label or "")
                                       for link in self.evaluation_links]
        return out


MESSAGES = {
    "missing": "ontbreekt",
    "extra_forbidden": "onbekend veld",
    "string_type": "moet tekst zijn",
    "float_type": "moet een getal zijn",
    "float_parsing": "moet een getal zijn",
    "int_type": "moet een geheel getal zijn",
    "int_parsing": "moet een geheel getal zijn",
    "list_type": "moet een lijst zijn",
    "dict_type": "moet een object zijn",
    "model_type": "moet een JSON-object zijn",
    "model_attributes_type": "moet een JSON-object zijn",
    "date_type": "geef een datum als JJJJ-MM-DD",
    "date_from_datetime_parsing": "geef een datum als JJJJ-MM-DD",
    "finite_number": "moet een eindig getal zijn",
}


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-"))]
    return ".".join(parts) or "body"


def dutch_errors(exc: ValidationError) -> ValidationFailed:
    """One Dutch :class:`ValidationFailed` naming every rejected field."""
    rows = []
    for err in exc.errors(include_url=False, include_input=False):
        if err["type"] == "value_error":
            reason = str(err.get("ctx", {}).get("error") or err["msg"]).removeprefix(
                "Value error, ")
        else:
            reason = MESSAGES.get(err["type"], "ongeldige waarde")
        rows.append(RowError(None, _field(err["loc"]), reason))
    if not rows:
        rows.append(RowError(None, "body", "ongeldige waarde"))
    summary = "; ".join(f"{r.column}: {r.reason}" if r.column != "body" else r.reason
                        for r in rows[:10])
    return ValidationFailed(summary, rows)


def parse(model: type[M], body: Any) -> M:
    """Validate ``body`` (parsed JSON) against ``model``; Dutch :class:`ValidationFailed`."""
    if not isinstance(body, dict):
        raise ValidationFailed("verwacht een JSON-object",
                               [RowError(None, "body", "moet een JSON-object zijn")])
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise dutch_errors(exc) from None
