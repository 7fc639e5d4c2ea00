"""CBS KWB exports for gemeente Heerlen, 2016-2020, in SQLite (``cbs-kwb-steden/heerlen/``).

One table per year, StatLine labels flattened with ``_`` (declared per year in
``mappings/kwb_heerlen.yaml``). The rows carry **names only**. Codes are assigned by matching
names against a real CBS name list of gemeente Heerlen (KWB 2024 via woonikveilig ``GM0917.json``):
the gemeente row by name, wijk rows (``Wijk NN ...``) by exact name among the listed wijken, buurt
rows by exact name among the listed buurten of the wijk they follow (a buurt listed under another
wijk is not matched: its code was different in that year). A name that does not match is reported in
:attr:`SourceResult.warnings` and its row dropped: no code is ever made up.

SQL ``NULL`` (StatLine ``.`` became NULL on loading) becomes NaN with status ``ontbreekt``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pandas as pd

from . import _kwb
from .base import SourceError, SourceResult, mapping, require_columns

NAME = "kwb_heerlen"
NOTE = ("City extract of the CBS StatLine KWB table (names only); codes assigned by exact name "
        "match against the CBS KWB 2024 name list of Heerlen (woonikveilig GM0917.json), within "
        "the wijk a buurt is listed under. A national CBS export of the same table, where present, "
        "is authoritative.")


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", str(name)).strip().casefold()


def name_list(path: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """``({normalised wijk name: code}, [(buurt code, normalised name)])`` from a woonikveilig
    gemeente JSON."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise SourceError(path, f"kan namenlijst niet lezen: {exc}") from exc
    wijken = {_norm(w["name"]): str(w["code"]).strip() for w in doc.get("wijken") or []}
    buurten = [(str(b["code"]).strip(), _norm(b["name"])) for b in doc.get("buurten") or []]
    if not wijken or not buurten:
        raise SourceError(path, "namenlijst zonder wijken of buurten")
    return wijken, buurten


def assign_codes(names: list[str], *, gemeente_code: str, gemeente_name: str,
                 wijken: dict[str, str], buurten: list[tuple[str, str]], label: str
                 ) -> tuple[list[str | None], list[str]]:
    """Codes for a name column in KWB order (gemeente, then each wijk followed by its buurten).

    Returns the codes (``None`` where no match) and the warnings.
    """
    codes: list[str | None] = []
    warnings: list[str] = []
    current_wijk: str | None = None
    by_name: dict[str, list[str]] = {}
    for code, nm in buurten:
        by_name.setdefault(nm, []).append(code)
    for i, raw in enumerate(names):
        nm = _norm(raw)
        if i == 0 or nm == _norm(gemeente_name):
            if nm != _norm(gemeente_name):
                warnings.append(f"{label}: eerste rij {raw!r} is niet gemeente {gemeente_name}")
                codes.append(None)
            else:
                codes.append(gemeente_code)
            continue
        if re.match(r"^wijk \d+\b", nm):
            current_wijk = wijken.get(nm)
            if current_wijk is None:
                warnings.append(f"{label}: wijk {raw!r} niet gevonden in de namenlijst; "
                                "rij overgeslagen")
            codes.append(current_wijk)
            continue
        within = [c for c in by_name.get(nm, [])
                  if current_wijk is not None and c[2:8] == current_wijk[2:8]]
        if len(within) == 1:
            codes.append(within[0])
        else:
            elsewhere = [c for c in by_name.get(nm, []) if c not in within]
            why = (f"in de namenlijst alleen onder {', '.join(elsewhere)}" if elsewhere
                   else "niet in de namenlijst")
            warnings.append(f"{label}: buurt {raw!r} (onder wijk {current_wijk or 'onbekend'}) "
                            f"{why}; rij overgeslagen")
            codes.append(None)
    return codes, warnings


def read_table(con: sqlite3.Connection, table: str, *, path: Path, year: int) -> pd.DataFrame:
    """One year table, as stored."""
    try:
        return pd.read_sql(f'select * from "{table}"', con)
    except (pd.errors.DatabaseError, sqlite3.Error) as exc:
        raise SourceError(path, f"tabel {table!r} niet leesbaar: {exc}", year=year) from exc


def read(data_dir: Path) -> list[SourceResult]:
    """Every declared Heerlen year."""
    data_dir = Path(data_dir)
    spec_all = mapping(NAME)
    meta = spec_all["_meta"]
    path = data_dir / meta["_file"]
    if not path.is_file():
        raise SourceError(path, "bestand ontbreekt")
    wijken, buurten = name_list(data_dir / meta["_names_file"])
    name_col, change_col = meta["_name_column"], meta["_change_column"]
    footer = tuple(meta.get("_footer_prefixes", []))
    results = []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for year, spec in spec_all.items():
            if not isinstance(year, int):
                continue
            frame = read_table(con, spec["_table"], path=path, year=year)
            columns = dict(spec["columns"])
            require_columns(frame.columns, [name_col, change_col] + list(columns), file=path,
                            year=year)
            frame[name_col] = frame[name_col].astype(str).str.strip()
            frame = frame[~frame[name_col].str.startswith(footer)].reset_index(drop=True)
            codes, warnings = assign_codes(
                frame[name_col].tolist(), gemeente_code=meta["_gemeente_code"],
                gemeente_name=meta["_gemeente_name"], wijken=wijken, buurten=buurten,
                label=f"{path.name} {spec['_table']}")
            frame["_code"] = codes
            dup = frame["_code"].dropna().duplicated()
            if dup.any():
                code = frame["_code"].dropna()[dup].iloc[0]
                raise SourceError(path, f"twee rijen gekoppeld aan dezelfde code {code}",
                                  year=year, field=name_col)
            frame = frame[frame["_code"].notna()].reset_index(drop=True)
            source_id = f"kwb-{year}-heerlen-sqlite"
            obs = _kwb.melt(frame, code_column="_code", columns=columns, geo_year=year,
                            period=year, source_id=source_id, file=path, year=year)
            regions = _kwb.regions(frame["_code"], frame[name_col], year,
                                   change_codes=frame[change_col].map(
                                       lambda v: None if pd.isna(v) else str(int(float(v)))))
            info = _kwb.source_info(meta, spec, source_id=source_id,
                                    location=_kwb.relative_location(path, data_dir),
                                    adapter=NAME, note=NOTE)
            results.append(SourceResult(info=info, observations=obs, regions=regions,
                                        warnings=warnings))
    finally:
        con.close()
    return results
