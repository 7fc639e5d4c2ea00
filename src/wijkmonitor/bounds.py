"""Declared bounds of request parameters, and the Dutch message for every violation.

Every query and path parameter of the site and the API is declared once, at the edge, with one
of the annotated types below (FastAPI ``Query``/``Path`` with ``ge``, ``le``, ``max_length`` and
``pattern``). FastAPI then refuses a value outside its bounds before any handler runs, and
:func:`validation_response` turns pydantic's English error list into one Dutch sentence per
parameter (status 422). The site (:mod:`wijkmonitor.web.app`) and the beheer router
(:mod:`wijkmonitor.local.web`) both answer with it.

>>> message({"type": "greater_than_equal", "loc": ("query", "limit"), "input": "-1",
...          "ctx": {"ge": 1}})
"parameter 'limit': moet minstens 1 zijn (gegeven: '-1')"
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Iterable, Literal
from urllib.parse import quote

from fastapi import Path, Query

#: The largest id the editable store's integer primary keys hold (PostgreSQL ``integer``).
MAX_DB_ID = 2**31 - 1
#: Names, identifiers and search terms: at most this many characters (area names are refused
#: above 200 by :func:`wijkmonitor.areas.find_area` too).
MAX_TEXT = 200
#: Years of the monitor's data and targets.
MIN_YEAR, MAX_YEAR = 1900, 2100
#: Rows per page of a list endpoint (``limit``); every level of one year fits (14,574 buurten).
MAX_LIMIT = 50_000
#: Units (areas, groups, CBS codes) per ``/api/v1/values`` request and areas per ``/gaps``.
MAX_UNITS = 100

#: Any text without control characters (NUL, newline, escape, DEL): refused in every name.
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
#: A CBS gemeente code (upper or lower case: ``GM0344``, ``gm0344``).
GEMEENTE_PATTERN = r"^[Gg][Mm][0-9]{4}$"
#: A catalogue indicator id (``ervaren_gezondheid_pct``).
INDICATOR_PATTERN = r"^[A-Za-z0-9_.-]{1,100}$"

# --- the declared types --------------------------------------------------------------------

Text = Annotated[str | None, Query(max_length=MAX_TEXT, pattern=NO_CONTROL,
                                   description="tekst, hoogstens 200 tekens, geen stuurtekens")]
IndicatorId = Annotated[str | None, Query(max_length=100, pattern=INDICATOR_PATTERN,
                                          description="indicator-id uit de catalogus")]
GemeenteCode = Annotated[str | None, Query(pattern=GEMEENTE_PATTERN,
                                           description="CBS-gemeentecode, bijvoorbeeld GM0344")]
YearQuery = Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR, description="jaartal 1900-2100")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT,
                             description=f"hoogstens zoveel rijen (1-{MAX_LIMIT})")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="sla zoveel rijen over (paginering)")]
DbId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description=f"id (1-{MAX_DB_ID})")]
IdPath = Annotated[str, Path(max_length=MAX_TEXT, pattern=NO_CONTROL)]
IndicatorPath = Annotated[str, Path(max_length=100, pattern=INDICATOR_PATTERN)]
YearPath = Annotated[int, Path(ge=MIN_YEAR, le=MAX_YEAR, description="jaartal 1900-2100")]
Fmt = Literal["json", "csv", "xlsx", "parquet"]
#: ``formaat`` of a page: the file version of a table it shows.
Formaat = Annotated[Literal["csv", "csv-en", "xlsx", "parquet", "geojson"] | None,
                    Query(description="csv (Nederlands: ; en decimale komma), csv-en (komma en punt), "
                                      "xlsx, parquet of geojson")]


# --- Dutch messages ------------------------------------------------------------------------

_PLACES = {"query": "parameter", "path": "adresdeel", "header": "header", "cookie": "cookie",
           "body": "veld"}
_PATTERNS = {
    NO_CONTROL: "bevat een stuurteken (zoals NUL of een regeleinde); dat mag hier niet",
    GEMEENTE_PATTERN: "is geen CBS-gemeentecode (GM en vier cijfers, bijvoorbeeld GM0344)",
    INDICATOR_PATTERN: "is geen indicator-id (letters, cijfers en _ . -; zie /api/v1/indicators)",
}


def _shown(value: Any, limit: int = 40) -> str:
    """The offending value, quoted and shortened (control characters escaped by ``repr``)."""
    text = repr(value) if isinstance(value, str) else repr(str(value))
    return text if len(text) <= limit else text[:limit - 4] + "…'"


def _choices(expected: str) -> str:
    return expected.replace(" or ", " of ")


def _text(err: dict) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "missing":
        return "ontbreekt"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "is geen geheel getal"
    if kind in ("float_parsing", "float_type", "decimal_parsing", "finite_number"):
        return "is geen (eindig) getal"
    if kind in ("bool_parsing", "bool_type"):
        return "is geen ja/nee-waarde (true of false)"
    if kind == "greater_than_equal":
        return f"moet minstens {ctx.get('ge')} zijn"
    if kind == "greater_than":
        return f"moet groter zijn dan {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"mag hoogstens {ctx.get('le')} zijn"
    if kind == "less_than":
        return f"moet kleiner zijn dan {ctx.get('lt')}"
    if kind == "string_too_long":
        return f"is te lang: hoogstens {ctx.get('max_length')} tekens"
    if kind == "string_too_short":
        return f"is te kort: minstens {ctx.get('min_length')} tekens"
    if kind == "string_pattern_mismatch":
        return _PATTERNS.get(ctx.get("pattern"), "heeft niet de vorm die hier nodig is")
    if kind in ("literal_error", "enum"):
        return f"kies uit {_choices(str(ctx.get('expected', '')))}"
    if kind == "too_long":
        return f"te veel waarden: hoogstens {ctx.get('max_length')}"
    if kind in ("list_type", "tuple_type"):
        return "verwacht een lijst"
    if kind in ("string_type", "string_unicode"):
        return "is geen tekst"
    if kind == "json_invalid":
        return "de inhoud is geen geldige JSON"
    if kind in ("model_attributes_type", "dict_type", "model_type"):
        return "verwacht een JSON-object"
    return "is ongeldig"


def message(err: dict) -> str:
    """One Dutch sentence for one pydantic error: where, what is wrong, and what was given."""
    loc = tuple(err.get("loc") or ())
    place = _PLACES.get(str(loc[0]), str(loc[0])) if loc else "invoer"
    name = ".".join(str(x) for x in loc[1:]) if len(loc) > 1 else ""
    where = f"{place} {name!r}" if name else place
    out = f"{where}: {_text(err)}"
    if err.get("type") != "missing" and "input" in err and not isinstance(err["input"], (dict, list)):
        out += f" (gegeven: {_shown(err['input'])})"
    return out


def messages(errors: Iterable[dict]) -> list[dict]:
    """``[{"parameter", "bericht"}]`` for a pydantic error list."""
    out = []
    for err in errors:
        loc = tuple(err.get("loc") or ())
        out.append({"parameter": ".".join(str(x) for x in loc[1:]) or (str(loc[0]) if loc else ""),
                    "bericht": message(err)})
    return out


def summary(errors: Iterable[dict]) -> str:
    """All messages as one Dutch text (the ``detail`` of the 422 answer)."""
    parts = [m["bericht"] for m in messages(errors)]
    return "Ongeldige invoer: " + "; ".join(parts) + "." if parts else "Ongeldige invoer."


# --- download file names ------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: Extensions a download may have (the site's formats and the beheer exports).
EXTENSIONS = frozenset({"csv", "xlsx", "parquet", "geojson", "json"})


def safe_filename(stem: str, ext: str) -> str:
    """``stem.ext`` from whitelisted characters only: every run of other characters becomes
    one ``-``, leading/trailing ``-`` and ``.`` go, at most 100 characters (``download`` when
    nothing is left). ``ext`` must be one of :data:`EXTENSIONS`.

    >>> safe_filename('x";filename="evil.html', "csv")
    'x-filename-evil.html.csv'
    """
    if ext not in EXTENSIONS:
        raise ValueError(f"unknown download extension {ext!r}")
    safe = _UNSAFE.sub("-", str(stem)).strip("-.")[:100].strip("-.") or "download"
    return f"{safe}.{ext}"


def content_disposition(stem: str, ext: str) -> str:
    """The ``Content-Disposition`` value of every download: ``attachment`` with the name of
    :func:`safe_filename` as ``filename`` and as RFC 6266 ``filename*`` (UTF-8,
    percent-encoded), so no request value can add a parameter or a header line."""
    name = safe_filename(stem, ext)
    return f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name, safe='')}"


__all__ = ["safe_filename", "content_disposition", "EXTENSIONS", "MAX_DB_ID", "MAX_TEXT", "MAX_LIMIT", "MAX_UNITS", "MIN_YEAR", "MAX_YEAR",
           "NO_CONTROL", "GEMEENTE_PATTERN", "INDICATOR_PATTERN", "Text", "IndicatorId",
           "GemeenteCode", "YearQuery", "Limit", "Offset", "DbId", "IdPath", "IndicatorPath",
           "YearPath", "Fmt", "Formaat", "message", "messages", "summary"]
