"""Charts of the report as deterministic SVG (matplotlib's SVG backend, no pyplot state).

Every chart is drawn from the same numbers as the table next to it and comes with an alt text
that states those numbers in Dutch notation. Output is byte-identical for the same input:
``svg.hashsalt`` is fixed, the SVG carries no date, and text stays text (``svg.fonttype``
``none``, DejaVu Sans). Colours are the Okabe-Ito palette (safe for colour-blind readers), and
series differ by line style and marker as well as by colour.
"""

from __future__ import annotations

import base64
import html
import textwrap
import contextlib
import io
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("svg", force=False)
import matplotlib.pyplot as _plt  # noqa: E402,F401  (registers the backends only)
from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..catalogue import Indicator  # noqa: E402
from .format import is_number, nl_join, nl_number, nl_value  # noqa: E402
from .tables import unit_label  # noqa: E402

OKABE_ITO = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000",
             "grey": "#999999"}
CLASS_COLOURS = {"kleiner": OKABE_ITO["blue"], "beter dan referentie": OKABE_ITO["sky"],
                 "gelijk": "#BBBBBB", "groter": OKABE_ITO["vermillion"], "onzeker": OKABE_ITO["yellow"],
                 "te weinig waarnemingen": "#EEEEEE", "bron veranderd": "#D9D0E8"}
INK = "#1A1A1A"
RC = {"svg.hashsalt": "wijkmonitor-report", "svg.fonttype": "none", "svg.image_inline": True,
      "font.family": "DejaVu Sans", "font.size": 8, "axes.edgecolor": "#666666",
      "axes.labelcolor": INK, "xtick.color": INK, "ytick.color": INK, "axes.linewidth": 0.6,
      "path.simplify": True}


@contextlib.contextmanager
def _style():
    with matplotlib.rc_context(RC):
        yield


def _svg(fig: Figure) -> str:
    FigureCanvasSVG(fig)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    # drop the XML prolog/doctype: the SVG is embedded
    return text[text.index("<svg"):]


