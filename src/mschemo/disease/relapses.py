"""Relapses as a point process with a patient-specific rate (gamma frailty, negative-binomial counts).

Each patient has a frailty Z ~ Gamma(1/k, k) (mean 1, variance k), so the count of relapses over a
window is negative binomial with variance mu + k*mu^2. The rate falls with disease duration, is
higher in women, follows the era of the cohort and can be multiplied by a time course ``m(t)``
(disease-modifying therapy, the immune memory compartment after chemotherapy):

    rate(t) = ARR(cohort) * Z * sex * exp(DURATION_SLOPE * (duration + t - REF_DURATION)) * m(t)

The cohort's rate, per patient (patient columns, in this order of precedence):

- ``untreated_arr`` (relapses a year): set directly, the cohort's untreated rate at entry;
- ``prior_relapses`` over ``prior_years`` before entry (a patient's own history, given or simulated
  at screening): the frailty is drawn from its posterior given that count, Gamma(1/k + N,
  scale 1/(1/k + PRE_ENTRY_ACTIVITY * mu_prior * T)) with the unselected population's rate
  ARR_UNSELECTED; this is regression to the mean (a patient with many recent relapses has a high
  rate, but not as high as those relapses say), and it is how entry criteria on recent relapses
  select a cohort's activity;
- otherwise ARR_REF, the untreated rate of a relapsing-MS trial cohort of REF_YEAR.

Both population rates change with ``year`` (the calendar year of entry) by ERA_SLOPE a year: placebo
relapse rates fell across trial eras (Nicholas 2011).

With depleting drugs m(t) = M(t)^IMMUNE_EXPONENT, the memory compartment of
:mod:`mschemo.disease.immune` (:func:`immune_multiplier`). Relapse days are drawn by inverting the
cumulative rate against unit exponential gaps. Patient i draws from its own stream (root seed, child
i, the disease stream), so results do not depend on chunking. Parameters: ``params/ms_relapses.toml``
(sources there).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._internal.rng import patient_indices, patient_streams
from ..errors import PopulationError
from ..params import ParameterSet, load_parameters

__all__ = ["RelapseModel", "simulate_relapses", "immune_multiplier", "dmt_multiplier", "combine_multipliers",
           "DISEASE_STREAM", "HISTORY_COLUMNS"]

DISEASE_STREAM = 2          # the random stream of the disease model (0: population draws)
HISTORY_COLUMNS = ("untreated_arr", "year", "prior_relapses", "prior_years")   # patient columns of cohort activity


@dataclass(frozen=True)
class RelapseModel:
    """Relapse-rate equation (internal units: per day, days)."""

    arr_ref: float             # 1/d
    frailty_k: float
    duration_slope: float      # 1/d (log-rate per day of disease duration)
    ref_duration: float        # d
    female_rr: float
    female_share_ref: float
    immune_exponent: float = 1.0
    ref_year: float = 2002.0
    era_slope: float = 0.0          # 1/d (log-rate per day of calendar time between cohorts)
    arr_unselected: float = 0.0     # 1/d: unselected relapsing population at REF_YEAR (for histories)
    pre_entry_activity: float = 1.0
    dmt_rate_ratios: Mapping[str, float] | None = None   # lower-case DMT name -> rate ratio vs placebo
    ppms_factor: float = 1.0
    season_amplitude: float = 0.0
    season_peak_day: float = 0.0
    parameter_set: ParameterSet | None = None

    @classmethod
    def load(cls, name: str = "ms-relapses") -> RelapseModel:
        ps = load_parameters(name)
        v = {p: ps[p].value for p in ("ARR_REF", "FRAILTY_K", "DURATION_SLOPE", "REF_DURATION", "FEMALE_RR",
                                      "FEMALE_SHARE_REF", "IMMUNE_EXPONENT", "REF_YEAR", "ERA_SLOPE",
                                      "ARR_UNSELECTED", "PRE_ENTRY_ACTIVITY")}
        dmts = {k[len("DMT_RR_"):].lower(): ps[k].value for k in ps.parameters if k.startswith("DMT_RR_")}
        return cls(v["ARR_REF"], v["FRAILTY_K"], v["DURATION_SLOPE"], v["REF_DURATION"], v["FEMALE_RR"],
                   v["FEMALE_SHARE_REF"], v["IMMUNE_EXPONENT"], v["REF_YEAR"], v["ERA_SLOPE"], v["ARR_UNSELECTED"],
                   v["PRE_ENTRY_ACTIVITY"], dmts, ps["PPMS_RELAPSE_FACTOR"].value,
                   ps["SEASON_AMPLITUDE"].value, ps["SEASON_PEAK_DAY"].value, ps)

    def with_values(self, **values: float) -> RelapseModel:
        """A copy with some values replaced (calibration)."""
        from dataclasses import replace
        return replace(self, **values)

    def era(self, year: np.ndarray) -> np.ndarray:
        """Rate factor of each patient's calendar year of entry (NaN: REF_YEAR)."""
        y = np.asarray(year, dtype=float)
        return np.exp(self.era_slope * 365.25 * (np.where(np.isfinite(y), y, self.ref_year) - self.ref_year))

    def season(self, day_of_year: np.ndarray) -> np.ndarray:
        """Seasonal rate factor at the given days of the year (1 January = 0)."""
        return 1.0 + self.season_amplitude * np.cos(2.0 * np.pi * (np.asarray(day_of_year) - self.season_peak_day) / 365.25)

    def dmt_factor(self, dmt: np.ndarray | Sequence[Any]) -> np.ndarray:
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

    def base_rate(self, sex: np.ndarray, duration_d: np.ndarray, arr: float | np.ndarray | None = None) -> np.ndarray:
        """Rate (1/d) at the start (t = 0) without frailty, per patient (``arr``: the cohort rate
        in 1/d, ARR_REF by default)."""
        arr = self.arr_ref if arr is None else arr
        return arr * self.sex_factor(sex) * np.exp(self.duration_slope * (duration_d - self.ref_duration))


