"""The package's shape: no import cycles among labflow's modules, sizes kept in view.

Cycles are counted among imports that run when a module is imported: module-level
``import``/``from ... import`` statements. Imports under ``if TYPE_CHECKING:`` (for
annotations only) and inside functions (deferred on purpose) are left out: they cannot
make importing fail, and the design tolerates them where a signature names a type.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parent.parent / "src"
PACKAGE = SRC / "labflow"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path) -> set[str]:
    """The labflow modules ``name`` imports when it is imported."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    nodes = list(tree.body)
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.If) and not _type_checking(node):
            nodes.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            nodes.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                nodes.extend(handler.body)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("labflow"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            if not base.startswith("labflow"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    found.discard(name)
    return {m for m in found if m in MODULES}


def _cycles() -> list[list[str]]:
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_no_import_cycles_among_labflow_modules() -> None:
    """A module never imports, at import time, one that imports it back."""
    assert _cycles() == []


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path) -> None:
    """The check itself can fail: two modules importing each other are reported."""
    global MODULES
    saved = MODULES
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("from labflow.b import x\n")
    b.write_text("import labflow.a\n")
    MODULES = {"labflow.a": a, "labflow.b": b}
    try:
        assert _cycles() == [["labflow.a", "labflow.b", "labflow.a"]]
    finally:
        MODULES = saved
