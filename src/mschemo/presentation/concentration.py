"""The drug level where its peaks are: the PK re-solved at extra times around each dose, for a figure.

A result's output grid (daily by default) misses the short peak after an infusion and meets each dose
at a different time after it, so equal doses can show peaks many-fold apart. The concentration panel
therefore solves the model's PK block alone (linear, exact in the compiled backend: milliseconds) at
the output times plus times close after each dose: through the infusion, then from a minute to three
days after its end. The result and its tables are not changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from ..errors import MschemoError

if TYPE_CHECKING:  # pragma: no cover
    from ..regimen import Dose
    from ..results import SimulationResult

__all__ = ["peak_times", "concentration_near_doses", "MAX_PATIENTS"]

#: larger results keep their own output grid for the concentration (the extra solve would hold
#: patients x times values in memory)
MAX_PATIENTS = 10_000
#: at most this many distinct dose times get extra points (beyond: the output grid)
_MAX_DOSE_TIMES = 500
#: times after the end of an infusion (days): 1 minute to 3 days, evenly on a log scale
_AFTER_END_D = np.geomspace(1.0 / 1440.0, 3.0, 18)


def peak_times(doses: Iterable[Dose], start_d: float, end_d: float) -> np.ndarray:
    """Times (days) that resolve each dose's peak: its start (after any lag), five points through
    the infusion, and :data:`_AFTER_END_D` after its end; only those within ``start_d``-``end_d``."""
    out = []
    for dose in doses:
        lag = float(dose.lag_d or 0.0)
        duration = float(dose.duration_d or 0.0)
        within = duration * np.linspace(0.0, 1.0, 5) if duration > 0 else np.zeros(1)
        offsets = lag + np.concatenate([within, duration + _AFTER_END_D])
        out.append((dose.times_d()[:, None] + offsets[None, :]).ravel())
    t = np.unique(np.concatenate(out)) if out else np.empty(0)
    return t[(t >= start_d) & (t <= end_d)]


def _doses(result: SimulationResult) -> list[Dose]:
    """The regimen's doses, or the distinct doses of an event table's patients."""
    from ..regimen import Regimen

    if isinstance(result.regimen, Regimen):
        return list(result.regimen.doses)
    seen: dict[tuple, Dose] = {}
    for pid in result.ids:
        for d in result.regimen.for_id(pid).doses:
            seen.setdefault((d.time_d, d.duration_d, d.lag_d, d.ii_d, d.addl), d)
    return list(seen.values())


def concentration_near_doses(result: SimulationResult, column: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(times, values[patient, time]) of ``column`` (a concentration) at the output times plus
    :func:`peak_times`. None when the times add nothing, the result is too large
    (:data:`MAX_PATIENTS`) or the PK cannot be solved again (the caller then draws the output grid)."""
    from ..backends import Compiled
    from ..backends.problem import build_problem
    from ..models import chain
    from ..population import Population

    if result.n_patients > MAX_PATIENTS:
        return None
    t_out = np.asarray(result.times_d, dtype=float)
    try:
        doses = _doses(result)
        extra = peak_times(doses, float(t_out[0]), float(t_out[-1]))
        if extra.size == 0 or extra.size > _MAX_DOSE_TIMES * (5 + _AFTER_END_D.size):
            return None
        times = np.union1d(t_out, extra)
        pk = chain(result.model.pk, parameter_set=result.model.parameter_set)
        patients = Population(result.patients)
        sol = Compiled().solve(build_problem(pk, result.regimen, patients, times))
    except MschemoError:
        return None
    if column not in sol.columns or np.any(sol.status != 0):
        return None
    return times, sol.values[:, :, sol.columns.index(column)]
