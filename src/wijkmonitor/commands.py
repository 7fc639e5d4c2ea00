"""Foundation commands: ingest, build, summary, regions, indicators, value, export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from . import api, config, pipeline, sheets, store
from .catalogue import load_catalogue
from .nlformat import nl_number
from .sources import SourceError

console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 1):
    err.print(f"[red]fout:[/red] {message}")
    raise typer.Exit(code)


def _print_df(df: pd.DataFrame, title: str | None = None, limit: int | None = None) -> None:
    table = Table(title=title)
    for col in df.columns:
        table.add_column(str(col))
    for row in df.head(limit).itertuples(index=False) if limit else df.itertuples(index=False):
        table.add_row(*["" if (isinstance(v, float) and pd.isna(v)) or v is None else str(v) for v in row])
    console.print(table)


def register(app: typer.Typer) -> None:
    register_gap(app)
    register_fetch(app)

    @app.command()
    def ingest(
        data: Optional[Path] = typer.Option(None, help="Map met bronbestanden (offline spiegel); standaard ../shared/data."),
        source: Optional[list[str]] = typer.Option(None, "--source", help="Alleen deze bron(nen) opnieuw inlezen."),
        store_path: Optional[Path] = typer.Option(None, "--store", help="DuckDB-bestand (standaard WIJKMONITOR_STORE)."),
    ):
        """Lees de bronnen in de store (alles of niets)."""
        try:
            with pipeline.rich_progress() as progress:
                summary = pipeline.ingest(data, store_path, only=source or None, progress=progress)
        except (SourceError, ValueError) as exc:
            _fail(str(exc))
        _report(summary)

    @app.command()
    def build(
        data: Optional[Path] = typer.Option(None, help="Map met bronbestanden; standaard ../shared/data."),
        store_path: Optional[Path] = typer.Option(None, "--store", help="DuckDB-bestand."),
        no_ingest: bool = typer.Option(False, "--no-ingest", help="Alleen opnieuw berekenen uit de bestaande store."),
        quiet: bool = typer.Option(False, "--quiet", help="Geen landelijke samenvatting tonen."),
    ):
        """Bouw de monitor: bronnen inlezen en alle indicatoren berekenen (alles of niets)."""
        try:
            with pipeline.rich_progress() as progress:
                if no_ingest:
                    summary = pipeline.build(store_path, progress=progress)
                else:
                    summary = pipeline.ingest(data, store_path, progress=progress, then_build=True)
        except (SourceError, ValueError, store.StoreMissing) as exc:
            _fail(str(exc))
        _report(summary)
        if not quiet:
            _national_summary(store_path)

    @app.command("summary")
    def summary_cmd(store_path: Optional[Path] = typer.Option(None, "--store")):
        """Landelijk overzicht: per indicator het meest recente cijfer voor Nederland."""
        _national_summary(store_path)

    @app.command("regions")
    def regions_cmd(
        year: Optional[int] = typer.Option(None, help="Jaar van de indeling."),
        level: Optional[str] = typer.Option(None, help="land, gemeente, wijk of buurt."),
        gemeente: Optional[str] = typer.Option(None, help="Alleen deze gemeente (GMxxxx) en haar wijken/buurten."),
        changes: Optional[tuple[int, int]] = typer.Option(None, help="Codes die verschijnen/verdwijnen tussen twee jaren, bv. --changes 2020 2024."),
        fmt: str = typer.Option("table", "--format", help="table, json of csv."),
        store_path: Optional[Path] = typer.Option(None, "--store"),
    ):
        """Toon CBS-regio's per jaar (of de codewijzigingen tussen twee jaren)."""
        try:
            if changes and changes[0] is not None:
                df = api.code_changes(changes[0], changes[1], level, path=store_path)
                title = f"Codewijzigingen {changes[0]} -> {changes[1]}"
            elif year is None and level is None and gemeente is None:
                from .regions import summary
                df = summary(path=store_path).reset_index()
                title = "Aantal regio's per indelingsjaar"
            else:
                df = api.regions(year, level, gemeente=gemeente, path=store_path)
                title = "Regio's"
        except store.StoreMissing as exc:
            _fail(str(exc))
        _emit(df, fmt, title)

    @app.command()
    def indicators(fmt: str = typer.Option("table", "--format", help="table of json.")):
        """Toon de indicatorencatalogus."""
        df = api.indicators()
        if fmt == "json":
            sys.stdout.write(json.dumps(json.loads(df.to_json(orient="records", force_ascii=False)),
                                        ensure_ascii=False, indent=2) + "\n")
        else:
            _print_df(df[["id", "name", "theme", "kernindicator", "polarity", "unit", "aggregation", "min_base"]],
                      title=f"Indicatoren (catalogusversie {load_catalogue().version})")

    @app.command()
    def value(
        region: str = typer.Option(..., "--region", help="CBS-code, bv. GM0344 of WK034403."),
        indicator: str = typer.Option(..., "--indicator", help="Indicator-id, zie 'wijkmonitor indicators'."),
        year: int = typer.Option(..., "--year", help="Jaar (periode) van het cijfer."),
        fmt: str = typer.Option("table", "--format", help="table of json."),
        store_path: Optional[Path] = typer.Option(None, "--store"),
    ):
        """Eén indicatorwaarde met status en herkomst."""
        try:
            result = api.value(region, indicator, year, path=store_path)
        except KeyError as exc:
            _fail(str(exc.args[0]))
        except store.StoreMissing as exc:
            _fail(str(exc))
        if fmt == "json":
            sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
            return
        shown = "—" if result["value"] is None else f"{result['value']:.{load_catalogue()[indicator].decimals}f}"
        console.print(f"[bold]{result['indicator_name']}[/bold] — {result.get('region_name') or region} ({region}), {year}")
        console.print(f"waarde: {shown} {result['unit']}   status: {result['status']}")
        if result["reason"]:
            console.print(f"reden: {result['reason']}")
        if result["source"]:
            s = result["source"]
            console.print(f"bron: {s['publisher']} {s['table_id']} — {s['title']} ({s['location']}, opgehaald {s['retrieved']})")

    @app.command()
    def export(
        out: Path = typer.Option(..., "--out", help="Doelbestand (.csv of .parquet)."),
        table: str = typer.Option("indicator_values", help="indicator_values, observations, regions of sources."),
        indicator: Optional[str] = typer.Option(None, help="Alleen deze indicator (bij indicator_values)."),
        fmt: Optional[str] = typer.Option(None, "--format", help="csv of parquet (standaard uit de extensie)."),
        store_path: Optional[Path] = typer.Option(None, "--store"),
    ):
        """Exporteer een tabel als CSV of Parquet (met status en herkomst)."""
        fmt = fmt or out.suffix.lstrip(".").lower()
        if fmt not in ("csv", "parquet"):
            _fail("formaat moet csv of parquet zijn")
        try:
            if table == "indicator_values":
                df = api.values(indicator, path=store_path)
            elif table == "observations":
                df = api.observations(path=store_path)
            elif table == "regions":
                df = api.regions(path=store_path)
            elif table == "sources":
                df = api.sources(path=store_path)
            else:
                _fail(f"onbekende tabel {table!r}")
        except store.StoreMissing as exc:
            _fail(str(exc))
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".part")
        if fmt == "csv":
            tmp.write_bytes(sheets.csv_plain(df))  # formulas neutralised (sheets)
        else:
            df.to_parquet(tmp, index=False)
        tmp.replace(out)
        console.print(f"{len(df)} rijen geschreven naar {out}")


