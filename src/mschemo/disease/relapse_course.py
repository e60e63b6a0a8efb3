"""The course of each relapse: EDSS rise, time to recovery and residual EDSS (AFFIRM placebo, CombiRx).

rise      0 (P_RISE_ZERO), 0.5 (P_RISE_HALF), else 1.0 + 0.5 x Geometric with mean RISE_MEAN_FROM_ONE
residual  0, or with P_RESIDUAL (given a rise) 0.5 + 0.5 x Geometric with mean RESIDUAL_MEAN_FROM_HALF,
          never above the rise
recovery  log-normal, median RECOVERY_MEDIAN days, sdlog RECOVERY_SDLOG; with corticosteroids the
          time is scaled so that the odds of recovery by 5 weeks rise by 1/STEROID_OR_NOT_IMPROVED
          (the residual is unchanged: no effect on long-term disability was shown)
plasma    a severe relapse still unrecovered on corticosteroids at PLEX_DAY gets plasma exchange;
exchange  responders (42 % vs 6 % sham, Weinshenker 1999) have recovered by the end of the course
severity  mild (rise below 1.0), moderate, severe (rise of PLEX_MIN_RISE or more, Hirst 2012);
          confirmed: a rise of CONFIRMED_MIN_RISE or more (an objective change on examination)

Which relapses get corticosteroids is a rule: all, moderate_or_severe, severe or none; a relapse that
starts within PULSE_WINDOW days after a scheduled methylprednisolone pulse recovers as a treated one.

Each relapse draws from its patient's own stream (the course stream), in relapse order, so a seeded
run does not depend on chunking. Parameters: params/ms_relapses.toml.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri  # the normal CDF and its inverse (scipy.stats costs 0.6 s to import)

from .._internal.rng import patient_indices, patient_streams
from ..params import load_parameters

__all__ = ["relapse_courses", "steroid_recovery_factor", "COURSE_STREAM", "STEROID_RULES", "severity_of"]

COURSE_STREAM = 3
STEROID_RULES = ("all", "moderate_or_severe", "severe", "none")
SEVERITIES = ("mild", "moderate", "severe")


def severity_of(rise: np.ndarray, severe_from: float) -> np.ndarray:
    """mild (EDSS rise below 1.0), moderate, or severe (rise of ``severe_from`` or more)."""
    rise = np.asarray(rise, dtype=float)
    return np.where(rise >= severe_from, "severe", np.where(rise >= 1.0, "moderate", "mild")).astype(object)


def _steroid_rule(steroids: bool | str) -> str:
    if isinstance(steroids, (bool, np.bool_)):
        return "all" if steroids else "none"
    if steroids not in STEROID_RULES:
        from ..errors import OptionError
        raise OptionError(f"steroids '{steroids}' is not a rule; use one of {', '.join(STEROID_RULES)}.")
    return str(steroids)


def _half_steps(rng: np.random.Generator, mean_steps: float) -> int:
    """Geometric number of extra 0.5 steps (0, 1, 2, ...) with the given mean."""
    if mean_steps <= 0:
        return 0
    return int(rng.geometric(1.0 / (1.0 + mean_steps))) - 1


def steroid_recovery_factor(median_d: float, sdlog: float, odds_ratio: float, by_d: float = 35.0) -> float:
    """Factor on recovery times that multiplies the odds of recovery by ``by_d`` by 1/odds_ratio
    under a log-normal recovery time."""
    p = float(ndtr(math.log(by_d / median_d) / sdlog))
    odds = p / (1.0 - p) / odds_ratio
    p_new = odds / (1.0 + odds)
    return by_d / math.exp(float(ndtri(p_new)) * sdlog) / median_d


def relapse_courses(relapses: pd.DataFrame, population, seed: int, *, start: int | np.ndarray = 0,
                    steroids: bool | str = False, plasma_exchange: bool = False,
                    pulses: Mapping | None = None, stream: int = COURSE_STREAM) -> pd.DataFrame:
    """Add edss_rise, recovery_d and edss_residual to a relapse table (id, relapse, day) of
    ``population`` (patients start..start+n-1 of the run).

    steroids: which relapses are treated with corticosteroids (faster recovery, same residual): True
        or "all", "moderate_or_severe", "severe", False or "none".
    pulses: {patient id: days of scheduled methylprednisolone pulses}; a relapse starting within
        PULSE_WINDOW days after one recovers as a treated relapse.
    stream: the random stream (COURSE_STREAM; relapses before entry draw from their own).
    plasma_exchange: a severe relapse (rise >= PLEX_MIN_RISE) not recovered by PLEX_DAY gets a
        course of plasma exchange; a responder (PLEX_RESPONSE) has recovered by the course's end,
        with the same residual.
    The same draws are used whatever the treatments, so treated and untreated runs pair relapse by
    relapse."""
    ps = load_parameters("ms-relapses")
    m_ = len(relapses)
    p0, p_half = ps["P_RISE_ZERO"].value, ps["P_RISE_HALF"].value
    rise_extra = (ps["RISE_MEAN_FROM_ONE"].value - 1.0) / 0.5
    p_res = ps["P_RESIDUAL"].value
    res_extra = (ps["RESIDUAL_MEAN_FROM_HALF"].value - 0.5) / 0.5
    median, sdlog = ps["RECOVERY_MEDIAN"].value, ps["RECOVERY_SDLOG"].value
    rule = _steroid_rule(steroids)
    fast = steroid_recovery_factor(median, sdlog, ps["STEROID_OR_NOT_IMPROVED"].value)
    plex_rise, plex_day = ps["PLEX_MIN_RISE"].value, ps["PLEX_DAY"].value
    window = ps["PULSE_WINDOW"].value
    days = relapses["day"].to_numpy(dtype=float) if m_ else np.zeros(0)
    treated_by_pulse = np.zeros(m_, dtype=bool)
    if pulses and m_:
        ids = relapses["id"].to_numpy()
        for j in range(m_):
            p = pulses.get(ids[j])
            if p is not None and len(p):
                gap = days[j] - np.asarray(p, dtype=float)
                treated_by_pulse[j] = bool(np.any((gap >= 0.0) & (gap <= window)))
    plex_end, plex_p = plex_day + ps["PLEX_COURSE"].value, ps["PLEX_RESPONSE"].value
    position = {pid: k for k, pid in enumerate(population.ids)}
    idx = patient_indices(len(population), start)
    m = len(relapses)
    pidx = np.array([position[p] for p in relapses["id"].to_numpy()], dtype=np.int64) if m else np.zeros(0, np.int64)
    order = np.lexsort((relapses["relapse"].to_numpy(), pidx)) if m else np.zeros(0, np.int64)
    rise = np.zeros(m)
    residual = np.zeros(m)
    recovery = np.zeros(m)
    plex = np.zeros(m, dtype=bool)
    treated = np.zeros(m, dtype=bool)
    rng = None
    current = -1
    streams = patient_streams(seed, idx, stream)
    for j in order:
        if pidx[j] != current:
            current = pidx[j]
            rng = streams[int(current)]
        assert rng is not None   # drawn at each patient's first relapse (pidx is never -1)
        u = rng.random()
        r = 0.0 if u < p0 else 0.5 if u < p0 + p_half else 1.0 + 0.5 * _half_steps(rng, rise_extra)
        treated[j] = treated_by_pulse[j] or rule == "all" or (rule == "moderate_or_severe" and r >= 1.0) or (
            rule == "severe" and r >= plex_rise)
        rec = (fast if treated[j] else 1.0) * median * math.exp(sdlog * rng.standard_normal())
        res = 0.0
        if r > 0 and rng.random() < p_res:
            res = min(r, 0.5 + 0.5 * _half_steps(rng, res_extra))
        responds = rng.random() < plex_p
        if plasma_exchange and r >= plex_rise and rec > plex_day:
            plex[j] = True
            if responds:
                rec = min(rec, plex_end)
        rise[j], residual[j], recovery[j] = r, res, rec
    out = relapses.copy()
    out["edss_rise"] = rise
    out["recovery_d"] = recovery
    out["edss_residual"] = residual
    out["steroids"] = treated
    out["plasma_exchange"] = plex
    out["severity"] = severity_of(rise, plex_rise)
    out["confirmed"] = rise >= ps["CONFIRMED_MIN_RISE"].value
    return out
