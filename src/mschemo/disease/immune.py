"""The immune state that relapses follow: a slow memory compartment that each course depletes.

After a short course of a depleting drug the relapse rate stays low for years, long after the total
lymphocyte count has recovered (CLARITY Extension, Le Page 2008, Edan 2011), while the memory B cells
and CD4 T cells stay depleted for one to three years (immune_durability_and_progression_facts.md,
sections 1, 2 and 8). So the relapse rate does not follow the current count. It follows the
relative size M of a memory compartment (1 at baseline) that the drug kills directly, as it kills
circulating lymphocytes, and that reconstitutes slowly:

    dM/dt = ln 2 / IMMUNE_HALF_LIFE * (1 - M) - IMMUNE_SENSITIVITY * KILL * C(t) * M
    relapse rate x M^IMMUNE_EXPONENT

KILL * C(t) is the drug's own calibrated direct kill of circulating lymphocytes (L/mg/d times mg/L,
the ``ALC_KILL`` of its lymphocyte block), so each drug depletes the compartment as its exposure
dictates; its integral, KILL * AUC(t), is the cumulative kill exposure this module reads. Memory cells
are long-lived and do not depend on new production, so a drug's effect on lymphocyte production
(which sets how deep and how long the total count falls) does not deplete them. The parameters
(params/ms_relapses.toml, IMMUNE_*) are calibrated by calibration/calibrate_immune.py.

The exposure is read from the solver's closed-form AUC on this module's own grid (every ``STEP_D``
days from day 0), never from the output grid a user asked for, so relapses do not depend on what is
recorded. Between grid points the kill rate is the exposure's mean over the step: exact when it is
constant, and exact in total (the step's exposure is used whole), so with reconstitution over years
a weekly grid gives M within 0.3 % of a daily one on the calibration designs (CLARITY, Edan 2011).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..params import ParameterSet, load_parameters

__all__ = ["ImmuneModel", "ImmuneRecord", "STEP_D", "KILL_PARAMETER", "immune_grid", "memory_state"]

STEP_D = 7.0        # d: spacing of the grid the exposure is read on (a numerical setting, not a model parameter)
KILL_PARAMETER = "ALC_KILL"      # the lymphocyte block's direct kill, L/mg/d


@dataclass(frozen=True)
class ImmuneModel:
    """Depletion and reconstitution of the relapse-relevant memory compartment."""

    sensitivity: float        # kill of the compartment per unit of the drug's lymphocyte kill exposure
    recovery: float           # 1/d (ln 2 / reconstitution half-life)
    exponent: float           # relapse rate x M^exponent
    parameter_set: ParameterSet | None = None

    @classmethod
    def load(cls, name: str = "ms-relapses") -> ImmuneModel:
        ps = load_parameters(name)
        return cls(ps["IMMUNE_SENSITIVITY"].value, math.log(2.0) / ps["IMMUNE_HALF_LIFE"].value,
                   ps["IMMUNE_EXPONENT"].value, ps)

    def with_values(self, **values: float) -> ImmuneModel:
        """A copy with some values replaced (calibration)."""
        from dataclasses import replace
        return replace(self, **values)


def immune_grid(until_d: float) -> np.ndarray:
    """The grid (days) the exposure is read on: 0, STEP_D, 2 STEP_D, ... and ``until_d``."""
    t = np.arange(0.0, float(until_d) + 1e-9, STEP_D)
    return t if t[-1] >= until_d - 1e-9 else np.append(t, float(until_d))


def memory_state(times_d: np.ndarray, exposure: np.ndarray, model: ImmuneModel) -> np.ndarray:
    """M (n, T) on ``times_d`` from each patient's cumulative kill exposure KILL x AUC (n, T) there."""
    times_d = np.asarray(times_d, dtype=float)
    exposure = np.asarray(exposure, dtype=float)
    m = np.empty_like(exposure)
    m[:, 0] = 1.0
    if times_d.size < 2:
        return m
    h = np.diff(times_d)
    kill = model.sensitivity * np.maximum(np.diff(exposure, axis=1), 0.0)          # over each step
    rate_h = model.recovery * h + kill                                              # (n, T-1), > 0
    decay = np.exp(-rate_h)
    steady = model.recovery * h / rate_h
    for j in range(h.size):
        m[:, j + 1] = steady[:, j] + (m[:, j] - steady[:, j]) * decay[:, j]
    return m


@dataclass(frozen=True)
class ImmuneRecord:
    """The memory compartment of a cohort on the immune grid (``immune_grid``)."""

    times_d: np.ndarray       # (T,)
    memory: np.ndarray        # (n, T) relative size, 1 at baseline

    @classmethod
    def from_exposure(cls, times_d: np.ndarray, exposure: np.ndarray, model: ImmuneModel | None = None) -> ImmuneRecord:
        """The record from each patient's cumulative kill exposure on ``times_d`` (the immune grid)."""
        return cls(np.asarray(times_d, dtype=float), memory_state(times_d, exposure, model or ImmuneModel.load()))

    @classmethod
    def from_result(cls, result, model: ImmuneModel | None = None) -> ImmuneRecord | None:
        """The record of a count result from its own AUC column and each patient's kill (None when its
        model has no lymphocyte kill). On the result's output grid: exact for the exposure at its
        times, approximate between them when the grid is coarse."""
        m = result.model
        if KILL_PARAMETER not in m.parameters or "auc_mg_d_per_L" not in result.columns:
            return None
        from ..population import Population
        kill = Population(result.patients.reset_index(drop=True)).individual_parameters(m)[:, m.parameters.index(KILL_PARAMETER)]
        return cls.from_exposure(result.times_d, kill[:, None] * result.column("auc_mg_d_per_L"), model)

    def extended(self, until_d: float, model: ImmuneModel | None = None) -> ImmuneRecord:
        """The record carried on to ``until_d`` without further drug: M -> 1 - (1 - M) exp(-K_REC t)."""
        if self.times_d[-1] >= until_d - 1e-9:
            return self
        model = model or ImmuneModel.load()
        extra = immune_grid(until_d)
        extra = extra[extra > self.times_d[-1] + 1e-9]
        last = self.memory[:, -1:]
        add = 1.0 - (1.0 - last) * np.exp(-model.recovery * (extra - self.times_d[-1])[None, :])
        return ImmuneRecord(np.concatenate([self.times_d, extra]), np.hstack([self.memory, add]))

    @classmethod
    def concat(cls, parts: list[ImmuneRecord]) -> ImmuneRecord:
        """Records of consecutive chunks of patients (same times) as one."""
        return cls(parts[0].times_d, np.vstack([p.memory for p in parts]))

    def subset(self, rows: np.ndarray) -> ImmuneRecord:
        return ImmuneRecord(self.times_d, self.memory[rows])

    def multiplier(self, exponent: float) -> dict:
        """Relapse-rate factors M^exponent as {"times_d", "values"} (piecewise linear in time)."""
        return {"times_d": self.times_d, "values": np.power(np.clip(self.memory, 1e-12, None), exponent)}
