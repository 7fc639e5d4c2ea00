"""Downloads of exactly the table (or map) a page shows: CSV, XLSX, Parquet and GeoJSON.

Numbers are written as numbers (dot decimals in CSV, numeric cells in XLSX, doubles in
Parquet); a value that is not shown is empty, with its ``status`` and ``reason`` in the same
row, never a number.

Every download names its file with :func:`wijkmonitor.bounds.content_disposition`: the name
is built from a whitelist of characters (``A-Z a-z 0-9 . _ -``, anything else becomes ``-``) and sent both as
``filename`` and as RFC 6266 ``filename*``, so no request value can add a header parameter or
a line to the response.
"""

from __future__ import annotations

import io
import json

import pandas as pd
from fastapi import HTTPException
from fastapi.responses import Response

from ..bounds import content_disposition
from .data import records

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
    "geojson": "application/geo+json",
}
FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel (XLSX)", "parquet": "Parquet", "geojson": "GeoJSON"}


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


def to_bytes(df: pd.DataFrame, fmt: str, *, sheet: str = "wijkmonitor", geometry=None) -> bytes:
    """Serialise a table. ``geometry``: mapping code -> GeoJSON geometry dict (for geojson)."""
    df = _clean(df)
    if fmt == "csv":
        return df.to_csv(index=False).encode("utf-8")
    if fmt == "xlsx":
        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as xw:
            df.to_excel(xw, index=False, sheet_name=sheet[:31])
        return buf.getvalue()
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
    raise HTTPException(400, f"onbekend formaat {fmt!r}; kies uit {', '.join(FORMATS)}")


def respond(df: pd.DataFrame, fmt: str, filename: str, **kw) -> Response:
    """An HTTP download response of ``df`` in ``fmt``."""
    if fmt not in FORMATS:
        raise HTTPException(400, f"onbekend formaat {fmt!r}; kies uit {', '.join(FORMATS)}")
    body = to_bytes(df, fmt, **kw)
    return Response(body, media_type=FORMATS[fmt],
                    headers={"Content-Disposition": content_disposition(filename, fmt)})
