"""Areas wijkmonitor follows, declared as validated data.

* ``nplv/*.yaml`` -- the 20 stedelijke focusgebieden of the Nationaal Programma Leefbaarheid en
  Veiligheid (2022);
* ``aandachtswijken/*.yaml`` -- the 40 aandachtswijken of the wijkenaanpak (2007), two of them
  removed later (``removed``);
* custom areas in ``WIJKMONITOR_AREAS_DIR`` (same format, ``programme: custom``);
* ``groups.yaml`` -- reference groups G4, G14, G18, NPLV19, NL;
* ``gemeente_mergers.yaml`` -- successors of gemeente codes that disappeared after 2012.

Typical use::

    from wijkmonitor.areas import load_areas, find_area, load_groups, successor_gemeente
    area = find_area("Rotterdam-Zuid")          # a name or an id (never a file path)
    area.codes                                  # ('WK059910', 'WK059912', 'WK059915')
    successor_gemeente("GM0788", 2024)          # Haaren -> 'GM0865' (Vught, largest part)

See :mod:`wijkmonitor.areas.model` for the file format.
"""

from .mergers import (Merger, MergerError, derive_gemeente_mergers, load_gemeente_mergers,
                      successor_gemeente, write_gemeente_mergers)
from .model import (ENV_AREAS_DIR, LEVELS, PROGRAMMES, Area, AreaError, Group, areas_by_programme,
                    custom_areas_dir, find_area, load_area_file, load_areas, load_groups,
                    validate_area)
from .reference import check_codes_exist, population_weights, regions
from .translate import Translation, translate_codes

__all__ = [
    "Area", "AreaError", "Group", "Merger", "MergerError", "Translation",
    "ENV_AREAS_DIR", "LEVELS", "PROGRAMMES",
    "load_areas", "load_area_file", "validate_area", "find_area", "custom_areas_dir",
    "areas_by_programme", "load_groups",
    "successor_gemeente", "load_gemeente_mergers", "derive_gemeente_mergers", "write_gemeente_mergers",
    "translate_codes", "check_codes_exist", "population_weights", "regions",
]
