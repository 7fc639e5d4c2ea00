"""Serving with several worker processes that share one warmed copy of the caches.

``wijkmonitor serve --workers N`` (N > 1) runs gunicorn with uvicorn's worker class and
``preload_app``: the master process builds the app and reads everything a worker needs (area
tables, value index, map layers, search and effect data, and the rendered pages of the programme
areas: :func:`wijkmonitor.web.app._warm`)
*before* it forks the workers. The forked workers share those pages with the master
copy-on-write, and ``gc.freeze()`` keeps the garbage collector from writing to them, so the
server holds the warmed data once instead of once per worker (measured on the real store:
master + 2 workers ~0.6 GB proportional set size, against ~1.1 GB with a separate copy per
worker; ``benchmarks/bench_hardening.py``).

Nothing that cannot cross a ``fork`` is kept open in the master: its DuckDB connections are
closed after the warm-up (DuckDB's threads do not survive a fork; each worker opens its own
connection on its first query) and the editable store's pooled connections are disposed (a
database connection must never be shared by two processes).
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication
from uvicorn_worker import UvicornWorker

#: seconds a worker may stay silent before the master replaces it (uvicorn's health check
#: of 5 s killed workers forever on a busy machine)
WORKER_TIMEOUT = 60


class Worker(UvicornWorker):
    """uvicorn's worker without the ``Server`` banner (see :mod:`wijkmonitor.web.security`)."""

    CONFIG_KWARGS: dict[str, Any] = {"loop": "auto", "http": "auto", "server_header": False}


def preload(app) -> None:
    """Warm ``app``'s caches in this process and close what must not be inherited by a fork."""
    from ..local import db, public
    from .app import _warm

    ws = app.state.ws
    _warm(ws, app)
    ws.close_connections()
    db.dispose_engines()
    public.close_sqlite_readers()  # the page render at start read the content revision
    _two_malloc_arenas()


def _two_malloc_arenas() -> None:
    """At most two glibc malloc arenas (as ``MALLOC_ARENA_MAX=2``): with one arena per request
    thread (glibc's default allows 8 per core) a threaded server's freed memory stays spread
    over many half-used arenas and its RSS grows."""
    import ctypes
    import ctypes.util

    libc = ctypes.util.find_library("c")
    if libc:
        try:
            ctypes.CDLL(libc).mallopt(-8, 2)  # M_ARENA_MAX
        except (OSError, AttributeError):  # not glibc
            pass


class _Server(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from .app import create_app

        app = create_app()
        preload(app)
        return app


def run(host: str, port: int, workers: int) -> None:
    """Serve ``WIJKMONITOR_STORE`` on ``host:port`` with ``workers`` forked processes."""
    _Server(dict(bind=f"{host}:{port}", workers=workers, worker_class=f"{__name__}.Worker",
                 preload_app=True, timeout=WORKER_TIMEOUT, graceful_timeout=10,
                 loglevel="warning", accesslog=None, errorlog="-")).run()
