"""Dutch notation for numbers, units and lists: one place for the CLI, the website and the report.

``78,4 %``, ``17.942.942``, ``+3,2 procentpunt``. Because every output calls these functions,
a table, its chart, the map legend, the narrative and the CLI show exactly the same string for
the same stored value. Machine-readable outputs (JSON, CSV, Parquet, the API) carry the raw
numbers, never these strings.

Examples
--------
>>> nl_number(1234567.891)
'1.234.567,9'
>>> nl_value(78.4, 1, "%")
'78,4\\xa0%'
>>> nl_difference(-0.04, 1, "%")
'0,0\\xa0procentpunt'
>>> nl_join(["Utrecht", "Rotterdam", "Den Haag"])
'Utrecht, Rotterdam en Den Haag'
"""

from __future__ import annotations

import math
from typing import Iterable

NBSP = "\u00a0"
MINUS = "\u2212"


def is_number(x) -> bool:
    """True for a finite int or float (None, NaN and pandas NA are not numbers)."""
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def nl_number(x: float, decimals: int = 1) -> str:
    """A number with Dutch separators: ``1234567.891 -> '1.234.567,9'``.

    ``-0,0`` becomes ``0,0``. Raises ``ValueError`` for anything that is not a finite number:
    callers decide how a missing value is shown (and say why).
    """
    if not is_number(x):
        raise ValueError(f"geen getal: {x!r}")
    text = f"{float(x):,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        text = text[1:]
    return text


def unit_suffix(unit: str | None) -> str:
    """How a unit follows a number (``'%' -> ' %'``; counts, classes and scores get nothing)."""
    unit = (unit or "").strip()
    if unit in ("", "aantal", "score") or unit.startswith("klasse"):
        return ""
    if unit == "%":
        return NBSP + "%"
    if unit.startswith("x "):
        return NBSP + "(" + unit.replace("x ", "×" + NBSP, 1) + ")"
    return NBSP + unit


def nl_value(x: float, decimals: int = 1, unit: str | None = "") -> str:
    """A value with its unit: ``'78,4 %'``, ``'53,5 per 1 000 inwoners'``."""
    return nl_number(x, decimals) + unit_suffix(unit)


def difference_unit(unit: str | None) -> str:
    """Unit of a difference of two values (percentages differ in procentpunten)."""
    unit = (unit or "").strip()
    return "procentpunt" if unit == "%" else unit


def nl_difference(x: float, decimals: int = 1, unit: str | None = "") -> str:
    """A signed difference: ``'+3,2 procentpunt'``, ``'−0,4 per 1 000 inwoners'``.

    A difference that rounds to zero has no sign.
    """
    text = nl_number(abs(float(x)), decimals)
    sign = "" if text.strip("0,.") == "" else ("+" if float(x) > 0 else MINUS)
    du = difference_unit(unit)
    return sign + text + ("" if du in ("", "aantal", "score") or du.startswith("klasse")
                          else unit_suffix(du))


def nl_join(items: Iterable[str], last: str = "en") -> str:
    """``['a', 'b', 'c'] -> 'a, b en c'``."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def count_word(n: int) -> str:
    """A count in running text: 'één' for one (as the seed report writes), digits otherwise."""
    return "één" if int(n) == 1 else str(int(n))


def plural(n: int, singular: str, plural_form: str) -> str:
    """``'één gebied'`` / ``'3 gebieden'``."""
    return f"{count_word(n)} {singular if int(n) == 1 else plural_form}"
