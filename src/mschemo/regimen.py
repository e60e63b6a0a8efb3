"""Dosing regimens: what is given, when, how and into which compartment.

A :class:`Regimen` is a tuple of :class:`Dose` records with NONMEM semantics (EVID, AMT, RATE or
duration, II, ADDL, SS, per-dose bioavailability and lag). It knows nothing of models or patients:
amounts in mg/m2 or mg/kg are turned into mg per patient by the engine, from body-surface area or
weight. Internal units: days and mg (rates in mg/day, or mg/m2/day for a mg/m2 dose).

>>> Regimen.parse("12 mg/m2 over 30 min every 91 days x 8").n_doses
8
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import RegimenError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Dose", "Regimen", "EventTable", "AMOUNT_UNITS"]

#: dose amount units understood by the engine: per patient, per m2 body surface, per kg body weight
AMOUNT_UNITS = ("mg", "mg/m2", "mg/kg")


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
        if (self.addl > 0 or self.ss in (1, 2)) and self.ii_d <= 0 and not (self.ss and self.amount == 0 and self.rate_per_d > 0):
            raise RegimenError(f"{where} repeats (ADDL or SS) but has interval II {self.ii_d:g} d; give an interval > 0 (e.g. 'every 3 months').")
        if self.ss and self.ii_d > 0 and self.duration_d == 0 and self.rate_per_d == 0 and self.amount == 0:
            raise RegimenError(f"{where} is a steady-state record with amount 0; give the amount given each interval.")
        if self.bioavailability is not None:
            _finite("bioavailability", self.bioavailability, where)
            if self.bioavailability < 0:
                raise RegimenError(f"{where} has bioavailability {self.bioavailability:g}; it must be >= 0.")
        if self.lag_d is not None:
            _finite("lag time", self.lag_d, where)
            if self.lag_d < 0:
                raise RegimenError(f"{where} has lag time {self.lag_d:g} d; a lag must be >= 0.")
        if isinstance(self.cmt, bool) or not isinstance(self.cmt, (str, int, np.integer)):
            raise RegimenError(f"{where} has compartment {self.cmt!r}; give a name such as 'central' or a number.")
        if isinstance(self.cmt, (int, np.integer)) and self.cmt < 1:
            raise RegimenError(f"{where} has compartment number {self.cmt}; NONMEM compartments start at 1.")

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


@dataclass(frozen=True, slots=True)
class Regimen:
    """An ordered tuple of dose records. Build with :meth:`parse`, :meth:`from_doses` or
    :meth:`EventTable.read`; a change returns a new Regimen."""

    doses: tuple[Dose, ...]
    text: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.doses, tuple) or not all(isinstance(d, Dose) for d in self.doses):
            raise RegimenError("a Regimen holds a tuple of Dose records; build one with Regimen.parse(...) or Regimen.from_doses(...).")
        # Records at equal times keep their order (NONMEM processes records in data-set order).
        times = [d.time_d for d in self.doses]
        if any(b < a for a, b in zip(times, times[1:])):
            raise RegimenError("the dose records are not in time order; sort them by time (records at equal times keep their order).")

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> Regimen:
        """Read a regimen written as people write it.

        >>> Regimen.parse("12 mg/m2 over 30 min every 3 months x 8").doses[0].addl
        7
        """
        from ._regimen_text import parse_regimen_text

        return cls(tuple(parse_regimen_text(text)), text=str(text))

    @classmethod
    def from_doses(cls, doses: Iterable[Dose], text: str = "") -> Regimen:
        return cls(tuple(sorted(doses, key=lambda d: d.time_d)), text=text)

    @classmethod
    def empty(cls) -> Regimen:
        """No dose at all (untreated patients)."""
        return cls((), text="no dose")

    # -- views --------------------------------------------------------------------------------
    @property
    def n_doses(self) -> int:
        """Number of administrations, ADDL doses included."""
        return sum(d.n_given for d in self.doses)

    def dose_times_d(self) -> np.ndarray:
        """Sorted nominal administration times (days), ADDL expanded, lags ignored."""
        if not self.doses:
            return np.empty(0)
        return np.sort(np.concatenate([d.times_d() for d in self.doses]))

    def scaled(self, factor: float) -> Regimen:
        """Every amount (and rate) times ``factor``; durations kept (a new Regimen)."""
        if not math.isfinite(factor) or factor < 0:
            raise RegimenError(f"scale factor {factor!r} is not a finite number >= 0; give e.g. 0.75 for a 25 % reduction.")
        return Regimen(tuple(d.replace(amount=d.amount * factor, rate_per_d=d.rate_per_d * factor) for d in self.doses),
                       text=f"{self.text} (x{factor:g})" if self.text else "")

    def describe(self) -> str:
        return self.text or f"{len(self.doses)} dose record(s), {self.n_doses} administration(s)"

    def to_frame(self) -> pd.DataFrame:
        """The records as a table (one row per record, NONMEM-like columns with units)."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "time_d": d.time_d, "evid": d.evid, "amount": d.amount, "unit": d.unit, "cmt": d.cmt,
                    "duration_d": d.duration_d, "rate_per_d": d.rate_per_d, "ii_d": d.ii_d, "addl": d.addl,
                    "ss": d.ss, "bioavailability": d.bioavailability, "lag_d": d.lag_d,
                }
                for d in self.doses
            ]
        )

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.describe()


@dataclass(frozen=True)
class EventTable:
    """Dose records per patient id, read from a NONMEM-style event table (CSV).

    Columns: ID, TIME, EVID, AMT, CMT, RATE or DUR, II, ADDL, SS (others ignored); observation
    records (EVID 0) give per-patient output times. ``time_unit`` converts TIME, II, DUR and RATE.
    """

    regimens: dict
    observation_times_d: dict
    source: str = ""

    @classmethod
    def read(cls, path: str | Path, *, time_unit: str = "d", amount_unit: str = "mg",
             columns: dict | None = None) -> EventTable:
        """Read a CSV; ``columns`` maps roles to other column names (e.g. {"D": "DUR2", "F": None})."""
        from ._regimen_text import read_event_table

        regimens, obs = read_event_table(path, time_unit=time_unit, amount_unit=amount_unit, columns=columns)
        return cls({k: Regimen(tuple(v), text=f"{Path(path).name} ID {k}") for k, v in regimens.items()}, obs,
                   source=str(path))

    @property
    def ids(self) -> list:
        return list(self.regimens)

    def for_id(self, patient_id: object) -> Regimen:
        try:
            return self.regimens[patient_id]
        except KeyError:
            raise RegimenError(f"the event table {self.source or ''} has no records for patient ID {patient_id!r}; "
                               "add them or simulate only the IDs it holds.") from None
