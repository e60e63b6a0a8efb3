"""In-silico trials: a spec file to arms, visits, outcomes, statistics and a report, at any scale."""

from __future__ import annotations

from pathlib import Path

from .schema import PATIENT_COLUMNS, VISIT_COLUMNS
from .spec import Arm, Criterion, TrialSpec, TrialSpecError, Visits
from .trial import TrialResult, run_trial

__all__ = ["TrialSpec", "Arm", "Criterion", "Visits", "TrialSpecError", "TrialResult", "run_trial",
           "example_trials", "load_trial_example", "PATIENT_COLUMNS", "VISIT_COLUMNS"]

EXAMPLES_DIR = Path(__file__).parent / "examples"


def example_trials() -> list[str]:
    """Names of the built-in example trials."""
    return sorted(p.stem for p in EXAMPLES_DIR.glob("*.toml"))


def load_trial_example(name: str) -> TrialSpec:
    """A built-in example trial spec by name (see example_trials()); only those names are read, never
    a path (``../my_trial`` is not an example)."""
    names = example_trials()
    if name not in names:
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise TrialSpecError(f"there is no example trial named '{shown}'; use one of {', '.join(names)}.")
    return TrialSpec.from_file(EXAMPLES_DIR / f"{name}.toml")
