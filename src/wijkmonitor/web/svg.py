"""Server-side inline SVG: small trend charts and maps (no JavaScript, no tiles, no CDN).

Maps are drawn in RD New (EPSG:28992, metres; y flipped) from the polygons of
:mod:`wijkmonitor.geometries`. Each polygon is a ``<path>`` with a ``<title>`` (name and
value), the map has a ``<title>``/``<desc>``, and every map and chart on the site has a data
table next to it (the table is the accessible alternative; the SVG is marked as an image).
"""

from __future__ import annotations

import functools
import html
import math
from dataclasses import dataclass

import numpy as np
import shapely

from .. import geometries
from .format import DASH, is_number, nl_number, nl_value

#: Sequential palette (ColorBrewer YlGnBu, 5 classes); dark enough against white at the top.
PALETTE = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"]
MISSING_FILL = "url(#geen-cijfer)"
HIGHLIGHT = "#c4002f"
#: Simplification tolerance (m) for the drawn maps per level (national gemeente maps coarser).
DRAW_TOLERANCE = {"gemeente": 150.0, "wijk": 15.0, "buurt": 8.0}


def esc(text) -> str:
    return html.escape(str(text), quote=True)


# ---------------------------------------------------------------------------------------
# Geometry -> SVG paths
# ---------------------------------------------------------------------------------------

def layer_year(level: str, year: int) -> int | None:
    """The polygon year to draw ``level`` for data of ``year`` (nearest available)."""
    years = [y for y, lv in geometries.available() if lv == level]
    if not years:
        return None
    return min(years, key=lambda y: (abs(y - int(year)), -y))


@dataclass(frozen=True)
class Shape:
    code: str
    name: str
    d: str
    bounds: tuple[float, float, float, float]  # minx, miny, maxx, maxy (RD, y up)


def _ring_d(coords: np.ndarray) -> str:
    pts = np.round(coords[:, :2]).astype(np.int64)
    # drop consecutive duplicates after rounding
    keep = np.ones(len(pts), dtype=bool)
    keep[1:] = np.any(pts[1:] != pts[:-1], axis=1)
    pts = pts[keep]
    if len(pts) < 3:
        return ""
    parts = [f"M{pts[0, 0]} {-pts[0, 1]}"]
    parts += [f"L{x} {-y}" for x, y in pts[1:-1]]
    return "".join(parts) + "Z"


def _geom_d(geom) -> str:
    if geom is None or geom.is_empty:
        return ""
    polys = shapely.get_parts(geom)
    out = []
    for p in polys:
        out.append(_ring_d(np.asarray(p.exterior.coords)))
        out.extend(_ring_d(np.asarray(r.coords)) for r in p.interiors)
    return "".join(out)


@functools.lru_cache(maxsize=16)
def layer_shapes(year: int, level: str) -> dict[str, Shape]:
    """All polygons of one ``(year, level)`` as SVG path data (cached per process)."""
    return shapes_of(geometries.load(year, level), level)


def shapes_of(frame, level: str) -> dict[str, Shape]:
    """SVG path data of a polygon frame (``code, name, geometry`` in RD New)."""
    tol = DRAW_TOLERANCE.get(level, 10.0)
    geoms = shapely.simplify(frame.geometry.to_numpy(), tol, preserve_topology=True)
    out = {}
    for code, name, g in zip(frame["code"], frame["name"], geoms):
        d = _geom_d(g)
        if d:
            out[code] = Shape(code, name or code, d, tuple(float(b) for b in g.bounds))
    return out


def _viewbox(shapes: list[Shape], pad: float = 0.02) -> tuple[float, float, float, float]:
    minx = min(s.bounds[0] for s in shapes); miny = min(s.bounds[1] for s in shapes)
    maxx = max(s.bounds[2] for s in shapes); maxy = max(s.bounds[3] for s in shapes)
    w, h = maxx - minx, maxy - miny
    px, py = w * pad + 1, h * pad + 1
    return (minx - px, -(maxy + py), w + 2 * px, h + 2 * py)


# ---------------------------------------------------------------------------------------
# Choropleth
# ---------------------------------------------------------------------------------------

