"""The Wijkindex section of an area page: the index with its decile, ranks and 90 % rank
intervals, its change since the base year, and the profile of the domain scores as an
accessible SVG bar chart with the same numbers in a table beside it (the table is the
fallback: a screen reader and a text browser read the table)."""

from __future__ import annotations

from ..nlformat import nl_number
from ..wijkindex.select import rank_text, unit_profile
from .svg import esc
from .wijkindex_map import DECILE_COLOURS

#: Bar chart geometry (px in the viewBox; the SVG scales to its container).
WIDTH, LABEL_W, ROW_H, TOP, RIGHT = 640, 150, 30, 28, 70


def section(ws, u) -> dict | None:
    """Context of ``_wijkindex_profiel.html`` for unit ``u`` (None: no Wijkindex rows)."""
    if u.kind not in ("area", "gemeente", "wijk", "buurt"):
        return None
    # the same whatever the page's years: kept per unit and store version
    return ws.lru("wijkindex_profile", 256).get_or_put(u.id, lambda: _section(ws, u))


def _section(ws, u) -> dict | None:
    try:
        prof = unit_profile(ws.con(), u.id)
    except Exception:  # noqa: BLE001 - an index file that fails to load must not break the page
        return None
    if prof is None:
        return None
    prof["svg"] = bar_chart(prof["domains"], title=f"Domeinprofiel {prof['name']} van {u.name}, {prof['year']}")
    prof["rank_nl_text"] = rank_text(prof["rank_nl"], prof["rank_nl_interval"])
    prof["rank_gemeente_text"] = rank_text(prof["rank_gemeente"], prof["rank_gemeente_interval"])
    prof["rank_programme_text"] = rank_text(prof["rank_programme"], prof["rank_programme_interval"])
    # the approximated inputs the scores used, once each, for the legend of the 'b' mark
    texts = [prof.get("approximation")] + [d.get("approximation") for d in prof["domains"]]
    prof["approximations"] = list(dict.fromkeys(t for t in texts if t))
    return prof


def bar_chart(domains: list[dict], *, title: str) -> str:
    """Horizontal bars 0-100 per domain, coloured by the domain's decile; a domain without a
    score shows ``geen score``. ``role="img"`` with a title and a description that lists the
    scores (the table beside it has them too)."""
    plot_w = WIDTH - LABEL_W - RIGHT
    height = TOP + ROW_H * len(domains) + 8
    parts = []
    for t in (0, 25, 50, 75, 100):  # axis
        x = LABEL_W + plot_w * t / 100
        parts.append(f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{height - 8}" stroke="#ccc" stroke-width="1"/>'
                     f'<text x="{x:.1f}" y="{TOP - 10}" font-size="12" text-anchor="middle" fill="#1a1a1a">{t}</text>')
    desc = []
    for i, d in enumerate(domains):
        y = TOP + i * ROW_H
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + ROW_H / 2 + 4:.1f}" font-size="13" text-anchor="end" '
                     f'fill="#1a1a1a">{esc(d["naam"])}</text>')
        if d["score"] is None:
            parts.append(f'<text x="{LABEL_W + 4}" y="{y + ROW_H / 2 + 4:.1f}" font-size="12" fill="#1a1a1a">'
                         f'geen score</text>')
            desc.append(f'{d["naam"]}: geen score')
            continue
        w = max(plot_w * min(max(d["score"], 0.0), 100.0) / 100, 1.0)
        colour = DECILE_COLOURS[d["decile"] - 1] if d["decile"] else "#888"
        text = f'{nl_number(d["score"], 0)}' + (f' (deciel {d["decile"]})' if d["decile"] else "")
        parts.append(f'<rect x="{LABEL_W}" y="{y + 5}" width="{w:.1f}" height="{ROW_H - 10}" fill="{colour}" '
                     f'stroke="#333" stroke-width="0.5"/>'
                     f'<text x="{LABEL_W + w + 4:.1f}" y="{y + ROW_H / 2 + 4:.1f}" font-size="12" fill="#1a1a1a">'
                     f'{esc(text)}</text>')
        desc.append(f'{d["naam"]}: {text}')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="wm-wijkindex-profiel" viewBox="0 0 {WIDTH} {height}" '
            f'role="img" aria-labelledby="wi-profiel-t wi-profiel-d" width="100%">'
            f'<title id="wi-profiel-t">{esc(title)}</title>'
            f'<desc id="wi-profiel-d">Domeinscores 0-100, hoger is meer achterstand: {esc("; ".join(desc))}.</desc>'
            + "".join(parts) + "</svg>")
