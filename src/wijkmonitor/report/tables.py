"""Table cells of the report: a shown value in Dutch notation, or the reason it is not shown."""

from __future__ import annotations

from dataclasses import dataclass

from ..aggregate import NOT_COMPARABLE_REASON
from .format import is_number, nl_difference, nl_number

#: Short cell texts for values that are not shown (the legend under each table explains them).
STATUS_SHORT = {
    "geheim": "geheim",
    "te weinig waarnemingen": "te weinig",
    "niet beschikbaar": "–",
    "niet vergelijkbaar": "niet vergel.",
    "niet optelbaar": "niet optelb.",
}
LEGEND = ("Een cijfer dat niet getoond wordt, staat er met de reden: ‘–’ niet beschikbaar (de bron "
          "publiceert het niet), ‘geheim’ (de bron heeft een onderdeel geheimgehouden), ‘te weinig’ "
          "(de basis ligt onder de minimumgrens), ‘niet optelb.’ (mediaan, score of klasse is niet over "
          "buurten op te tellen), ‘niet vergel.’ (" + NOT_COMPARABLE_REASON + ").")


@dataclass(frozen=True)
class Cell:
    text: str
    shown: bool  # True: a number from the store; False: a status word
    title: str = ""
    interval: str = ""  # the value's 95 % interval, compact: "(69,1–70,7)" (issue 15)

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.text


def value_cell(value, status: str | None, decimals: int, interval=None) -> Cell:
    """A value cell: the number when ``status`` is ok and the value finite, else the status.
    ``interval``: ``(lower, upper)`` of the value, shown compactly under it when both are
    numbers."""
    if (status in (None, "ok")) and is_number(value):
        lo, hi = interval if interval is not None else (None, None)
        iv = f"({nl_number(float(lo), decimals)}–{nl_number(float(hi), decimals)})" \
            if is_number(lo) and is_number(hi) else ""
        return Cell(nl_number(float(value), decimals), True, interval=iv)
    status = status if status and status != "ok" else "niet beschikbaar"
    return Cell(STATUS_SHORT.get(status, status), False, status)


def diff_cell(value, decimals: int, unit: str) -> Cell:
    """A signed difference cell (gap to the reference)."""
    if is_number(value):
        return Cell(nl_difference(float(value), decimals, "").strip(), True)
    return Cell("–", False, "niet te berekenen")


def unit_label(unit: str) -> str:
    """A unit as a table shows it: ``'x 1 000 euro' -> '× 1 000 euro'``, ``'klasse 1-9' ->
    'klasse 1–9'``."""
    unit = (unit or "").strip()
    if unit.startswith("x "):
        unit = "×\u00a0" + unit[2:]
    return unit.replace("1-9", "1–9").replace("1 000", "1\u00a0000")