def data_uri(svg: str) -> str:
    """``data:`` URI of an SVG for an ``<img src>`` (keeps the HTML one self-contained file)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _tick_text(x: float) -> str:
    """A tick label with as few decimals as the tick needs (``5`` not ``5,0``; ``0,25``)."""
    for d in (0, 1, 2, 3):
        if abs(round(x, d) - x) < 1e-9 * max(1.0, abs(x)):
            return nl_number(x, d)
    return nl_number(x, 3)


def _nl_axis(ax, decimals: int = 1, axis: str = "x") -> None:
    """Dutch tick labels (decimal comma, thousands dot) on ``axis``."""
    from matplotlib.ticker import FuncFormatter
    fmt = FuncFormatter(lambda x, _pos: _tick_text(x))
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def comparison_chart(ind: Indicator, labels: Sequence[str], baseline: Sequence[float | None],
                     latest: Sequence[float | None], baseline_year: int | None,
                     latest_year: int | None) -> tuple[str, str]:
    """Horizontal bars: per unit (all areas, G4 ...) the value at baseline and latest.

    Missing values get no bar and the words "geen cijfer". The baseline bars are hatched as well
    as coloured. Every bar is labelled with its value, so there is no value axis (the unit goes
    in the caption). Written as SVG directly (see :func:`trend_chart`). Returns ``(svg, alt
    text)``.
    """
    from matplotlib.ticker import MaxNLocator

    same = baseline_year == latest_year
    n = len(labels)
    series = [(latest, latest_year, OKABE_ITO["blue"], False)]
    if not same:
        series = [(baseline, baseline_year, OKABE_ITO["orange"], True), *series]
    vals = [float(v) for vs, *_ in series for v in vs if is_number(v)]
    lo, hi = min([0.0] + vals), max([0.0] + vals)
    ticks = list(MaxNLocator(nbins=6).tick_values(lo, hi if hi > lo else lo + 1))
    x_lo, x_hi = min(ticks[0], lo), max(ticks[-1], hi)
    row = 24.0 if not same else 15.0
    bar = 9.5 if not same else 10.0
    left, right, top = 92.0, 400.0, 6.0
    bottom = top + row * n
    w, h = 454.0, bottom + 6.0

    def X(v):
        return left + (right - left) * (v - x_lo) / (x_hi - x_lo)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}pt" height="{h:.0f}pt" '
           f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="DejaVu Sans" fill="{INK}">',
           '<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" '
           'patternTransform="rotate(45)"><rect width="4" height="4" fill="#E69F00"/>'
           '<rect width="1.3" height="4" fill="#FFFFFF"/></pattern></defs>']
    # every bar carries its value, so no value axis: only the zero line (the unit is in the
    # caption); less SVG text draws faster in every PDF renderer and browser
    out.append(f'<path d="M{X(0.0):.1f} {top:.1f}V{bottom:.1f}" fill="none" stroke="#666666" '
               f'stroke-width="0.6"/>')
    x0 = X(0.0)
    for i, lab in enumerate(labels):
        cy = top + row * i + row / 2
        lines = textwrap.wrap(str(lab), 18) or [""]
        for k, line in enumerate(lines):
            out.append(f'<text x="{left - 5:.1f}" y="{cy + 2.8 + 9 * (k - (len(lines) - 1) / 2):.1f}" '
                       f'font-size="8" text-anchor="end">{_x(line)}</text>')
        none = not any(is_number(vs[i]) for vs, *_ in series)
        for k, (vs, year, colour, hatch) in enumerate(series):
            y = cy - bar if (not same and k == 0) else (cy if not same else cy - bar / 2)
            v = vs[i]
            if is_number(v):
                v = float(v)
                xa, xb = sorted((x0, X(v)))
                fill = "url(#hatch)" if hatch else colour
                out.append(f'<rect x="{xa:.2f}" y="{y:.2f}" width="{max(xb - xa, 0.4):.2f}" height="{bar - 0.6:.2f}" '
                           f'fill="{fill}"/>')
                tx, anchor = (xb + 2, "start") if v >= 0 else (xa - 2, "end")
                out.append(f'<text x="{tx:.2f}" y="{y + bar / 2 + 2.2:.2f}" font-size="7" '
                           f'text-anchor="{anchor}">{_x(nl_number(v, ind.decimals))}</text>')
            elif not none:
                out.append(f'<text x="{x0 + 2:.2f}" y="{y + bar / 2 + 2.2:.2f}" font-size="6.5" '
                           f'font-style="italic" fill="#555555">geen cijfer {year}</text>')
        if none:
            out.append(f'<text x="{x0 + 2:.2f}" y="{cy + 2.4:.2f}" font-size="6.5" font-style="italic" '
                       f'fill="#555555">geen cijfer</text>')
    ly = bottom - 8.0 * len(series)
    for k, (_vs, year, colour, hatch) in enumerate(reversed(series)):
        y = ly + 9.0 * k
        out.append(f'<rect x="{right + 8:.1f}" y="{y - 6:.1f}" width="12" height="7" '
                   f'fill="{"url(#hatch)" if hatch else colour}"/>')
        out.append(f'<text x="{right + 24:.1f}" y="{y:.1f}" font-size="7">{_x(year)}</text>')
    out.append("</svg>")
    svg = "".join(out)
    parts = []
    for lab, b, l in zip(labels, baseline, latest):
        if same:
            parts.append(f"{lab} {nl_value(l, ind.decimals, ind.unit) if is_number(l) else 'geen cijfer'}")
        else:
            bt = nl_value(b, ind.decimals, ind.unit) if is_number(b) else "geen cijfer"
            lt = nl_value(l, ind.decimals, ind.unit) if is_number(l) else "geen cijfer"
            parts.append(f"{lab} {bt} in {baseline_year} en {lt} in {latest_year}")
    alt = f"Staafdiagram {ind.name}: " + nl_join(parts) + "."
    return svg, alt


def class_chart(names: Sequence[str], counts: Sequence[Mapping[str, int]],
                classes: Sequence[str], areas_word: str = "gebieden") -> tuple[str, str]:
    """Stacked horizontal bars: per indicator the number of areas per class, each segment
    labelled with its count (so no count axis is needed). Written as SVG directly, like
    :func:`trend_chart`: few elements and little text to draw."""
    n = len(names)
    wrapped = [textwrap.wrap(str(x), 34) or [""] for x in names]
    shown = [c for c in classes if any(int(cnt.get(c, 0)) for cnt in counts)]
    left, right, top = 150.0, 446.0, 22.0
    rows = [max(16.0, 8.5 * len(w) + 6) for w in wrapped]
    w, h = 454.0, top + sum(rows) + 4
    most = max([sum(int(cnt.get(c, 0)) for c in classes) for cnt in counts] + [1])
    scale = (right - left) / most
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}pt" height="{h:.0f}pt" '
           f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="DejaVu Sans" font-size="7" fill="{INK}">']
    x = left
    for c in shown:  # legend above the bars
        out.append(f'<rect x="{x:.1f}" y="4" width="9" height="7" fill="{CLASS_COLOURS[c]}" '
                   f'stroke="#999999" stroke-width="0.3"/>')
        out.append(f'<text x="{x + 12:.1f}" y="10" font-size="6.5">{_x(c)}</text>')
        x += 12 + 3.7 * len(c) + 10
    y0 = top
    for lines, cnt, row in zip(wrapped, counts, rows):
        cy = y0 + row / 2
        for k, line in enumerate(lines):
            out.append(f'<text x="{left - 5:.1f}" y="{cy + 2.5 + 8.5 * (k - (len(lines) - 1) / 2):.1f}" '
                       f'text-anchor="end">{_x(line)}</text>')
        x = left
        for c in classes:
            k = int(cnt.get(c, 0))
            if not k:
                continue
            width = k * scale
            out.append(f'<rect x="{x:.2f}" y="{cy - 5.5:.2f}" width="{width:.2f}" height="11" '
                       f'fill="{CLASS_COLOURS[c]}" stroke="#FFFFFF" stroke-width="0.5"/>')
            ink = ' fill="#FFFFFF"' if c in ("kleiner", "groter") else ""
            out.append(f'<text x="{x + width / 2:.2f}" y="{cy + 2.3:.2f}" font-size="6.5" '
                       f'text-anchor="middle"{ink}>{k}</text>')
            x += width
        y0 += row
    out.append("</svg>")
    parts = []
    for name, cnt in zip(names, counts):
        parts.append(f"{name}: " + ", ".join(f"{c} {int(cnt.get(c, 0))}" for c in classes))
    return "".join(out), f"Aantal {areas_word} per klasse. " + "; ".join(parts) + "."


TREND_STYLES = [(OKABE_ITO["vermillion"], "", "circle"), (OKABE_ITO["blue"], "4 2", "square"),
                (OKABE_ITO["black"], "1 1.6", "triangle")]


def _x(text) -> str:
    """Text for SVG character data or attributes."""
    return html.escape(str(text), quote=True)


#: Marker shapes as relative path commands (drawn at each point of a series, one path per series).
_MARKERS = {"circle": "m-1.9 0a1.9 1.9 0 1 0 3.8 0a1.9 1.9 0 1 0 -3.8 0z",
            "square": "m-1.7 -1.7h3.4v3.4h-3.4z",
            "triangle": "m0 -2.1l2 3.6h-4z"}
TREND_STYLE_WORDS = {"circle": ("doorgetrokken", "rondjes"), "square": ("gestreepte", "vierkantjes"),
                     "triangle": ("gestippelde", "driehoekjes")}
_COLOUR_WORDS = {OKABE_ITO["vermillion"]: "oranjerode", OKABE_ITO["blue"]: "blauwe",
                 OKABE_ITO["black"]: "zwarte"}


def _markers(kind: str, points, colour: str) -> str:
    """All markers of one series as a single path (one element to draw)."""
    d = "".join(f"M{x:.2f} {y:.2f}{_MARKERS[kind]}" for x, y in points)
    return f'<path d="{d}" fill="{colour}"/>'


def trend_title(ind: Indicator) -> str:
    """The title of an indicator's trend chart (name and unit), shown above the chart in HTML."""
    return ind.name + (f" ({unit_label(ind.unit)})" if ind.unit not in ("aantal",) else "")


