"""Relapses as a point process with a patient-specific rate (gamma frailty, negative-binomial counts).

Each patient has a frailty Z ~ Gamma(1/k, k) (mean 1, variance k), so the count of relapses over a
window is negative binomial with variance mu + k*mu^2. The rate falls with disease duration, is
higher in women, and can be multiplied by a time course ``m(t)`` (treatment or lymphocyte effects):

    rate(t) = ARR_REF * Z * sex * exp(DURATION_SLOPE * (duration + t - REF_DURATION)) * m(t)

For depleting drugs m(t) = (ALC(t)/ALC(0))^ALC_LINK_EXPONENT (:func:`lymphocyte_multiplier`): the rate
follows the patient's lymphocytes relative to their own baseline.

Relapse days are drawn by inverting the cumulative rate against unit exponential gaps. Patient i
draws from its own stream (root seed, child i, the disease stream), so results do not depend on
chunking. Parameters: ``params/ms_relapses.toml`` (sources there).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._internal.rng import patient_indices, patient_rng
from ..errors import PopulationError
from ..params import ParameterSet, load_parameters

__all__ = ["RelapseModel", "simulate_relapses", "lymphocyte_multiplier", "DISEASE_STREAM"]

DISEASE_STREAM = 2          # the random stream of the disease model (0: population draws)


@dataclass(frozen=True)
class RelapseModel:
    """Relapse-rate equation (internal units: per day, days)."""

    arr_ref: float             # 1/d
    frailty_k: float
    duration_slope: float      # 1/d (log-rate per day of disease duration)
    ref_duration: float        # d
    female_rr: float
    female_share_ref: float
    alc_link_exponent: float = 0.0
    dmt_rate_ratios: Mapping[str, float] | None = None   # lower-case DMT name -> rate ratio vs placebo
    ppms_factor: float = 1.0
    season_amplitude: float = 0.0
    season_peak_day: float = 0.0
    parameter_set: ParameterSet | None = None

    @classmethod
    def load(cls, name: str = "ms-relapses") -> RelapseModel:
        ps = load_parameters(name)
        v = {p: ps[p].value for p in ("ARR_REF", "FRAILTY_K", "DURATION_SLOPE", "REF_DURATION", "FEMALE_RR",
                                      "FEMALE_SHARE_REF", "ALC_LINK_EXPONENT")}
        dmts = {k[len("DMT_RR_"):].lower(): ps[k].value for k in ps.parameters if k.startswith("DMT_RR_")}
        return cls(v["ARR_REF"], v["FRAILTY_K"], v["DURATION_SLOPE"], v["REF_DURATION"], v["FEMALE_RR"],
                   v["FEMALE_SHARE_REF"], v["ALC_LINK_EXPONENT"], dmts, ps["PPMS_RELAPSE_FACTOR"].value,
                   ps["SEASON_AMPLITUDE"].value, ps["SEASON_PEAK_DAY"].value, ps)

    def season(self, day_of_year: np.ndarray) -> np.ndarray:
        """Seasonal rate factor at the given days of the year (1 January = 0)."""
        return 1.0 + self.season_amplitude * np.cos(2.0 * np.pi * (np.asarray(day_of_year) - self.season_peak_day) / 365.25)

    def dmt_factor(self, dmt: np.ndarray) -> np.ndarray:
        """Rate ratio of each patient's disease-modifying therapy ("none" or empty: 1)."""
        table = dict(self.dmt_rate_ratios or {})
        out = np.ones(len(dmt))
        for i, name in enumerate(dmt):
            key = str(name).strip().lower().replace(" ", "_").replace("-", "_")
            if key in ("", "none", "nan", "placebo"):
                continue
            if key not in table:
                raise PopulationError(f"dmt '{name}' has no relapse-rate ratio; use one of none, {', '.join(sorted(table))}.")
            out[i] = table[key]
        return out

    def sex_factor(self, sex: np.ndarray) -> np.ndarray:
        """Rate factor of each patient's sex ("F"/"M"), normalised to the reference cohort's mix."""
        female = np.array([str(s).upper().startswith("F") for s in sex])
        norm = self.female_share_ref * self.female_rr + 1.0 - self.female_share_ref
        return np.where(female, self.female_rr, 1.0) / norm

    def base_rate(self, sex: np.ndarray, duration_d: np.ndarray) -> np.ndarray:
        """Rate (1/d) at the start (t = 0) without frailty, per patient."""
        return self.arr_ref * self.sex_factor(sex) * np.exp(self.duration_slope * (duration_d - self.ref_duration))


