"""Areas (focusgebieden, aandachtswijken, custom areas) and reference groups, declared as YAML.

Every area is one YAML file (see ``nplv/*.yaml`` and ``aandachtswijken/*.yaml`` next to this
module). A user adds a custom area by writing a file of the same format into a directory given
by ``WIJKMONITOR_AREAS_DIR`` (or passed as ``custom_dir``); it is validated the same way.

File format (``schema: 1``)::

    schema: 1                 # file format version
    version: 1                # version of this area's definition; bump when codes change
    id: utrecht-overvecht     # slug, equal to the file name without .yaml
    name: "Utrecht Overvecht" # Dutch display name
    programme: nplv           # nplv | aandachtswijken | custom
    gemeente: GM0344          # CBS gemeente code of the reference year
    gemeente_name: "Utrecht"
    reference_year: 2020      # the CBS indeling year of the codes
    level: wijk               # wijk | buurt
    codes: [WK034403]         # CBS codes of that level and year, all within the gemeente
    removed: null             # year the area left its programme, or null
    delineation_note: ...     # how the set was chosen, where it departs from the local boundary
    sources: [...]            # passage(s) the area comes from
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from .. import yamlio

HERE = Path(__file__).resolve().parent
#: Folders of declared areas inside the package; the folder name is the programme.
PACKAGE_PROGRAMMES = ("nplv", "aandachtswijken")
PROGRAMMES = (*PACKAGE_PROGRAMMES, "custom")
LEVELS = ("wijk", "buurt")
SCHEMA = 1
GROUPS_FILE = HERE / "groups.yaml"
ENV_AREAS_DIR = "WIJKMONITOR_AREAS_DIR"

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_GM = re.compile(r"^GM\d{4}$")
# Amsterdam's codes are alphanumeric since 2022 (BU0363AA02): never assume digits after the
# gemeente part.
_CODE = {"wijk": re.compile(r"^WK(\d{4})[0-9A-Z]{2}$"), "buurt": re.compile(r"^BU(\d{4})[0-9A-Z]{4}$")}
REQUIRED = ("schema", "version", "id", "name", "programme", "gemeente", "gemeente_name",
            "reference_year", "level", "codes", "removed", "delineation_note", "sources")


class AreaError(ValueError):
    """Bad area or group definition: names the file, the field and what is wrong."""

    def __init__(self, file: str | Path, message: str, *, field: str | None = None):
        self.file = str(file)
        self.field = field
        where = f"{self.file}" + (f", veld '{field}'" if field else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Area:
    """A named set of CBS wijken or buurten of one reference year."""

    id: str
    name: str
    programme: str
    gemeente: str
    gemeente_name: str
    reference_year: int
    level: str
    codes: tuple[str, ...]
    removed: int | None
    delineation_note: str
    sources: tuple[str, ...]
    version: int = 1
    schema: int = SCHEMA
    path: Path | None = field(default=None, compare=False)

    @property
    def active(self) -> bool:
        """True while the area is on its programme's list (``removed`` is null)."""
        return self.removed is None

    def active_in(self, year: int) -> bool:
        """True if the area was still on its list in ``year`` (removed later or never)."""
        return self.removed is None or year < self.removed


@dataclass(frozen=True)
class Group:
    """A reference group of gemeenten (G4, G14, G18, NPLV19) or the whole country (NL)."""

    id: str
    name: str
    reference_year: int
    members: tuple[str, ...] | None  # None = all gemeenten of the year (NL)
    note: str = ""
    sources: tuple[str, ...] = ()

    @property
    def is_all(self) -> bool:
        return self.members is None


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

