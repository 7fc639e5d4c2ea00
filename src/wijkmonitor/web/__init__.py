"""The public website and JSON API (FastAPI); see :mod:`wijkmonitor.web.app`."""
