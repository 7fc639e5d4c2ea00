"""How the pages say things: plain-Dutch explanations next to the numbers, breadcrumbs, dates,
and the house style (theme) of this installation.

Nothing here computes a statistic: the sentences are built from the values, years and classes
that :mod:`wijkmonitor.analysis` and the store already hold, so that a reader sees *why* a
class is what it is, or why there is none.

House style
-----------
A gemeente applies its own house style without touching the code, with two environment
variables read on every request:

``WIJKMONITOR_THEME_CSS``
    Path of a CSS file that is served as ``/huisstijl.css`` and loaded after the site's own
    styles. It can set the NL Design System tokens (``--utrecht-*``, ``--basis-*``) and the
    site's own ``--wm-*`` custom properties, or be a gemeente's complete NL Design System theme
    (for example the ``theme.css`` of its design-tokens npm package).
``WIJKMONITOR_THEME_CLASS``
    Extra class(es) on ``<body>``; NL Design System themes scope their tokens to a class such
    as ``utrecht-theme`` or ``denhaag-theme``.

Without them the site uses ``static/theme.css`` (empty: the default look).
"""

from __future__ import annotations

import math
import os
from datetime import datetime
from pathlib import Path

from .format import is_number, nl_gap, nl_number

MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december"]

#: Order of the themes on every page (the NPLV actielijnen: wonen, leren, werken, inkomen,
#: gezondheid, veiligheid; population last as context).
THEME_ORDER = ["wonen & leefbaarheid", "leren", "werken", "inkomen & schulden", "gezondheid",
               "veiligheid", "bevolking"]

#: Short Dutch labels of the statuses a value can have (the full reasons are in data.REASONS).
STATUS_ORDER = ["geheim", "te weinig waarnemingen", "niet vergelijkbaar", "niet optelbaar",
                "niet beschikbaar"]


def nl_datetime(text) -> str:
    """``'2026-11-23T11:07:11'`` -> ``'23 november 2026, 11:07'`` (unparsable text unchanged)."""
    if not text:
        return "onbekend"
    try:
        d = datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}, {d:%H:%M}"


def nl_date(text) -> str:
    """``'2025-12-15'`` -> ``'15 december 2025'`` (unparsable text unchanged, empty -> ``'onbekend'``)."""
    if not text or (isinstance(text, float) and math.isnan(text)):
        return "onbekend"
    try:
        d = datetime.fromisoformat(str(text)[:10])
    except ValueError:
        return str(text)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def _year(x) -> int | None:
    try:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return None
        return int(x)
    except (TypeError, ValueError):
        return None


def why_no_class(gi: dict, area_name: str, ref_name: str) -> str:
    """Why a gap could not be classified (class ``te weinig waarnemingen``), in plain Dutch.

    ``gi``: one row of :func:`wijkmonitor.analysis.gaps` (or ``region_gaps``) as a dict.
    """
    by, ly = _year(gi.get("baseline_year")), _year(gi.get("latest_year"))
    if by is None or ly is None:
        return f"er is geen jaar met een cijfer voor zowel {area_name} als {ref_name}"
    missing = []
    for key, who, year in (("value_baseline", area_name, by), ("reference_baseline", ref_name, by),
                           ("value_latest", area_name, ly), ("reference_latest", ref_name, ly)):
        if not is_number(gi.get(key)):
            missing.append(f"{who} in {year}")
    if by == ly:
        if missing:
            return f"alleen {by} komt in aanmerking en daarin ontbreekt een cijfer ({', '.join(missing)})"
        return f"er zijn alleen cijfers voor {by}: een ontwikkeling is niet te meten"
    if missing:
        # the same name twice (area in both years) reads better folded
        return "geen cijfer voor " + _join(missing)
    return "de tolerantie is niet te bepalen (geen referentiewaarde in het basisjaar)"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " en " + parts[-1]


def gap_sentence(gi: dict, area_name: str, ref_name: str, unit: str, decimals: int) -> str:
    """``Verschil met Utrecht: −12,8 procentpunt in 2012, −11,6 procentpunt in 2020.``"""
    by, ly = _year(gi.get("baseline_year")), _year(gi.get("latest_year"))
    u = unit if unit == "%" else None
    parts = []
    for key, year in (("gap_baseline", by), ("gap_latest", ly)):
        if year is not None and is_number(gi.get(key)):
            parts.append(f"{nl_gap(gi[key], decimals, u)} in {year}")
    if by is not None and by == ly:
        parts = parts[:1]
    if not parts:
        return ""
    return f"Verschil van {area_name} met {ref_name}: {_join(parts)}."


def outcome_reason(sub, n_areas: int) -> str:
    """Why no area of a programme has a class for one indicator (all ``te weinig``).

    ``sub``: the gap rows of that indicator (one per area).
    """
    by, ly = _year(sub["baseline_year"].iloc[0]), _year(sub["latest_year"].iloc[0])
    if by is None or ly is None:
        return "geen enkel gebied heeft een cijfer voor deze indicator"
    n_b = int((sub["value_baseline"].notna() & sub["reference_baseline"].notna()).sum())
    n_l = int((sub["value_latest"].notna() & sub["reference_latest"].notna()).sum())
    if by == ly:
        return (f"basisjaar en laatste jaar vallen samen: er zijn alleen cijfers uit {by} "
                f"(voor {n_l} van de {n_areas} gebieden), dus geen ontwikkeling te meten")
    return (f"cijfers voor gebied én referentie: {n_b} van de {n_areas} gebieden in {by}, "
            f"{n_l} in {ly}; geen gebied heeft ze in beide jaren")


def status_counts(statuses) -> list[tuple[str, int]]:
    """``[(status, n), ...]`` of the statuses other than ``ok``, in a fixed order."""
    counts: dict[str, int] = {}
    for s in statuses:
        if s and s != "ok":
            counts[s] = counts.get(s, 0) + 1
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    return sorted(counts.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))


def plural(n: int, one: str, many: str) -> str:
    return f"{nl_number(n, 0)} {one if n == 1 else many}"


LEVEL_PLURAL = {"gemeente": "gemeenten", "wijk": "wijken", "buurt": "buurten", "land": "landen",
                "gebied": "focusgebieden en aandachtswijken"}


def house_style() -> dict:
    """The configured house style: ``css`` (a file exists) and ``body_class``."""
    path = os.environ.get("WIJKMONITOR_THEME_CSS")
    return dict(css=bool(path) and Path(path).is_file(),
                body_class=os.environ.get("WIJKMONITOR_THEME_CLASS", "").strip())


def house_style_path() -> Path | None:
    path = os.environ.get("WIJKMONITOR_THEME_CSS")
    return Path(path) if path and Path(path).is_file() else None


def ucfirst(text) -> str:
    """The first letter upper case, the rest untouched (Jinja's ``capitalize`` lower-cases the
    rest: "zowel Rotterdam-Zuid" became "zowel rotterdam-zuid")."""
    text = "" if text is None else str(text)
    return text[:1].upper() + text[1:]


def register(env) -> None:
    """Add the filters and globals of this module to a Jinja2 environment."""
    from .data import REASONS

    env.filters.update(nldatetime=nl_datetime, nldate=nl_date, ucfirst=ucfirst)
    env.globals.update(REASONS=REASONS, STATUS_ORDER=STATUS_ORDER, house_style=house_style,
                       plural=plural, LEVEL_PLURAL=LEVEL_PLURAL)
