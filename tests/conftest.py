"""Shared fixtures.

``real_store`` builds the monitor once per test session from the real open data in
``../shared/data`` (the same command a user runs), into a temporary directory.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Never write into the checkout: every generated file of the test run goes to a temp dir.
_VAR = Path(tempfile.mkdtemp(prefix="wijkmonitor-test-"))
os.environ.setdefault("WIJKMONITOR_VAR", str(_VAR))
os.environ.setdefault("WIJKMONITOR_STORE", str(_VAR / "wijkmonitor.duckdb"))

from wijkmonitor import config  # noqa: E402


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = config.data_dir()
    if not path.is_dir():
        pytest.fail(f"real data not found at {path}: put ../shared beside the checkout "
                    "or set WIJKMONITOR_DATA")
    return path


@pytest.fixture(scope="session")
def real_store(data_dir) -> Path:
    """The store built from all real sources (ingest + compute + later build steps)."""
    from wijkmonitor import pipeline

    path = Path(os.environ["WIJKMONITOR_STORE"])
    if not path.exists():
        pipeline.ingest(data_dir, path, then_build=True)
    return path
