"""The indicator catalogue: indicators declared as data, one YAML file per indicator.

Adding an indicator is adding a file in ``catalogue/indicators/``. Each file is validated on
load; an error names the file and the field. The catalogue is the "één door alle partijen
onderschreven cijfertaal" the programme asks for: the website, report and API all read the
numbers it defines.

An indicator says *what* is measured (name, theme, NPLV actielijn and kernindicator, polarity,
unit), *how* it is made from source variables per source and year (a formula), *how* it
aggregates over regions, and the *minimum base* below which a value is not shown.

Formula shapes (all variables are canonical names from ``sources/variables.yaml``; a list
means the sum of its variables):

``value``
    A value the source publishes (count, percentage, mean, score, model estimate).
``value`` + ``base`` (+ ``per``, default 100)
    A published percentage (or rate per ``per``) of ``base`` (e.g. ``p_koopw`` of
    ``a_woning``): the numerator is ``value * base / per``, so areas aggregate as sum of
    numerators over sum of bases.
``value`` + ``weight``
    A published mean or estimate aggregated as a weighted mean with ``weight``.
``numerator`` + ``denominator`` (+ ``scale``)
    A ratio computed from two counts: ``scale * numerator / denominator``.

Several formulas may cover the same year (for example counts from one source, a published
percentage from another): they are tried in the order written, and for each region and period
the first formula that gives a value is used.

``weight_fallback`` (``weight`` + ``label``)
    For a published percentage or mean whose base or weight is missing for an area's parts
    (the 2024 KWB on the mirror has WOZ and koopwoningen per buurt but no woningvoorraad): the
    monitor's own area aggregation may weight all parts of that area and year with this other
    variable instead, marked as an approximation (see :mod:`wijkmonitor.aggregate`). Published
    values are never touched.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .. import yamlio
from ..sources.base import variables

HERE = Path(__file__).resolve().parent
INDICATOR_DIR = HERE / "indicators"

THEMES = ("wonen & leefbaarheid", "leren", "werken", "inkomen & schulden", "gezondheid",
          "veiligheid", "bevolking")
ACTIELIJNEN = {
    2: "Actielijn 2: slechte woningen verbeteren en meer gemengde wijken",
    3: "Actielijn 3: bewoners kunnen meedoen in de samenleving",
    4: "Actielijn 4: preventie van jeugdcriminaliteit en weerbaarheid van jongeren",
}
#: The 15 NPLV kernindicatoren (Nationaal Programma Leefbaarheid en Veiligheid, 2022, §6.1).
KERNINDICATOREN = {
    1: (2, "Aantal te herstructureren woningen"),
    2: (2, "Aantal te verduurzamen woningen met een E-, F- of G-label"),
    3: (2, "Aantal nieuw te bouwen woningen"),
    4: (2, "Diversiteit van de woningvoorraad in het gebied"),
    5: (2, "Ervaren leefbaarheid (Leefbaarometer)"),
    6: (3, "Achterstandsscore PO/VO (CBS)"),
    7: (3, "Ontwikkeling schooladvies"),
    8: (3, "Aantal voortijdig schoolverlaters"),
    9: (3, "Aantal en aandeel doorstromers uit po / geslaagden naar opleidingsniveau"),
    10: (3, "Ontwikkeling relatieve welvaart (CBS)"),
    11: (3, "Aandeel huishoudens met een (bijstands/WW-)uitkering"),
    12: (3, "Ontwikkeling van de ervaren of subjectieve gezondheid"),
    13: (4, "Ervaren veiligheid (Veiligheidsmonitor)"),
    14: (4, "Risicoscores jonge aanwas (zicht op ondermijning)"),
    15: (4, "Incidentie criminaliteit"),
}

Polarity = Literal["hoger is beter", "hoger is slechter", "neutraal"]
Aggregation = Literal["som", "verhouding", "gewogen gemiddelde", "niet optelbaar"]


class CatalogueError(ValueError):
    """An invalid indicator file: names the file and the field."""

    def __init__(self, file: Path | str, field: str, message: str):
        self.file, self.field = str(file), field
        super().__init__(f"{file}: veld {field!r}: {message}")


def _as_list(value):
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


class Formula(BaseModel):
    """How an indicator is made from source variables for a range of years."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    years: tuple[int, int] = (1900, 2100)
    source: str | None = None  # adapter NAME; None: any source, by source precedence
    value: tuple[str, ...] | None = None
    base: tuple[str, ...] | None = None
    weight: tuple[str, ...] | None = None
    numerator: tuple[str, ...] | None = None
    denominator: tuple[str, ...] | None = None
    scale: float = 1.0
    #: For ``value`` + ``base``: the value is per ``per`` units of the base (100 for a
    #: percentage, 1000 for "per 1 000 inwoners"); numerator = value * base / per.
    per: float = 100.0
    #: For weights: use the weight of the nearest period within this many years when the
    #: weight is not published for the same period (model estimates on another year).
    weight_window: int = 0
    #: For ``numerator`` + ``denominator``: when the denominator is not published for the
    #: same period, take it from the nearest period within this many years (ties: the later
    #: one); the value's ``base_period`` says which (e.g. crime counts per year over the one
    #: year in which the population per buurt is known).
    denominator_window: int = 0

    @field_validator("value", "base", "weight", "numerator", "denominator", mode="before")
    @classmethod
    def _listify(cls, v):
        v = _as_list(v)
        return tuple(v) if v is not None else None

    @field_validator("years", mode="before")
    @classmethod
    def _years(cls, v):
        if isinstance(v, int):
            return (v, v)
        if isinstance(v, (list, tuple)) and len(v) == 2:
            return (int(v[0]), int(v[1]))
        raise ValueError("geef één jaar of [van, tot en met]")

    @model_validator(mode="after")
    def _shape(self):
        has_value = self.value is not None
        has_ratio = self.numerator is not None or self.denominator is not None
        if has_value == has_ratio:
            raise ValueError("geef óf 'value' óf 'numerator' + 'denominator'")
        if has_ratio and (self.numerator is None or self.denominator is None):
            raise ValueError("'numerator' en 'denominator' horen bij elkaar")
        if self.base is not None and self.weight is not None:
            raise ValueError("geef 'base' (percentage) óf 'weight' (gemiddelde), niet beide")
        if has_ratio and (self.base is not None or self.weight is not None):
            raise ValueError("een verhouding heeft geen 'base' of 'weight'")
        if self.denominator_window and not has_ratio:
            raise ValueError("'denominator_window' hoort bij 'numerator' + 'denominator'")
        if not 0 <= self.denominator_window <= 20 or not 0 <= self.weight_window <= 20:
            raise ValueError("een venster ligt tussen 0 en 20 jaar")
        if self.years[0] > self.years[1]:
            raise ValueError("'years': beginjaar na eindjaar")
        return self

    @property
    def mode(self) -> str:
        if self.numerator is not None:
            return "ratio"
        if self.base is not None:
            return "percentage"
        if self.weight is not None:
            return "weighted"
        return "value"

    def variables(self) -> set[str]:
        out: set[str] = set()
        for part in (self.value, self.base, self.weight, self.numerator, self.denominator):
            out.update(part or ())
        return out

    def covers(self, year: int) -> bool:
        return self.years[0] <= year <= self.years[1]


