"""CBS/RIVM 50090NED "Gezondheid per wijk en buurt" (2012/2016/2020, indeling 2020).

Mirror: ``rivm-gezondheid-wijk-buurt/`` holds one xlsx per period and age group in the OData
``UntypedDataSet`` layout (values are space-padded text, ``.`` = suppressed / not estimated).
All three periods are published on the **2020 indeling**, so every observation has
``geo_year`` 2020 and ``period`` from ``Perioden`` (``2012JJ00`` -> 2012).

The column translation is declared in ``mappings/rivm_gezondheid.yaml``. A measure column that
is entirely empty in a file was not estimated for that wave and age group (e.g. "Stress" in
2012 and 2016): it yields no observations and is listed in the result's warnings. Single empty
cells give status ``ontbreekt``, ``.`` gives ``geheim``.

A period/age whose mirror file is absent (2020, 18-65) is read from ``50090NED_<period>_<age>.csv``
in the same folder if :func:`wijkmonitor.sources.statline_online.fetch_statline` wrote it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from . import _cache, base
from .base import SourceError, SourceInfo, SourceResult

NAME = "rivm-gezondheid"
MAPPING = "rivm_gezondheid"


def online_file_name(period: int, age: str) -> str:
    """File name :func:`statline_online.fetch_statline` writes for one period and age group."""
    return f"50090NED_{period}_{age}.csv"


def read_table(path: Path) -> pd.DataFrame:
    """Read one 50090NED file (xlsx from the mirror or CSV written by the online fetcher) as text.

    A parsed xlsx is kept in the parse cache (:mod:`._cache`) for the next build."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        return _cache.cached_frame(path, _read_xlsx, version="rivm-xlsx-1")
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                           encoding="utf-8")
    raise SourceError(path, f"onbekend bestandstype {path.suffix!r} (verwacht .xlsx of .csv)")


