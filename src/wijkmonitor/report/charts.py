"""Charts of the report as deterministic SVG (matplotlib's SVG backend, no pyplot state).

Every chart is drawn from the same numbers as the table next to it and comes with an alt text
that states those numbers in Dutch notation. Output is byte-identical for the same input:
``svg.hashsalt`` is fixed, the SVG carries no date, and text stays text (``svg.fonttype``
``none``, DejaVu Sans). Colours are the Okabe-Ito palette (safe for colour-blind readers), and
series differ by line style and marker as well as by colour.
"""

from __future__ import annotations

import base64
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
                 "gelijk": "#BBBBBB", "groter": OKABE_ITO["vermillion"],
                 "te weinig waarnemingen": "#EEEEEE"}
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

    Missing values get no bar and the label "geen cijfer". Returns ``(svg, alt text)``.
    """
    same = baseline_year == latest_year
    n = len(labels)
    with _style():
        fig = Figure(figsize=(6.3, 0.34 * n * (1 if same else 1.6) + 0.6))
        ax = fig.add_axes((0.2, 0.14 if not same else 0.1, 0.66, 0.8))
        h = 0.8 if same else 0.38
        vals = [v for v in list(baseline) + list(latest) if is_number(v)]
        top = max([abs(v) for v in vals] or [1.0])
        series = [(latest, latest_year, OKABE_ITO["blue"], None)]
        if not same:
            series = [(baseline, baseline_year, OKABE_ITO["orange"], "////"), *series]
        for k, (vs, year, colour, hatch) in enumerate(series):
            # an empty bar for the legend, so that both years are always explained
            ax.barh(0, 0, height=0, color=colour, hatch=hatch, edgecolor="white", label=str(year))
            for i, v in enumerate(vs):
                y = (n - 1 - i) + (0 if same else (h / 2 if k == 0 else -h / 2))
                if is_number(v):
                    ax.barh(y, v, height=h * 0.95, color=colour, hatch=hatch, edgecolor="white",
                            linewidth=0.3)
                    ax.text(v + top * 0.01 if v >= 0 else v - top * 0.01, y,
                            nl_number(v, ind.decimals), va="center",
                            ha="left" if v >= 0 else "right", fontsize=7, color=INK)
                elif same or is_number(baseline[i]) or is_number(latest[i]):
                    ax.text(top * 0.01, y, f"geen cijfer {year}" if not same else "geen cijfer",
                            va="center", ha="left", fontsize=6.5, color="#555555", style="italic")
                elif k == 0:  # neither year: one label in the middle of the row
                    ax.text(top * 0.01, n - 1 - i, "geen cijfer", va="center", ha="left", fontsize=6.5,
                            color="#555555", style="italic")
        ax.set_yticks(range(n))
        ax.set_yticklabels([textwrap.fill(str(x), 16) for x in reversed(labels)], linespacing=1.0)
        lo = min([0.0] + vals)
        ax.set_xlim(lo * 1.15 if lo < 0 else 0, top * 1.18)
        _nl_axis(ax, ind.decimals)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel(unit_label(ind.unit))
        handles, leg_labels = ax.get_legend_handles_labels()
        if handles:
            ax.legend(handles[::-1], leg_labels[::-1], loc="lower right", frameon=False, fontsize=7,
                      bbox_to_anchor=(1.16, 0.0))
        svg = _svg(fig)
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
    """Stacked horizontal bars: per indicator the number of areas per class."""
    n = len(names)
    wrapped = [textwrap.fill(str(x), 34) for x in names]
    lines = sum(w.count("\n") + 1 for w in wrapped)
    height = 0.2 * n + 0.1 * lines + 0.8
    with _style():
        fig = Figure(figsize=(6.3, height))
        ax = fig.add_axes((0.33, 0.5 / height, 0.63, 1 - 0.8 / height))
        for i, (name, cnt) in enumerate(zip(names, counts)):
            left = 0
            y = n - 1 - i
            for c in classes:
                k = int(cnt.get(c, 0))
                if k:
                    ax.barh(y, k, left=left, height=0.7, color=CLASS_COLOURS[c], edgecolor="white",
                            linewidth=0.5)
                    dark = c in ("kleiner", "groter")
                    ax.text(left + k / 2, y, str(k), ha="center", va="center", fontsize=6.5,
                            color="white" if dark else INK)
                    left += k
        ax.set_yticks(range(n))
        ax.set_yticklabels(list(reversed(wrapped)), fontsize=7, linespacing=1.0)
        ax.tick_params(axis="y", length=0)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.set_xlabel(f"aantal {areas_word}")
        ax.xaxis.get_major_locator().set_params(integer=True)
        from matplotlib.patches import Patch
        shown = [c for c in classes if any(int(cnt.get(c, 0)) for cnt in counts)]
        ax.legend([Patch(facecolor=CLASS_COLOURS[c], edgecolor="#999999", linewidth=0.3) for c in shown],
                  shown, loc="lower center", bbox_to_anchor=(0.4, 1.0), ncol=5, frameon=False,
                  fontsize=6.5)
        svg = _svg(fig)
    parts = []
    for name, cnt in zip(names, counts):
        parts.append(f"{name}: " + ", ".join(f"{c} {int(cnt.get(c, 0))}" for c in classes))
    return svg, f"Aantal {areas_word} per klasse. " + "; ".join(parts) + "."


TREND_STYLES = [(OKABE_ITO["vermillion"], "-", "o"), (OKABE_ITO["blue"], "--", "s"),
                (OKABE_ITO["black"], ":", "^")]


def trend_chart(ind: Indicator, series: Mapping[str, Sequence[tuple[int, float]]]
                ) -> tuple[str, str]:
    """Lines over the years for a few units (the area, its gemeente, NL): ``label -> [(year,
    value)]`` with shown values only. Returns ``(svg, alt text)``."""
    with _style():
        title = textwrap.fill(ind.name + (f" ({unit_label(ind.unit)})" if ind.unit not in ("aantal",) else ""),
                              50)
        two = "\n" in title
        fig = Figure(figsize=(3.05, 2.15 if two else 2.0))
        ax = fig.add_axes((0.17, 0.24, 0.8, 0.56 if two else 0.63))
        years = sorted({y for pts in series.values() for y, _ in pts})
        for (label, pts), (colour, ls, marker) in zip(series.items(), TREND_STYLES):
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, ls, color=colour, marker=marker, markersize=3.2, linewidth=1.3,
                        label=label)
        ax.set_xticks(years)
        ax.set_xticklabels([str(y) for y in years], fontsize=6.5)
        if len(years) > 6:
            for k, lab in enumerate(ax.get_xticklabels()):
                lab.set_visible(k % 2 == (len(years) - 1) % 2)
        _nl_axis(ax, ind.decimals, "y")
        ax.tick_params(axis="y", labelsize=6.5)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.grid(axis="y", color="#DDDDDD", linewidth=0.5)
        ax.set_title(title, fontsize=7.2, loc="left", color=INK, linespacing=1.1)
        ax.legend(fontsize=5.8, frameon=False, loc="upper center", bbox_to_anchor=(0.45, -0.12),
                  ncol=len(series), handlelength=2.2, columnspacing=1.2)
        svg = _svg(fig)
    parts = []
    for label, pts in series.items():
        if pts:
            parts.append(f"{label}: " + ", ".join(f"{y} {nl_value(v, ind.decimals, ind.unit)}" for y, v in pts))
    return svg, f"Lijndiagram {ind.name}. " + "; ".join(parts) + "."


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
