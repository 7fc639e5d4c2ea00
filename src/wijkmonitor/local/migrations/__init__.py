"""Alembic migrations of the editable store (run through :mod:`wijkmonitor.local.db`)."""
