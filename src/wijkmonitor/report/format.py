"""Dutch number formatting for the report (``78,4 %``, ``17.942.942``, ``3,2 procentpunt``).

One place decides how a number looks, so that the narrative, the tables, the charts and their
alt texts show exactly the same string for the same stored value.
"""

from __future__ import annotations

import math
from typing import Iterable

NBSP = "\u00a0"


def is_number(x) -> bool:
    """True for a finite int/float (NaN, None and pandas NA are not numbers)."""
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def nl_number(x: float, decimals: int = 1) -> str:
    """``1234567.891 -> '1.234.567,9'`` (Dutch separators; ``-0,0`` becomes ``0,0``)."""
    if not is_number(x):
        raise ValueError(f"geen getal: {x!r}")
    text = f"{float(x):,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        text = text[1:]
    return text


def unit_suffix(unit: str) -> str:
    """How a unit follows a number in running text (``'%' -> ' %'``, ``'aantal' -> ''``)."""
    unit = (unit or "").strip()
    if unit in ("", "aantal"):
        return ""
    if unit == "%":
        return NBSP + "%"
    if unit.startswith("x "):
        return NBSP + "(" + unit.replace("x ", "×" + NBSP, 1) + ")"
    if unit.startswith("klasse"):
        return ""
    if unit == "score":
        return ""
    return NBSP + unit


def nl_value(x: float, decimals: int, unit: str = "") -> str:
    """A value with its unit for running text: ``'78,4 %'``, ``'53,5 per 1 000 inwoners'``."""
    return nl_number(x, decimals) + unit_suffix(unit)


def difference_unit(unit: str) -> str:
    """Unit of a difference of two values (percentages differ in procentpunten)."""
    unit = (unit or "").strip()
    return "procentpunt" if unit == "%" else unit


def nl_difference(x: float, decimals: int, unit: str) -> str:
    """A signed difference: ``'+3,2 procentpunt'``, ``'−0,4 per 1 000 inwoners'``."""
    text = nl_number(abs(x), decimals)
    sign = "" if text.strip("0,.") == "" else ("+" if x > 0 else "−")
    du = difference_unit(unit)
    return f"{sign}{text}" + ("" if du in ("", "aantal") else NBSP + du)


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
