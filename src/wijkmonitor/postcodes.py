"""Postcode (PC4) to buurt, approximately: the KWB's *meest voorkomende postcode* per buurt.

CBS publishes for every buurt the four-digit postcode that most of its addresses have
(Kerncijfers wijken en buurten 2024, variable *Meest voorkomende postcode*). Read backwards it
tells in which buurten a PC4 is the main postcode: an approximation, because a PC4 usually
spans several buurten and a buurt can hold several PC4s, and a PC4 that is nowhere the most
common one is not found at all. Search says so next to every postcode result.

The values come from the "Woon ik veilig?" re-publication of KWB 2024
(``cbs-kwb-steden/woonikveilig-kwb2024-misdrijven/data/gemeente/GM*.json``, field
``demografie.postcode`` of each buurt; see that folder's README). Like the polygons
(:mod:`wijkmonitor.geometries`) this is a look-up table for finding places, not a statistic, so
it is read from the data folder when first needed and not stored as an observation.

>>> from wijkmonitor import postcodes
>>> postcodes.buurten_for("3533 AB")      # doctest: +SKIP
('3533', ['BU03440111', 'BU03440112', 'BU03440113', 'BU03440114'])
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from .config import data_dir

FOLDER = Path("cbs-kwb-steden") / "woonikveilig-kwb2024-misdrijven" / "data" / "gemeente"
#: The division year of the buurt codes and the KWB edition the postcodes come from.
YEAR = 2024
SOURCE = ("CBS, Kerncijfers wijken en buurten 2024 (85984NED), meest voorkomende postcode per buurt "
          "(via de herpublicatie 'Woon ik veilig?')")
#: '3533', '3533AB', '3533 ab' (a full Dutch postcode matches on its four digits).
POSTCODE = re.compile(r"^\s*([1-9]\d{3})\s*([A-Za-z]{2})?\s*$")


def parse(text: str) -> tuple[str, str | None] | None:
    """``(pc4, letters)`` when ``text`` is a PC4 or a full postcode, else None."""
    m = POSTCODE.match(text or "")
    if not m:
        return None
    return m.group(1), (m.group(2).upper() if m.group(2) else None)


@functools.lru_cache(maxsize=2)
def index(folder: Path | None = None) -> dict[str, tuple[str, ...]]:
    """``{pc4: (buurt codes of 2024 whose most common postcode it is, sorted)}``.

    Empty when the folder is missing (a site without the data simply finds no postcodes)."""
    folder = Path(folder) if folder is not None else data_dir() / FOLDER
    out: dict[str, set[str]] = {}
    for path in sorted(folder.glob("GM*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # one unreadable file must not take search down; the others still count
        for b in doc.get("buurten") or []:
            code = str(b.get("code") or "")
            pc = (b.get("demografie") or {}).get("postcode")
            if code.startswith("BU") and pc is not None and re.fullmatch(r"[1-9]\d{3}", str(pc)):
                out.setdefault(str(pc), set()).add(code)
    return {pc: tuple(sorted(codes)) for pc, codes in out.items()}


def buurten_for(text: str, folder: Path | None = None) -> tuple[str, list[str]] | None:
    """``(pc4, buurt codes)`` for a postcode query (codes empty when no buurt has that PC4
    as its most common postcode); None when ``text`` is not a postcode."""
    parsed = parse(text)
    if parsed is None:
        return None
    pc4, _ = parsed
    return pc4, list(index(folder).get(pc4, ()))
