"""Fixtures for the CLI tests: run ``mschemo`` in this process (fast) or as a real subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest
from clitools import EVENTS_CSV, PATIENTS_CSV, SPEC_TOML, Outcome, run_process

from mschemo.interfaces.cli import run


@pytest.fixture
def cli(capsys):
    """cli(*args) -> Outcome: the CLI run in this process (the numba kernel stays loaded)."""

    def invoke(*args: object) -> Outcome:
        capsys.readouterr()
        code = run([str(a) for a in args])
        out, err = capsys.readouterr()
        return Outcome(code, out, err)

    return invoke


@pytest.fixture
def cli_process():
    """cli_process(*args, cwd=None) -> Outcome: ``python -m mschemo ...`` in a real subprocess."""
    return run_process


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    """Small input files under tmp_path: an event table, a patient table and a population spec."""
    files = {"events": ("doses.csv", EVENTS_CSV), "patients": ("patients.csv", PATIENTS_CSV),
             "spec": ("cohort.toml", SPEC_TOML)}
    out = {}
    for key, (name, text) in files.items():
        (tmp_path / name).write_text(text)
        out[key] = tmp_path / name
    return out
