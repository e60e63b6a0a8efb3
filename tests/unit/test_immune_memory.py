"""The immune memory compartment (mschemo.disease.immune) against its closed forms.

dM/dt = k (1 - M) - s q(t) M with M(0) = 1, q the drug's lymphocyte kill rate (KILL x C, so that its
integral is the cumulative exposure KILL x AUC): for a constant q the solution is
M(t) = a + (1 - a) exp(-(k + s q) t), a = k / (k + s q); without drug M recovers as
1 - (1 - M0) exp(-k t). The step uses the exposure gained over each interval, so for a constant kill
rate it is exact (to rounding), whatever the grid.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from mschemo.disease.immune import ImmuneModel, ImmuneRecord, immune_grid, memory_state
from mschemo.disease.relapses import RelapseModel, cohort_activity
from mschemo.errors import PopulationError

MODEL = ImmuneModel(sensitivity=0.8, recovery=math.log(2.0) / 500.0, exponent=1.0)


def test_constant_kill_rate_matches_the_closed_form_on_any_grid():
    q = np.array([[0.01], [0.05], [0.0]])           # kill exposure gained per day
    for step in (1.0, 7.0, 91.3125):
        t = np.arange(0.0, 731.0, step)
        m = memory_state(t, q * t[None, :], MODEL)
        a = MODEL.recovery + MODEL.sensitivity * q
        steady = MODEL.recovery / a
        np.testing.assert_allclose(m, steady + (1.0 - steady) * np.exp(-a * t[None, :]), rtol=1e-12)


def test_no_drug_keeps_the_compartment_at_baseline_and_recovery_is_exponential():
    t = immune_grid(1000.0)
    np.testing.assert_array_equal(memory_state(t, np.zeros((2, t.size)), MODEL), 1.0)
    rec = ImmuneRecord(t, np.full((2, t.size), 0.3)).extended(3000.0, MODEL)
    tail = rec.times_d > 1000.0
    expected = 1.0 - 0.7 * np.exp(-MODEL.recovery * (rec.times_d[tail] - 1000.0))
    np.testing.assert_allclose(rec.memory[:, tail], np.broadcast_to(expected, (2, expected.size)), rtol=1e-12)


def test_a_short_exposure_depletes_by_its_total_and_the_compartment_stays_in_0_1():
    """A course of a few days: M falls by exp(-s x exposure) when reconstitution is negligible."""
    t = np.arange(0.0, 31.0)                                                              # a daily grid
    exposure = np.clip((t - 10.0) / 3.0, 0.0, 1.0)[None, :] * np.array([[1.0], [2.5]])    # days 10-13
    slow = MODEL.with_values(recovery=math.log(2.0) / 1e9)
    m = memory_state(t, exposure, slow)
    np.testing.assert_allclose(m[:, 14], np.exp(-slow.sensitivity * np.array([1.0, 2.5])), rtol=1e-6)
    weekly = memory_state(t[::7], exposure[:, ::7], slow)                                 # the same on the immune grid
    np.testing.assert_allclose(weekly[:, 3], m[:, 21], rtol=1e-6)
    rng = np.random.default_rng(3)
    noisy = np.cumsum(rng.uniform(0, 0.2, (50, t.size)), axis=1)
    m = memory_state(t, noisy, MODEL)
    assert np.all(m <= 1.0) and np.all(m > 0.0)


def _cohort(**cols) -> ms.Population:
    n = len(next(iter(cols.values())))
    df = pd.DataFrame({"id": np.arange(1, n + 1), "sex": "F", "ms_duration_y": 5.0, **cols})
    return ms.Population(df)


def test_history_regresses_to_the_mean_and_direct_rates_and_eras_apply():
    """The frailty's posterior given N relapses over T years: mean (1/k + N) / (1/k + A mu T), so more
    prior relapses mean a higher rate, but less than proportionally (regression to the mean)."""
    rm = RelapseModel.load()
    dur = np.full(4, 5.0 * 365.25)
    base, shape, scale = cohort_activity(_cohort(prior_relapses=[0.0, 1.0, 3.0, 0.0], prior_years=[1.0, 1.0, 1.0, 0.0]),
                                         rm, dur)
    mean = base * shape * scale
    assert mean[0] < mean[1] < mean[2]
    assert mean[2] / mean[1] < 3.0                                   # not proportional to the count
    # a window of 0 years carries no information: the prior frailty, at the unselected rate
    assert shape[3] == pytest.approx(1.0 / rm.frailty_k) and scale[3] == pytest.approx(rm.frailty_k)
    assert base[3] == pytest.approx(rm.base_rate(np.array(["F"]), dur[:1], rm.arr_unselected)[0])
    plain, shape0, _ = cohort_activity(_cohort(sex=["F"]), rm, dur[:1])      # no history: ARR_REF
    assert plain[0] == pytest.approx(rm.base_rate(np.array(["F"]), dur[:1])[0]) and shape0[0] == pytest.approx(1 / rm.frailty_k)
    b_direct, _, _ = cohort_activity(_cohort(untreated_arr=[0.33, 1.2]), rm, dur[:2])
    np.testing.assert_allclose(b_direct / rm.base_rate(np.array(["F", "F"]), dur[:2]), np.array([0.33, 1.2]) / 365.25 / rm.arr_ref)
    b_era, _, _ = cohort_activity(_cohort(year=[2002.0, 2012.0]), rm, dur[:2])
    assert b_era[1] / b_era[0] == pytest.approx((1 - 0.062) ** 10, rel=1e-3)       # Nicholas 2011: -6.2 %/yr


@pytest.mark.parametrize("cols, word", [({"prior_relapses": [1.0]}, "prior_years"),
                                        ({"untreated_arr": [-1.0]}, "untreated_arr"),
                                        ({"year": ["soon"]}, "year"),
                                        ({"prior_relapses": [2.0], "prior_years": [0.0]}, "prior_years")])
def test_bad_activity_columns_are_one_sentence(cols, word):
    with pytest.raises(PopulationError) as e:
        cohort_activity(_cohort(**cols), RelapseModel.load(), np.full(1, 1826.0))
    assert word in str(e.value) and str(e.value).count("; ") == 1 and "\n" not in str(e.value)
