"""The web app's limits and where it binds; each can be set by ``mschemo serve`` or an environment
variable (MSCHEMO_WEB_<NAME>)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

from ..._internal.processes import usable_cores

__all__ = ["WebSettings"]


@dataclass(frozen=True)
class WebSettings:
    """Limits of one server process.

    max_body_bytes: the largest request body (an uploaded patient file or trial spec included), bytes.
    compute_workers: processes for the heavy answers (a new explainer choice, a dose plan; default: one per
        core; 0: in the server's threads).
    trial_workers: trials running at once (default: one per core); trial_queue: trials waiting beyond them.
    trial_max_patients: the most patients one trial request may simulate (all arms).
    simulate_max_patients: the most patients of one simulate request (its answer lists each one).
    trial_keep: finished trials whose files are kept (the oldest are deleted first).
    explain_cache: explainer answers kept in memory (the same choices give the same answer).
    """

    max_body_bytes: int = 1_000_000
    compute_workers: int = field(default_factory=usable_cores)
    trial_workers: int = field(default_factory=usable_cores)
    trial_queue: int = 8
    trial_max_patients: int = 6_000
    simulate_max_patients: int = 2_000
    trial_keep: int = 20
    explain_cache: int = 256

    @classmethod
    def from_env(cls, **given: int | None) -> WebSettings:
        """Defaults, then MSCHEMO_WEB_* variables, then the ``given`` values that are not None."""
        values = {}
        for f in fields(cls):
            env = os.environ.get(f"MSCHEMO_WEB_{f.name.upper()}")
            if env is not None:
                values[f.name] = int(env)
            value = given.get(f.name)
            if value is not None:
                values[f.name] = int(value)
        return cls(**values)
