"""Linear PK against an independent truth: the matrix exponential (scipy.linalg.expm).

For dA/dt = K A + R the exact solution is A(t) = expm(K t) A0 (bolus) and, for a constant input,
the top block of expm([[K, R], [0, 0]] t) applied to [A0; 1]. Steady state is checked against the
same expm solution after many repeated doses. Both backends are checked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import expm

import mschemo as ms
from mschemo.models import LinearPK, chain

BACKENDS = [ms.backends.Compiled(), ms.backends.Scipy(rtol=1e-11, atol=1e-14)]
PARAMS = {"CL": 30.0, "V1": 12.0, "Q2": 50.0, "V2": 80.0, "Q3": 8.0, "V3": 300.0, "KA": 9.0, "F": 0.6, "TLAG": 0.1}


def _setup(ncmt: int, absorption: str):
    pk = LinearPK(ncmt, absorption)
    model = chain(pk)
    pop = ms.Population(pd.DataFrame({"id": [1]} | {k: [v] for k, v in PARAMS.items() if k in model.parameters}))
    return pk, model, pop, pk.matrix(PARAMS)


def _propagate(K, a0, t, rate=None):
    m = K.shape[0]
    if rate is None:
        return expm(K * t) @ a0
    aug = np.zeros((m + 1, m + 1))
    aug[:m, :m] = K
    aug[:m, m] = rate
    return (expm(aug * t) @ np.concatenate([a0, [1.0]]))[:m]


def _check(res, pk, expected, times):
    got = res.column("conc_mg_per_L")[0]
    want = np.array([expected(t)[pk.central_index] for t in times]) / PARAMS["V1"]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12 * want.max())


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("ncmt", [1, 2, 3])
def test_iv_bolus(ncmt, backend):
    pk, model, pop, K = _setup(ncmt, "iv")
    times = np.linspace(0, 3, 61)
    res = ms.simulate(model, "100 mg", pop, output=times, backend=backend)
    a0 = np.zeros(K.shape[0])
    a0[pk.central_index] = 100.0
    _check(res, pk, lambda t: _propagate(K, a0, t), times)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("ncmt", [1, 2, 3])
def test_iv_infusion(ncmt, backend):
    pk, model, pop, K = _setup(ncmt, "iv")
    times = np.linspace(0, 2, 97)
    dur = 0.25
    res = ms.simulate(model, "100 mg over 6 h", pop, output=times, backend=backend)
    rate = np.zeros(K.shape[0])
    rate[pk.central_index] = 100.0 / dur

    def exact(t):
        a = _propagate(K, np.zeros_like(rate), min(t, dur), rate)
        return _propagate(K, a, t - dur) if t > dur else a

    _check(res, pk, exact, times)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("ncmt", [1, 2, 3])
def test_oral_with_lag_and_bioavailability(ncmt, backend):
    pk, model, pop, K = _setup(ncmt, "first-order")
    times = np.linspace(0, 2, 81)
    res = ms.simulate(model, "50 mg orally every 12 h x 3", pop, output=times, backend=backend)

    def exact(t):
        a = np.zeros(K.shape[0])
        for td in (0.0, 0.5, 1.0):
            t_in = td + PARAMS["TLAG"]
            if t >= t_in:
                a0 = np.zeros(K.shape[0])
                a0[0] = 50.0 * PARAMS["F"]
                a += _propagate(K, a0, t - t_in)
        return a

    _check(res, pk, exact, times)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("kind", ["bolus", "infusion"])
def test_steady_state_equals_many_repeated_doses(kind, backend):
    """SS=1 dose records against enough earlier doses (expm superposition) that the slowest mode
    has decayed by exp(-40): the repeated-dose cycle has converged to machine precision."""
    pk, model, pop, K = _setup(3, "iv")
    ii, dur, amt = 1.0, (0.3 if kind == "infusion" else 0.0), 100.0
    dose = ms.Dose(time_d=0.0, amount=amt, duration_d=dur, ii_d=ii, addl=1, ss=1)
    times = np.linspace(0, 2, 49)
    res = ms.simulate(model, ms.Regimen((dose,)), pop, output=times, backend=backend)
    rate = np.zeros(K.shape[0])
    rate[pk.central_index] = amt / dur if dur else 0.0

    def single(tau):  # response to one dose given tau days ago
        if tau < 0:
            return np.zeros(K.shape[0])
        if dur == 0:
            a0 = np.zeros(K.shape[0])
            a0[pk.central_index] = amt
            return _propagate(K, a0, tau)
        a = _propagate(K, np.zeros(K.shape[0]), min(tau, dur), rate)
        return _propagate(K, a, tau - dur) if tau > dur else a

    n_past = int(np.ceil(40.0 / np.min(np.abs(np.linalg.eigvals(K))) / ii))
    past = expm(K * ii)
    cycle = single(ii)                       # one dose, one interval later; sum the older ones by powers

    def exact(t):
        older = np.zeros(K.shape[0])
        a = cycle.copy()
        for _ in range(n_past):            # doses at -1, -2, ... contribute expm(K*ii)^k @ single(ii)
            older += a
            a = past @ a
        return _propagate(K, older, t) + single(t) + single(t - ii)

    _check(res, pk, exact, times)
