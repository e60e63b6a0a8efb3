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
      x ConvergenceError(RuntimeError)  a fit did not converge (carries ``patient_id``) -> CLI: the
                                    message on stderr, exit code 2, no output file

Warnings: ``MschemoWarning`` and its children ``ExtrapolationWarning``, ``RegimenWarning`` and
``ConvergenceWarning``.

Every ``InputError`` message is one sentence that names the field, the value and the fix. A
``ConvergenceError`` (and a ``ConvergenceWarning``) says in its first sentence what failed for which
patient, then lists numbered causes to check, each with its fix.
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
    "ConvergenceError",
    "MschemoWarning",
    "ExtrapolationWarning",
    "RegimenWarning",
    "ConvergenceWarning",
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


class ConvergenceError(MschemoError, RuntimeError):
    """A fit did not converge, e.g. the MAP estimate of a patient's parameters.

    The message's first line says what failed for which patient; numbered lines follow, each a likely
    cause and its fix.
    """

    def __init__(self, message: str, patient_id: object = None) -> None:
        super().__init__(message)
        self.patient_id = patient_id


class MschemoWarning(UserWarning):
    """Base class of mschemo's warnings."""


class ExtrapolationWarning(MschemoWarning):
    """A dose or covariate lies outside the range the parameters were estimated on."""


class RegimenWarning(MschemoWarning):
    """A regimen runs but a clinician would question it (an IV drug with no infusion time, a course
    above the label's with no dosing rule to check it)."""


class ConvergenceWarning(MschemoWarning):
    """A fit did not converge and its best point was kept (``on_failure="warn"``); the text is that of
    the :class:`ConvergenceError` it replaces."""
