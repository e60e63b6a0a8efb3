"""Linear mammillary PK with 1, 2 or 3 compartments, IV or first-order (oral) absorption.

States (amounts, mg), numbered as NONMEM's ADVAN1/2/3/4/11/12 number compartments:
with first-order absorption ``depot`` is compartment 1 and ``central`` 2; without, ``central`` is 1.
Peripheral compartments follow central. Parameters (internal units):
CL (L/d), V1 (L), Q2 (L/d), V2 (L), Q3 (L/d), V3 (L); with absorption KA (1/d), F (fraction of a
depot dose absorbed), TLAG (d, lag of depot doses). The output is the central concentration,
C = A_central / V1 (mg/L).

    dA_depot/dt = -KA*A_depot
    dA1/dt = KA*A_depot + R1(t) - (CL + Q2 + Q3)/V1*A1 + Q2/V2*A2 + Q3/V3*A3
    dA2/dt = Q2/V1*A1 - Q2/V2*A2
    dA3/dt = Q3/V1*A1 - Q3/V3*A3

Between dose events the solution is exact: A(t) = expm(K t) A(0) + K^-1 (expm(K t) - I) R.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._internal.text import quote
from ..errors import ModelError, RegimenError
from .base import Model

__all__ = ["LinearPK"]

_PERIPHERALS = ("peripheral1", "peripheral2")


class LinearPK(Model):
    """Linear PK with ``compartments`` disposition compartments and ``absorption`` 'iv' or 'first-order'."""

    def __init__(self, compartments: int = 1, absorption: str = "iv") -> None:
        if compartments not in (1, 2, 3):
            raise ModelError(f"LinearPK compartments = {compartments!r}; use 1, 2 or 3.")
        if absorption not in ("iv", "first-order"):
            raise ModelError(f"LinearPK absorption = {absorption!r}; use 'iv' or 'first-order'.")
        self.compartments = compartments
        self.absorption = absorption
        self.name = f"linear_pk{compartments}" + ("_oral" if self.has_depot else "")

    @property
    def has_depot(self) -> bool:
        return self.absorption == "first-order"

    @property
    def states(self) -> tuple[str, ...]:
        disp = ("central",) + _PERIPHERALS[: self.compartments - 1]
        return (("depot",) if self.has_depot else ()) + disp

    @property
    def central_index(self) -> int:
        return 1 if self.has_depot else 0

    @property
    def parameters(self) -> tuple[str, ...]:
        names = ["CL", "V1"]
        if self.compartments >= 2:
            names += ["Q2", "V2"]
        if self.compartments == 3:
            names += ["Q3", "V3"]
        if self.has_depot:
            names += ["KA", "F", "TLAG"]
        return tuple(names)

    @property
    def outputs(self) -> tuple[str, ...]:
        return ("conc_mg_per_L",)

    def describe(self) -> str:
        return f"{self.compartments}-compartment linear PK, {'first-order absorption' if self.has_depot else 'IV'}"

    def compartment_index(self, cmt: str | int) -> int:
        """0-based state index of a compartment given by name or NONMEM number (1-based)."""
        if isinstance(cmt, str):
            key = cmt.strip().lower()
            if key in self.states:
                return self.states.index(key)
            raise RegimenError(f"compartment {quote(cmt, 40)} is not in this model; use one of {', '.join(self.states)}.")
        if 1 <= int(cmt) <= len(self.states):
            return int(cmt) - 1
        raise RegimenError(f"compartment number {cmt} is not in this model; it has compartments 1-{len(self.states)} ({', '.join(self.states)}).")

    def initial_state(self, p: Mapping[str, float]) -> np.ndarray:
        return np.zeros(len(self.states))

    def matrix(self, p: Mapping[str, float]) -> np.ndarray:
        """The rate matrix K (1/d) with dA/dt = K A + R."""
        n = len(self.states)
        K = np.zeros((n, n))
        c = self.central_index
        v1 = p["V1"]
        K[c, c] = -p["CL"] / v1
        for k in range(self.compartments - 1):
            q, vp = p[f"Q{k + 2}"], p[f"V{k + 2}"]
            i = c + 1 + k
            K[c, c] -= q / v1
            K[c, i] += q / vp
            K[i, c] += q / v1
            K[i, i] -= q / vp
        if self.has_depot:
            K[0, 0] = -p["KA"]
            K[c, 0] = p["KA"]
        return K

    def rhs(self, t: float, a: np.ndarray, p: Mapping[str, float], rate: np.ndarray) -> np.ndarray:
        """dA/dt (mg/d) for amounts ``a`` and zero-order input ``rate`` (mg/d per compartment)."""
        return self.matrix(p) @ a + rate

    def concentration(self, a: np.ndarray, p: Mapping[str, float]) -> np.ndarray:
        """Central concentration (mg/L)."""
        return a[self.central_index] / p["V1"]
