"""Collecting the doctests of src/mschemo (conftest.py at the root) imports no optional heavy package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from clitools import subprocess_env

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("jax", "fastapi", "starlette", "uvicorn", "plotly", "dask", "distributed", "playwright", "schemathesis")

_COLLECT = f"""
import sys, pytest

class Imports:
    # the heavy modules imported by the collection itself (pytest's own plugins load before it)
    def pytest_collection(self, session):
        self.before = set(sys.modules)
    def pytest_collection_finish(self, session):
        self.new = sorted(m for m in {HEAVY!r} if m in sys.modules and m not in self.before)

imports = Imports()
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "src/mschemo"], plugins=[imports])
print("heavy:", imports.new)
sys.exit(code)
"""


def test_collecting_doctests_imports_no_optional_extra() -> None:
    if not (REPO / "src" / "mschemo").is_dir() or not (REPO / "conftest.py").is_file():
        pytest.skip("src/mschemo is not beside the tests (installed package)")
    proc = subprocess.run([sys.executable, "-c", _COLLECT], cwd=REPO, env=subprocess_env(), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "heavy: []" in proc.stdout, proc.stdout[-3000:]
    assert "doctest" in proc.stdout.lower() or "::mschemo." in proc.stdout
