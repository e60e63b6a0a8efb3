"""The course of each relapse: EDSS rise, time to recovery and residual EDSS (AFFIRM placebo, CombiRx).

rise      0 (P_RISE_ZERO), 0.5 (P_RISE_HALF), else 1.0 + 0.5 x Geometric with mean RISE_MEAN_FROM_ONE
residual  0, or with P_RESIDUAL (given a rise) 0.5 + 0.5 x Geometric with mean RESIDUAL_MEAN_FROM_HALF,
          never above the rise
recovery  log-normal, median RECOVERY_MEDIAN days, sdlog RECOVERY_SDLOG

Each relapse draws from its patient's own stream (the course stream), in relapse order, so a seeded
run does not depend on chunking. Parameters: params/ms_relapses.toml.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._internal.rng import patient_rng
from ..params import load_parameters

__all__ = ["relapse_courses", "COURSE_STREAM"]

COURSE_STREAM = 3


def _half_steps(rng: np.random.Generator, mean_steps: float) -> int:
    """Geometric number of extra 0.5 steps (0, 1, 2, ...) with the given mean."""
    if mean_steps <= 0:
        return 0
    return int(rng.geometric(1.0 / (1.0 + mean_steps))) - 1


def relapse_courses(relapses: pd.DataFrame, population, seed: int, *, start: int = 0) -> pd.DataFrame:
    """Add edss_rise, recovery_d and edss_residual to a relapse table (id, relapse, day) of
    ``population`` (patients start..start+n-1 of the run)."""
    ps = load_parameters("ms-relapses")
    p0, p_half = ps["P_RISE_ZERO"].value, ps["P_RISE_HALF"].value
    rise_extra = (ps["RISE_MEAN_FROM_ONE"].value - 1.0) / 0.5
    p_res = ps["P_RESIDUAL"].value
    res_extra = (ps["RESIDUAL_MEAN_FROM_HALF"].value - 0.5) / 0.5
    median, sdlog = ps["RECOVERY_MEDIAN"].value, ps["RECOVERY_SDLOG"].value
    position = {pid: k for k, pid in enumerate(population.ids)}
    out = relapses.copy()
    rise = np.zeros(len(out))
    residual = np.zeros(len(out))
    recovery = np.zeros(len(out))
    for pid, rows in out.groupby("id", sort=False).groups.items():
        rng = patient_rng(seed, start + position[pid], COURSE_STREAM)
        for j in sorted(rows, key=lambda r: out.at[r, "relapse"]):
            u = rng.random()
            r = 0.0 if u < p0 else 0.5 if u < p0 + p_half else 1.0 + 0.5 * _half_steps(rng, rise_extra)
            rec = float(median * np.exp(sdlog * rng.standard_normal()))
            res = 0.0
            if r > 0 and rng.random() < p_res:
                res = min(r, 0.5 + 0.5 * _half_steps(rng, res_extra))
            rise[out.index.get_loc(j)] = r
            residual[out.index.get_loc(j)] = res
            recovery[out.index.get_loc(j)] = rec
    out["edss_rise"] = rise
    out["recovery_d"] = recovery
    out["edss_residual"] = residual
    return out
