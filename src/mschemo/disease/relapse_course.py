"""The course of each relapse: EDSS rise, time to recovery and residual EDSS (AFFIRM placebo, CombiRx).

rise      0 (P_RISE_ZERO), 0.5 (P_RISE_HALF), else 1.0 + 0.5 x Geometric with mean RISE_MEAN_FROM_ONE
residual  0, or with P_RESIDUAL (given a rise) 0.5 + 0.5 x Geometric with mean RESIDUAL_MEAN_FROM_HALF,
          never above the rise
recovery  log-normal, median RECOVERY_MEDIAN days, sdlog RECOVERY_SDLOG; with corticosteroids the
          time is scaled so that the odds of recovery by 5 weeks rise by 1/STEROID_OR_NOT_IMPROVED
          (the residual is unchanged: no effect on long-term disability was shown)

Each relapse draws from its patient's own stream (the course stream), in relapse order, so a seeded
run does not depend on chunking. Parameters: params/ms_relapses.toml.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import norm

from .._internal.rng import patient_rng
from ..params import load_parameters

__all__ = ["relapse_courses", "steroid_recovery_factor", "COURSE_STREAM"]

COURSE_STREAM = 3


def _half_steps(rng: np.random.Generator, mean_steps: float) -> int:
    """Geometric number of extra 0.5 steps (0, 1, 2, ...) with the given mean."""
    if mean_steps <= 0:
        return 0
    return int(rng.geometric(1.0 / (1.0 + mean_steps))) - 1


def steroid_recovery_factor(median_d: float, sdlog: float, odds_ratio: float, by_d: float = 35.0) -> float:
    """Factor on recovery times that multiplies the odds of recovery by ``by_d`` by 1/odds_ratio
    under a log-normal recovery time."""
    p = norm.cdf(math.log(by_d / median_d) / sdlog)
    odds = p / (1.0 - p) / odds_ratio
    p_new = odds / (1.0 + odds)
    return by_d / math.exp(norm.ppf(p_new) * sdlog) / median_d


def relapse_courses(relapses: pd.DataFrame, population, seed: int, *, start: int = 0,
                    steroids: bool = False) -> pd.DataFrame:
    """Add edss_rise, recovery_d and edss_residual to a relapse table (id, relapse, day) of
    ``population`` (patients start..start+n-1 of the run). ``steroids``: every relapse is treated
    with corticosteroids (faster recovery, same residual); the same draws are used either way."""
    ps = load_parameters("ms-relapses")
    p0, p_half = ps["P_RISE_ZERO"].value, ps["P_RISE_HALF"].value
    rise_extra = (ps["RISE_MEAN_FROM_ONE"].value - 1.0) / 0.5
    p_res = ps["P_RESIDUAL"].value
    res_extra = (ps["RESIDUAL_MEAN_FROM_HALF"].value - 0.5) / 0.5
    median, sdlog = ps["RECOVERY_MEDIAN"].value, ps["RECOVERY_SDLOG"].value
    speed = steroid_recovery_factor(median, sdlog, ps["STEROID_OR_NOT_IMPROVED"].value) if steroids else 1.0
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
            rec = float(speed * median * np.exp(sdlog * rng.standard_normal()))
            res = 0.0
            if r > 0 and rng.random() < p_res:
                res = min(r, 0.5 + 0.5 * _half_steps(rng, res_extra))
            rise[out.index.get_loc(j)] = r
            residual[out.index.get_loc(j)] = res
            recovery[out.index.get_loc(j)] = rec
    out["edss_rise"] = rise
    out["recovery_d"] = recovery
    out["edss_residual"] = residual
    out["steroids"] = bool(steroids)
    return out
