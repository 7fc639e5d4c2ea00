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
    register_coverage(app)
    register_effect(app)

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
        koppeling: Optional[int] = typer.Option(None, help="Buurten van dit indelingsjaar met hun buurtgrens van 2014 (zelfde code, of gekoppeld op naam en ligging) of de reden waarom niet, bv. --koppeling 2024."),
        fmt: str = typer.Option("table", "--format", help="table, json of csv."),
        store_path: Optional[Path] = typer.Option(None, "--store"),
    ):
        """Toon CBS-regio's per jaar (of de codewijzigingen tussen twee jaren)."""
        try:
            if koppeling is not None:
                from .buurtkoppeling import link_division
                regs = api.regions(koppeling, "buurt", gemeente=gemeente, path=store_path)
                if regs.empty:
                    _fail(f"geen buurten van indelingsjaar {koppeling} in de store")
                df = link_division(regs[["code", "name", "wijk_code", "gemeente_code"]], koppeling)
                title = f"Buurten {koppeling} en hun buurtgrens van 2014"
            elif changes and changes[0] is not None:
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
        ind = load_catalogue().get(indicator)
        shown = "—" if result["value"] is None else f"{result['value']:.{ind.decimals if ind else 1}f}"
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


def register_coverage(app: typer.Typer) -> None:
    @app.command("coverage")
    def coverage_cmd(
        fmt: str = typer.Option("table", "--format", help="table, json, csv of markdown."),
        against: Optional[Path] = typer.Option(
            None, "--against", help="Eerdere uitvoer van 'coverage --format json': meld elke daling "
                                    "(afsluitcode 1 bij een daling)."),
        store_path: Optional[Path] = typer.Option(None, "--store"),
    ):
        """Dekking: per indicator, niveau en jaar het aantal regio's met een getoond cijfer en hun bronnen."""
        from . import coverage

        if fmt not in ("table", "json", "csv", "markdown"):
            _fail("formaat moet table, json, csv of markdown zijn")
        try:
            cov = coverage.coverage(store_path)
        except store.StoreMissing as exc:
            _fail(str(exc))
        if against is not None:
            try:
                before = coverage.load(against)
            except (OSError, ValueError) as exc:
                _fail(f"kan {against} niet lezen: {exc}")
            lost = coverage.compare(before, cov)
            gained = coverage.gains(before, cov)
            console.print(f"{len(gained)} combinaties indicator x niveau x jaar met meer regio's, "
                          f"{len(lost)} met minder (t.o.v. {against})")
            if len(lost):
                _print_df(lost, title="Minder regio's met een getoond cijfer")
                raise typer.Exit(1)
            return
        if fmt == "json":
            sys.stdout.write(coverage.to_json(cov) + "\n")
        elif fmt == "csv":
            sys.stdout.write(coverage.to_csv(cov))
        elif fmt == "markdown":
            sys.stdout.write(coverage.to_markdown(coverage.matrix(cov)))
        else:
            wide = coverage.matrix(cov)
            table = Table(title="Regio's met een getoond cijfer per indicator, niveau en jaar")
            for col in wide.columns:
                table.add_column(str(col), justify="left" if col in ("indicator", "level") else "right")
            for row in wide.itertuples(index=False):
                table.add_row(*[str(v) for v in row])
            Console(width=max(console.width, 40 + 8 * len(wide.columns))).print(table)


