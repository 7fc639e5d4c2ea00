"""No import cycles among the wijkmonitor modules (issue 17, item 8).

The graph is read from the source with :mod:`ast`, not by importing: every ``import`` and
``from ... import`` statement counts, also those inside functions (a lazy import that closes a
circle is still a circle: it only moves the failure from import time to the first request). An
edge goes to the most specific wijkmonitor module named (``from wijkmonitor.local import db``
-> ``wijkmonitor.local.db``; ``from .app import TEMPLATES`` -> ``wijkmonitor.web.app``), as
grimp/import-linter do. :class:`graphlib.TopologicalSorter` reports a cycle if there is one.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

import wijkmonitor

PACKAGE = Path(wijkmonitor.__file__).resolve().parent


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """``dotted name -> (file, is_package)`` of every module under ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """``module -> the wijkmonitor modules it imports`` (anywhere in its source)."""
    modules = _modules(root)
    top = root.name

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        edges = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1]
                                    + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                targets = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                found = resolve(target)
                if found and found != name and (found == top or found.startswith(top + ".")):
                    edges.add(found)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]`` (a imports b ...), or ``None``."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(reversed(exc.args[1]))  # graphlib lists dependencies first
    return None


def all_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Cycles until none is left, removing one edge of each (for a readable failure)."""
    graph = {k: set(v) for k, v in graph.items()}
    out = []
    while (cycle := find_cycle(graph)) is not None:
        out.append(cycle)
        graph[cycle[0]].discard(cycle[1])
    return out


def test_the_graph_reader_sees_a_cycle_and_its_direction(tmp_path):
    """A synthetic package: a -> b -> c -> a (the last one a lazy import inside a function,
    relative), and d -> a; the reader finds exactly that circle, in import direction."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("import pkg.c as c\n")
    (pkg / "c.py").write_text("def f():\n    from . import a\n    return a\n")
    (pkg / "d.py").write_text("from .a import something\n")
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.c"}
    assert graph["pkg.c"] == {"pkg.a"}
    assert graph["pkg.d"] == {"pkg.a"}
    cycles = all_cycles(graph)
    assert len(cycles) == 1
    cycle = cycles[0]
    assert cycle[0] == cycle[-1] and set(cycle) == {"pkg.a", "pkg.sub.b", "pkg.c"}
    for importer, imported in zip(cycle, cycle[1:]):
        assert imported in graph[importer]
    # without the lazy import there is none
    (pkg / "c.py").write_text("def f():\n    return 1\n")
    assert all_cycles(import_graph(pkg)) == []


def test_the_graph_covers_the_package():
    graph = import_graph()
    assert len(graph) > 100
    assert "wijkmonitor.web.app" in graph["wijkmonitor.web.cli"]
    assert "wijkmonitor.local.db" in graph["wijkmonitor.web.app"]


def test_no_import_cycle_among_wijkmonitor_modules():
    cycles = all_cycles(import_graph())
    if cycles:
        pytest.fail("import cycles (a -> b: a imports b):\n"
                    + "\n".join(" -> ".join(c) for c in cycles))


def test_the_site_and_the_beheer_meet_at_two_documented_points():
    """The beheer side takes only the shared layout from the site (``web.layout``); the site
    mounts the beheer router through ``local.web`` (in ``web.app``) and never reaches into
    ``local.routes``. The site's reads of the editable store (``local.public``, ``local.db``)
    are services, not the beheer's web code."""
    graph = import_graph()
    local_to_web = {(m, t) for m, ts in graph.items() for t in ts
                    if m.startswith("wijkmonitor.local") and t.startswith("wijkmonitor.web")}
    assert {t for _, t in local_to_web} == {"wijkmonitor.web.layout"}
    web_to_local = {(m, t) for m, ts in graph.items() for t in ts
                    if m.startswith("wijkmonitor.web") and t.startswith("wijkmonitor.local")}
    assert not any(t.startswith("wijkmonitor.local.routes") for _, t in web_to_local)
    assert {m for m, t in web_to_local if t == "wijkmonitor.local.web"} == {"wijkmonitor.web.app"}