def class_breaks(values, k: int = 5) -> list[float]:
    """Quantile class breaks (``k+1`` edges, unique) of the shown values."""
    vals = np.asarray([float(v) for v in values if is_number(v)])
    if len(vals) == 0:
        return []
    edges = np.unique(np.quantile(vals, np.linspace(0, 1, k + 1)))
    return [float(e) for e in edges]


def class_of(value, edges: list[float]) -> int | None:
    if not is_number(value) or len(edges) < 2:
        return None if not is_number(value) else 0
    i = int(np.searchsorted(edges, float(value), side="right")) - 1
    return min(max(i, 0), len(edges) - 2)


def classify(items: list[dict], *, decimals: int, classes=None) -> dict:
    """Colour classes of ``items`` (dicts with ``code`` and ``value``) for a map and its legend.

    ``classes``: the indicator's fixed classes (objects with ``value``, ``label``, ``colour``,
    e.g. Leefbaarometer 1-9): a value falls in the class whose ``value`` it rounds to (half
    up; below the first or above the last class: that end class). Without
    them: quantile classes of the shown values (:func:`class_breaks`) on :data:`PALETTE`.

    Returns ``fill`` (code -> colour, ``None`` without a shown value or class), ``legend``
    (``(colour or None, label, count)``; ``None`` colour: no shown figure), ``edges`` (quantile
    edges, empty for fixed classes) and ``fixed`` (bool).
    """
    fill: dict[str, str | None] = {}
    legend: list[tuple[str | None, str, int]] = []
    n_missing = 0
    if classes:
        by_value = {int(c.value): c for c in classes}
        counts = {int(c.value): 0 for c in classes}
        lo, hi = min(by_value), max(by_value)
        for it in items:
            v = it.get("value")
            # the class a value rounds to (half up); outside the classes: the nearest end class
            c = by_value.get(min(max(math.floor(float(v) + 0.5), lo), hi)) if is_number(v) else None
            fill[it["code"]] = c.colour if c is not None else None
            if c is None:
                n_missing += 1
            else:
                counts[int(c.value)] += 1
        legend = [(c.colour, f"{c.value} {c.label}", counts[int(c.value)]) for c in classes]
        edges: list[float] = []
    else:
        edges = class_breaks([i.get("value") for i in items])
        n_classes = max(len(edges) - 1, 1)
        palette = PALETTE if n_classes >= 5 else PALETTE[-n_classes:] if n_classes > 1 else [PALETTE[2]]
        counts_q = [0] * n_classes
        for it in items:
            c = class_of(it.get("value"), edges)
            fill[it["code"]] = None if c is None else palette[c]
            if c is None:
                n_missing += 1
            else:
                counts_q[c] += 1
        for i in range(len(edges) - 1):
            lo, hi = nl_number(edges[i], decimals), nl_number(edges[i + 1], decimals)
            legend.append((palette[i], f"{lo} tot en met {hi}" if i == len(edges) - 2 else f"{lo} tot {hi}",
                           counts_q[i]))
        if len(edges) == 1:  # every shown value is the same
            legend.append((palette[0], f"{nl_number(edges[0], decimals)}", counts_q[0]))
    if n_missing:
        legend.append((None, "geen getoond cijfer (reden in de tabel)", n_missing))
    return dict(fill=fill, legend=legend, edges=edges, fixed=bool(classes))


