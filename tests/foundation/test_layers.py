"""The packages under app/ depend on each other one way only.

The graph is read from the source (every import, at module level or inside a function, is a
dependency), so an import hidden in a function to dodge a cycle still counts.
"""
from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
# The composition root wires every feature together; it is not a feature.
ROOT_MODULES = {"__init__", "models"}


def imported_modules(path: Path) -> list[tuple[str, int]]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append((node.module, node.lineno))
            names += [(f"{node.module}.{alias.name}", node.lineno) for alias in node.names]
    return names


def package_graph(app_dir: Path = APP) -> dict[str, dict[str, list[str]]]:
    """{package: {package it imports: ["file:line", ...]}} for the packages directly under app/."""
    packages = {p.name for p in app_dir.iterdir() if (p / "__init__.py").exists()}
    graph: dict[str, dict[str, list[str]]] = {name: {} for name in packages}
    for path in sorted(app_dir.rglob("*.py")):
        parts = path.relative_to(app_dir).parts
        if len(parts) == 1:
            continue  # app/__init__.py, app/models.py, app/extensions.py, ...: not a package
        source = parts[0]
        for name, line in imported_modules(path):
            bits = name.split(".")
            if bits[0] == "app" and len(bits) > 1 and bits[1] in packages and bits[1] != source:
                graph[source].setdefault(bits[1], []).append(f"{path.relative_to(app_dir.parent)}:{line}")
    return graph


def find_cycle(graph: dict[str, dict]) -> list[str] | None:
    """One cycle of the graph as a path [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert find_cycle({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": [], "c": []}, "b": {"c": []}, "c": {}}) is None


def test_the_graph_sees_imports_inside_functions(tmp_path):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / "one" / "a.py").write_text("from app.two import b\n")
    (tmp_path / "two" / "b.py").write_text("def late():\n    from app.one.a import x\n")
    graph = package_graph(tmp_path)
    assert find_cycle(graph) == ["one", "two", "one"]


def test_no_import_cycle_between_app_packages():
    graph = package_graph()
    cycle = find_cycle(graph)
    where = [f"{a} -> {b}: {', '.join(graph[a][b][:3])}" for a, b in zip(cycle, cycle[1:])] if cycle else []
    assert cycle is None, "import cycle:\n" + "\n".join(where)


def test_the_life_of_a_call_points_one_way():
    """Calls, interactions, agents and the carrier seam announce; the dialer decides."""
    graph = package_graph()
    for package in ("calls", "interactions", "agents", "telephony"):
        assert "dialer" not in graph[package], (package, graph[package].get("dialer"))


def test_nothing_under_app_imports_the_task_modules():
    offenders = [f"{path.relative_to(APP.parent)}:{line} {name}"
                 for path in APP.rglob("*.py") for name, line in imported_modules(path)
                 if name == "workers" or name.startswith("workers.")]
    assert offenders == []


def test_no_pickle_under_app():
    offenders = [f"{path.relative_to(APP.parent)}:{line}" for path in APP.rglob("*.py")
                 for name, line in imported_modules(path) if name.split(".")[0] in ("pickle", "cPickle", "dill")]
    assert offenders == []


def test_every_feature_says_what_it_is():
    for init in APP.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and doc.strip(), f"{init.relative_to(APP.parent)} has no docstring"
