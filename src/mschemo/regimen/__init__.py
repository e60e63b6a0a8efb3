"""Dosing regimens: what is given, when, how and into which compartment.

A :class:`Regimen` is a tuple of :class:`Dose` records with NONMEM semantics (EVID, AMT, RATE or
duration, II, ADDL, SS, per-dose bioavailability and lag). It knows nothing of models or patients:
amounts in mg/m2 or mg/kg are turned into mg per patient by the engine, from body-surface area or
weight. Internal units: days and mg (rates in mg/day, or mg/m2/day for a mg/m2 dose).

- :mod:`.dose`: the dose record :class:`Dose` and :func:`mg_per`, the one rule from mg/m2 and mg/kg to mg;
- :mod:`.parse_text`: regimens written as people write them ("12 mg/m2 over 30 min every 3 months x 8");
- :mod:`.events`: reading NONMEM-style event tables (CSV): dose records per patient ID;
- :mod:`.regimen`: :class:`Regimen`, an ordered tuple of dose records, and :class:`EventTable`, a
  regimen per patient ID.

>>> Regimen.parse("12 mg/m2 over 30 min every 91 days x 8").n_doses
8
"""

from __future__ import annotations

from .dose import AMOUNT_UNITS, PER_BODY, Dose, mg_per
from .regimen import EventTable, Regimen

__all__ = ["Dose", "Regimen", "EventTable", "AMOUNT_UNITS", "PER_BODY", "mg_per"]
