"""Command line for the editable store: ``wijkmonitor db | user | targets | interventions |
upload | audit``.

The commands call the same services as the web forms (same validation, same permission checks;
``--as NAME`` names the acting user). The database is ``WIJKMONITOR_DATABASE_URL`` (SQLite file
by default). Exit codes: 0 ok, 2 rejected input (every bad row is printed), 3 not allowed,
4 not found.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable, Optional

import typer

from . import accounts, audit, db, interventions, targets, uploads
from .errors import LocalError, NotFound, PermissionDenied, ValidationFailed
from .models import Target
from .permissions import ROLES, SystemActor

EXIT_CODES = {ValidationFailed: 2, PermissionDenied: 3, NotFound: 4}


def _fail(exc: LocalError) -> None:
    typer.echo(f"fout: {exc}", err=True)
    code = next((c for cls, c in EXIT_CODES.items() if isinstance(exc, cls)), 1)
    raise typer.Exit(code)


def _dump(obj) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _run(fn: Callable):
    """Run ``fn(session)`` in one transaction; map service errors to exit codes."""
    try:
        with db.session_scope() as session:
            return fn(session)
    except LocalError as exc:
        _fail(exc)


def _actor(session, name: str | None):
    return SystemActor() if name is None else accounts.get_user(session, name)


def _store_observed(target: Target):
    """CBS values of the target's area from the analytical store (None if unavailable)."""
    try:
        from wijkmonitor import api
        observed = api.series(target.area_id, target.indicator_id)
    except Exception:  # no store built yet, or area not in it
        return None
    return None if observed.empty else observed


