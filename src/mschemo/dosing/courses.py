"""Courses (doses given together) and conversions between dose units for one patient.

A dose is written in mg, mg/m2 (times the body-surface area) or mg/kg (times the body weight).
:class:`BodySize` converts an amount from one unit to another for one patient, by the one rule
:func:`mschemo.regimen.mg_per` (which the engine's records use too).

>>> BodySize(bsa_m2=1.8, weight_kg=70.0).to_mg(12.0, "mg/m2")
21.6
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import RegimenError
from ..regimen import PER_BODY, Dose, Regimen, mg_per

__all__ = ["DOSE_UNITS", "BodySize", "Course", "courses_of", "capped"]

#: dose units and the body measure each is per (None: per patient)
DOSE_UNITS = PER_BODY
_TIME_EPS = 1e-9


@dataclass(frozen=True)
class BodySize:
    """The body measures a dose unit scales by: body-surface area (m2) and weight (kg)."""

    bsa_m2: float
    weight_kg: float

    def per(self, unit: str) -> float:
        """mg per one ``unit`` of dose for this patient (1 for mg, the BSA for mg/m2, the weight for mg/kg)."""
        return mg_per(unit, self.bsa_m2, self.weight_kg)

    def to_mg(self, amount: float, unit: str) -> float:
        """``amount`` in ``unit`` as mg."""
        return amount * self.per(unit)

    def convert(self, amount: float, unit: str, target: str) -> float:
        """``amount`` in ``unit`` as ``target`` (through mg)."""
        return self.to_mg(amount, unit) / self.per(target)

    def total(self, given: Sequence[tuple[float, str]], target: str) -> float:
        """The sum of (amount, unit) pairs in ``target``, added in order (each term as :meth:`convert`
        gives it; mg per unit looked up once per unit)."""
        per_target = self.per(target)
        per_unit: dict[str, float] = {}
        total = 0.0
        for amount, unit in given:
            p = per_unit.get(unit)
            if p is None:
                p = per_unit[unit] = self.per(unit)
            total = total + amount * p / per_target
        return total


@dataclass(frozen=True)
class Course:
    """Doses given together (one infusion, or a cladribine treatment year): ``doses`` have times
    relative to ``start_d`` (days)."""

    start_d: float
    doses: tuple[Dose, ...]

    @functools.cached_property
    def amount(self) -> float:
        """The course's total amount, in :attr:`unit` (worked out once: a course is frozen)."""
        return float(sum(d.amount for d in self.doses))

    @property
    def unit(self) -> str:
        return self.doses[0].unit if self.doses else "mg"

    def scaled(self, factor: float) -> Course:
        return Course(self.start_d, tuple(d.replace(amount=d.amount * factor, rate_per_d=d.rate_per_d * factor)
                                          for d in self.doses))

    def shifted(self, days: float) -> Course:
        """The same course ``days`` later."""
        return Course(self.start_d + days, self.doses)

    def at(self, start_d: float) -> list[Dose]:
        """The doses with absolute times for a course that starts on ``start_d``."""
        return [d.at(start_d + d.time_d) for d in self.doses]

    def mg(self, body: BodySize) -> float:
        """The course's total dose in mg for one patient."""
        return sum(body.to_mg(d.amount, d.unit) for d in self.doses)


def courses_of(regimen: Regimen, window_d: float = 0.0) -> list[Course]:
    """Split a regimen into courses: ADDL doses become single doses; a dose that starts within
    ``window_d`` days of a course's first dose joins that course."""
    singles: list[Dose] = []
    for d in regimen.doses:
        if d.ss or d.evid != 1:
            raise RegimenError("dosing rules apply to plain doses; a steady-state or reset record (SS, EVID 3/4) "
                               "cannot be checked dose by dose, so simulate it without rules.")
        for k in range(d.addl + 1):
            singles.append(d.replace(time_d=d.time_d + k * d.ii_d, addl=0, ii_d=0.0))
    singles.sort(key=lambda d: d.time_d)
    courses: list[Course] = []
    for d in singles:
        if courses and d.time_d - courses[-1].start_d <= window_d + _TIME_EPS and window_d > 0:
            c = courses[-1]
            courses[-1] = Course(c.start_d, c.doses + (d.replace(time_d=d.time_d - c.start_d),))
        else:
            courses.append(Course(d.time_d, (d.replace(time_d=0.0),)))
    return courses


def capped(course: Course, cap_mg: float, body: BodySize) -> Course:
    """The course scaled down so that its total is at most ``cap_mg`` mg for this patient
    ("12 mg/m2, at most 20 mg")."""
    mg = course.mg(body)
    return course.scaled(cap_mg / mg) if mg > cap_mg * (1.0 + 1e-12) else course
