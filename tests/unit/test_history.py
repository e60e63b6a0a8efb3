"""Relapses before entry (disease.history): drawn from the patient's own streams, carried into the
EDSS after entry while they recover, never counted as on-study relapses, and the same at screening
(entry criteria on EDSS worsening) as in the disease model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from mschemo.disease import simulate_disease
from mschemo.disease.disability import DisabilityModel
from mschemo.disease.history import prior_relapse_table, transient_at, worsening_over


def _cohort(n: int, prior: int, years: float = 1.0) -> ms.Population:
    return ms.Population(pd.DataFrame({"id": np.arange(1, n + 1), "height_cm": 170.0, "weight_kg": 70.0, "sex": "F",
                                       "age_y": 35.0, "edss": 3.0, "ms_duration_y": 5.0,
                                       "prior_relapses": float(prior), "prior_years": years}))


def test_prior_relapses_lie_in_the_window_and_are_reproducible():
    pop = _cohort(50, 3, 2.0)
    a = prior_relapse_table(pop, 4)
    b = prior_relapse_table(pop, 4)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 150 and (a["day"] < 0).all() and (a["day"] >= -2 * 365.25).all()
    assert {"edss_rise", "recovery_d", "edss_residual", "site", "symptoms"} <= set(a.columns)
    # patient k draws the same history alone as in the cohort (its own stream, keyed by its index)
    alone = prior_relapse_table(ms.Population(pop.table.iloc[[7]].reset_index(drop=True)), 4, start=np.array([7]))
    pd.testing.assert_frame_equal(alone.reset_index(drop=True), a[a["id"] == 8].reset_index(drop=True))


def test_transient_and_worsening_by_hand():
    rel = pd.DataFrame({"id": [1, 1, 2], "day": [-100.0, -400.0, -30.0], "recovery_d": [200.0, 100.0, 20.0],
                        "edss_rise": [2.0, 1.0, 1.0], "edss_residual": [0.5, 0.5, 0.0]})
    ids = np.array([1, 2])
    # patient 1: the first relapse is half-way through recovery at day 0 (linear: 0.5 + 1.5 x 0.5)
    np.testing.assert_allclose(transient_at(rel, ids, 0.0, 1.0), [1.25, 0.0])
    # over a year: + transient now (1.25), - transient a year ago (the relapse of day -400, 34.75 days into
    # its 100-day recovery: 0.5 + 0.5 x 0.6525), + the residual it left when it ended on day -300 (0.5)
    np.testing.assert_allclose(worsening_over(rel, ids, 365.25, 1.0), [1.25 - (0.5 + 0.5 * 0.6525) + 0.5, 0.0])


def test_a_cohort_entered_during_recovery_improves_after_entry_and_counts_only_new_relapses():
    recent = _cohort(1000, 2, 0.25)          # two relapses in the 3 months before entry
    none = _cohort(1000, 0, 0.25)
    a, b = simulate_disease(recent, "1 year", 3), simulate_disease(none, "1 year", 3)
    assert a.prior_relapses is not None and len(a.prior_relapses) == 2000 and b.prior_relapses is None
    assert (a.relapses["day"] >= 0).all()
    change_a = (a.edss_at(np.array([365.0])) - a.edss_at(np.zeros(1)))[:, 0].mean()
    change_b = (b.edss_at(np.array([365.0])) - b.edss_at(np.zeros(1)))[:, 0].mean()
    assert change_a < change_b - 0.2           # recovering relapses at entry: the EDSS falls after it
    # the score at entry stays the patient's entry EDSS (give or take the visit offset)
    assert np.abs(a.edss_at(np.zeros(1))[:, 0] - 3.0).mean() < 0.2


def test_screening_reads_the_worsening_the_disease_model_gives():
    spec = ms.TrialSpec.from_dict({"duration": "6 months", "seed": 5, "arms": [{"name": "p"}],
                                   "eligibility": [{"field": "edss_worsening_1y", "min": 0.5},
                                                   {"field": "prior_relapses_1y", "min": 1}]})
    from mschemo.trials.run import _context
    from mschemo.trials.screening import screen

    ctx = _context(spec)
    row = screen(ctx, 5, 0, 0)
    assert row["edss_worsening_1y"] >= 0.5
    pop = ms.Population(pd.DataFrame([row]))
    prior = prior_relapse_table(pop, 5, start=np.array([0]))
    shape = DisabilityModel.load().recovery_shape
    assert worsening_over(prior, pop.ids, 365.25, shape)[0] == pytest.approx(row["edss_worsening_1y"])