def register_fetch(app: typer.Typer) -> None:
    fetch_app = typer.Typer(help="Tabellen online ophalen (CBS StatLine, PDOK) in de indeling van de offline spiegel.",
                            no_args_is_help=True)
    app.add_typer(fetch_app, name="fetch")

    def _out(out: Optional[Path]) -> Path:
        target = out or config.fetched_dir()
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _fail(f"{target} is niet schrijfbaar: {exc}")
        return target

    @fetch_app.command("statline")
    def fetch_statline(
        table: str = typer.Argument(..., help="CBS-tabel, bv. 85984NED (KWB 2024) of 50090NED (gezondheid)."),
        out: Optional[Path] = typer.Option(None, "--out", help="Map voor opgehaalde tabellen (standaard var/mirror; 'build' leest die mee)."),
        filters: Optional[str] = typer.Option(None, help="OData $filter, bv. \"SoortRegio_2 eq 'Gemeente  '\"."),
    ):
        """Haal een StatLine-tabel op met cbsodata en schrijf hem in de spiegel."""
        from .sources import statline_online

        target = _out(out)
        try:
            paths = statline_online.fetch_statline(table, target, filters=filters)
        except Exception as exc:  # network errors, unknown table
            _fail(f"ophalen van {table} mislukt: {exc}")
        for p in paths:
            console.print(f"geschreven: {p}")

    @fetch_app.command("pdok")
    def fetch_pdok(
        year: int = typer.Argument(..., help="Jaar van de wijk- en buurtkaart."),
        level: str = typer.Argument("gemeente", help="gemeente, wijk of buurt."),
        out: Optional[Path] = typer.Option(None, "--out", help="Map voor opgehaalde tabellen (standaard var/mirror; 'build' leest die mee)."),
    ):
        """Haal geometrieën met KWB-kenmerken op bij PDOK (wijkenbuurten) en schrijf ze in de spiegel."""
        from .sources import pdok_online

        target = _out(out)
        try:
            path = pdok_online.fetch_pdok(year, level, target)
        except Exception as exc:
            _fail(f"ophalen van PDOK {level} {year} mislukt: {exc}")
        console.print(f"geschreven: {path}")


