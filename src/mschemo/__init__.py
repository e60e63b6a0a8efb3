"""mschemo: simulate, personalise and plan chemotherapy for multiple sclerosis.

dose -> concentration -> white-cell counts -> relapses, symptoms and disability (EDSS).
Research and education only: never a prescription.

>>> import mschemo as ms
>>> ms.Regimen.parse("12 mg/m2 over 30 min every 3 months x 8").n_doses
8

The public names are imported on first use (PEP 562), so ``import mschemo`` (and ``mschemo
--help``) loads neither numba, SciPy, pandas nor matplotlib.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from ._internal.meta import DISCLAIMER as DISCLAIMER
from ._internal.meta import __version__ as __version__
from .errors import ConvergenceError as ConvergenceError
from .errors import ConvergenceWarning as ConvergenceWarning
from .errors import InputError as InputError
from .errors import ModelError as ModelError
from .errors import MschemoError as MschemoError
from .errors import MschemoWarning as MschemoWarning
from .errors import OptionError as OptionError
from .errors import ParameterError as ParameterError
from .errors import PopulationError as PopulationError
from .errors import RegimenError as RegimenError
from .errors import RegimenWarning as RegimenWarning
from .errors import SolverError as SolverError
from .errors import UnitError as UnitError

# public name -> (module, attribute); attribute None means the module itself
_LAZY: dict[str, tuple[str, str | None]] = {
    "backends": (".backends", None),
    "models": (".models", None),
    "load_example": (".examples", "load_example"),
    "load_model": (".models", "load_model"),
    "OutputTimes": (".output", "OutputTimes"),
    "load_parameters": (".params", "load_parameters"),
    "Population": (".population", "Population"),
    "PopulationSpec": (".population", "PopulationSpec"),
    "body_surface_area": (".population", "body_surface_area"),
    "Dose": (".regimen", "Dose"),
    "EventTable": (".regimen", "EventTable"),
    "Regimen": (".regimen", "Regimen"),
    "SimulationResult": (".results", "SimulationResult"),
    "ctcae_grade": (".results", "ctcae_grade"),
    "simulate": (".simulation", "simulate"),
    "simulate_with_rules": (".simulation", "simulate_with_rules"),
    "dosing": (".dosing", None),
    "Course": (".dosing", "Course"),
    "DosingRules": (".dosing", "DosingRules"),
    "read_rules": (".dosing", "read_rules"),
    "decide": (".dosing", "decide"),
    "Drug": (".drugs", "Drug"),
    "load_drug": (".drugs", "load_drug"),
    "available_drugs": (".drugs", "available_drugs"),
    "disease": (".disease", None),
    "simulate_disease": (".disease", "simulate_disease"),
    "Treatments": (".disease", "Treatments"),
    "DiseaseResult": (".disease", "DiseaseResult"),
    "plot_timeline": (".presentation.timeline", "plot_timeline"),
    "plot_counts": (".presentation", "plot_counts"),
    "plot_drugs": (".presentation", "plot_drugs"),
    "save_figure": (".presentation", "save_figure"),
    "trials": (".trials", None),
    "TrialSpec": (".trials", "TrialSpec"),
    "run_trial": (".trials", "run_trial"),
    "load_trial_example": (".trials", "load_trial_example"),
    "read_patient": (".estimation.patient", "read_patient"),
    "patient_from_text": (".estimation.patient", "patient_from_text"),
    "estimate_map": (".estimation.map", "estimate_map"),
    "estimate_map_many": (".estimation.batch", "estimate_map_many"),
    "sample_posterior": (".estimation.map", "sample_posterior"),
    "NadirTarget": (".planning", "NadirTarget"),
    "recommend_dose": (".planning", "recommend_dose"),
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from . import backends as backends
    from . import disease as disease
    from . import dosing as dosing
    from . import models as models
    from . import trials as trials
    from .disease import DiseaseResult as DiseaseResult
    from .disease import Treatments as Treatments
    from .disease import simulate_disease as simulate_disease
    from .dosing import Course as Course
    from .dosing import DosingRules as DosingRules
    from .dosing import decide as decide
    from .dosing import read_rules as read_rules
    from .drugs import Drug as Drug
    from .drugs import available_drugs as available_drugs
    from .drugs import load_drug as load_drug
    from .estimation.batch import estimate_map_many as estimate_map_many
    from .estimation.map import estimate_map as estimate_map
    from .estimation.map import sample_posterior as sample_posterior
    from .estimation.patient import patient_from_text as patient_from_text
    from .estimation.patient import read_patient as read_patient
    from .examples import load_example as load_example
    from .models import load_model as load_model
    from .output import OutputTimes as OutputTimes
    from .params import load_parameters as load_parameters
    from .planning import NadirTarget as NadirTarget
    from .planning import recommend_dose as recommend_dose
    from .population import Population as Population
    from .population import PopulationSpec as PopulationSpec
    from .population import body_surface_area as body_surface_area
    from .presentation import plot_counts as plot_counts
    from .presentation import plot_drugs as plot_drugs
    from .presentation import save_figure as save_figure
    from .presentation.timeline import plot_timeline as plot_timeline
    from .regimen import Dose as Dose
    from .regimen import EventTable as EventTable
    from .regimen import Regimen as Regimen
    from .results import SimulationResult as SimulationResult
    from .results import ctcae_grade as ctcae_grade
    from .simulation import simulate as simulate
    from .simulation import simulate_with_rules as simulate_with_rules
    from .trials import TrialSpec as TrialSpec
    from .trials import load_trial_example as load_trial_example
    from .trials import run_trial as run_trial


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        if not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f"{__name__}.{name}")   # a submodule: ms.results, ms.units, ...
        raise AttributeError(f"module 'mschemo' has no attribute {name!r}")
    module, attr = _LAZY[name]
    mod = importlib.import_module(module, __name__)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__", "DISCLAIMER", "backends", "models", "simulate", "load_model", "load_example", "load_parameters",
    "Regimen", "Dose", "EventTable", "Population", "PopulationSpec", "OutputTimes", "SimulationResult",
    "body_surface_area", "ctcae_grade", "load_drug", "available_drugs", "Drug", "simulate_with_rules", "Course",
    "dosing", "DosingRules", "read_rules", "decide", "disease", "simulate_disease", "Treatments", "DiseaseResult", "plot_timeline", "plot_counts", "plot_drugs", "save_figure",
    "trials", "TrialSpec", "run_trial", "load_trial_example", "read_patient", "patient_from_text", "estimate_map", "estimate_map_many", "sample_posterior",
    "NadirTarget", "recommend_dose",
    "MschemoError", "InputError", "UnitError", "RegimenError", "PopulationError", "ParameterError", "ModelError",
    "OptionError", "SolverError", "ConvergenceError", "ConvergenceWarning", "MschemoWarning", "RegimenWarning",
]
