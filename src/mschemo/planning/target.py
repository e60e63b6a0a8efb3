"""The wanted nadir range of one count, the aim of a dose choice."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..dosing import count_name
from ..errors import OptionError

__all__ = ["NadirTarget", "KINDS"]

#: counts a target or a risk may name
KINDS = ("wbc", "anc", "alc")


@dataclass(frozen=True, init=False)
class NadirTarget:
    """The wanted nadir range of one count, 10^9/L: ``NadirTarget("wbc", 1.5, 2.0)`` or
    ``NadirTarget(wbc=(1.5, 2.0))``.

    >>> NadirTarget(wbc=(1.5, 2.0))
    NadirTarget(kind='wbc', low=1.5, high=2.0)
    """

    kind: str
    low: float
    high: float

    def __init__(self, kind: str = "wbc", low: float = 1.5, high: float = 2.0, *,
                 wbc: Sequence[float] | None = None, anc: Sequence[float] | None = None,
                 alc: Sequence[float] | None = None) -> None:
        given = {k: v for k, v in (("wbc", wbc), ("anc", anc), ("alc", alc)) if v is not None}
        if len(given) > 1:
            raise OptionError(f"NadirTarget got ranges for {', '.join(given)}; give one count's range, e.g. "
                              "NadirTarget(wbc=(1.5, 2.0)).")
        if given:
            kind, rng = next(iter(given.items()))
            if isinstance(rng, (str, bytes)) or not isinstance(rng, Sequence) or len(rng) != 2:
                raise OptionError(f"NadirTarget({kind}={rng!r}) is not a (low, high) pair; write e.g. "
                                  f"NadirTarget({kind}=(1.5, 2.0)).")
            low, high = rng
        key = str(kind).strip().lower()
        if key not in KINDS:
            raise OptionError(f"target kind {kind!r} is not a count; use one of {', '.join(KINDS)}.")
        for name, v in (("low", low), ("high", high)):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v) \
                    or v <= 0:
                raise OptionError(f"target {name} {v!r} is not a count > 0; give it in 10^9/L, e.g. 1.5.")
        if not float(low) < float(high):
            raise OptionError(f"target range {float(low):g}-{float(high):g} x10^9/L is empty; give low < high, "
                              "e.g. 1.5-2.0.")
        if float(high) > 50:
            raise OptionError(f"target high {float(high):g} x10^9/L is not a plausible nadir; give the count in "
                              "10^9/L (e.g. 2.0, not 2000).")
        object.__setattr__(self, "kind", key)
        object.__setattr__(self, "low", float(low))
        object.__setattr__(self, "high", float(high))

    def contains(self, values: np.ndarray) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        return (v >= self.low) & (v <= self.high)

    def __str__(self) -> str:
        return f"{count_name(self.kind)} nadir {self.low:g}-{self.high:g} x10^9/L"
