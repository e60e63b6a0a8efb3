"""Untreated cohorts followed from onset, 2-year trial arms scored at visits, and the disability
figures they are checked against.

The calibration script (calibration/calibrate_progression.py) fits the progression, regression and
visit-variability values to the Cardiff relapsing-onset milestones and to 2-year trial arms; the
reference tests recompute them, and the figures not used for fitting, on new cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..disease.disability import (
    PIRA,
    PROGRESSION,
    YEAR,
    DisabilityModel,
    DisabilityPaths,
    edss_as_scored,
    simulate_disability,
)
from ..disease.endpoints import (
    SIX_MONTHS,
    THREE_MONTHS,
    Confirmed,
    confirmed_improvement,
    confirmed_progression,
    relapse_associated,
)
from ..disease.relapse_course import relapse_courses
from ..disease.relapses import simulate_relapses
from ..population import Population

__all__ = ["CARDIFF_RELAPSING_ONSET", "onset_cohort", "NaturalHistory", "natural_history", "trial_cohort",
           "TrialArm", "trial_arm", "trial_relapses", "MSBASE", "AFFIRM", "OPERA_IFN", "ORATORIO", "MAESTRO"]

# Harding KE et al., J Neurol Neurosurg Psychiatry 2015;86:13 (2,131 patients, Cardiff population
# cohort): median years from onset to EDSS 4 / 6 / 8, relapsing onset.
CARDIFF_RELAPSING_ONSET = {4.0: 17.1, 6.0: 22.1, 8.0: 39.7}
LEVELS = (3.0, 4.0, 6.0, 7.0, 8.0)

# Trial populations at baseline (mean, SD of EDSS and age; entry range of EDSS; share of women;
# years since onset; course; disease-modifying therapy of the arm).
AFFIRM = dict(edss=(2.3, 1.2), edss_range=(0.0, 5.0), age=(36.0, 8.3), female=0.70, duration_y=5.0,
              course="RRMS", dmt="none")
"""AFFIRM placebo arm: Butzkueven 2014 Table 1 (EDSS 2.3 (1.2), age 36.0 (8.3), 70 % women);
entry EDSS 0-5.0 (Polman 2006); disease duration at the relapse model's reference (5 years)."""
OPERA_IFN = dict(edss=(2.8, 1.3), edss_range=(0.0, 5.5), age=(37.2, 9.2), female=0.66, duration_y=5.0,
                 course="RRMS", dmt="interferon_beta")
"""OPERA interferon arms: age 37.2 (9.2), 65-67 % women, entry EDSS 0-5.5 (Kappos 2020 and the pooled
safety table, ms_disease_facts.md 6); baseline EDSS mean 2.8 (SD 1.3) is an assumption (not in the
shared facts); interferon beta's relapse-rate ratio."""
ORATORIO = dict(edss=(4.7, 1.2), edss_range=(3.0, 6.5), age=(44.7, 7.9), female=0.486, duration_y=6.7,
                course="PPMS", dmt="none")
"""ORATORIO placebo: EDSS 4.7 (1.2), age 44.7 (7.9), 48.6 % women, 6.7 years from onset (Hindawi
MSI 2020 table, ms_disease_facts.md 6); entry EDSS 3.0-6.5 (trial criteria, assumption)."""
MAESTRO = dict(edss=(5.5, 1.0), edss_range=(3.5, 6.5), age=(48.0, 8.0), female=0.60, duration_y=15.0,
               course="SPMS", dmt="none")
"""A secondary-progressive trial cohort (MAESTRO-01's baseline was not read): NO.MS SPMS age 48.0 and
60 % women (Lublin 2022 Table 1); EDSS 5.5 (1.0) in 3.5-6.5 and 15 years since onset are assumptions
typical of SPMS trials."""

MSBASE = dict(edss=(2.0, 1.5), edss_range=(0.0, 6.0), age=(36.4, 10.9), female=0.725, duration_y=5.0,
              course="RRMS", dmt="interferon_beta")
"""An MSBase relapsing cohort (JAMA Neurol 2025 PIRA definitions: age 36.4 (10.9), 72.5 % women, median
EDSS 2.0 (IQR 1.0-3.0)); mostly treated: interferon beta's rate ratio is taken for all (assumption)."""