def _patient_columns(population) -> tuple[np.ndarray, np.ndarray | None]:
    t = population.table
    sex = t["sex"].to_numpy() if "sex" in t.columns else np.full(len(t), "F")
    if "ms_duration_y" in t.columns:
        dur = t["ms_duration_y"].to_numpy(dtype=float) * 365.25
        if np.any(~np.isfinite(dur)) or np.any(dur < 0):
            raise PopulationError("column ms_duration_y has a missing or negative value; give the years since MS onset (>= 0).")
    else:
        dur = None
    return sex, dur


def _column(t: pd.DataFrame, name: str, lo: float, hi: float, fix: str) -> np.ndarray | None:
    if name not in t.columns:
        return None
    v = pd.to_numeric(t[name], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(v) & t[name].notna().to_numpy() | (v < lo) | (v > hi)
    if bad.any():
        raise PopulationError(f"column {name} has the value '{t[name].iloc[int(np.argmax(bad))]}'; {fix}.")
    return v


def cohort_activity(population, model: RelapseModel, duration_d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each patient's rate at entry without frailty (1/d) and the shape and scale of its frailty:
    Gamma(1/k, k) without a history, the posterior given ``prior_relapses`` over ``prior_years``
    with one (see the module docstring). Missing values (NaN) in a column mean "not given"."""
    t = population.table
    n = len(t)
    sex = t["sex"].to_numpy() if "sex" in t.columns else np.full(n, "F")
    year = _column(t, "year", 1950.0, 2100.0, "give the calendar year of entry, e.g. 2006")
    direct = _column(t, "untreated_arr", 0.0, 20.0, "give the untreated relapses a year at entry (0-20), e.g. 0.33")
    prior = _column(t, "prior_relapses", 0.0, 1000.0, "give the count of relapses before entry (a whole number >= 0)")
    window = _column(t, "prior_years", 0.0, 100.0, "give the years of the window the prior relapses were counted over (> 0)")
    if prior is not None and window is None:
        raise PopulationError("column prior_relapses needs a column prior_years (the window they were counted over, "
                              "e.g. 1 or 2); add it.")
    era = model.era(year if year is not None else np.full(n, np.nan))
    k = model.frailty_k
    shape = np.full(n, 1.0 / k if k > 0 else np.inf)
    scale = np.full(n, k)
    arr = np.full(n, model.arr_ref) * era
    has_history = np.zeros(n, dtype=bool) if prior is None else np.isfinite(prior)
    if prior is not None and window is not None and np.any(has_history & ~((window > 0) | (prior == 0))):
        raise PopulationError("column prior_years is 0 or missing where prior_relapses counts relapses; "
                              "give the window they were counted over in years (> 0).")
    if has_history.any() and k > 0:
        h = has_history
        assert prior is not None and window is not None   # a history needs prior_relapses, which needs prior_years
        unselected = model.arr_unselected * era[h]
        mid = np.maximum(duration_d[h] - window[h] * 365.25 / 2.0, 0.0)
        mu_prior = model.base_rate(sex[h], mid, unselected) * window[h] * 365.25 * model.pre_entry_activity
        shape[h] = 1.0 / k + prior[h]
        scale[h] = 1.0 / (1.0 / k + mu_prior)
        arr[h] = unselected
    if direct is not None:
        d = np.isfinite(direct)
        arr[d] = direct[d] / 365.25
        shape[d], scale[d] = (1.0 / k if k > 0 else np.inf), k
    return model.base_rate(sex, duration_d, arr), shape, scale


def simulate_relapses(population, until_d: float, seed: int, *, model: RelapseModel | None = None,
                      multiplier: Mapping | None = None, start: int | np.ndarray = 0,
                      season_start: float | None = None) -> pd.DataFrame:
    """Relapse days of each patient over [0, until_d].

    population: a Population; uses ``sex`` ("F"/"M", women if absent), ``ms_duration_y`` (years
        since onset; the model's reference duration if absent), ``dmt`` (a disease-modifying
        therapy by name, e.g. "natalizumab", or "none"; its rate ratio multiplies the rate) and the
        cohort-activity columns ``untreated_arr``, ``year``, ``prior_relapses``/``prior_years``
        (module docstring).
    multiplier: optional {"times_d": (T,), "values": (n, T)} rate factors m_i(t), piecewise linear
        between the times (e.g. the immune memory compartment); 1 without it.
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
    base, shape, scale = cohort_activity(population, model, dur)
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
    for i, rng in enumerate(patient_streams(seed, idx, DISEASE_STREAM)):
        z = rng.gamma(shape[i], scale[i]) if k > 0 else 1.0
        lam0 = base[i] * z
        inverse: Callable[[float], float]
        if grid is None:
            # cumulative rate L(t) = lam0 * (exp(s t) - 1) / s, inverted in closed form
            def closed_form(target: float, lam0: float = lam0) -> float:
                if abs(s) < 1e-15:
                    return target / lam0
                x = 1.0 + s * target / lam0
                return math.log(x) / s if x > 0 else math.inf
            inverse = closed_form
            cum_end = lam0 * (math.expm1(s * until_d) / s if abs(s) > 1e-15 else until_d)
        else:
            assert vals is not None   # given with grid
            rate = lam0 * np.exp(s * grid) * vals[min(i, len(vals) - 1)]
            cum = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(grid))])
            cum_end = float(np.interp(until_d, grid, cum))

            def interpolated(target: float, cum: np.ndarray = cum) -> float:
                return float(np.interp(target, cum, grid)) if target <= cum[-1] else math.inf
            inverse = interpolated
        total = 0.0
        k_rel = 0
        while True:
            total += rng.exponential()
            if total > cum_end or lam0 <= 0:
                break
            k_rel += 1
            rows.append((ids[i], k_rel, inverse(total)))
    return pd.DataFrame(rows, columns=["id", "relapse", "day"])