def choropleth(items: list[dict], *, year: int, level: str, title: str, unit: str, decimals: int,
               highlight: set[str] | None = None, map_id: str = "kaart", classes=None,
               shapes: dict[str, Shape] | None = None, shapes_year: int | None = None) -> dict:
    """A choropleth map of ``items`` (dicts with ``code, name, value, reason``).

    ``classes``: fixed classes (see :func:`classify`). ``shapes``/``shapes_year``: polygons to
    draw instead of the nearest CBS layer (e.g. :func:`shapes_of` a city's own layer).

    Returns ``svg`` (markup), ``legend`` (list of ``(colour, label, count)``), ``layer_year``,
    ``not_on_map`` (codes without a polygon in that layer year), ``edges`` and ``fixed``.
    """
    ly = shapes_year if shapes is not None else layer_year(level, year)
    if ly is None:
        return dict(svg="", legend=[], layer_year=None, not_on_map=[i["code"] for i in items], edges=[],
                    fixed=bool(classes))
    if shapes is None:
        shapes = layer_shapes(ly, level)
    cls = classify(items, decimals=decimals, classes=classes)
    legend, edges = cls["legend"], cls["edges"]
    drawn, missing = [], []
    for it in items:
        s = shapes.get(it["code"])
        if s is None:
            missing.append(it["code"])
            continue
        colour = cls["fill"].get(it["code"])
        fill = MISSING_FILL if colour is None else colour
        label = (f"{it['name']} ({it['code']}): "
                 + (nl_value(it["value"], decimals, unit) if colour is not None
                    else f"{DASH} {it.get('reason', '')}"))
        stroke = HIGHLIGHT if highlight and it["code"] in highlight else "#555"
        width = 3 if highlight and it["code"] in highlight else 0.6
        drawn.append((s, fill, label, stroke, width))
    if not drawn:
        return dict(svg="", legend=legend, layer_year=ly, not_on_map=missing, edges=edges, fixed=cls["fixed"])
    vb = _viewbox([d[0] for d in drawn])
    sw = vb[2] / 800  # stroke scale: 1 unit = 1 px at 800 px width
    paths = "".join(
        f'<path d="{s.d}" fill="{fill}" stroke="{stroke}" stroke-width="{w * sw:.1f}" '
        f'fill-rule="evenodd"><title>{esc(label)}</title></path>'
        for s, fill, label, stroke, w in drawn)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="wm-map" viewBox="{vb[0]:.0f} {vb[1]:.0f} '
           f'{vb[2]:.0f} {vb[3]:.0f}" role="img" aria-labelledby="{map_id}-t {map_id}-d" '
           f'preserveAspectRatio="xMidYMid meet">'
           f'<title id="{map_id}-t">{esc(title)}</title>'
           f'<desc id="{map_id}-d">Kaart met {len(drawn)} gebieden ingekleurd naar waarde; '
           f'dezelfde cijfers staan in de tabel bij de kaart.</desc>'
           + _hatch(sw) + paths + "</svg>")
    return dict(svg=svg, legend=legend, layer_year=ly, not_on_map=missing, edges=edges, fixed=cls["fixed"])


def _hatch(sw: float) -> str:
    size = 8 * sw
    return (f'<defs><pattern id="geen-cijfer" patternUnits="userSpaceOnUse" width="{size:.0f}" '
            f'height="{size:.0f}" patternTransform="rotate(45)"><rect width="{size:.0f}" '
            f'height="{size:.0f}" fill="#f2f2f2"/><line x1="0" y1="0" x2="0" y2="{size:.0f}" '
            f'stroke="#6b6b6b" stroke-width="{2 * sw:.1f}"/></pattern></defs>')


def locator(codes: list[str], *, context_level: str, context_year: int, context_prefix: str | None,
            title: str, map_id: str = "ligging", shapes: dict[str, Shape] | None = None,
            shapes_year: int | None = None) -> dict:
    """A map of an area's surroundings with the area's parts outlined and filled.

    ``context_prefix``: draw only codes of the context layer starting with it (e.g. the
    gemeente number ``'0344'`` for its wijken); ``None`` draws the whole layer.
    """
    ly = shapes_year if shapes is not None else layer_year(context_level, context_year)
    if ly is None:
        return dict(svg="", matched=0, total=len(codes), layer_year=None)
    if shapes is None:
        shapes = layer_shapes(ly, context_level)
    if context_prefix:
        ctx = [s for c, s in shapes.items() if c[2:6] == context_prefix]
    else:
        ctx = list(shapes.values())
    wanted = set(codes)
    hit = [s for s in ctx if s.code in wanted]
    if not ctx:
        return dict(svg="", matched=0, total=len(codes), layer_year=ly)
    vb = _viewbox(ctx)
    sw = vb[2] / 600
    body = "".join(
        f'<path d="{s.d}" fill="{"#c4002f" if s.code in wanted else "#e8e8e8"}" '
        f'stroke="{"#5c0016" if s.code in wanted else "#777"}" stroke-width="{(1.5 if s.code in wanted else 0.6) * sw:.1f}" '
        f'fill-rule="evenodd"><title>{esc(s.name)} ({esc(s.code)})'
        f'{" — deel van dit gebied" if s.code in wanted else ""}</title></path>'
        for s in sorted(ctx, key=lambda s: s.code in wanted))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="wm-map wm-map--small" viewBox="{vb[0]:.0f} '
           f'{vb[1]:.0f} {vb[2]:.0f} {vb[3]:.0f}" role="img" aria-labelledby="{map_id}-t {map_id}-d">'
           f'<title id="{map_id}-t">{esc(title)}</title>'
           f'<desc id="{map_id}-d">Rood: de {len(hit)} delen van het gebied; grijs: de omgeving '
           f'(indeling {ly}).</desc>{body}</svg>')
    shapes_shown = [dict(code=s.code, name=s.name, part_of_area=s.code in wanted) for s in ctx]
    return dict(svg=svg, matched=len(hit), total=len(codes), layer_year=ly, shapes=shapes_shown)


