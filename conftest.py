"""Doctests of src/mschemo (``--doctest-modules`` in pyproject.toml), collected beside tests/.

- A module's doctests run against the mschemo this session imports (installed or editable): the
  module is imported by its dotted name, not from its path, so a non-editable install (as CI and
  the README's test command make) does not clash with the copy in src/.
- Only modules with a ``>>>`` example are imported; one whose top-level imports need an optional
  extra that is not installed (jax, fastapi, ...) is skipped with a reason. So collecting the
  doctests imports none of the optional heavy packages.
- Examples listed under ``doctest_skip`` in pyproject.toml are skipped with their reason (known
  failures in files that other work is changing).
- .py files outside src/mschemo (tests/, benchmarks/) are not searched for doctests.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest
from _pytest.doctest import DoctestModule

SRC = Path(__file__).resolve().parent / "src"
PACKAGE = SRC / "mschemo"
#: top-level packages of the optional extras (pyproject.toml [project.optional-dependencies])
OPTIONAL = {"jax": "jax", "jaxlib": "jax", "fastapi": "web", "starlette": "web", "uvicorn": "web", "plotly": "web",
            "dask": "dask", "distributed": "dask", "playwright": "dev", "schemathesis": "dev"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("doctest_skip", type="linelist", default=[],
                  help="doctests to skip, one per line: 'DOTTED.NAME: reason' (the name pytest shows after '::')")


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _missing_extra(path: Path) -> str:
    """'the web extra (fastapi)' if a top-level import of the module needs a package that is not installed."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
        for name in names:
            top = name.split(".")[0]
            if top in OPTIONAL and importlib.util.find_spec(top) is None:
                return f"the {OPTIONAL[top]} extra ({top})"
    return ""


class InstalledDoctestModule(DoctestModule):
    """The doctests of one module of src/mschemo, imported by name from the mschemo in use."""

    def _getobj(self):
        path = self.path.resolve()
        missing = _missing_extra(path)
        if missing:
            pytest.skip(f"{_dotted(path)} needs {missing}, which is not installed")
        return importlib.import_module(_dotted(path))


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    collected = yield
    if not any(isinstance(c, DoctestModule) for c in collected or []):
        return collected
    others = [c for c in collected if not isinstance(c, DoctestModule)]
    if PACKAGE not in file_path.resolve().parents or ">>>" not in file_path.read_text(encoding="utf-8"):
        return others
    return [*others, InstalledDoctestModule.from_parent(parent, path=file_path)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skips = {}
    for line in config.getini("doctest_skip"):
        name, _, reason = line.partition(":")
        skips[name.strip()] = reason.strip() or "listed under doctest_skip in pyproject.toml"
    for item in items:
        if isinstance(item.parent, DoctestModule) and item.name in skips:
            item.add_marker(pytest.mark.skip(reason=f"doctest_skip: {skips[item.name]}"))
