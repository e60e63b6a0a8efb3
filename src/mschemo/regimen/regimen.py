"""Dosing regimens: :class:`Regimen`, an ordered tuple of :class:`~mschemo.regimen.Dose` records, and
:class:`EventTable`, a regimen per patient ID read from a NONMEM-style event table.

A :class:`Regimen` knows nothing of models or patients: amounts in mg/m2 or mg/kg are turned into
mg per patient by the engine, from body-surface area or weight. Internal units: days and mg (rates
in mg/day, or mg/m2/day for a mg/m2 dose).

>>> Regimen.parse("12 mg/m2 over 30 min every 91 days x 8").n_doses
8
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import RegimenError
from .dose import Dose
from .events import read_event_table
from .parse_text import parse_regimen_text

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Regimen", "EventTable"]


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
