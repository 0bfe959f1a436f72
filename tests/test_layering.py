"""The package's arrows run one way (issue 37): no import cycle between modules, and no import
from a lower package up into the stages above it.

Read from the source with ``ast`` (nothing is imported), so it costs well under a second and
runs in CI. ``farm-studio look`` draws the same picture for a person; this keeps it true.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: Packages below the stages: plumbing every stage may use, which must not reach up.
LOWER = ("data", "engines", "llm", "embed", "retrieval", "rewards", "profile", "recsys", "evaluate")
#: The stages and surfaces on top.
UPPER = ("methods", "cli", "serve", "report", "experiment", "qa")


def modules(src: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``src``."""
    out = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path], top_level: bool) -> set[str]:
    """Modules of ``known`` that ``name`` imports: anywhere, or only in its module body
    (imports inside functions and ``if TYPE_CHECKING:`` blocks run later or never)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = tree.body if top_level else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([module] if module else [])])
            targets = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def module_cycles(src: Path) -> list[list[str]]:
    """Import cycles between modules' bodies; a package's ``__init__`` only hands names on,
    so it is left out (as ``farm-studio`` draws a package's face)."""
    known = modules(src)
    plain = {n: p for n, p in known.items() if p.name != "__init__.py"}
    graph = {n: imports(n, p, known, top_level=True) & set(plain) for n, p in plain.items()}
    return cycles(graph)


def upward(src: Path, root: str = "profilerec") -> list[str]:
    """``lower -> upper`` for every import (anywhere in a module) from LOWER up into UPPER."""
    known = modules(src)
    bad = []
    for name, path in known.items():
        parts = name.split(".")
        if len(parts) < 2 or parts[0] != root or parts[1] not in LOWER:
            continue
        for target in sorted(imports(name, path, known, top_level=False)):
            tparts = target.split(".")
            if len(tparts) > 1 and tparts[1] in UPPER:
                bad.append(f"{name} -> {target}")
    return bad


def test_no_import_cycle_between_modules() -> None:
    assert module_cycles(SRC) == []


def test_no_import_from_a_lower_package_up_into_the_stages() -> None:
    assert upward(SRC) == []


def test_the_checks_see_a_cycle_and_an_upward_import(tmp_path: Path) -> None:
    pkg = tmp_path / "profilerec"
    for folder in ("data", "methods"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "a.py").write_text("from profilerec.data.b import x\n")
    (pkg / "data" / "b.py").write_text("from .a import y\nx = 1\n")
    (pkg / "data" / "c.py").write_text("def f():\n    from profilerec.methods import m\n")
    (pkg / "methods" / "m.py").write_text("")
    assert module_cycles(tmp_path) == [["profilerec.data.a", "profilerec.data.b"]]
    assert upward(tmp_path) == [
        "profilerec.data.c -> profilerec.methods",
        "profilerec.data.c -> profilerec.methods.m",
    ]
