"""Virtual patients with known parameters and sparse noisy counts, for the estimation tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import mschemo as ms
from mschemo.estimation.map import PatientModel, residual_sigmas


@dataclass
class SimRecord:
    """The parts of a patient record the estimation reads (covariates, doses, counts)."""

    drug: str
    pop: ms.Population
    reg: ms.Regimen
    counts: pd.DataFrame

    def population(self) -> ms.Population:
        return self.pop

    def regimen(self) -> ms.Regimen:
        return self.reg


def virtual_patients(drug: str, n: int, seed: int, regimen: str, days: tuple[float, ...],
                     kinds: tuple[str, ...] = ("wbc", "anc")) -> list[tuple[SimRecord, np.ndarray]]:
    """n patients drawn from the drug's population model (covariates and etas), each with counts of
    ``kinds`` on ``days`` with the residual error of params/residual_error.toml. Returns (record,
    true etas) pairs."""
    rng = np.random.default_rng(seed)
    sig = residual_sigmas()
    reg = ms.Regimen.parse(regimen)
    out = []
    for i in range(n):
        pop = ms.Population(pd.DataFrame({"id": [i + 1], "height_cm": [rng.normal(168, 9)],
                                          "weight_kg": [72 * np.exp(rng.normal(0, 0.2))], "sex": ["F"], "age_y": [38.0]}))
        rec = SimRecord(drug, pop, reg, pd.DataFrame(columns=["day", "kind", "value"]))
        pm = PatientModel(drug, rec)
        truth = rng.multivariate_normal(np.zeros(pm.n_eta), pm.omega)
        pred = pm.predict(truth[None, :], np.asarray(days, dtype=float))
        rows = [{"day": d, "kind": k, "value": float(pred[k][0, j] * np.exp(sig[k] * rng.standard_normal()))}
                for k in kinds for j, d in enumerate(days)]
        out.append((SimRecord(drug, pop, reg, pd.DataFrame(rows)), truth))
    return out
