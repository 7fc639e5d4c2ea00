"""The Wijkindex: one transparent composite score per buurt, wijk, gemeente and area, its
domains, classes, ranks with rank intervals, and the selection of areas with an accumulation
of problems (issue 16).

* :mod:`.model` -- indices declared as YAML (``default.yaml``), validated on load;
* :mod:`.method` -- the arithmetic (normalisation against a fixed base year, domain scores,
  exponential transformation, ranks, deciles, Monte Carlo), numpy only;
* :mod:`.build` -- the build step writing ``wijkindex_values``, ``wijkindex_reference`` and
  ``wijkindex_meta``;
* :mod:`.select` -- selection rules and read access for the CLI, the API and the web.

The method is described in the README, section "Wijkindex".
"""

from .model import (IndexSpec, WijkindexError, component_ids, load_index, load_indices)

__all__ = ["IndexSpec", "WijkindexError", "component_ids", "load_index", "load_indices"]
