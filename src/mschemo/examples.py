"""Built-in examples: documented scenarios that run as they are (as lifelines ships datasets).

``mitox-2y`` is the reference benchmark workload of ../shared/bench/WORKLOAD.md: N patients,
12 mg/m2 as a 30-minute infusion every 91 days x 8, 3-compartment PK driving a Friberg leukocyte
model, daily output for 730 days. Its patients are drawn exactly as the benchmark's workload.py
draws them (numpy default_rng(seed); heights, then weight z-scores, then eta[N, 4] for CL, Circ0,
MTT and slope), so results compare patient by patient with the SciPy and deSolve peers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import OptionError
from .models.chain import ChainedModel
from .models.library import load_model
from .output import OutputTimes
from .population import Population, body_surface_area
from .regimen import Regimen

__all__ = ["Example", "load_example", "EXAMPLES"]

EXAMPLES = {"mitox-2y": "benchmark workload: mitoxantrone-like 12 mg/m2 every 91 days x 8, Friberg leukocytes, 2 years"}
MITOX_2Y_SEED = 20240601
MITOX_2Y_REGIMEN = "12 mg/m2 over 30 min every 91 days x 8"


@dataclass(frozen=True)
class Example:
    """A ready-to-run scenario: ``simulate(ex.model, ex.regimen, ex.population, output=ex.output)``."""

    name: str
    model: ChainedModel
    regimen: Regimen
    population: Population
    output: OutputTimes
    seed: int

    def peer_table(self, result) -> pd.DataFrame:
        """Per-patient table in the benchmark peers' columns: id, bsa_m2, dose_mg, nadir_1..8, first_nadir_day.

        nadir_k is the smallest daily-grid WBC in [dose_k, dose_k+1) (the last to the end, included),
        as ../shared/bench/workload.py defines it; the same numbers as ``result.nadirs("wbc")``.
        """
        from .results import _interval_bounds

        wbc = np.ascontiguousarray(result.column("wbc"))    # one pass over the strided column, then by row
        t = result.times_d
        bsa = result.patients["bsa_m2"].to_numpy()
        cols: dict[str, Any] = {"id": result.ids, "bsa_m2": bsa,
                                "dose_mg": self.regimen.doses[0].amount * bsa}
        first_day = np.zeros(0)
        for k, a, b, _, _ in _interval_bounds(self.regimen.dose_times_d(), t):
            cols[f"nadir_{k}"] = wbc[:, a:b].min(axis=1)
            if k == 1:
                first_day = t[a + wbc[:, a:b].argmin(axis=1)]
        cols["first_nadir_day"] = first_day.astype(int)
        return pd.DataFrame(cols)                            # built once: a column at a time costs 0.3 ms each


def _mitox_2y(n: int, seed: int) -> Example:
    model = load_model("mitox-2y")
    ps = model.parameter_set
    assert ps is not None  # a built-in model is read from its parameter file
    rng = np.random.default_rng(seed)
    height = rng.normal(168.0, 9.0, n)
    weight = 72.0 * np.exp(rng.normal(0.0, math.sqrt(math.log(1.0 + 0.20**2)), n))
    names = ["CL", "WBC_CIRC0", "WBC_MTT", "WBC_SLOPE"]
    omega = np.array([ps[nm].omega for nm in names])
    eta = rng.standard_normal((n, 4)) * omega
    table = pd.DataFrame({"id": np.arange(1, n + 1), "height_cm": height, "weight_kg": weight,
                          "bsa_m2": body_surface_area(height, weight, "mosteller")})
    for k, nm in enumerate(names):
        table[f"ETA_{nm}"] = eta[:, k]
    pop = Population(table, description=f"mitox-2y workload patients (seed {seed})")
    return Example("mitox-2y", model, Regimen.parse(MITOX_2Y_REGIMEN), pop, OutputTimes(every=1.0, until=730.0), seed)


def load_example(name: str = "mitox-2y", n: int = 100, seed: int | None = None) -> Example:
    """A built-in scenario by name.

    >>> ex = load_example("mitox-2y", n=3)
    >>> len(ex.population), ex.regimen.n_doses
    (3, 8)
    """
    if name not in EXAMPLES:
        raise OptionError(f"there is no example named {name!r}; use one of {', '.join(EXAMPLES)}.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise OptionError(f"number of patients n = {n!r}; give a whole number >= 1.")
    return _mitox_2y(int(n), MITOX_2Y_SEED if seed is None else int(seed))
