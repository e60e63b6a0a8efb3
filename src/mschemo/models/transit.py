"""Transit-compartment models of white-cell production (Friberg et al. 2002 family).

Friberg LE et al., J Clin Oncol 2002;20:4713: a proliferating pool, ``n`` transit (maturation)
compartments and circulating cells, with feedback (Circ0/Circ)^gamma and a drug effect on
proliferation, either linear (capped) or Emax::

    ktr = (n + 1) / MTT
    E(C)  = min(SLOPE*C, CAP)            (effect = "linear")
    E(C)  = EMAX*C^HILL/(EC50^HILL + C^HILL)   (effect = "emax")
    dProl/dt = ktr*Prol*(1 - E(C))*(Circ0/Circ)^gamma - ktr*Prol
    dT1/dt   = ktr*(Prol - T1);  dTi/dt = ktr*(T(i-1) - Ti)
    dCirc/dt = kcirc*Tn - kcirc*Circ - KILL*C*Circ
    (the feedback uses max(Circ, 1e-9*Circ0): a count driven to zero keeps a finite feedback)

:class:`Friberg` is the published model (kcirc = ktr, no direct kill). :class:`LymphocyteTransit`
is the same family for lymphocytes: circulating cells live longer (kcirc = ln 2 / HALF_LIFE, so
recovery takes months) and the drug may also kill circulating cells directly (KILL, L/mg/d).
Precursor pools are counted in circulating-cell equivalents, so every state starts at Circ0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..errors import ModelError
from .base import Model

__all__ = ["TransitPD", "Friberg", "LymphocyteTransit", "EFFECTS"]

EFFECTS = ("linear", "emax")
CIRC_FLOOR = 1e-9   # the feedback sees at least 1e-9 x Circ0 (~1 cell/L), so a count driven to zero stays finite
_OUTPUT_UNITS = "_1e9_per_L"


class TransitPD(Model):
    """A transit-compartment cell-count model driven by a drug concentration (mg/L)."""

    kind = "transit"
    has_kill = False
    own_circ_rate = False

    def __init__(self, output: str = "wbc", transits: int = 3, effect: str = "linear") -> None:
        if not output.isidentifier() or not output.islower():
            raise ModelError(f"PD output name {output!r} must be a lower-case word such as 'wbc', 'anc' or 'alc'.")
        if not isinstance(transits, int) or not 1 <= transits <= 20:
            raise ModelError(f"{type(self).__name__} transits = {transits!r}; give a whole number from 1 to 20.")
        if effect not in EFFECTS:
            raise ModelError(f"{type(self).__name__} effect = {effect!r}; use 'linear' or 'emax'.")
        self.output = output
        self.transits = transits
        self.effect = effect
        self.prefix = output.upper() + "_"
        self.name = f"{self.kind}[{output}]"

    # -- names --------------------------------------------------------------------------------
    @property
    def states(self) -> tuple[str, ...]:
        o = self.output
        return (f"{o}_prol",) + tuple(f"{o}_transit{i + 1}" for i in range(self.transits)) + (f"{o}_circ",)

    @property
    def parameters(self) -> tuple[str, ...]:
        names = ["CIRC0", "MTT", "GAMMA"]
        names += ["SLOPE", "CAP"] if self.effect == "linear" else ["EMAX", "EC50", "HILL"]
        if self.own_circ_rate:
            names.append("HALF_LIFE")
        if self.has_kill:
            names.append("KILL")
        return tuple(self.prefix + n for n in names)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output + _OUTPUT_UNITS,)

    def describe(self) -> str:
        return f"{type(self).__name__}({self.output}, {self.transits} transits, {self.effect} effect)"

    # -- equations ----------------------------------------------------------------------------
    def _p(self, p: Mapping[str, float], name: str) -> float:
        return p[self.prefix + name]

    def rates(self, p: Mapping[str, float]) -> tuple[float, float]:
        """(ktr, kcirc) in 1/d."""
        ktr = (self.transits + 1) / self._p(p, "MTT")
        kcirc = math.log(2.0) / self._p(p, "HALF_LIFE") if self.own_circ_rate else ktr
        return ktr, kcirc

    def drug_effect(self, c: float, p: Mapping[str, float]) -> float:
        """Fractional inhibition of proliferation at concentration ``c`` (mg/L)."""
        if self.effect == "linear":
            return min(self._p(p, "SLOPE") * c, self._p(p, "CAP"))
        h = self._p(p, "HILL")
        ch = max(c, 0.0) ** h
        return self._p(p, "EMAX") * ch / (self._p(p, "EC50") ** h + ch)

    def initial_state(self, p: Mapping[str, float]) -> np.ndarray:
        return np.full(self.transits + 2, self._p(p, "CIRC0"))

    def rhs(self, t: float, y: np.ndarray, p: Mapping[str, float], c: float) -> np.ndarray:
        """d(state)/dt (10^9 cells/L/d) at drug concentration ``c`` (mg/L)."""
        ktr, kcirc = self.rates(p)
        prol, circ = y[0], y[-1]
        dy = np.empty_like(y)
        circ0 = self._p(p, "CIRC0")
        feedback = (circ0 / max(circ, CIRC_FLOOR * circ0)) ** self._p(p, "GAMMA")
        dy[0] = ktr * prol * (1.0 - self.drug_effect(c, p)) * feedback - ktr * prol
        dy[1:-1] = ktr * (y[:-2] - y[1:-1])
        kill = self._p(p, "KILL") * c if self.has_kill else 0.0
        dy[-1] = kcirc * y[-2] - kcirc * circ - kill * circ
        return dy


class Friberg(TransitPD):
    """Friberg et al. 2002 myelosuppression model (leukocytes or neutrophils)."""

    kind = "friberg"


class LymphocyteTransit(TransitPD):
    """Lymphocyte production and loss: Friberg-type transit plus long-lived circulating cells
    (HALF_LIFE, d) and direct kill of circulating cells (KILL, L/mg/d)."""

    kind = "lymphocyte"
    has_kill = True
    own_circ_rate = True

    def __init__(self, output: str = "alc", transits: int = 3, effect: str = "linear") -> None:
        super().__init__(output=output, transits=transits, effect=effect)
