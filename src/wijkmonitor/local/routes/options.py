"""The choices offered by the beheer forms: areas, indicators, actielijnen and themes (read
once from the declared areas and the catalogue; the forms still work without them)."""

from __future__ import annotations

import functools
import logging

from ..permissions import can_edit
from .rendering import PROGRAMME_LABELS

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def _all_areas() -> tuple:
    try:
        from wijkmonitor.areas import load_areas
        areas = load_areas()
    except Exception as exc:  # areas not available: the forms still accept CBS codes
        log.warning("areas unavailable for the forms: %s", exc)
        return ()
    out = []
    for a in areas.values():
        if getattr(a, "removed", False):
            continue
        label = f"{a.name} ({PROGRAMME_LABELS.get(a.programme, a.programme)})"
        out.append((a.id, label, a.gemeente))
    return tuple(sorted(out, key=lambda t: t[1].lower()))


def area_options(who, editable_only: bool = True) -> list[tuple[str, str]]:
    """``(id, label)`` of the areas ``who`` may edit (or all areas)."""
    return [(i, label) for i, label, gm in _all_areas()
            if not editable_only or can_edit(who, gm)]


@functools.lru_cache(maxsize=1)
def _indicators() -> tuple:
    try:
        from wijkmonitor.catalogue import load_catalogue
        cat = load_catalogue()
    except Exception as exc:
        log.warning("catalogue unavailable for the forms: %s", exc)
        return ()
    return tuple(sorted(((i.id, i.name, i.unit or "", i.theme) for i in cat.values()),
                        key=lambda t: (t[3], t[1].lower())))


def indicator_options() -> list[tuple[str, str]]:
    return [(i, f"{name} ({unit})" if unit else name) for i, name, unit, _ in _indicators()]


def indicator_names() -> dict[str, str]:
    return {i: name for i, name, _, _ in _indicators()}


def actielijn_options() -> list[tuple[str, str]]:
    try:
        from wijkmonitor.catalogue import ACTIELIJNEN
        return [(text, text) for _, text in sorted(ACTIELIJNEN.items())]
    except Exception:
        return []


def theme_options() -> list[str]:
    return sorted({t for *_, t in _indicators() if t})

