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
              workers: int = typer.Option(1, help="Aantal processen (meer dan 1: gunicorn-workers die de gelezen gegevens delen)."),
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
            # gunicorn forks the workers from a master that has read the caches once (they
            # share it copy-on-write): see web/server.py
            from . import server

            os.environ[WARM_ENV] = "0"  # warmed before the fork, not again in each worker
            server.run(host, port, workers)
            return
        uvicorn.run("wijkmonitor.web.app:create_app", factory=True, **options)

