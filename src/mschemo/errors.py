"""Exceptions and warnings raised by mschemo.

The tree::

    MschemoError
      x InputError(ValueError)      bad user input -> CLI: one sentence on stderr, exit code 2,
        + UnitError                   no output file
        + RegimenError
        + PopulationError
        + ParameterError
        + ModelError
        + OptionError
      x SolverError(RuntimeError)   a patient's ODE solve failed (carries ``patient_id``)

Warnings: ``MschemoWarning`` and its child ``ExtrapolationWarning``.

Every ``InputError`` message is one sentence that names the field, the value and the fix.
"""

from __future__ import annotations

__all__ = [
    "MschemoError",
    "InputError",
    "UnitError",
    "RegimenError",
    "PopulationError",
    "ParameterError",
    "ModelError",
    "OptionError",
    "SolverError",
    "MschemoWarning",
    "ExtrapolationWarning",
]


class MschemoError(Exception):
    """Base class of every error mschemo raises on purpose."""


class InputError(MschemoError, ValueError):
    """The user's input is wrong; the message says which field, which value and the fix."""


class UnitError(InputError):
    """A quantity or unit could not be read ("12 mg/m", "30 minz")."""


class RegimenError(InputError):
    """A dosing regimen or event table is malformed."""


class PopulationError(InputError):
    """A population specification or patient table is malformed."""


class ParameterError(InputError):
    """A parameter file or parameter value is malformed or unsourced."""


class ModelError(InputError):
    """An unknown model or drug, or a model that cannot be built."""


class OptionError(InputError):
    """An option of simulate() or the CLI is out of range."""


class SolverError(MschemoError, RuntimeError):
    """The ODE solve of one patient failed."""

    def __init__(self, message: str, patient_id: object = None) -> None:
        super().__init__(message)
        self.patient_id = patient_id


class MschemoWarning(UserWarning):
    """Base class of mschemo's warnings."""


class ExtrapolationWarning(MschemoWarning):
    """A dose or covariate lies outside the range the parameters were estimated on."""
