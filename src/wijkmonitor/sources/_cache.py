"""A disk cache of parsed spreadsheets for the source adapters.

Parsing an xlsx file is the slowest part of reading the mirror (the eight RIVM 50090NED files
take seconds each). :func:`cached_frame` keeps what a reader made of a file as Parquet under
``<var>/cache/sources/`` (:func:`wijkmonitor.config.var_dir`), keyed by the file's resolved path,
size, modification time and the reader's ``version``: a changed file or reader is parsed anew,
an unchanged one is read back in a fraction of the time. Every column is stored as text
(``None`` for a missing cell), so only readers that return text frames may use it. Writing is
atomic (temporary file, then rename); a cache that cannot be written or read is skipped, never
an error. ``WIJKMONITOR_PARSE_CACHE=0`` switches it off.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from wijkmonitor import config


def cache_dir() -> Path:
    return config.var_dir() / "cache" / "sources"


def enabled() -> bool:
    return os.environ.get("WIJKMONITOR_PARSE_CACHE", "1") not in ("0", "", "nee", "no")


def _key(path: Path, version: str) -> str:
    st = path.stat()
    raw = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{version}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def cached_frame(path: Path, reader: Callable[[Path], pd.DataFrame], *, version: str
                 ) -> pd.DataFrame:
    """``reader(path)``, from the cache when the file and ``version`` are unchanged.

    The frame comes back with ``object`` columns holding ``str`` or ``NaN`` (as
    ``pd.read_excel(dtype=str)`` gives), whether parsed or read from the cache.
    """
    path = Path(path)
    if not enabled():
        return reader(path)
    try:
        target = cache_dir() / f"{_key(path, version)}.parquet"
    except OSError:
        return reader(path)
    if target.is_file():
        try:
            table = pq.read_table(target)
            return pd.DataFrame({name: _as_object(table.column(name))
                                 for name in table.column_names}, dtype=object)
        except Exception:  # noqa: BLE001 - a damaged cache file is parsed anew
            pass
    frame = reader(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        table = pa.table({str(c): pa.array(frame[c].to_numpy(dtype=object), type=pa.string(),
                                           from_pandas=True) for c in frame.columns})
        tmp = target.with_name(f"{target.name}.{os.getpid()}.part")
        pq.write_table(table, tmp)
        os.replace(tmp, target)
    except Exception:  # noqa: BLE001 - no cache, same result
        pass
    return frame


def _as_object(column: pa.ChunkedArray):
    import numpy as np

    values = column.to_numpy(zero_copy_only=False).astype(object)
    values[column.is_null().to_numpy(zero_copy_only=False)] = np.nan
    return values
