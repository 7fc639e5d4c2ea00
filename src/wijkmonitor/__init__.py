"""wijkmonitor: monitor leefbaarheid en veiligheid of Dutch neighbourhoods.

Data flows one way::

    sources -> store -> compute -> analysis -> web / report / API

The analyst-facing Python API lives in :mod:`wijkmonitor.api` and is re-exported here.
"""

__version__ = "0.1.0"