def _read_xlsx(path: Path) -> pd.DataFrame:
    """Parse one mirror xlsx (python-calamine; openpyxl when it is missing) into text columns."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # python-calamine not installed: ~6x slower but equivalent
        return pd.read_excel(path, dtype=str, engine="openpyxl")
    # Straight from calamine (pandas' per-cell conversion would double the time).
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    if not rows:
        raise SourceError(path, "leeg werkblad")
    header = [str(c) for c in rows[0]]
    body = np.empty((len(rows) - 1, len(header)), dtype=object)
    body[:] = rows[1:]
    # calamine gives "" for empty cells and floats for numeric cells: text like read_excel
    # (the empty cells of all columns at once, in numpy, rather than column by column)
    body[(body == "") | pd.isna(body)] = np.nan
    frame = pd.DataFrame(body, columns=header, dtype=object)
    for col in header:
        if col in _NUMERIC_CELL_COLUMNS and not frame[col].map(type).eq(str).all():
            frame[col] = frame[col].map(_cell_text)
    return frame


#: Columns that xlsx files store as numbers (the rest is text in the OData layout).
_NUMERIC_CELL_COLUMNS = {"ID", "Leeftijd"}


def _cell_text(value) -> str | float:
    if value is None or value == "":
        return np.nan
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_file(path: Path, *, period: int, age: str, data_dir: Path | None = None,
              source_id: str | None = None, known_codes: set | None = None) -> SourceResult:
    """Read one 50090NED file for one period and age group.

    Parameters
    ----------
    path:
        The xlsx/CSV file.
    period, age:
        What the mapping says the file holds; checked against ``Perioden`` and ``Leeftijd``.
    data_dir:
        Used to write ``location`` relative to the mirror.
    known_codes:
        Region codes already given by another file of the table: when this file has exactly
        these, its ``regions`` is None (the same regions once, see :func:`read`).
    """
    m = base.mapping(MAPPING)
    meta = m["_meta"]
    path = Path(path)
    rel = _relative(path, data_dir)
    frame = read_table(path)
    columns = m["columns"][age]
    key_cols = [meta["_code_column"], meta["_name_column"], meta["_level_column"],
                meta["_period_column"], meta["_age_column"], meta["_margin_column"]]
    base.require_columns(frame.columns, key_cols + list(columns), file=rel, year=period)

    # Only the estimate itself (MW00000); the online table also carries margins.
    margin = frame[meta["_margin_column"]].str.strip()
    frame = frame[margin == meta["_value_margin"]].reset_index(drop=True)
    leeftijd = m["ages"][age]["_leeftijd"]
    _check_constant(frame, meta["_age_column"], leeftijd, rel, period)
    _check_constant(frame, meta["_period_column"], f"{period}JJ00", rel, period)

    codes = base.normalise_national(frame[meta["_code_column"]].str.strip())
    frame = frame.assign(_code=codes)
    dup = codes.duplicated()
    if dup.any():
        raise SourceError(rel, f"regiocode {codes[dup].iloc[0]!r} komt dubbel voor", year=period,
                          row=int(np.flatnonzero(dup)[0]) + 2, field=meta["_code_column"])

    warnings = []
    used = {}
    for col, var in columns.items():
        if frame[col].isna().all():
            warnings.append(f"{rel}: kolom {col} is leeg: niet geschat voor {period}, {age}")
        else:
            used[col] = var
    source_id = source_id or f"rivm-50090ned-{period}-{age}"
    obs = fast_observations(frame, code_column="_code", columns=used,
                            geo_year=int(meta["_geo_year"]), period=period,
                            source_id=source_id, file=rel)
    info = SourceInfo(
        source_id=source_id, table_id=meta["_table_id"],
        title=f"{meta['_title']}, {period}, {m['ages'][age]['_label']}",
        publisher=meta["_publisher"], licence=meta["_licence"], location=rel,
        retrieved=_retrieved(path, meta), adapter=NAME,
        note="Modelschattingen (small-area estimates); geo_year 2020 voor alle perioden.")
    same = known_codes is not None and set(frame["_code"]) == known_codes
    return SourceResult(info=info, observations=obs, regions=None if same else _regions(frame, meta),
                        warnings=warnings)


def read(data_dir: Path) -> list[SourceResult]:
    """Read every period x age group of 50090NED present in ``data_dir``."""
    m = base.mapping(MAPPING)
    folder = Path(data_dir) / m["_meta"]["_folder"]
    results: list[SourceResult] = []
    missing: list[str] = []
    for period, per_age in m["files"].items():
        for age in m["ages"]:
            name = per_age.get(f"_{age}")
            candidates = ([folder / name] if name else []) + [folder / online_file_name(period, age)]
            path = next((p for p in candidates if p.exists()), None)
            if path is None:
                missing.append(f"{period} {age}")
                continue
            # the regions are those of the first file unless a file's codes differ
            known = set(results[0].regions["code"]) if results else None
            results.append(read_file(path, period=int(period), age=age, data_dir=data_dir,
                                     known_codes=known))
    if results:
        if missing:
            results[0].warnings.append(
                f"{m['_meta']['_folder']}: niet in de mirror: {', '.join(missing)} "
                "(haal online op met fetch_statline('50090NED', ...))")
    return results


def fast_observations(frame: pd.DataFrame, *, code_column: str, columns: dict[str, str],
                      geo_year: int, period: int, source_id: str, file: str) -> pd.DataFrame:
    """Same result as :func:`base.wide_to_observations`, but parses each distinct text value
    once (a file has ~600k cells and only a few thousand distinct values)."""
    if not columns:
        return base.empty_observations()
    n = len(frame)
    cols = list(columns)
    stacked = pd.Series(np.concatenate([frame[c].to_numpy(dtype=object) for c in cols]),
                        dtype=object)
    stacked = stacked.where(stacked.notna(), "")
    codes_idx, uniques = pd.factorize(stacked, use_na_sentinel=False)
    try:
        u_values, u_status = base.parse_values(pd.Series(uniques, dtype=object))
    except ValueError:
        for c in cols:  # name the first bad cell as a spreadsheet shows it
            try:
                base.parse_values(frame[c])
            except ValueError as exc:
                pos = base._first_bad_position(frame[c])
                raise SourceError(file, str(exc), year=period, row=pos + 2, field=c) from exc
        raise
    k = len(cols)
    s_idx, s_uniques = pd.factorize(pd.Series(u_status, dtype=object))
    # the text columns straight from their few distinct strings (Arrow), not from a Python
    # object per row: the same pandas string columns
    return pd.DataFrame({
        "region_code": _text(np.tile(np.arange(n), k), frame[code_column].to_numpy(dtype=object)),
        "geo_year": np.full(n * k, int(geo_year), dtype="int64"),
        "period": np.full(n * k, int(period), dtype="int64"),
        "variable": _text(np.repeat(np.arange(k), n), [columns[c] for c in cols]),
        "value": u_values[codes_idx],
        "status": _text(s_idx[codes_idx], list(s_uniques)),
        "source_id": _text(np.zeros(n * k, dtype=np.int32), [source_id]),
    })


_STR = pd.Series(["tekst"]).dtype  # the default string dtype of this pandas


def _text(indices: np.ndarray, dictionary) -> pd.api.extensions.ExtensionArray:
    """``dictionary[indices]`` as a pandas string column (missing stays missing)."""
    decoded = pa.DictionaryArray.from_arrays(
        pa.array(indices, type=pa.int32()),
        pa.array(dictionary, type=pa.large_string(), from_pandas=True)).dictionary_decode()
    return pd.array(decoded, dtype=_STR)


def _regions(frame: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """Regions of the 2020 indeling. ``Gemeentenaam_1`` is the gemeente's name on every row, so
    only land and gemeente rows get a name; wijk and buurt names are not in this table."""
    level = frame[meta["_level_column"]].str.strip().str.lower()
    names = frame[meta["_name_column"]].str.strip().where(level.isin(["land", "gemeente"]), None)
    regions = base.regions_from_codes(frame["_code"], None, int(meta["_geo_year"]))
    regions["name"] = names.to_numpy()
    return regions


def _check_constant(frame: pd.DataFrame, column: str, expected: str, file: str, year: int) -> None:
    values = frame[column].str.strip()
    bad = values != expected
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise SourceError(file, f"verwacht {expected!r}, gevonden {values.iloc[pos]!r}",
                          year=year, row=pos + 2, field=column)


def _relative(path: Path, data_dir: Path | None) -> str:
    if data_dir is not None:
        try:
            return str(Path(path).resolve().relative_to(Path(data_dir).resolve()))
        except ValueError:
            pass
    return str(path)


def _retrieved(path: Path, meta: dict) -> str:
    """Mirror files: the commit date the folder README gives; fetched files: their sidecar."""
    sidecar = path.with_suffix(".json")
    if path.suffix == ".csv" and sidecar.exists():
        import json
        return json.loads(sidecar.read_text(encoding="utf-8"))["retrieved"]
    return str(meta["_retrieved"])
