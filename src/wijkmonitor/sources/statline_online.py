"""CBS StatLine OData (v3) online: fetch tables into the mirror layout, read them back.

There is no internet where the tests run; this module is tested against recorded responses
shaped like the real ``https://opendata.cbs.nl/ODataFeed/odata/<table>/...`` API.

Fetching uses the maintained client :mod:`cbsodata` (``cbsodata.get_meta``: the raw
``UntypedDataSet`` rows with dimension *keys*, following ``odata.nextLink`` paging). What is
written, under ``out_dir``:

* **50090NED** (RIVM health): one CSV per period x age group,
  ``rivm-gezondheid-wijk-buurt/50090NED_<period>_<age>.csv``, with the UntypedDataSet columns
  exactly as the mirror's xlsx files have them (values as text, ``.`` kept), plus a ``.json``
  sidecar with the retrieval date and URL. :mod:`.rivm_gezondheid` reads these when the mirror
  has no xlsx for that period/age (e.g. 2020 18-65).
* **KWB and other tables**: ``cbs-statline-online/<table_id>/`` with ``UntypedDataSet.csv``
  (OData column keys, text values), ``DataProperties.json``, ``TableInfos.json``,
  ``WijkenEnBuurten.json`` (the region dimension: Key -> Title, i.e. region names) and
  ``fetch.json`` (retrieved date, URL, row count). :func:`read` turns the KWB tables declared in
  ``mappings/statline_online.yaml`` into observations and regions.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import base, rivm_gezondheid
from .base import SourceError, SourceInfo, SourceResult

#: Read from the fetched-tables directory too (see pipeline.ingest).
ONLINE = True
NAME = "statline-online"
MAPPING = "statline_online"
RIVM_TABLE = "50090NED"
ODATA_FEED = "https://opendata.cbs.nl/ODataFeed/odata"


def table_url(table_id: str) -> str:
    return f"{ODATA_FEED}/{table_id}/"


def fetch_statline(table_id: str, out_dir: Path, *, filters: str | None = None,
                   select: list[str] | None = None, today: dt.date | None = None) -> list[Path]:
    """Fetch one StatLine table with :mod:`cbsodata` and write it in the mirror layout.

    Parameters
    ----------
    table_id:
        CBS table id, e.g. ``"85984NED"`` (KWB 2024) or ``"50090NED"`` (RIVM health).
    out_dir:
        Root of a (writable) mirror; files go below it as described in the module docstring.
    filters, select:
        Passed to the OData query (``$filter`` / ``$select``), e.g.
        ``filters="SoortRegio_2 eq 'Gemeente  '"``. Leave empty for the whole table.
    today:
        Retrieval date to record (default: today).

    Returns
    -------
    The files written.
    """
    import cbsodata

    out_dir = Path(out_dir)
    retrieved = (today or dt.date.today()).isoformat()
    rows = cbsodata.get_meta(table_id, "UntypedDataSet", filters=filters, select=select)
    if not rows:
        raise SourceError(table_url(table_id), "tabel gaf geen rijen (filter te streng?)")
    frame = pd.DataFrame(rows)
    frame = frame[list(rows[0].keys())]  # the API's column order
    sidecar = {"table_id": table_id, "url": table_url(table_id) + "UntypedDataSet",
               "retrieved": retrieved, "filters": filters, "select": select}
    if table_id.upper() == RIVM_TABLE:
        return _write_rivm(frame, out_dir, sidecar)
    folder = out_dir / base.mapping(MAPPING)["_meta"]["_folder"] / table_id
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "UntypedDataSet.csv"]
    frame.to_csv(written[0], index=False, encoding="utf-8")
    for name in ("DataProperties", "TableInfos", "WijkenEnBuurten"):
        try:
            meta = cbsodata.get_meta(table_id, name)
        except Exception as exc:  # noqa: BLE001 - not every table has a WijkenEnBuurten dimension
            if name == "WijkenEnBuurten":
                continue
            raise SourceError(table_url(table_id) + name, f"ophalen mislukt: {exc}") from exc
        path = folder / f"{name}.json"
        path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        written.append(path)
    sidecar["rows"] = len(frame)
    (folder / "fetch.json").write_text(json.dumps(sidecar, indent=1), encoding="utf-8")
    written.append(folder / "fetch.json")
    return written


def _write_rivm(frame: pd.DataFrame, out_dir: Path, sidecar: dict) -> list[Path]:
    m = base.mapping(rivm_gezondheid.MAPPING)
    meta = m["_meta"]
    folder = out_dir / meta["_folder"]
    folder.mkdir(parents=True, exist_ok=True)
    by_code = {spec["_leeftijd"]: age for age, spec in m["ages"].items()}
    base.require_columns(frame.columns, [meta["_age_column"], meta["_period_column"]],
                         file=sidecar["url"], year=None)
    written = []
    ages = frame[meta["_age_column"]].astype(str).str.strip()
    periods = frame[meta["_period_column"]].astype(str).str.strip()
    for (code, period), part in frame.groupby([ages, periods], sort=True):
        if code not in by_code:
            raise SourceError(sidecar["url"], f"onbekende leeftijdscode {code!r} "
                              "(niet in mappings/rivm_gezondheid.yaml)", field=meta["_age_column"])
        match = re.fullmatch(r"(\d{4})JJ00", period)
        if not match:
            raise SourceError(sidecar["url"], f"onverwachte periode {period!r}",
                              field=meta["_period_column"])
        year = int(match.group(1))
        path = folder / rivm_gezondheid.online_file_name(year, by_code[code])
        part.to_csv(path, index=False, encoding="utf-8")
        path.with_suffix(".json").write_text(json.dumps({**sidecar, "rows": len(part)}, indent=1),
                                             encoding="utf-8")
        written += [path, path.with_suffix(".json")]
    return written


# ---------------------------------------------------------------------------------------
# Reading fetched KWB tables back
# ---------------------------------------------------------------------------------------

def stem_columns(columns: list[str], stems: dict[str, str], *, file: str, year: int) -> dict[str, str]:
    """``{actual OData key: variable}`` for the declared stems; each stem must match once."""
    result = {}
    for stem, variable in stems.items():
        hits = [c for c in columns if re.fullmatch(rf"{re.escape(stem)}_\d+", c)]
        if len(hits) != 1:
            raise SourceError(file, (f"verwachte kolom ontbreekt: {stem}_<n>" if not hits else
                                     f"kolom {stem}_<n> komt {len(hits)} keer voor"),
                              year=year, field=stem)
        result[hits[0]] = variable
    return result


def read_table(data_dir: Path, table_id: str) -> SourceResult:
    """Observations and regions of one fetched KWB table."""
    m = base.mapping(MAPPING)
    meta = m["_meta"]
    spec = m["tables"][table_id]
    year = int(spec["_year"])
    rel = f"{meta['_folder']}/{table_id}/UntypedDataSet.csv"
    folder = Path(data_dir) / meta["_folder"] / table_id
    frame = pd.read_csv(folder / "UntypedDataSet.csv", dtype=str, keep_default_na=False,
                        na_values=[""], encoding="utf-8")
    base.require_columns(frame.columns, [meta["_code_column"], meta["_level_column"]],
                         file=rel, year=year)
    columns = stem_columns(list(frame.columns), spec["stems"], file=rel, year=year)
    frame["_code"] = base.normalise_national(frame[meta["_code_column"]].str.strip())
    fetch = json.loads((folder / "fetch.json").read_text(encoding="utf-8"))
    source_id = f"statline-{table_id.lower()}"
    obs = base.wide_to_observations(frame, code_column="_code", columns=columns, geo_year=year,
                                    period=year, source_id=source_id, file=rel)
    names = None
    dim = folder / "WijkenEnBuurten.json"
    if dim.exists():
        titles = {str(r["Key"]).strip(): str(r["Title"]).strip()
                  for r in json.loads(dim.read_text(encoding="utf-8"))}
        names = frame[meta["_code_column"]].str.strip().map(titles)
    regions = base.regions_from_codes(frame["_code"], None, year)
    regions["name"] = names.to_numpy() if names is not None else None
    info = SourceInfo(source_id=source_id, table_id=table_id, title=spec["_title"],
                      publisher=meta["_publisher"], licence=meta["_licence"], location=rel,
                      retrieved=fetch["retrieved"], adapter=NAME,
                      note=f"Online opgehaald van {fetch['url']}"
                           + (f" (filter {fetch['filters']})" if fetch.get("filters") else ""))
    return SourceResult(info=info, observations=obs, regions=regions)


def read(data_dir: Path) -> list[SourceResult]:
    """Every declared KWB table that was fetched into ``data_dir`` (none in the plain mirror).
    Fetched 50090NED files are read by :mod:`.rivm_gezondheid`."""
    m = base.mapping(MAPPING)
    folder = Path(data_dir) / m["_meta"]["_folder"]
    return [read_table(data_dir, t) for t in m["tables"]
            if (folder / t / "UntypedDataSet.csv").exists()]
