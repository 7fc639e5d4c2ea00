"""Early warning: buurten and wijken whose achterstand is likely to grow ("signalen").

A signal to look closer, never a verdict. The method, declared in ``signalen.yaml``:

* **Achterstand.** Per unit (buurt or wijk of one division), wave and indicator, the gap to the
  unit's own gemeente in the same publication and division, oriented by the indicator's
  polarity so that positive is worse, divided by the spread (standard deviation) of that gap
  over the level's units in the first wave. The composite achterstand is the mean over the
  indicators. Only units with every indicator shown in every wave take part.
* **Label.** The achterstand *grows* between two waves when the composite rises by more than
  ``growth_threshold`` spreads.
* **Model.** A logistic regression (scikit-learn, L2) on the standardised achterstanden per
  indicator and the composite of the earlier wave, plus the logarithm of the population. It
  is trained on the change from the first to the second wave and tested on the change from
  the second to the third (no unit's future enters its training), then refitted on both
  changes to give today's signals from the third wave.
* **Naive rules** on the same test: the worst level now (the composite achterstand of the
  second wave) and the largest recent decline (its rise from the first to the second wave).
* **Figures.** AUC (area under the ROC curve) and the precision among the top ``top_share``
  of units, for the model and both rules; ``benchmarks/bench_signalen.py`` prints them.
* **Reasons.** Per unit the inputs with the largest contributions (coefficient x standardised
  input) to its score.

The RIVM figures are model estimates whose changes are partly noise (see the README's "Hoe
zeker is dit?"), and a model trained on one period need not hold in the next: the figures
are reported as they come and no threshold is tuned to them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import yaml

from .catalogue import Catalogue, load_catalogue

SPEC_FILE = Path(__file__).resolve().parent / "signalen.yaml"
LEVELS = {"buurt": "BU", "wijk": "WK"}
#: How every output describes what a signal is.
DISCLAIMER = ("Een signaal om beter te kijken, geen oordeel: een model schat welke gebieden een "
              "groeiende achterstand op gezondheid en rondkomen kunnen krijgen, op basis van "
              "modelschattingen van RIVM/GGD/CBS.")


#: The method in a sentence or two, for users (CLI json, pages).
METHOD = ("Achterstand per indicator = afstand tot de eigen gemeente (RIVM/GGD/CBS 50090NED, "
          "indeling 2020), zo gericht dat positief slechter is en gedeeld door de spreiding in de "
          "eerste meting; de totale achterstand is het gemiddelde. Een logistische regressie op de "
          "achterstanden leert van de verandering 2012-2016 en wordt getoetst op 2016-2020, naast "
          "twee eenvoudige regels (slechtste niveau nu, grootste recente achteruitgang). Een gebied "
          "krijgt een signaal als het bij de hoogste 5 % van de modelscore hoort.")


class SignalenError(ValueError):
    """Bad specification or no data for the model."""


@dataclass(frozen=True)
class Spec:
    division: int
    waves: tuple[int, int, int]
    indicators: tuple[str, ...]
    growth_threshold: float
    top_share: float
    n_reasons: int
    regularisation_c: float
    version: str


def load_spec(path: str | Path = SPEC_FILE, catalogue: Catalogue | None = None) -> Spec:
    """Read and check ``signalen.yaml`` (Dutch errors naming file and field)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    catalogue = catalogue or load_catalogue()

    def fail(field: str, message: str):
        raise SignalenError(f"{path}, veld '{field}': {message}")

    if not isinstance(doc, dict) or doc.get("schema") != 1:
        fail("schema", "verwacht schema: 1")
    waves = doc.get("waves")
    if not (isinstance(waves, list) and len(waves) == 3 and all(isinstance(w, int) for w in waves)
            and waves == sorted(set(waves))):
        fail("waves", "drie oplopende jaartallen")
    inds = doc.get("indicators")
    if not isinstance(inds, list) or len(inds) < 2:
        fail("indicators", "minstens twee indicatoren")
    for ind in inds:
        if ind not in catalogue:
            fail("indicators", f"{ind!r} staat niet in de catalogus")
        if catalogue[ind].polarity not in ("hoger is beter", "hoger is slechter"):
            fail("indicators", f"{ind!r} heeft geen richting (polariteit)")
    for key, lo, hi in (("growth_threshold", 0.0, 5.0), ("top_share", 0.001, 0.5),
                        ("regularisation_c", 1e-6, 1e6)):
        v = doc.get(key)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not lo <= v <= hi:
            fail(key, f"een getal tussen {lo} en {hi}")
    n = doc.get("n_reasons")
    if not isinstance(n, int) or not 1 <= n <= len(inds) + 2:
        fail("n_reasons", "een geheel getal van 1 tot het aantal invoervariabelen")
    div = doc.get("division")
    if not isinstance(div, int):
        fail("division", "een jaartal")
    return Spec(division=div, waves=tuple(waves), indicators=tuple(inds),
                growth_threshold=float(doc["growth_threshold"]), top_share=float(doc["top_share"]),
                n_reasons=n, regularisation_c=float(doc["regularisation_c"]),
                version=hashlib.sha256(text.encode()).hexdigest()[:12])


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