def register_fetch(app: typer.Typer) -> None:
    fetch_app = typer.Typer(help="Tabellen online ophalen (CBS StatLine, PDOK) in de indeling van de offline spiegel.")
    app.add_typer(fetch_app, name="fetch")

    @fetch_app.callback(invoke_without_command=True)
    def fetch_main(
        ctx: typer.Context,
        all_tables: bool = typer.Option(False, "--all", help="Alle tabellen uit het bronregister (src/wijkmonitor/sources/registry/) die nog niet of in een oudere versie zijn opgehaald."),
        since: Optional[int] = typer.Option(None, "--since", help="Alleen tabellen met een jaar vanaf dit jaar."),
        only: Optional[list[str]] = typer.Option(None, "--only", help="Alleen deze tabel(len) of familie(s), bv. 85984NED of cbs_kwb (herhaalbaar)."),
        out: Optional[Path] = typer.Option(None, "--out", help="Map voor opgehaalde tabellen (standaard var/mirror; 'build' leest die mee)."),
    ):
        """Haal tabellen online op; 'fetch --all' haalt het hele bronregister op (hervatbaar)."""
        if ctx.invoked_subcommand is not None:
            return
        if not all_tables:
            console.print(ctx.get_help())
            raise typer.Exit(0 if not (since or only) else 2)
        from .sources import fetch_registry

        target = _out(out)
        try:
            with pipeline.rich_progress() as progress:
                report = fetch_registry.fetch_all(target, only=only or None, since=since,
                                                  progress=progress)
        except ValueError as exc:
            _fail(str(exc), 2)
        for tid in report.fetched:
            console.print(f"opgehaald: {tid}")
        for tid in report.current:
            console.print(f"al actueel: {tid}")
        for w in report.warnings:
            err.print(f"[yellow]let op:[/yellow] {w}")
        # a column the live table lacks does not fail its table (exit 0): named here, in the
        # table's manifest and at ingest; the build has no value for it (not zero)
        for line in report.missing_lines():
            err.print(f"[yellow]kolom ontbreekt:[/yellow] {line}")
        for tid, msg in report.failed.items():
            err.print(f"[red]mislukt:[/red] {tid}: {msg}")
        for tid, msg in report.unreachable.items():
            err.print(f"[red]niet bereikbaar:[/red] {tid}: {msg}")
        console.print(f"{len(report.fetched)} opgehaald, {len(report.current)} al actueel, "
                      f"{len(report.failed)} mislukt, {len(report.unreachable)} niet bereikbaar"
                      + (f", {sum(map(len, report.missing.values()))} kolom(men) ontbreken in "
                         f"{len(report.missing)} tabel(len)" if report.missing else "") + "; "
                      f"opgeslagen in {fetch_registry.registry_dir(target)}")
        if not report.ok:
            raise typer.Exit(1)

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
              "status_latest", "tolerance", "class", "rule",
              # issue 15: 95 % intervals, the change with its interval, the publications compared
              "lower_baseline", "upper_baseline", "lower_latest", "upper_latest",
              "reference_lower_baseline", "reference_upper_baseline", "reference_lower_latest",
              "reference_upper_latest", "change", "change_lower", "change_upper", "interval_method",
              # a value added up with a declared stand-in weight (an approximation), in words
              "approximation_baseline", "approximation_latest", "reference_approximation_baseline",
              "reference_approximation_latest",
              "publication_baseline", "publication_latest", "reference_publication_baseline",
              "reference_publication_latest", "rule_name",
              # issue 17.6: the publication series of each value, and no class across a break
              "series_baseline", "series_latest", "reference_series_baseline", "reference_series_latest",
              "break_before", "break_after", "class_reason"]


def _print_rule_comparison(df, other, rule: str, fmt: str) -> None:
    """Per indicator: areas classified, and how many get another class under the other rule
    (with the moves, e.g. ``kleiner → onzeker: 3``)."""
    from . import analysis

    cat = load_catalogue()
    a = df[["area", "indicator", "class"]].merge(other[["area", "indicator", "class"]],
                                                 on=["area", "indicator"], suffixes=("", "_other"))
    rows = []
    for ind_id, sub in a.groupby("indicator", sort=False):
        measured = sub[sub["class"].isin(analysis.MEASURED_CLASSES) | sub["class_other"].isin(analysis.MEASURED_CLASSES)]
        if measured.empty:
            continue
        diff = measured[measured["class"] != measured["class_other"]]
        moves = diff.groupby(["class_other", "class"]).size()
        rows.append({"indicator": cat[ind_id].name, "gebieden met ontwikkeling": len(measured),
                     "andere klasse": len(diff),
                     "verschuivingen (omw → standaard)" if rule == "standaard" else "verschuivingen (standaard → omw)":
                     "; ".join(f"{f} → {t}: {k}" for (f, t), k in moves.items()) or "—"})
    table = pd.DataFrame(rows)
    total = dict(indicator="totaal", **{"gebieden met ontwikkeling": int(table["gebieden met ontwikkeling"].sum()),
                                        "andere klasse": int(table["andere klasse"].sum())}) if len(table) else {}
    if total:
        table = pd.concat([table, pd.DataFrame([total])], ignore_index=True).fillna("")
    if fmt == "json":
        sys.stdout.write(table.to_json(orient="records", force_ascii=False, indent=2) + "\n")
    elif fmt == "markdown":
        sys.stdout.write(_markdown(table))
    else:
        _print_df(table, title="Klassen per regel: standaard (met onzekerheid) tegen omw (vaste tolerantie)")


