"""Dose planning for one patient: the next dose and date from the patient's posterior, the drug's
rules before it (:func:`mschemo.dosing.decide`), and a printable infusion-centre sheet.

- :mod:`.target`: the wanted nadir range; :mod:`.context`: the patient, the drug and the facts the
  rules read; :mod:`.candidates`: candidate doses, their predictions and the choice;
  :mod:`.recommend`: the steps; :mod:`.plan`: the result; :mod:`.texts`, :mod:`.figure`,
  :mod:`.sheet`: how it is shown.

>>> import mschemo as ms
>>> ms.NadirTarget(wbc=(1.5, 2.0)).kind
'wbc'

Research and education only, not a prescription.
"""

from .figure import plot_plan
from .plan import DECISIONS, DosePlan
from .recommend import recommend_dose
from .target import NadirTarget

__all__ = ["DECISIONS", "DosePlan", "NadirTarget", "plot_plan", "recommend_dose"]
