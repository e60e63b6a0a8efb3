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

__all__ = ["ChainedModel", "chain", "LeukocyteSum"]


class LeukocyteSum:
    """Leukocytes as the sum of their parts: WBC = ANC * (1 + OTHER/ANC_CIRC0) + ALC.

    The white-cell count is neutrophils + lymphocytes + the other leukocytes (monocytes, eosinophils,
    basophils; OTHER at baseline, 10^9/L). The other cells are myeloid like the neutrophils and are
    taken to follow them (their count scales with ANC/ANC_CIRC0). So WBC can never fall below
    ANC + ALC, and its course is that of the two modelled populations.
    """

    def __init__(self, output: str = "wbc", neutrophils: str = "anc", lymphocytes: str = "alc") -> None:
        self.output = output
        self.neutrophils = neutrophils
        self.lymphocytes = lymphocytes

    @property
    def parameters(self) -> tuple[str, ...]:
        return (self.output.upper() + "_OTHER",)

    @property
    def column(self) -> str:
        return self.output + "_1e9_per_L"

    def describe(self) -> str:
        return f"{self.output} = {self.neutrophils} x (1 + other/{self.neutrophils}0) + {self.lymphocytes}"

    def values(self, anc: np.ndarray, alc: np.ndarray, other: np.ndarray, anc0: np.ndarray) -> np.ndarray:
        """WBC (10^9/L); anc, alc: (n, t); other, anc0: (n,) per patient."""
        return anc * (1.0 + (other / anc0)[:, None]) + alc


class ChainedModel(Model):
    """PK -> PD: the PD blocks see C = A_central / V1. Optionally carries a ParameterSet
    (typical values, variability and sources) so that it can be simulated as it is."""

    def __init__(self, pk: LinearPK, pd: tuple[TransitPD, ...] = (), parameter_set: ParameterSet | None = None,
                 name: str | None = None, title: str = "", derived: tuple[LeukocyteSum, ...] = ()) -> None:
        if not isinstance(pk, LinearPK):
            raise ModelError("the first model of a chain must be a LinearPK; PD blocks follow it.")
        if not all(isinstance(b, TransitPD) for b in pd):
            raise ModelError("every PD block of a chain must be a TransitPD model (Friberg, LymphocyteTransit).")
        outs = [b.output for b in pd]
        if len(set(outs)) != len(outs):
            raise ModelError(f"two PD blocks share the output name {sorted({o for o in outs if outs.count(o) > 1})}; give each its own.")
        self.pk = pk
        self.pd = tuple(pd)
        self.derived = tuple(derived)
        for d in self.derived:
            if d.neutrophils not in outs or d.lymphocytes not in outs:
                raise ModelError(f"the derived count {d.output} needs the PD outputs {d.neutrophils!r} and "
                                 f"{d.lymphocytes!r}; add those blocks or drop the derived count.")
            if d.output in outs:
                raise ModelError(f"the derived count {d.output!r} has the name of a PD block; give one of them another name.")
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
        return (self.pk.parameters + tuple(n for b in self.pd for n in b.parameters)
                + tuple(n for d in self.derived for n in d.parameters))

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.pk.outputs + tuple(o for b in self.pd for o in b.outputs)

    @property
    def count_outputs(self) -> tuple[str, ...]:
        """Outputs that are cell counts (10^9/L): derived counts (leukocytes) first, then the blocks."""
        return tuple(d.column for d in self.derived) + tuple(o for b in self.pd for o in b.outputs)

    def describe(self) -> str:
        text = " -> ".join([self.pk.describe()] + [b.describe() for b in self.pd])
        return text + "".join(f"; {d.describe()}" for d in self.derived)

    def add_derived(self, values: np.ndarray, columns: list[str], params: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Append the derived counts to solved ``values`` (n, t, k); ``params`` (n, P) in parameter order."""
        if not self.derived:
            return values, columns
        extra = []
        for d in self.derived:
            anc = values[:, :, columns.index(d.neutrophils + "_1e9_per_L")]
            alc = values[:, :, columns.index(d.lymphocytes + "_1e9_per_L")]
            other = params[:, self.parameters.index(d.parameters[0])]
            anc0 = params[:, self.parameters.index(d.neutrophils.upper() + "_CIRC0")]
            extra.append(d.values(anc, alc, other, anc0)[:, :, None])
        return np.concatenate([values] + extra, axis=2), list(columns) + [d.column for d in self.derived]

    # -- values -------------------------------------------------------------------------------
    def typical_parameters(self) -> dict[str, float]:
        if self.parameter_set is None:
            raise ModelError(f"model {self.name} has no parameter file; build it with load_model(...) or give parameters.")
        return {n: self.parameter_set[n].value for n in self.parameters}

    def with_parameters(self, parameter_set: ParameterSet) -> ChainedModel:
        return ChainedModel(self.pk, self.pd, parameter_set, name=self.name, title=self.title, derived=self.derived)

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
