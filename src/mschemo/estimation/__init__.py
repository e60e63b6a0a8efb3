"""Bayesian dose personalisation: a patient's file, their own parameters, their next dose.

:mod:`.patient` reads and checks patient files (covariates, doses, dated counts, LVEF).
"""

from .patient import COUNT_KINDS, PatientRecord, read_patient

__all__ = ["COUNT_KINDS", "PatientRecord", "read_patient"]