def _patient_columns(population) -> tuple[np.ndarray, np.ndarray]:
    t = population.table
    sex = t["sex"].to_numpy() if "sex" in t.columns else np.full(len(t), "F")
    if "ms_duration_y" in t.columns:
        dur = t["ms_duration_y"].to_numpy(dtype=float) * 365.25
        if np.any(~np.isfinite(dur)) or np.any(dur < 0):
            raise PopulationError("column ms_duration_y has a missing or negative value; give the years since MS onset (>= 0).")
    else:
        dur = None
    return sex, dur


def simulate_relapses(population, until_d: float, seed: int, *, model: RelapseModel | None = None,
                      multiplier: Mapping | None = None, start: int | np.ndarray = 0,
                      season_start: float | None = None) -> pd.DataFrame:
    """Relapse days of each patient over [0, until_d].

    population: a Population; uses ``sex`` ("F"/"M", women if absent), ``ms_duration_y`` (years
        since onset; the model's reference duration if absent) and ``dmt`` (a disease-modifying
        therapy by name, e.g. "natalizumab", or "none"; its rate ratio multiplies the rate).
    multiplier: optional {"times_d": (T,), "values": (n, T)} rate factors m_i(t), piecewise linear
        between the times (e.g. a lymphocyte link); 1 without it.
    start: index of the first patient in the whole run (a chunk of patients start..start+n-1 draws
        exactly what the whole run draws for them); or an array of each patient's run-wide index.
    season_start: day of the year (1 January = 0) of day 0; with it the rate follows the yearly
        cycle (SEASON_AMPLITUDE, peak SEASON_PEAK_DAY); without it there is no season.
    Patients with ``ms_course`` PPMS relapse at PPMS_RELAPSE_FACTOR times the relapsing rate.
    Returns a table id, relapse (1, 2, ...), day; patients without relapses have no rows.
    """
    model = model or RelapseModel.load()
    sex, dur = _patient_columns(population)
    n = len(population)
    if dur is None:
        dur = np.full(n, model.ref_duration)
    base = model.base_rate(sex, dur)
    if "dmt" in population.table.columns:
        base = base * model.dmt_factor(population.table["dmt"].to_numpy())
    if "ms_course" in population.table.columns:
        ppms = np.array([str(c).strip().upper() == "PPMS" for c in population.table["ms_course"]])
        base = np.where(ppms, base * model.ppms_factor, base)
    s = model.duration_slope
    ids = population.ids
    grid = vals = None
    if multiplier is not None:
        grid = np.asarray(multiplier["times_d"], dtype=float)
        vals = np.asarray(multiplier["values"], dtype=float)
        if vals.shape != (n, grid.size) or grid[0] > 0 or grid[-1] < until_d:
            raise PopulationError("the relapse-rate multiplier must have one row per patient and cover day 0 to the end.")
    if season_start is not None:
        if grid is None:
            grid = np.linspace(0.0, until_d, max(2, int(math.ceil(until_d / 7.0)) + 1))
            vals = np.ones((1, grid.size))
        vals = vals * model.season(float(season_start) + grid)[None, :]
    rows = []
    idx = patient_indices(n, start)
    k = model.frailty_k
    for i in range(n):
        rng = patient_rng(seed, int(idx[i]), DISEASE_STREAM)
        z = rng.gamma(1.0 / k, k) if k > 0 else 1.0
        lam0 = base[i] * z
        if grid is None:
            # cumulative rate L(t) = lam0 * (exp(s t) - 1) / s, inverted in closed form
            def inverse(target: float, lam0: float = lam0) -> float:
                if abs(s) < 1e-15:
                    return target / lam0
                x = 1.0 + s * target / lam0
                return math.log(x) / s if x > 0 else math.inf
            cum_end = lam0 * (math.expm1(s * until_d) / s if abs(s) > 1e-15 else until_d)
        else:
            rate = lam0 * np.exp(s * grid) * vals[min(i, len(vals) - 1)]
            cum = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(grid))])
            cum_end = float(np.interp(until_d, grid, cum))

            def inverse(target: float, cum=cum) -> float:
                return float(np.interp(target, cum, grid)) if target <= cum[-1] else math.inf
        total = 0.0
        k_rel = 0
        while True:
            total += rng.exponential()
            if total > cum_end or lam0 <= 0:
                break
            k_rel += 1
            rows.append((ids[i], k_rel, inverse(total)))
    return pd.DataFrame(rows, columns=["id", "relapse", "day"])


def lymphocyte_multiplier(result, exponent: float | None = None) -> dict:
    """Rate factors m_i(t) = (ALC_i(t) / ALC_i(0))^exponent from a simulation result with lymphocytes:
    the relapse rate follows the patient's lymphocytes relative to their own baseline (exponent:
    the model's ALC_LINK_EXPONENT by default)."""
    if exponent is None:
        exponent = RelapseModel.load().alc_link_exponent
    alc = result.column("alc")
    ratio = np.clip(alc / alc[:, :1], 1e-6, None)
    return {"times_d": result.times_d, "values": ratio ** exponent}
