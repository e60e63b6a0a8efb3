"""The layers of the package hold: the import contracts of pyproject.toml (import-linter) and the
import graph's own checks (no cycle, nothing below the interfaces imports the package root, no
private helper used from another package)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_graph_has_no_cycle_no_import_back_up_and_no_private_helper_shared():
    res = subprocess.run([sys.executable, str(ROOT / ".ci" / "import_graph.py"), "--check"], capture_output=True,
                         text=True, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "cycles: 0" in res.stdout and "imports that run back up: 0" in res.stdout


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter is not installed (the dev extra)")
def test_import_contracts_are_kept():
    res = subprocess.run(["lint-imports", "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout
