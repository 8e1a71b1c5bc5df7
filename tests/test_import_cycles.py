"""No import cycle inside learnnet: every module can be read, tested and moved on its own.

The import graph is built from the source files with ``ast`` (nothing is imported): an
edge for every ``import``/``from … import`` of a learnnet module, at module level and
inside functions alike (a function-level import is a cycle put off, not avoided); only
imports under ``if TYPE_CHECKING:`` are left out, since they never run. ``from pkg import
name`` points at the submodule ``pkg.name`` when there is one, else at ``pkg`` itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import learnnet

ROOT = Path(learnnet.__file__).resolve().parent

#: Cycles that exist today and are accepted for now, each the set of its modules. This list
#: may only shrink: a cycle that is gone must be taken off (the last test says so), and a new
#: one, or one that grows a module, fails the first test.
#: Empty since every room makes its ``bp`` in ``<room>/blueprint.py`` (issue 25).
ALLOWED: set[frozenset[str]] = set()


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of a tree, except those under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _runtime_imports(ast.Module(body=node.orelse, type_ignores=[]))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _runtime_imports(node)


def import_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the learnnet modules it imports."""

    def known(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative: from the package, one level up per extra dot
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                    for alias in node.names
                ]
            for target in targets:
                module = known(target)
                if module is not None and module != name:
                    graph[name].add(module)
    return graph


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.add(frozenset(component))
    return found


def _describe(component: frozenset[str], graph: dict[str, set[str]]) -> str:
    return "; ".join(
        f"{m} imports {', '.join(sorted(graph[m] & component))}" for m in sorted(component)
    )


def test_no_new_import_cycle_inside_learnnet() -> None:
    graph = import_graph(module_files())
    new = cycles(graph) - ALLOWED
    assert not new, "import cycles: " + " | ".join(_describe(c, graph) for c in new)


def test_the_allow_list_only_names_cycles_that_still_exist() -> None:
    gone = ALLOWED - cycles(import_graph(module_files()))
    assert not gone, (
        f"take these off ALLOWED, they are no cycle any more: {sorted(map(sorted, gone))}"
    )


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The checker itself: a cycle through a function-level, relative or ``from pkg import
    module`` import is found; a TYPE_CHECKING import is none; an acyclic tree has none."""
    pkg = tmp_path / "learnnet"
    (pkg / "room").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "room" / "__init__.py").write_text("")
    (pkg / "room" / "a.py").write_text("from learnnet.room import b\n")
    (pkg / "room" / "b.py").write_text("def f():\n    from . import c\n")
    (pkg / "room" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from learnnet.room import d\n"
    )
    (pkg / "room" / "d.py").write_text("import learnnet.room.c\n")
    graph = import_graph(module_files(pkg))
    assert graph["learnnet.room.a"] == {"learnnet.room.b"}
    assert graph["learnnet.room.b"] == {"learnnet.room.c"}
    assert cycles(graph) == set()
    (pkg / "room" / "c.py").write_text("def g():\n    from learnnet.room.a import x\n")
    assert cycles(import_graph(module_files(pkg))) == {
        frozenset({"learnnet.room.a", "learnnet.room.b", "learnnet.room.c"})
    }
