"""The pipeline that moves data one way: sources -> store -> compute.

``ingest`` reads every source adapter into a fresh store version (observations, regions,
sources); ``build`` adds the computed tables (indicator values, and whatever later stages
register in :data:`BUILD_STEPS`). Both replace the store atomically (see :mod:`.store`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import threading
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pandas as pd

from . import config, store
from .area_tables import build_area_tables
from .catalogue import load_catalogue
from .compute import compute, drop_indicator_values
from .series import build_harmonised_values
from .sources import OBS_COLUMNS, REGION_COLUMNS, SourceResult, adapters
from .wijkindex.build import build_wijkindex

#: The stages after compute: ``(label, function(con))``, run in order by ``build``.
BUILD_STEPS: list[tuple[str, Callable[[duckdb.DuckDBPyConnection], object]]] = [
    ("Reeksen op de gemeenten van het laatste jaar", build_harmonised_values),
    ("Gebieden en referentiegroepen", build_area_tables),
    ("Wijkindex", build_wijkindex),  # reads area_values: after the areas
]


class _NullProgress:
    def add_task(self, *a, **k):
        return 0

    def update(self, *a, **k):
        pass

    def advance(self, *a, **k):
        pass


def ingest(data_dir: Path | None = None, store_path: Path | None = None, *,
           only: list[str] | None = None, progress=None, then_build: bool = False) -> dict:
    """Read all sources (or the adapters named in ``only``) into a new store version.

    With ``only``, the other adapters' sources are kept from the current store. Returns a
    summary: number of sources, observations and regions, and adapter warnings.
    """
    data_dir = Path(data_dir) if data_dir else config.data_dir()
    progress = progress or _NullProgress()
    mods = adapters()
    chosen = {n: m for n, m in mods.items() if not only or n in only}
    unknown = set(only or ()) - set(mods)
    if unknown:
        raise ValueError(f"onbekende bron(nen): {', '.join(sorted(unknown))}; "
                         f"bekend: {', '.join(mods)}")
    task = progress.add_task("Bronnen inlezen", total=len(chosen))
    fetched = config.fetched_dir()
    dirs = {}
    for name, module in chosen.items():
        dirs[name] = [data_dir]
        if getattr(module, "ONLINE", False) and fetched.is_dir() and fetched.resolve() != data_dir.resolve():
            dirs[name].append(fetched)  # tables fetched with 'wijkmonitor fetch'
    read: dict[str, list[SourceResult]] = {}
    with _worker(chosen) as worker:
        # the slowest adapters in a second process while this one reads the others
        futures = {name: worker.submit(_read_adapter, name, dirs[name])
                   for name in WORKER_ADAPTERS if name in chosen and worker is not None}
        for name, module in chosen.items():
            if name in futures:
                continue
            progress.update(task, description=f"Bron {name}")
            read[name] = _read_adapter(name, dirs[name], module)
            progress.advance(task)
        for name, future in futures.items():
            progress.update(task, description=f"Bron {name}")
            try:
                read[name] = future.result()
            except Exception:  # noqa: BLE001 - read here: the same result, or the real error
                read[name] = _read_adapter(name, dirs[name], chosen[name])
            progress.advance(task)
    # in the adapters' order, whichever process read them (source precedence follows it)
    results: list[SourceResult] = [res for name in chosen for res in read[name]]
    warnings = [f"{res.info.source_id}: {w}" for res in results for w in res.warnings]
    order = {name: i for i, name in enumerate(mods)}
    with store.writing(store_path, start_from_current=bool(only)) as con:
        if only:
            ids = [r[0] for r in con.execute(
                "SELECT source_id FROM sources WHERE adapter IN (SELECT unnest(?))", [list(chosen)]).fetchall()]
            con.execute("DELETE FROM observation_data WHERE sid IN "
                        "(SELECT sid FROM obs_sources WHERE source_id IN (SELECT unnest(?)))", [ids])
            con.execute("DELETE FROM sources WHERE source_id IN (SELECT unnest(?))", [ids])
            drop_indicator_values(con)
        wtask = progress.add_task("Naar de store schrijven", total=len(results))
        for i, res in enumerate(results):
            info = res.info.as_dict()
            rank = order.get(info["adapter"], len(order)) * 1000 + i
            con.execute("INSERT INTO sources VALUES (?,?,?,?,?,?,?,?,?,?)",
                        [info["source_id"], info["table_id"], info["title"], info["publisher"],
                         info["licence"], info["location"], info["retrieved"], info["adapter"],
                         info["note"], rank])
        # every source's observations in one streamed INSERT, in the same order (one pass
        # over the code dictionaries instead of one per source)
        current: list[SourceResult] = []

        def parts():
            for res in results:
                current[:] = [res]
                yield res.observations[OBS_COLUMNS]
                progress.advance(wtask)

        try:
            store.append_observations(con, parts(), rows_per_part=True)
        except ValueError as exc:  # name the file the rows came from (nothing is written)
            info = current[0].info if current else None
            if info is None:
                raise
            raise ValueError(f"{info.location} ({info.source_id}): {exc}") from None
        _write_regions(con, results, order)
        if then_build:
            _build_into(con, progress)
        summary = _summary(con)
    summary["warnings"] = warnings
    return summary


#: Adapters read in a second process while the others are read in this one (the eight RIVM
#: 50090NED spreadsheets take about as long as all other sources together). Only on a machine
#: with more than one core; ``WIJKMONITOR_INGEST_WORKER=0`` reads everything in this process.
WORKER_ADAPTERS = ("rivm-gezondheid",)


def _read_adapter(name: str, dirs: list[Path], module=None) -> list[SourceResult]:
    """Every result of one adapter for every directory it reads."""
    module = module if module is not None else adapters()[name]
    return [res for directory in dirs for res in module.read(directory)]


@contextlib.contextmanager
def _worker(chosen: dict):
    """A one-process pool (forked: it sees this process's adapters and settings) when it can
    help, else ``None``. A worker that fails is not an error: the adapter is read here."""
    wanted = [n for n in WORKER_ADAPTERS if n in chosen]
    if (not wanted or len(chosen) < 2 or (os.cpu_count() or 1) < 2
            or os.environ.get("WIJKMONITOR_INGEST_WORKER", "1") in ("0", "", "nee", "no")
            or "fork" not in multiprocessing.get_all_start_methods()
            or threading.active_count() > 1):  # forking with other threads running is unsafe
        yield None
        return
    try:
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("fork"))
    except (OSError, ValueError):
        yield None
        return
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _write_regions(con: duckdb.DuckDBPyConnection, results: list[SourceResult], order: dict) -> None:
    frames = []
    for i, res in enumerate(results):
        if res.regions is None or res.regions.empty:
            continue
        reg = res.regions.copy()
        if "change_code" not in reg:
            reg["change_code"] = None
        reg = reg[REGION_COLUMNS + ["change_code"]]
        reg["source_id"] = res.info.source_id
        reg["rank"] = order.get(res.info.adapter, len(order)) * 1000 + i
        frames.append(reg)
    # (names borrowed from another year are dropped here and borrowed again below)
    existing = con.execute("SELECT code, year, level, CASE WHEN name_year IS NULL OR name_year = year "
                           "THEN name END AS name, gemeente_code, wijk_code, change_code, "
                           "source_id, 1e9 AS rank FROM regions").df()
    if frames:
        frames.append(existing)
        allreg = pd.concat(frames, ignore_index=True)
    else:
        allreg = existing
    con.execute("DELETE FROM regions")
    if allreg.empty:
        return
    # Per (code, year) the highest-precedence source's row; names fall back to any source.
    allreg = allreg.sort_values("rank", kind="stable")
    first = allreg.groupby(["code", "year"], sort=False).first().reset_index()
    first = _borrow_names(first)
    con.register("reg_df", first)
    con.execute("""
        INSERT INTO regions
        SELECT r.code, r.year, r.level, r.name, r.gemeente_code, r.wijk_code, r.change_code,
               p.value, r.source_id, r.name_year
        FROM reg_df r
        LEFT JOIN (SELECT region_code, geo_year, value FROM (
                       SELECT o.region_code, o.geo_year, o.value, row_number() OVER (
                           PARTITION BY o.region_code, o.geo_year ORDER BY s.rank) rn
                       FROM observations o JOIN sources s USING (source_id)
                       WHERE o.variable = 'a_inw' AND o.period = o.geo_year AND o.status = 'ok')
                   WHERE rn = 1) p
          ON p.region_code = r.code AND p.geo_year = r.year""")
    con.unregister("reg_df")


def _borrow_names(regions: pd.DataFrame) -> pd.DataFrame:
    """Regions whose sources give no name for their division year (CBS table 50090NED lists
    the 2016 and 2020 wijken and buurten by code only) take the name of the same code in the
    nearest year that has one (ties: the later year); ``name_year`` says which year the name
    is from (equal to ``year`` for a published name, NULL where no year has one)."""
    regions = regions.copy()
    named = regions["name"].notna() & (regions["name"].astype("string").str.strip() != "")
    regions["name_year"] = pd.array(np.where(named, regions["year"], -1), dtype="Int64")
    regions.loc[~named, "name"] = None
    missing = regions.loc[~named, ["code", "year"]].reset_index()
    if missing.empty:
        regions.loc[regions["name_year"] < 0, "name_year"] = pd.NA
        return regions
    donors = regions.loc[named, ["code", "year", "name"]].rename(columns={"year": "from_year"})
    cand = missing.merge(donors, on="code")
    cand["distance"] = (cand["from_year"] - cand["year"]).abs()
    cand = (cand.sort_values(["index", "distance", "from_year"], ascending=[True, True, False])
            .drop_duplicates("index").set_index("index"))
    regions.loc[cand.index, "name"] = cand["name"]
    regions.loc[cand.index, "name_year"] = cand["from_year"].astype("int64")
    regions.loc[regions["name_year"] < 0, "name_year"] = pd.NA
    return regions


def build(store_path: Path | None = None, *, progress=None) -> dict:
    """Compute indicator values (and registered later steps) into a new store version."""
    progress = progress or _NullProgress()
    with store.writing(store_path, start_from_current=True) as con:
        if not con.execute("SELECT count(*) FROM sources").fetchone()[0]:
            raise store.StoreMissing("De store bevat nog geen bronnen: draai eerst 'wijkmonitor ingest'.")
        _build_into(con, progress)
        return _summary(con)


def _build_into(con: duckdb.DuckDBPyConnection, progress) -> None:
    catalogue = load_catalogue()
    task = progress.add_task("Indicatoren berekenen", total=1 + len(BUILD_STEPS))
    compute(con, catalogue)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('catalogue_version', ?)", [catalogue.version])
    progress.advance(task)
    for label, step in BUILD_STEPS:
        progress.update(task, description=label)
        step(con)
        progress.advance(task)


def _summary(con: duckdb.DuckDBPyConnection) -> dict:
    out = {
        "sources": con.execute("SELECT count(*) FROM sources").fetchone()[0],
        "observations": con.execute("SELECT count(*) FROM observations").fetchone()[0],
        "regions": con.execute("SELECT count(*) FROM regions").fetchone()[0],
    }
    if store.has_table(con, "indicator_values"):
        out["indicator_values"] = con.execute("SELECT count(*) FROM indicator_values").fetchone()[0]
    return out


@contextlib.contextmanager
def rich_progress():
    """A Rich progress bar for long CLI work (silent when not on a terminal)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), transient=False) as progress:
        yield progress