def achterstand(values: pd.DataFrame, spec: Spec, catalogue: Catalogue, level: str) -> pd.DataFrame:
    """Oriented, standardised gaps per unit, wave and indicator, and their mean.

    ``values`` has ``region_code, period, indicator, value`` (shown values only) for the units
    of ``level`` and their gemeenten, all of one division. Returns one row per unit with the
    columns ``<indicator>@<wave>`` and ``A@<wave>`` (the composite); units lacking any input
    are dropped.
    """
    prefix = LEVELS[level]
    v = values[values["indicator"].isin(spec.indicators) & values["period"].isin(spec.waves)]
    wide = v.pivot_table(index="region_code", columns=["indicator", "period"], values="value",
                         aggfunc="first")
    units = wide[wide.index.str.startswith(prefix)]
    gem = wide[wide.index.str.startswith("GM")]
    parent = "GM" + units.index.str[2:6]
    ref = gem.reindex(parent)
    ref.index = units.index
    gap = units - ref
    sign = {i: (-1.0 if catalogue[i].polarity == "hoger is beter" else 1.0) for i in spec.indicators}
    out = {}
    first = spec.waves[0]
    for ind in spec.indicators:
        spread = float(np.nanstd((sign[ind] * gap.get((ind, first), pd.Series(dtype=float))).to_numpy()))
        for w in spec.waves:
            col = gap.get((ind, w))
            if col is None:
                raise SignalenError(f"{ind} heeft geen cijfers in {w} op de indeling {spec.division}")
            out[f"{ind}@{w}"] = sign[ind] * col / (spread if spread > 0 else 1.0)
    frame = pd.DataFrame(out).dropna()
    for w in spec.waves:
        frame[f"A@{w}"] = frame[[f"{i}@{w}" for i in spec.indicators]].mean(axis=1)
    return frame


def _features(frame: pd.DataFrame, spec: Spec, wave: int, log_pop: pd.Series) -> pd.DataFrame:
    cols = {i: frame[f"{i}@{wave}"] for i in spec.indicators}
    cols["samengesteld"] = frame[f"A@{wave}"]
    cols["log_inwoners"] = log_pop.reindex(frame.index)
    return pd.DataFrame(cols)


def _label(frame: pd.DataFrame, spec: Spec, w0: int, w1: int) -> pd.Series:
    return (frame[f"A@{w1}"] - frame[f"A@{w0}"]) > spec.growth_threshold


# ---------------------------------------------------------------------------------------------
# Model and evaluation
# ---------------------------------------------------------------------------------------------

def precision_at_top(scores: np.ndarray, labels: np.ndarray, share: float) -> float:
    """Share of true labels among the ``share`` highest scores (at least one unit; ties in
    score at the cut are broken by position, stably)."""
    n = max(1, int(round(share * len(scores))))
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")[:n]
    return float(np.asarray(labels, dtype=bool)[order].mean())


def _model(spec: Spec):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=spec.regularisation_c, max_iter=1000))