def trend_chart(ind: Indicator, series: Mapping[str, Sequence[tuple[int, float]]],
                breaks: Sequence[tuple] = (),
                band: Mapping[int, tuple[float, float]] | None = None) -> tuple[str, str]:
    """Lines over the years for a few units (the area, its gemeente, NL): ``label -> [(year,
    value)]`` with shown values only. Returns ``(svg, alt text)``.

    Written as SVG directly (not with matplotlib): a fiche has up to 40 of these, and a small
    hand-written SVG is both fast to make and fast to draw (HTML and the Typst PDF embed the
    same SVG). The chart carries only its tick labels: the title goes above the
    chart in HTML (:func:`trend_title`) and the legend once per group of charts
    (:func:`trend_legend`). Series differ by colour, dash pattern and marker (in the order of
    :data:`TREND_STYLES`); the y axis has Dutch tick labels; grid lines, ticks and markers are
    one path each.

    ``breaks``: ``(last year of the old series, first year of the new one, ...)`` where a series
    changes publication (issue 17.6): a dashed vertical line between the two years marked
    "bron", and the alt text says so.

    ``band``: the 95 % interval ``{year: (lower, upper)}`` of the first series (issue 15), drawn
    as a light band behind its line (a whisker where a year stands alone); the y axis includes
    it and the alt text states the intervals.
    """
    from matplotlib.ticker import MaxNLocator

    w, h = 220.0, 112.0
    top, left, right, bottom = 6.0, 34.0, 212.0, h - 14.0
    years = sorted({int(y) for pts in series.values() for y, _ in pts})
    vals = [float(v) for pts in series.values() for _, v in pts]
    first = next(iter(series.values()), [])
    own_years = {int(y) for y, _ in first}
    band = {int(y): (float(lo), float(hi)) for y, (lo, hi) in (band or {}).items()
            if int(y) in own_years and is_number(lo) and is_number(hi)}
    vals += [b for lo_hi in band.values() for b in lo_hi]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    if hi - lo < 1e-9:
        pad = abs(hi) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    ticks = [t for t in MaxNLocator(nbins=4).tick_values(lo, hi)]
    y_lo, y_hi = min(ticks[0], lo), max(ticks[-1], hi)
    y_lo, y_hi = ticks[0] if ticks[0] <= lo else y_lo, ticks[-1] if ticks[-1] >= hi else y_hi
    x_lo, x_hi = (years[0], years[-1]) if years else (0, 1)
    span = (x_hi - x_lo) or 1

    def X(year):
        return left + 6 + (right - left - 12) * ((year - x_lo) / span if x_hi != x_lo else 0.5)

    def Y(v):
        return bottom - (bottom - top) * (v - y_lo) / (y_hi - y_lo)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}pt" height="{h:.0f}pt" '
           f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="DejaVu Sans" font-size="6.5" fill="{INK}">']
    shown_ticks = [t for t in ticks if y_lo - 1e-9 <= t <= y_hi + 1e-9]
    grid = "".join(f"M{left:.1f} {Y(t):.2f}H{right:.1f}" for t in shown_ticks)
    if grid:
        out.append(f'<path d="{grid}" stroke="#DDDDDD" stroke-width="0.5"/>')
    for t in shown_ticks:
        out.append(f'<text x="{left - 3:.1f}" y="{Y(t) + 2.2:.2f}" text-anchor="end">'
                   f'{_x(_tick_text(t))}</text>')
    marks = "".join(f"M{X(yr):.2f} {bottom:.1f}v2.5" for yr in years)
    out.append(f'<path d="M{left:.1f} {top - 2:.1f}V{bottom:.1f}H{right:.1f}{marks}" fill="none" '
               f'stroke="#666666" stroke-width="0.6"/>')
    labelled, last_x = set(), None  # from the latest year back: a label where it does not overlap
    for yr in reversed(years):
        if last_x is None or last_x - X(yr) >= 24:
            labelled.add(yr)
            last_x = X(yr)
    for yr in years:
        if yr in labelled:
            out.append(f'<text x="{X(yr):.2f}" y="{bottom + 9.5:.1f}" text-anchor="middle">{yr}</text>')
    if band:
        colour = TREND_STYLES[0][0]
        bys = sorted(band)
        runs, run = [], [bys[0]]  # a band per run of consecutive shown years of the first series
        own = sorted(own_years)
        for y in bys[1:]:
            if own.index(y) == own.index(run[-1]) + 1:
                run.append(y)
            else:
                runs.append(run); run = [y]
        runs.append(run)
        for run in runs:
            if len(run) > 1:
                d = ("M" + "L".join(f"{X(y):.2f} {Y(band[y][1]):.2f}" for y in run)
                     + "L" + "L".join(f"{X(y):.2f} {Y(band[y][0]):.2f}" for y in reversed(run)) + "Z")
                out.append(f'<path d="{d}" fill="{colour}" fill-opacity="0.15" stroke="none"/>')
        whiskers = "".join(f"M{X(y):.2f} {Y(band[y][0]):.2f}V{Y(band[y][1]):.2f}" for y in bys)
        out.append(f'<path d="{whiskers}" stroke="{colour}" stroke-opacity="0.6" stroke-width="0.6"/>')
    for (label, pts), (colour, dash, marker) in zip(series.items(), TREND_STYLES):
        if not pts:
            continue
        pts = sorted((int(y), float(v)) for y, v in pts)
        d = "M" + "L".join(f"{X(y):.2f} {Y(v):.2f}" for y, v in pts)
        out.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.3"'
                   + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        out.append(_markers(marker, [(X(y), Y(v)) for y, v in pts], colour))
    shown_breaks = [(int(b[0]), int(b[1])) for b in breaks
                    if years and x_lo <= int(b[0]) and int(b[1]) <= x_hi]
    for a, b in shown_breaks:
        bx = (X(a) + X(b)) / 2
        out.append(f'<path d="M{bx:.2f} {top:.1f}V{bottom:.1f}" stroke="{INK}" stroke-width="0.8" '
                   f'stroke-dasharray="2 1.5"/>')
        out.append(f'<text x="{bx + 1.5:.2f}" y="{top + 5:.1f}" font-size="5.5">bron</text>')
    out.append("</svg>")
    svg = "".join(out)
    parts = []
    for label, pts in series.items():
        if pts:
            parts.append(f"{label}: " + ", ".join(f"{y} {nl_value(v, ind.decimals, ind.unit)}" for y, v in pts))
    alt = f"Lijndiagram {ind.name}. " + "; ".join(parts) + "."
    if band:
        label = next(iter(series))
        alt += (f" De band om de lijn van {label} is het 95%-interval: "
                + ", ".join(f"{y} {nl_number(band[y][0], ind.decimals)} tot {nl_number(band[y][1], ind.decimals)}"
                            for y in sorted(band)) + ".")
    alt += "".join(f" Tussen {a} en {b} verandert de bron van de cijfers (gestippelde lijn)."
                   for a, b in shown_breaks)
    return svg, alt


