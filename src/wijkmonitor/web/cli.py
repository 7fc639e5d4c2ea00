"""``wijkmonitor serve [--host H] [--port P]``: serve the website and API with uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(host: str = typer.Option("127.0.0.1", help="Adres om op te luisteren."),
              port: int = typer.Option(8000, help="Poort."),
              store: Optional[Path] = typer.Option(None, help="De store (standaard WIJKMONITOR_STORE)."),
              workers: int = typer.Option(1, help="Aantal processen (uvicorn workers)."),
              ) -> None:
        """Serveer de website en de API (lezen uit de gebouwde store)."""
        import os

        import uvicorn

        from ..config import store_path
        from ..store import StoreMissing

        path = store or store_path()
        if not Path(path).exists():
            raise typer.BadParameter(str(StoreMissing.at(path)))
        os.environ["WIJKMONITOR_STORE"] = str(path)
        from .app import WARM_ENV
        os.environ[WARM_ENV] = "1"  # each worker reads its caches at start
        typer.echo(f"wijkmonitor op http://{host}:{port}  (store: {path}; {workers} worker(s))")
        typer.echo(f"beheer (streefwaarden, interventies, lokale cijfers): http://{host}:{port}/beheer")
        options = dict(host=host, port=port, workers=workers, log_level="warning",
                       server_header=False,  # no banner: see web/security.py
                       # a worker must answer the supervisor within this many seconds;
                       # uvicorn's 5 s killed and respawned every worker forever on a busy
                       # machine (imports alone took longer at a load average of 15)
                       timeout_worker_healthcheck=60)
        if workers > 1:
            import sys
            # The supervisor does not need this CLI (pandas, DuckDB, every command: ~270 MB):
            # it becomes a fresh `python -m uvicorn` process of ~40 MB that spawns the workers.
            # glibc's per-thread malloc arenas (up to 8 per core) fragment the memory of a
            # threaded server; two arenas keep a worker's RSS close to what it uses.
            os.environ.setdefault("MALLOC_ARENA_MAX", "2")
            os.execv(sys.executable, [sys.executable, "-m", "uvicorn", *uvicorn_args(options),
                                      "wijkmonitor.web.app:create_app"])
        uvicorn.run("wijkmonitor.web.app:create_app", factory=True, **options)


def uvicorn_args(options: dict) -> list[str]:
    """The command-line arguments of ``uvicorn`` for the keyword arguments of ``uvicorn.run``
    that :func:`serve` uses (the application factory is added by the caller)."""
    args = ["--factory"]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is False:
            args.append("--no-" + key.replace("_", "-"))
        elif value is True:
            args.append(flag)
        else:
            args += [flag, str(value)]
    return args