def immune_multiplier(record, model: RelapseModel | None = None) -> dict:
    """Rate factors M_i(t)^IMMUNE_EXPONENT from an :class:`~mschemo.disease.immune.ImmuneRecord`: the
    relapse rate follows the patient's memory compartment, not the current lymphocyte count."""
    return record.multiplier((model or RelapseModel.load()).immune_exponent)


def _values_at(m: Mapping, times: np.ndarray) -> np.ndarray:
    """A multiplier's values (n, T) at ``times`` (linear in time, held beyond its ends)."""
    grid = np.asarray(m["times_d"], dtype=float)
    vals = np.atleast_2d(np.asarray(m["values"], dtype=float))
    k = np.clip(np.searchsorted(grid, times, side="right") - 1, 0, grid.size - 1)
    k1 = np.minimum(k + 1, grid.size - 1)
    span = grid[k1] - grid[k]
    w = np.where(span > 0, (np.clip(times, grid[0], grid[-1]) - grid[k]) / np.where(span > 0, span, 1.0), 0.0)
    return vals[:, k] * (1.0 - w) + vals[:, k1] * w


def combine_multipliers(a: Mapping | None, b: Mapping | None) -> Mapping | None:
    """The product of two rate multipliers on the union of their times (either may be None)."""
    if a is None or b is None:
        return a if b is None else b
    times = np.union1d(np.asarray(a["times_d"], dtype=float), np.asarray(b["times_d"], dtype=float))
    return {"times_d": times, "values": _values_at(a, times) * _values_at(b, times)}


STEP_EPS_D = 1e-7     # d: a step of a piecewise-constant factor is a ramp this short


def dmt_multiplier(ids: np.ndarray, periods: Mapping, until_d: float, model: RelapseModel | None = None) -> dict:
    """Rate factors of disease-modifying therapies taken over periods: ``periods`` maps a patient id
    to [(start_d, stop_d, name), ...] (no entry: no therapy); the factor is the therapy's rate ratio
    inside a period and 1 outside, as steps."""
    model = model or RelapseModel.load()
    edges = {0.0, float(until_d)}
    for plist in periods.values():
        for a, b, _ in plist:
            for t in (a, b):
                if 0.0 < t < until_d:
                    edges.update((t - STEP_EPS_D, t))
    times = np.array(sorted(edges))
    values = np.ones((len(ids), times.size))
    for i, pid in enumerate(ids):
        for a, b, name in periods.get(pid, ()):
            rr = float(model.dmt_factor([name])[0])
            values[i, (times >= a) & (times < b)] = rr
    return {"times_d": times, "values": values}
