"""HTML from Jinja2 templates and PDF from that HTML with WeasyPrint.

The HTML is one self-contained file (CSS inline, charts as ``data:`` SVG) and holds no
timestamp except the store's build date, so the same store and arguments give byte-identical
HTML. The PDF is tagged PDF/UA-1 (WeasyPrint >= 63), in Dutch (``<html lang="nl">``), with the
``<title>`` as document title and the charts' alt texts. Fonts: DejaVu Sans from the files that
ship with matplotlib (never fetched), so the PDF looks the same whatever fonts the system has.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import jinja2
import markupsafe

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: PDF variant: tagged PDF for universal accessibility.
PDF_VARIANT = "pdf/ua-1"


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


@functools.cache
def _font_css() -> str:
    import matplotlib
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    faces = []
    for file, weight, style in (("DejaVuSans.ttf", "normal", "normal"),
                                ("DejaVuSans-Bold.ttf", "bold", "normal"),
                                ("DejaVuSans-Oblique.ttf", "normal", "italic"),
                                ("DejaVuSans-BoldOblique.ttf", "bold", "italic"),
                                ("DejaVuSansMono.ttf", "normal", "normal")):
        if (ttf / file).exists():
            family = "DejaVu Sans Mono" if "Mono" in file else "DejaVu Sans"
            faces.append(f'@font-face {{ font-family: "{family}"; src: url("{(ttf / file).as_uri()}"); '
                         f"font-weight: {weight}; font-style: {style}; }}")
    return "\n".join(faces)


@functools.cache
def _weasy():
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration
    fonts = FontConfiguration()
    return fonts, CSS(string=_font_css(), font_config=fonts)


def write_pdf(html: str, path: Path, *, base_url: Path | None = None) -> Path:
    """Write ``html`` as a tagged PDF/UA-1 file."""
    from weasyprint import HTML
    fonts, css = _weasy()
    # WeasyPrint logs every unsupported CSS property as a warning; keep the CLI output clean
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    HTML(string=html, base_url=str(base_url or path.parent)).write_pdf(
        str(path), stylesheets=[css], font_config=fonts, pdf_variant=PDF_VARIANT,
        custom_metadata=False)
    return path


def write(html: str, out_dir: Path, stem: str, *, pdf: bool = True) -> list[Path]:
    """Write ``<stem>.html`` (and ``<stem>.pdf``) into ``out_dir``; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"{stem}.html"
    html_path.write_bytes(html.encode("utf-8"))
    paths = [html_path]
    if pdf:
        paths.append(write_pdf(html, out_dir / f"{stem}.pdf", base_url=out_dir))
    return paths
