"""Measure mschemo's import graph: floors, imports that run back up, cycles, largest files.

    python .ci/import_graph.py [--edges]

Every import counts, at module level or inside a function (a lazy import is still a dependency), except
those under ``if TYPE_CHECKING:``. ``from .pkg import name`` counts as an import of the submodule that
defines ``name`` when the package re-exports it, so re-exports make no false cycles.

- floors: modules on the longest chain of imports (cycles collapsed to one module);
- back up: imports of the package root from below the interfaces (the interfaces reach the library
  through its public API, the root, by design: counted apart), or of a package's own ``__init__``
  from inside that package;
- cycles: groups of modules that import each other, directly or through others.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "mschemo"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            stack.append(child)


def _resolve_base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def build_graph() -> tuple[dict[str, set[str]], dict[str, Path]]:
    files = {module_name(p): p for p in ROOT.joinpath(PACKAGE).rglob("*.py")}
    packages = {m for m, p in files.items() if p.name == "__init__.py"}
    trees = {m: ast.parse(p.read_text(), str(p)) for m, p in files.items()}

    reexports: dict[str, dict[str, str]] = {}       # package -> name -> submodule defining it
    for pkg in packages:
        table = {}
        for node in trees[pkg].body:
            if isinstance(node, ast.ImportFrom):
                base = _resolve_base(pkg, True, node)
                if base in files and base != pkg:
                    for alias in node.names:
                        table[alias.asname or alias.name] = base
        reexports[pkg] = table

    def target(base: str, name: str | None) -> str | None:
        if name is not None and f"{base}.{name}" in files:
            return f"{base}.{name}"
        if base in packages and name is not None and name in reexports[base]:
            return reexports[base][name]
        return base if base in files else None

    edges: dict[str, set[str]] = {m: set() for m in files}
    for module, tree in trees.items():
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == PACKAGE and alias.name in files:
                        edges[module].add(alias.name)
                continue
            base = _resolve_base(module, module in packages, node)
            if base.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                t = target(base, alias.name)
                if t is not None and t != module:
                    edges[module].add(t)
    return edges, files


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            groups.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return groups


def measure(edges: dict[str, set[str]], files: dict[str, Path]) -> dict:
    groups = strongly_connected(edges)
    group_of = {m: i for i, g in enumerate(groups) for m in g}
    floor: dict[int, int] = {}
    for i, group in enumerate(groups):          # Tarjan emits groups after those they import
        below = [floor[group_of[t]] for m in group for t in edges[m] if group_of[t] != i]
        floor[i] = 1 + max(below, default=0)
    top = f"{PACKAGE}.interfaces"
    back_up = sorted(
        (m, t) for m, ts in edges.items() for t in ts
        if (t == PACKAGE and m != PACKAGE and not m.startswith(top)) or (
            files[t].name == "__init__.py" and m.startswith(t + ".") and t != PACKAGE))
    public = sorted((m, t) for m, ts in edges.items() for t in ts if t == PACKAGE and m.startswith(top))
    chain, here = [], max(range(len(groups)), key=lambda i: floor[i])
    while True:
        chain.append(groups[here][0])
        below = [(floor[group_of[t]], group_of[t]) for m in groups[here] for t in edges[m] if group_of[t] != here]
        if not below:
            break
        here = max(below)[1]
    sizes = sorted(((len(p.read_text().splitlines()), m) for m, p in files.items()), reverse=True)
    return {"modules": len(files), "floors": max(floor.values()), "chain": chain, "public": public,
            "back_up": back_up, "cycles": [g for g in groups if len(g) > 1], "largest": sizes[:5]}


def private_imports() -> list[str]:
    """``from X import _name`` or ``import X._mod`` where X is another package's module: a helper
    kept private to its package (``mschemo._internal`` is the shared private kit and may be used)."""
    found = []
    packages = {module_name(p) for p in ROOT.joinpath(PACKAGE).rglob("__init__.py")}
    for path in ROOT.joinpath(PACKAGE).rglob("*.py"):
        module = module_name(path)
        is_pkg = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = _resolve_base(module, is_pkg, node)
            if not base.startswith(PACKAGE) or base.startswith(f"{PACKAGE}._internal"):
                continue
            parts = base.split(".")
            names = [a.name for a in node.names]
            first = next((k for k, part in enumerate(parts) if part.startswith("_")), None)
            if first is not None:                       # a private module: its owner is the package above it
                owner = ".".join(parts[:first])
            elif any(n.startswith("_") and not n.startswith("__") for n in names):
                owner = base if base in packages else base.rsplit(".", 1)[0]   # a private name of a module
            elif any(n in ("__version__",) for n in names) and base == PACKAGE:
                owner = PACKAGE + "._internal"          # the root's metadata: read it from _internal.meta
            else:
                continue
            if not (module == owner or module.startswith(owner + ".")):
                found.append(f"{module}: from {base} import {', '.join(names)}")
    return sorted(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", action="store_true", help="print every import edge")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if there is a cycle, an import back up, or a private name imported from "
                             "another package")
    args = parser.parse_args()
    edges, files = build_graph()
    if args.edges:
        for m in sorted(edges):
            for t in sorted(edges[m]):
                print(f"{m} -> {t}")
    r = measure(edges, files)
    print(f"modules: {r['modules']}")
    print(f"floors: {r['floors']} ({' -> '.join(m.removeprefix(PACKAGE + '.') for m in r['chain'])})")
    print(f"imports that run back up: {len(r['back_up'])}")
    for m, t in r["back_up"]:
        print(f"  {m} -> {t}")
    print(f"interface modules that reach the library through the public API (the package root): {len(r['public'])}")
    print(f"cycles: {len(r['cycles'])}")
    for g in r["cycles"]:
        print("  " + " <-> ".join(g))
    print("largest files: " + ", ".join(f"{m} {n}" for n, m in r["largest"]))
    private = private_imports()
    print(f"private names imported from another package: {len(private)}")
    for line in private:
        print(f"  {line}")
    if args.check and (r["cycles"] or r["back_up"] or private):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
