"""The source registry: every public table the monitor can fetch, declared as data.

One YAML file per publisher table family lives in this folder (``cbs_kwb.yaml``,
``rivm_gezondheid.yaml``, ``politie_misdrijven.yaml``, ``leefbaarometer.yaml``,
``pdok_wijkenbuurten.yaml``). :func:`load_registry` reads and validates all of them; an error
is a :class:`RegistryError` in Dutch naming the file and the field.

File layout (keys in ``<>`` are free names)::

    family: cbs_kwb                    # the file's stem
    title: ...                         # Dutch title of the family
    publisher: CBS
    licence: "CC BY 4.0 (Bron: CBS)"
    access: odata | wfs | download | mirror
    service: https://...               # OData feed root or WFS URL ({year} filled in)
    dataset: UntypedDataSet            # OData entity with the rows (odata only)
    code_column: WijkenEnBuurten       # region code column / dimension (odata)
    names: WijkenEnBuurten             # dimension whose Title names the regions (optional)
    period_column: Perioden            # long tables: the period dimension (optional)
    special_values: {".": geheim, "": ontbreekt}
    citations:                         # where each key was seen (cited by id below)
      <id>: "repo/path @commit, or URL, or shared/data/... path"
    tables:
      <table id>:
        title: ...
        period: 2024                   # the year described, or a list for long tables
        geo_year: 2024                 # division year of the region codes
        levels: [land, gemeente, wijk, buurt]
        filter: "SoortMisdrijf eq '0.0.0'"   # optional OData $filter
        note: ...                      # optional
        columns:
          <canonical variable>:        # a name from sources/variables.yaml
            key: AantalInwoners_5      # the key as seen (OData key or WFS property) ...
            cite: <citation id>        # ... and where it was seen, or
            stem: BuitenEuropa         # only the stem, found in the live DataProperties
            unverified: true           # at fetch time, with
            reason: "..."              # why no key could be cited
            unit: "x 1 000 euro"       # the publisher's unit (default: the variable's)
            where: {Leeftijd: "20300"} # dimension codes selecting the rows (long tables)
        access: mirror                 # optional: overrides the family's access
        fetch: false                   # optional: declared (public), not fetched
        code_column: RegioS            # optional: overrides the family's code_column (and
                                       # names, unless the table sets its own names)
            aliases: [OtherKey_35]     # other spellings of the key seen for this table

A column is *verified* when it has ``key`` and ``cite``; it is *unverified* when it says
``unverified: true`` with a ``reason``. Nothing else is accepted: a key is never declared
without saying where it was seen. The fetcher matches a column by its exact key first and
else by its stem (``<stem>_<n>``) in the live DataProperties, so a key renumbered in a later
revision is still found and reported; a column that is not there is reported as missing
(the rest of the table is fetched; see :mod:`..fetch_registry`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..base import LEVELS, STATUS_MISSING, STATUS_SECRET, variables

HERE = Path(__file__).resolve().parent
ACCESS = ("odata", "wfs", "download", "mirror")
FETCHABLE = ("odata", "wfs")

#: Publisher unit -> canonical unit -> factor (value_canonical = value_publisher * factor).
UNIT_FACTORS: dict[tuple[str, str], float] = {
    ("euro", "x1000euro"): 0.001,
    ("x1000euro", "euro"): 1000.0,
}


def norm_unit(unit: str | None) -> str:
    """Units compared without spaces (CBS writes ``x 1 000 euro`` with thin spaces) or case."""
    return re.sub(r"\s+", "", str(unit or "")).lower()


def unit_factor(publisher_unit: str, canonical_unit: str) -> float | None:
    """Factor that turns a value in ``publisher_unit`` into ``canonical_unit`` (None: unknown)."""
    a, b = norm_unit(publisher_unit), norm_unit(canonical_unit)
    if a == b:
        return 1.0
    return UNIT_FACTORS.get((a, b))


def key_stem(key: str) -> str:
    """``GemiddeldeWOZWaardeVanWoningen_39`` -> ``GemiddeldeWOZWaardeVanWoningen``."""
    return re.sub(r"_\d+$", "", key)


class RegistryError(ValueError):
    """An invalid registry file (Dutch message naming file and field)."""

    def __init__(self, file: Path | str, field: str, message: str):
        self.file, self.field = str(file), field
        super().__init__(f"{Path(file).name}: veld {field!r}: {message}")


@dataclass(frozen=True)
class Column:
    variable: str
    stem: str
    key: str | None
    cite: str | None  # the citation text (resolved), None when unverified
    unverified: bool
    reason: str | None
    unit: str
    canonical_unit: str
    where: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def factor(self) -> float:
        return unit_factor(self.unit, self.canonical_unit) or 1.0


@dataclass(frozen=True)
class Table:
    family: str
    table_id: str
    title: str
    periods: tuple[int, ...]
    geo_year: int
    levels: tuple[str, ...]
    columns: tuple[Column, ...]
    access: str
    filter: str | None = None
    note: str | None = None
    layers: dict = field(default_factory=dict)  # wfs: level -> {layer, code, name}
    urls: tuple[str, ...] = ()  # download: public URLs
    fetch: bool = True  # False: declared (what is public), not fetched
    code_column: str | None = None  # odata: overrides the family's code_column (None: the family's)
    names: str | None = None  # odata: overrides the family's names dimension (None: the family's)

    @property
    def fetchable(self) -> bool:
        return self.fetch and self.access in FETCHABLE

    @property
    def period(self) -> int:
        return self.periods[-1]


@dataclass(frozen=True)
class Family:
    name: str
    file: Path
    title: str
    publisher: str
    licence: str
    access: str
    service: str | None
    dataset: str
    code_column: str | None
    names: str | None
    period_column: str | None
    special_values: dict
    citations: dict
    tables: dict[str, Table]


def _req(data: dict, key: str, file: Path, where: str, kind=str):
    if key not in data or data[key] in (None, ""):
        raise RegistryError(file, f"{where}{key}", "ontbreekt")
    value = data[key]
    if kind is not None and not isinstance(value, kind):
        raise RegistryError(file, f"{where}{key}", f"verwacht {kind.__name__}, kreeg {value!r}")
    return value


def _column(file: Path, tid: str, var: str, spec, citations: dict, known: dict) -> Column:
    where = f"tables.{tid}.columns.{var}"
    if var not in known:
        raise RegistryError(file, where, "onbekende variabele (niet in sources/variables.yaml)")
    if not isinstance(spec, dict):
        raise RegistryError(file, where, "verwacht een mapping met key/cite of stem/unverified")
    allowed = {"key", "stem", "cite", "unverified", "reason", "unit", "where", "aliases"}
    extra = set(spec) - allowed
    if extra:
        raise RegistryError(file, f"{where}.{sorted(extra)[0]}", "onbekend veld")
    key = spec.get("key")
    unverified = bool(spec.get("unverified", False))
    if unverified:
        if not spec.get("reason"):
            raise RegistryError(file, f"{where}.reason",
                                "een niet-geverifieerde kolom moet zeggen waarom (reason)")
        if spec.get("cite") and spec["cite"] not in citations:
            raise RegistryError(file, f"{where}.cite", f"onbekende bron {spec['cite']!r}")
    else:
        if not key:
            raise RegistryError(file, f"{where}.key", "ontbreekt: geef de gezien sleutel met cite, "
                                "of markeer de kolom als unverified met reason")
        if not spec.get("cite"):
            raise RegistryError(file, f"{where}.cite", f"sleutel {key!r} zonder bron: elke sleutel "
                                "noemt waar hij gezien is (of unverified: true met reason)")
        if spec["cite"] not in citations:
            raise RegistryError(file, f"{where}.cite", f"onbekende bron {spec['cite']!r} "
                                "(niet in citations)")
    stem = spec.get("stem") or (key_stem(key) if key else None)
    if not stem:
        raise RegistryError(file, f"{where}.stem", "ontbreekt (geef key of stem)")
    canonical = str(known[var].get("unit", ""))
    unit = str(spec.get("unit", canonical))
    if unit_factor(unit, canonical) is None:
        raise RegistryError(file, f"{where}.unit", f"eenheid {unit!r} is niet om te rekenen naar "
                            f"{canonical!r} (de eenheid van {var} in variables.yaml)")
    dims = spec.get("where") or {}
    if not isinstance(dims, dict):
        raise RegistryError(file, f"{where}.where", "verwacht een mapping dimensie -> code")
    aliases = spec.get("aliases") or []
    if not isinstance(aliases, list):
        raise RegistryError(file, f"{where}.aliases", "verwacht een lijst")
    return Column(variable=var, stem=stem, key=key,
                  cite=citations.get(spec.get("cite")) if spec.get("cite") else None,
                  unverified=unverified, reason=spec.get("reason"), unit=unit,
                  canonical_unit=canonical, where={str(k): str(v) for k, v in dims.items()},
                  aliases=tuple(str(a) for a in aliases))


def load_file(path: Path) -> Family:
    """Read and validate one registry file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegistryError(path, "-", f"geen geldige YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RegistryError(path, "-", "verwacht een mapping")
    name = _req(data, "family", path, "")
    if name != path.stem:
        raise RegistryError(path, "family", f"{name!r} moet gelijk zijn aan de bestandsnaam {path.stem!r}")
    access = _req(data, "access", path, "")
    if access not in ACCESS:
        raise RegistryError(path, "access", f"{access!r} onbekend; kies uit {', '.join(ACCESS)}")
    if access in FETCHABLE:
        _req(data, "service", path, "")
    citations = data.get("citations") or {}
    if not isinstance(citations, dict):
        raise RegistryError(path, "citations", "verwacht een mapping id -> bron")
    specials = data.get("special_values") or {}
    for raw, status in specials.items():
        if status not in (STATUS_SECRET, STATUS_MISSING):
            raise RegistryError(path, f"special_values.{raw}", f"status {status!r} onbekend")
    known = variables()
    tables = {}
    raw_tables = _req(data, "tables", path, "", dict)
    for tid, spec in raw_tables.items():
        tid = str(tid)
        where = f"tables.{tid}."
        if not isinstance(spec, dict):
            raise RegistryError(path, f"tables.{tid}", "verwacht een mapping")
        period = _req(spec, "period", path, where, None)
        periods = tuple(int(p) for p in (period if isinstance(period, list) else [period]))
        geo_year = int(_req(spec, "geo_year", path, where, int))
        levels = tuple(_req(spec, "levels", path, where, list))
        bad = [lv for lv in levels if lv not in LEVELS]
        if bad:
            raise RegistryError(path, f"{where}levels", f"onbekend niveau {bad[0]!r}")
        t_access = spec.get("access", access)
        if t_access not in ACCESS:
            raise RegistryError(path, f"{where}access", f"{t_access!r} onbekend; kies uit {', '.join(ACCESS)}")
        fetch = spec.get("fetch", True)
        if not isinstance(fetch, bool):
            raise RegistryError(path, f"{where}fetch", "verwacht true of false")
        cols = spec.get("columns") or {}
        if t_access in FETCHABLE and fetch and not cols:
            raise RegistryError(path, f"{where}columns", "ontbreekt")
        columns = tuple(_column(path, tid, var, cspec, citations, known)
                        for var, cspec in cols.items())
        layers = spec.get("layers") or data.get("layers") or {}
        if t_access == "wfs" and fetch:
            for lv in levels:
                if lv == "land":
                    continue
                lay = layers.get(lv)
                if not isinstance(lay, dict) or not {"layer", "code", "name"} <= set(lay):
                    raise RegistryError(path, f"{where}layers.{lv}", "verwacht layer, code en name")
        urls = tuple(spec.get("urls") or ())
        overrides = {}
        for opt in ("code_column", "names"):
            if spec.get(opt) is not None:
                if not isinstance(spec[opt], str) or not spec[opt].strip():
                    raise RegistryError(path, f"{where}{opt}", f"verwacht een kolomnaam, kreeg {spec[opt]!r}")
                overrides[opt] = spec[opt]
        if "code_column" in overrides and "names" not in overrides and data.get("names"):
            overrides["names"] = overrides["code_column"]  # the region dimension names its regions
        if t_access == "download" and not urls and not spec.get("note"):
            raise RegistryError(path, f"{where}urls", "een download-tabel noemt URL's of een note")
        tables[tid] = Table(family=name, table_id=tid, title=str(spec.get("title", "")),
                            periods=periods, geo_year=geo_year, levels=levels, columns=columns,
                            access=t_access, filter=spec.get("filter"), note=spec.get("note"),
                            layers=layers, urls=urls, fetch=fetch, **overrides)
    return Family(name=name, file=path, title=_req(data, "title", path, ""),
                  publisher=_req(data, "publisher", path, ""), licence=_req(data, "licence", path, ""),
                  access=access, service=data.get("service"),
                  dataset=data.get("dataset", "UntypedDataSet"),
                  code_column=data.get("code_column"), names=data.get("names"),
                  period_column=data.get("period_column"), special_values=specials,
                  citations=citations, tables=tables)


@functools.cache
def load_registry(folder: Path = HERE) -> dict[str, Family]:
    """Every registry file in ``folder`` (default: this package), by family name."""
    families = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        fam = load_file(path)
        families[fam.name] = fam
    seen: dict[str, str] = {}
    for fam in families.values():
        for tid in fam.tables:
            if tid in seen:
                raise RegistryError(fam.file, f"tables.{tid}", f"tabel staat ook in {seen[tid]}.yaml")
            seen[tid] = fam.name
    return families


def all_tables(folder: Path = HERE) -> dict[str, Table]:
    """``{table id: Table}`` over every family."""
    return {tid: t for fam in load_registry(folder).values() for tid, t in fam.tables.items()}


def family_of(table: Table, folder: Path = HERE) -> Family:
    return load_registry(folder)[table.family]


def code_column(table: Table, fam: Family) -> str | None:
    """The region code column of an OData table: its own, else its family's."""
    return table.code_column or fam.code_column


def names_entity(table: Table, fam: Family) -> str | None:
    """The dimension whose Title names the regions of an OData table: its own, else its family's."""
    return table.names or fam.names
