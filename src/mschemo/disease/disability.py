"""Disability: EDSS over years from relapse residuals, progression independent of relapses (PIRA),
regression of part of the worsening, conversion to secondary progression, the progressive course,
and the variability of the EDSS as scored at a visit.

Sustained EDSS moves in 0.5 steps (0 to EDSS_MAX):

- relapsing phase: PIRA steps come as a Poisson process whose rate rises with age,
  PIRA_RATE x Z_i x PIRA_AGE_HR^(age - PIRA_REF_AGE) (age in years, rising during the follow-up;
  Z_i the patient's own factor, gamma with mean 1 and variance PIRA_FRAILTY); each relapse adds its
  residual when its recovery ends (relapse_course.py);
- regression: each half-point gained in the relapsing phase (PIRA or residual) regresses later with
  probability REGRESSION_SHARE, after an exponential time with median REGRESSION_MEDIAN. A relapsing
  patient enters with the half-points still to regress that this process leaves in a steady state:
  Poisson with mean REGRESSION_SHARE x (mean delay) x (rate of half-points gained at entry) x
  (1 - exp(-duration / mean delay)), at most the entry EDSS (none at onset);
- conversion to secondary progression: a Weibull time since onset (Koch 2010 median, a rising
  hazard, earlier in men), drawn conditional on no conversion before entry;
- progressive phase (SPMS, or PPMS from onset): steps at PROGRESSIVE_RATE, times HIGH_EDSS_FACTOR
  from EDSS HIGH_EDSS on; they do not regress; relapse residuals are not kept (Tremlett 2009).

No treatment acts on PIRA: no source gives an effect of the chemotherapies modelled here on
relapse-independent progression; their effect on disability comes through relapses.

The EDSS a clinician would score is the sustained EDSS, plus each relapse's transient rise (falling
to its residual over the recovery time as (1 - t/recovery)^RECOVERY_SHAPE), rounded to the 0.5
grid, plus the visit variability: an offset of -0.5, 0 or +0.5 per patient, redrawn at the events
of a Poisson process (mean dwell VISIT_DWELL), each value with probabilities VISIT_SHARE/2,
1 - VISIT_SHARE, VISIT_SHARE/2 (a Markov jump process in continuous time); clipped to 0-EDSS_MAX.

Random numbers: patient i draws its conversion time, PIRA factor, entry regressions, PIRA steps and
progressive steps from DISABILITY_STREAM, the regression of its relapse residuals (by relapse
number) from REGRESSION_STREAM and its visit offsets from VISIT_STREAM, so results do not depend on
chunking, the scored EDSS of a day does not depend on which other days are scored, and a treatment
that changes relapses leaves the PIRA steps where they were. Parameters: params/ms_disability.toml.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._internal.rng import patient_indices, patient_streams
from ..errors import PopulationError
from ..params import ParameterSet, load_parameters
from ..population import MS_COURSES

__all__ = ["DisabilityModel", "DisabilityPaths", "VisitVariability", "simulate_disability", "relapse_edss",
           "DISABILITY_STREAM", "VISIT_STREAM", "REGRESSION_STREAM", "COURSES", "MILESTONES", "patient_course",
           "baseline_edss", "patient_age"]

DISABILITY_STREAM = 6
VISIT_STREAM = 7            # visit-to-visit variability of the EDSS as scored
REGRESSION_STREAM = 8       # regression of relapse residuals, one row per relapse number
YEAR = 365.25
COURSES = MS_COURSES
MILESTONES = (3.0, 4.0, 6.0)
PIRA, PROGRESSION, RESIDUAL, REGRESSION = 1, 2, 3, 4     # kinds of sustained EDSS change (REGRESSION: negative)
_CHUNK = 16                 # PIRA steps drawn per call (a fixed size keeps the draws independent of the window)
_VISIT_CHUNK = 256


@dataclass(frozen=True)
class DisabilityModel:
    """EDSS equations (internal units: per day, days; EDSS points)."""

    pira_rate: float            # 0.5-steps per day, relapsing phase, at pira_ref_age
    pira_age_hr: float          # rate ratio per year of age
    pira_ref_age: float         # d (an age)
    pira_frailty: float         # variance of a patient's gamma factor (mean 1) on the relapsing-phase PIRA rate
    regression_share: float     # share of relapsing-phase half-points (PIRA, residuals) that regress later
    regression_median: float    # d, median delay of a regression
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
    visit_share: float          # P(scored offset != 0)
    visit_dwell: float          # d, mean time between redraws of the offset
    recovery_shape: float       # exponent of the fall of a relapse's transient EDSS
    parameter_set: ParameterSet | None = None

    NAMES = ("PIRA_RATE", "PIRA_AGE_HR", "PIRA_REF_AGE", "PIRA_FRAILTY", "REGRESSION_SHARE", "REGRESSION_MEDIAN",
             "PROGRESSIVE_RATE", "HIGH_EDSS", "HIGH_EDSS_FACTOR", "EDSS_MAX", "SP_MEDIAN", "SP_SHAPE", "SP_MALE_HR",
             "SP_FEMALE_SHARE_REF", "SP_RESIDUAL_FACTOR", "EDSS_DEFAULT", "VISIT_SHARE", "VISIT_DWELL",
             "RECOVERY_SHAPE")

    @classmethod
    def load(cls, name: str = "ms-disability") -> DisabilityModel:
        ps = load_parameters(name)
        return cls(*(ps[p].value for p in cls.NAMES), parameter_set=ps)

    def with_values(self, **values: float) -> DisabilityModel:
        """A copy with some values replaced (calibration)."""
        from dataclasses import replace
        return replace(self, **values)

    @property
    def regression_mean_d(self) -> float:
        return self.regression_median / math.log(2.0)

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


def patient_age(population, default: float) -> np.ndarray:
    """Each patient's age at entry in years (column ``age_y``, else ``default``)."""
    t = population.table
    if "age_y" not in t.columns:
        return np.full(len(t), float(default))
    a = pd.to_numeric(t["age_y"], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(a), a, float(default))


