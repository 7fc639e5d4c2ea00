"""Dutch notation for the website: ``78,4 %``, ``17.942.942``, ``—`` for what is not shown.

The notation itself is :mod:`wijkmonitor.nlformat` (shared with the report and the CLI); these
wrappers add the page convention that a value that is not shown becomes ``—`` (the page says
why next to it). Downloads and the API carry the raw numbers (dot decimals), never these strings.
"""

from __future__ import annotations

from wijkmonitor import nlformat
from wijkmonitor.nlformat import NBSP, is_number, unit_suffix  # noqa: F401  (re-exported)

DASH = "—"


def nl_number(x, decimals: int = 1) -> str:
    """``1234567.891 -> '1.234.567,9'``; not a number -> ``'—'``."""
    return nlformat.nl_number(x, decimals) if is_number(x) else DASH


def nl_value(x, decimals: int = 1, unit: str | None = None) -> str:
    """A value with its unit (``78,4 %``) or ``—`` when there is no shown value."""
    return nlformat.nl_value(x, decimals, unit) if is_number(x) else DASH


def nl_gap(x, decimals: int = 1, unit: str | None = None) -> str:
    """A difference with an explicit sign (``+3,2``, ``−1,0``), in procentpunt for percentages."""
    return nlformat.nl_difference(x, decimals, unit) if is_number(x) else DASH