def register_effect(app: typer.Typer) -> None:
    @app.command()
    def effect(
        areas: str = typer.Option(..., "--areas", help="aandachtswijken, nplv of een gebied-id."),
        indicator: str = typer.Option(..., "--indicator", help="Indicator-id (meer dan één: gescheiden door komma's)."),
        baseline: int = typer.Option(2012, "--baseline", help="Basisjaar."),
        latest: int = typer.Option(2020, "--latest", help="Laatste jaar."),
        fmt: str = typer.Option("table", "--format", help="table, json, csv of markdown (samenvatting per indicator)."),
        store_path: Optional[Path] = typer.Option(None, "--store"),
    ):
        """Verschil-in-verschillen tegen vergelijkbare gebieden buiten elk programma (naaste buren)."""
        from . import effect as eff

        if fmt not in ("table", "json", "csv", "markdown"):
            _fail("formaat moet table, json, csv of markdown zijn")
        cat = load_catalogue()
        indicators = [i.strip() for i in indicator.split(",") if i.strip()]
        unknown = [i for i in indicators if i not in cat]
        if not indicators or unknown:
            _fail(f"onbekende indicator {', '.join(unknown) or repr(indicator)}; zie 'wijkmonitor indicators'")
        try:
            data = eff.load(path=store_path, catalogue=cat, indicators=indicators)
            rows = [r for i in indicators for r in eff.estimate(data, areas, i, baseline, latest)]
        except KeyError as exc:
            _fail(str(exc.args[0]) if exc.args else str(exc))
        except store.StoreMissing as exc:
            _fail(str(exc))
        if fmt == "json":
            sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
            return
        if fmt == "markdown":
            sys.stdout.write(_markdown(_effect_summary(rows, cat, areas)))
            return
        frame = eff.to_frame(rows)
        if fmt == "csv":
            from . import sheets
            sys.stdout.write(sheets.csv_plain(frame).decode("utf-8"))
            return
        decs = [cat[i].decimals for i in frame["indicator"]]
        shown = pd.DataFrame({
            "gebied": frame["area_name"], "indicator": frame["indicator"],
            "schatting": [_fmt(v, d) for v, d in zip(frame["estimate"], decs)],
            "95%-interval": [f"{_fmt(lo, d)} tot {_fmt(hi, d)}" if pd.notna(lo) else "—"
                             for lo, hi, d in zip(frame["lower"], frame["upper"], decs)],
            "gebied Δ": [_fmt(v, d) for v, d in zip(frame["area_change"], decs)],
            "vergelijking Δ": [_fmt(v, d) for v, d in zip(frame["comparison_change"], decs)],
            "trend vóór basisjaar": [t if isinstance(t, str) and t else "nee" for t in frame["pre_trend"]],
            "status": [s if not r else f"{s}: {r}" for s, r in zip(frame["status"], frame["reason"])]})
        _print_df(shown, title=f"Effect, {baseline}–{latest}: gebied tegen {eff.K} vergelijkbare "
                               f"gebieden buiten de programma's")


