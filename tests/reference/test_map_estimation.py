"""A patient's parameters from sparse counts: MAP against an independent optimiser and the full
posterior, parameter recovery and the coverage of 90 % credible intervals in simulated patients.

Virtual patients are drawn from the cyclophosphamide population model (its IIV is the prior), get
800 mg/m2 over 1 h, and have WBC and ANC measured at baseline, day 10 and day 27 (the neurologist's
story in USERS.md) with the proportional residual error of params/residual_error.toml (Friberg 2002).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

import mschemo as ms
from estimation_tools import virtual_patients
from mschemo.estimation.map import _observations, estimate_map, log_posterior, residual_sigmas, sample_posterior

DAYS = (0.0, 10.0, 27.0)
REGIMEN = "800 mg/m2 over 1 h"


@pytest.fixture(scope="module")
def cohort():
    return virtual_patients("cyclophosphamide", 60, 11, REGIMEN, DAYS)


def test_map_matches_a_general_purpose_optimiser(cohort):
    """The same log posterior minimised by SciPy's Nelder-Mead from the prior mean reaches the same
    mode (within 0.02 in eta, a tenth of the smallest posterior SD) and the same objective."""
    rec, _ = cohort[0]
    post = estimate_map("cyclophosphamide", rec)
    res = minimize(lambda e: -float(log_posterior(post, e)[0]), np.zeros(post.mode.size), method="Nelder-Mead",
                   options={"xatol": 1e-5, "fatol": 1e-8, "maxiter": 20000, "maxfev": 20000})
    assert res.fun == pytest.approx(post.objective, abs=1e-3)
    np.testing.assert_allclose(res.x, post.mode, atol=0.02)


def test_objective_at_the_mode_agrees_with_the_scipy_backend(cohort):
    """The objective's predictions come from the compiled backend; the SciPy reference backend
    (LSODA) gives the same J at the mode to 1e-4."""
    rec, _ = cohort[1]
    post = estimate_map("cyclophosphamide", rec)
    drug = ms.load_drug("cyclophosphamide")
    table = rec.population().table.copy()
    for j, name in enumerate(post.eta_names):
        table[f"ETA_{name}"] = post.mode[j]
    kinds, days, logy, sigma = _observations(rec, residual_sigmas())
    res = ms.simulate(drug.model, rec.regimen(), ms.Population(table), output=np.unique(days), backend="scipy")
    f = np.array([res.column(k)[0, np.searchsorted(res.times_d, d)] for k, d in zip(kinds, days)])
    j_scipy = 0.5 * (np.sum(((logy - np.log(f)) / sigma) ** 2) + post.mode @ post.patient.omega_inv @ post.mode)
    assert j_scipy == pytest.approx(post.objective, abs=1e-4)


def test_map_is_the_mode_of_the_full_posterior(cohort):
    """No posterior draw of a large sampling-importance-resampling run beats the MAP's log
    posterior, and along every eta axis the profile through the MAP peaks at it (grid step 0.01)."""
    rec, _ = cohort[2]
    post = estimate_map("cyclophosphamide", rec)
    full = sample_posterior(post, 2000, proposals=8000, seed=3)
    assert full.ess > 1000
    lp_map = float(log_posterior(post, post.mode)[0])
    assert np.max(log_posterior(post, full.samples)) <= lp_map + 1e-6
    grid = np.linspace(-0.05, 0.05, 11)
    for j in range(post.mode.size):
        etas = np.tile(post.mode, (grid.size, 1))
        etas[:, j] += grid
        assert int(np.argmax(log_posterior(post, etas))) == 5


def test_parameters_are_recovered_and_90_percent_intervals_cover_the_truth(cohort):
    """60 patients x 6 etas: the mean error of the MAP is within 3 standard errors of 0 for every
    eta (shrinkage pulls each estimate towards the prior mean, but averaged over patients drawn
    from the prior the error has mean 0), and the SIR 90 % intervals hold the true value in 85-95 %
    of the 360 cases (the binomial SE of a 90 % share is 1.6 points)."""
    errors, inside = [], []
    for rec, truth in cohort:
        post = sample_posterior(estimate_map("cyclophosphamide", rec), 1000, proposals=3000, seed=1)
        lo, hi = np.quantile(post.samples, [0.05, 0.95], axis=0)
        errors.append(post.mode - truth)
        inside.append((truth >= lo) & (truth <= hi))
    errors, inside = np.array(errors), np.array(inside)
    se = errors.std(axis=0, ddof=1) / np.sqrt(len(errors))
    assert np.all(np.abs(errors.mean(axis=0)) <= 3 * se), (errors.mean(axis=0), se)
    assert 0.85 <= inside.mean() <= 0.95, inside.mean(axis=0)
    # the counts inform the neutrophil baseline most: its error is well below the prior SD
    prior_sd = np.sqrt(np.diag(post.patient.omega))
    k = post.eta_names.index("ANC_CIRC0")
    assert np.sqrt(np.mean(errors[:, k] ** 2)) < 0.6 * prior_sd[k]


def test_a_typical_fit_is_fast_and_converged(cohort):
    rec, _ = cohort[3]
    post = estimate_map("cyclophosphamide", rec)
    assert post.iterations < 40 and post.info["gradient_norm"] < 0.05
    assert np.all(np.linalg.eigvalsh(post.cov) > 0)
