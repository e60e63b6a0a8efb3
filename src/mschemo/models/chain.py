"""Chain models: linear PK drives one or more transit PD blocks through the central concentration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ModelError
from .base import Model, check_names
from .pk_linear import LinearPK
from .transit import TransitPD

if TYPE_CHECKING:  # pragma: no cover
    from ..params import ParameterSet

__all__ = ["ChainedModel", "chain"]


class ChainedModel(Model):
    """PK -> PD: the PD blocks see C = A_central / V1. Optionally carries a ParameterSet
    (typical values, variability and sources) so that it can be simulated as it is."""

    def __init__(self, pk: LinearPK, pd: tuple[TransitPD, ...] = (), parameter_set: ParameterSet | None = None,
                 name: str | None = None, title: str = "") -> None:
        if not isinstance(pk, LinearPK):
            raise ModelError("the first model of a chain must be a LinearPK; PD blocks follow it.")
        if not all(isinstance(b, TransitPD) for b in pd):
            raise ModelError("every PD block of a chain must be a TransitPD model (Friberg, LymphocyteTransit).")
        outs = [b.output for b in pd]
        if len(set(outs)) != len(outs):
            raise ModelError(f"two PD blocks share the output name {sorted({o for o in outs if outs.count(o) > 1})}; give each its own.")
        self.pk = pk
        self.pd = tuple(pd)
        check_names(self.parameters)
        self.parameter_set = parameter_set
        self.name = name or " + ".join([pk.name] + [b.name for b in pd])
        self.title = title or self.describe()
        if parameter_set is not None:
            missing = [n for n in self.parameters if n not in parameter_set]
            if missing:
                raise ModelError(f"parameter file {parameter_set.path} lacks {', '.join(missing)} needed by {self.describe()}; add them.")

    # -- names --------------------------------------------------------------------------------
    @property
    def states(self) -> tuple[str, ...]:
        return self.pk.states + tuple(s for b in self.pd for s in b.states)

    @property
    def parameters(self) -> tuple[str, ...]:
        return self.pk.parameters + tuple(n for b in self.pd for n in b.parameters)

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.pk.outputs + tuple(o for b in self.pd for o in b.outputs)

    @property
    def count_outputs(self) -> tuple[str, ...]:
        """Outputs that are cell counts (10^9/L)."""
        return tuple(o for b in self.pd for o in b.outputs)

    def describe(self) -> str:
        return " -> ".join([self.pk.describe()] + [b.describe() for b in self.pd])

    # -- values -------------------------------------------------------------------------------
    def typical_parameters(self) -> dict[str, float]:
        if self.parameter_set is None:
            raise ModelError(f"model {self.name} has no parameter file; build it with load_model(...) or give parameters.")
        return {n: self.parameter_set[n].value for n in self.parameters}

    def with_parameters(self, parameter_set: ParameterSet) -> ChainedModel:
        return ChainedModel(self.pk, self.pd, parameter_set, name=self.name, title=self.title)

    def block_slices(self) -> list[slice]:
        out, start = [], len(self.pk.states)
        for b in self.pd:
            out.append(slice(start, start + len(b.states)))
            start += len(b.states)
        return out

    def initial_state(self, p: Mapping[str, float]) -> np.ndarray:
        return np.concatenate([self.pk.initial_state(p)] + [b.initial_state(p) for b in self.pd])

    def rhs(self, t: float, y: np.ndarray, p: Mapping[str, float], rate: np.ndarray) -> np.ndarray:
        """The whole system as ODEs (the reference backend's view): PK amounts, then each PD block."""
        n = len(self.pk.states)
        dy = np.empty_like(y)
        dy[:n] = self.pk.rhs(t, y[:n], p, rate)
        c = y[self.pk.central_index] / p["V1"]
        for b, sl in zip(self.pd, self.block_slices()):
            dy[sl] = b.rhs(t, y[sl], p, c)
        return dy

    def output_values(self, y: np.ndarray, p: Mapping[str, float]) -> np.ndarray:
        """Outputs (same order as :attr:`outputs`) from a state vector."""
        vals = [y[self.pk.central_index] / p["V1"]]
        vals += [y[sl][-1] for sl in self.block_slices()]
        return np.array(vals)


def chain(pk: LinearPK, *pd: TransitPD, parameter_set: ParameterSet | None = None) -> ChainedModel:
    """Chain a PK model with PD blocks: ``chain(LinearPK(3), Friberg("wbc"))``."""
    return ChainedModel(pk, tuple(pd), parameter_set)
