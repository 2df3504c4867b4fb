"""Import directions between WAVE's packages, read from the source with ``ast`` (imports inside functions count).

pipeline <- db <- wave_core <- jobs, bot <- wave_app (the command line); wave_testing (fakes, tiny models) sits
beside them for the tests and benches, and no production package imports it.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("pipeline", "db", "wave_core", "jobs", "bot", "wave_app")
TESTING = "wave_testing"
PACKAGES = (*PRODUCTION, TESTING)

# What each package may not import, directly or lazily.
FORBIDDEN: dict[str, set[str]] = {
    "pipeline": {"db", "wave_core", "jobs", "bot", "wave_app", TESTING},
    "db": {"wave_core", "jobs", "bot", "wave_app", TESTING},
    "wave_core": {"jobs", "bot", "wave_app", TESTING},
    "jobs": {"bot", "wave_app", TESTING},
    "bot": {"wave_app", TESTING},
    "wave_app": {TESTING},
    TESTING: set(),
}


def imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) for every import in ``path`` that names one of WAVE's packages."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue  # relative imports stay inside their package
        found += [(node.lineno, name.split(".")[0]) for name in names if name.split(".")[0] in PACKAGES]
    return found


def package_imports() -> dict[str, list[tuple[str, int, str]]]:
    """package -> (file, line, imported package) for every import of another WAVE package."""
    edges: dict[str, list[tuple[str, int, str]]] = {package: [] for package in PACKAGES}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, target in imported_packages(path):
                if target != package:
                    edges[package].append((str(path.relative_to(ROOT)), line, target))
    return edges


def test_every_package_is_read():
    for package in PACKAGES:
        assert (ROOT / package / "__init__.py").is_file(), f"{package}/ is not a package any more: update this test"


def test_lazy_imports_are_seen(tmp_path):
    module = tmp_path / "lazy.py"
    module.write_text("import os\n\ndef f():\n    from wave_app.cli import run\n    import jobs.tasks as t\n")
    assert imported_packages(module) == [(4, "wave_app"), (5, "jobs")]


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_down(package):
    offending = [f"{path}:{line} imports {target}" for path, line, target in package_imports()[package]
                 if target in FORBIDDEN[package]]
    assert not offending, f"{package}/ may not import {sorted(FORBIDDEN[package])}:\n" + "\n".join(offending)


def test_no_cycles_between_packages():
    edges = package_imports()
    graph = {package: {target for _, _, target in imports} for package, imports in edges.items()}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == trail[0]:
                cycles.append(trail + [nxt])
            elif nxt not in trail and nxt > trail[0]:  # each cycle once, from its smallest package
                visit(nxt, trail + [nxt])

    for start in sorted(graph):
        visit(start, [start])
    where = []
    for cycle in cycles:
        for a, b in itertools.pairwise(cycle):
            where += [f"  {path}:{line} ({a} -> {b})" for path, line, target in edges[a] if target == b][:3]
    assert not cycles, "package cycles: " + "; ".join(" -> ".join(c) for c in cycles) + "\n" + "\n".join(where)
