"""Input bounds of the editable store, declared once and checked at the edge.

Every text, number and id that reaches the database through a form, the JSON API, an import
or the CLI is checked here first, so a value the database would refuse (a 301-character title,
a NUL byte, a budget of 1e13 in a ``NUMERIC(14, 2)``, ``NaN``, ``10**400``, an id above
2^31 - 1) gets a Dutch :class:`~.errors.ValidationFailed` naming the field, before anything is
written, instead of a database error (a 500).

The text lengths are read from the column sizes in :mod:`.models` (which a test keeps equal to
the migrations), so a column and its bound cannot drift apart. ``Text`` columns have no size in
the database; they get :data:`MAX_LONG_TEXT`.

The bounds that the public requests share (the largest id, the years, the length of a name)
have their one home in :mod:`wijkmonitor.bounds` and are taken from there.

The API bodies are pydantic models in :mod:`.schemas`; the beheer forms call :func:`text` and
:func:`number` from their parsers; the services call the same functions again (the CLI and the
imports reach them without a form).
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from wijkmonitor import bounds as request_bounds

from .errors import ValidationFailed
from .models import Intervention, InterventionLink, LocalUpload, Target, User

#: Largest id a path may name (``INTEGER`` primary keys: 2^31 - 1), the same bound as the
#: public requests' (:data:`wijkmonitor.bounds.MAX_DB_ID`).
MAX_ID = request_bounds.MAX_DB_ID
#: Bound of free-text ``Text`` columns (description, reason).
MAX_LONG_TEXT = 10_000
#: Indicator values, streefwaarden and milestones: finite and at most this in absolute value.
MAX_ABS_VALUE = 1e15
#: ``interventions.budget_eur`` is ``NUMERIC(14, 2)``: at most 12 digits before the comma.
MAX_BUDGET = Decimal("999999999999.99")
#: Years of targets, milestones and uploaded values: those of the public requests.
YEAR_MIN, YEAR_MAX = request_bounds.MIN_YEAR, request_bounds.MAX_YEAR
#: Area names or ids (an area *name* may be longer than its id column; find_area refuses
#: anything over 200 characters): the public requests' bound of names.
MAX_AREA_KEY = request_bounds.MAX_TEXT
#: Lists in one intervention.
MAX_AREAS = 200
MAX_INDICATORS = 200
MAX_LINKS = 50
MAX_MILESTONES = 200
#: JSON API bodies: size in bytes and nesting depth.
MAX_JSON_BYTES = 256 * 1024
MAX_JSON_DEPTH = 20


def _length(column) -> int:
    return int(column.type.length)


#: field -> maximum number of characters, from the columns.
LENGTHS: dict[str, int] = {
    "title": _length(Intervention.__table__.c.title),
    "actielijn": _length(Intervention.__table__.c.actielijn),
    "theme": _length(Intervention.__table__.c.theme),
    "organisation_type": _length(Intervention.__table__.c.organisation_type),
    "organisation": _length(Intervention.__table__.c.organisation),
    "url": _length(InterventionLink.__table__.c.url),
    "label": _length(InterventionLink.__table__.c.label),
    "filename": _length(LocalUpload.__table__.c.filename),
    "source": _length(LocalUpload.__table__.c.source),
    "user_name": _length(User.__table__.c.name),
    "indicator": _length(Target.__table__.c.indicator_id),
    "area": MAX_AREA_KEY,
    "description": MAX_LONG_TEXT,
    "reason": MAX_LONG_TEXT,
    "status": _length(Intervention.__table__.c.status),
    "polarity": 40,
    "password": 1000,
}


def dutch_int(x: int | float) -> str:
    """Dutch thousands separator: 200000 -> ``200.000``."""
    return f"{x:,}".replace(",", ".")


def text_problem(value: Any, max_len: int) -> str | None:
    """What is wrong with ``value`` as a text of at most ``max_len`` characters (or None)."""
    if not isinstance(value, str):
        return f"moet tekst zijn, niet {_kind(value)}"
    if "\x00" in value:
        return "bevat een NUL-teken (\\x00); dat kan niet worden opgeslagen"
    if len(value) > max_len:
        return f"te lang: {dutch_int(len(value))} tekens, maximaal {dutch_int(max_len)}"
    return None


def text(value: Any, field: str, *, label: str | None = None, max_len: int | None = None,
         strip: bool = True) -> str:
    """``value`` as a checked text (``None`` -> ``""``); :class:`ValidationFailed` naming
    ``label`` (default ``field``) otherwise. ``max_len`` defaults to :data:`LENGTHS[field]`."""
    if value is None:
        return ""
    limit = max_len if max_len is not None else LENGTHS[field]
    problem = text_problem(value, limit)
    if problem:
        raise ValidationFailed(f"{label or field}: {problem}")
    return value.strip() if strip else value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "waar/onwaar"
    if isinstance(value, (int, float)):
        return "een getal"
    if isinstance(value, list):
        return "een lijst"
    if isinstance(value, dict):
        return "een object"
    if value is None:
        return "leeg"
    return type(value).__name__


def number_problem(value: float, bound: float = MAX_ABS_VALUE) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "is geen getal"
    try:
        f = float(value)
    except OverflowError:
        return f"te groot: hoogstens {bound:g} (in absolute waarde)"
    if math.isnan(f):
        return "is geen getal (NaN)"
    if math.isinf(f) or abs(f) > bound:
        return f"te groot: hoogstens {bound:g} (in absolute waarde)"
    return None


def number(value: Any, field: str, *, label: str | None = None,
           bound: float = MAX_ABS_VALUE) -> float:
    """A finite number within ±``bound`` (ints of any size, floats; not bools or text)."""
    problem = number_problem(value, bound)
    if problem:
        raise ValidationFailed(f"{label or field}: {problem}")
    return float(value)


def year_ok(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and \
        YEAR_MIN <= value <= YEAR_MAX


def budget(value: Any, field: str = "budget_eur", *, label: str | None = None
           ) -> Decimal | None:
    """A budget in euros: ``None``/empty, or 0 <= amount <= :data:`MAX_BUDGET` (cents)."""
    name = label or field
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationFailed(f"{name}: {value!r} is geen bedrag")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationFailed(f"{name}: {value!r} is geen bedrag")
    if isinstance(value, str):
        problem = text_problem(value, 40)
        if problem:
            raise ValidationFailed(f"{name}: {problem}")
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{name}: {str(value)[:40]!r} is geen bedrag") from None
    if not amount.is_finite():
        raise ValidationFailed(f"{name}: {str(value)[:40]!r} is geen bedrag")
    if amount < 0:
        raise ValidationFailed(f"{name}: {str(value)[:40]!r} moet een positief bedrag zijn")
    if amount > MAX_BUDGET:
        raise ValidationFailed(f"{name}: te groot; hoogstens {dutch_int(int(MAX_BUDGET))} euro")
    return amount.quantize(Decimal("0.01"))


def check_id(value: Any) -> bool:
    """Whether ``value`` is an id a row can have (1 .. 2^31 - 1)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def json_depth_exceeds(raw: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects deeper than ``limit`` (checked on the text,
    before parsing, so a 100 000-deep body costs no recursion)."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    depth = 0
    in_string = escaped = False
    for ch in raw:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


#: Beheer form field -> (bound: a length or a :data:`LENGTHS` key, Dutch label), checked
#: before the form is parsed (:func:`check_form`).
TARGET_FORM = {
    "gebied": ("area", "Het gebied"), "indicator": ("indicator", "De indicator"),
    "streefwaarde": (40, "De streefwaarde"), "streefjaar": (10, "Het streefjaar"),
    "beginjaar": (10, "Het beginjaar"), "beginwaarde": (40, "De beginwaarde"),
    "tussendoelen": (4000, "De tussendoelen"), "richting": ("polarity", "De richting"),
    "reden": ("reason", "De reden")}
INTERVENTION_FORM = {
    "titel": ("title", "De titel"), "beschrijving": ("description", "De beschrijving"),
    "actielijn": ("actielijn", "De actielijn"), "thema": ("theme", "Het thema"),
    "organisatietype": ("organisation_type", "Het organisatietype"),
    "organisatie": ("organisation", "De organisatie"),
    "andere_gebieden": (MAX_AREAS * (MAX_AREA_KEY + 2), "Andere gebieden"),
    "startdatum": (10, "De startdatum"), "einddatum": (10, "De einddatum"),
    "status": ("status", "De status"), "budget": (40, "Het budget"),
    "evaluatielinks": (MAX_LINKS * (LENGTHS["url"] + 2), "De evaluatielinks")}
UPLOAD_FORM = {"gemeente": (6, "De gemeentecode"), "bron": ("source", "De bron")}


def check_form(raw: dict, spec: dict, add: Callable[[str, str], None]) -> None:
    """Call ``add(field, message)`` (a Dutch message) for every field of ``raw`` that has a
    NUL byte or is longer than its bound (``spec``: field -> (length or :data:`LENGTHS` key,
    label)); such a field is then cleaned and cut to its bound, so no later check echoes or
    uses the bad value."""
    for key, (limit, label) in spec.items():
        value = raw.get(key)
        if not isinstance(value, str):
            continue
        max_len = limit if isinstance(limit, int) else LENGTHS[limit]
        if "\x00" in value:
            add(key, f"{label} bevat een NUL-teken (\\x00); haal het weg.")
            raw[key] = value.replace("\x00", "")[:max_len]
        elif len(value) > max_len:
            add(key, f"{label} is te lang: {dutch_int(len(value))} tekens, "
                     f"maximaal {dutch_int(max_len)}.")
            raw[key] = value[:max_len]


def check_choices(values: list, field: str, label: str, limit: int, max_items: int,
                  add: Callable[[str, str], None]) -> list:
    """A multiple-choice list: at most ``max_items`` texts of at most ``limit`` characters."""
    if len(values) > max_items:
        add(field, f"{label}: te veel gekozen ({dutch_int(len(values))}), "
                   f"maximaal {max_items}.")
        return []
    bad = [v for v in values if text_problem(v, limit)]
    if bad:
        add(field, f"{label}: een keuze is te lang of bevat een NUL-teken.")
        return [v for v in values if v not in bad]
    return values
