"""``wijkmonitor select``: the buurten or wijken that meet a selection rule, with their domain
profile (see :mod:`wijkmonitor.wijkindex.select`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from .. import store
from ..nlformat import nl_number
from .model import WijkindexError
from .select import SelectionError, select

console = Console()
err = Console(stderr=True)


def _interval(lo, hi) -> str:
    if pd.isna(lo) or pd.isna(hi):
        return ""
    return f"{int(lo)}–{int(hi)}"


def records(df: pd.DataFrame, info: dict) -> list[dict]:
    """The JSON rows of a selection (``approximation``: which approximated inputs the index,
    and per domain the domain score, used; None: none)."""
    out = []
    for r in df.itertuples(index=False):
        r = r._asdict()

        def num(x):
            return None if pd.isna(x) else float(x)

        def intn(x):
            return None if pd.isna(x) else int(x)

        def text(x):
            return x if isinstance(x, str) else None

        out.append(dict(
            code=r["code"], name=r["name"] if isinstance(r["name"], str) else None, gemeente=r["gemeente"],
            period=info["year"], wijkindex=num(r[info["index"]]), status=r["status"],
            reason=r["reason"] if isinstance(r["reason"], str) else None, decile=intn(r["decile"]),
            rank_nl=intn(r["rank_nl"]), n_nl=intn(r["n_nl"]),
            rank_nl_interval=[intn(r["rank_nl_low"]), intn(r["rank_nl_high"])] if not pd.isna(r["rank_nl_low"]) else None,
            rank_gemeente=intn(r["rank_gemeente"]), n_gemeente=intn(r["n_gemeente"]),
            rank_gemeente_interval=[intn(r["rank_gemeente_low"]), intn(r["rank_gemeente_high"])]
            if not pd.isna(r["rank_gemeente_low"]) else None,
            domains={d: dict(score=num(r[d]), decile=intn(r[d + "_decile"]),
                             approximation=text(r.get(d + "_approximation")))
                     for d in info["domains"]},
            domains_bottom_decile=int(r["domains_bottom_decile"]),
            domains_available=r["domains_available"].split(",") if isinstance(r["domains_available"], str) else [],
            approximation=text(r.get("approximation")),
        ))
    return out


def flat(df: pd.DataFrame, info: dict) -> pd.DataFrame:
    """The CSV/table shape: one column per field, Dutch headers stay the ids."""
    cols = ["code", "name", "gemeente", info["index"], "status", "decile", "rank_nl", "n_nl", "rank_nl_low",
            "rank_nl_high", "rank_gemeente", "n_gemeente", "rank_gemeente_low", "rank_gemeente_high"]
    for d in info["domains"]:
        cols += [d, d + "_decile"]
    cols += ["domains_bottom_decile", "domains_available"]
    out = df[cols].copy()
    out.insert(3, "period", info["year"])
    return out


def register(app: typer.Typer) -> None:
    @app.command("select")
    def select_cmd(
        level: str = typer.Option(..., "--level", help="buurt of wijk."),
        year: int = typer.Option(..., "--year", help="Jaar van de wijkindex."),
        gemeente: Optional[str] = typer.Option(None, "--gemeente", help="Alleen deze gemeente (GMxxxx)."),
        rule: str = typer.Option("bottom-decile", "--rule",
                                 help="bottom-decile (index in het onderste deciel) of domains-below:K "
                                      "(op minstens K domeinen in het onderste deciel)."),
        fmt: str = typer.Option("table", "--format", help="table, json of csv."),
        store_path: Optional[Path] = typer.Option(None, "--store", help="DuckDB-bestand."),
    ):
        """Buurten of wijken met een opeenstapeling van achterstanden (wijkindex), met hun domeinprofiel."""
        if fmt not in ("table", "json", "csv"):
            err.print(f"[red]fout:[/red] formaat {fmt!r} onbekend; kies table, json of csv")
            raise typer.Exit(2)
        try:
            df, info = select(level, year, gemeente=gemeente, rule=rule, path=store_path)
        except (SelectionError, WijkindexError) as exc:
            err.print(f"[red]fout:[/red] {exc}")
            raise typer.Exit(2)
        except store.StoreMissing as exc:
            err.print(f"[red]fout:[/red] {exc}")
            raise typer.Exit(1)
        if fmt == "json":
            sys.stdout.write(json.dumps(dict(selection=info, areas=records(df, info)),
                                        ensure_ascii=False, indent=2) + "\n")
            return
        if fmt == "csv":
            from .. import sheets
            sys.stdout.write(sheets.csv_plain(flat(df, info)).decode("utf-8"))
            return
        table = Table(title=f"{info['n_selected']} van {info['n_units']} {level}en: {info['rule_text']}"
                            + (f", {gemeente}" if gemeente else ""))
        for c in ["code", "naam", "gemeente", "wijkindex", "deciel", "rang NL (90%-interval)",
                  "rang gemeente (90%-interval)"] + info["domains"]:
            table.add_column(c)
        for r in df.itertuples(index=False):
            r = r._asdict()
            v = r[info["index"]]
            row = [r["code"], r["name"] if isinstance(r["name"], str) else "", r["gemeente"] or "",
                   "—" if pd.isna(v) else nl_number(v, 1), "" if pd.isna(r["decile"]) else str(int(r["decile"])),
                   "" if pd.isna(r["rank_nl"]) else f"{int(r['rank_nl'])} ({_interval(r['rank_nl_low'], r['rank_nl_high'])})",
                   "" if pd.isna(r["rank_gemeente"]) else
                   f"{int(r['rank_gemeente'])} ({_interval(r['rank_gemeente_low'], r['rank_gemeente_high'])})"]
            for d in info["domains"]:
                s, dec = r[d], r[d + "_decile"]
                row.append("—" if pd.isna(s) else f"{nl_number(s, 0)} (d{int(dec)})")
            table.add_row(*row)
        console.print(table)
        console.print(f"Regel: {info['rule_text']}. Domeinscores 0-100 (hoger is meer achterstand), "
                      f"d = deciel (1 = meeste achterstand). Index {info['index']} versie {info['index_version']}.")