@dataclass
class Result:
    level: str
    spec: Spec
    evaluation: dict
    signals: pd.DataFrame  # one row per unit of the last wave


def run(values: pd.DataFrame, population: pd.Series, level: str, spec: Spec | None = None,
        catalogue: Catalogue | None = None) -> Result:
    """Train, test and score. ``population``: inhabitants per unit code (any recent year)."""
    from sklearn.metrics import roc_auc_score

    if level not in LEVELS:
        raise SignalenError(f"niveau {level!r}: kies buurt of wijk")
    catalogue = catalogue or load_catalogue()
    spec = spec or load_spec(catalogue=catalogue)
    frame = achterstand(values, spec, catalogue, level)
    log_pop = np.log1p(population.astype(float).clip(lower=0))
    frame = frame[frame.index.isin(log_pop.dropna().index)]
    if len(frame) < 50:
        raise SignalenError(f"te weinig {level}en met alle cijfers ({len(frame)}) voor een model")
    w0, w1, w2 = spec.waves
    x_train, y_train = _features(frame, spec, w0, log_pop), _label(frame, spec, w0, w1)
    x_test, y_test = _features(frame, spec, w1, log_pop), _label(frame, spec, w1, w2)
    if y_train.nunique() < 2 or y_test.nunique() < 2:
        raise SignalenError("het label heeft maar één waarde; geen model mogelijk")
    model = _model(spec).fit(x_train, y_train)
    scores = {
        "model": model.predict_proba(x_test)[:, 1],
        "slechtste_niveau": x_test["samengesteld"].to_numpy(),
        "grootste_recente_achteruitgang": (frame[f"A@{w1}"] - frame[f"A@{w0}"]).to_numpy(),
    }
    y = y_test.to_numpy()
    evaluation = {
        "trained_on": f"{w0}->{w1}", "tested_on": f"{w1}->{w2}", "n_units": int(len(frame)),
        "share_growing_train": float(y_train.mean()), "share_growing_test": float(y.mean()),
        "top_share": spec.top_share,
        "scores": {name: {"auc": float(roc_auc_score(y, s)),
                          "precision_top": precision_at_top(s, y, spec.top_share)}
                   for name, s in scores.items()},
    }
    # today's signals: refit on both changes, apply to the last wave
    x_all = pd.concat([x_train, x_test], ignore_index=True)
    y_all = pd.concat([y_train, y_test], ignore_index=True)
    final = _model(spec).fit(x_all, y_all)
    x_now = _features(frame, spec, w2, log_pop)
    prob = final.predict_proba(x_now)[:, 1]
    scaler, logit = final[0], final[-1]
    contrib = scaler.transform(x_now) * logit.coef_[0]
    names = list(x_now.columns)
    n_top = max(1, int(round(spec.top_share * len(prob))))
    order = np.argsort(-prob, kind="stable")
    rank = np.empty(len(prob), dtype=int)
    rank[order] = np.arange(1, len(prob) + 1)
    reasons = []
    for row in contrib:
        top = np.argsort(-row, kind="stable")[:spec.n_reasons]
        reasons.append([{"input": names[j], "contribution": float(row[j])} for j in top if row[j] > 0])
    signals = pd.DataFrame({
        "code": x_now.index, "gemeente": "GM" + x_now.index.str[2:6], "score": prob, "rank": rank,
        "signal": rank <= n_top, "achterstand": x_now["samengesteld"].to_numpy(),
        "reasons": reasons}).sort_values("rank").reset_index(drop=True)
    return Result(level=level, spec=spec, evaluation=evaluation, signals=signals)