#: The word that marks an approximation in an aggregate's ``method`` (provenance) text.
APPROXIMATION = "benadering"


class WeightFallback(BaseModel):
    """A declared stand-in weight for an indicator's area aggregation (see the module
    docstring): one weight for all parts of one area and year, never mixed with the primary."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weight: tuple[str, ...]
    #: What the weight counts, in Dutch plural ("huishoudens"); used in the provenance text.
    label: str = Field(min_length=1, max_length=40)

    @field_validator("weight", mode="before")
    @classmethod
    def _listify(cls, v):
        v = _as_list(v)
        if not v:
            raise ValueError("geef minstens één variabele")
        return tuple(v)

    def method_text(self, primary: str, part: str = "deel") -> str:
        """The provenance clause of a value aggregated with this weight."""
        return f"{APPROXIMATION}: gewogen met {self.label}, {primary} per {part} ontbreekt"


class Nplv(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    actielijn: int | None = None
    kernindicator: int | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _known(self):
        if self.actielijn is not None and self.actielijn not in ACTIELIJNEN:
            raise ValueError(f"actielijn moet een van {sorted(ACTIELIJNEN)} zijn")
        if self.kernindicator is not None:
            if self.kernindicator not in KERNINDICATOREN:
                raise ValueError("kernindicator moet 1 t/m 15 zijn")
            line = KERNINDICATOREN[self.kernindicator][0]
            if self.actielijn is not None and self.actielijn != line:
                raise ValueError(f"kernindicator {self.kernindicator} hoort bij actielijn {line}")
        return self


class MapClass(BaseModel):
    """One fixed class of an indicator's map legend (for instance Leefbaarometer class 3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: int
    label: str
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")


