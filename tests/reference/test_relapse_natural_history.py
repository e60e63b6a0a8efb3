"""Untreated relapses: rates, overdispersion, decline and sex ratio against the published facts.

Parameters (src/mschemo/params/ms_relapses.toml) come from AFFIRM's placebo arm (rate 0.70 a year,
negative-binomial k 0.71 from its count table), Tremlett 2008 (-17 % per 5 years of disease
duration) and Kalincik 2013 (+17.7 % in women). The CLARITY placebo count distribution, not used to
set any parameter, checks the dispersion. Tolerances are sampling errors of the simulated cohorts
(20,000 patients) or, against a published table, twice the sampling error of the trial's shares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from mschemo.disease import RelapseModel, simulate_relapses

N = 20_000
YEAR = 365.25


def _cohort(n: int = N, female_share: float = 0.7, duration_y: float = 5.0) -> ms.Population:
    n_f = int(round(female_share * n))
    return ms.Population(pd.DataFrame({"id": np.arange(1, n + 1), "height_cm": 170.0, "weight_kg": 70.0,
                                       "sex": ["F"] * n_f + ["M"] * (n - n_f), "ms_duration_y": duration_y}))


def _counts(pop: ms.Population, until_d: float, seed: int = 1, model: RelapseModel | None = None) -> np.ndarray:
    ev = simulate_relapses(pop, until_d, seed, model=model)
    return ev.groupby("id").size().reindex(pop.ids, fill_value=0).to_numpy()


@pytest.fixture(scope="module")
def one_year() -> np.ndarray:
    return _counts(_cohort(), YEAR)


def test_reference_cohort_rate_is_the_affirm_placebo_rate(one_year):
    """AFFIRM placebo, year 1: 224 relapses in 320.1 patient-years = 0.70 a year. Tolerance: 4
    standard errors of the simulated mean (sd sqrt(mu + k mu^2) / sqrt(20000) = 0.0075)."""
    assert one_year.mean() == pytest.approx(0.70, abs=0.03)


def test_counts_are_negative_binomial_with_the_affirm_dispersion(one_year):
    """Method-of-moments k = (var - mean) / mean^2 recovers FRAILTY_K = 0.71 (AFFIRM placebo table).
    Tolerance 0.1: the sampling error of a moment estimate of k with 20,000 patients is about 0.03."""
    m, v = one_year.mean(), one_year.var()
    assert (v - m) / m**2 == pytest.approx(0.71, abs=0.1)


def test_count_distribution_matches_affirm_placebo(one_year):
    """AFFIRM placebo year 1 (n = 315): 0 relapses 57.1 %, 1: 24.1 %, 2: 13.3 %, >= 3: 5.4 %.
    Tolerance: twice the trial's own sampling error of each share (sqrt(p(1-p)/315))."""
    published = {0: 180 / 315, 1: 76 / 315, 2: 42 / 315, 3: 17 / 315}
    for k, p in published.items():
        sim = np.mean(one_year >= 3) if k == 3 else np.mean(one_year == k)
        assert sim == pytest.approx(p, abs=2 * np.sqrt(p * (1 - p) / 315)), (k, sim, p)


def test_dispersion_checked_on_clarity_placebo():
    """CLARITY placebo over 96 weeks (n = 437): 266/109/44/15/3 patients with 0/1/2/3/>=4 relapses
    (mean 0.58). With the rate set to CLARITY's and the AFFIRM dispersion, the share without any
    relapse is 60.9 % published; tolerance twice its sampling error (2.3 points each)."""
    base = RelapseModel.load()
    weeks96 = 96 * 7.0
    model = RelapseModel(0.581 / weeks96, base.frailty_k, base.duration_slope, base.ref_duration, base.female_rr,
                         base.female_share_ref)
    counts = _counts(_cohort(duration_y=5.0), weeks96, seed=3, model=model)
    p0 = 266 / 437
    assert np.mean(counts == 0) == pytest.approx(p0, abs=2 * np.sqrt(p0 * (1 - p0) / 437))
    p1 = 109 / 437
    assert np.mean(counts == 1) == pytest.approx(p1, abs=2 * np.sqrt(p1 * (1 - p1) / 437))


def test_rate_falls_17_percent_per_5_years_of_disease_duration():
    """Tremlett 2008: -17 % per 5 years (years 5-30). Two cohorts 5 years apart; tolerance 4 points
    (the ratio of two simulated means of 20,000 patients has a standard error of about 1.5 points)."""
    early = _counts(_cohort(duration_y=5.0), YEAR, seed=5).mean()
    late = _counts(_cohort(duration_y=10.0), YEAR, seed=6).mean()
    assert late / early == pytest.approx(0.83, abs=0.04)


def test_women_relapse_17_7_percent_more_than_men():
    """Kalincik 2013 (MSBase): +17.7 %. Tolerance 5 points (standard error about 2 points)."""
    women = _counts(_cohort(female_share=1.0), YEAR, seed=7).mean()
    men = _counts(_cohort(female_share=0.0), YEAR, seed=8).mean()
    assert women / men == pytest.approx(1.177, abs=0.05)


def test_a_rate_multiplier_scales_the_rate_and_none_leaves_it():
    pop = _cohort(4000)
    grid = np.append(np.arange(0.0, 366.0), YEAR)   # daily grid: the days then agree to ~1e-5 of a day
    half = simulate_relapses(pop, YEAR, 9, multiplier={"times_d": grid, "values": np.full((4000, grid.size), 0.5)})
    full = simulate_relapses(pop, YEAR, 9, multiplier={"times_d": grid, "values": np.ones((4000, grid.size))})
    plain = simulate_relapses(pop, YEAR, 9)
    # the same frailties and exponential gaps: with m = 1 the days agree with the closed form
    np.testing.assert_allclose(full["day"], plain["day"], rtol=0, atol=1e-4)
    assert len(half) / len(plain) == pytest.approx(0.5, abs=0.05)


def test_relapses_do_not_depend_on_chunking():
    """Patient i draws from child i of the run's seed: chunks (with their start index) add up to the
    whole run, bit for bit."""
    pop = _cohort(50)
    whole = simulate_relapses(pop, 2 * YEAR, 11)
    parts = [simulate_relapses(pop.subset(a, b), 2 * YEAR, 11, start=a) for a, b in ((0, 7), (7, 30), (30, 50))]
    assert len(whole) > 0
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)


def test_disease_modifying_therapy_scales_the_rate_and_fits_the_affirm_natalizumab_arm():
    """AFFIRM natalizumab arm, year 1 (n = 627): 495/111/17/4/0 patients with 0/1/2/3/>=4 relapses.
    The rate ratio 0.325 comes from the same trial's rates; the count shares, not used to set any
    parameter, check the frailty under treatment: tolerance twice the trial's sampling error."""
    pop = _cohort()
    pop.table["dmt"] = "natalizumab"
    counts = _counts(pop, YEAR, seed=12)
    for k, n_k in ((0, 495), (1, 111)):
        p = n_k / 627
        assert np.mean(counts == k) == pytest.approx(p, abs=2 * np.sqrt(p * (1 - p) / 627)), k
    assert counts.mean() == pytest.approx(0.70 * 0.325, abs=0.02)


def test_an_unknown_therapy_is_one_sentence():
    from helpers import assert_one_sentence

    pop = _cohort(3)
    pop.table["dmt"] = ["none", "interferon beta", "aspirin"]
    with pytest.raises(ms.PopulationError) as err:
        simulate_relapses(pop, YEAR, 1)
    assert_one_sentence(err.value, "'aspirin'")