def from_store(con, level: str, spec: Spec | None = None, catalogue: Catalogue | None = None) -> Result:
    """:func:`run` on the store's shown values of the spec's division."""
    catalogue = catalogue or load_catalogue()
    spec = spec or load_spec(catalogue=catalogue)
    prefix = LEVELS.get(level)
    if prefix is None:
        raise SignalenError(f"niveau {level!r}: kies buurt of wijk")
    values = con.execute("""
        SELECT region_code, period, indicator, value FROM indicator_values
        WHERE status = 'ok' AND geo_year = ? AND indicator IN (SELECT unnest(?))
          AND period IN (SELECT unnest(?)) AND (left(region_code, 2) = ? OR left(region_code, 2) = 'GM')
        """, [spec.division, list(spec.indicators), list(spec.waves), prefix]).df()
    # inhabitants from the division nearest the spec's (ties: the later), as areas weigh parts
    pop = con.execute("""
        SELECT code, arg_min(population, abs(year - ?) * 10000 - year) AS population FROM regions
        WHERE left(code, 2) = ? AND population IS NOT NULL GROUP BY code""",
                      [spec.division, prefix]).df()
    return run(values, pop.set_index("code")["population"], level, spec, catalogue)


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

def _reason_text(reason: dict, catalogue: Catalogue) -> str:
    name = reason["input"]
    if name == "samengesteld":
        label = "de totale achterstand"
    elif name == "log_inwoners":
        label = "het aantal inwoners"
    else:
        label = catalogue[name].name.lower() if name in catalogue else name
    return label


def register(app) -> None:
    import json

    import typer

    @app.command("signalen")
    def signalen_cmd(
        level: str = typer.Option("buurt", "--level", help="buurt of wijk"),
        gemeente: Optional[str] = typer.Option(None, "--gemeente", help="Alleen deze gemeente (GMxxxx)."),
        fmt: str = typer.Option("table", "--format", help="table of json"),
    ):
        """Vroegsignalering: buurten of wijken waar de achterstand waarschijnlijk groeit (een
        signaal om beter te kijken, geen oordeel)."""
        import re

        from rich.console import Console
        from rich.table import Table

        from . import config, store

        if level not in LEVELS:
            raise typer.BadParameter("kies buurt of wijk", param_hint="--level")
        if fmt not in ("table", "json"):
            raise typer.BadParameter("kies table of json", param_hint="--format")
        if gemeente is not None and not re.fullmatch(r"GM\d{4}", gemeente.strip().upper()):
            raise typer.BadParameter("een gemeentecode als GM0344", param_hint="--gemeente")
        catalogue = load_catalogue()
        con = store.connect(config.store_path())
        try:
            result = from_store(con, level, catalogue=catalogue)
        except SignalenError as exc:
            typer.echo(f"fout: {exc}", err=True)
            raise typer.Exit(1)
        finally:
            con.close()
        sig = result.signals
        if gemeente:
            sig = sig[sig["gemeente"] == gemeente.strip().upper()]
        if fmt == "json":
            out = {
                "level": level, "disclaimer": DISCLAIMER, "method": METHOD,
                "spec_version": result.spec.version, "evaluation": result.evaluation,
                "signals": [dict(code=r.code, gemeente=r.gemeente, score=round(float(r.score), 4),
                                 rank=int(r.rank), signal=bool(r.signal),
                                 achterstand=round(float(r.achterstand), 3),
                                 reasons=[dict(x, text=_reason_text(x, catalogue)) for x in r.reasons])
                            for r in sig.itertuples(index=False)]}
            typer.echo(json.dumps(out, ensure_ascii=False, indent=1))
            return
        console = Console()
        ev = result.evaluation
        console.print(DISCLAIMER)
        console.print(f"Getoetst op {ev['tested_on']} ({ev['n_units']} {level}en): AUC model "
                      f"{ev['scores']['model']['auc']:.2f}, slechtste niveau "
                      f"{ev['scores']['slechtste_niveau']['auc']:.2f}, grootste recente achteruitgang "
                      f"{ev['scores']['grootste_recente_achteruitgang']['auc']:.2f}".replace(".", ","))
        table = Table(title=f"Signalen per {level} (bovenste {ev['top_share'] * 100:.0f} %)")
        for col in ("rang", "code", "score", "redenen"):
            table.add_column(col)
        for r in sig[sig["signal"]].itertuples(index=False):
            table.add_row(str(r.rank), r.code, f"{r.score:.2f}".replace(".", ","),
                          "; ".join(_reason_text(x, catalogue) for x in r.reasons))
        console.print(table)
