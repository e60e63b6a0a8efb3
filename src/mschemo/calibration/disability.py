"""Untreated cohorts followed from onset, and the disability figures they are checked against.

The calibration script (calibration/calibrate_disability.py) fits the progression rates to the
Cardiff relapsing-onset milestones; the reference tests recompute them, and the figures not used
for fitting, on new cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..disease.disability import YEAR, DisabilityModel, DisabilityPaths, simulate_disability
from ..disease.relapse_course import relapse_courses
from ..disease.relapses import simulate_relapses
from ..population import Population

__all__ = ["CARDIFF_RELAPSING_ONSET", "onset_cohort", "NaturalHistory", "natural_history"]

# Harding KE et al., J Neurol Neurosurg Psychiatry 2015;86:13 (2,131 patients, Cardiff population
# cohort): median years from onset to EDSS 4 / 6 / 8, relapsing onset.
CARDIFF_RELAPSING_ONSET = {4.0: 17.1, 6.0: 22.1, 8.0: 39.7}
LEVELS = (3.0, 4.0, 6.0, 7.0, 8.0)


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
        sel = np.ones(p.change_day.size, bool) if years is None else p.change_day <= years * YEAR
        total = p.change_size[sel].sum()
        return float(p.change_size[sel & (p.change_kind != 3)].sum() / total) if total else float("nan")

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
