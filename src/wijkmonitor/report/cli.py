"""``wijkmonitor report national | area``: write the progress report and area fiches."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

report_app = typer.Typer(help="Voortgangsrapportage en gebiedsfiches als HTML en PDF.",
                         no_args_is_help=True)


RULE_HELP = "standaard (met het 95%-interval van de verandering) of omw (vaste tolerantie, als de Outcomemonitor)"


def _data(store: Optional[Path], rule: str = "standaard"):
    from ..analysis import RULES
    from ..store import StoreMissing
    from .data import load
    if rule not in RULES:
        typer.echo(f"onbekende regel {rule!r}; kies uit {', '.join(RULES)}", err=True)
        raise typer.Exit(2)
    try:
        return load(store, rule=rule)
    except (StoreMissing, RuntimeError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2)


def _check_programme_and_years(programme: str, baseline: int, latest: int) -> None:
    from .data import PROGRAMMES
    if programme not in PROGRAMMES:
        typer.echo(f"onbekend programma {programme!r}; kies uit {', '.join(PROGRAMMES)}", err=True)
        raise typer.Exit(2)
    if baseline > latest:
        typer.echo("het basisjaar ligt na het laatste jaar", err=True)
        raise typer.Exit(2)


@report_app.command("national")
def national(programme: str = typer.Option("nplv", "--programme", help="nplv of aandachtswijken"),
             baseline: int = typer.Option(..., "--baseline", help="basisjaar (YYYY)"),
             latest: int = typer.Option(..., "--latest", help="laatste jaar (YYYY)"),
             out: Path = typer.Option(..., "--out", help="map voor de HTML en PDF"),
             pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="ook een PDF schrijven"),
             store: Optional[Path] = typer.Option(None, "--store", help="andere store dan ingesteld"),
             rule: str = typer.Option("standaard", "--rule", help=RULE_HELP)):
    """De landelijke voortgangsrapportage van een programma."""
    from . import national_report
    _check_programme_and_years(programme, baseline, latest)
    t = time.perf_counter()
    for p in national_report(programme, baseline, latest, out, data=_data(store, rule), pdf=pdf):
        typer.echo(str(p))
    typer.echo(f"klaar in {time.perf_counter() - t:.1f} s", err=True)


@report_app.command("area")
def area(names: list[str] = typer.Argument(None, help="gebied(en): naam of id, bv. \"Rotterdam-Zuid\""),
         baseline: int = typer.Option(..., "--baseline", help="basisjaar (YYYY)"),
         latest: int = typer.Option(..., "--latest", help="laatste jaar (YYYY)"),
         out: Path = typer.Option(..., "--out", help="map voor de HTML en PDF"),
         all_: bool = typer.Option(False, "--all", help="een fiche voor elk gebied van --programme"),
         programme: str = typer.Option("nplv", "--programme", help="programma voor --all"),
         pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="ook een PDF schrijven"),
         database_url: Optional[str] = typer.Option(None, "--database-url",
                                                    help="database met streefwaarden (anders "
                                                         "WIJKMONITOR_DATABASE_URL)"),
         workers: Optional[int] = typer.Option(None, "--workers", min=1,
                                               help="aantal processen (standaard: een per processorkern)"),
         store: Optional[Path] = typer.Option(None, "--store", help="andere store dan ingesteld"),
         rule: str = typer.Option("standaard", "--rule", help=RULE_HELP)):
    """Gebiedsfiche(s): alle indicatoren van een gebied met afstand, klasse, trend en kaart."""
    from . import area_reports
    from .area import resolve
    from .data import programme_areas
    data = _data(store, rule)
    if all_:
        try:
            ids = list(programme_areas(data, programme)["area_id"])
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2)
    elif names:
        try:
            ids = [resolve(data, n) for n in names]
        except KeyError as exc:
            typer.echo(str(exc.args[0]), err=True)
            raise typer.Exit(2)
    else:
        typer.echo("geef een gebied of --all", err=True)
        raise typer.Exit(2)
    t = time.perf_counter()
    for p in area_reports(ids, baseline, latest, out, data=data, pdf=pdf, database_url=database_url,
                          workers=workers, store=store):
        typer.echo(str(p))
    typer.echo(f"{len(ids)} fiche(s) klaar in {time.perf_counter() - t:.1f} s", err=True)


@report_app.command("all")
def all_documents(programme: str = typer.Option("nplv", "--programme", help="nplv of aandachtswijken"),
                  baseline: int = typer.Option(..., "--baseline", help="basisjaar (YYYY)"),
                  latest: int = typer.Option(..., "--latest", help="laatste jaar (YYYY)"),
                  out: Path = typer.Option(..., "--out", help="map voor de HTML en PDF"),
                  pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="ook PDF's schrijven"),
                  database_url: Optional[str] = typer.Option(None, "--database-url",
                                                             help="database met streefwaarden (anders "
                                                                  "WIJKMONITOR_DATABASE_URL)"),
                  workers: Optional[int] = typer.Option(None, "--workers", min=1,
                                                        help="aantal processen (standaard: een per "
                                                             "processorkern)"),
                  store: Optional[Path] = typer.Option(None, "--store", help="andere store dan ingesteld"),
                  rule: str = typer.Option("standaard", "--rule", help=RULE_HELP)):
    """De landelijke voortgangsrapportage en een gebiedsfiche per gebied van het programma."""
    from . import write_documents
    from .data import programme_areas
    _check_programme_and_years(programme, baseline, latest)
    data = _data(store, rule)
    ids = list(programme_areas(data, programme)["area_id"])
    t = time.perf_counter()
    jobs = [("national", programme)] + [("area", a) for a in ids]
    for p in write_documents(jobs, baseline, latest, out, data=data, store=store, pdf=pdf,
                             database_url=database_url, workers=workers):
        typer.echo(str(p))
    typer.echo(f"rapportage en {len(ids)} fiche(s) klaar in {time.perf_counter() - t:.1f} s", err=True)


def register(app: typer.Typer) -> None:
    """Add the ``report`` sub-command group to the main CLI."""
    app.add_typer(report_app, name="report")