def _read_yaml(path: Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AreaError(path, f"kan bestand niet lezen ({exc.strerror or exc})") from exc
    try:
        return yamlio.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (regel {mark.line + 1})" if mark is not None else ""
        raise AreaError(path, f"geen geldige YAML{line}: {getattr(exc, 'problem', exc)}") from exc


def _int(path, data, key, *, lo=None, hi=None, nullable=False) -> int | None:
    value = data[key]
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise AreaError(path, f"moet een geheel getal zijn{' of null' if nullable else ''}, "
                              f"niet {value!r}", field=key)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise AreaError(path, f"{value} ligt buiten {lo}..{hi}", field=key)
    return value


def _text(path, data, key) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise AreaError(path, f"moet een niet-lege tekst zijn, niet {value!r}", field=key)
    return value.strip()


def validate_area(data: Any, path: str | Path, *, expected_programme: str | None = None) -> Area:
    """Check one parsed area file and return the :class:`Area`.

    Parameters
    ----------
    data
        The parsed YAML document.
    path
        The file it came from (used in error messages and to check ``id`` = file name).
    expected_programme
        If given, ``programme`` must equal it (package folders, custom directory).

    Raises
    ------
    AreaError
        Naming the file and field for every structural problem. Whether the codes exist in
        the reference year's CBS data is checked by :func:`check_codes_exist` (needs data).
    """
    path = Path(path)
    if not isinstance(data, dict):
        raise AreaError(path, "verwacht een YAML-mapping met de velden " + ", ".join(REQUIRED))
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise AreaError(path, "ontbrekend verplicht veld", field=missing[0])
    unknown = sorted(set(data) - set(REQUIRED))
    if unknown:
        raise AreaError(path, f"onbekend veld (toegestaan: {', '.join(REQUIRED)})", field=unknown[0])
    schema = _int(path, data, "schema")
    if schema != SCHEMA:
        raise AreaError(path, f"schema {schema} wordt niet ondersteund (alleen {SCHEMA})", field="schema")
    version = _int(path, data, "version", lo=1)
    area_id = _text(path, data, "id")
    if not _SLUG.match(area_id):
        raise AreaError(path, f"{area_id!r} is geen slug (kleine letters, cijfers, koppeltekens)", field="id")
    if path.suffix in (".yaml", ".yml") and path.stem != area_id:
        raise AreaError(path, f"id {area_id!r} wijkt af van de bestandsnaam {path.name!r}", field="id")
    programme = _text(path, data, "programme")
    if programme not in PROGRAMMES:
        raise AreaError(path, f"{programme!r} is geen programma ({' | '.join(PROGRAMMES)})", field="programme")
    if expected_programme and programme != expected_programme:
        raise AreaError(path, f"verwacht {expected_programme!r} in deze map, niet {programme!r}",
                        field="programme")
    gemeente = _text(path, data, "gemeente")
    if not _GM.match(gemeente):
        raise AreaError(path, f"{gemeente!r} is geen CBS-gemeentecode (GMxxxx)", field="gemeente")
    reference_year = _int(path, data, "reference_year", lo=1990, hi=2100)
    level = _text(path, data, "level")
    if level not in LEVELS:
        raise AreaError(path, f"{level!r} is geen niveau ({' | '.join(LEVELS)})", field="level")
    codes = data["codes"]
    if not isinstance(codes, list) or not codes:
        raise AreaError(path, "moet een niet-lege lijst met CBS-codes zijn", field="codes")
    seen = set()
    for i, code in enumerate(codes, start=1):
        match = _CODE[level].match(code) if isinstance(code, str) else None
        if not match:
            raise AreaError(path, f"element {i}: {code!r} is geen CBS-{level}code "
                                  f"({'WKggggww' if level == 'wijk' else 'BUggggwwbb'})", field="codes")
        if match.group(1) != gemeente[2:]:
            raise AreaError(path, f"element {i}: {code} ligt niet in gemeente {gemeente}", field="codes")
        if code in seen:
            raise AreaError(path, f"element {i}: {code} staat er dubbel in", field="codes")
        seen.add(code)
    removed = _int(path, data, "removed", lo=1990, hi=2100, nullable=True)
    sources = data["sources"]
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s.strip() for s in sources):
        raise AreaError(path, "moet een niet-lege lijst met bronvermeldingen (tekst) zijn", field="sources")
    return Area(
        id=area_id, name=_text(path, data, "name"), programme=programme, gemeente=gemeente,
        gemeente_name=_text(path, data, "gemeente_name"), reference_year=reference_year,
        level=level, codes=tuple(codes), removed=removed,
        delineation_note=_text(path, data, "delineation_note"),
        sources=tuple(s.strip() for s in sources), version=version, schema=schema, path=path)


def load_area_file(path: str | Path, *, expected_programme: str | None = None) -> Area:
    """Read and validate one area file."""
    return validate_area(_read_yaml(Path(path)), path, expected_programme=expected_programme)


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------

def custom_areas_dir(custom_dir: str | Path | None = None) -> Path | None:
    """The directory with the user's custom areas: the argument, else ``WIJKMONITOR_AREAS_DIR``."""
    if custom_dir is not None:
        return Path(custom_dir)
    env = os.environ.get(ENV_AREAS_DIR)
    return Path(env) if env else None


def _area_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def load_areas(custom_dir: str | Path | None = None, *, include_custom: bool = True) -> dict[str, Area]:
    """Load and validate all declared areas (and the custom ones), keyed by id.

    Parameters
    ----------
    custom_dir
        Directory with custom area files; default ``WIJKMONITOR_AREAS_DIR`` (if set).
    include_custom
        Set to False to load only the areas shipped with the package.

    Raises
    ------
    AreaError
        For the first invalid file, a custom directory that does not exist, or an id that
        occurs in two files (both are named).
    """
    areas: dict[str, Area] = {}

    def add(area: Area) -> None:
        if area.id in areas:
            raise AreaError(area.path, f"id {area.id!r} komt ook voor in {areas[area.id].path}", field="id")
        areas[area.id] = area

    for programme in PACKAGE_PROGRAMMES:
        for path in _area_files(HERE / programme):
            add(load_area_file(path, expected_programme=programme))
    directory = custom_areas_dir(custom_dir) if include_custom else None
    if directory is not None:
        if not directory.is_dir():
            raise AreaError(directory, f"map met eigen gebieden bestaat niet ({ENV_AREAS_DIR})")
        for path in _area_files(directory):
            add(load_area_file(path, expected_programme="custom"))
    return areas