def trend_legend(labels: Sequence[str]) -> tuple[str, str]:
    """The legend of the trend charts (series in the order of :data:`TREND_STYLES`), drawn once
    for a group of charts. Returns ``(svg, alt text)``; the alt text names each line style."""
    x, items, words = 2.0, [], []
    for label, (colour, dash, marker) in zip(labels, TREND_STYLES):
        items.append(f'<path d="M{x:.1f} 6H{x + 16:.1f}" stroke="{colour}" stroke-width="1.3"'
                     + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        items.append(_markers(marker, [(x + 8, 6.0)], colour))
        items.append(f'<text x="{x + 20:.1f}" y="8.4">{_x(label)}</text>')
        x += 20 + 4.1 * len(label) + 12
        line, shape = TREND_STYLE_WORDS[marker]
        words.append(f"{label}: {line} {_COLOUR_WORDS.get(colour, '')} lijn met {shape}".replace("  ", " "))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{x:.0f}pt" height="12pt" '
           f'viewBox="0 0 {x:.0f} 12" font-family="DejaVu Sans" font-size="7" fill="{INK}">'
           + "".join(items) + "</svg>")
    return svg, "Legenda bij de lijndiagrammen: " + "; ".join(words) + "."


def area_map(area_geoms, context_geoms, outline_geoms, *, title: str) -> str:
    """A map of the area (filled), the other wijken of its gemeente (light) and the gemeente
    outline, from GeoDataFrames in a projected CRS (any may be empty)."""
    with _style():
        fig = Figure(figsize=(3.1, 3.1))
        ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
        if outline_geoms is not None and len(outline_geoms):
            outline_geoms.boundary.plot(ax=ax, color="#333333", linewidth=0.8)
        if context_geoms is not None and len(context_geoms):
            context_geoms.plot(ax=ax, color="#E8E8E8", edgecolor="white", linewidth=0.4)
        if area_geoms is not None and len(area_geoms):
            area_geoms.plot(ax=ax, color=OKABE_ITO["blue"], edgecolor="white", linewidth=0.4,
                            hatch="")
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(title, fontsize=7, loc="left")
        return _svg(fig)
