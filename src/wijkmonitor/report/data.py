"""Everything the report reads from the built store, read once per run.

The report never recomputes a number: indicator values come from the ``area_values`` table
(through :func:`wijkmonitor.analysis.gaps` and :func:`~wijkmonitor.analysis.outcome_table`),
provenance from ``sources`` and ``indicator_values.source_id``, the build date from ``meta``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import analysis, store
from ..aggregate import AREA_STATUS_EXPLANATION
from ..catalogue import Catalogue, load_catalogue
from ..compute import STATUS_EXPLANATION

PROGRAMMES = {
    "nplv": dict(label="Nationaal Programma Leefbaarheid en Veiligheid",
                 short="NPLV", areas_word=("focusgebied", "focusgebieden"),
                 set_label="de focusgebieden samen"),
    "aandachtswijken": dict(label="Wijkenaanpak (40 aandachtswijken, 2007)",
                            short="aandachtswijken", areas_word=("wijk", "wijken"),
                            set_label="de aandachtswijken samen"),
}

#: Groups compared with the set of areas in the national report (order of the tables).
GROUPS = ("G4", "G14", "G18", "NL")
GROUP_LABELS = {"G4": "G4", "G14": "G14", "G18": "G18", "NL": "Nederland"}


def status_reason(status: str) -> str:
    """Dutch explanation of a non-ok status (empty for ``ok``)."""
    return {**STATUS_EXPLANATION, **AREA_STATUS_EXPLANATION}.get(status, status)


@dataclass
class StoreData:
    """The built store's tables the report needs (read once)."""

    path: Path
    values: pd.DataFrame
    index: pd.DataFrame
    sources: pd.DataFrame
    provenance: pd.DataFrame  # indicator, source_id (which sources feed each indicator)
    meta: dict[str, str]
    catalogue: Catalogue
    #: The classification rule of the gaps (``standaard`` or ``omw``, see wijkmonitor.analysis).
    rule: str = "standaard"
    _by_key: dict | None = field(default=None, repr=False)
    _sources_of: dict = field(default_factory=dict, repr=False)
    _series_of: dict | None = field(default=None, repr=False)

    @property
    def build_date(self) -> str:
        """The store's build date (``YYYY-MM-DD``) from ``meta.written_at``."""
        return str(self.meta.get("written_at", ""))[:10]

    @property
    def catalogue_version(self) -> str:
        return str(self.meta.get("catalogue_version") or self.catalogue.version)

    def _arrays(self, unit: str, indicator: str):
        if self._by_key is None:
            v = self.values.sort_values(["unit_id", "indicator", "period"], kind="stable")
            period = v["period"].to_numpy(dtype="int64")
            value = np.where(v["status"].to_numpy() == "ok", v["value"].to_numpy(dtype=float), np.nan)
            status = v["status"].to_numpy(dtype=object)
            self._by_key = {key: (period[idx], value[idx], status[idx])
                            for key, idx in v.groupby(["unit_id", "indicator"], sort=False).indices.items()}
        return self._by_key.get((unit, indicator))

    def series(self, unit: str, indicator: str) -> pd.DataFrame:
        """All periods of ``unit`` x ``indicator``: columns ``period, value, status`` (value
        NaN unless status is ``ok``), sorted by period."""
        hit = self._arrays(unit, indicator)
        if hit is None:
            return pd.DataFrame({"period": pd.Series(dtype="int64"), "value": pd.Series(dtype=float),
                                 "status": pd.Series(dtype=object)})
        return pd.DataFrame({"period": hit[0], "value": hit[1], "status": hit[2]})

    def shown(self, unit: str, indicator: str) -> list[tuple[int, float]]:
        """The shown values (status ``ok``) of ``unit`` x ``indicator`` as ``(period, value)``
        pairs in period order: :meth:`series` without the non-shown rows, without pandas (a
        fiche asks for about a hundred of these)."""
        hit = self._arrays(unit, indicator)
        if hit is None:
            return []
        period, value, _ = hit
        keep = ~np.isnan(value)
        return list(zip(period[keep].tolist(), value[keep].tolist()))

    def publication_series(self) -> dict[tuple[str, str], dict[int, str]]:
        """``{(unit, indicator): {year: publication series}}`` of the shown figures (issue
        17.6; :func:`wijkmonitor.analysis.unit_series`), computed once."""
        if self._series_of is None:
            self._series_of = analysis.unit_series(self.values, self.sources)
        return self._series_of

    def breaks(self, units, indicator: str) -> list:
        """The breaks (:class:`wijkmonitor.comparability.Break`) in the series of ``units`` for
        one indicator, in year order, each pair of years once."""
        from .. import comparability

        decl = comparability.load()
        seen, out = set(), []
        for u in units:
            for b in decl.breaks(indicator, self.publication_series().get((u, indicator), {})):
                if (b.before, b.after) not in seen:
                    seen.add((b.before, b.after))
                    out.append(b)
        return sorted(out, key=lambda b: (b.before, b.after))

    def sources_for(self, indicator: str) -> pd.DataFrame:
        """The source tables (with retrieval date) behind an indicator's shown values (computed
        once per indicator; do not modify the returned frame)."""
        hit = self._sources_of.get(indicator)
        if hit is None:
            ids = self.provenance.loc[self.provenance["indicator"] == indicator, "source_id"]
            hit = self.sources[self.sources["source_id"].isin(set(ids))].sort_values(
                ["table_id", "source_id"]).reset_index(drop=True)
            self._sources_of[indicator] = hit
        return hit


def load(path: Path | str | None = None, catalogue: Catalogue | None = None,
         rule: str = "standaard") -> StoreData:
    """Read the tables the report needs from the store at ``path`` (default: the configured
    store). Raises :class:`wijkmonitor.store.StoreMissing` when it is not built, and a
    ``RuntimeError`` naming the missing table when the build lacks the area tables."""
    with contextlib.closing(store.connect(path)) as con:
        tables = set(con.execute("SELECT table_name FROM information_schema.tables").df()["table_name"])
        for needed in ("area_values", "area_index", "sources", "meta", "indicator_values"):
            if needed not in tables:
                raise RuntimeError(f"De store mist de tabel {needed!r}: draai 'wijkmonitor build' opnieuw.")
        values = analysis.load_area_values(con=con)
        index = analysis.load_area_index(con=con)
        sources = con.execute("SELECT * FROM sources ORDER BY source_id").df()
        provenance = con.execute(
            "SELECT DISTINCT indicator, source_id FROM indicator_values WHERE status = 'ok' "
            "UNION SELECT DISTINCT indicator, base_source_id FROM indicator_values "
            "WHERE status = 'ok' AND base_source_id IS NOT NULL ORDER BY 1, 2").df()
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    values = values.copy()
    # never let a value of a non-shown cell through, whatever the table holds
    values.loc[values["status"] != "ok", ["value", "numerator"]] = np.nan
    return StoreData(path=Path(path) if path else store.config.store_path(), values=values,
                     index=index, sources=sources, provenance=provenance, meta=meta,
                     catalogue=catalogue or load_catalogue(), rule=rule)


def programme_areas(data: StoreData, programme: str) -> pd.DataFrame:
    """Rows of ``area_index`` for a programme, in name order."""
    if programme not in PROGRAMMES:
        raise ValueError(f"onbekend programma {programme!r}; kies uit {', '.join(PROGRAMMES)}")
    sub = data.index[data.index["programme"] == programme]
    return sub.sort_values(["name", "area_id"]).reset_index(drop=True)
