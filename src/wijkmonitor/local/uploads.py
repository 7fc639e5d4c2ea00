"""Local data: a gemeente uploads its own indicator values (CSV or XLSX).

File layout: one row per region x indicator x year, with at least the columns

``region`` (or ``area``, ``regio``, ``gebied``, ``code``)
    A CBS region code of the gemeente (``WK034403``, ``BU0363AA02``) or an area id; the caller
    passes the set of valid codes for the gemeente (default: its 2024 CBS codes).
``indicator``
    A catalogue indicator id (or a local indicator the caller declares valid).
``year`` (or ``jaar``)
    1900-2100.
``value`` (or ``waarde``)
    A number (``12.5`` or ``12,5``), or ``.`` for a value the gemeente keeps secret (stored
    without a number, status ``geheim``).

Validation happens completely before anything is written (:func:`validate_upload`): every
rejected row comes back as a :class:`~wijkmonitor.local.errors.RowError` (row number as a
spreadsheet shows it, column, reason). :func:`upload` then writes the upload record, all its
values and one audit row in the caller's transaction, so an upload lands whole or not at all.

Local values are stored apart from CBS values, each with the upload that brought it and that
upload's ``source``; :func:`local_values` returns them with that source, so they are never
mixed silently with CBS values of the same indicator.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from . import audit, bounds
from .errors import NotFound, RowError, ValidationFailed
from .models import LocalUpload, LocalValue
from .permissions import Actor, check_gemeente_code, require_edit
from .resolvers import CodesProvider, default_codes_provider, default_indicator_resolver
from .tabular import MAX_UPLOAD_BYTES, parse_number, parse_year, read_table, require_columns

COLUMNS = {
    "region": ("region", "area", "regio", "gebied", "code", "regiocode"),
    "indicator": ("indicator", "indicator_id"),
    "year": ("year", "jaar", "period", "periode"),
    "value": ("value", "waarde"),
}
SECRET_MARKERS = (".", "x", "geheim")
#: Rows are written in chunks of this size (all in one transaction).
INSERT_CHUNK = 1000


@dataclass
class ValidatedUpload:
    """A validated upload, ready to be written."""

    filename: str
    sha256: str
    gemeente: str
    values: pd.DataFrame  # columns region, indicator_id, year, value, status; index = row


def _indicator_checker(indicators: Iterable[str] | Callable[[str], object] | None
                       ) -> Callable[[str], bool]:
    if indicators is None:
        indicators = default_indicator_resolver
    if callable(indicators):
        cache: dict[str, bool] = {}

        def known(ind: str) -> bool:
            if ind not in cache:
                try:
                    indicators(ind)
                    cache[ind] = True
                except (NotFound, LookupError):
                    cache[ind] = False
            return cache[ind]
        return known
    allowed = set(indicators)
    return allowed.__contains__


def validate_upload(data: bytes | Path | str, filename: str | None, gemeente: str, *,
                    valid_codes: Iterable[str] | None = None,
                    codes_provider: CodesProvider = default_codes_provider,
                    indicators: Iterable[str] | Callable[[str], object] | None = None,
                    max_bytes: int = MAX_UPLOAD_BYTES) -> ValidatedUpload:
    """Check an upload completely; raise :class:`ValidationFailed` listing every bad row.

    Parameters
    ----------
    data : bytes or path
        The file.
    gemeente : str
        ``GMxxxx`` the values are for.
    valid_codes : iterable of str, optional
        Region codes / area ids of that gemeente (default: ``codes_provider(gemeente)``).
    indicators : iterable of ids or resolver callable, optional
        Known indicator ids (default: the shipped catalogue).
    max_bytes : int
        Size limit (default 5 MB).
    """
    gemeente = check_gemeente_code(gemeente)
    if isinstance(data, (str, Path)):
        filename = filename or Path(data).name
        if Path(data).stat().st_size > max_bytes:
            read_table(data, filename, max_bytes=max_bytes)  # raises the size error
        data = Path(data).read_bytes()
    filename = filename or "upload"
    table = read_table(data, filename, max_bytes=max_bytes)
    cols = require_columns(table, filename, COLUMNS)
    codes = set(valid_codes) if valid_codes is not None else set(codes_provider(gemeente))
    known = _indicator_checker(indicators)

    errors: list[RowError] = []
    out: list[dict] = []
    first_seen: dict[tuple, int] = {}
    for row, rec in table.iterrows():
        row = int(row)
        region, ind = rec[cols["region"]], rec[cols["indicator"]]
        year_txt, value_txt = rec[cols["year"]], rec[cols["value"]]
        bad = False
        if not region:
            errors.append(RowError(row, cols["region"], "lege regiocode"))
            bad = True
        elif region not in codes:
            errors.append(RowError(row, cols["region"],
                                   f"code hoort niet bij gemeente {gemeente}", region))
            bad = True
        if not ind:
            errors.append(RowError(row, cols["indicator"], "lege indicator"))
            bad = True
        elif not known(ind):
            errors.append(RowError(row, cols["indicator"], "onbekende indicator (niet in de "
                                                           "catalogus)", ind))
            bad = True
        year = parse_year(year_txt)
        if year is None:
            errors.append(RowError(row, cols["year"], "geen jaartal (1900-2100)", year_txt))
            bad = True
        status, value = "ok", None
        if value_txt.strip().lower() in SECRET_MARKERS:
            status = "geheim"
        elif not value_txt.strip():
            errors.append(RowError(row, cols["value"], "lege waarde: laat de rij weg, of schrijf "
                                                       "'.' voor een geheime waarde"))
            bad = True
        else:
            value = parse_number(value_txt)
            if value is None:
                errors.append(RowError(row, cols["value"], "geen getal", value_txt))
                bad = True
        if bad:
            continue
        key = (region, ind, year)
        if key in first_seen:
            errors.append(RowError(row, None, f"dubbele rij: zelfde regio, indicator en jaar als "
                                              f"rij {first_seen[key]}",
                                   f"{region} / {ind} / {year}"))
            continue
        first_seen[key] = row
        out.append({"row": row, "region": region, "indicator_id": ind, "year": year,
                    "value": value, "status": status})
    if errors:
        raise ValidationFailed(f"{len(errors)} fout(en) gevonden; er is niets opgeslagen",
                               errors, file=filename)
    if not out:
        raise ValidationFailed("het bestand bevat geen waarden", file=filename)
    values = pd.DataFrame(out).set_index("row")
    return ValidatedUpload(filename=filename, sha256=hashlib.sha256(data).hexdigest(),
                           gemeente=gemeente, values=values)


def upload(session: Session, actor: Actor, data: bytes | Path | str, filename: str | None,
           gemeente: str, *, source: str, **validate_kwargs) -> LocalUpload:
    """Validate and store an upload (one transaction: the caller commits).

    Permission: the actor must be allowed to edit ``gemeente``. Nothing is written unless every
    row is valid. Returns the new :class:`LocalUpload`.
    """
    gemeente = check_gemeente_code(gemeente)
    require_edit(actor, gemeente, "lokale gegevens")
    source = bounds.text(source, "source", label="bron")
    if filename is not None:
        filename = bounds.text(Path(filename).name, "filename", label="bestandsnaam")
    if not source:
        raise ValidationFailed("bron ontbreekt: zeg waar de cijfers vandaan komen")
    checked = validate_upload(data, filename, gemeente, **validate_kwargs)
    record = LocalUpload(gemeente=gemeente, filename=Path(checked.filename).name,
                         sha256=checked.sha256, source=source,
                         n_values=len(checked.values), uploaded_by_id=actor.id,
                         uploaded_by_name=actor.name)
    session.add(record)
    session.flush()
    rows = [{"upload_id": record.id, "gemeente": gemeente, "region": r.region,
             "indicator_id": r.indicator_id, "year": int(r.year),
             "value": None if r.status != "ok" else float(r.value), "status": r.status}
            for r in checked.values.itertuples()]
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(insert(LocalValue), rows[start:start + INSERT_CHUNK])
    summary = record.to_dict()
    summary["indicators"] = sorted(checked.values["indicator_id"].unique().tolist())
    summary["years"] = sorted(int(y) for y in checked.values["year"].unique())
    audit.record(session, actor, "upload", "local_upload", record.id, None, summary)
    session.flush()
    return record


def local_values(session: Session, *, gemeente: str | None = None,
                 indicator_id: str | None = None, region: str | None = None,
                 regions: Iterable[str] | None = None,
                 latest_only: bool = True) -> pd.DataFrame:
    """Uploaded values with their source.

    Columns: ``region, indicator_id, year, value, status, source, upload_id, uploaded_at,
    uploaded_by, gemeente``. ``regions`` keeps only those region codes / area ids. With
    ``latest_only`` (default) a region x indicator x year uploaded more than once shows only
    the value of the newest upload.
    """
    q = (select(LocalValue.region, LocalValue.indicator_id, LocalValue.year, LocalValue.value,
                LocalValue.status, LocalUpload.source, LocalValue.upload_id,
                LocalUpload.uploaded_at, LocalUpload.uploaded_by_name.label("uploaded_by"),
                LocalValue.gemeente)
         .join(LocalUpload, LocalUpload.id == LocalValue.upload_id))
    if gemeente:
        q = q.where(LocalValue.gemeente == gemeente)
    if indicator_id:
        q = q.where(LocalValue.indicator_id == indicator_id)
    if region:
        q = q.where(LocalValue.region == region)
    if regions is not None:
        q = q.where(LocalValue.region.in_(list(regions)))
    frame = pd.DataFrame(session.execute(q).mappings().all(),
                         columns=["region", "indicator_id", "year", "value", "status", "source",
                                  "upload_id", "uploaded_at", "uploaded_by", "gemeente"])
    if latest_only and not frame.empty:
        frame = (frame.sort_values("upload_id")
                 .drop_duplicates(["region", "indicator_id", "year"], keep="last"))
    return frame.sort_values(["region", "indicator_id", "year"]).reset_index(drop=True)


def list_uploads(session: Session, gemeente: str | None = None) -> list[LocalUpload]:
    """Uploads, newest first (optionally of one gemeente)."""
    q = select(LocalUpload).order_by(LocalUpload.id.desc())
    if gemeente:
        q = q.where(LocalUpload.gemeente == gemeente)
    return list(session.scalars(q))