class Indicator(BaseModel):
    """One declared indicator (see the module docstring for the formula shapes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str
    theme: Literal[THEMES]  # type: ignore[valid-type]
    nplv: Nplv = Nplv()
    outcomemonitor: str | None = None  # the Outcomemonitor Wijkenaanpak indicator it follows
    polarity: Polarity
    unit: str
    decimals: int = Field(default=1, ge=0, le=3)
    aggregation: Aggregation
    #: Minimum denominator / base / weight below which a value is not shown.
    min_base: float = Field(ge=0)
    #: Published values are model estimates (RIVM small-area estimates).
    estimate: bool = False
    #: Tolerance for "gelijk" in the gap classification, in the indicator's unit; None: the
    #: global rule of the analysis module.
    tolerance: float | None = None
    source_note: str = ""
    #: Fixed map classes (integer values, in order) instead of quantile classes, for indicators
    #: whose publisher uses a fixed legend (Leefbaarometer 1-9).
    classes: tuple[MapClass, ...] | None = None
    #: Stand-in weight for areas whose parts lack the formulas' base or weight (an
    #: approximation; see :class:`WeightFallback`).
    weight_fallback: WeightFallback | None = None
    formulas: tuple[Formula, ...]

    @model_validator(mode="after")
    def _consistent(self):
        known = variables()
        for i, f in enumerate(self.formulas):
            for var in sorted(f.variables()):
                if var not in known:
                    raise ValueError(f"formulas[{i}]: onbekende variabele {var!r}")
            mode = f.mode
            if self.aggregation == "verhouding" and mode not in ("ratio", "percentage"):
                raise ValueError(f"formulas[{i}]: aggregatie 'verhouding' vraagt numerator/denominator "
                                 "of value+base")
            if self.aggregation == "gewogen gemiddelde" and mode != "weighted":
                raise ValueError(f"formulas[{i}]: aggregatie 'gewogen gemiddelde' vraagt value+weight")
            if self.aggregation == "som" and mode != "value":
                raise ValueError(f"formulas[{i}]: aggregatie 'som' vraagt alleen 'value'")
        if not self.formulas:
            raise ValueError("minstens één formule nodig")
        if self.weight_fallback is not None:
            for var in self.weight_fallback.weight:
                if var not in known:
                    raise ValueError(f"weight_fallback.weight: onbekende variabele {var!r}")
            for i, f in enumerate(self.formulas):
                if f.mode not in ("percentage", "weighted"):
                    raise ValueError(f"weight_fallback hoort bij een gepubliceerd percentage (value+base) of "
                                     f"gemiddelde (value+weight); formulas[{i}] is dat niet")
                if set(self.weight_fallback.weight) == set(f.base or f.weight or ()):
                    raise ValueError(f"weight_fallback.weight is hetzelfde als het gewicht van formulas[{i}]")
        if self.classes is not None:
            values = [c.value for c in self.classes]
            if not values or values != sorted(set(values)):
                raise ValueError("classes: waarden moeten oplopen en uniek zijn")
        if self.aggregation == "verhouding":
            scales = {f.scale if f.mode == "ratio" else f.per for f in self.formulas}
            if len(scales) > 1:
                raise ValueError("formules van een verhouding moeten dezelfde schaal hebben "
                                 "('scale' van de verhouding = 'per' van het percentage)")
        return self

    def formulas_for(self, year: int) -> list[Formula]:
        """Formulas covering ``year``, in order of precedence (the first that gives a value
        for a region wins)."""
        return [f for f in self.formulas if f.covers(year)]

    @property
    def primary_weight_label(self) -> str:
        """The formulas' base or weight in words (lower case), e.g. ``woningvoorraad``."""
        f = self.formulas[0]
        names = f.base or f.weight or ()
        known = variables()
        return " + ".join(str(known.get(v, {}).get("description", v)).lower() for v in names)

    @property
    def kernindicator_name(self) -> str | None:
        k = self.nplv.kernindicator
        return KERNINDICATOREN[k][1] if k else None

    @property
    def higher_is_better(self) -> bool | None:
        return {"hoger is beter": True, "hoger is slechter": False}.get(self.polarity)


def load_indicator(path: Path) -> Indicator:
    """Load and validate one indicator file."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yamlio.safe_load(fh.read())
    except yaml.YAMLError as exc:
        raise CatalogueError(path, "(yaml)", str(exc)) from exc
    if not isinstance(data, dict):
        raise CatalogueError(path, "(bestand)", "verwacht een mapping met indicatorvelden")
    try:
        ind = Indicator.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(indicator)"
        raise CatalogueError(path, field, err["msg"]) from exc
    if ind.id != path.stem:
        raise CatalogueError(path, "id", f"id {ind.id!r} moet gelijk zijn aan de bestandsnaam")
    return ind


class Catalogue(dict):
    """Mapping ``id -> Indicator`` with the catalogue version (a content hash)."""

    version: str = ""

    def by_theme(self) -> dict[str, list[Indicator]]:
        out: dict[str, list[Indicator]] = {t: [] for t in THEMES}
        for ind in self.values():
            out[ind.theme].append(ind)
        return {t: v for t, v in out.items() if v}


def load_catalogue(directory: Path | str | None = None) -> Catalogue:
    """Load every ``*.yaml`` in ``directory`` (default: the shipped catalogue)."""
    directory = Path(directory) if directory else INDICATOR_DIR
    return _load(directory.resolve())


@functools.cache
def _load(directory: Path) -> Catalogue:
    cat = Catalogue()
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        ind = load_indicator(path)
        cat[ind.id] = ind
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    if not cat:
        raise CatalogueError(directory, "(map)", "geen indicatoren gevonden")
    cat.version = digest.hexdigest()[:12]
    return cat


def kernindicator_coverage(catalogue: Catalogue | None = None) -> dict[int, list[str]]:
    """Which catalogue indicators cover each NPLV kernindicator (empty list: not covered)."""
    catalogue = catalogue or load_catalogue()
    out: dict[int, list[str]] = {k: [] for k in KERNINDICATOREN}
    for ind in catalogue.values():
        if ind.nplv.kernindicator:
            out[ind.nplv.kernindicator].append(ind.id)
    return out