def onset_cohort(n: int, *, course: str = "RRMS", edss: float = 0.0, female_share: float = 0.734,
                 onset_age: float = 32.3) -> Population:
    """n patients at disease onset (duration 0): relapsing onset (RRMS) or primary progressive
    (PPMS). Defaults: the British Columbia relapsing-onset cohort (73.4 % women, onset age 32.3;
    ms_disease_facts.md 2a); onset EDSS 0 (assumption: the first attack is counted as a relapse of
    the cohort, not as baseline disability)."""
    n_f = int(round(female_share * n))
    return Population(pd.DataFrame({"id": np.arange(1, n + 1), "height_cm": 170.0, "weight_kg": 70.0,
                                    "sex": ["F"] * n_f + ["M"] * (n - n_f), "age_y": onset_age,
                                    "ms_duration_y": 0.0, "ms_course": course, "edss": edss}))


@dataclass
class NaturalHistory:
    """A cohort's relapses and sustained-EDSS paths over ``years``."""

    population: Population
    relapses: pd.DataFrame
    paths: DisabilityPaths
    years: float

    def median_years(self, level: float) -> float:
        """Median years to sustained EDSS ``level`` (inf if fewer than half reach it)."""
        d = self.paths.milestone_day[level]
        reached = np.where(np.isnan(d), np.inf, d) / YEAR
        return float(np.median(reached))

    def share_by(self, level: float, years: float) -> float:
        d = self.paths.milestone_day[level]
        return float(np.mean(np.isfinite(d) & (d <= years * YEAR)))

    def sp_median_years(self) -> float:
        return float(np.median(self.paths.progressive_day) / YEAR)

    def pira_share(self, years: float | None = None) -> float:
        """Share of sustained EDSS points gained independently of relapses (within ``years``)."""
        p = self.paths
        sel = p.change_size > 0
        if years is not None:
            sel &= p.change_day <= years * YEAR
        total = p.change_size[sel].sum()
        indep = sel & np.isin(p.change_kind, (PIRA, PROGRESSION))
        return float(p.change_size[indep].sum() / total) if total else float("nan")

    def slope_per_year(self, from_years: float, to_years: float) -> float:
        """Mean sustained-EDSS change per year between two times since onset."""
        e = self.paths.sustained(np.array([from_years * YEAR, to_years * YEAR]))
        return float(np.mean(e[:, 1] - e[:, 0]) / (to_years - from_years))


def natural_history(n: int, seed: int, *, years: float = 60.0, course: str = "RRMS", edss: float = 0.0,
                    model: DisabilityModel | None = None, relapses: pd.DataFrame | None = None) -> NaturalHistory:
    """Untreated cohort from onset over ``years`` (relapses can be passed in to reuse them)."""
    pop = onset_cohort(n, course=course, edss=edss)
    until = years * YEAR
    if relapses is None:
        relapses = relapse_courses(simulate_relapses(pop, until, seed), pop, seed)
    paths = simulate_disability(pop, until, seed, relapses, model=model, duration_d=np.zeros(n), levels=LEVELS)
    return NaturalHistory(pop, relapses, paths, years)


def trial_cohort(n: int, seed: int, *, edss: tuple[float, float], edss_range: tuple[float, float],
                 age: tuple[float, float], female: float, duration_y: float, course: str = "RRMS",
                 dmt: str = "none") -> Population:
    """A trial arm's patients at baseline: EDSS normal (mean, SD) rounded to the 0.5 grid and redrawn
    until within ``edss_range``, age normal (18-65), women a share ``female``; drawn from
    numpy.random.default_rng(seed)."""
    rng = np.random.default_rng(seed)
    e = np.round(rng.normal(edss[0], edss[1], n) * 2.0) / 2.0
    bad = (e < edss_range[0]) | (e > edss_range[1])
    while bad.any():
        e[bad] = np.round(rng.normal(edss[0], edss[1], int(bad.sum())) * 2.0) / 2.0
        bad = (e < edss_range[0]) | (e > edss_range[1])
    a = np.clip(rng.normal(age[0], age[1], n), 18.0, 65.0)
    sex = np.where(rng.random(n) < female, "F", "M")
    return Population(pd.DataFrame({"id": np.arange(1, n + 1), "height_cm": 170.0, "weight_kg": 70.0, "sex": sex,
                                    "age_y": a, "ms_duration_y": duration_y, "ms_course": course, "edss": e, "dmt": dmt}))


