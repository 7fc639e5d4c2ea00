"""Loading the declared YAML files (catalogue, areas, mappings, indices) quickly.

:func:`safe_load` is ``yaml.safe_load`` with PyYAML's C parser (libyaml) where PyYAML has it:
the same safe constructor, so the same Python objects, in about an eighth of the time (a
build reads some 130 YAML files). A file the C parser rejects is parsed again by the pure
Python parser, so that an error carries the same message and line as before.
"""

from __future__ import annotations

import yaml

_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def safe_load(text: str):
    """Parse YAML text like ``yaml.safe_load``; raises ``yaml.YAMLError`` as it does."""
    if _FAST_LOADER is not None:
        try:
            return yaml.load(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass  # the pure-Python parser's message and line, below
    return yaml.safe_load(text)
