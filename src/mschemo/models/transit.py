"""Transit-compartment models of white-cell production (Friberg et al. 2002 family).

Friberg LE et al., J Clin Oncol 2002;20:4713: a proliferating pool, ``n`` transit (maturation)
compartments and circulating cells, with feedback (Circ0/Circ)^gamma and a drug effect on
proliferation, either linear (capped) or Emax::

    ktr = (n + 1) / MTT
    E(C)  = min(SLOPE*C, CAP)            (effect = "linear")
    E(C)  = EMAX*C^HILL/(EC50^HILL + C^HILL)   (effect = "emax")
    dProl/dt = ktr*Prol*(1 - E(C))*FB - ktr*Prol
    FB = (Circ0/Circ)^gamma              (feedback = "circulating": Friberg's published structure)
    FB = (Prol0/Prol)^gamma, Prol0 = Circ0   (feedback = "precursor": opt-in, see below)
    dT1/dt   = ktr*(Prol - T1);  dTi/dt = ktr*(T(i-1) - Ti)
    dCirc/dt = kcirc*Tn - kcirc*Circ - KILL*C*Circ
    with drug_site = "cells", C above is the drug in the cells, Ce: dCe/dt = KE0*(C_plasma - Ce)
    (the feedback uses max(X, 1e-9*X0): a pool driven to zero keeps a finite feedback)

:class:`Friberg` is the published model (kcirc = ktr, no direct kill). :class:`LymphocyteTransit`
is the same family for lymphocytes: circulating cells live longer (kcirc = ln 2 / HALF_LIFE, so
recovery takes months) and the drug may also kill circulating cells directly (KILL, L/mg/d).
Precursor pools are counted in circulating-cell equivalents, so every state starts at Circ0.

Feedback on the circulating count lets the count overshoot its baseline after a nadir: while Circ
is low the precursors grow faster than they die, and the surplus arrives in the blood after the
count has recovered. With ``feedback = "precursor"`` the self-renewing pool regulates itself, and no
count can exceed its baseline. Proof (drug effect E >= 0, KILL*C >= 0, every state starting at X0 =
Circ0): on the line Prol = X0 the growth is ktr*X0*((1 - E) - 1) = -ktr*E*X0 <= 0, so Prol <= X0
for all time; each transit pool and the circulating pool obey dX/dt <= k*(X_upstream - X) with the
upstream pool <= X0 (kill only removes cells), so d(X - X0)/dt <= -k*(X - X0) and X - X0 <= 0 stays.
Without drug, Prol regrows monotonically to X0, so the counts recover to baseline, never above it.
The structure is an assumption (no published lymphocyte model that states its structure was found;
see the parameter files), chosen because no source shows total lymphocytes overshooting baseline
after cladribine, mitoxantrone or cyclophosphamide.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..errors import ModelError
from .base import Model

__all__ = ["TransitPD", "Friberg", "LymphocyteTransit", "EFFECTS", "FEEDBACKS"]

EFFECTS = ("linear", "emax")
DRUG_SITES = ("plasma", "cells")
FEEDBACKS = ("circulating", "precursor")   # which pool the feedback (X0/X)^gamma reads
CIRC_FLOOR = 1e-9   # the feedback sees at least 1e-9 x Circ0 (~1 cell/L), so a count driven to zero stays finite
_OUTPUT_UNITS = "_1e9_per_L"


class TransitPD(Model):
    """A transit-compartment cell-count model driven by a drug concentration (mg/L)."""

    kind = "transit"
    has_kill = False
    own_circ_rate = False

    def __init__(self, output: str = "wbc", transits: int = 3, effect: str = "linear", drug_site: str = "plasma",
                 feedback: str = "circulating") -> None:
        if drug_site not in DRUG_SITES:
            raise ModelError(f"{type(self).__name__} drug_site = {drug_site!r}; use 'plasma' or 'cells'.")
        if feedback not in FEEDBACKS:
            raise ModelError(f"{type(self).__name__} feedback = {feedback!r}; use 'circulating' (Friberg 2002) or "
                             "'precursor' (recovery without overshoot).")
        self.drug_site = drug_site
        self.feedback = feedback
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
    def in_cells(self) -> bool:
        """Whether the drug acts from inside the cells (an effect compartment, rate KE0)."""
        return self.drug_site == "cells"

    @property
    def precursor_feedback(self) -> bool:
        """Whether the feedback reads the proliferating pool (Prol0/Prol)^gamma, not the count."""
        return self.feedback == "precursor"

    @property
    def states(self) -> tuple[str, ...]:
        o = self.output
        cells = (f"{o}_cell_drug",) if self.in_cells else ()
        return cells + (f"{o}_prol",) + tuple(f"{o}_transit{i + 1}" for i in range(self.transits)) + (f"{o}_circ",)

    @property
    def parameters(self) -> tuple[str, ...]:
        names = ["CIRC0", "MTT", "GAMMA"]
        names += ["SLOPE", "CAP"] if self.effect == "linear" else ["EMAX", "EC50", "HILL"]
        if self.own_circ_rate:
            names.append("HALF_LIFE")
        if self.has_kill:
            names.append("KILL")
        if self.in_cells:
            names.append("KE0")
        return tuple(self.prefix + n for n in names)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output + _OUTPUT_UNITS,)

    def describe(self) -> str:
        site = ", drug acting from the cells" if self.in_cells else ""
        fb = ", feedback on the precursors" if self.precursor_feedback else ""
        return f"{type(self).__name__}({self.output}, {self.transits} transits, {self.effect} effect{site}{fb})"

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
        cells = np.zeros(1 if self.in_cells else 0)
        return np.concatenate([cells, np.full(self.transits + 2, self._p(p, "CIRC0"))])

    def rhs(self, t: float, y: np.ndarray, p: Mapping[str, float], c: float) -> np.ndarray:
        """d(state)/dt (10^9 cells/L/d) at drug concentration ``c`` (mg/L)."""
        if self.in_cells:   # the drug reaches the cells with rate KE0 and acts from there
            ce = y[0]
            return np.concatenate([[self._p(p, "KE0") * (c - ce)], self._cells_rhs(y[1:], p, ce)])
        return self._cells_rhs(y, p, c)

    def _cells_rhs(self, y: np.ndarray, p: Mapping[str, float], c: float) -> np.ndarray:
        ktr, kcirc = self.rates(p)
        prol, circ = y[0], y[-1]
        dy = np.empty_like(y)
        circ0 = self._p(p, "CIRC0")
        sensed = prol if self.precursor_feedback else circ   # Prol0 = Circ0 (circulating-cell equivalents)
        feedback = (circ0 / max(sensed, CIRC_FLOOR * circ0)) ** self._p(p, "GAMMA")
        dy[0] = ktr * prol * (1.0 - self.drug_effect(c, p)) * feedback - ktr * prol
        dy[1:-1] = ktr * (y[:-2] - y[1:-1])
        kill = self._p(p, "KILL") * c if self.has_kill else 0.0
        dy[-1] = kcirc * y[-2] - kcirc * circ - kill * circ
        return dy


class Friberg(TransitPD):
    """Friberg et al. 2002 myelosuppression model (leukocytes or neutrophils), with its published
    feedback on the circulating count."""

    kind = "friberg"

    def __init__(self, output: str = "wbc", transits: int = 3, effect: str = "linear", drug_site: str = "plasma",
                 feedback: str = "circulating") -> None:
        if feedback != "circulating":
            raise ModelError(f"a Friberg block keeps its published feedback on the circulating count, not "
                             f"feedback = {feedback!r}; use block = 'lymphocyte' for feedback on the precursors.")
        super().__init__(output=output, transits=transits, effect=effect, drug_site=drug_site, feedback=feedback)


class LymphocyteTransit(TransitPD):
    """Lymphocyte production and loss: Friberg-type transit plus long-lived circulating cells
    (HALF_LIFE, d) and direct kill of circulating cells (KILL, L/mg/d)."""

    kind = "lymphocyte"
    has_kill = True
    own_circ_rate = True

    def __init__(self, output: str = "alc", transits: int = 3, effect: str = "linear", drug_site: str = "plasma",
                 feedback: str = "circulating") -> None:
        super().__init__(output=output, transits=transits, effect=effect, drug_site=drug_site, feedback=feedback)