@dataclass(frozen=True)
class VisitVariability:
    """The offset of the EDSS as scored from the patient's EDSS (-0.5, 0 or +0.5), a Markov jump
    process per patient: redrawn at the events of a Poisson process with mean gap ``dwell_d`` (the
    first value at day 0), each value with probabilities share/2, 1 - share, share/2. Patient k's
    process comes from patient_rng(seed, indices[k], VISIT_STREAM) in fixed-size blocks, so the offset
    of a day is the same whichever days are asked for and however long the window."""

    seed: int
    indices: np.ndarray
    share: float
    dwell_d: float

    def offsets(self, days: np.ndarray) -> np.ndarray:
        """Offsets (n, T) at the given days (>= 0)."""
        days = np.asarray(days, dtype=float)
        n = len(self.indices)
        out = np.zeros((n, days.size))
        if self.share <= 0 or n == 0 or days.size == 0:
            return out
        processes = self._processes(float(np.max(days)))
        if np.all(days[1:] >= days[:-1]):      # the usual grid, in order
            for k, (t, value) in enumerate(processes):
                out[k] = value[np.searchsorted(t, days, side="right") - 1]
            return out
        order = np.argsort(days, kind="stable")
        sorted_days = days[order]
        for k, (t, value) in enumerate(processes):
            out[k, order] = value[np.searchsorted(t, sorted_days, side="right") - 1]
        return out

    def _processes(self, horizon: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each patient's redraw days and values, past ``horizon``; drawn once and kept (the EDSS
        and its scores read them on several grids), drawn again only for a longer horizon."""
        before: list[tuple[np.ndarray, np.ndarray]] | None = self.__dict__.get("_kept")
        if before is not None and self.__dict__["_kept_horizon"] >= horizon:
            return before
        lo, hi = self.share / 2.0, 1.0 - self.share / 2.0
        draws: list[np.ndarray] = []
        streams = patient_streams(self.seed, self.indices, VISIT_STREAM)
        for k in range(len(self.indices)):
            rng = streams[k]
            blocks, end = [], 0.0
            while True:
                u = rng.random((_VISIT_CHUNK, 2))
                blocks.append(u)
                end += float(np.sum(-np.log1p(-u[:, 0]))) * self.dwell_d
                if end > horizon:
                    break
            draws.append(np.vstack(blocks) if len(blocks) > 1 else blocks[0])
        kept: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0), np.empty(0))] * len(draws)
        # the patients of one block together (row by row the same arithmetic), the others one by one
        one = [k for k, u in enumerate(draws) if len(u) == _VISIT_CHUNK]
        for group in ([one] if one else []) + [[k] for k, u in enumerate(draws) if len(u) != _VISIT_CHUNK]:
            u = np.stack([draws[k] for k in group])
            t = np.cumsum(-np.log1p(-u[:, :, 0]) * self.dwell_d, axis=1)
            t = np.concatenate((np.zeros((len(group), 1)), t[:, :-1]), axis=1)   # redraw j at t[j]; the first at day 0
            value = np.where(u[:, :, 1] < lo, -0.5, np.where(u[:, :, 1] >= hi, 0.5, 0.0))
            for row, k in enumerate(group):
                kept[k] = (t[row], value[row])
        # kept beside the frozen fields (not one of them: equality and the fields stay as they were)
        self.__dict__["_kept"] = kept
        self.__dict__["_kept_horizon"] = horizon
        return kept


@dataclass(frozen=True)
class DisabilityPaths:
    """Sustained-EDSS paths of a cohort: a start value and dated changes per patient."""

    ids: np.ndarray
    edss0: np.ndarray              # (n,) sustained EDSS at entry
    course0: np.ndarray            # (n,) course at entry
    progressive_day: np.ndarray    # (n,) day the course is progressive (0: at entry, inf: not in the window)
    change_patient: np.ndarray     # (m,) patient index of each change
    change_day: np.ndarray         # (m,)
    change_size: np.ndarray        # (m,) EDSS points (negative for a regression)
    change_kind: np.ndarray        # (m,) PIRA, PROGRESSION, RESIDUAL or REGRESSION
    milestone_day: dict[float, np.ndarray]   # level -> (n,) first day sustained EDSS >= level (0: at entry, nan: not reached)
    visit: VisitVariability | None = None

    def sustained(self, times_d: np.ndarray) -> np.ndarray:
        """Sustained EDSS (n, T) at the given days."""
        times_d = np.asarray(times_d, dtype=float)
        acc = np.zeros((len(self.ids), times_d.size + 1))
        np.add.at(acc, (self.change_patient, np.searchsorted(times_d, self.change_day, side="left")), self.change_size)
        return self.edss0[:, None] + np.cumsum(acc, axis=1)[:, :-1]

    def visit_offsets(self, times_d: np.ndarray) -> np.ndarray:
        """Visit variability (n, T) of the EDSS as scored at the given days (0 without it)."""
        times_d = np.asarray(times_d, dtype=float)
        if self.visit is None:
            return np.zeros((len(self.ids), times_d.size))
        return self.visit.offsets(times_d)

    def course(self, times_d: np.ndarray) -> np.ndarray:
        """Course (n, T) at the given days."""
        times_d = np.asarray(times_d, dtype=float)
        prog = times_d[None, :] >= self.progressive_day[:, None]
        sp = np.where(self.course0 == "PPMS", "PPMS", "SPMS")[:, None]
        return np.where(prog, sp, "RRMS")

    def points(self) -> pd.DataFrame:
        """EDSS points by kind per patient: gained (pira, progression, relapse residual) and
        regressed (improvement, a positive number)."""
        names = {PIRA: "pira", PROGRESSION: "progression", RESIDUAL: "residual", REGRESSION: "improvement"}
        out = pd.DataFrame(0.0, index=pd.RangeIndex(len(self.ids)), columns=list(names.values()))
        for kind, name in names.items():
            sel = self.change_kind == kind
            out[name] = np.abs(np.bincount(self.change_patient[sel], weights=self.change_size[sel], minlength=len(self.ids)))
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


def _residual_half_steps_per_relapse() -> float:
    """Mean residual EDSS half-points a relapse leaves (relapse-course parameters, before capping)."""
    ps = load_parameters("ms-relapses")
    return (1.0 - ps["P_RISE_ZERO"].value) * ps["P_RESIDUAL"].value * ps["RESIDUAL_MEAN_FROM_HALF"].value / 0.5


def _untreated_relapse_rate(population, sex: np.ndarray, duration_d: np.ndarray) -> np.ndarray:
    """Each patient's untreated relapse rate at entry (1/d, without frailty or treatment)."""
    from .relapses import RelapseModel
    return RelapseModel.load().base_rate(sex, duration_d)


