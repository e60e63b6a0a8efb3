"""The compiled backend (default tolerances) against SciPy LSODA at rtol 1e-10 on mitox-2y.

Reference: mschemo's SciPy backend, scipy.integrate.solve_ivp(method="LSODA", rtol=1e-10,
atol=1e-12), every state as an ODE, restarted at each infusion start/stop and cap crossing — the
same numerics as ../shared/bench/peer_scipy.py at tight tolerance (good to ~1e-9, bench README).
Criterion of the issue: every nadir within 1e-5 relative, first-nadir days equal.
"""

from __future__ import annotations

import numpy as np

import mschemo as ms

N = 6


def test_default_compiled_backend_matches_tight_lsoda():
    ex = ms.load_example("mitox-2y", n=N)
    fast = ms.simulate(ex.model, ex.regimen, ex.population, output=ex.output)
    ref = ms.simulate(ex.model, ex.regimen, ex.population, output=ex.output,
                      backend=ms.backends.Scipy(method="LSODA", rtol=1e-10, atol=1e-12))
    a, b = ex.peer_table(fast), ex.peer_table(ref)
    nadirs = [f"nadir_{k}" for k in range(1, 9)]
    rel = np.abs(a[nadirs].to_numpy() / b[nadirs].to_numpy() - 1.0)
    assert rel.max() < 1e-5, f"largest nadir difference {rel.max():.2e}"
    assert (a["first_nadir_day"] == b["first_nadir_day"]).all()
    # and the tight compiled solve is an order of magnitude closer still
    tight = ms.simulate(ex.model, ex.regimen, ex.population, output=ex.output,
                        backend=ms.backends.Compiled(rtol=1e-10, atol=1e-12))
    rel_tight = np.abs(ex.peer_table(tight)[nadirs].to_numpy() / b[nadirs].to_numpy() - 1.0)
    assert rel_tight.max() < 1e-8
