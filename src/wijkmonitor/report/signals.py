"""The chapter "Signalen" of the national report (issue 15.4): per programme area the buurten
and wijken the early-warning model flags (:mod:`wijkmonitor.signalen`), with their reasons, and
the model's test figures as the model reports them (nothing here is a fixed number).

A signal is a reason to look closer, never a verdict: the chapter opens with
:data:`wijkmonitor.signalen.DISCLAIMER` and the method, and gives the naive rules' figures next
to the model's so a reader can judge how much the model adds.

Which flagged units belong to an area: units and area are both on the model's division
(``signalen.yaml``: 2020; an area whose reference year differs is said to be matched on codes
of another division). A buurt code ``BUggggwwbb`` lies in wijk ``WKggggww`` and gemeente
``GMgggg``. For an area of buurten: its flagged buurten, and a flagged wijk that holds one of
its buurten; for an area of wijken: its flagged wijken and the flagged buurten in them; for an
area that is a whole gemeente: every flagged unit of that gemeente.
"""

from __future__ import annotations

import contextlib

import pandas as pd

from .. import signalen, store
from .format import nl_join, nl_number

#: The forecasts compared on the test, in the order shown, with their Dutch labels.
FORECASTS = (("model", "het model"), ("slechtste_niveau", "slechtste niveau nu"),
             ("grootste_recente_achteruitgang", "grootste recente achteruitgang"))
LEVEL_WORDS = {"buurt": ("buurt", "buurten"), "wijk": ("wijk", "wijken")}


def _wijk_of(code: str) -> str:
    return "WK" + code[2:8]


def _members(area: pd.Series, level: str, flagged: list[str]) -> list[tuple[str, str]]:
    """The flagged units of ``level`` that belong to ``area`` (see the module docstring), with
    how they relate to it (empty, or a short Dutch note)."""
    codes = {c for c in str(area["codes"] or "").split(",") if c}
    kind = str(area["level"])
    out = []
    for c in flagged:
        if kind == "gemeente":
            if "GM" + c[2:6] in codes:
                out.append((c, ""))
        elif kind == "wijk":
            if (level == "wijk" and c in codes) or (level == "buurt" and _wijk_of(c) in codes):
                out.append((c, ""))
        elif kind == "buurt":
            if level == "buurt" and c in codes:
                out.append((c, ""))
            elif level == "wijk" and c in {_wijk_of(b) for b in codes}:
                out.append((c, "de wijk waarin het gebied ligt"))
    return out


def _names(path, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    with contextlib.closing(store.connect(path)) as con:
        df = con.execute("SELECT code, arg_max(name, year) AS name FROM regions "
                         "WHERE code IN (SELECT unnest(?)) GROUP BY code", [codes]).df()
    return {c: n for c, n in zip(df["code"], df["name"]) if isinstance(n, str) and n}


def _evaluation_rows(ev: dict) -> list[dict]:
    return [dict(label=label, auc=nl_number(ev["scores"][key]["auc"], 2),
                 precision=nl_number(ev["scores"][key]["precision_top"] * 100, 0) + " %")
            for key, label in FORECASTS if key in ev["scores"]]


def build(data, areas: pd.DataFrame, results: dict | None = None) -> dict:
    """Template context of the chapter: ``disclaimer``, ``method``, per level the test
    figures (``levels``), per area its flagged units (``areas``), the areas without a signal
    (``quiet``) and, where the model could not run, ``error`` with the reason.

    ``results``: ``{level: signalen.Result}`` (default: computed from the store at
    ``data.path``; the report computes them once).
    """
    out = dict(disclaimer=signalen.DISCLAIMER, method=signalen.METHOD, levels=[], areas=[],
               quiet=None, error=None, division=None, top_share=None)
    if results is None:
        results = {}
        try:
            with contextlib.closing(store.connect(data.path)) as con:
                for level in ("buurt", "wijk"):
                    results[level] = signalen.from_store(con, level, catalogue=data.catalogue)
        except signalen.SignalenError as exc:
            out["error"] = str(exc)
            return out
    flagged: dict[str, list[str]] = {}
    for level, res in results.items():
        ev = res.evaluation
        sing, plur = LEVEL_WORDS[level]
        out["division"] = res.spec.division
        out["top_share"] = nl_number(ev["top_share"] * 100, 0) + " %"
        out["levels"].append(dict(
            level=level, plural=plur, tested_on=ev["tested_on"].replace("->", "–"),
            trained_on=ev["trained_on"].replace("->", "–"), n_units=nl_number(ev["n_units"], 0),
            share_growing=nl_number(ev["share_growing_test"] * 100, 1) + " %",
            n_signals=int(res.signals["signal"].sum()), rows=_evaluation_rows(ev)))
        flagged[level] = list(res.signals.loc[res.signals["signal"], "code"])
    reasons = {}
    for level, res in results.items():
        sig = res.signals[res.signals["signal"]]
        for code, rank, why in zip(sig["code"], sig["rank"], sig["reasons"]):
            reasons[code] = (int(rank), [signalen._reason_text(x, data.catalogue) for x in why])
    listed, quiet = [], []
    for a in areas.itertuples(index=False):
        row = pd.Series(a._asdict())
        items = []
        for level in ("buurt", "wijk"):
            for code, note in _members(row, level, flagged.get(level, [])):
                rank, why = reasons[code]
                items.append(dict(code=code, level=level, note=note, rank=nl_number(rank, 0),
                                  n_units=next(x["n_units"] for x in out["levels"] if x["level"] == level),
                                  reasons=nl_join(why) if why else "geen enkele invoer springt eruit"))
        if items:
            listed.append(dict(name=str(a.name), gemeente_name=str(a.gemeente_name), units=items,
                               other_division=int(a.reference_year) != out["division"]))
        else:
            quiet.append(str(a.name))
    names = _names(data.path, [i["code"] for x in listed for i in x["units"]])
    for x in listed:
        for i in x["units"]:
            i["name"] = names.get(i["code"], i["code"])
    out["areas"] = listed
    out["quiet"] = nl_join(quiet) if quiet else None
    return out