# ---------------------------------------------------------------------------------------
# Trend chart
# ---------------------------------------------------------------------------------------

SERIES_STYLES = [("#c4002f", ""), ("#1f4e99", "6 3"), ("#5b5b5b", "2 3"), ("#2d7a3a", "8 3 2 3")]


def nice_ticks(vmin: float, vmax: float, decimals: int, *, min_span: float | None = None,
               max_ticks: int = 5) -> list[float]:
    """Y-axis ticks at a round step (1, 2, 2,5 or 5 times a power of ten) that cover
    ``vmin..vmax``, so that no two tick labels with ``decimals`` decimals are the same.

    ``min_span``: the axis spans at least this much (default: 10 % of the largest absolute
    value), so that a wobble of one point does not fill the whole chart. The axis starts at 0
    where the values are positive and the smallest is below half the largest.

    >>> nice_ticks(34.2, 34.9, 0)
    [32.0, 34.0, 36.0, 38.0]
    >>> nice_ticks(62.1, 74.1, 1)
    [60.0, 65.0, 70.0, 75.0]
    """
    if vmin >= 0 and vmin < 0.5 * vmax:
        vmin = 0.0
    span = vmax - vmin
    need = min_span if min_span is not None else 0.1 * max(abs(vmin), abs(vmax), 1e-9)
    need = max(need, 2 * 10.0 ** (-decimals))
    if span < need:
        mid = (vmax + vmin) / 2
        vmin, vmax = mid - need / 2, mid + need / 2
        if vmin < 0 <= min(vmin + need / 2, vmax) and mid >= 0:
            vmin, vmax = 0.0, need
        span = need
    smallest = 10.0 ** (-decimals)  # labels must differ at this resolution
    step = None
    for exp in range(-decimals, 12):
        for m in (1, 2, 2.5, 5):
            st = m * 10.0 ** exp
            if st < smallest - 1e-12 or (m == 2.5 and exp <= -decimals):
                continue  # 2,5 needs one decimal more than the labels show
            if math.ceil(vmax / st - 1e-9) - math.floor(vmin / st + 1e-9) + 1 <= max_ticks:
                step = st
                break
        if step:
            break
    step = step or 10.0 ** math.ceil(math.log10(max(span, smallest)))
    first = math.floor(vmin / step + 1e-9)
    last = math.ceil(vmax / step - 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def trend_chart(series: list[tuple[str, dict[int, float]]], *, title: str, unit: str,
                decimals: int, chart_id: str, width: int = 340, height: int = 170,
                band: dict[int, tuple[float, float]] | None = None,
                breaks: list[tuple[int, int]] = ()) -> str:
    """A small line chart of one indicator for a few units (area first, then references).

    ``series``: ``(label, {year: value})`` with shown values only. ``band``: the 95 % interval
    ``{year: (lower, upper)}`` of the first series, drawn as a light band behind its line. The
    chart is an image with a title and description; the table next to it carries the numbers.
    ``breaks``: pairs of years between which a series changes publication: a dashed vertical
    line marked "bron" (:mod:`wijkmonitor.comparability`), and the description says so. The y
    axis has round steps (:func:`nice_ticks`).
    """
    band = {y: b for y, b in (band or {}).items() if is_number(b[0]) and is_number(b[1])}
    pts = [(y, v) for _, s in series for y, v in s.items() if is_number(v)]
    pts += [(y, v) for y, b in band.items() for v in b] if pts else []
    if not pts:
        return ""
    years = sorted({y for y, _ in pts})
    vmin = min(v for _, v in pts); vmax = max(v for _, v in pts)
    ticks_y = nice_ticks(vmin, vmax, decimals)
    lo, hi = ticks_y[0], ticks_y[-1]
    ml, mr, mt, mb = 52, 22, 10, 26
    pw, ph = width - ml - mr, height - mt - mb
    y0, y1 = years[0], years[-1]

    def sx(y):
        return ml + (pw / 2 if y0 == y1 else (y - y0) / (y1 - y0) * pw)

    def sy(v):
        return mt + ph - (v - lo) / (hi - lo or 1) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="wm-chart" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d">',
           f'<title id="{chart_id}-t">{esc(title)}</title>',
           f'<desc id="{chart_id}-d">Lijndiagram {y0}–{y1}'
           + ("; de band om de eerste lijn is het 95%-interval" if band else "")
           + '; de cijfers staan in de tabel ernaast.'
           + "".join(f" Tussen {a} en {b} verandert de bron van de cijfers (gestippelde lijn)." for a, b in breaks)
           + '</desc>',
           f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="#fff" stroke="#767676" stroke-width="1"/>']
    if band:
        by = sorted(band)
        color = SERIES_STYLES[0][0]
        if len(by) > 1:
            poly = [f"{sx(y):.1f},{sy(band[y][1]):.1f}" for y in by] + \
                   [f"{sx(y):.1f},{sy(band[y][0]):.1f}" for y in reversed(by)]
            out.append(f'<polygon points="{" ".join(poly)}" fill="{color}" fill-opacity="0.15" stroke="none"/>')
        for y in by:  # whiskers, also where a single year has an interval
            out.append(f'<line x1="{sx(y):.1f}" x2="{sx(y):.1f}" y1="{sy(band[y][0]):.1f}" '
                       f'y2="{sy(band[y][1]):.1f}" stroke="{color}" stroke-opacity="0.6" stroke-width="1"/>')
    for a, b in breaks:
        if y0 <= a and b <= y1:
            xx = (sx(a) + sx(b)) / 2
            out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{mt}" y2="{mt + ph}" stroke="#8a1c1c" '
                       f'stroke-width="1.5" stroke-dasharray="4 3"/>')
            out.append(f'<text x="{xx + 3:.1f}" y="{mt + 11}" font-size="10" fill="#8a1c1c">bron</text>')
    for v in ticks_y:
        yy = sy(v)
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#d0d0d0"/>')
        out.append(f'<text x="{ml - 4}" y="{yy + 4:.1f}" text-anchor="end" font-size="11" '
                   f'fill="#333">{esc(nl_number(v, decimals))}</text>')
    ticks = years if len(years) <= 6 else [years[0], years[len(years) // 2], years[-1]]
    for y in ticks:
        out.append(f'<text x="{sx(y):.1f}" y="{height - 8}" text-anchor="middle" font-size="11" '
                   f'fill="#333">{y}</text>')
    for i, (label, s) in enumerate(series):
        color, dash = SERIES_STYLES[i % len(SERIES_STYLES)]
        pts_i = sorted((y, v) for y, v in s.items() if is_number(v))
        if not pts_i:
            continue
        if len(pts_i) > 1:
            d = " ".join(f"{sx(y):.1f},{sy(v):.1f}" for y, v in pts_i)
            out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2" '
                       f'stroke-dasharray="{dash}"/>')
        for y, v in pts_i:
            out.append(f'<circle cx="{sx(y):.1f}" cy="{sy(v):.1f}" r="3" fill="{color}">'
                       f'<title>{esc(label)} {y}: {esc(nl_value(v, decimals, unit))}</title></circle>')
    out.append("</svg>")
    return "".join(out)


def legend_swatch(index: int) -> tuple[str, str]:
    """Colour and dash pattern of series ``index`` (for the chart legend in HTML)."""
    return SERIES_STYLES[index % len(SERIES_STYLES)]


__all__ = ["classify", "shapes_of", "choropleth", "locator", "trend_chart", "class_breaks", "layer_year", "layer_shapes",
           "legend_swatch"]