def _effect_summary(rows: list[dict], cat, areas: str) -> pd.DataFrame:
    """Per indicator: areas, estimates, mean and median DiD, how many intervals lie above 0,
    below 0 or contain 0, and how many areas were matched on the pre-baseline trend (the
    README table; ``wijkmonitor effect --format markdown``)."""
    from . import effect as eff

    label = {"aandachtswijken": "40 aandachtswijken", "nplv": "20 focusgebieden"}.get(areas, areas)
    out = []
    for ind_id in dict.fromkeys(r["indicator"] for r in rows):
        rs = [r for r in rows if r["indicator"] == ind_id]
        est = [r for r in rs if r["status"] == eff.STATUS_OK]
        vals = pd.Series([r["estimate"] for r in est], dtype="float64")
        sign = lambda x: ("+" if x > 0 else "−" if x < 0 else "") + nl_number(abs(x), 2)  # noqa: E731
        ind = cat[ind_id]
        out.append({"programme": label, "indicator": f"{ind.name} ({ind.polarity})",
                    "jaren": f"{rs[0]['baseline_year']}–{rs[0]['latest_year']}", "areas": len(rs),
                    "with estimate": len(est),
                    "mean DiD": sign(vals.mean()) if len(vals) else "—",
                    "median": sign(vals.median()) if len(vals) else "—",
                    "interval > 0": sum(eff.direction(r) == "hoger" for r in est),
                    "interval < 0": sum(eff.direction(r) == "lager" for r in est),
                    "interval contains 0": sum(eff.direction(r) == "onduidelijk" for r in est),
                    "matched on pre-trend": sum(bool(r["pre_trend"]) for r in est)})
    return pd.DataFrame(out)


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
        rule: str = typer.Option("standaard", "--rule", help="standaard (met onzekerheid) of omw (vaste tolerantie, als de Outcomemonitor)."),
        compare_rules: bool = typer.Option(False, "--compare-rules", help="Tel per indicator de gebieden waarvan de klasse verschilt tussen de regels standaard en omw."),
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
            sources = analysis.load_sources(store_path)
            df = analysis.gaps(areas=selection, indicators=indicator or None, baseline=baseline,
                               latest=latest, reference=reference, values=values, index=index, rule=rule,
                               sources=sources)
            if compare_rules:
                other = analysis.gaps(areas=selection, indicators=indicator or None, baseline=baseline,
                                      latest=latest, reference=reference, values=values, index=index,
                                      rule="omw" if rule == "standaard" else "standaard", sources=sources)
        except (KeyError, ValueError) as exc:
            _fail(str(exc.args[0]) if exc.args else str(exc))
        except store.StoreMissing as exc:
            _fail(str(exc))
        if compare_rules:
            _print_rule_comparison(df, other, rule, fmt)
            return
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
            for ind_id, why in df.loc[df["class_reason"].notna(), ["indicator", "class_reason"]].itertuples(index=False):
                console.print(f"{cat[ind_id].name}: bron veranderd: {why}.")
            for r in df.itertuples(index=False):
                said = set()
                for year, text in ((r.baseline_year, r.approximation_baseline), (r.latest_year, r.approximation_latest)):
                    if isinstance(text, str) and int(year) not in said:
                        said.add(int(year))
                        console.print(f"{cat[r.indicator].name} {int(year)}: {text}.")
            console.print("Regel per indicator: zie --format json (veld 'rule').")
            return
        set_unit = f"alle:{areas}" if areas in ("nplv", "aandachtswijken") else None
        table = analysis.outcome_table(df, values=values, set_unit=set_unit)
        table = table.assign(_theme=[THEME_ORDER.get(t, 99) for t in table["theme"]]).sort_values(
            ["_theme", "name"], kind="stable")
        measured = table[list(analysis.MEASURED_CLASSES)].sum(axis=1) > 0
        shown = table.loc[measured, ["theme", "name", "baseline_year", "latest_year", "n_areas",
                                     *analysis.CLASSES]].copy()
        if not shown["bron veranderd"].any():  # as in the report: the column only when it counts
            shown = shown.drop(columns="bron veranderd")
        groups = ([("alle_gebieden", "alle gebieden")] if set_unit else []) + [(g, g) for g in ("G4", "G14", "G18", "NL")]
        for key, label in groups:
            shown[label] = [f"{_fmt(b, cat[i].decimals)} → {_fmt(l, cat[i].decimals)}" for b, l, i in
                            zip(table.loc[measured, f"{key}_baseline"], table.loc[measured, f"{key}_latest"],
                                table.loc[measured, "indicator"])]
        not_measured = [f"{n} ({_years(b, l)})" for n, b, l in
                        table.loc[~measured, ["name", "baseline_year", "latest_year"]].itertuples(index=False)]
        title = f"Afstand tot {analysis.REFERENCE_NAMES[reference]}: aantal gebieden per klasse"
        rule = analysis.general_rule_text(reference, rule)
        note = ("Zonder meetbare ontwikkeling (in geen enkel gebied vier cijfers, of basisjaar = laatste jaar): "
                + ("; ".join(not_measured) if not_measured else "geen") + ".")
        note += _approximation_note(df, cat)
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


def _approximation_note(df: pd.DataFrame, cat) -> str:
    """A sentence naming, per indicator and year, how many areas' values were added up with a
    declared stand-in weight (an approximation), or ''."""
    parts = []
    for ind_id, sub in df.groupby("indicator", sort=False):
        for k, year_col in (("baseline", "baseline_year"), ("latest", "latest_year")):
            texts = sub[f"approximation_{k}"].dropna()
            if len(texts) and not (k == "latest" and sub["baseline_year"].iloc[0] == sub["latest_year"].iloc[0]):
                parts.append(f"{cat[ind_id].name} {int(sub[year_col].iloc[0])}: {len(texts)} gebieden "
                             f"({texts.iloc[0]})")
    return (" Een benadering (interval inclusief de gemeten fout van de benadering): " + "; ".join(parts) + ".") \
        if parts else ""


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
