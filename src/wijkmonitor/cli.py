"""Command-line interface: ``wijkmonitor ingest | build | regions | indicators | value | export ...``.

Sub-commands owned by other modules (gap, report, serve, db, user, targets, ...) are registered
from :data:`COMMAND_MODULES`: each such module defines ``register(app: typer.Typer)``.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(help="wijkmonitor: leefbaarheid en veiligheid van wijken, uit open data.",
                  no_args_is_help=True, pretty_exceptions_enable=False)

#: Modules that add commands to :data:`app`.
COMMAND_MODULES: list[str] = [
    "wijkmonitor.commands",
    "wijkmonitor.local.cli",
    "wijkmonitor.web.cli",
    "wijkmonitor.report.cli",
    "wijkmonitor.signalen",
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:  # pragma: no cover - console entry point
    app()
