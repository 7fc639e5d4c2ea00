"""How the ingest reads and writes the sources (issue 14, build speed), on made-up adapters.

The slow adapters are read in a second process (``pipeline.WORKER_ADAPTERS``): the store must
not depend on it. All observations go into the store in one stream: a bad row must still be
named by its own file and row."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
import types

import duckdb
import pandas as pd
import pytest

from wijkmonitor import pipeline
from wijkmonitor.sources.base import SourceInfo, SourceResult


def _adapter(name: str, value: float, *, fail: bool = False):
    def read(data_dir):
        with open(data_dir / f"pids-{name}", "a") as fh:  # which process read it
            fh.write(f"{os.getpid()}\n")
        if fail and os.getpid() != PARENT:  # fails only in the worker
            raise RuntimeError("worker kapot")
        info = SourceInfo(source_id=f"{name}-src", table_id=name, title=name, publisher="test",
                          licence="CC BY 4.0", location=f"{name}.csv", retrieved="2026-01-01",
                          adapter=name)
        obs = pd.DataFrame({"region_code": ["GM0001", "GM0002"], "geo_year": [2024, 2024],
                            "period": [2024, 2024], "variable": ["a_inw", "a_inw"],
                            "value": [value, value + 1], "status": ["ok", "ok"],
                            "source_id": [info.source_id] * 2})
        regions = pd.DataFrame({"code": ["GM0001", "GM0002"], "year": [2024, 2024],
                                "level": ["gemeente"] * 2, "name": [f"{name} 1", f"{name} 2"],
                                "gemeente_code": ["GM0001", "GM0002"], "wijk_code": [None, None]})
        return [SourceResult(info=info, observations=obs, regions=regions,
                             warnings=[f"pid-onafhankelijke waarschuwing van {name}"])]
    return types.SimpleNamespace(NAME=name, read=read)


PARENT = os.getpid()


def in_a_fresh_process(test):
    """Run ``test`` in a new pytest process when this one has other threads: the ingest forks
    its worker only in a process with one thread (forking beside running threads is unsafe),
    and earlier tests of a whole-suite run leave threads behind (web servers, thread pools)."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        if threading.active_count() > 1 and not os.environ.get("WIJKMONITOR_TEST_FRESH"):
            r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                f"{__file__}::{test.__name__}"],
                               env=dict(os.environ, WIJKMONITOR_TEST_FRESH="1"),
                               capture_output=True, text=True, timeout=600)
            assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
            return
        assert threading.active_count() == 1
        return test(*args, **kwargs)
    return run


def _pids(tmp_path, name: str) -> list[int]:
    return [int(x) for x in (tmp_path / f"pids-{name}").read_text().split()]


def _ingest(tmp_path, monkeypatch, worker: str, *, fail: bool = False):
    slow = pipeline.WORKER_ADAPTERS[0]
    mods = {slow: _adapter(slow, 100.0, fail=fail), "other": _adapter("other", 5.0)}
    monkeypatch.setattr(pipeline, "adapters", lambda: mods)
    monkeypatch.setenv("WIJKMONITOR_INGEST_WORKER", worker)
    monkeypatch.setenv("WIJKMONITOR_FETCHED", str(tmp_path / "geen-mirror"))
    path = tmp_path / f"w{worker}{'f' if fail else ''}.duckdb"
    summary = pipeline.ingest(tmp_path, path)
    with duckdb.connect(str(path), read_only=True) as con:
        sources = con.execute("SELECT source_id, adapter, rank FROM sources ORDER BY rank").fetchall()
        regions = con.execute("SELECT code, name, source_id, population FROM regions ORDER BY code").fetchall()
        obs = con.execute("SELECT region_code, value, source_id FROM observations "
                          "ORDER BY source_id, region_code").fetchall()
    return summary, sources, regions, obs


@in_a_fresh_process
def test_worker_gives_the_same_store_and_precedence(tmp_path, monkeypatch):
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: no worker")
    slow = pipeline.WORKER_ADAPTERS[0]
    with_worker = _ingest(tmp_path, monkeypatch, "1")
    assert len(_pids(tmp_path, slow)) == 1
    assert _pids(tmp_path, slow)[0] != PARENT  # read in the worker
    assert _pids(tmp_path, "other") == [PARENT]
    without = _ingest(tmp_path, monkeypatch, "0")
    assert _pids(tmp_path, slow)[1] == PARENT
    assert with_worker == without
    summary, sources, regions, obs = with_worker
    # the worker's adapter comes first in the declared order, so it keeps rank 0 and wins
    # rank: adapter position x 1000 + result position (0 and 1 x 1000 + 1)
    assert sources == [(f"{slow}-src", slow, 0), ("other-src", "other", 1001)]
    assert regions == [("GM0001", f"{slow} 1", f"{slow}-src", 100.0),
                       ("GM0002", f"{slow} 2", f"{slow}-src", 101.0)]
    assert len(obs) == 4
    assert summary["warnings"] == [f"{slow}-src: pid-onafhankelijke waarschuwing van {slow}",
                                   "other-src: pid-onafhankelijke waarschuwing van other"]


@in_a_fresh_process
def test_a_failing_worker_is_read_again_here(tmp_path, monkeypatch):
    """An adapter that fails in the worker process is read in the ingest's own process."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: no worker")
    assert _ingest(tmp_path, monkeypatch, "1", fail=True) == _ingest(tmp_path, monkeypatch, "0")
    pids = _pids(tmp_path, pipeline.WORKER_ADAPTERS[0])
    assert pids[0] != PARENT and pids[1:] == [PARENT, PARENT]  # worker, again here, without


def test_a_bad_row_in_a_later_source_is_named_by_its_own_file_and_row(tmp_path, monkeypatch):
    """All sources go into the store in one stream: an empty region code in the second row of
    the second source is reported as that file's row 2 (not row 4 of the stream), and the store
    is not written."""
    first, second = _adapter("first", 1.0), _adapter("second", 2.0)
    real_read = second.read

    def broken(data_dir):
        results = real_read(data_dir)
        results[0].observations.loc[1, "region_code"] = None
        return results

    second.read = broken
    monkeypatch.setattr(pipeline, "adapters", lambda: {"first": first, "second": second})
    monkeypatch.setenv("WIJKMONITOR_FETCHED", str(tmp_path / "geen-mirror"))
    path = tmp_path / "bad.duckdb"
    with pytest.raises(ValueError) as err:
        pipeline.ingest(tmp_path, path)
    msg = str(err.value)
    assert msg.startswith("second.csv (second-src): ") and "'region_code'" in msg and "rij 2" in msg
    assert not path.exists()
