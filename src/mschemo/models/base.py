"""The model contract: a system of ODEs that knows nothing of doses or patients."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["Model"]


class Model(abc.ABC):
    """A system of ODEs with named states, parameters and outputs.

    Time is in days, amounts in mg, volumes in L, concentrations in mg/L, counts in 10^9/L.
    ``p`` is a mapping from parameter name to its (individual) value in those units.
    """

    name: str = "model"

    @property
    @abc.abstractmethod
    def states(self) -> tuple[str, ...]:
        """State names, in the order of the state vector."""

    @property
    @abc.abstractmethod
    def parameters(self) -> tuple[str, ...]:
        """Names of the parameters the equations need."""

    @property
    def outputs(self) -> tuple[str, ...]:
        """Names of the quantities recorded, with units in the name (e.g. 'wbc_1e9_per_L')."""
        return ()

    @abc.abstractmethod
    def initial_state(self, p: Mapping[str, float]) -> np.ndarray:
        """State vector before any dose (the untreated steady state)."""

    def describe(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


def check_names(names: Sequence[str]) -> None:
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if list(names).count(n) > 1})
        from ..errors import ModelError

        raise ModelError(f"the chained model has duplicate parameter or state names {dup}; give each PD block its own output name.")
