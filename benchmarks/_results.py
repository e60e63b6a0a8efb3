"""Where a benchmark writes its numbers: benchmarks/results/<name>_<date>.json, then _2, _3, ... for
later runs the same day (an earlier run is never overwritten)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def results_path(name: str) -> Path:
    """A new file for this run of benchmark ``name``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    day = f"{dt.date.today():%Y-%m-%d}"
    path, k = RESULTS / f"{name}_{day}.json", 2
    while path.exists():
        path, k = RESULTS / f"{name}_{day}_{k}.json", k + 1
    return path
