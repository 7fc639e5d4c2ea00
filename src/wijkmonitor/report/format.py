"""Dutch number formatting for the report (``78,4 %``, ``17.942.942``, ``3,2 procentpunt``).

The functions live in :mod:`wijkmonitor.nlformat` so that the report, the website and the CLI
show exactly the same string for the same stored value; this module re-exports them for the
report's templates and narrative.
"""

from __future__ import annotations

from wijkmonitor.nlformat import (  # noqa: F401  (re-exported)
    NBSP,
    count_word,
    difference_unit,
    is_number,
    nl_difference,
    nl_join,
    nl_number,
    nl_value,
    plural,
    unit_suffix,
)
