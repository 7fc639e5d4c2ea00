"""Where wijkmonitor finds its data and keeps its stores.

Every path can be set by an environment variable, so tests, CI and users can point the
monitor elsewhere without code changes:

``WIJKMONITOR_DATA``
    The offline mirror of source files (default: ``../shared/data`` next to the checkout).
``WIJKMONITOR_STORE``
    The DuckDB file with observations and computed tables (default: ``var/wijkmonitor.duckdb``).
``WIJKMONITOR_DATABASE_URL``
    SQLAlchemy URL of the editable store (default: SQLite file ``var/wijkmonitor-edit.sqlite``).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: The checkout root when installed in development mode (src layout).
PROJECT_DIR = PACKAGE_DIR.parent.parent


def data_dir() -> Path:
    """Return the offline mirror directory (``WIJKMONITOR_DATA`` or ``../shared/data``)."""
    env = os.environ.get("WIJKMONITOR_DATA")
    if env:
        return Path(env)
    for base in (Path.cwd(), PROJECT_DIR):
        candidate = (base / ".." / "shared" / "data").resolve()
        if candidate.is_dir():
            return candidate
    return (PROJECT_DIR / ".." / "shared" / "data").resolve()


def var_dir() -> Path:
    """Directory for generated files (stores, exports); created on demand."""
    path = Path(os.environ.get("WIJKMONITOR_VAR", Path.cwd() / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def fetched_dir() -> Path:
    """Where ``wijkmonitor fetch`` writes tables fetched online (mirror layout); the ingest
    reads the online adapters from here as well as from :func:`data_dir`."""
    env = os.environ.get("WIJKMONITOR_FETCHED")
    return Path(env) if env else var_dir() / "mirror"


def store_path() -> Path:
    """Path of the analytical DuckDB store (``WIJKMONITOR_STORE``)."""
    env = os.environ.get("WIJKMONITOR_STORE")
    return Path(env) if env else var_dir() / "wijkmonitor.duckdb"


def database_url() -> str:
    """SQLAlchemy URL of the editable store (``WIJKMONITOR_DATABASE_URL``)."""
    env = os.environ.get("WIJKMONITOR_DATABASE_URL")
    return env if env else f"sqlite:///{var_dir() / 'wijkmonitor-edit.sqlite'}"
