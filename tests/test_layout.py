"""The package layout follows the data flow: ingest -> index -> retrieve -> answer -> service -> api/cli.

Imports are read with `ast` (no code runs): every `import` and `from ... import` in qa/, late ones inside
functions included (they run too, only later), those under `if TYPE_CHECKING:` left out (they never run),
and a module's imports from its own package (`from . import x`) not counted as depending on that package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

QA = Path(__file__).resolve().parents[1] / "qa"

# A stage may import the stages before it, never one after it. `eval` scores the whole and may import all
# but `api`; top-level modules (shared helpers, `service`, `cli`) are checked by the rules below.
STAGES = ("ingest", "index", "retrieve", "answer", "api")
LATER_THAN = {stage: set(STAGES[i + 1:]) for i, stage in enumerate(STAGES)}
LATER_THAN["eval"] = {"api"}
API_USERS = {"qa.cli"}  # `qa serve` starts the API; nothing else outside qa/api reaches into it
WEB_FRAMEWORKS = {"fastapi", "starlette", "sse_starlette", "slowapi"}


def module_name(path: Path, root: Path = QA) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (n for child in node.orelse for n in _import_nodes_of(child))
            continue
        yield from _import_nodes_of(node)


def _import_nodes_of(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    elif not (isinstance(node, ast.If) and _type_checking_only(node)):
        yield from _import_nodes(node)


def imports_of(path: Path, modules: set[str], root: Path = QA) -> tuple[set[str], set[str]]:
    """(qa modules this file imports, top-level names of other packages it imports)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    inside, outside = set(), set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif node.level:
            base = package.split(".")
            base = base[:len(base) - (node.level - 1)]
            stem = ".".join(base + ([node.module] if node.module else []))
            targets = [stem] + [f"{stem}.{alias.name}" for alias in node.names]
        else:
            targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for target in targets:
            if target.split(".")[0] != root.name:
                outside.add(target.split(".")[0])
            elif target in modules:
                inside.add(target)
    # `from . import x` in a package's module reads the package that is already being initialised: not a
    # dependency on it (a package's __init__ may import its modules, and they the interface it defines).
    return {m for m in inside if not (name == m or name.startswith(m + "."))}, outside


def import_graph(root: Path = QA) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """qa module -> the qa modules it imports (each imported module's parent packages too, as importing
    `qa.index.store` runs `qa/index/__init__.py` first, unless the importer is inside that package);
    qa module -> the other packages it imports."""
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    modules = set(files)
    graph, external = {}, {}
    for name, path in files.items():
        inside, external[name] = imports_of(path, modules, root)
        edges = set(inside)
        for target in inside:
            parts = target.split(".")
            for i in range(2, len(parts)):
                parent = ".".join(parts[:i])
                if parent in modules and not (name == parent or name.startswith(parent + ".")):
                    edges.add(parent)
        edges.discard(name)
        graph[name] = edges
    return graph, external


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LATER_THAN else None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def against_the_flow(graph: dict[str, set[str]], external: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, targets in sorted(graph.items()):
        stage = stage_of(module)
        for target in sorted(targets):
            if stage is not None and stage_of(target) in LATER_THAN[stage]:
                problems.append(f"{module} ({stage}) imports {target} ({stage_of(target)}), a later stage")
            if stage_of(target) == "api" and stage is None and module not in API_USERS:
                problems.append(f"{module} imports {target}: only qa/api and {', '.join(sorted(API_USERS))} may")
        web = external[module] & WEB_FRAMEWORKS
        if web and stage != "api":
            problems.append(f"{module} imports {', '.join(sorted(web))}: web frameworks belong in qa/api")
    return problems


def test_no_import_cycle():
    graph, _ = import_graph()
    assert cycles(graph) == []


def test_imports_follow_the_data_flow():
    graph, external = import_graph()
    assert against_the_flow(graph, external) == []


def test_no_module_over_400_lines():
    too_long = [f"{module_name(p)}: {n} lines" for p in sorted(QA.rglob("*.py"))
                if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400]
    assert too_long == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "qa"
    for rel, text in {**{"__init__.py": ""}, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("files, expected", [
    ({"ingest/__init__.py": "", "ingest/read.py": "from ..retrieve import search\n",
      "retrieve/__init__.py": "", "retrieve/search.py": ""}, "qa.ingest.read (ingest) imports qa.retrieve"),
    ({"answer/__init__.py": "def f():\n    from ..api import app\n", "api/__init__.py": "", "api/app.py": ""},
     "qa.answer (answer) imports qa.api"),
    ({"service.py": "import fastapi\n"}, "qa.service imports fastapi"),
    ({"index/__init__.py": "from qa.answer.pipeline import x\n", "answer/__init__.py": "",
      "answer/pipeline.py": ""}, "qa.index (index) imports qa.answer"),
])
def test_the_check_catches_an_import_against_the_flow(tmp_path, files, expected):
    graph, external = import_graph(_tree(tmp_path, files))
    assert any(p.startswith(expected) for p in against_the_flow(graph, external))


def test_the_check_catches_a_cycle(tmp_path):
    root = _tree(tmp_path, {"a.py": "from . import b\n", "b.py": "def f():\n    from .a import g\n",
                            "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n"})
    graph, _ = import_graph(root)
    assert cycles(graph) == [["qa.a", "qa.b"]]
