"""Source adapters: each turns one publisher's files (or online tables) into observations.

Every adapter module defines ``NAME`` and ``read(data_dir: Path) -> list[SourceResult]`` and is
listed in :data:`ADAPTER_MODULES`. See :mod:`wijkmonitor.sources.base` for the contract.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Iterator

from .base import (OBS_COLUMNS, REGION_COLUMNS, STATUS_MISSING, STATUS_OK, STATUS_SECRET,
                   SourceError, SourceInfo, SourceResult)

#: Offline-mirror adapters, in ingest order (the ones that define regions come first).
ADAPTER_MODULES: list[str] = [
    "kwb_statline_csv",  # KWB helper: 2024 region backbone first
    "kwb_geojson",  # KWB helper
    "kwb_csv_2019",  # KWB helper
    "kwb_xlsx",  # KWB helper
    "kwb_amsterdam",  # KWB helper
    "kwb_heerlen",  # KWB helper
    "woonikveilig",  # KWB helper
    "buurtenrecommender",  # KWB helper
    "rivm_gezondheid",  # other-sources helper: 50090NED, defines the 2020 regions
    "leefbaarometer",  # other-sources helper: Leefbaarometer 2.0 (2016 indeling)
    "politie",  # other-sources helper: 83648NED / 47013NED crime per gemeente
    "vermogen",  # other-sources helper: household wealth per gemeente
    "statline_online",  # other-sources helper: KWB tables fetched with fetch_statline (if any)
    "pdok_online",  # other-sources helper: PDOK wijkenbuurten fetched with fetch_pdok (if any)
    "registry_online",  # registry helper: tables fetched with 'fetch --all' (if any), lowest rank
]


def adapters() -> dict[str, object]:
    """Import every registered adapter module; returns ``{NAME: module}``."""
    result = {}
    for name in ADAPTER_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        result[module.NAME] = module
    return result


def read_all(data_dir: Path, only: list[str] | None = None) -> Iterator[SourceResult]:
    """Yield the results of every adapter (or those named in ``only``) for ``data_dir``."""
    for name, module in adapters().items():
        if only and name not in only:
            continue
        yield from module.read(Path(data_dir))


__all__ = ["OBS_COLUMNS", "REGION_COLUMNS", "STATUS_MISSING", "STATUS_OK", "STATUS_SECRET",
           "SourceError", "SourceInfo", "SourceResult", "adapters", "read_all", "ADAPTER_MODULES"]
