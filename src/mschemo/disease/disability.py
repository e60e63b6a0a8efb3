"""Disability: EDSS over years from relapse residuals, progression independent of relapses (PIRA),
conversion to secondary progression and the progressive course.

Sustained EDSS moves in 0.5 steps. In the relapsing phase, PIRA steps come as a Poisson process
(PIRA_RATE) and each relapse adds its residual when its recovery ends. The conversion to secondary
progression is a Weibull time since onset (Koch 2010 median, a rising hazard, earlier in men), drawn
conditional on no conversion before entry. In the progressive phase (SPMS, or PPMS from onset)
steps come at PROGRESSIVE_RATE, slower or faster from EDSS 6 (HIGH_EDSS_FACTOR), and relapse
residuals are not kept (Tremlett 2009). Lymphocyte depletion slows relapsing-phase PIRA by
(ALC/ALC0)^PIRA_ALC_EXPONENT, calibrated to cladribine's effect on the progression rate in CLARITY
(Novakovic 2017: -22.8 %); the progressive phase is untouched (profound lymphopenia suppresses
relapses while disability still progresses, Confavreux & Vukusic 2006).

The EDSS a clinician would score adds each relapse's transient rise, falling linearly to its
residual over the recovery time. Patient i draws from its own stream (DISABILITY_STREAM), so results
do not depend on chunking. Parameters: params/ms_disability.toml.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._internal.rng import patient_indices, patient_rng
from ..errors import PopulationError
from ..params import ParameterSet, load_parameters

__all__ = ["DisabilityModel", "DisabilityPaths", "simulate_disability", "DISABILITY_STREAM", "COURSES",
           "MILESTONES", "patient_course", "baseline_edss"]

DISABILITY_STREAM = 6
YEAR = 365.25
COURSES = ("RRMS", "SPMS", "PPMS")
MILESTONES = (3.0, 4.0, 6.0)
PIRA, PROGRESSION, RESIDUAL = 1, 2, 3           # kinds of sustained EDSS change


@dataclass(frozen=True)
class DisabilityModel:
    """EDSS equations (internal units: per day, days; EDSS points)."""

    pira_rate: float            # 0.5-steps per day, relapsing phase
    pira_alc_exponent: float    # PIRA rate x (ALC/ALC0)^exponent in the relapsing phase
    progressive_rate: float     # 0.5-steps per day, progressive phase below high_edss
    high_edss: float
    high_edss_factor: float
    edss_max: float
    sp_median_d: float
    sp_shape: float
    sp_male_hr: float
    sp_female_share_ref: float
    sp_residual_factor: float
    edss_default: float
    parameter_set: ParameterSet | None = None

    @classmethod
    def load(cls, name: str = "ms-disability") -> DisabilityModel:
        ps = load_parameters(name)
        names = ("PIRA_RATE", "PIRA_ALC_EXPONENT", "PROGRESSIVE_RATE", "HIGH_EDSS", "HIGH_EDSS_FACTOR", "EDSS_MAX", "SP_MEDIAN",
                 "SP_SHAPE", "SP_MALE_HR", "SP_FEMALE_SHARE_REF", "SP_RESIDUAL_FACTOR", "EDSS_DEFAULT")
        return cls(*(ps[p].value for p in names), parameter_set=ps)

    def with_values(self, **values: float) -> DisabilityModel:
        """A copy with some values replaced (calibration)."""
        from dataclasses import replace
        return replace(self, **values)

    def sp_hazard_factor(self, sex: np.ndarray) -> np.ndarray:
        """Hazard factor of conversion per patient, normalised so women/men mix of the source keeps its median."""
        male = np.array([not str(s).upper().startswith("F") for s in sex])
        f = self.sp_female_share_ref
        norm = f + (1.0 - f) * self.sp_male_hr
        return np.where(male, self.sp_male_hr, 1.0) / norm


def patient_course(population) -> np.ndarray:
    """Each patient's disease course at entry ("RRMS", "SPMS" or "PPMS"; column ``ms_course``,
    RRMS without it)."""
    t = population.table
    if "ms_course" not in t.columns:
        return np.full(len(t), "RRMS", dtype=object)
    course = np.array([str(c).strip().upper() for c in t["ms_course"]], dtype=object)
    bad = [c for c in course if c not in COURSES]
    if bad:
        raise PopulationError(f"column ms_course has the value '{bad[0]}'; use one of {', '.join(COURSES)}.")
    return course


def baseline_edss(population, default: float) -> np.ndarray:
    """Each patient's EDSS at entry (column ``edss``, else ``default``), checked to lie in 0-9.5."""
    t = population.table
    if "edss" not in t.columns:
        return np.full(len(t), float(default))
    e = pd.to_numeric(t["edss"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(e) | (e < 0) | (e > 9.5)
    if bad.any():
        raise PopulationError(f"column edss has the value '{t['edss'].iloc[int(np.argmax(bad))]}'; give an EDSS between 0 and 9.5.")
    return e


@dataclass(frozen=True)
class DisabilityPaths:
    """Sustained-EDSS paths of a cohort: a start value and dated changes per patient."""

    ids: np.ndarray
    edss0: np.ndarray              # (n,) sustained EDSS at entry
    course0: np.ndarray            # (n,) course at entry
    progressive_day: np.ndarray    # (n,) day the course is progressive (0: at entry, inf: not in the window)
    change_patient: np.ndarray     # (m,) patient index of each change
    change_day: np.ndarray         # (m,)
    change_size: np.ndarray        # (m,) EDSS points
    change_kind: np.ndarray        # (m,) PIRA, PROGRESSION or RESIDUAL
    milestone_day: dict[float, np.ndarray]   # level -> (n,) first day sustained EDSS >= level (0: at entry, nan: not reached)

    def sustained(self, times_d: np.ndarray) -> np.ndarray:
        """Sustained EDSS (n, T) at the given days."""
        times_d = np.asarray(times_d, dtype=float)
        acc = np.zeros((len(self.ids), times_d.size + 1))
        np.add.at(acc, (self.change_patient, np.searchsorted(times_d, self.change_day, side="left")), self.change_size)
        return self.edss0[:, None] + np.cumsum(acc, axis=1)[:, :-1]

    def course(self, times_d: np.ndarray) -> np.ndarray:
        """Course (n, T) at the given days."""
        times_d = np.asarray(times_d, dtype=float)
        prog = times_d[None, :] >= self.progressive_day[:, None]
        sp = np.where(self.course0 == "PPMS", "PPMS", "SPMS")[:, None]
        return np.where(prog, sp, "RRMS")

    def points(self) -> pd.DataFrame:
        """EDSS points gained by kind (pira, progression, relapse residual), per patient."""
        names = {PIRA: "pira", PROGRESSION: "progression", RESIDUAL: "residual"}
        out = pd.DataFrame(0.0, index=pd.RangeIndex(len(self.ids)), columns=list(names.values()))
        for kind, name in names.items():
            sel = self.change_kind == kind
            out[name] = np.bincount(self.change_patient[sel], weights=self.change_size[sel], minlength=len(self.ids))
        out.insert(0, "id", self.ids)
        return out


def _conversion_days(model: DisabilityModel, u: np.ndarray, duration_d: np.ndarray, sex: np.ndarray,
                     course: np.ndarray) -> np.ndarray:
    """Day of conversion to progression given uniforms u: Weibull since onset, conditional on
    none before entry (0 for patients already progressive)."""
    k = model.sp_shape
    eta = model.sp_median_d / math.log(2.0) ** (1.0 / k)
    h = model.sp_hazard_factor(sex)
    d_sp = eta * ((duration_d / eta) ** k - np.log(u) / h) ** (1.0 / k)
    return np.where(course == "RRMS", d_sp - duration_d, 0.0)


def simulate_disability(population, until_d: float, seed: int, relapses: pd.DataFrame, *,
                        model: DisabilityModel | None = None, duration_d: np.ndarray | None = None,
                        start: int | np.ndarray = 0, levels: tuple[float, ...] = MILESTONES,
                        multiplier: dict | None = None) -> DisabilityPaths:
    """Sustained EDSS paths over [0, until_d].

    population: uses ``edss`` (entry EDSS), ``ms_course`` (RRMS, SPMS or PPMS), ``sex`` and the
        disease duration at entry ``duration_d`` (days since onset; from ``ms_duration_y``).
    relapses: table with id, day, recovery_d and edss_residual (from relapse_courses).
    levels: the sustained-EDSS milestones whose first days are recorded.
    multiplier: optional {"times_d": (T,), "values": (n, T)} factors on the relapsing-phase PIRA
        rate, piecewise linear (the lymphocyte link, (ALC/ALC0)^PIRA_ALC_EXPONENT); 1 after the grid.
    """
    model = model or DisabilityModel.load()
    n = len(population)
    ids = population.ids
    t = population.table
    sex = t["sex"].to_numpy() if "sex" in t.columns else np.full(n, "F")
    course = patient_course(population)
    e0 = baseline_edss(population, model.edss_default)
    if duration_d is None:
        duration_d = np.full(n, 5.0 * YEAR)
    idx = patient_indices(n, start)
    rngs = [patient_rng(seed, int(idx[i]), DISABILITY_STREAM) for i in range(n)]
    u = np.array([r.random() for r in rngs])
    prog_day = _conversion_days(model, u, duration_d, sex, course)

    # relapse residuals by patient, in time order
    position = {pid: k for k, pid in enumerate(ids)}
    res_by = [[] for _ in range(n)]
    if len(relapses):
        rp = np.array([position[p] for p in relapses["id"].to_numpy()])
        end = relapses["day"].to_numpy(dtype=float) + relapses["recovery_d"].to_numpy(dtype=float)
        size = relapses["edss_residual"].to_numpy(dtype=float)
        for i, e, s in zip(rp, end, size, strict=True):
            if s > 0 and e <= until_d:
                res_by[i].append((e, s))

    r_pira, r_prog, hi, f_hi = model.pira_rate, model.progressive_rate, model.high_edss, model.high_edss_factor
    emax, keep = model.edss_max, model.sp_residual_factor
    cp, cd, cs, ck = [], [], [], []
    mile = {lv: np.full(n, np.nan) for lv in levels}
    grid = cum = None
    if multiplier is not None:
        grid = np.asarray(multiplier["times_d"], dtype=float)
        vals = np.asarray(multiplier["values"], dtype=float)
        cum = np.concatenate([np.zeros((n, 1)), np.cumsum(0.5 * (vals[:, 1:] + vals[:, :-1]) * np.diff(grid), axis=1)], axis=1)
    for i in range(n):
        rng = rngs[i]
        clock_of = (_identity, _identity) if grid is None else _effective_time(grid, cum[i])
        e = e0[i]
        for lv in levels:
            if e >= lv:
                mile[lv][i] = 0.0
        tp = prog_day[i]
        exo = sorted(res_by[i])
        if tp < until_d and tp > 0:
            exo.append((tp, 0.0))
            exo.sort()
        now = 0.0
        clock = rng.exponential()
        j = 0
        while now < until_d and e < emax:
            progressive = now >= tp
            rate = (r_prog * (f_hi if e >= hi else 1.0)) if progressive else r_pira
            fwd, back = (_identity, _identity) if progressive else clock_of
            t_next = exo[j][0] if j < len(exo) else until_d
            gap = fwd(t_next) - fwd(now)          # elapsed (effective) time to the next fixed event
            if rate > 0 and clock / rate < gap:
                now = back(fwd(now) + clock / rate)
                step, kind = min(0.5, emax - e), PROGRESSION if progressive else PIRA
                clock = rng.exponential()
            else:
                clock -= rate * gap
                now = t_next
                if j >= len(exo):
                    break
                size = exo[j][1] * (keep if now >= tp else 1.0)
                j += 1
                step, kind = min(size, emax - e), RESIDUAL
                if step <= 0:
                    continue
            e += step
            cp.append(i)
            cd.append(now)
            cs.append(step)
            ck.append(kind)
            for lv in levels:
                if e >= lv and np.isnan(mile[lv][i]):
                    mile[lv][i] = now
    return DisabilityPaths(ids, e0, course, np.where(prog_day < until_d, prog_day, np.inf),
                           np.array(cp, dtype=np.int64), np.array(cd, dtype=float), np.array(cs, dtype=float),
                           np.array(ck, dtype=np.int64), mile)


def _identity(t: float) -> float:
    return t


def _effective_time(grid: np.ndarray, cum: np.ndarray):
    """Forward and inverse maps t -> integral of the rate factor from 0 to t (factor 1 outside the grid)."""
    end_t, end_c = grid[-1], cum[-1]

    def fwd(t: float) -> float:
        return float(np.interp(t, grid, cum)) if t <= end_t else end_c + (t - end_t)

    def back(c: float) -> float:
        return float(np.interp(c, cum, grid)) if c <= end_c else end_t + (c - end_c)

    return (_identity, _identity) if cum[-1] <= 0 else (fwd, back)


def relapse_edss(relapses: pd.DataFrame, population, paths: DisabilityPaths, times_d: np.ndarray,
                 residual_factor: float) -> np.ndarray:
    """Transient EDSS of relapses (n, T): the rise at onset, falling linearly over the recovery time
    to the residual kept (which the sustained path takes over at the end of recovery)."""
    times_d = np.asarray(times_d, dtype=float)
    out = np.zeros((len(paths.ids), times_d.size))
    if not len(relapses):
        return out
    position = {pid: k for k, pid in enumerate(paths.ids)}
    pi = np.array([position[p] for p in relapses["id"].to_numpy()])
    d = relapses["day"].to_numpy(dtype=float)
    rec = np.maximum(relapses["recovery_d"].to_numpy(dtype=float), 1e-9)
    rise = relapses["edss_rise"].to_numpy(dtype=float)
    res = relapses["edss_residual"].to_numpy(dtype=float)
    res = np.where(d + rec >= paths.progressive_day[pi], res * residual_factor, res)
    lo = np.searchsorted(times_d, d, side="left")
    hi = np.searchsorted(times_d, d + rec, side="left")
    counts = hi - lo
    k = np.repeat(np.arange(d.size), counts)
    col = lo[k] + (np.arange(k.size) - np.repeat(np.cumsum(counts) - counts, counts))
    frac = 1.0 - (times_d[col] - d[k]) / rec[k]
    np.add.at(out, (pi[k], col), res[k] + (rise[k] - res[k]) * frac)
    return out