GAP_FIELDS = ["area", "area_name", "indicator", "baseline_year", "latest_year", "value_baseline",
              "value_latest", "reference", "reference_name", "reference_baseline", "reference_latest",
              "gap_baseline", "gap_latest", "ratio_baseline", "ratio_latest", "status_baseline",
              "status_latest", "tolerance", "class", "rule"]


def register_gap(app: typer.Typer) -> None:
    @app.command()
    def gap(
        areas: Optional[str] = typer.Option(None, "--areas", help="nplv, aandachtswijken, of gebied-id's gescheiden door komma's."),
        area: Optional[str] = typer.Option(None, "--area", help="Eén gebied, bv. \"Utrecht Overvecht\"."),
        indicator: Optional[list[str]] = typer.Option(None, "--indicator", help="Alleen deze indicator(en)."),
        baseline: int = typer.Option(2012, help="Basisjaar (per indicator het dichtstbijzijnde beschikbare jaar)."),
        latest: int = typer.Option(2024, help="Laatste jaar (per indicator het dichtstbijzijnde beschikbare jaar)."),
        reference: str = typer.Option("gemeente", help="gemeente (stedelijk gemiddelde), rest, G4, G14, G18, NPLV19 of NL."),
        fmt: str = typer.Option("table", "--format", help="table, markdown, json of csv."),
        store_path: Optional[Path] = typer.Option(None, "--store"),
    ):
        """Afstand tot de referentie en de verandering ervan (de Outcomemonitor-tabel)."""
        from . import analysis

        if (areas is None) == (area is None):
            _fail("geef --areas of --area")
        selection = area if area is not None else (areas if areas in ("nplv", "aandachtswijken")
                                                     else [a.strip() for a in areas.split(",") if a.strip()])
        try:
            values = analysis.load_area_values(store_path)
            index = analysis.load_area_index(store_path)
            df = analysis.gaps(areas=selection, indicators=indicator or None, baseline=baseline,
                               latest=latest, reference=reference, values=values, index=index)
        except (KeyError, ValueError) as exc:
            _fail(str(exc.args[0]) if exc.args else str(exc))
        except store.StoreMissing as exc:
            _fail(str(exc))
        if fmt == "json":
            sys.stdout.write(df[GAP_FIELDS].to_json(orient="records", force_ascii=False, indent=2) + "\n")
            return
        if fmt == "csv":
            sys.stdout.write(sheets.csv_plain(df[GAP_FIELDS]).decode("utf-8"))
            return
        cat = load_catalogue()
        if area is not None:
            shown = df[["indicator", "baseline_year", "latest_year", "value_baseline", "value_latest",
                        "reference_baseline", "reference_latest", "gap_baseline", "gap_latest", "class"]].copy()
            for c in ("value_baseline", "value_latest", "reference_baseline", "reference_latest",
                      "gap_baseline", "gap_latest"):
                shown[c] = [_fmt(v, cat[i].decimals) for v, i in zip(shown[c], shown["indicator"])]
            _print_df(shown, title=f"{df['area_name'].iloc[0]}: afstand tot {analysis.REFERENCE_NAMES[reference]}")
            console.print("Regel per indicator: zie --format json (veld 'rule').")
            return
        set_unit = f"alle:{areas}" if areas in ("nplv", "aandachtswijken") else None
        table = analysis.outcome_table(df, values=values, set_unit=set_unit)
        table = table.assign(_theme=[THEME_ORDER.get(t, 99) for t in table["theme"]]).sort_values(
            ["_theme", "name"], kind="stable")
        measured = table[list(analysis.MEASURED_CLASSES)].sum(axis=1) > 0
        shown = table.loc[measured, ["theme", "name", "baseline_year", "latest_year", "n_areas",
                                     *analysis.CLASSES]].copy()
        groups = ([("alle_gebieden", "alle gebieden")] if set_unit else []) + [(g, g) for g in ("G4", "G14", "G18", "NL")]
        for key, label in groups:
            shown[label] = [f"{_fmt(b, cat[i].decimals)} → {_fmt(l, cat[i].decimals)}" for b, l, i in
                            zip(table.loc[measured, f"{key}_baseline"], table.loc[measured, f"{key}_latest"],
                                table.loc[measured, "indicator"])]
        not_measured = [f"{n} ({_years(b, l)})" for n, b, l in
                        table.loc[~measured, ["name", "baseline_year", "latest_year"]].itertuples(index=False)]
        title = f"Afstand tot {analysis.REFERENCE_NAMES[reference]}: aantal gebieden per klasse"
        rule = analysis.general_rule_text(reference)
        note = ("Zonder meetbare ontwikkeling (in geen enkel gebied vier cijfers, of basisjaar = laatste jaar): "
                + ("; ".join(not_measured) if not_measured else "geen") + ".")
        if fmt == "markdown":
            sys.stdout.write(f"**{title}.** {rule}\n\n")
            sys.stdout.write(_markdown(shown.rename(columns={"theme": "thema", "name": "indicator",
                                                             "baseline_year": "basis", "latest_year": "laatste",
                                                             "n_areas": "gebieden"})))
            sys.stdout.write("\n" + note + "\n")
            return
        _print_df(shown, title=title)
        console.print("Regel: " + rule + " (de regel met de getallen per indicator: --format json, veld 'rule').")
        console.print(note)


