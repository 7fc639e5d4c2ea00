"""The parse cache of spreadsheets (sources/_cache.py): same frame, invalidated by file and
reader version, and never an error."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from wijkmonitor.config import data_dir
from wijkmonitor.sources import _cache, rivm_gezondheid


@pytest.fixture()
def var(tmp_path, monkeypatch):
    monkeypatch.setenv("WIJKMONITOR_VAR", str(tmp_path / "var"))
    monkeypatch.delenv("WIJKMONITOR_PARSE_CACHE", raising=False)
    return tmp_path / "var"


def _reader(calls):
    def read(path):
        calls.append(path)
        lines = path.read_text(encoding="utf-8").splitlines()
        return pd.DataFrame({"a": [v or np.nan for v in lines]}, dtype=object)
    return read


def test_second_read_comes_from_the_cache_and_is_equal(var, tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("1\n\n .\n", encoding="utf-8")
    calls = []
    first = _cache.cached_frame(f, _reader(calls), version="v1")
    second = _cache.cached_frame(f, _reader(calls), version="v1")
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, second)
    assert second["a"].dtype == object and second["a"].iloc[2] == " ." and np.isnan(second["a"].iloc[1])


def test_changed_file_or_reader_version_is_parsed_anew(var, tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("1\n", encoding="utf-8")
    calls = []
    _cache.cached_frame(f, _reader(calls), version="v1")
    _cache.cached_frame(f, _reader(calls), version="v2")
    assert len(calls) == 2
    f.write_text("1\n2\n", encoding="utf-8")  # new size and modification time
    os.utime(f, ns=(1, 10**18))
    out = _cache.cached_frame(f, _reader(calls), version="v2")
    assert len(calls) == 3 and list(out["a"]) == ["1", "2"]


def test_switched_off_or_unwritable_cache_still_reads(var, tmp_path, monkeypatch):
    f = tmp_path / "x.txt"
    f.write_text("1\n", encoding="utf-8")
    calls = []
    monkeypatch.setenv("WIJKMONITOR_PARSE_CACHE", "0")
    _cache.cached_frame(f, _reader(calls), version="v1")
    _cache.cached_frame(f, _reader(calls), version="v1")
    assert len(calls) == 2 and not (var / "cache").exists()
    monkeypatch.delenv("WIJKMONITOR_PARSE_CACHE")
    (var / "cache").mkdir(parents=True)
    (var / "cache" / "sources").write_text("a file where the cache folder should be")
    assert list(_cache.cached_frame(f, _reader(calls), version="v1")["a"]) == ["1"]


def test_damaged_cache_file_is_parsed_anew(var, tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("1\n", encoding="utf-8")
    calls = []
    _cache.cached_frame(f, _reader(calls), version="v1")
    [cached] = list((var / "cache" / "sources").iterdir())
    cached.write_bytes(b"not parquet")
    assert list(_cache.cached_frame(f, _reader(calls), version="v1")["a"]) == ["1"]
    assert len(calls) == 2


def test_rivm_file_from_the_cache_gives_the_same_observations(var):
    path = data_dir() / "rivm-gezondheid-wijk-buurt" / "2012_65+.xlsx"
    parsed = rivm_gezondheid.read_file(path, period=2012, age="65plus", data_dir=data_dir())
    assert len(list((var / "cache" / "sources").iterdir())) == 1
    cached = rivm_gezondheid.read_file(path, period=2012, age="65plus", data_dir=data_dir())
    pd.testing.assert_frame_equal(parsed.observations, cached.observations)
    pd.testing.assert_frame_equal(parsed.regions, cached.regions)