def _pira_times(rng: np.random.Generator, lam: float, beta_d: float, horizon: float) -> tuple[list, np.ndarray]:
    """Relapsing-phase PIRA steps of one patient over [0, horizon]: hazard lam * exp(beta_d * t).
    Returns (days, draws): draws[k] = (uniform of the gap, uniform of regression, uniform of delay)."""
    if lam <= 0 or horizon <= 0:
        return [], np.zeros((0, 3))
    blocks, days, cum = [], [], 0.0
    while True:
        u = rng.random((_CHUNK, 3))
        blocks.append(u)
        for g in -np.log1p(-u[:, 0]):
            cum += g
            t = cum / lam if beta_d == 0 else math.log1p(beta_d * cum / lam) / beta_d
            if t > horizon:
                return days, np.vstack(blocks)
            days.append(t)


def simulate_disability(population, until_d: float, seed: int, relapses: pd.DataFrame, *,
                        model: DisabilityModel | None = None, duration_d: np.ndarray | None = None,
                        start: int | np.ndarray = 0, levels: tuple[float, ...] = MILESTONES,
                        relapse_rate_d: np.ndarray | None = None) -> DisabilityPaths:
    """Sustained EDSS paths over [0, until_d].

    population: uses ``edss`` (entry EDSS), ``ms_course`` (RRMS, SPMS or PPMS), ``sex``, ``age_y``
        (PIRA_REF_AGE if absent) and the disease duration at entry ``duration_d`` (days since onset;
        from ``ms_duration_y``).
    relapses: table with id, relapse, day, recovery_d and edss_residual (from relapse_courses).
    levels: the sustained-EDSS milestones whose first days are recorded.
    relapse_rate_d: each patient's untreated relapse rate at entry (1/d), for the half-points still
        to regress at entry; from the relapse model if not given.
    """
    model = model or DisabilityModel.load()
    n = len(population)
    ids = population.ids
    t = population.table
    sex = t["sex"].to_numpy() if "sex" in t.columns else np.full(n, "F")
    course = patient_course(population)
    e0 = baseline_edss(population, model.edss_default)
    age0 = patient_age(population, model.pira_ref_age / YEAR) * YEAR      # d
    if duration_d is None:
        duration_d = np.full(n, 5.0 * YEAR)
    duration_d = np.asarray(duration_d, dtype=float)
    idx = patient_indices(n, start)
    rngs = list(patient_streams(seed, idx, DISABILITY_STREAM))
    u = np.array([r.random() for r in rngs])
    prog_day = _conversion_days(model, u, duration_d, sex, course)
    k = model.pira_frailty
    frailty = np.array([r.gamma(1.0 / k, k) for r in rngs]) if k > 0 else np.ones(n)

    share, tau = model.regression_share, model.regression_mean_d
    beta_d = math.log(model.pira_age_hr) / YEAR if model.pira_age_hr > 0 else 0.0     # per day of age
    lam = model.pira_rate * frailty * np.exp(beta_d * (age0 - model.pira_ref_age))        # per day at entry
    pending = np.zeros(n)
    if share > 0 and np.any(course == "RRMS"):
        if relapse_rate_d is None:
            relapse_rate_d = _untreated_relapse_rate(population, sex, duration_d)
        gained = lam + np.asarray(relapse_rate_d, dtype=float) * _residual_half_steps_per_relapse()   # half-points a day
        pending = np.where(course == "RRMS", share * tau * gained * -np.expm1(-duration_d / tau), 0.0)

    # relapse residuals by patient, in time order, with their regression (REGRESSION_STREAM, by relapse number)
    position = {pid: k for k, pid in enumerate(ids)}
    res_by = [[] for _ in range(n)]
    if len(relapses):
        rp = np.array([position[p] for p in relapses["id"].to_numpy()])
        end = relapses["day"].to_numpy(dtype=float) + relapses["recovery_d"].to_numpy(dtype=float)
        size = relapses["edss_residual"].to_numpy(dtype=float)
        number = (relapses["relapse"].to_numpy(dtype=np.int64) if "relapse" in relapses.columns
                  else np.ones(len(relapses), dtype=np.int64))
        keep_rows = np.flatnonzero((size > 0) & (end <= until_d))
        draws: dict[int, np.ndarray] = {}
        if share > 0 and keep_rows.size:
            top = np.zeros(n, dtype=np.int64)
            np.maximum.at(top, rp[keep_rows], number[keep_rows])
            who = np.unique(rp[keep_rows])
            for i, rng in zip(who, patient_streams(seed, idx[who], REGRESSION_STREAM)):
                draws[int(i)] = rng.random((int(top[i]), 2))
        for r in keep_rows:
            i = int(rp[r])
            back, delay = 0.0, 0.0
            if share > 0:
                uu = draws[i][number[r] - 1]
                back = 0.5 * _binomial_ppf(uu[0], int(round(size[r] / 0.5)), share)
                delay = -tau * math.log1p(-uu[1])
            res_by[i].append((float(end[r]), float(size[r]), back, delay))
        for lst in res_by:
            lst.sort()

    r_prog, hi, f_hi = model.progressive_rate, model.high_edss, model.high_edss_factor
    emax, keep = model.edss_max, model.sp_residual_factor
    cp, cd, cs, ck = [], [], [], []
    mile = {lv: np.full(n, np.nan) for lv in levels}
    for i in range(n):
        rng = rngs[i]
        e = float(e0[i])
        for lv in levels:
            if e >= lv:
                mile[lv][i] = 0.0
        tp = float(prog_day[i])
        heap: list[tuple[float, int, float]] = []        # (day, order, points) regressions to come
        order = 0
        if pending[i] > 0:
            k = min(int(rng.poisson(pending[i])), int(e / 0.5 + 1e-9))
            for d in rng.exponential(tau, size=k):
                heapq.heappush(heap, (float(d), order, 0.5))
                order += 1
        pdays, pdraws = _pira_times(rng, float(lam[i]), beta_d, min(tp, until_d)) if course[i] == "RRMS" else ([], None)
        res = res_by[i]
        jp = jr = 0
        now = 0.0
        clock = -1.0                                        # progressive clock, drawn when first needed
        converted = tp <= 0
        while True:
            t_p = pdays[jp] if jp < len(pdays) else math.inf
            t_r = res[jr][0] if jr < len(res) else math.inf
            t_g = heap[0][0] if heap else math.inf
            t_c = tp if not converted else math.inf
            t_next = min(t_p, t_r, t_g, t_c, until_d)
            if now >= tp and e < emax:
                rate = r_prog * (f_hi if e >= hi else 1.0)
                if clock < 0:
                    clock = rng.exponential()
                if rate > 0 and clock / rate < t_next - now:
                    now += clock / rate
                    clock = rng.exponential()
                    step = min(0.5, emax - e)
                    e += step
                    _record(cp, cd, cs, ck, i, now, step, PROGRESSION)
                    _milestones(mile, levels, i, e, now)
                    continue
                if rate > 0:
                    clock -= rate * (t_next - now)
            now = t_next
            if now >= until_d:
                break
            if t_next == t_c:
                converted = True
                continue
            if t_next == t_r:
                day, size, back, delay = res[jr]
                jr += 1
                kept = size * (keep if now >= tp else 1.0)
                step = min(kept, emax - e)
                if step <= 0:
                    continue
                e += step
                _record(cp, cd, cs, ck, i, now, step, RESIDUAL)
                _milestones(mile, levels, i, e, now)
                back = min(back, step) if now < tp else 0.0
                if back > 0 and now + delay < until_d:
                    heapq.heappush(heap, (now + delay, order, back))
                    order += 1
                continue
            if t_next == t_p:
                assert pdraws is not None   # t_p is finite only with PIRA days, which come with their draws
                ud = pdraws[jp]
                jp += 1
                step = min(0.5, emax - e)
                if step <= 0:
                    continue
                e += step
                _record(cp, cd, cs, ck, i, now, step, PIRA)
                _milestones(mile, levels, i, e, now)
                if ud[1] < share:
                    when = now - tau * math.log1p(-ud[2])
                    if when < until_d:
                        heapq.heappush(heap, (when, order, step))
                        order += 1
                continue
            _, _, back = heapq.heappop(heap)
            back = min(back, e)
            if back > 0:
                e -= back
                _record(cp, cd, cs, ck, i, now, -back, REGRESSION)
    visit = VisitVariability(int(seed), idx, model.visit_share, model.visit_dwell) if model.visit_share > 0 else None
    return DisabilityPaths(ids, e0, course, np.where(prog_day < until_d, prog_day, np.inf),
                           np.array(cp, dtype=np.int64), np.array(cd, dtype=float), np.array(cs, dtype=float),
                           np.array(ck, dtype=np.int64), mile, visit)


