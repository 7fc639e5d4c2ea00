"""HTML from Jinja2 templates; PDF typeset with Typst from Typst templates and the same context.

The HTML is one self-contained file (CSS inline, charts as ``data:`` SVG) and holds no
timestamp except the store's build date, so the same store and arguments give byte-identical
HTML. The PDF is made from the same context dict ``r``: the Jinja2 templates ``*.typ.j2``
(``national.typ.j2``, ``area.typ.j2``, macros in ``macros.typ.j2``, page style in
``style.typ``) render Typst source, which the Typst compiler (PyPI ``typst``, in-process)
turns into a tagged PDF/UA-1 file in Dutch (``text(lang: "nl")``), with the report title as
document title and the charts (the same SVG strings as in the HTML, passed as bytes) with the
same alt texts. Every text from the context goes through :func:`typst_escape` (markup) or
:func:`typst_string` (string literals): no value can inject Typst markup or code. The creation
date is fixed (the store's build date), so the same store and arguments give a byte-identical
PDF. Fonts: only DejaVu Sans (and Mono) from the files that ship with matplotlib (never fetched;
system fonts and Typst's embedded fonts are ignored), so the PDF is the same on every machine.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import re
from pathlib import Path

import jinja2
import markupsafe

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: PDF standard: tagged PDF for universal accessibility.
PDF_STANDARD = "ua-1"


def css_string(text) -> markupsafe.Markup:
    """``text`` as the inside of a double-quoted CSS string in a ``<style>`` element (where HTML
    entities are not decoded): quotes and backslashes CSS-escaped, ``<`` and ``>`` dropped."""
    out = str(text).replace("\\", "\\5c ").replace('"', "\\22 ").replace("\n", " ")
    return markupsafe.Markup(out.replace("<", "").replace(">", ""))


@functools.cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html"]),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["css_string"] = css_string
    return env


def render_html(template: str, context: dict) -> str:
    """Render ``template`` (``national.html`` or ``area.html``) with the report context."""
    css = (TEMPLATES / "style.css").read_text(encoding="utf-8")
    html = _env().get_template(template).render(r=context, css=css)
    # one trailing newline, no trailing spaces: stable bytes
    return "\n".join(line.rstrip() for line in html.splitlines()) + "\n"


# ---------------------------------------------------------------------------------------------
# Typst
# ---------------------------------------------------------------------------------------------

# Every character that can start Typst markup or code, or that Typst's markup would turn into
# something else (smart quotes, dashes from "--", "..." ellipsis, "~" no-break space, "//"
# comments, URLs, list/heading markers, "1." enumerations), is escaped with a backslash, which
# Typst reads as the literal character.
_TYPST_SPECIAL = re.compile(r"""([\\#$*_`<>@\[\]~/'"\-=+.(){}])""")
# line breaks as Typst sees them (it also breaks lines at \r, \x0b, \x0c, NEL, LS and PS)
_WS = re.compile("[ \t]*(?:[\r\n\x0b\x0c\x85\u2028\u2029][ \t]*)+")


def typst_escape(text) -> markupsafe.Markup:
    """``text`` as literal Typst markup: specials backslash-escaped, line breaks as spaces (as
    HTML shows them). The result is marked safe for the Typst templates' autoescape."""
    out = _WS.sub(" ", str(text))
    return markupsafe.Markup(_TYPST_SPECIAL.sub(r"\\\1", out))


def typst_string(text) -> markupsafe.Markup:
    """``text`` as a double-quoted Typst string literal (for arguments such as ``alt:``)."""
    out = str(text).replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return markupsafe.Markup(f'"{out}"')


def typst_svg(uri: str) -> markupsafe.Markup:
    """A chart's ``data:`` SVG URI (the string the HTML uses) as Typst ``bytes(...)`` of the
    same SVG document, for ``image(..., format: "svg")``."""
    head, payload = str(uri).split(",", 1)
    if not head.startswith("data:image/svg+xml"):
        raise ValueError(f"not an SVG data URI: {head[:40]!r}")
    svg = base64.b64decode(payload).decode("utf-8") if head.endswith(";base64") else payload
    return markupsafe.Markup(f"bytes({typst_string(svg)})")


def _typst_finalize(value):
    # autoescape for Typst: every {{ value }} is escaped unless a macro or filter marked it safe
    if isinstance(value, markupsafe.Markup):
        return value
    return typst_escape(value)  # (None shows as "None", as in the HTML)


@functools.cache
def _typst_env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=True, finalize=_typst_finalize,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters.update(t=typst_escape, ts=typst_string, svg=typst_svg)
    return env


@functools.cache
def _typst_style() -> markupsafe.Markup:
    return markupsafe.Markup((TEMPLATES / "style.typ").read_text(encoding="utf-8"))


def render_typst(template: str, context: dict) -> str:
    """Typst source of ``template`` (``national.typ.j2`` or ``area.typ.j2``) for the context."""
    src = _typst_env().get_template(template).render(r=context, style=_typst_style())
    return "\n".join(line.rstrip() for line in src.splitlines()) + "\n"


def _font_dir() -> Path:
    import matplotlib
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@functools.cache
def _fonts():
    import typst
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=False,
                       font_paths=[str(_font_dir())])


def _timestamp(context: dict) -> dt.datetime:
    """The PDF's creation date: the store's build date (midnight UTC), never the clock."""
    d = context.get("build_date")
    try:
        day = dt.date.fromisoformat(str(d)[:10])
    except ValueError:
        day = dt.date(2000, 1, 1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def typst_pdf(source: str, *, timestamp: dt.datetime) -> bytes:
    """Compile Typst ``source`` into tagged PDF/UA-1 bytes (in-process, no files read)."""
    import typst
    compiler = typst.Compiler(root=str(TEMPLATES), font_paths=_fonts(), ignore_system_fonts=True)
    return compiler.compile(input=source.encode("utf-8"), format="pdf",
                            pdf_standards=[PDF_STANDARD], timestamp=timestamp)


def write_pdf(template: str, context: dict, path: Path) -> Path:
    """Write the context as a tagged PDF/UA-1 file typeset with Typst (``template``:
    ``national.typ.j2`` or ``area.typ.j2``)."""
    path = Path(path)
    path.write_bytes(typst_pdf(render_typst(template, context), timestamp=_timestamp(context)))
    return path


def write(context: dict, out_dir: Path, stem: str, *, pdf: bool = True) -> list[Path]:
    """Write ``<stem>.html`` (and ``<stem>.pdf``) of a report context into ``out_dir``: both
    from the same context, with the templates of its ``kind`` (``national`` or ``area``:
    ``<kind>.html`` and ``<kind>.typ.j2``); returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    kind = context["kind"]
    html_path = out_dir / f"{stem}.html"
    html_path.write_bytes(render_html(f"{kind}.html", context).encode("utf-8"))
    paths = [html_path]
    if pdf:
        paths.append(write_pdf(f"{kind}.typ.j2", context, out_dir / f"{stem}.pdf"))
    return paths
