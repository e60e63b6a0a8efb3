"""An arm's treatment over time: its drug phases as each patient's planned courses, its DMT phases as
periods of a relapse-rate ratio, its co-medication pulses.

A drug phase's regimen starts at the phase's start and loses the doses at or after its stop; several
phases of the arm's drug are joined into one plan, which the drug's dosing rules then decide course
by course. A per-dose cap in mg (``max_dose``) scales a course down for patients whose body size
would take it above the cap ("12 mg/m2, at most 20 mg"). A DMT phase may start after a given course
of the drug (``start_after_course``), on the day that course was given, so it follows each
patient's own delays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..dosing import GIVEN, BodySize, Course, capped, courses_of
from ..regimen import Regimen
from ..units import parse_dose
from .spec import Arm, Phase

__all__ = ["drug_plan", "dmt_periods", "pulse_days", "dose_days"]


def _phase_courses(drug, phase: Phase) -> list[Course] | Callable:
    """The phase's courses with absolute start days (label plans stay per patient)."""
    plan = drug.plan(phase.regimen)
    window = drug.rules.course_window_d
    if isinstance(plan, Regimen):
        courses = [Course(c.start_d + phase.start_d, c.doses) for c in courses_of(plan, window)]
        return [c for c in courses if c.start_d < phase.stop_d - 1e-9]

    def per_patient(population) -> list[list[Course]]:
        return [[Course(c.start_d + phase.start_d, c.doses) for c in p if c.start_d + phase.start_d < phase.stop_d - 1e-9]
                for p in plan(population)]
    return per_patient


def drug_plan(drug, arm: Arm) -> Callable[[Any], list[list[Course]]] | None:
    """Each patient's planned courses of the arm's drug (None: the arm has no drug)."""
    phases = [p for p in arm.plan() if p.drug is not None]
    if not phases:
        return None
    parts = [(_phase_courses(drug, p), parse_dose(p.max_dose, "max_dose")[0] if p.max_dose else math.inf) for p in phases]

    def plan(population) -> list[list[Course]]:
        n = len(population)
        bsa, weight = population.covariate("bsa_m2"), population.covariate("weight_kg")
        out: list[list[Course]] = [[] for _ in range(n)]
        for courses, cap in parts:
            per = courses(population) if callable(courses) else [courses] * n
            for i in range(n):
                body = BodySize(float(bsa[i]), float(weight[i]))
                cs = per[i] if math.isinf(cap) else [capped(c, cap, body) for c in per[i]]
                out[i].extend(cs)
        for cs in out:
            cs.sort(key=lambda c: c.start_d)
        return out
    return plan


def dose_days(decisions: pd.DataFrame | None, ids: Iterable[Any]) -> dict[Any, np.ndarray]:
    """Days each patient was given a course (from a result's decisions table)."""
    if decisions is None or not len(decisions):
        return {pid: np.zeros(0) for pid in ids}
    given = decisions[decisions["action"].isin(GIVEN)]
    by = {pid: g["day"].to_numpy(dtype=float) for pid, g in given.groupby("id")}
    return {pid: np.sort(by.get(pid, np.zeros(0))) for pid in ids}


def dmt_periods(arm: Arm, ids: Iterable[Any], given: dict[Any, np.ndarray],
                end_d: float) -> dict[Any, list[tuple[float, float, str]]]:
    """Each patient's periods of disease-modifying therapy: [(start, stop, name), ...]. A phase that
    starts after course k starts on the day course k was given (plus ``start``); a patient who never
    got course k does not start it."""
    phases = [p for p in arm.plan() if p.dmt is not None]
    out: dict[Any, list[tuple[float, float, str]]] = {}
    for pid in ids:
        periods = []
        for p in phases:
            start = p.start_d
            if p.start_after_course is not None:
                days = given.get(pid, np.zeros(0))
                if days.size < p.start_after_course:
                    continue
                start += float(days[p.start_after_course - 1])
            stop = min(p.stop_d, end_d)
            if start < stop:
                periods.append((start, stop, p.dmt))
        if periods:
            out[pid] = periods
    return out


def pulse_days(arm: Arm, ids: Iterable[Any]) -> dict[Any, list[float]]:
    """Each patient's days of scheduled methylprednisolone pulses."""
    days = sorted(d for c in arm.comedication for d in c.days())
    return {pid: days for pid in ids} if days else {}
