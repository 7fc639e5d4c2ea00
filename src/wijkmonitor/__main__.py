"""``python -m wijkmonitor`` runs the CLI."""

from .cli import app

app(prog_name="wijkmonitor")
