"""Dutch notation for the website: ``78,4 %``, ``17.942.942``, ``—`` for what is not shown.

One helper decides how a number looks on every page, so that a table, its chart and the map
legend show the same string for the same stored value. Downloads and the API carry the raw
numbers (dot decimals), never these strings.
"""

from __future__ import annotations

import math

NBSP = "\u00a0"
DASH = "—"


def is_number(x) -> bool:
    """True for a finite int/float (None, NaN and pandas NA are not numbers)."""
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def nl_number(x, decimals: int = 1) -> str:
    """``1234567.891 -> '1.234.567,9'``; not a number -> ``'—'``; ``-0,0`` becomes ``0,0``."""
    if not is_number(x):
        return DASH
    text = f"{float(x):,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        text = text[1:]
    return text


def unit_suffix(unit: str | None) -> str:
    """What follows a number for a unit (``'%' -> ' %'``, ``'aantal' -> ''``)."""
    unit = (unit or "").strip()
    if unit in ("", "aantal"):
        return ""
    if unit == "%":
        return NBSP + "%"
    return NBSP + unit


def nl_value(x, decimals: int = 1, unit: str | None = None) -> str:
    """A value with its unit (``78,4 %``) or ``—`` when there is no shown value."""
    if not is_number(x):
        return DASH
    return nl_number(x, decimals) + unit_suffix(unit)


def nl_gap(x, decimals: int = 1, unit: str | None = None) -> str:
    """A difference with an explicit sign (``+3,2``, ``−1,0``) in procentpunt for percentages."""
    if not is_number(x):
        return DASH
    text = nl_number(abs(float(x)), decimals)
    sign = "" if text.strip("0,.") == "" else ("+" if float(x) > 0 else "−")
    unit = (unit or "").strip()
    suffix = NBSP + "procentpunt" if unit == "%" else unit_suffix(unit)
    return sign + text + suffix
