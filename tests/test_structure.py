"""The shape of the code the house rules ask for, checked on the source: one place commits, no
bottom-of-file imports, no imports inside functions but the documented ones, no import circles,
the API on delivery's service surfaces only, comments that state rules instead of citing
documents outside the repository."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "examsys"
SOURCES = sorted(PACKAGE.rglob("*.py"))

# The unit of work, and the autosave hot path's hand-tuned transaction (documented there).
COMMITTERS = {"transaction.py", "delivery/exam/saving.py"}
# Heavy optional dependencies loaded on first use, each line saying so; and create_app, which
# keeps the package root light.
HEAVY = {"openpyxl", "weasyprint", "matplotlib", "highspy", "pypdf"}


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _module(path: Path) -> str:
    parts = ["examsys", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_only_the_unit_of_work_and_autosave_end_transactions():
    found = [f"{_rel(p)}:{n}" for p in SOURCES for n, line in enumerate(p.read_text().splitlines(), 1)
             if re.search(r"session(\(\))?\.(commit|rollback)\(\)", line) and _rel(p) not in COMMITTERS]
    assert found == []


def test_no_bottom_of_file_imports():
    assert [_rel(p) for p in SOURCES if "noqa: E402" in p.read_text()] == []


def _inner_imports():
    """(path, function, import nodes) for each function with imports in its body, create_app's
    (which keeps the package root light) left out."""
    for path in SOURCES:
        for func in ast.walk(ast.parse(path.read_text())):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if _rel(path) == "__init__.py" and func.name == "create_app":
                continue
            imports = [n for n in ast.walk(func) if isinstance(n, ast.Import | ast.ImportFrom)]
            if imports:
                yield path, func, imports


def test_imports_inside_functions_are_only_the_documented_ones():
    offenders = []
    for path, _func, imports in _inner_imports():
        lines = path.read_text().splitlines()
        for node in imports:
            root = (node.module if isinstance(node, ast.ImportFrom) else node.names[0].name) or ""
            if root.split(".")[0] not in HEAVY:
                offenders.append(f"{_rel(path)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert offenders == []


def test_heavy_imports_inside_functions_say_why():
    unexplained = []
    for path, func, imports in _inner_imports():
        lines = path.read_text().splitlines()
        window = "\n".join(lines[min(n.lineno for n in imports) - 2:max(n.lineno for n in imports)])
        if "heavy" not in window.lower():
            unexplained.append(f"{_rel(path)}:{func.name}")
    assert unexplained == []


def _module_imports() -> dict[str, set[str]]:
    """Each examsys module's examsys imports at import time (module level, not TYPE_CHECKING)."""
    modules = {_module(p): p for p in SOURCES}

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()

        def visit(body):
            for node in body:
                if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
                    continue
                if isinstance(node, ast.Import):
                    deps.update(resolve(a.name) for a in node.names if a.name.startswith("examsys"))
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith(
                        "examsys"):
                    for alias in node.names:
                        full = f"{node.module}.{alias.name}"
                        deps.add(full if full in modules else resolve(node.module))
                elif isinstance(node, ast.If | ast.Try):
                    visit(node.body)
                    visit(node.orelse)

        visit(ast.parse(path.read_text()).body)
        graph[name] = {d for d in deps if d and d != name and not name.startswith(d + ".")}
    return graph


def test_no_import_circles():
    graph = _module_imports()
    cycles, index, low, stack, on_stack = [], {}, {}, [], set()

    def connect(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
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
                cycles.append(sorted(component))

    for v in list(graph):
        if v not in index:
            connect(v)
    assert cycles == []


def test_the_api_uses_only_delivery_service_surfaces():
    graph = _module_imports()
    surfaces = {"examsys.delivery.batches.services", "examsys.delivery.exam.services",
                "examsys.delivery.scoring.services"}
    used = {dep for mod, deps in graph.items() if mod.startswith("examsys.api")
            for dep in deps if dep.startswith("examsys.delivery")}
    assert used and used <= surfaces


@pytest.mark.parametrize("pattern", [r"RELIABILITY \d", r"\b[Ii]ssue \d", r"DESIGN\.md"])
def test_comments_state_rules_instead_of_citing_outside_documents(pattern):
    assert [f"{_rel(p)}:{n}" for p in SOURCES for n, line in enumerate(p.read_text().splitlines(), 1)
            if re.search(pattern, line)] == []


def test_domain_modules_stay_readable():
    """A file past ~400 lines is split into a sub-package (demo data files excepted)."""
    long = [f"{_rel(p)} ({n})" for p in SOURCES if "demo/data" not in _rel(p)
            and (n := len(p.read_text().splitlines())) > 450]
    assert long == []
