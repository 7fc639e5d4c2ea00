"""Downloads of exactly the table (or map) a page shows: CSV, XLSX, Parquet and GeoJSON.

* ``csv`` (the website default): for Dutch Excel, ``;``-separated, decimal comma, UTF-8 with
  BOM, Dutch column names (``columns.yaml``).
* ``csv-en``: for software, ``,`` and ``.``, UTF-8, the stable column ids of the API.
* ``xlsx``: Dutch column names, a number format per indicator (decimals from the catalogue),
  years as whole numbers, a frozen header and an autofilter, and a second sheet *bronnen en
  regels* with the sources behind the table and the rules that decide what is shown.
* ``parquet`` and ``geojson``: the stored doubles under the stable ids.

Every CSV and XLSX is written by :mod:`wijkmonitor.sheets`, so no cell can carry a live
formula. A value that is not shown is empty, with its ``status`` and ``reason`` in the same
row, never a number. The JSON API's ``format=csv|xlsx`` keeps the stable ids and plain CSV
(``dutch=False``).

Every download names its file with :func:`wijkmonitor.bounds.content_disposition`: the name
is built from a whitelist of characters (``A-Z a-z 0-9 . _ -``, anything else becomes ``-``) and
sent both as ``filename`` and as RFC 6266 ``filename*``, so no request value can add a header
parameter or a line to the response.
"""

from __future__ import annotations

import functools
import io
import json
import re
from pathlib import Path

import pandas as pd
import yaml
from fastapi import HTTPException
from fastapi.responses import Response

from .. import sheets
from ..bounds import content_disposition
from .data import REASONS, records

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "csv-en": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
    "geojson": "application/geo+json",
}
FORMAT_LABELS = {"csv": "CSV", "csv-en": "CSV (internationaal: komma en punt)",
                 "xlsx": "Excel (XLSX)", "parquet": "Parquet", "geojson": "GeoJSON"}
EXTENSIONS = {"csv-en": "csv"}

#: Columns that hold whole numbers (years, ranks, counts): written as integers.
INTEGER_COLUMNS = ("period", "year", "baseline_year", "latest_year", "geo_year", "name_year",
                   "layer_year", "reference_year", "rank", "n_areas", "n_codes", "actielijn",
                   "kernindicator", "decimals", "kleiner", "groter", "gelijk",
                   "beter dan referentie", "te weinig waarnemingen")
#: Columns that hold values of the table's indicator(s): formatted with its decimals.
_VALUE_COLUMN = re.compile(r"^(value|lower|upper|gemeente_value|gap_baseline|gap_latest|ref:.*|.*_baseline|.*_latest)$")
#: Rules written on the second XLSX sheet of every table.
GENERAL_RULES = [
    ("lege cel", "Een cel zonder getal is een waarde die niet getoond wordt; de kolommen status "
                 "en reden zeggen waarom. Een geheimgehouden waarde blijft geheim."),
    ("getallen", "De getallen staan in de opgeslagen precisie; de celopmaak toont het aantal "
                 "decimalen dat de catalogus voor de indicator vastlegt."),
    ("tekst", "Tekst die met =, +, -, @ of een tab begint, staat er met een ' voor: een "
              "spreadsheet voert zo geen formule uit."),
]


@functools.lru_cache(maxsize=1)
def _column_names() -> dict:
    return yaml.safe_load((Path(__file__).with_name("columns.yaml")).read_text(encoding="utf-8"))


def dutch_name(column: str, table: str | None = None) -> str:
    """The Dutch header of a column id (``columns.yaml``; per-table names first)."""
    names = _column_names()
    own = (names.get("tables") or {}).get(table or "", {}) or {}
    if column in own:
        return own[column]
    if column in names["columns"]:
        return names["columns"][column]
    if column.startswith("ref:"):
        return column[4:]
    for suffix, label in (("_baseline", "basisjaar"), ("_latest", "laatste jaar"), ("_decile", "deciel")):
        if column.endswith(suffix):
            stem = column[: -len(suffix)]
            return f"{names['columns'].get(stem, stem)} {label}"
    return column


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    if "status" in out.columns:
        for col in ("value", "numerator"):
            if col in out.columns:
                out.loc[out["status"] != "ok", col] = None
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].where(out[col].notna(), None)
    return out


def _decimals(df: pd.DataFrame, catalogue, indicator: str | None) -> dict:
    """Per value column the decimals of its number format: one indicator for the whole table,
    or per row from its ``indicator`` column."""
    if catalogue is None:
        return {}
    if indicator is not None and indicator in catalogue:
        per = catalogue[indicator].decimals
    elif "indicator" in df.columns:
        per = df["indicator"].map(lambda i: catalogue[i].decimals if i in catalogue else None)
    else:
        return {}
    out = {c: per for c in df.columns if _VALUE_COLUMN.match(str(c))
           and pd.api.types.is_numeric_dtype(df[c].dtype) and c not in INTEGER_COLUMNS}
    if "coverage" in df.columns:
        out["coverage"] = 3
    return out