def register(app: typer.Typer) -> None:
    """Add the ``db``, ``user``, ``targets``, ``interventions``, ``upload`` and ``audit``
    commands to ``app``."""
    db_app = typer.Typer(help="Database van het bewerkbare deel (streefwaarden, interventies, "
                              "gebruikers).", no_args_is_help=True)
    user_app = typer.Typer(help="Gebruikers beheren.", no_args_is_help=True)
    targets_app = typer.Typer(help="Streefwaarden.", no_args_is_help=True)
    iv_app = typer.Typer(help="Register van interventies.", no_args_is_help=True)
    app.add_typer(db_app, name="db")
    app.add_typer(user_app, name="user")
    app.add_typer(targets_app, name="targets")
    app.add_typer(iv_app, name="interventions")

    @db_app.command("upgrade")
    def db_upgrade(revision: str = typer.Argument("head", help="Doelrevisie.")):
        """Migreer de database (WIJKMONITOR_DATABASE_URL) naar de nieuwste versie."""
        db.upgrade(None, revision)
        typer.echo(f"database op revisie {db.current_revision()}")

    @db_app.command("downgrade")
    def db_downgrade(revision: str = typer.Argument("-1", help="Doelrevisie ('base': leeg).")):
        """Zet de database terug naar een eerdere revisie."""
        db.downgrade(None, revision)
        typer.echo(f"database op revisie {db.current_revision() or 'base'}")

    @user_app.command("add")
    def user_add(
        name: str = typer.Argument(..., help="Gebruikersnaam."),
        role: str = typer.Option(..., "--role", help=" | ".join(ROLES)),
        gemeente: Optional[str] = typer.Option(None, "--gemeente",
                                               help="GMxxxx (verplicht voor gemeente-editor)."),
        password_stdin: bool = typer.Option(False, "--password-stdin",
                                            help="Lees het wachtwoord van standaardinvoer."),
        as_user: Optional[str] = typer.Option(None, "--as",
                                              help="Handelende beheerder (standaard: systeem)."),
    ):
        """Maak een gebruiker aan (wachtwoord via --password-stdin, nooit als argument)."""
        if not password_stdin:
            typer.echo("fout: geef het wachtwoord via --password-stdin", err=True)
            raise typer.Exit(2)
        password = sys.stdin.readline().rstrip("\r\n")

        def work(session):
            user = accounts.create_user(session, _actor(session, as_user), name, role, password,
                                        gemeente=gemeente)
            return user.to_dict()
        _dump(_run(work))

    @user_app.command("logout")
    def user_logout(
        name: str = typer.Argument(..., help="Gebruikersnaam."),
        as_user: Optional[str] = typer.Option(None, "--as",
                                              help="Handelende beheerder (standaard: systeem)."),
    ):
        """Log een gebruiker overal uit: beëindig al zijn sessies (op elke computer)."""
        n = _run(lambda s: accounts.log_out_everywhere(s, _actor(s, as_user), name))
        typer.echo(f"{name}: {n} sessie(s) beëindigd")

    @user_app.command("password")
    def user_password(
        name: str = typer.Argument(..., help="Gebruikersnaam."),
        password_stdin: bool = typer.Option(False, "--password-stdin",
                                            help="Lees het nieuwe wachtwoord van standaardinvoer."),
        as_user: Optional[str] = typer.Option(None, "--as",
                                              help="Handelende gebruiker (standaard: systeem)."),
    ):
        """Wijzig een wachtwoord (via --password-stdin); al zijn sessies eindigen meteen."""
        if not password_stdin:
            typer.echo("fout: geef het wachtwoord via --password-stdin", err=True)
            raise typer.Exit(2)
        password = sys.stdin.readline().rstrip("\r\n")
        _run(lambda s: accounts.set_password(s, _actor(s, as_user), name, password))
        typer.echo(f"{name}: wachtwoord gewijzigd; alle sessies beëindigd")

    @user_app.command("deactivate")
    def user_deactivate(
        name: str = typer.Argument(..., help="Gebruikersnaam."),
        as_user: Optional[str] = typer.Option(None, "--as",
                                              help="Handelende beheerder (standaard: systeem)."),
    ):
        """Schakel een gebruiker uit (blijft in het auditlogboek); al zijn sessies eindigen."""
        _run(lambda s: accounts.deactivate(s, _actor(s, as_user), name))
        typer.echo(f"{name}: uitgeschakeld; alle sessies beëindigd")

    @targets_app.command("import")
    def targets_import(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV of XLSX."),
        as_user: str = typer.Option(..., "--as", help="Handelende gebruiker."),
    ):
        """Lees streefwaarden in (kolommen area, indicator, target_year, target_value)."""
        def work(session):
            saved = targets.import_targets(session, accounts.get_user(session, as_user), file)
            return [t.to_dict() for t in saved]
        saved = _run(work)
        typer.echo(f"{len(saved)} streefwaarde(n) opgeslagen", err=True)

    @targets_app.command("list")
    def targets_list(
        area: Optional[str] = typer.Option(None, "--area", help="Gebied (naam of code)."),
        fmt: str = typer.Option("json", "--format", help="json of table."),
        observed: str = typer.Option("cbs", "--observed",
                                     help="Waarnemingen voor de voortgang: cbs (store), "
                                          "local (eigen uploads) of none."),
    ):
        """Streefwaarden met hun voortgang (behaald / op koers / achter / geen gegevens)."""
        def work(session):
            if observed == "local":
                provider, label = targets.local_observed(session), "lokaal (upload)"
            elif observed == "cbs":
                provider, label = _store_observed, "CBS (wijkmonitor-store)"
            else:
                provider, label = (lambda t: None), None
            items = targets.targets_report(session, area=area, observed=provider)
            for item in items:
                item["progress"]["observed_source"] = \
                    label if item["progress"]["latest_year"] is not None else None
            return items
        items = _run(work)
        if fmt == "json":
            _dump(items)
        else:
            for t in items:
                p = t["progress"]
                typer.echo(f"{t['area_id']:<12} {t['indicator_id']:<32} {t['target_value']:>10g} "
                           f"in {t['target_year']}  {p['label']}")

    @iv_app.command("list")
    def iv_list(
        area: Optional[str] = typer.Option(None, "--area"),
        actielijn: Optional[str] = typer.Option(None, "--actielijn"),
        fmt: str = typer.Option("json", "--format", help="json of table."),
    ):
        """Interventies, te filteren op gebied en actielijn."""
        items = _run(lambda s: [i.to_dict() for i in interventions.list_interventions(
            s, area=area, actielijn=actielijn)])
        if fmt == "json":
            _dump(items)
        else:
            for i in items:
                typer.echo(f"{i['id']:>4}  {i['status']:<9} {i['actielijn'][:20]:<20} "
                           f"{i['title']}")

    @iv_app.command("import")
    def iv_import(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV of XLSX."),
        as_user: str = typer.Option(..., "--as", help="Handelende gebruiker."),
    ):
        """Lees interventies in (indeling als de export; lege id: nieuw)."""
        saved = _run(lambda s: [i.id for i in interventions.import_interventions(
            s, accounts.get_user(s, as_user), file)])
        typer.echo(f"{len(saved)} interventie(s) opgeslagen", err=True)

    @iv_app.command("export")
    def iv_export(
        output: Path = typer.Option(..., "--output", "-o", help="Doelbestand .csv of .xlsx."),
        area: Optional[str] = typer.Option(None, "--area"),
        actielijn: Optional[str] = typer.Option(None, "--actielijn"),
    ):
        """Exporteer interventies naar CSV of XLSX."""
        fmt = output.suffix.lower().lstrip(".")
        if fmt not in ("csv", "xlsx"):
            typer.echo("fout: --output moet op .csv of .xlsx eindigen", err=True)
            raise typer.Exit(2)
        data = _run(lambda s: interventions.export(
            interventions.list_interventions(s, area=area, actielijn=actielijn), fmt))
        output.write_bytes(data)
        typer.echo(f"geschreven: {output}", err=True)

    @app.command("upload")
    def upload_cmd(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV of XLSX."),
        as_user: str = typer.Option(..., "--as", help="Handelende gebruiker."),
        gemeente: str = typer.Option(..., "--gemeente", help="GMxxxx."),
        source: Optional[str] = typer.Option(None, "--source",
                                             help="Bron van de cijfers (standaard: de gemeente "
                                                  "en de bestandsnaam)."),
        fmt: str = typer.Option("text", "--format", help="text of json (ook voor fouten)."),
    ):
        """Lees lokale indicatorwaarden van een gemeente in (alles of niets)."""
        def work(session):
            rec = uploads.upload(session, accounts.get_user(session, as_user), file, file.name,
                                 gemeente, source=source or f"{gemeente.upper()}: {file.name}")
            return rec.to_dict()
        try:
            with db.session_scope() as session:
                result = work(session)
        except ValidationFailed as exc:
            if fmt == "json":
                _dump(exc.as_dict())
            _fail(exc)
        except LocalError as exc:
            _fail(exc)
        if fmt == "json":
            _dump(result)
        else:
            typer.echo(f"upload {result['id']}: {result['n_values']} waarden opgeslagen "
                       f"(bron: {result['source']})")

    @app.command("audit")
    def audit_cmd(
        fmt: str = typer.Option("json", "--format", help="json of table."),
        entity: Optional[str] = typer.Option(None, "--entity", help="target, intervention, ..."),
        limit: Optional[int] = typer.Option(None, "--limit"),
        as_user: Optional[str] = typer.Option(None, "--as",
                                              help="Lezende gebruiker (standaard: systeem)."),
    ):
        """Het auditlogboek (nieuwste eerst)."""
        rows = _run(lambda s: [audit.entry_dict(e) for e in audit.list_entries(
            s, _actor(s, as_user), entity=entity, limit=limit)])
        if fmt == "json":
            _dump(rows)
        else:
            for r in rows:
                typer.echo(f"{r['at']}  {r['user_name']:<20} {r['action']:<7} {r['entity']} "
                           f"{r['entity_id']}")
