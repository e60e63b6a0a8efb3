"""mschemo: simulate, personalise and plan chemotherapy for multiple sclerosis.

dose -> concentration -> white-cell counts (and, in later layers, relapses and disability).
Research and education only: never a prescription.

>>> import mschemo as ms
>>> ms.Regimen.parse("12 mg/m2 over 30 min every 3 months x 8").n_doses
8
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import backends as backends  # noqa: E402
from . import models as models  # noqa: E402
from .errors import (  # noqa: E402
    InputError as InputError,
    MschemoError as MschemoError,
    ModelError as ModelError,
    OptionError as OptionError,
    ParameterError as ParameterError,
    PopulationError as PopulationError,
    RegimenError as RegimenError,
    SolverError as SolverError,
    UnitError as UnitError,
)
from .examples import load_example as load_example  # noqa: E402
from .models import load_model as load_model  # noqa: E402
from .output import OutputTimes as OutputTimes  # noqa: E402
from .params import load_parameters as load_parameters  # noqa: E402
from .population import Population as Population  # noqa: E402
from .population import PopulationSpec as PopulationSpec  # noqa: E402
from .population import body_surface_area as body_surface_area  # noqa: E402
from .regimen import Dose as Dose  # noqa: E402
from .regimen import EventTable as EventTable  # noqa: E402
from .regimen import Regimen as Regimen  # noqa: E402
from .results import SimulationResult as SimulationResult  # noqa: E402
from .results import ctcae_grade as ctcae_grade  # noqa: E402
from .simulate import simulate as simulate  # noqa: E402

DISCLAIMER = "Research and education only, not a prescription."

__all__ = [
    "__version__", "DISCLAIMER", "backends", "models", "simulate", "load_model", "load_example", "load_parameters",
    "Regimen", "Dose", "EventTable", "Population", "PopulationSpec", "OutputTimes", "SimulationResult",
    "body_surface_area", "ctcae_grade",
    "MschemoError", "InputError", "UnitError", "RegimenError", "PopulationError", "ParameterError", "ModelError",
    "OptionError", "SolverError",
]