def about_sheet(df: pd.DataFrame, ws=None, indicator: str | None = None) -> pd.DataFrame:
    """The second XLSX sheet: the sources behind the table and the rules of what it shows.

    Sources: those named in a ``source`` column, else those of the table's indicator(s) (from
    the store), else every source."""
    rows = []
    if ws is not None:
        src = ws.sources()
        ids = None
        if "source" in df.columns:
            ids = set(df["source"].dropna())
        else:
            inds = [indicator] if indicator else (sorted(set(df["indicator"].dropna()))
                                                  if "indicator" in df.columns else None)
            if inds:
                ids = _indicator_sources(ws, tuple(inds))
        if ids is not None:
            src = src[src["source_id"].isin(ids)]
        for s in src.to_dict("records"):
            what = f"{s.get('publisher') or ''}: {s.get('title') or ''} ({s.get('table_id') or ''})"
            detail = "; ".join(x for x in (
                f"licentie {s['licence']}" if s.get("licence") else "",
                f"opgehaald op {s['retrieved']}" if s.get("retrieved") else "",
                f"vindplaats {s['location']}" if s.get("location") else "",
                f"bron-id {s['source_id']}") if x)
            rows.append(("bron", what, detail))
    statuses = set(df["status"].dropna()) if "status" in df.columns else set()
    for col in ("gemeente_status",):
        if col in df.columns:
            statuses |= set(df[col].dropna())
    for st in sorted(statuses):
        if REASONS.get(st):
            rows.append(("status", st, REASONS[st]))
    if "rule" in df.columns:
        for rule in sorted(set(df["rule"].dropna())):
            if rule:
                rows.append(("regel", "klasse", rule))
    rows.extend(("regel", k, v) for k, v in GENERAL_RULES)
    return pd.DataFrame(rows, columns=["soort", "onderwerp", "toelichting"])


def _indicator_sources(ws, indicators: tuple[str, ...]) -> set[str]:
    def load():
        df = ws.df("SELECT DISTINCT indicator, source_id FROM indicator_values WHERE status = 'ok'")
        return df.groupby("indicator")["source_id"].apply(set).to_dict()
    by = ws.cached("indicator_sources", load)
    out: set[str] = set()
    for i in indicators:
        out |= by.get(i, set())
    return out


def to_bytes(df: pd.DataFrame, fmt: str, *, sheet: str = "wijkmonitor", geometry=None,
             table: str | None = None, ws=None, indicator: str | None = None,
             dutch: bool = True) -> bytes:
    """Serialise a table.

    Parameters
    ----------
    geometry
        Mapping code -> GeoJSON geometry dict (for ``geojson``).
    table
        The ``tabel=`` name (chooses per-table Dutch column names).
    ws
        The :class:`~.data.WebStore` (catalogue decimals and sources of the XLSX).
    indicator
        The one indicator of a table without an ``indicator`` column.
    dutch
        Dutch headers and notation (website); ``False`` keeps the stable ids (API).
    """
    df = _clean(df)
    catalogue = ws.catalogue if ws is not None else None
    if fmt == "csv":
        if not dutch:
            return sheets.csv_plain(df, integer_columns=INTEGER_COLUMNS)
        return sheets.csv_nl(df.rename(columns=lambda c: dutch_name(c, table)),
                             integer_columns=[dutch_name(c, table) for c in INTEGER_COLUMNS])
    if fmt == "csv-en":
        return sheets.csv_plain(df, integer_columns=INTEGER_COLUMNS)
    if fmt == "xlsx":
        decimals = _decimals(df, catalogue, indicator)
        about = about_sheet(df, ws, indicator)
        name = (lambda c: dutch_name(c, table)) if dutch else (lambda c: c)
        return sheets.xlsx(df.rename(columns=name), sheet=sheet,
                           decimals={name(c): d for c, d in decimals.items()},
                           integer_columns=[name(c) for c in INTEGER_COLUMNS],
                           extra_sheets=[("bronnen en regels", about)])
    if fmt == "parquet":
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return buf.getvalue()
    if fmt == "geojson":
        if geometry is None:
            raise HTTPException(404, "Voor deze tabel is geen kaart beschikbaar (geen GeoJSON).")
        key = "code" if "code" in df.columns else "unit"
        feats = []
        for rec in records(df):  # the stored doubles, as the JSON API writes them
            feats.append({"type": "Feature", "properties": rec, "geometry": geometry.get(rec.get(key))})
        return json.dumps({"type": "FeatureCollection", "features": feats},
                          ensure_ascii=False).encode("utf-8")
    raise HTTPException(400, f"Onbekend formaat {fmt!r}; kies uit {', '.join(FORMATS)}.")


def respond(df: pd.DataFrame, fmt: str, filename: str, **kw) -> Response:
    """An HTTP download response of ``df`` in ``fmt`` (keywords: see :func:`to_bytes`)."""
    if fmt not in FORMATS:
        raise HTTPException(400, f"Onbekend formaat {fmt!r}; kies uit {', '.join(FORMATS)}.")
    body = to_bytes(df, fmt, **kw)
    ext = EXTENSIONS.get(fmt, fmt)
    return Response(body, media_type=FORMATS[fmt],
                    headers={"Content-Disposition": content_disposition(filename, ext)})
