"""A dose record: what is given, when, how and into which compartment (NONMEM semantics).

A :class:`Dose` holds EVID, AMT, RATE or duration, II, ADDL, SS, per-dose bioavailability and lag in
internal units: days and mg (rates in mg/day, or mg/m2/day for a mg/m2 dose). Amounts in mg/m2 or
mg/kg are turned into mg per patient by the engine, from body-surface area or weight.

>>> Dose(time_d=0.0, amount=12.0, unit="mg/m2", duration_d=1 / 48).is_infusion
True
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..errors import RegimenError
from ..units import LONGEST_D, YEAR_D

__all__ = ["Dose", "AMOUNT_UNITS", "PER_BODY", "mg_per", "MAX_ADMINISTRATIONS", "MAX_AMOUNT"]

#: the most administrations one record (or one part of a regimen) may stand for (a daily dose for 27
#: years): more is a typing slip, and would ask for memory without end
MAX_ADMINISTRATIONS = 10_000
#: the largest amount of one dose in any unit (mg, mg/m2 or mg/kg): a kilogram of drug is a typing slip
MAX_AMOUNT = 1e6
#: the fastest infusion rate (amount unit per day): the largest amount in one minute
MAX_RATE_PER_D = MAX_AMOUNT * 1440
#: the largest per-dose bioavailability (a relative F above 1 is allowed; far above is a typing slip)
MAX_BIOAVAILABILITY = 10.0

#: dose amount units understood by the engine: per patient, per m2 body surface, per kg body weight
AMOUNT_UNITS = ("mg", "mg/m2", "mg/kg")
#: the body measure each dose unit is per (None: per patient), as a patient table names it
PER_BODY: dict[str, str | None] = {"mg": None, "mg/m2": "bsa_m2", "mg/kg": "weight_kg"}


def mg_per(unit: str, bsa_m2, weight_kg):
    """mg in one ``unit`` of dose: 1, the body-surface area (m2) or the weight (kg); scalars or arrays.
    The one rule that turns mg/m2 and mg/kg into mg (dosing.BodySize and the engine's records use it).

    >>> mg_per("mg/m2", 1.8, 70.0), mg_per("mg/kg", 1.8, 70.0), mg_per("mg", 1.8, 70.0)
    (1.8, 70.0, 1.0)
    """
    if unit not in PER_BODY:
        raise RegimenError(f"dose unit {unit!r} is unknown; use one of {', '.join(AMOUNT_UNITS)}.")
    measure = PER_BODY[unit]
    return 1.0 if measure is None else bsa_m2 if measure == "bsa_m2" else weight_kg


def _finite(name: str, value: float, where: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise RegimenError(f"{where} has {name} {value!r}; give a finite number.")


@dataclass(frozen=True, slots=True)
class Dose:
    """One dose record (NONMEM-style), in internal units.

    Attributes
    ----------
    time_d: time of the (first) dose, days.
    amount: amount per dose, in ``unit``.
    unit: "mg", "mg/m2" (times body-surface area) or "mg/kg" (times body weight).
    cmt: compartment name ("central", "depot", "peripheral1", ...) or NONMEM number (1-based).
    duration_d: > 0 gives a zero-order infusion of this duration (NONMEM RATE=-2); the rate is
        F*amount/duration.
    rate_per_d: > 0 gives a zero-order infusion at this rate (amount unit per day); its
        duration is F*amount/rate (NONMEM: F changes the duration, not the rate).
    ii_d: interdose interval for ADDL and SS, days.
    addl: number of additional doses after this one, every ``ii_d``.
    ss: 0 none, 1 reset and go to steady state, 2 add steady state without reset.
    evid: 1 dose, 3 reset (no dose), 4 reset and dose.
    bioavailability: per-dose override of the model's F for this compartment (None: model's).
    lag_d: per-dose override of the model's lag time for this compartment, days (None: model's).
    """

    time_d: float = 0.0
    amount: float = 0.0
    unit: str = "mg"
    cmt: str | int = "central"
    duration_d: float = 0.0
    rate_per_d: float = 0.0
    ii_d: float = 0.0
    addl: int = 0
    ss: int = 0
    evid: int = 1
    bioavailability: float | None = None
    lag_d: float | None = None

    def __post_init__(self) -> None:
        where = f"the dose at day {self.time_d:g}" if isinstance(self.time_d, (int, float)) else "a dose"
        for name in ("time_d", "amount", "duration_d", "rate_per_d", "ii_d"):
            _finite(name, getattr(self, name), where)
        if self.evid not in (1, 3, 4):
            raise RegimenError(f"{where} has EVID {self.evid!r}; use 1 (dose), 3 (reset) or 4 (reset and dose).")
        if self.unit not in AMOUNT_UNITS:
            raise RegimenError(f"{where} has amount unit {self.unit!r}; use one of 'mg', 'mg/m2' or 'mg/kg'.")
        if self.amount < 0:
            raise RegimenError(f"{where} has amount {self.amount:g} {self.unit}; a dose cannot be negative.")
        if self.time_d < 0:
            raise RegimenError(f"{where} is at day {self.time_d:g}; dose times start at day 0.")
        if self.duration_d < 0:
            raise RegimenError(f"{where} has duration {self.duration_d:g} d; an infusion must last longer than 0 (e.g. '30 min').")
        if self.rate_per_d < 0:
            raise RegimenError(f"{where} has rate {self.rate_per_d:g} per day; give a positive rate or a duration.")
        if self.duration_d > 0 and self.rate_per_d > 0:
            raise RegimenError(f"{where} has both a rate and a duration; give one of them, not both.")
        if not isinstance(self.addl, (int, np.integer)) or isinstance(self.addl, bool) or self.addl < 0:
            raise RegimenError(f"{where} has ADDL {self.addl!r}; give a whole number of additional doses >= 0.")
        if self.ss not in (0, 1, 2):
            raise RegimenError(f"{where} has SS {self.ss!r}; use 0 (none), 1 (steady state) or 2 (add steady state).")
        if self.n_given > MAX_ADMINISTRATIONS:
            raise RegimenError(f"{where} stands for {self.n_given:,} administrations (ADDL {self.addl:,}), more than "
                               f"{MAX_ADMINISTRATIONS:,}; check ADDL (the doses after the first, e.g. 7 for 8 doses).")
        if self.amount > MAX_AMOUNT:
            raise RegimenError(f"{where} has amount {self.amount:.4g} {self.unit}, more than {MAX_AMOUNT:,.0f}; check the "
                               "amount and its unit.")
        if self.rate_per_d > MAX_RATE_PER_D:
            raise RegimenError(f"{where} has rate {self.rate_per_d:.4g} per day, more than {MAX_RATE_PER_D:,.0f}; check "
                               "the rate and its time unit.")
        if (self.addl > 0 or self.ss in (1, 2)) and self.ii_d <= 0 and not (self.ss and self.amount == 0 and self.rate_per_d > 0):
            raise RegimenError(f"{where} repeats (ADDL or SS) but has interval II {self.ii_d:g} d; give an interval > 0 (e.g. 'every 3 months').")
        if self.ss and self.ii_d > 0 and self.duration_d == 0 and self.rate_per_d == 0 and self.amount == 0:
            raise RegimenError(f"{where} is a steady-state record with amount 0; give the amount given each interval.")
        if self.bioavailability is not None:
            _finite("bioavailability", self.bioavailability, where)
            if not 0 <= self.bioavailability <= MAX_BIOAVAILABILITY:
                raise RegimenError(f"{where} has bioavailability {self.bioavailability:.4g}; give a fraction from 0 to "
                                   f"{MAX_BIOAVAILABILITY:g} (usually at most 1).")
        if self.lag_d is not None:
            _finite("lag time", self.lag_d, where)
            if self.lag_d < 0:
                raise RegimenError(f"{where} has lag time {self.lag_d:g} d; a lag must be >= 0.")
        if isinstance(self.cmt, bool) or not isinstance(self.cmt, (str, int, np.integer)):
            raise RegimenError(f"{where} has compartment {self.cmt!r}; give a name such as 'central' or a number.")
        if isinstance(self.cmt, (int, np.integer)) and self.cmt < 1:
            raise RegimenError(f"{where} has compartment number {self.cmt}; NONMEM compartments start at 1.")
        self._check_spans(where)

    def _check_spans(self, where: str) -> None:
        """No time, duration, interval or lag of a record, nor its last administration, beyond LONGEST_D."""
        by_rate = self.amount / self.rate_per_d if self.rate_per_d > 0 else 0.0
        spans = (("is at day {}", self.time_d), ("lasts {} days", max(self.duration_d, by_rate)),
                 ("repeats every {} days", self.ii_d), ("has a lag of {} days", self.lag_d or 0.0),
                 ("gives its last administration on day {}", self.time_d + self.ii_d * self.addl))
        for phrase, days in spans:
            if days > LONGEST_D:
                shown = f"{days:,.0f}" if days < 1e9 else f"{days:.3g}"
                raise RegimenError(f"{where} {phrase.format(shown)}, more than {LONGEST_D / YEAR_D:.0f} years; check "
                                   "the times and their unit.")

    def at(self, time_d: float) -> Dose:
        """The same dose at day ``time_d`` (checked as the constructor checks a time; the rest was
        checked when this dose was made, so it is not checked again: a course's doses are moved to
        their day once per patient and course)."""
        if not (isinstance(time_d, (int, float)) and math.isfinite(time_d) and time_d >= 0):
            where = f"the dose at day {time_d:g}" if isinstance(time_d, (int, float)) else "a dose"
            _finite("time_d", time_d, where)
            raise RegimenError(f"{where} is at day {time_d:g}; dose times start at day 0.")
        moved = object.__new__(Dose)
        for name in _DOSE_FIELDS:
            object.__setattr__(moved, name, time_d if name == "time_d" else getattr(self, name))
        return moved

    @property
    def is_infusion(self) -> bool:
        return self.duration_d > 0 or self.rate_per_d > 0

    @property
    def n_given(self) -> int:
        """Number of administrations this record stands for (1 + ADDL; 0 for a pure reset)."""
        return 0 if self.evid == 3 else 1 + int(self.addl)

    def times_d(self) -> np.ndarray:
        """Nominal administration times, days (before any lag)."""
        if self.evid == 3:
            return np.empty(0)
        return self.time_d + self.ii_d * np.arange(self.n_given)

    def replace(self, **changes: object) -> Dose:
        return dataclasses.replace(self, **changes)


_DOSE_FIELDS = tuple(f.name for f in dataclasses.fields(Dose))