def _norm(text: str) -> str:
    return " ".join(text.casefold().replace("-", " ").split())


#: Longest name or id :func:`find_area` looks up; longer input is refused before any work.
MAX_AREA_KEY = 200


def find_area(name_or_id: str, *, programme: str | None = None,
              custom_dir: str | Path | None = None) -> Area:
    """Find a declared area by id or by Dutch name (case-insensitive).

    Only identifiers are resolved: the areas shipped with the package and those in the
    configured custom folder (``custom_dir`` or ``WIJKMONITOR_AREAS_DIR``). A file path is never
    opened here, whatever it looks like, so a name typed into a web form or URL cannot make
    the server read a file. To read one area file on purpose, call :func:`load_area_file`.

    Parameters
    ----------
    name_or_id
        An id (``"utrecht-overvecht"``) or a name (``"utrecht overvecht"``; hyphens and spaces
        are treated alike). At most 200 characters.
    programme
        Restrict the search to one programme (needed when an NPLV area and an aandachtswijk
        share a name, e.g. Utrecht Overvecht).
    custom_dir
        Directory with custom areas (default ``WIJKMONITOR_AREAS_DIR``).

    Raises
    ------
    KeyError
        Nothing matches (with close suggestions), or the text is too long to be a name.
    AreaError
        The name matches several areas (their ids are listed), or a declared file is invalid.
    """
    text = str(name_or_id)
    if len(text) > MAX_AREA_KEY or "\x00" in text:
        raise KeyError(f"geen gebied: een gebiedsnaam of -id heeft hoogstens {MAX_AREA_KEY} tekens "
                       "en geen NUL-teken")
    areas = load_areas(custom_dir)
    if programme is not None:
        areas = {k: a for k, a in areas.items() if a.programme == programme}
    if text in areas:
        return areas[text]
    wanted = _norm(text)
    hits = [a for a in areas.values() if _norm(a.name) == wanted or a.id == wanted.replace(" ", "-")]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise AreaError("gebiedsnaam", f"{text!r} is niet eenduidig; kies een id of programme: "
                        + ", ".join(f"{a.id} ({a.programme})" for a in hits), field="name")
    choices = {_norm(a.name): a.id for a in areas.values()} | {a.id: a.id for a in areas.values()}
    close = difflib.get_close_matches(wanted, list(choices), n=3)
    hint = f"; bedoelde u {', '.join(sorted({choices[c] for c in close}))}?" if close else ""
    shown = text if len(text) <= 60 else text[:57] + "..."
    raise KeyError(f"geen gebied {shown!r}{hint}")


# ---------------------------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------------------------

def load_groups(path: str | Path = GROUPS_FILE) -> dict[str, Group]:
    """Load the reference groups and check their internal consistency.

    Checks: every member is a GM code, no duplicates, a group with ``derived: "A - B"`` equals
    that set difference (G14 = G18 - G4).
    """
    path = Path(path)
    doc = _read_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), dict):
        raise AreaError(path, "verwacht een mapping 'groups'", field="groups")
    if doc.get("schema") != SCHEMA:
        raise AreaError(path, f"schema {doc.get('schema')!r} wordt niet ondersteund", field="schema")
    year = doc.get("reference_year")
    if not isinstance(year, int):
        raise AreaError(path, "moet een jaartal zijn", field="reference_year")
    groups: dict[str, Group] = {}
    for gid, spec in doc["groups"].items():
        where = f"groups.{gid}"
        if not isinstance(spec, dict) or "members" not in spec or not isinstance(spec.get("name"), str):
            raise AreaError(path, "verwacht 'name' en 'members'", field=where)
        members = spec["members"]
        if members == "all":
            codes = None
        else:
            if not isinstance(members, list) or not members:
                raise AreaError(path, "members moet 'all' of een lijst GM-codes zijn", field=f"{where}.members")
            for m in members:
                if not isinstance(m, str) or not _GM.match(m):
                    raise AreaError(path, f"{m!r} is geen gemeentecode", field=f"{where}.members")
            if len(set(members)) != len(members):
                raise AreaError(path, "dubbele gemeentecode", field=f"{where}.members")
            codes = tuple(members)
        groups[gid] = Group(id=gid, name=spec["name"], reference_year=year, members=codes,
                            note=str(spec.get("note", "")).strip(),
                            sources=tuple(spec.get("sources") or ()))
    for gid, spec in doc["groups"].items():
        derived = spec.get("derived")
        if derived:
            left, _, right = (s.strip() for s in str(derived).partition("-"))
            if left not in groups or right not in groups:
                raise AreaError(path, f"'{derived}' verwijst naar onbekende groep", field=f"groups.{gid}.derived")
            expect = set(groups[left].members or ()) - set(groups[right].members or ())
            if set(groups[gid].members or ()) != expect:
                raise AreaError(path, f"leden wijken af van {derived}", field=f"groups.{gid}.members")
    return groups


def areas_by_programme(areas: Iterable[Area], programme: str) -> list[Area]:
    """The areas of one programme, sorted by id."""
    return sorted((a for a in areas if a.programme == programme), key=lambda a: a.id)
