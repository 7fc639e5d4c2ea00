"""The Wijkindex declared as data: one YAML file per index, validated on load.

Format (field names are Dutch, as in the indicator catalogue's user-facing texts)::

    id: wijkindex                 # [a-z][a-z0-9_]*; also the indicator id of the index value
    naam: Wijkindex
    beschrijving: ...
    basisjaar: 2020               # the fixed reference year of the standardisation
    basisniveau: buurt            # buurt | wijk | gemeente: the reference distribution
    normalisatie: rang-normaal    # rang-normaal | z-score (see wijkindex.method)
    max_leeftijd: 4               # an indicator may take a value this many years old (>= 0)
    domeinen:
      - id: wonen                 # the domain value has indicator id '<index id>_<domain id>'
        naam: wonen
        gewicht: 0.15             # > 0; relative (divided by the sum over domains)
        minimum: 2                # indicators a domain needs (1 .. number of indicators)
        indicatoren:
          - {id: woz_gemiddeld, richting: hoger is beter, gewicht: 1}

Every indicator must be in the catalogue; its ``richting`` (``hoger is beter`` or ``hoger is
slechter``) must agree with the catalogue's polarity unless that is ``neutraal``; an indicator
appears once in an index. Optional per indicator: ``basisjaar`` (overrides the index's).

The index version is the first 12 hex digits of the SHA-256 of the file's bytes.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .. import yamlio
from ..catalogue import Catalogue, load_catalogue

HERE = Path(__file__).resolve().parent
DEFAULT_FILE = HERE / "default.yaml"

NORMALISATIONS = ("rang-normaal", "z-score")
LEVELS = ("buurt", "wijk", "gemeente")

Direction = Literal["hoger is beter", "hoger is slechter"]


class WijkindexError(ValueError):
    """An invalid index file: names the file and the field, in Dutch."""

    def __init__(self, file: Path | str, field: str, message: str):
        self.file, self.field = str(file), field
        super().__init__(f"{file}: veld {field!r}: {message}")


class IndexIndicator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    richting: Direction
    gewicht: float = Field(default=1.0, gt=0)
    basisjaar: int | None = Field(default=None, ge=1990, le=2100)

    @property
    def worse_is_higher(self) -> bool:
        return self.richting == "hoger is slechter"


class Domain(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    naam: str
    gewicht: float = Field(gt=0)
    minimum: int = Field(ge=1)
    indicatoren: tuple[IndexIndicator, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _minimum(self):
        if self.minimum > len(self.indicatoren):
            raise ValueError(f"minimum {self.minimum} is groter dan het aantal indicatoren "
                             f"({len(self.indicatoren)})")
        return self


class IndexSpec(BaseModel):
    """One declared index (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    naam: str
    beschrijving: str = ""
    basisjaar: int = Field(ge=1990, le=2100)
    basisniveau: Literal[LEVELS] = "buurt"  # type: ignore[valid-type]
    normalisatie: Literal[NORMALISATIONS] = "rang-normaal"  # type: ignore[valid-type]
    max_leeftijd: int = Field(default=0, ge=0, le=20)
    domeinen: tuple[Domain, ...] = Field(min_length=1)
    #: filled by :func:`load_index`: hash of the file and the file itself
    version: str = ""
    path: str = ""

    @model_validator(mode="after")
    def _unique(self):
        seen: set[str] = set()
        for d in self.domeinen:
            if d.id in seen:
                raise ValueError(f"domein {d.id!r} komt twee keer voor")
            seen.add(d.id)
        seen = set()
        for d in self.domeinen:
            for ind in d.indicatoren:
                if ind.id in seen:
                    raise ValueError(f"indicator {ind.id!r} komt in meer dan één domein of twee keer voor")
                seen.add(ind.id)
        return self

    # -- derived ---------------------------------------------------------------------------
    def component_id(self, domain: str | None = None) -> str:
        """The indicator id of the index (``wijkindex``) or a domain (``wijkindex_wonen``)."""
        return self.id if domain is None else f"{self.id}_{domain}"

    def components(self) -> list[str]:
        return [self.component_id()] + [self.component_id(d.id) for d in self.domeinen]

    def indicators(self) -> list[tuple[Domain, IndexIndicator]]:
        return [(d, i) for d in self.domeinen for i in d.indicatoren]

    def domain_weights(self) -> list[float]:
        total = sum(d.gewicht for d in self.domeinen)
        return [d.gewicht / total for d in self.domeinen]


def _field_path(loc, data) -> str:
    """``domeinen.2.indicatoren.0.richting`` -> ``domeinen[2].indicatoren[0].richting``, with
    the domain id when known (``domeinen[wonen]``)."""
    out, node = [], data
    for part in loc:
        if isinstance(part, int):
            label = str(part)
            if isinstance(node, list) and 0 <= part < len(node) and isinstance(node[part], dict) \
                    and "id" in node[part]:
                label = str(node[part]["id"])
            out[-1] = f"{out[-1]}[{label}]" if out else f"[{label}]"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
        else:
            out.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(out) or "(index)"


def parse_index(data, path: Path | str, catalogue: Catalogue | None = None, *,
                version: str = "") -> IndexSpec:
    """Validate a mapping read from ``path`` (errors name the file and the field)."""
    if not isinstance(data, dict):
        raise WijkindexError(path, "(bestand)", "verwacht een mapping met de velden van een index")
    try:
        spec = IndexSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        raise WijkindexError(path, _field_path(err["loc"], data), msg) from None
    catalogue = catalogue if catalogue is not None else load_catalogue()
    for di, d in enumerate(spec.domeinen):
        for ii, ind in enumerate(d.indicatoren):
            field = f"domeinen[{d.id}].indicatoren[{ind.id}]"
            if ind.id not in catalogue:
                raise WijkindexError(path, field + ".id",
                                     f"onbekende indicator {ind.id!r}; zie 'wijkmonitor indicators'")
            pol = catalogue[ind.id].polarity
            if pol != "neutraal" and pol != ind.richting:
                raise WijkindexError(path, field + ".richting",
                                     f"{ind.richting!r} spreekt de catalogus tegen ({pol!r})")
    return spec.model_copy(update=dict(version=version, path=str(path)))


def load_index(path: Path | str | None = None, catalogue: Catalogue | None = None) -> IndexSpec:
    """Load and validate one index file (default: the shipped ``default.yaml``)."""
    path = Path(path) if path else DEFAULT_FILE
    return _load(path.resolve(), catalogue)


@functools.lru_cache(maxsize=16)
def _load_cached(path: Path, stamp: tuple) -> IndexSpec:
    return _parse_file(path, None)


def _load(path: Path, catalogue: Catalogue | None) -> IndexSpec:
    if catalogue is not None:
        return _parse_file(path, catalogue)
    try:
        st = path.stat()
    except OSError as exc:
        raise WijkindexError(path, "(bestand)", f"niet te lezen: {exc.strerror}") from None
    return _load_cached(path, (st.st_mtime_ns, st.st_size, st.st_ino))


def _parse_file(path: Path, catalogue: Catalogue | None) -> IndexSpec:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise WijkindexError(path, "(bestand)", f"niet te lezen: {exc.strerror}") from None
    try:
        data = yamlio.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise WijkindexError(path, "(bestand)", "geen UTF-8") from None
    except yaml.YAMLError as exc:
        raise WijkindexError(path, "(yaml)", str(exc).replace("\n", " ")) from None
    return parse_index(data, path, catalogue, version=hashlib.sha256(raw).hexdigest()[:12])


def index_files(directory: Path | str | None = None) -> list[Path]:
    """The declared indices: every ``*.yaml`` beside ``default.yaml`` (default first)."""
    directory = Path(directory) if directory else HERE
    files = sorted(directory.glob("*.yaml"))
    return sorted(files, key=lambda p: (p.name != "default.yaml", p.name))


def load_indices(directory: Path | str | None = None) -> list[IndexSpec]:
    """Every declared index; ids must be unique."""
    out, seen = [], {}
    for p in index_files(directory):
        spec = load_index(p)
        if spec.id in seen:
            raise WijkindexError(p, "id", f"id {spec.id!r} is al gebruikt in {seen[spec.id]}")
        seen[spec.id] = p.name
        out.append(spec)
    return out


def component_ids(directory: Path | str | None = None) -> dict[str, tuple[IndexSpec, str | None]]:
    """``{indicator id: (index, domain id or None)}`` for every index and domain value."""
    out = {}
    for spec in load_indices(directory):
        out[spec.component_id()] = (spec, None)
        for d in spec.domeinen:
            out[spec.component_id(d.id)] = (spec, d.id)
    return out
