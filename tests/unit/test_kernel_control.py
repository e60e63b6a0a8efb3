"""The step-size factor (``_step_factor``) and its power of the error (``_err_pow``), held to
0.9 exp(-0.1 log(err)).

The factor 0.9 err^(-1/10) (err: the mean square of the scaled error estimate) sets the next step's
length. The kernel works it out from the bits of err: the exponent's tenths from a table, the
mantissa's power from a polynomial. The step sizes it gives may differ from the library's in the
sixth digit; the steps' own error control is unchanged.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import pytest

from mschemo.backends import _kernel as K


@nb.njit(cache=False)
def _both(x):
    """_err_pow and _step_factor at each of ``x``."""
    powers = np.empty(x.size)
    factors = np.empty(x.size)
    for i in range(x.size):
        powers[i] = K._err_pow(x[i])
        factors[i] = K._step_factor(x[i])
    return powers, factors


def _powers(x):
    return _both(x)[0]


def _factors(x):
    return _both(x)[1]


def test_within_1p5e_6_of_exp_log_over_the_normal_floats():
    rng = np.random.default_rng(20261207)
    x = np.concatenate([10.0 ** rng.uniform(-307, 308, 500_000),
                        rng.uniform(0.5, 2.0, 100_000),            # near err = 1, where steps are accepted
                        [1.0, 2.0, 0.5, 4.0, 1024.0, np.nextafter(1.0, 0.0), np.nextafter(2.0, 0.0), 1e-10, 1e7,
                         np.finfo(float).tiny, np.finfo(float).max]])
    rel = np.abs(_powers(x) / np.exp(-0.1 * np.log(x)) - 1.0)
    assert rel.max() < 1.5e-6, x[np.argmax(rel)]


@pytest.mark.parametrize("e", range(-40, 41))
def test_each_power_of_two_and_its_tenths(e):
    """Every remainder of the exponent by 10, for negative exponents too (floor division)."""
    x = np.array([2.0 ** e, 1.5 * 2.0 ** e, np.nextafter(2.0 ** (e + 1), 0.0)])
    rel = np.abs(_powers(x) / (x ** -0.1) - 1.0)
    assert rel.max() < 1.5e-6


def test_decreasing_across_a_binade():
    """Monotone where steps are decided: a larger error never gives a longer next step."""
    x = np.linspace(0.25, 4.0, 200_001)
    y = _powers(x)
    assert np.all(np.diff(y) <= 0.0)


def test_subnormal_errors_give_a_large_finite_factor():
    """err below the normal range (an almost exact step): finite and large, so the caller's cap of 10 holds."""
    y = _powers(np.array([5e-324, 1e-310]))
    assert np.all(np.isfinite(y)) and np.all(y > 1e30)
    assert math.isfinite(float(_powers(np.array([np.finfo(float).max]))[0]))


def test_step_factor_is_0_9_err_to_the_minus_tenth_within_its_bounds():
    """0.9 err^(-1/10) between 0.2 and 10; 10 for an error of exactly 0 (Hairer, Norsett & Wanner II.4)."""
    x = np.concatenate([10.0 ** np.linspace(-12.0, 8.0, 20_001), [0.0, 5e-324]])
    got = _factors(x)
    want = np.clip(0.9 * x[:-2] ** -0.1, 0.2, 10.0)
    np.testing.assert_allclose(got[:-2], want, rtol=1.5e-6)
    assert got[-2] == 10.0 and got[-1] == 10.0
    assert got.min() == 0.2 and got.max() == 10.0
