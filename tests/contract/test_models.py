"""Contract suite: every model x every backend (baseline without dose, mass balance, positivity,
backend agreement). A new model joins by being added to tests/helpers.ALL_MODELS."""

from __future__ import annotations

import numpy as np
import pytest

import mschemo as ms
from helpers import ALL_BACKENDS, ALL_MODELS, NEEDS_JAX, TIGHT_COMPILED, TIGHT_JAX, TIGHT_SCIPY, rel_err, synthetic


@pytest.mark.parametrize("backend", ALL_BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("name", ALL_MODELS)
def test_no_dose_stays_at_baseline(name, backend):
    model, pop, _ = synthetic(name)
    res = ms.simulate(model, None, pop, until="60 days", backend=backend, record_states=True)
    y0 = model.initial_state(dict(zip(model.parameters, pop.individual_parameters(model)[0])))
    for k, s in enumerate(model.states):
        col = res.column(f"state_{s}")[0]
        assert np.all(col == y0[k]), f"{s} moved without a dose"


@pytest.mark.parametrize("backend", [TIGHT_COMPILED, TIGHT_SCIPY], ids=lambda b: b.name)
@pytest.mark.parametrize("name", ALL_MODELS)
def test_mass_balance(name, backend):
    """Drug in the body + drug eliminated (CL * AUC) + drug not absorbed (1 - F) = dose given."""
    model, pop, reg = synthetic(name)
    regimen = ms.Regimen.parse(reg)
    res = ms.simulate(model, regimen, pop, output="6 h", until="30 days", backend=backend, record_states=True)
    p = dict(zip(model.parameters, pop.individual_parameters(model)[0]))
    body = sum(res.column(f"state_{s}")[0] for s in model.pk.states)
    eliminated = p["CL"] * res.column("auc_mg_d_per_L")[0]
    f = p.get("F", 1.0)
    given = np.zeros_like(res.times_d)
    per = {"mg": 1.0, "mg/m2": float(pop.covariate("bsa_m2")[0]), "mg/kg": float(pop.covariate("weight_kg")[0])}
    for d in regimen.doses:
        lag = p.get("TLAG", 0.0) if d.cmt == "depot" else 0.0
        for t0 in d.times_d() + lag:
            dur = d.duration_d
            frac = np.clip((res.times_d - t0) / dur, 0, 1) if dur > 0 else (res.times_d >= t0).astype(float)
            given += d.amount * per[d.unit] * frac * (f if d.cmt == "depot" else 1.0)
    assert rel_err(body + eliminated, given, floor=1e-3) < 1e-8


@pytest.mark.parametrize("name", ALL_MODELS)
def test_states_stay_non_negative(name):
    model, pop, reg = synthetic(name)
    res = ms.simulate(model, reg.replace("x 3", "x 6").replace("x 5", "x 10"), pop, output="2 h", until="60 days",
                      record_states=True)
    states = res.values[:, :, [res.columns.index(f"state_{s}") for s in model.states]]
    assert np.all(states >= -1e-12)


@pytest.mark.parametrize("other", [pytest.param(TIGHT_SCIPY, id="scipy"),
                                   pytest.param(TIGHT_JAX, id="jax", marks=NEEDS_JAX)])
@pytest.mark.parametrize("name", ALL_MODELS)
def test_backends_agree(name, other):
    """The SciPy (LSODA) and JAX backends at tight tolerance agree with the compiled one to 1e-6
    relative on every output and state (values below 1e-6 of the column's peak, e.g. washed-out
    concentrations of 1e-25 mg/L that LSODA resolves only to its atol, are compared against that floor)."""
    model, pop, reg = synthetic(name)
    a = ms.simulate(model, reg, pop, output="3 h", until="42 days", backend=TIGHT_COMPILED, record_states=True)
    b = ms.simulate(model, reg, pop, output="3 h", until="42 days", backend=other, record_states=True)
    for col in a.columns:
        ref = b.column(col)
        assert rel_err(a.column(col), ref, floor=1e-6 * np.abs(ref).max()) < 1e-6, col