@dataclass
class TrialArm:
    """A simulated trial arm scored at its visits: the disease, the visit days and scores, and the
    endpoints as trials measure them (3- and 6-month confirmed progression, 6-month confirmed
    improvement, relapse association of the 3-month events)."""

    paths: DisabilityPaths
    relapses: pd.DataFrame
    days: np.ndarray                # (V,) visit days, 0 = baseline
    edss: np.ndarray                # (n, V) EDSS as scored at the visits
    cdp3: Confirmed
    cdp6: Confirmed
    cdi6: Confirmed
    raw3: np.ndarray                # (n,) 3-month event relapse-associated (relapse within 90 days before onset)
    relapse_free: np.ndarray        # (n,) no relapse over the arm's window

    @property
    def pira_share(self) -> float:
        """Share of 3-month confirmed progression events independent of relapses."""
        ev = self.cdp3.event
        return float(np.sum(ev & ~self.raw3) / np.sum(ev)) if ev.any() else float("nan")

    def relapse_free_rate(self) -> float:
        """3-month confirmed progression rate per year among relapse-free patients (-ln(1 - p) / years)."""
        p = float(np.mean(self.cdp3.event[self.relapse_free]))
        return -np.log1p(-p) / (self.days[-1] / YEAR)

    def not_sustained(self) -> float:
        """Share of 3-month confirmed progression events not present at the last visit (the score
        there below the event's threshold): Liu & Blumhardt's 'error rate'."""
        ev = self.cdp3.event
        if not ev.any():
            return float("nan")
        base = self.edss[:, 0]
        from ..disease.endpoints import progression_step
        below = self.edss[:, -1] < base + progression_step(base) - 1e-6
        return float(np.mean(below[ev]))

    def mean_change(self) -> float:
        """Mean change of the scored EDSS from the baseline visit to the last."""
        return float(np.mean(self.edss[:, -1] - self.edss[:, 0]))

    def regressed_within(self, years: float, onset_by_years: float | None = None) -> float:
        """Share of 3-month confirmed progression events (with onset by ``onset_by_years``) whose
        score later falls below the event's threshold (baseline + step) at two consecutive visits,
        the first within ``years`` of the onset (regression confirmed at the next visit)."""
        from ..disease.endpoints import progression_step
        ev = self.cdp3.event.copy()
        if onset_by_years is not None:
            ev &= self.cdp3.day <= onset_by_years * YEAR + 1e-6
        if not ev.any():
            return float("nan")
        base = self.edss[:, 0]
        below = self.edss < (base + progression_step(base))[:, None] - 1e-6
        pair = below[:, :-1] & below[:, 1:]
        after = (self.days[None, :-1] > self.cdp3.confirm_day[:, None] - 1e-6) & \
                (self.days[None, :-1] <= self.cdp3.day[:, None] + years * YEAR + 1e-6)
        regressed = np.any(pair & after, axis=1)
        return float(np.mean(regressed[ev]))


def trial_relapses(population: Population, seed: int, years: float = 2.0) -> pd.DataFrame:
    """The relapses (with their courses) ``simulate_disease`` gives ``population`` over ``years``."""
    until = years * YEAR
    return relapse_courses(simulate_relapses(population, until, seed), population, seed)


def trial_arm(population: Population, seed: int, *, years: float = 2.0, every_d: float = THREE_MONTHS,
              confirm_d: float = THREE_MONTHS, model: DisabilityModel | None = None,
              relapses: pd.DataFrame | None = None) -> TrialArm:
    """Simulate ``population`` untreated but for its ``dmt`` over ``years`` (seed ``seed``; the EDSS
    simulate_disease gives, relapses reusable across models) and score it every ``every_d`` days
    from day 0 (the baseline). ``cdp3`` is confirmed after ``confirm_d`` (3 months; ORATORIO: 12
    weeks), ``cdp6`` after 6 months."""
    model = model or DisabilityModel.load()
    until = years * YEAR
    if relapses is None:
        relapses = trial_relapses(population, seed, years)
    duration = population.table["ms_duration_y"].to_numpy(dtype=float) * YEAR
    paths = simulate_disability(population, until, seed, relapses, model=model, duration_d=duration)
    days = np.arange(0.0, until + 1e-6, every_d)
    e = edss_as_scored(paths, relapses, days, model)
    cdp3 = confirmed_progression(days, e, confirm_d=confirm_d)
    cdp6 = confirmed_progression(days, e, confirm_d=SIX_MONTHS)
    cdi6 = confirmed_improvement(days, e, confirm_d=SIX_MONTHS, min_baseline=2.0)
    ev_day = np.where(cdp3.event, cdp3.day, np.nan)
    raw3 = relapse_associated(population.ids, ev_day, relapses, before_d=90.0) & cdp3.event
    free = ~np.isin(population.ids, relapses["id"].to_numpy())
    return TrialArm(paths, relapses, days, e, cdp3, cdp6, cdi6, raw3, free)
