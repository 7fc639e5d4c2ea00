"""Vergelijkbare gemeenten: for one gemeente the gemeenten of similar size and stedelijkheid,
and its position among them per indicator (issue 17.3, as "Waar staat je gemeente" offers).

The rule is data (``peers.yaml``): the ``k`` nearest gemeenten on log10-transformed,
standardised (z-score over all gemeenten of the year, ddof 0), weighted features (inwoners
and omgevingsadressendichtheid of one KWB publication), Euclidean distance, ties by code.
The YAML comments say why nearest-k and not classes.

Positions are read on one geography: ``harmonised_values`` (every indicator on the gemeenten
of the latest division), per indicator the latest year in which the gemeente and at least
:data:`MIN_OTHERS` group members have a shown value. Where the group's figures of that year
come from more than one publication, no position is given (one publication per comparison).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

RULE_PATH = Path(__file__).with_name("peers.yaml")
#: A position is given only when at least this many other group members have a shown value.
MIN_OTHERS = 2
TRANSFORMS = {"log10": np.log10, "none": lambda x: x}


@dataclass(frozen=True)
class Feature:
    variable: str
    label: str
    transform: str = "log10"
    weight: float = 1.0


@dataclass(frozen=True)
class Rule:
    """The declared rule of ``peers.yaml``."""
    year: int
    source_id: str
    k: int
    features: tuple[Feature, ...]
    context: tuple[dict, ...] = field(default_factory=tuple)

    @classmethod
    def from_dict(cls, doc: dict) -> "Rule":
        feats = tuple(Feature(**f) for f in doc["features"])
        for f in feats:
            if f.transform not in TRANSFORMS:
                raise ValueError(f"peers: unknown transform {f.transform!r} of {f.variable}")
        if int(doc["k"]) < 1:
            raise ValueError("peers: k must be at least 1")
        return cls(year=int(doc["year"]), source_id=str(doc["source_id"]), k=int(doc["k"]),
                   features=feats, context=tuple(doc.get("context") or ()))

    @property
    def variables(self) -> list[str]:
        return [f.variable for f in self.features] + [c["variable"] for c in self.context]

    def sentence(self) -> str:
        """The rule in one Dutch sentence."""
        names = " en ".join(f.label.split(" (")[0] for f in self.features)
        return (f"De {self.k} gemeenten die het meest lijken op deze gemeente in {names} "
                f"({self.year}): beide op een logaritmische schaal, gestandaardiseerd over alle "
                f"gemeenten en even zwaar gewogen; de kortste afstand telt.")


@functools.lru_cache(maxsize=4)
def load_rule(path: str | None = None) -> Rule:
    """The rule of ``peers.yaml`` (or of ``path``)."""
    doc = yaml.safe_load(Path(path or RULE_PATH).read_text(encoding="utf-8"))
    return Rule.from_dict(doc)


def load_profiles(con, rule: Rule) -> pd.DataFrame:
    """One row per gemeente of ``rule.year``: ``code, name`` and one column per variable of
    the rule, all from ``rule.source_id`` (one publication)."""
    df = con.execute("""
        SELECT o.region_code AS code, o.variable, o.value
        FROM observations o
        WHERE o.source_id = ? AND o.period = ? AND o.geo_year = ? AND o.status = 'ok'
          AND o.variable = ANY(?) AND o.region_code LIKE 'GM%'""",
                     [rule.source_id, rule.year, rule.year, rule.variables]).df()
    wide = df.pivot_table(index="code", columns="variable", values="value", aggfunc="first")
    names = con.execute("SELECT code, name FROM regions WHERE level = 'gemeente' AND year = ?",
                        [rule.year]).df().set_index("code")["name"]
    wide = wide.reindex(columns=rule.variables)
    wide.insert(0, "name", names.reindex(wide.index))
    return wide.reset_index().sort_values("code").reset_index(drop=True)


def standardised(profiles: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """The transformed, standardised and weighted features (index ``code``) of the gemeenten
    that have every feature (a gemeente without one has no group)."""
    cols = [f.variable for f in rule.features]
    p = profiles.set_index("code")[cols].astype(float)
    logged = [f.variable for f in rule.features if f.transform == "log10"]
    p = p.dropna()
    p = p[(p[logged] > 0).all(axis=1)]
    out = pd.DataFrame(index=p.index)
    for f in rule.features:
        x = TRANSFORMS[f.transform](p[f.variable].to_numpy())
        sd = x.std(ddof=0)
        out[f.variable] = f.weight * (x - x.mean()) / (sd if sd > 0 else 1.0)
    return out


def similar(profiles: pd.DataFrame, code: str, rule: Rule) -> pd.DataFrame:
    """The gemeente ``code`` (first row, ``distance`` 0) and its ``rule.k`` nearest gemeenten.

    Columns: those of ``profiles`` plus ``distance`` (in standard deviations) and ``rank``
    (0 for the gemeente itself). Raises ``KeyError`` when ``code`` has no complete profile.
    """
    z = standardised(profiles, rule)
    if code not in z.index:
        raise KeyError(code)
    d = np.sqrt(((z - z.loc[code]) ** 2).sum(axis=1))
    order = pd.DataFrame({"code": z.index, "distance": d.to_numpy()})
    order["self"] = order["code"] != code
    order = order.sort_values(["self", "distance", "code"]).head(rule.k + 1)
    order["rank"] = range(len(order))
    out = order.drop(columns="self").merge(profiles, on="code", how="left")
    return out.reset_index(drop=True)


def position(values: pd.Series, code: str, higher_is_better: bool | None) -> dict | None:
    """Where ``values[code]`` stands among ``values`` (index: codes; NaN: no shown value).

    ``rank`` 1 is the most favourable value (the highest where higher is better or the
    polarity is neutral, the lowest where higher is worse); equal values share the best rank
    (1, 2, 2, 4). ``None`` when ``code`` has no value or fewer than :data:`MIN_OTHERS` others do.
    """
    v = values.dropna().astype(float)
    if code not in v.index or len(v) - 1 < MIN_OTHERS:
        return None
    mine = float(v[code])
    better = (v < mine) if higher_is_better is False else (v > mine)
    rank = int(better.sum()) + 1
    shared = int((v == mine).sum()) > 1
    return dict(rank=rank, n=len(v), shared=shared, value=mine, median=float(v.median()),
                low=float(v.min()), high=float(v.max()),
                order="laagste" if higher_is_better is False else "hoogste")


def positions(values: pd.DataFrame, code: str, catalogue) -> list[dict]:
    """The gemeente's position per indicator among the group.

    ``values``: the group's rows of ``harmonised_values`` (``indicator, region_code, period,
    value, status, source_id, estimate``). Per indicator the latest period in which ``code``
    and at least :data:`MIN_OTHERS` others have a shown (``ok``) value; one dict per indicator
    with ``indicator, period, position`` (``None`` if the group's figures of that period come
    from more than one publication: then ``mixed`` lists them), ``values`` (code -> value)
    and ``sources``.
    """
    ok = values[values["status"] == "ok"]
    out = []
    for ind_id, g in ok.groupby("indicator", sort=False):
        if ind_id not in catalogue:
            continue
        counts = g.groupby("period")["region_code"].agg(lambda s: (code in set(s), len(set(s))))
        periods = [p for p, (has, n) in counts.items() if has and n - 1 >= MIN_OTHERS]
        if not periods:
            continue
        period = max(periods)
        sub = g[g["period"] == period].drop_duplicates("region_code")
        sources = sorted(set(sub["source_id"].dropna()))
        vals = sub.set_index("region_code")["value"]
        pos = position(vals, code, catalogue[ind_id].higher_is_better) if len(sources) <= 1 else None
        out.append(dict(indicator=ind_id, period=int(period), position=pos, sources=sources,
                        mixed=len(sources) > 1, values={k: float(x) for k, x in vals.items()},
                        estimate=bool(sub["estimate"].any()) if "estimate" in sub else False))
    return out
