"""``wijkmonitor standardise``: crude and age-standardised gap side by side (see
:mod:`wijkmonitor.composition`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from . import sheets

console = Console()
err = Console(stderr=True)

#: Columns of the table and CSV output, in order.
ROW_FIELDS = ["measure", "value_baseline", "reference_baseline", "gap_baseline", "value_latest",
              "reference_latest", "gap_latest", "gap_change", "status_baseline", "status_latest",
              "reference_status_baseline", "reference_status_latest", "coverage_baseline",
              "coverage_latest", "derived_baseline", "derived_latest"]


def _fail(message: str) -> None:
    err.print(f"[red]fout:[/red] {message}")
    raise typer.Exit(1)


def _fmt(v, decimals: int = 1) -> str:
    from .nlformat import nl_number
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "—"
    return nl_number(float(v), decimals)


def _shown(value, status: str) -> str:
    return _fmt(value) if status == "ok" else status


def register(app: typer.Typer) -> None:
    """Add ``standardise`` to the ``wijkmonitor`` command."""

    @app.command()
    def standardise(
        area: Optional[str] = typer.Option(None, "--area", help="Gebied-id of -naam, of een CBS-code (indeling 2020)."),
        indicator: Optional[str] = typer.Option(None, "--indicator", help="Een 50090NED-gezondheidsindicator, bv. ervaren_gezondheid_pct."),
        baseline: int = typer.Option(2012, help="Basisjaar (het dichtstbijzijnde 50090NED-jaar)."),
        latest: int = typer.Option(2020, help="Laatste jaar (het dichtstbijzijnde 50090NED-jaar)."),
        fmt: str = typer.Option("table", "--format", help="table, json of csv."),
        list_: bool = typer.Option(False, "--list", help="Welke indicatoren kunnen worden gestandaardiseerd, en waarom."),
        check_derivation: bool = typer.Option(False, "--check-derivation",
                                              help="Fout van het afgeleide 18-65-cijfer waar 18-65 gepubliceerd is."),
        store_path: Optional[Path] = typer.Option(None, "--store"),
    ):
        """Ruwe en leeftijdsgestandaardiseerde afstand tot de gemeente (50090NED, 18-65 en 65+)."""
        from . import composition, store

        if fmt not in ("table", "json", "csv"):
            _fail(f"onbekend formaat {fmt!r} (table, json of csv)")
        try:
            con = store.connect(store_path)
        except store.StoreMissing as exc:
            _fail(str(exc))
        try:
            if list_ or check_derivation:
                df = composition.standardisable(con) if list_ else composition.derivation_check(con)
                if fmt == "json":
                    sys.stdout.write(df.to_json(orient="records", force_ascii=False, indent=2) + "\n")
                elif fmt == "csv":
                    sys.stdout.write(sheets.csv_plain(df).decode("utf-8"))
                else:
                    table = Table(title="Standaardiseerbare indicatoren" if list_ else
                                  "Afgeleid 18-65 min gepubliceerd (ervaren gezondheid, wijken; procentpunten)")
                    for c in df.columns:
                        table.add_column(str(c))
                    for row in df.itertuples(index=False):
                        table.add_row(*[_fmt(v, 2) if isinstance(v, float) else str(v) for v in row])
                    console.print(table)
                return
            if area is None or indicator is None:
                _fail("geef --area en --indicator (of --list / --check-derivation)")
            result = composition.standardised_gap(con, area, indicator, baseline, latest)
        except composition.CompositionError as exc:
            _fail(str(exc))
        finally:
            con.close()
        if fmt == "json":
            sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
            return
        rows = pd.DataFrame(result["rows"])[ROW_FIELDS]
        if fmt == "csv":
            meta = {k: result[k] for k in ("area", "area_name", "reference", "reference_name", "indicator",
                                           "baseline_year", "latest_year", "source")}
            meta["standard"] = result["standard"]["id"]
            sys.stdout.write(sheets.csv_plain(rows.assign(**meta)[[*meta, *ROW_FIELDS]]).decode("utf-8"))
            return
        b, l = result["baseline_year"], result["latest_year"]
        table = Table(title=f"{result['area_name']} tegenover {result['reference_name']}: "
                            f"{result['indicator_name']} ({result['source']})")
        ref = "Nederland" if result["reference"] == "NL00" else "gemeente"
        for col in ("maat", f"gebied {b}", f"{ref} {b}", f"afstand {b}", f"gebied {l}",
                    f"{ref} {l}", f"afstand {l}", "verandering afstand"):
            table.add_column(col)
        for r in result["rows"]:
            mark = " *" if r["derived_baseline"] or r["derived_latest"] else ""
            table.add_row(r["measure"] + mark,
                          _shown(r["value_baseline"], r["status_baseline"]),
                          _shown(r["reference_baseline"], r["reference_status_baseline"]), _fmt(r["gap_baseline"]),
                          _shown(r["value_latest"], r["status_latest"]),
                          _shown(r["reference_latest"], r["reference_status_latest"]), _fmt(r["gap_latest"]),
                          _fmt(r["gap_change"]))
        console.print(table)
        sh, wy = result["share_65plus"], result["weight_years"]

        def share(key: str) -> str:
            years = ", ".join(map(str, wy[key])) or "—"
            return f"{_fmt(None if sh[key] is None else 100 * sh[key])} % (KWB {years})"

        console.print(f"Aandeel 65+ onder de inwoners van 25+ in {l}, volgens de gewichten: gebied {share('area_latest')}, "
                      f"{result['reference_name']} {share('reference_latest')}.")
        console.print("Regel: " + result["rule"])
        for note in result["notes"]:
            console.print("* " + note)