def _record(cp: list, cd: list, cs: list, ck: list, i: int, day: float, size: float, kind: int) -> None:
    cp.append(i)
    cd.append(day)
    cs.append(size)
    ck.append(kind)


def _milestones(mile: dict, levels: tuple[float, ...], i: int, e: float, now: float) -> None:
    for lv in levels:
        if e >= lv and np.isnan(mile[lv][i]):
            mile[lv][i] = now


def _binomial_ppf(u: float, n: int, p: float) -> int:
    """Number of successes of Binomial(n, p) at the uniform u (inverse distribution function)."""
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    q = (1.0 - p) ** n
    cum, k = q, 0
    while u >= cum and k < n:
        q *= (n - k) / (k + 1) * p / (1.0 - p)
        k += 1
        cum += q
    return k


def relapse_edss(relapses: pd.DataFrame, population, paths: DisabilityPaths, times_d: np.ndarray,
                 residual_factor: float, shape: float = 1.0) -> np.ndarray:
    """Transient EDSS of relapses (n, T): residual + (rise - residual) x (1 - t/recovery)^shape
    from onset to the end of recovery (linear for shape 1, most of the fall early for shape > 1),
    with the residual kept (which the sustained path takes over at the end of recovery)."""
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
    frac = (1.0 - (times_d[col] - d[k]) / rec[k]) ** shape
    np.add.at(out, (pi[k], col), res[k] + (rise[k] - res[k]) * frac)
    return out


def edss_as_scored(paths: DisabilityPaths, relapses: pd.DataFrame, times_d: np.ndarray, model: DisabilityModel,
                   *, variability: bool = True) -> np.ndarray:
    """EDSS as scored (n, T): sustained + relapses in progress (+ visit variability), clipped to
    0-EDSS_MAX and rounded to the 0.5 grid (halves up)."""
    times_d = np.asarray(times_d, dtype=float)
    total = paths.sustained(times_d) + relapse_edss(relapses, None, paths, times_d, model.sp_residual_factor,
                                                    model.recovery_shape)
    total = np.clip(total, 0.0, model.edss_max)
    total = np.round(total * 2.0) / 2.0
    if variability:
        total = np.clip(total + paths.visit_offsets(times_d), 0.0, model.edss_max)
    return total
