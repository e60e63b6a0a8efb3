"""Dose planning for one patient: the next dose and date from the patient's posterior, the label
rules before it, and a printable infusion-centre sheet.

>>> import mschemo as ms
>>> ms.NadirTarget(wbc=(1.5, 2.0)).kind
'wbc'

Research and education only, not a prescription.
"""

from .recommend import DECISIONS, DosePlan, NadirTarget, plot_plan, recommend_dose

__all__ = ["DECISIONS", "DosePlan", "NadirTarget", "plot_plan", "recommend_dose"]