#: Order of the themes in tables (the Outcomemonitor's order).
THEME_ORDER = {t: i for i, t in enumerate(
    ["bevolking", "wonen & leefbaarheid", "leren", "werken", "inkomen & schulden", "gezondheid", "veiligheid"])}


def _years(b, l) -> str:
    b = None if b is None or pd.isna(b) else int(b)
    l = None if l is None or pd.isna(l) else int(l)
    if b is None and l is None:
        return "geen cijfers"
    if b == l or b is None or l is None:
        return f"alleen {b or l}"
    return f"{b}–{l}"


def _markdown(df: pd.DataFrame) -> str:
    cells = [[str(c) for c in df.columns]] + [["" if pd.isna(v) else str(v) for v in row]
                                              for row in df.itertuples(index=False)]
    lines = ["| " + " | ".join(r) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("---" for _ in df.columns) + "|")
    return "\n".join(lines) + "\n"


def _fmt(v, decimals: int) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "—"
    return nl_number(float(v), decimals)


def _emit(df: pd.DataFrame, fmt: str, title: str) -> None:
    if fmt == "json":
        sys.stdout.write(df.to_json(orient="records", force_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        sys.stdout.write(sheets.csv_plain(df).decode("utf-8"))
    else:
        _print_df(df, title=title, limit=200)
        if len(df) > 200:
            console.print(f"... {len(df) - 200} rijen meer (gebruik --format csv)")


def _report(summary: dict) -> None:
    console.print(f"bronnen: {summary['sources']}, observaties: {summary['observations']:,}, "
                  f"regio's: {summary['regions']:,}"
                  + (f", indicatorwaarden: {summary['indicator_values']:,}" if "indicator_values" in summary else ""))
    for w in summary.get("warnings", [])[:20]:
        err.print(f"[yellow]waarschuwing:[/yellow] {w}")
    if len(summary.get("warnings", [])) > 20:
        err.print(f"... en {len(summary['warnings']) - 20} waarschuwingen meer")


def _national_summary(store_path: Path | None) -> None:
    cat = load_catalogue()
    try:
        # NL: the published national figure, or the gemeenten of that year added up (area_values)
        df = store.query_df("""
            SELECT indicator, period, value, status, method FROM (
                SELECT *, row_number() OVER (PARTITION BY indicator ORDER BY period DESC) rn
                FROM area_values WHERE unit_id = 'NL' AND status = 'ok') WHERE rn = 1""",
                            path=store_path)
    except store.StoreMissing as exc:
        _fail(str(exc))
    by_id = {r.indicator: r for r in df.itertuples()}

    table = Table(title="Nederland: meest recente cijfers per indicator")
    for col in ("indicator", "jaar", "waarde", "eenheid", "herkomst"):
        table.add_column(col)
    for theme, inds in cat.by_theme().items():
        table.add_section()
        table.add_row(f"[bold]{theme}[/bold]", "", "", "", "")
        for ind in inds:
            r = by_id.get(ind.id)
            table.add_row(ind.name, str(r.period) if r else "—",
                          nl_number(r.value, ind.decimals) if r else "geen landelijk cijfer", ind.unit,
                          ("gepubliceerd" if r.method == "gepubliceerd" else "som van gemeenten") if r else "")
    console.print(table)
